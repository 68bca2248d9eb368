import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { CONTAINER_KEYS } from "../generator/container-keys.js";
import { translateDefinition } from "../generator/file-types.js";
import { definitionDigest } from "../generator/generated-unit.js";
import { loadSet } from "../generator/load-set.js";
import { parseDefinitionName } from "../generator/names.js";
import { translateContainer as translate } from "../generator/container-unit.js";
import { parseUnitFile } from "../generator/unit-file.js";
import { createArgv, execArgv, testContext, translateText, unitValues } from "./support/translate-helpers.js";
import { image, tree } from "./support/tree.js";

const base = "[Container]\nImage=registry.example/kolla/keystone:2025.1\n";
const argvOf = (lines: string) => createArgv(translateText(base + lines));
const errorsOf = (lines: string, fileName?: string) =>
  translateText(base + lines, fileName).diagnostics.filter((d) => d.severity === "error").map((d) => d.message);
const warningsOf = (lines: string) =>
  translateText(base + lines).diagnostics.filter((d) => d.severity === "warning").map((d) => d.message);

/** Asserts `needle` appears in `argv` as a contiguous run. */
function expectRun(argv: string[], needle: string[]): void {
  const at = argv.findIndex((_, i) => needle.every((n, j) => argv[i + j] === n));
  expect(at, `${JSON.stringify(needle)} in ${JSON.stringify(argv)}`).toBeGreaterThanOrEqual(0);
}

