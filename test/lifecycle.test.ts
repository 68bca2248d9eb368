import { spawn, spawnSync } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ensureJournald } from "./support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

interface Inspect {
  Id: string;
  State: { Running: boolean; StartedAt: string; Health?: { Status: string } };
  Config: { Env: string[]; Labels: Record<string, string> };
  HostConfig: { RestartPolicy: { Name: string }; Init: boolean };
}

function inspect(name: string): Inspect | undefined {
  const r = docker(["inspect", name]);
  return r.status === 0 ? (JSON.parse(r.stdout) as Inspect[])[0] : undefined;
}

const container = (body: string, unit = "", service = "") =>
  `${unit ? `[Unit]\n${unit}\n` : ""}[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\n${body}\n${service ? `[Service]\n${service}\n` : ""}`;

/** A fake service that listens on `port` only after `delay` seconds, with a health check on it. */
const fake = (name: string, port: number, delay: number, unit = "") =>
  container(
    `Exec=fake-service\nEnvironment=NAME=${name} PORT=${port} DELAY=${delay}\nHealthCmd=nc -w 1 127.0.0.1 ${port} </dev/null\nHealthInterval=500ms\nHealthRetries=100`,
    unit,
  );

describe("containers as systemd services (real dockerd, real systemd)", () => {
  let um: UserManager;
  const names: string[] = [];
  const define = (name: string, text: string) => {
    names.push(name);
    docker(["rm", "-f", name]);
    um.writeDefinition(`${name}.container`, text);
  };
  const state = (unit: string) => um.show(`${unit}.service`, "ActiveState", "SubState", "Result", "ExecMainStatus", "NRestarts");

  beforeAll(async () => {
    ensureTestImage();
    ensureJournald();
    um = await new UserManager().start();
    define("lc-web", container("Exec=sleep 600\nEnvironment=GREETING=hi\nLabel=tier=web\nStopTimeout=5"));
    define("lc-stubborn", container(`Exec=sh -c "trap '' TERM; while :; do sleep 1; done"\nStopTimeout=2`));
    define("lc-stale", container("Exec=sleep 600"));
    define("lc-kill", container("Exec=sleep 600", "", "Restart=no"));
    define("lc-exit", container(`Exec=sh -c "sleep 1; exit 3"`, "", "Restart=no"));
    define("lc-restart", container("Exec=sleep 600", "", "RestartSec=1"));
    define("lc-unhealthy", container("Exec=sleep 600\nHealthCmd=false\nHealthInterval=500ms", "", "TimeoutStartSec=4\nRestart=no"));
    define("lc-healthy", fake("lc-healthy", 8001, 2));
    define("lc-hof", container(`Exec=sh -c "touch /ok; exec sleep 600"\nHealthCmd=test -f /ok\nHealthInterval=500ms\nHealthRetries=1\nHealthOnFailure=kill`, "", "RestartSec=1"));
    define("lc-nopull", `[Container]\nImage=berth-test/absent:never\nPull=never\n[Service]\nRestart=no\n`);
    define("lc-noexec", container("RunInit=false\nExec=/no/such/program", "", "Restart=no"));
    define("lc-log", container(`Exec=sh -c "echo out-line; echo err-line >&2; exec sleep 600"`));
    um.reload();
  });

  afterAll(async () => {
    await um?.stop();
    for (const n of names) docker(["rm", "-f", n]);
  });

  it("start gives a running container with exactly the declared settings; stop removes it", () => {
    expect(um.systemctl(["start", "lc-web.service"]).status).toBe(0);
    expect(state("lc-web")).toMatchObject({ ActiveState: "active", SubState: "running" });
    const c = inspect("lc-web")!;
    expect(c.State.Running).toBe(true);
    expect(c.Config.Env).toContain("GREETING=hi");
    expect(c.Config.Labels).toMatchObject({ tier: "web", "io.berth.unit": "lc-web.service" });
    // Restarts belong to systemd: Docker's own policy is off.
    expect(c.HostConfig.RestartPolicy.Name).toBe("no");
    expect(c.HostConfig.Init).toBe(true);

    expect(um.systemctl(["stop", "lc-web.service"]).status).toBe(0);
    // A clean stop by signal is not a failure.
    expect(state("lc-web")).toMatchObject({ ActiveState: "inactive", Result: "success" });
    expect(inspect("lc-web")).toBeUndefined();
  });

  it("a container that ignores SIGTERM is killed by Docker after StopTimeout, well before systemd's TimeoutStopSec", () => {
    expect(um.systemctl(["start", "lc-stubborn.service"]).status).toBe(0);
    expect(um.show("lc-stubborn.service", "TimeoutStopUSec").TimeoutStopUSec).toBe("32s");
    const t0 = Date.now();
    um.systemctl(["stop", "lc-stubborn.service"]);
    const took = Date.now() - t0;
    expect(took).toBeGreaterThanOrEqual(2000);
    // Docker's kill after StopTimeout ended it; systemd's TimeoutStopSec would say "timeout".
    expect(state("lc-stubborn").Result).not.toBe("timeout");
    expect(inspect("lc-stubborn")).toBeUndefined();
  });

  it("a stale container of the same name never blocks a start", () => {
    const stale = docker(["run", "-d", "--name", "lc-stale", "--network", "none", TEST_IMAGE, "sleep", "600"]);
    expect(stale.status).toBe(0);
    expect(um.systemctl(["start", "lc-stale.service"]).status).toBe(0);
    const c = inspect("lc-stale")!;
    expect(c.Id).not.toBe(stale.stdout.trim());
    expect(c.Config.Labels["io.berth.unit"]).toBe("lc-stale.service");
    um.systemctl(["stop", "lc-stale.service"]);
  });

  it("systemctl kill leaves no container behind", async () => {
    expect(um.systemctl(["start", "lc-kill.service"]).status).toBe(0);
    um.systemctl(["kill", "--signal=SIGKILL", "lc-kill.service"]);
    await waitFor("lc-kill to stop", () => state("lc-kill").ActiveState !== "active" && state("lc-kill").ActiveState !== "deactivating");
    await waitFor("the container to be removed", () => inspect("lc-kill") === undefined);
  });

  it("the container's exit status becomes the unit's", async () => {
    um.systemctl(["start", "lc-exit.service"]);
    const s = await waitFor("lc-exit to fail", () => (state("lc-exit").ActiveState === "failed" ? state("lc-exit") : undefined));
    expect(s).toMatchObject({ Result: "exit-code", ExecMainStatus: "3" });
    expect(inspect("lc-exit")).toBeUndefined();
  });

  it("restarts belong to systemd: a container that dies is restarted by Restart=", async () => {
    expect(um.systemctl(["start", "lc-restart.service"]).status).toBe(0);
    const first = inspect("lc-restart")!.Id;
    docker(["kill", "lc-restart"]);
    await waitFor("a restart", () => Number(state("lc-restart").NRestarts) >= 1 && state("lc-restart").ActiveState === "active");
    expect(inspect("lc-restart")!.Id).not.toBe(first);
    um.systemctl(["stop", "lc-restart.service"]);
  });

  it("a container that never becomes healthy fails its start within TimeoutStartSec", () => {
    const r = um.systemctl(["start", "lc-unhealthy.service"]);
    expect(r.status).not.toBe(0);
    expect(state("lc-unhealthy")).toMatchObject({ ActiveState: "failed", Result: "timeout" });
    expect(inspect("lc-unhealthy")).toBeUndefined();
  });

  it("with a health check the unit turns active only once the container is healthy", async () => {
    const t0 = Date.now();
    expect(um.systemctl(["start", "lc-healthy.service"]).status).toBe(0);
    expect(Date.now() - t0).toBeGreaterThanOrEqual(2000);
    // The readiness step ran the health check until it passed; Docker's own status may still say
    // "starting" until its next interval, but the check passes. journald may file the step's
    // last line a moment after the start job has returned.
    await waitFor("the readiness step's line in the journal", () => um.journal("lc-healthy.service").some((l) => /^lc-healthy is healthy \(/.test(l.MESSAGE)));
    expect(docker(["exec", "lc-healthy", "/bin/sh", "-c", "nc -w 1 127.0.0.1 8001 </dev/null"]).status).toBe(0);
    um.systemctl(["stop", "lc-healthy.service"]);
  });

  it("HealthOnFailure=kill acts on a container that turns unhealthy later, and systemd restarts it", async () => {
    expect(um.systemctl(["start", "lc-hof.service"]).status).toBe(0);
    const first = inspect("lc-hof")!.Id;
    docker(["exec", "lc-hof", "rm", "/ok"]);
    await waitFor("the unhealthy container to be replaced", () => {
      const c = inspect("lc-hof");
      return c !== undefined && c.Id !== first && state("lc-hof").ActiveState === "active";
    });
    expect(Number(state("lc-hof").NRestarts)).toBeGreaterThanOrEqual(1);
    um.systemctl(["stop", "lc-hof.service"]);
  });

  it("Pull=never with a missing image fails with a message that says so", async () => {
    expect(um.systemctl(["start", "lc-nopull.service"]).status).not.toBe(0);
    const lines = await waitFor("the message", () => {
      const j = um.journal("lc-nopull.service");
      return j.some((l) => /Pull=never/.test(l.MESSAGE)) ? j : undefined;
    });
    expect(lines.map((l) => l.MESSAGE)).toContain("image berth-test/absent:never is not present on this host, and Pull=never forbids pulling it");
  });

  it("a container Docker cannot start fails its unit at once, not at TimeoutStartSec", () => {
    expect(um.systemctl(["start", "lc-noexec.service"]).status).not.toBe(0);
    // Not "timeout": the start failed on Docker's refusal.
    expect(state("lc-noexec")).toMatchObject({ ActiveState: "failed", Result: "exit-code" });
    expect(inspect("lc-noexec")).toBeUndefined();
  });

  it("the container's stdout and stderr are in the unit's journal", async () => {
    expect(um.systemctl(["start", "lc-log.service"]).status).toBe(0);
    const lines = await waitFor("both lines", () => {
      const j = um.journal("lc-log.service");
      const msgs = j.map((l) => l.MESSAGE);
      return msgs.includes("out-line") && msgs.includes("err-line") ? j : undefined;
    });
    expect(lines.find((l) => l.MESSAGE === "out-line")!.SYSLOG_IDENTIFIER).toBe("lc-log");
    um.systemctl(["stop", "lc-log.service"]);
  });
});

describe("readiness-aware ordering: database → identity → api", () => {
  let um: UserManager;
  const chain = ["chain-db", "chain-identity", "chain-api"];

  beforeAll(async () => {
    ensureTestImage();
    um = await new UserManager().start();
    for (const n of chain) docker(["rm", "-f", n]);
    um.writeDefinition("chain-db.container", fake("chain-db", 13306, 2));
    um.writeDefinition("chain-identity.container", fake("chain-identity", 15000, 1, "Requires=chain-db.container\nAfter=chain-db.container"));
    um.writeDefinition("chain-api.container", fake("chain-api", 18774, 1, "Requires=chain-identity.container\nAfter=chain-identity.container"));
    um.reload();
  });

  afterAll(async () => {
    await um?.stop();
    for (const n of chain) docker(["rm", "-f", n]);
  });

  it("starts each container only after its dependency turned healthy", async () => {
    expect(um.systemctl(["start", "chain-api.service"]).status).toBe(0);
    const times = chain.map((n) => ({
      name: n,
      started: Date.parse(inspect(n)!.State.StartedAt),
      ready: Number(um.property(`${n}.service`, "Unit", "ActiveEnterTimestamp")) / 1000,
    }));
    // Docker's own checks, on their interval, agree with the readiness step's.
    for (const n of chain) await waitFor(`${n} healthy by Docker's check`, () => inspect(n)!.State.Health?.Status === "healthy");
    // Each became ready no sooner than its delay after its container started…
    expect(times[0]!.ready - times[0]!.started).toBeGreaterThanOrEqual(2000);
    expect(times[1]!.ready - times[1]!.started).toBeGreaterThanOrEqual(1000);
    // …and each container started only after its dependency was ready.
    expect(times[1]!.started).toBeGreaterThanOrEqual(times[0]!.ready);
    expect(times[2]!.started).toBeGreaterThanOrEqual(times[1]!.ready);
    console.log(times.map((t) => `${t.name}: container started ${new Date(t.started).toISOString()}, ready ${new Date(t.ready).toISOString()}`).join("\n"));
  });
});

describe("Docker's own lifecycle", () => {
  let um: UserManager;

  beforeAll(async () => {
    ensureTestImage();
    um = await new UserManager().start();
    docker(["rm", "-f", "dk-svc"]);
    um.writeDefinition("dk-svc.container", container("Exec=sleep 600", "", "RestartSec=1"));
    um.reload();
  });

  afterAll(async () => {
    await um?.stop();
    docker(["rm", "-f", "dk-svc"]);
  });

  it("units fail cleanly while dockerd is down and come back when it returns", async () => {
    expect(um.systemctl(["start", "dk-svc.service"]).status).toBe(0);
    // The engine behind the default socket, by its pid file: other engines may run beside it
    // (the multi-host test gives each booted host its own).
    const pid = readFileSync("/var/run/docker.pid", "utf8").trim();
    const cmdline = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
    process.kill(Number(pid), "SIGTERM");
    try {
      await waitFor("dockerd to exit", () => !existsSync(`/proc/${pid}`));
      await waitFor("the unit to notice", () => um.show("dk-svc.service", "ActiveState").ActiveState !== "active");
      // It keeps retrying without giving up (no start limit) while Docker is away.
      const restarts = Number(um.show("dk-svc.service", "NRestarts").NRestarts);
      await waitFor("two more restarts", () => Number(um.show("dk-svc.service", "NRestarts").NRestarts) >= restarts + 2);
      expect(um.show("dk-svc.service", "ActiveState").ActiveState).not.toBe("active");
    } finally {
      spawn(cmdline[0]!, cmdline.slice(1), { detached: true, stdio: "ignore" }).unref();
      await waitFor("dockerd to return", () => docker(["info"]).status === 0);
    }
    await waitFor("the service to come back", () => um.show("dk-svc.service", "ActiveState").ActiveState === "active" && inspect("dk-svc")?.State.Running);
    um.systemctl(["stop", "dk-svc.service"]);
  });
});
