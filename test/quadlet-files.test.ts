import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureJournald } from "./support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

/**
 * Quadlet files as people write them, started as units on a real systemd and the real Docker
 * engine: the cases issue 11 found accepted but not running, and the keys berth now translates.
 * Every container and network here is named `qf-…`, since the engine is shared.
 */
const INIT_IMAGE = "berth-test/qf-pid1-init:latest";
const NETWORKS = ["qf-net-a", "qf-net-b"];
/** Each network's subnet: Docker gives a container a chosen address only on a network with one. */
const SUBNETS: Record<string, string> = { "qf-net-a": "10.231.1.0/24", "qf-net-b": "10.231.2.0/24" };

interface Inspect {
  Id: string;
  Name: string;
  State: { Running: boolean; Pid: number; Health?: { Status: string } };
  Config: { Env: string[] };
  HostConfig: { Init: boolean | null; NetworkMode: string };
  NetworkSettings: { Networks: Record<string, { Aliases: string[] | null; IPAddress: string }> };
}

function inspect(name: string): Inspect | undefined {
  const r = docker(["inspect", name]);
  return r.status === 0 ? (JSON.parse(r.stdout) as Inspect[])[0] : undefined;
}

/** An image with its own init, as s6-overlay images are: it refuses to run as anything but PID 1. */
function buildInitImage(): void {
  const dir = mkdtempSync(join(tmpdir(), "qf-img-"));
  try {
    writeFileSync(join(dir, "init"), `#!/bin/sh
if [ "$$" != 1 ]; then echo "init: can only run as pid 1 (I am $$)" >&2; exit 100; fi
trap 'exit 0' TERM
while :; do sleep 1 & wait $!; done
`, { mode: 0o755 });
    writeFileSync(join(dir, "Dockerfile"), `FROM ${TEST_IMAGE}\nCOPY init /init\nENTRYPOINT ["/init"]\n`);
    const r = spawnSync("docker", ["build", "-q", "-t", INIT_IMAGE, dir], { encoding: "utf8", env: { ...process.env, DOCKER_BUILDKIT: "0" } });
    if (r.status !== 0) throw new Error(`docker build failed: ${r.stderr}`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe("Quadlet files on Docker (real systemd, real dockerd)", () => {
  let um: UserManager;
  const containers: string[] = [];
  const define = (file: string, text: string, container = file.replace(/\.container$/, "")) => {
    containers.push(container);
    docker(["rm", "-f", container]);
    um.writeDefinition(file, text);
  };
  const state = (unit: string) => um.show(unit, "ActiveState", "SubState", "Result");
  const start = (unit: string) => {
    const r = um.systemctl(["start", unit]);
    expect(r, `${unit}: ${JSON.stringify(um.journal(unit).map((l) => l.MESSAGE).slice(-10))}`).toMatchObject({ status: 0 });
  };

  beforeAll(async () => {
    ensureTestImage();
    buildInitImage();
    ensureJournald();
    for (const n of NETWORKS) {
      docker(["network", "rm", n]);
      expect(docker(["network", "create", "--subnet", SUBNETS[n]!, n]).status).toBe(0);
    }
    um = await new UserManager().start();
    mkdirSync(join(um.defs, "qf-data"));
    writeFileSync(join(um.defs, "qf-data", "hello"), "from the definition's directory\n");
    mkdirSync(join(um.defs, "qf-out"), { mode: 0o777 });

    define("qf-init.container", `[Container]\nImage=${INIT_IMAGE}\nNetwork=none\n`);
    define("qf-vars.container", `[Container]
Image=\${QF_IMAGE}
ContainerName=qf-vars-\${QF_SUFFIX}
Network=none
RunInit=yes
Environment=GREETING=\${QF_GREETING} LITERAL=$$HOME INWORD=$HOME
Exec=sleep 600
[Service]
Environment=QF_IMAGE=${TEST_IMAGE} QF_SUFFIX=one "QF_GREETING=hello world"
`, "qf-vars-one");
    define("qf-health.container", `[Container]
Image=${TEST_IMAGE}
Network=none
RunInit=yes
Exec=sh -c "sleep 1; touch /ok; exec sleep 600"
HealthCmd=CMD-SHELL test -f /ok && echo ok
HealthInterval=500ms
`);
    define("qf-relvol.container", `[Container]
Image=${TEST_IMAGE}
Network=none
RunInit=yes
Volume=./qf-data:/data:ro
Mount=type=bind,src=./qf-data,dst=/mnt/data,ro
Exec=sleep 600
`);
    define("qf-tmpfs-owned.container", `[Container]
Image=${TEST_IMAGE}
Network=none
RunInit=yes
User=1234
Group=2345
Mount=type=tmpfs,tmpfs-size=8M,tmpfs-mode=0770,U,noexec,nosuid,destination=/run/app
Volume=./qf-data:/data:ro,rbind,idmap
Exec=sleep 600
`);
    define("qf-once.container", `[Container]
Image=${TEST_IMAGE}
Network=none
Volume=./qf-out:/out
Exec=sh -c "sleep 1; echo done > /out/once"
[Service]
Type=oneshot
`);
    define("qf-once-fails.container", `[Container]
Image=${TEST_IMAGE}
Network=none
Exec=sh -c "exit 3"
[Service]
Type=oneshot
Restart=no
`);
    define("qf-multi.container", `[Container]
Image=${TEST_IMAGE}
RunInit=yes
Network=qf-net-a
Network=qf-net-b
NetworkAlias=qf-multi-alias
Exec=sleep 600
`);
    define("qf-addressed.container", `[Container]
Image=${TEST_IMAGE}
RunInit=yes
Network=qf-net-a:ip=10.231.1.10,alias=qf-first-name
Network=qf-net-b:ip=10.231.2.10,alias=qf-second-name
Exec=sleep 600
`);
    for (const member of ["qf-pod-web", "qf-pod-worker"]) define(`${member}.container`, `[Container]\nImage=${TEST_IMAGE}\nRunInit=yes\nPod=qf-pod.pod\nExec=sleep 600\n`);
    // Its holder container, qf-pod-infra, is made by the unit, not by define().
    containers.push("qf-pod-infra");
    um.writeDefinition("qf-pod.pod", `[Pod]
PodName=qf-pod
Network=qf-net-a:ip=10.231.1.20
Volume=./qf-data:/pod-data:ro
`);
    // The pod's unit makes its holder's image from the host's catatonit when it is not there.
    docker(["rmi", "localhost/berth-pause:1"]);
    define("qf-joiner.container", `[Container]
Image=${TEST_IMAGE}
RunInit=yes
Network=qf-multi.container
Exec=sleep 600
`);
    define("qf-reload.container", `[Container]
Image=${TEST_IMAGE}
Network=none
RunInit=yes
Exec=sh -c "trap 'echo hup >> /reloads' HUP; while :; do sleep 1 & wait $!; done"
ReloadSignal=SIGHUP
`);
    define("qf-reload-cmd.container", `[Container]
Image=${TEST_IMAGE}
Network=none
RunInit=yes
Exec=sleep 600
ReloadCmd=sh -c "echo cmd >> /reloads"
`);
    um.reload();
  });

  afterAll(async () => {
    await um?.stop();
    for (const c of containers) docker(["rm", "-f", c]);
    for (const n of NETWORKS) docker(["network", "rm", n]);
  });

  it("an image with its own init runs as PID 1: RunInit= is off unless asked", () => {
    start("qf-init.service");
    expect(state("qf-init.service")).toMatchObject({ ActiveState: "active", SubState: "running" });
    const c = inspect("qf-init")!;
    expect(c.State.Running).toBe(true);
    expect(c.HostConfig.Init).not.toBe(true);
    expect(um.systemctl(["stop", "qf-init.service"]).status).toBe(0);
    expect(state("qf-init.service")).toMatchObject({ ActiveState: "inactive", Result: "success" });
  });

  it("${VAR} from [Service] Environment= reaches the image, the container name and the environment; $$ is a literal $", () => {
    // systemd holds the words as written (the round trip), and substitutes them when the unit starts.
    const run = um.execArgv("qf-vars.service", "ExecStart")[0]!;
    expect(run).toContain("qf-vars-${QF_SUFFIX}");
    expect(run).toContain("GREETING=${QF_GREETING}");
    expect(run).toContain("LITERAL=$$HOME");
    start("qf-vars.service");
    const c = inspect("qf-vars-one")!;
    expect(c.State.Running).toBe(true);
    expect(c.Config.Env).toEqual(expect.arrayContaining(["GREETING=hello world", "LITERAL=$HOME", "INWORD=$HOME"]));
    expect(docker(["inspect", "--format", "{{.Config.Image}}", "qf-vars-one"]).stdout.trim()).toBe(TEST_IMAGE);
    expect(um.systemctl(["stop", "qf-vars.service"]).status).toBe(0);
    expect(inspect("qf-vars-one")).toBeUndefined();
  });

  it("a CMD-SHELL health check passes, and the unit turns active only once it has", async () => {
    start("qf-health.service");
    // Active once the readiness step's run of the check passed; then Docker's own run passes too.
    expect(docker(["exec", "qf-health", "test", "-f", "/ok"]).status).toBe(0);
    await waitFor("Docker's own check to pass", () => inspect("qf-health")!.State.Health?.Status === "healthy");
    um.systemctl(["stop", "qf-health.service"]);
  });

  it("relative Volume= and Mount= sources are the definition's directory", () => {
    start("qf-relvol.service");
    for (const path of ["/data/hello", "/mnt/data/hello"]) {
      expect(docker(["exec", "qf-relvol", "cat", path]).stdout).toBe("from the definition's directory\n");
    }
    um.systemctl(["stop", "qf-relvol.service"]);
  });

  it("a tmpfs with Podman's U belongs to the container's user, with its mount flags; Volume= options Docker lacks but does anyway are left out", () => {
    start("qf-tmpfs-owned.service");
    expect(docker(["exec", "qf-tmpfs-owned", "stat", "-c", "%u %g %a", "/run/app"]).stdout.trim()).toBe("1234 2345 770");
    expect(docker(["exec", "qf-tmpfs-owned", "grep", " /run/app ", "/proc/mounts"]).stdout).toMatch(/nosuid.*noexec|noexec.*nosuid/);
    expect(docker(["exec", "qf-tmpfs-owned", "cat", "/data/hello"]).stdout).toBe("from the definition's directory\n");
    um.systemctl(["stop", "qf-tmpfs-owned.service"]);
  });

  it("a oneshot unit is started once its container has exited 0, and fails if it exits otherwise", () => {
    start("qf-once.service");
    // The start returned only after the job's work was done.
    expect(readFileSync(join(um.defs, "qf-out", "once"), "utf8")).toBe("done\n");
    expect(state("qf-once.service")).toMatchObject({ ActiveState: "inactive", Result: "success" });
    expect(um.systemctl(["start", "qf-once-fails.service"]).status).not.toBe(0);
    expect(state("qf-once-fails.service")).toMatchObject({ ActiveState: "failed", Result: "exit-code" });
  });

  it("several Network= lines connect the container to each, with its aliases; NAME.container joins that container's network after its unit", async () => {
    start("qf-joiner.service");
    // Requires= and After= started the container it joins first.
    expect(state("qf-multi.service")).toMatchObject({ ActiveState: "active" });
    const multi = inspect("qf-multi")!;
    expect(Object.keys(multi.NetworkSettings.Networks).sort()).toEqual(NETWORKS);
    for (const n of NETWORKS) expect(multi.NetworkSettings.Networks[n]!.Aliases).toContain("qf-multi-alias");
    expect(inspect("qf-joiner")!.HostConfig.NetworkMode).toMatch(new RegExp(`^container:(qf-multi|${multi.Id})$`));
    // Its restart (a new network namespace) restarts the joiner.
    const joined = inspect("qf-joiner")!.Id;
    expect(um.systemctl(["restart", "qf-multi.service"]).status).toBe(0);
    await waitFor("the joiner to be restarted", () => state("qf-joiner.service").ActiveState === "active" && inspect("qf-joiner")?.Id !== joined && inspect("qf-joiner")?.State.Running);
    um.systemctl(["stop", "qf-joiner.service", "qf-multi.service"]);
  });

  it("Network=NAME:ip=…,alias=… gives the container that address and name on each of its networks", () => {
    start("qf-addressed.service");
    const networks = inspect("qf-addressed")!.NetworkSettings.Networks;
    expect(networks["qf-net-a"]).toMatchObject({ IPAddress: "10.231.1.10" });
    expect(networks["qf-net-a"]!.Aliases).toContain("qf-first-name");
    expect(networks["qf-net-b"]).toMatchObject({ IPAddress: "10.231.2.10" });
    expect(networks["qf-net-b"]!.Aliases).toContain("qf-second-name");
    // Each name is that network's only.
    expect(networks["qf-net-a"]!.Aliases).not.toContain("qf-second-name");
    um.systemctl(["stop", "qf-addressed.service"]);
  });

  it("a .pod runs as a holder container whose network and IPC its members share: starting the pod starts them, its stop stops them, its restart restarts them", async () => {
    start("qf-pod-pod.service");
    await waitFor("both members to be active", () => ["qf-pod-web.service", "qf-pod-worker.service"].every((u) => state(u).ActiveState === "active"));
    const holder = inspect("qf-pod-infra")!;
    expect(holder.NetworkSettings.Networks["qf-net-a"]).toMatchObject({ IPAddress: "10.231.1.20" });
    // Each container's first process, seen from the host: the holder runs catatonit alone.
    const namespace = (name: string, kind: string) => readlinkSync(`/proc/${inspect(name)!.State.Pid}/ns/${kind}`);
    for (const member of ["qf-pod-web", "qf-pod-worker"]) {
      expect(inspect(member)!.HostConfig.NetworkMode).toMatch(new RegExp(`^container:(qf-pod-infra|${holder.Id})$`));
      for (const kind of ["net", "ipc"]) expect(namespace(member, kind), `${member} ${kind}`).toBe(namespace("qf-pod-infra", kind));
      // The pod's Volume= reaches every member.
      expect(docker(["exec", member, "cat", "/pod-data/hello"]).stdout).toBe("from the definition's directory\n");
    }
    await waitFor("the pod's unit to say it made the holder's image", () => um.journal("qf-pod-pod.service").some((l) => /^made the image localhost\/berth-pause:1 from /.test(l.MESSAGE)));
    // A restart of the pod is a new network namespace: its members restart with it.
    const before = inspect("qf-pod-web")!.Id;
    expect(um.systemctl(["restart", "qf-pod-pod.service"]).status).toBe(0);
    await waitFor("the member to be restarted", () => state("qf-pod-web.service").ActiveState === "active" && inspect("qf-pod-web")?.Id !== before && inspect("qf-pod-web")?.State.Running === true);
    expect(um.systemctl(["stop", "qf-pod-pod.service"]).status).toBe(0);
    await waitFor("the members to stop with the pod", () => ["qf-pod-web.service", "qf-pod-worker.service"].every((u) => state(u).ActiveState === "inactive"));
  });

  it("systemctl reload sends ReloadSignal= or runs ReloadCmd= in the container", async () => {
    start("qf-reload.service");
    start("qf-reload-cmd.service");
    for (const unit of ["qf-reload.service", "qf-reload-cmd.service"]) {
      const r = um.systemctl(["reload", unit]);
      expect(r, JSON.stringify(um.journal(unit).map((l) => l.MESSAGE).slice(-5))).toMatchObject({ status: 0 });
    }
    await waitFor("the HUP trap to run", () => docker(["exec", "qf-reload", "cat", "/reloads"]).stdout === "hup\n");
    expect(docker(["exec", "qf-reload-cmd", "cat", "/reloads"]).stdout).toBe("cmd\n");
    um.systemctl(["stop", "qf-reload.service", "qf-reload-cmd.service"]);
  });
});