describe("translate: [Container] keys become docker create options", () => {
  const cases: Array<[string, string, string[]]> = [
    ["ContainerName", "ContainerName=ks", ["--name", "ks"]],
    ["Environment", 'Environment=A=1 "B=two words"\nEnvironment=C=3', ["--env", "A=1", "--env", "B=two words", "--env", "C=3"]],
    ["EnvironmentFile", "EnvironmentFile=/etc/kolla/env", ["--env-file", "/etc/kolla/env"]],
    ["Volume", "Volume=/etc/kolla/keystone:/var/lib/kolla/config_files:ro", ["--volume", "/etc/kolla/keystone:/var/lib/kolla/config_files:ro"]],
    ["Mount", "Mount=type=bind,src=/a,dst=/b", ["--mount", "type=bind,src=/a,dst=/b"]],
    ["Tmpfs", "Tmpfs=/run:size=64m", ["--tmpfs", "/run:size=64m"]],
    ["PublishPort", "PublishPort=127.0.0.1:5000:5000/tcp", ["--publish", "127.0.0.1:5000:5000/tcp"]],
    ["ExposeHostPort", "ExposeHostPort=5000 35357", ["--expose", "5000", "--expose", "35357"]],
    ["Network", "Network=host", ["--network", "host"]],
    ["HostName", "HostName=ctl1", ["--hostname", "ctl1"]],
    ["IP", "IP=10.0.0.5", ["--ip", "10.0.0.5"]],
    ["IP6", "IP6=fd00::5", ["--ip6", "fd00::5"]],
    ["DNS", "DNS=10.0.0.1", ["--dns", "10.0.0.1"]],
    ["DNSSearch", "DNSSearch=example.org", ["--dns-search", "example.org"]],
    ["DNSOption", "DNSOption=ndots:2", ["--dns-option", "ndots:2"]],
    ["AddHost", "AddHost=db:10.0.0.2", ["--add-host", "db:10.0.0.2"]],
    ["User", "User=42425", ["--user", "42425"]],
    ["User+Group", "User=keystone\nGroup=kolla", ["--user", "keystone:kolla"]],
    ["GroupAdd", "GroupAdd=kolla", ["--group-add", "kolla"]],
    ["UserNS", "UserNS=host", ["--userns", "host"]],
    ["WorkingDir", "WorkingDir=/var/lib/keystone", ["--workdir", "/var/lib/keystone"]],
    ["Label", 'Label=tier=control "owner=cloud ops"', ["--label", "tier=control", "--label", "owner=cloud ops"]],
    ["AddCapability", "AddCapability=NET_ADMIN SYS_ADMIN", ["--cap-add", "NET_ADMIN", "--cap-add", "SYS_ADMIN"]],
    ["DropCapability", "DropCapability=ALL", ["--cap-drop", "ALL"]],
    ["NoNewPrivileges", "NoNewPrivileges=true", ["--security-opt", "no-new-privileges"]],
    ["ReadOnly", "ReadOnly=yes", ["--read-only"]],
    ["AddDevice", "AddDevice=/dev/kvm", ["--device", "/dev/kvm"]],
    ["AddDevice optional, present", "AddDevice=-/dev/kvm:/dev/kvm", ["--device", "/dev/kvm:/dev/kvm"]],
    ["Sysctl", "Sysctl=net.ipv4.ip_forward=1", ["--sysctl", "net.ipv4.ip_forward=1"]],
    ["Ulimit", "Ulimit=nofile=65536:65536", ["--ulimit", "nofile=65536:65536"]],
    ["ShmSize", "ShmSize=256m", ["--shm-size", "256m"]],
    ["Memory", "Memory=2g", ["--memory", "2g"]],
    ["PidsLimit", "PidsLimit=4096", ["--pids-limit", "4096"]],
    ["LogDriver", "LogDriver=json-file", ["--log-driver", "json-file"]],
    ["LogOpt", "LogOpt=max-size=10m", ["--log-opt", "max-size=10m"]],
    ["HealthCmd", "HealthCmd=healthcheck_curl http://127.0.0.1:5000", ["--health-cmd", "healthcheck_curl http://127.0.0.1:5000"]],
    ["HealthInterval", "HealthCmd=true\nHealthInterval=30s", ["--health-interval", "30s"]],
    ["HealthTimeout", "HealthCmd=true\nHealthTimeout=5s", ["--health-timeout", "5s"]],
    ["HealthRetries", "HealthCmd=true\nHealthRetries=3", ["--health-retries", "3"]],
    ["HealthStartPeriod", "HealthCmd=true\nHealthStartPeriod=1m30s", ["--health-start-period", "1m30s"]],
    ["RunInit", "RunInit=yes", ["--init"]],
    ["StopSignal", "StopSignal=SIGINT", ["--stop-signal", "SIGINT"]],
    ["StopTimeout", "StopTimeout=180", ["--stop-timeout", "180"]],
    ["Pull", "Pull=never", ["--pull", "never"]],
    ["Pull newer", "Pull=newer", ["--pull", "always"]],
    ["Privileged", "Privileged=true", ["--privileged"]],
    ["Pid", "Pid=host", ["--pid", "host"]],
    ["Ipc", "Ipc=host", ["--ipc", "host"]],
    ["Cgroupns", "Cgroupns=host", ["--cgroupns", "host"]],
    ["SecurityOpt", "SecurityOpt=apparmor=unconfined", ["--security-opt", "apparmor=unconfined"]],
    ["SeccompProfile", "SeccompProfile=unconfined", ["--security-opt", "seccomp=unconfined"]],
    ["SecurityLabelDisable", "SecurityLabelDisable=true", ["--security-opt", "label=disable"]],
    ["SecurityLabelType", "SecurityLabelType=spc_t", ["--security-opt", "label=type:spc_t"]],
    ["Entrypoint", "Entrypoint=/bin/sh", ["--entrypoint", "/bin/sh"]],
    ["DockerArgs", "DockerArgs=--cpus 2 --oom-score-adj=-500", ["--cpus", "2", "--oom-score-adj=-500"]],
  ];
  it.each(cases)("%s", (_name, lines, expected) => {
    const t = translateText(base + lines);
    expect(t.diagnostics.filter((d) => d.severity === "error")).toEqual([]);
    expectRun(createArgv(t), expected);
  });

  it("leaves out an optional device the host does not have", () => {
    expect(argvOf("AddDevice=-/dev/net/tun")).not.toContain("--device");
  });

  it("HealthCmd=none turns off the image's own health check", () => {
    expect(argvOf("HealthCmd=none")).toContain("--no-healthcheck");
    expect(argvOf("HealthCmd=none")).not.toContain("--health-cmd");
  });

  it("checks namespace modes per key", () => {
    expect(errorsOf("Pid=private")[0]).toMatch(/expected host or container:NAME/);
    expect(errorsOf("Ipc=none")).toEqual([]);
    expect(errorsOf("Cgroupns=container:x")[0]).toMatch(/expected host or private/);
  });

  it("accepts every boolean spelling for Notify=", () => {
    expect(errorsOf("HealthCmd=true\nNotify=n")).toEqual([]);
    expect(errorsOf("Notify=y")[0]).toMatch(/cannot send sd_notify/);
  });

  it("puts the image after the options and Exec after the image", () => {
    const argv = argvOf('Exec=kolla_start --debug "two words"');
    expect(argv.slice(-4)).toEqual(["registry.example/kolla/keystone:2025.1", "kolla_start", "--debug", "two words"]);
    expect(argv.slice(0, 6)).toEqual(["/usr/bin/docker", "create", "--name", "svc", "--restart", "no"]);
    expect(argv).toContain("io.berth.unit=svc.service");
    expect(argv.some((a) => /^io\.berth\.spec=[0-9a-f]{16}$/.test(a))).toBe(true);
  });

  it("moves the extra words of a multi-word Entrypoint in front of the command", () => {
    expect(argvOf("Entrypoint=/bin/sh -c\nExec=echo hi").slice(-4)).toEqual(["registry.example/kolla/keystone:2025.1", "-c", "echo", "hi"]);
    expect(argvOf('Entrypoint=["/bin/sh","-c"]\nExec=true').slice(-3)).toEqual(["registry.example/kolla/keystone:2025.1", "-c", "true"]);
  });

  it("labels the container with a digest of its spec that changes with any setting", () => {
    const spec = (lines: string) => createArgv(translateText(base + lines)).find((a) => a.startsWith("io.berth.spec="));
    expect(spec("Exec=a")).toBe(spec("Exec=a"));
    expect(spec("Exec=a")).not.toBe(spec("Exec=b"));
    expect(spec("Environment=A=1")).not.toBe(spec("Environment=A=2"));
  });

  it("defaults: init off (as in Quadlet), Docker's restart policy off, Docker's log store off, pull missing", () => {
    const argv = argvOf("");
    expectRun(argv, ["--restart", "no"]);
    expectRun(argv, ["--log-driver", "none"]);
    expectRun(argv, ["--pull", "missing"]);
    expect(argv).not.toContain("--init");
    expect(argvOf("RunInit=false")).not.toContain("--init");
  });

  it("the last Exec= wins, as in Quadlet", () => {
    expect(argvOf("Exec=sleep 1\nExec=sleep 2").slice(-2)).toEqual(["sleep", "2"]);
  });

  it("an empty assignment resets a list; a later single value wins", () => {
    const argv = argvOf("Volume=/a:/a\nVolume=\nVolume=/b:/b\nHostName=one\nHostName=two");
    expect(argv.filter((a) => a.startsWith("/") && a.includes(":"))).toEqual(["/b:/b"]);
    expect(argv).toContain("two");
    expect(argv).not.toContain("one");
  });

  it("rejects malformed values with the line", () => {
    const t = translateText(base + "Environment=1A=b\nHealthCmd=x\nHealthInterval=soon\nMemory=lots\nPublishPort=99999:1\nRunInit=maybe\nUlimit=nofile\nPull=sometimes\nEntrypoint=[1,2]\n");
    expect(t.diagnostics.filter((d) => d.severity === "error").map((d) => d.line)).toEqual([3, 5, 6, 7, 8, 9, 10, 11]);
  });

  it("requires Image= and [Container]", () => {
    expect(errorsOf("", "x.container")).toEqual([]);
    expect(translateText("[Container]\nExec=x\n").diagnostics.map((d) => d.message)).toContain("Image= is required in [Container]");
    expect(translateText("[Unit]\nA=b\n").diagnostics.map((d) => d.message)).toContain("no [Container] section");
  });

  it("explains every Quadlet key Docker cannot honour, by severity", () => {
    for (const [key, rule] of Object.entries(CONTAINER_KEYS)) {
      if (rule.kind !== "refused" && rule.kind !== "ignored") continue;
      const { why } = rule;
      const severity = rule.kind === "refused" ? "error" : "warning";
      const t = translateText(base + `${key}=x\n`);
      const d = t.diagnostics.find((x) => x.message.startsWith(`${key}=`));
      expect(d, key).toBeDefined();
      expect(d!.severity).toBe(severity);
      expect(d!.message).toContain(why);
    }
  });

  it("warns about, and ignores, an unknown key instead of dropping the unit", () => {
    const t = translateText(base + "FutureKey=1\n");
    expect(t.diagnostics).toEqual([expect.objectContaining({ severity: "warning", line: 3, message: expect.stringMatching(/FutureKey=: unknown key, ignored/) })]);
  });

  it("refuses Quadlet unit references and Podman-only values", () => {
    expect(errorsOf("Network=backend.network")[0]).toMatch(/"backend\.network" is not defined/);
    expect(errorsOf("Volume=other.volume:/data")[0]).toMatch(/"other\.volume" is not defined/);
    expect(errorsOf("UserNS=keep-id")[0]).toMatch(/keep-id is not supported with Docker: Docker has no per-container user namespaces/);
    expect(errorsOf("Notify=true")[0]).toMatch(/cannot send sd_notify/);
    expect(errorsOf("Group=kolla")[0]).toMatch(/needs User=/);
    expect(errorsOf("ContainerName=bad/name")[0]).toMatch(/not a valid Docker container name/);
    expect(errorsOf("Environment=X=50%")[0]).toMatch(/lone "%"/);
  });
});

