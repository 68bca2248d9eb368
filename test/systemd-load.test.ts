import { spawnSync } from "node:child_process";
import { chmodSync, existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { runBin } from "./support/run.js";
import { tree } from "./support/tree.js";
import { UserManager } from "./support/user-manager.js";

/** Values that have broken unit generators before: each must reach Docker as exactly one argument. */
const HOSTILE = [
  "two words",
  'double " quote',
  "single ' quote",
  "back\\slash",
  "percent 100%",
  "dollar $HOME ${PATH} $$",
  "semi ; colon",
  ";",
  "ünïcödé ✓ 日本",
  "tab\tand\nnewline\nExecStartPost=/bin/false",
  "\n[Service]\nExecStart=/bin/evil",
];

/** Writes a value in definition syntax: quoted with C escapes, `%` and `$` as systemd's `%%` and `$$`. */
const q = (v: string) => JSON.stringify(v).replaceAll("%", "%%").replaceAll("$", "$$$$");

const roundTrip = `[Unit]
Description=round trip
[Container]
Image=${TEST_IMAGE}
ContainerName=berth-rt
Network=none
RunInit=yes
Entrypoint=/bin/sh
Exec=-c "exec sleep 600" argv0 ${HOSTILE.map(q).join(" ")} %n 100%%
${HOSTILE.map((v, i) => `Environment=${q(`V${i}=${v}`)}`).join("\n")}
Label=${q("hostile=" + HOSTILE.join("|"))}
`;

const expectedExec = ["-c", "exec sleep 600", "argv0", ...HOSTILE, "rt.service", "100%"];
const expectedEnv = HOSTILE.map((v, i) => `V${i}=${v}`);

describe("generated units in a real systemd", () => {
  let um: UserManager;
  let recorded: string;

  beforeAll(async () => {
    ensureTestImage();
    docker(["rm", "-f", "berth-rt"]);
    const dir = tree({});
    recorded = join(dir, "run-argv");
    const wrapper = join(dir, "docker");
    // Records the exact argv systemd has berth-step hand to `docker run`, then runs the real thing.
    writeFileSync(wrapper, `#!/bin/sh\nif [ "$1" = run ]; then for a; do printf '%s\\0' "$a"; done > ${recorded}; fi\nexec /usr/bin/docker "$@"\n`);
    chmodSync(wrapper, 0o755);
    um = await new UserManager({ BERTH_DOCKER: wrapper }).start();
    um.writeDefinition("rt.container", roundTrip);
    um.writeDefinition("plain.container", `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nExec=sleep 5\n[Install]\nWantedBy=default.target\n`);
    um.reload();
  });

  afterAll(async () => {
    um?.systemctl(["stop", "rt.service"]);
    await um?.stop();
    docker(["rm", "-f", "berth-rt"]);
  });

  it("loads the generated units", () => {
    expect(readdirSync(um.generatorDir).sort()).toEqual(["berth.target", "default.target.d", "plain.service", "rt.service"]);
    expect(um.property("rt.service", "Unit", "WantedBy")).toEqual(["berth.target"]);
    expect(um.property("berth.target", "Unit", "WantedBy")).toEqual(["default.target"]);
    expect(um.property("rt.service", "Unit", "LoadState")).toBe("loaded");
    expect(um.property("rt.service", "Unit", "SourcePath")).toBe(join(um.defs, "rt.container"));
    expect(um.property("plain.service", "Unit", "WantedBy")).toEqual(["default.target"]);
  });

  it("hands docker create exactly the intended argv, read back over D-Bus", () => {
    const start = um.execArgv("rt.service", "ExecStart")[0]!;
    const create = start.slice(start.indexOf("--") + 1);
    expect(create[1]).toBe("create");
    // The bus shows the words before systemd substitutes variables, where a literal `$` is `$$`;
    // the next test sees them substituted, as the process gets them.
    const unsubstituted = (v: string) => v.replaceAll("$", () => "$$");
    expect(create.slice(-expectedExec.length)).toEqual(expectedExec.map(unsubstituted));
    const envs = create.filter((_, i) => create[i - 1] === "--env");
    expect(envs).toEqual(expectedEnv.map(unsubstituted));
    expect(create).toContain(unsubstituted("hostile=" + HOSTILE.join("|")));
    // No value grew into a directive of its own.
    expect(um.execArgv("rt.service", "ExecStartPost")).toHaveLength(1);
    expect(um.execArgv("rt.service", "ExecStart")).toHaveLength(1);
    expect(start.slice(0, 2)).toEqual([expect.stringMatching(/berth-step$/), "run"]);
  });

  it("runs it: the process gets that argv and the container those values", () => {
    const r = um.systemctl(["start", "rt.service"]);
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
    const argv = readFileSync(recorded, "utf8").split("\0").slice(0, -1);
    expect(argv.slice(-expectedExec.length)).toEqual(expectedExec);
    const inspect = JSON.parse(docker(["inspect", "berth-rt"]).stdout) as Array<{ Args: string[]; Config: { Env: string[]; Labels: Record<string, string> } }>;
    expect(inspect[0]!.Args).toEqual(expectedExec);
    // Docker keeps the environment in its own order.
    expect(inspect[0]!.Config.Env.filter((e) => /^V\d+=/.test(e)).sort()).toEqual([...expectedEnv].sort());
    expect(inspect[0]!.Config.Labels.hostile).toBe(HOSTILE.join("|"));
  });

  it("passes systemd-analyze verify", () => {
    expect(existsSync(join(um.generatorDir, "rt.service"))).toBe(true);
    const r = spawnSync("systemd-analyze", ["--user", "verify", "--man=no", join(um.generatorDir, "rt.service"), join(um.generatorDir, "plain.service")], { env: um.env, encoding: "utf8" });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});

describe("every key, verified by systemd-analyze", () => {
  it("accepts a unit that uses every [Container] key berth knows", () => {
    const defs = tree({
      "db.container": "[Container]\nImage=x\n",
      "all.container": `[Unit]
Description=all keys
Wants=db.container
After=db.container
[Container]
Image=${TEST_IMAGE}
ContainerName=all-keys
Exec=sleep 1
Entrypoint=/bin/sh
Environment=A=1 "B=2 3"
EnvironmentFile=/etc/kolla/env
Volume=/etc/kolla/all:/var/lib/kolla/config_files:ro
Mount=type=tmpfs,dst=/scratch
Tmpfs=/run
VolatileTmp=true
PublishPort=127.0.0.1:18080:80
ExposeHostPort=81
Network=none
HostName=all
IP=10.1.1.1
IP6=fd00::1
DNS=10.0.0.53
DNSSearch=example.org
DNSOption=ndots:1
AddHost=h:10.0.0.9
NetworkAlias=all-alias
User=1000
Group=1000
GroupAdd=10
UserNS=host
RemapUsers=host
WorkingDir=/
Label=a=b
AddCapability=NET_ADMIN
DropCapability=MKNOD
NoNewPrivileges=true
ReadOnly=true
ReadOnlyTmpfs=true
AddDevice=/dev/null
Sysctl=net.ipv4.ip_forward=1
Ulimit=nofile=1024:2048
ShmSize=64m
Memory=256m
PidsLimit=100
LogDriver=json-file
LogOpt=max-size=1m
HealthCmd=true
HealthInterval=10s
HealthTimeout=2s
HealthRetries=3
HealthStartPeriod=5s
HealthOnFailure=kill
Notify=healthy
RunInit=true
StopSignal=SIGINT
StopTimeout=20
Pull=never
ServiceName=all-keys
Privileged=false
Pid=host
Ipc=host
Cgroupns=host
SecurityOpt=apparmor=unconfined
SeccompProfile=unconfined
AppArmor=unconfined
SecurityLabelDisable=true
SecurityLabelType=spc_t
SecurityLabelLevel=s0
SecurityLabelFileType=f_t
DockerArgs=--cpus 1
ReloadCmd=kill -HUP 1
[Service]
TimeoutStartSec=120
[Install]
WantedBy=multi-user.target
`,
    });
    const out = tree({});
    const gen = runBin("berth-generator", [out, out, out], { BERTH_UNIT_DIRS: defs });
    expect(gen.stderr).toBe("");
    expect(gen.status).toBe(0);
    const r = spawnSync("systemd-analyze", ["verify", "--man=no", join(out, "all-keys.service")], { encoding: "utf8", cwd: out });
    expect(r.stderr).toBe("");
    expect(r.status).toBe(0);
  });
});