describe("translate: the unit around the container", () => {
  it("wraps the container: run attached (stale removal on refusal), readiness, stop, removal", () => {
    const t = translateText(base + "StopTimeout=180\n");
    expect(unitValues(t, "ExecStartPre")).toEqual([]);
    const start = unitValues(t, "ExecStart").map(execArgv);
    expect(start).toHaveLength(1);
    expect(start[0]!.slice(0, 8)).toEqual(["/berth/berth-step", "run", "/node", "svc", "-", "--", "/usr/bin/docker", "create"]);
    expect(execArgv(unitValues(t, "ExecStartPost")[0]!)).toEqual(["/berth/berth-step", "running", "/usr/bin/docker", "svc", t.spec]);
    expect(execArgv(unitValues(t, "ExecStop")[0]!)).toEqual(["/usr/bin/docker", "stop", "--time", "180", "svc"]);
    expect(execArgv(unitValues(t, "ExecStopPost")[0]!)).toEqual(["/berth/berth-step", "remove", "/usr/bin/docker", "svc"]);
    expect(unitValues(t, "TimeoutStopSec")).toEqual(["210"]);
    expect(unitValues(t, "SuccessExitStatus")).toEqual(["143"]);
    expect(unitValues(t, "SourcePath")).toEqual(["/etc/berth/svc.container"]);
  });

  it("waits for health by default when there is a health check, and on Notify=healthy", () => {
    const ready = (lines: string) => {
      const t = translateText(base + lines);
      return execArgv(unitValues(t, "ExecStartPost")[0]!).map((a) => (a === t.spec ? "SPEC" : a));
    };
    // The readiness step runs the health check's shell line itself until it first passes.
    expect(ready("HealthCmd=true")).toEqual(["/berth/berth-step", "healthy", "/usr/bin/docker", "svc", "SPEC", "--probe", "30", "true"]);
    expect(ready("HealthCmd=true\nNotify=healthy")).toEqual(["/berth/berth-step", "healthy", "/usr/bin/docker", "svc", "SPEC", "--probe", "30", "true"]);
    expect(ready('HealthCmd=["CMD","curl","-f","http://localhost/a b"]')).toEqual(["/berth/berth-step", "healthy", "/usr/bin/docker", "svc", "SPEC", "--probe", "30", "curl -f 'http://localhost/a b'"]);
    // Each run of the check is cut off at Docker's HealthTimeout=, in seconds.
    expect(ready("HealthCmd=true\nHealthTimeout=1m30s")).toContain("90");
    expect(ready("HealthCmd=true\nHealthTimeout=500ms")).toContain("0.5");
    expect(ready("HealthCmd=true\nHealthTimeout=0s")).toContain("30");
    expect(ready("HealthCmd=true\nNotify=false")).toEqual(["/berth/berth-step", "running", "/usr/bin/docker", "svc", "SPEC"]);
    expect(ready("HealthCmd=true\nHealthOnFailure=kill")).toEqual(["/berth/berth-step", "healthy", "/usr/bin/docker", "svc", "SPEC", "--probe", "30", "true", "--on-unhealthy", "kill", "/node"]);
    expect(ready("HealthCmd=true\nNotify=false\nHealthOnFailure=stop")).toEqual(["/berth/berth-step", "running", "/usr/bin/docker", "svc", "SPEC", "--on-unhealthy", "stop", "/node"]);
    expect(errorsOf("Notify=healthy")[0]).toMatch(/needs a HealthCmd/);
    expect(errorsOf("HealthOnFailure=kill")[0]).toMatch(/needs a HealthCmd/);
  });

  it("counts the stop signal's exit status as a clean stop", () => {
    expect(unitValues(translateText(base + "StopSignal=SIGINT"), "SuccessExitStatus")).toEqual(["143 130"]);
  });

  it("ReloadCmd and ReloadSignal become ExecReload", () => {
    expect(execArgv(unitValues(translateText(base + "ReloadCmd=kill -HUP 1"), "ExecReload")[0]!)).toEqual(["/usr/bin/docker", "exec", "svc", "kill", "-HUP", "1"]);
    expect(execArgv(unitValues(translateText(base + "ReloadSignal=SIGHUP"), "ExecReload")[0]!)).toEqual(["/usr/bin/docker", "kill", "--signal", "SIGHUP", "svc"]);
  });

  it("passes [Unit], [Service] and other sections through after berth's own lines", () => {
    const t = translateText(`[Unit]\nDescription=Keystone\n[Service]\nRestart=on-failure\nTimeoutStartSec=300\n[X-Custom]\nFoo=bar\n` + base);
    expect(unitValues(t, "Description")).toEqual(["berth container svc", "Keystone"]);
    expect(unitValues(t, "Restart")).toEqual(["always", "on-failure"]);
    expect(unitValues(t, "TimeoutStartSec")).toEqual(["300"]);
    expect(t.text).toContain("[X-Custom]\nFoo=bar\n");
    expect(t.text).not.toContain("[Container]");
    expect(t.text).not.toContain("[Install]");
  });

  it("rewrites references to definitions into their unit names and keeps other units", () => {
    const t = translateText(
      "[Unit]\nRequires=mariadb.container network-online.target\nAfter=mariadb.container rabbitmq.container\nWants=worker@a.container\n" + base,
      "svc.container",
      { mariadb: "mariadb.service", rabbitmq: "rmq.service", "worker@a": "worker@a.service" },
    );
    expect(unitValues(t, "Requires")).toEqual(["mariadb.service network-online.target"]);
    expect(unitValues(t, "After")).toContain("mariadb.service rmq.service");
    expect(unitValues(t, "Wants")).toContain("worker@a.service");
    expect(t.dependencies.filter((d) => d.definition).map((d) => d.definition)).toEqual(["mariadb", "mariadb", "rabbitmq", "worker@a"]);
  });

  it("names units and containers: default, ServiceName=, templates and instances", () => {
    expect(translateText(base).unitName).toBe("svc.service");
    expect(translateText(base + "ServiceName=identity").unitName).toBe("identity.service");
    const tpl = translateText(base, "worker@.container");
    expect([tpl.unitName, tpl.containerName]).toEqual(["worker@.service", "worker-%i"]);
    // Specifiers in the container name stay specifiers wherever it is written.
    expect(unitValues(tpl, "SyslogIdentifier")).toEqual(["worker-%i"]);
    // Each instance's container names its instance unit (systemd expands %n), not the template.
    expect(createArgv(tpl)).toContain("io.berth.unit=%n");
    expect(translateText(base + "ServiceName=jobs", "worker@.container").unitName).toBe("jobs@.service");
    const inst = translateText(base, "worker@blue.container");
    expect([inst.unitName, inst.containerName]).toEqual(["worker@blue.service", "worker-blue"]);
  });

  it("turns [Install] into edges", () => {
    const t = translateText(base + "[Install]\nWantedBy=multi-user.target\nRequiredBy=openstack.target\nAlias=identity.service\n");
    expect(t.install).toEqual([
      { kind: "wants", target: "multi-user.target", unit: "svc.service" },
      { kind: "requires", target: "openstack.target", unit: "svc.service" },
      { kind: "alias", target: "identity.service", unit: "svc.service" },
    ]);
    const tpl = translateText(base + "[Install]\nWantedBy=multi-user.target\nDefaultInstance=one\n", "worker@.container");
    expect(tpl.install).toEqual([{ kind: "wants", target: "multi-user.target", unit: "worker@one.service" }]);
  });
});

describe("translate: nothing in a definition can inject into the unit", () => {
  const hostile = [
    "a\nExecStartPost=/bin/evil",
    'quote" ; /bin/evil "',
    "back\\slash",
    "dollar $HOME ${PATH}",
    "percent %% sign",
    "semi ; colon",
    "tab\there",
    "ünïcödé ✓",
    "[Service]",
  ];
  it.each(hostile)("%j stays one argument", (value) => {
    const escaped = JSON.stringify(value).slice(1, -1);
    const t = translateText(base + `Environment="X=${escaped}"\nExec="${escaped}"\nLabel="l=${escaped}"\n`);
    expect(t.diagnostics).toEqual([]);
    // Every line still has one of the shapes a unit file allows.
    for (const line of t.text.split("\n")) expect(line).toMatch(/^(#.*|\[(Unit|Service)\]|[A-Za-z]+=.*|)$/);
    const argv = createArgv(t);
    // `%%` is systemd's own spelling of a literal percent sign; it is undone at load time.
    const expected = value;
    expect(argv).toContain(`X=${expected}`);
    expect(argv.at(-1)).toBe(expected);
    expect(unitValues(t, "ExecStartPost")).toHaveLength(1);
  });
});

describe("translate: %D, written out for systemd 252", () => {
  const file = "/etc/berth/svc.container";
  const translated = (text: string, dataDir: string) =>
    translateDefinition({ name: parseDefinitionName("svc.container")!, file, files: [file], sections: parseUnitFile(text, file).sections }, { ...testContext(), dataDir });

  it("keeps the definition's digest as written, so that neither an upgrade of berth nor a user's data directory restarts it", () => {
    const withD = `[Unit]\nDescription=data in %D\n${base}Volume=%D/app:/data\n`;
    const [a, b] = [translated(withD, "/usr/share"), translated(withD, "/home/u/.local/share")];
    expect(unitValues(a, "Description")).toContain("data in /usr/share");
    expect(definitionDigest(a)).toBe(definitionDigest(b));
    expect(definitionDigest(a)).not.toBe(definitionDigest(translated(withD.replaceAll("%D", "/usr/share"), "/usr/share")));
  });
});

describe("translate: relative paths", () => {
  it("resolve against the main file's directory, also when a drop-in sets them (Quadlet merges drop-ins into the unit)", () => {
    const main = parseUnitFile("[Container]\nImage=busybox\n", "/etc/berth/app.container");
    const dropIn = parseUnitFile("[Container]\nVolume=./data:/data\nEnvironmentFile=app.env\n", "/etc/berth/app.container.d/10-data.conf");
    const sections = new Map(main.sections);
    sections.set("Container", [...main.sections.get("Container")!, ...dropIn.sections.get("Container")!]);
    const t = translate({ name: parseDefinitionName("app.container")!, file: "/etc/berth/app.container", files: ["/etc/berth/app.container", "/etc/berth/app.container.d/10-data.conf"], sections }, testContext());
    expect(t.diagnostics).toEqual([]);
    expectRun(createArgv(t), ["--volume", "/etc/berth/data:/data"]);
    expectRun(createArgv(t), ["--env-file", "/etc/berth/app.env"]);
  });

  it("keep the directory's own % and $ literal", () => {
    const t = translateText("[Container]\nImage=busybox\nVolume=./d:/d\n", "app.container");
    const weird = translate({ ...t.definition, file: "/srv/100%$x/app.container" }, testContext());
    expect(createArgv(weird)).toContain("/srv/100%%$$x/d:/d");
  });
});

describe("translate: Network=NAME.container across the set", () => {
  it("joins the referenced definition's real container name (ContainerName=, ServiceName=, an instance through its template)", () => {
    const dir = tree({
      "db.container": image("ContainerName=db-main\nServiceName=database"),
      "worker@.container": image(),
      "web.container": image("Network=db.container"),
      "sidecar.container": image("Network=worker@blue.container"),
      "lost.container": image("Network=nowhere.container"),
    });
    const set = loadSet({ scope: "system", dirs: [dir] });
    const unit = (base: string) => set.all.find((t) => t.definition.name.base === base)!;
    expectRun(createArgv(unit("web")), ["--network", "container:db-main"]);
    expect(unitValues(unit("web"), "Requires")).toContain("database.service");
    expect(unitValues(unit("web"), "After")).toContain("database.service");
    expectRun(createArgv(unit("sidecar")), ["--network", "container:worker-blue"]);
    expect(unitValues(unit("sidecar"), "Requires")).toContain("worker@blue.service");
    expect(set.diagnostics.map((d) => d.message).filter((m) => m.startsWith('Network=: "nowhere.container" is not defined in '))).toHaveLength(1);
  });
});

describe("translate: every [Container] key of Quadlet 5.8", () => {
  // The key names of Quadlet 5.8's supported [Container] keys (pkg/systemd/quadlet/quadlet.go).
  const keys = readFileSync(join(import.meta.dirname, "cases/quadlet-5.8-container-keys.txt"), "utf8").split("\n").filter(Boolean);
  it.each(keys)("%s is translated, or refused or ignored with a reason", (key) => {
    const t = translateText(`[Container]\nImage=busybox\n${key}=x\n`);
    expect(t.diagnostics.map((d) => d.message)).not.toContainEqual(expect.stringContaining("unknown key"));
  });
});

describe("translate: Pod=NAME.pod and a .network's DNS= across the set", () => {
  it("joins the pod's holder by the pod's name, the default one while PodName= is in error; takes the network's DNS servers", () => {
    const dir = tree({
      "web.pod": "[Pod]\nPodName=shop\nNetwork=lan.network\n",
      "bad.pod": "[Pod]\nPodName=%N\n",
      "lan.network": "[Network]\nDNS=10.0.0.53\n",
      "app.container": image("Pod=web.pod"),
      "job.container": image("Pod=bad.pod"),
      "peer.container": image("Network=lan.network"),
    });
    const set = loadSet({ scope: "system", dirs: [dir] });
    const unit = (base: string) => set.all.find((t) => t.definition.name.base === base)!;
    expectRun(createArgv(unit("app")), ["--network", "container:shop-infra", "--ipc", "container:shop-infra", "--volumes-from", "shop-infra"]);
    expect(unitValues(unit("app"), "BindsTo")).toEqual(["web-pod.service"]);
    // The holder gets the network's servers, and its members share them.
    expectRun(createArgv(unit("web")), ["--network", "systemd-lan", "--dns", "10.0.0.53"]);
    expect(createArgv(unit("app"))).not.toContain("--dns");
    expectRun(createArgv(unit("peer")), ["--network", "systemd-lan", "--dns", "10.0.0.53"]);
    expectRun(createArgv(unit("job")), ["--network", "container:systemd-bad-infra"]);
    expect(set.diagnostics.map((d) => `${d.file.slice(dir.length + 1)}: ${d.message}`)).toContainEqual(expect.stringMatching(/^bad\.pod: PodName=: "%N" is not a pod name/));
  });
});

describe("translate: Quadlet files berth does not run", () => {
  it("warns of a .kube or .artifact file, naming it and why, and runs the rest", () => {
    const dir = tree({ "app.kube": "[Kube]\nYaml=app.yaml\n", "data.artifact": "[Artifact]\n", "web.container": image() });
    const set = loadSet({ scope: "system", dirs: [dir] });
    expect(set.diagnostics.map((d) => `${d.severity} ${d.file.slice(dir.length + 1)}: ${d.message}`).sort()).toEqual([
      "warning app.kube: berth does not run .kube files: they are played by podman kube play, which Docker has no counterpart of; ignored",
      "warning data.artifact: berth does not run .artifact files: OCI artifacts are Podman's, and Docker has none; ignored",
    ]);
    expect(set.output.map((u) => u.unitName)).toContain("web.service");
  });
});
