import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { repo } from "./support/run.js";
import { waitFor } from "./support/wait.js";

const step = `${repo}dist/berth-step`;
const helper = (...args: string[]) => spawnSync(process.execPath, [`${repo}dist/berth-container.js`, ...args], { encoding: "utf8" });
const id = (name: string) => docker(["inspect", "-f", "{{.Id}}", name]).stdout.trim();
/** The shortest start of `id` that Docker resolves to it alone and that no container has as its name. */
function unusedPrefix(full: string): string {
  for (let n = 2; n < full.length; n++) {
    const prefix = full.slice(0, n);
    if (docker(["container", "inspect", "-f", "{{.Id}}", prefix]).stdout.trim() === full) return prefix;
  }
  throw new Error(`no unique prefix of ${full}`);
}
const createArgv = (spec: string) => ["/usr/bin/docker", "create", "--name", "hx", "--label", `io.berth.spec=${spec}`, "--network", "none", TEST_IMAGE, "sleep", "600"];

describe("berth-container create (after Docker refused the unit's run) against real Docker", () => {
  beforeAll(() => {
    ensureTestImage();
    docker(["rm", "-f", "hx", "hx-b"]);
  });
  afterAll(() => void docker(["rm", "-f", "hx", "hx-b"]));

  it("replaces a stopped leftover, keeps a running container with the same spec, replaces one with another", () => {
    expect(helper("create", "hx", "--", ...createArgv("aaaa")).status).toBe(0);
    const created = id("hx");
    const replaced = helper("create", "hx", "--", ...createArgv("aaaa"));
    expect(replaced.status).toBe(0);
    expect(replaced.stdout).toContain("removed a leftover container hx (created)");
    expect(id("hx")).not.toBe(created); // not running: a leftover, replaced

    docker(["start", "hx"]);
    const running = id("hx");
    const kept = helper("create", "hx", "--", ...createArgv("aaaa"));
    expect(kept.stdout).toContain("already running with this definition; keeping it");
    expect(id("hx")).toBe(running);

    expect(helper("create", "hx", "--", ...createArgv("bbbb")).status).toBe(0);
    expect(id("hx")).not.toBe(running);
    expect(docker(["inspect", "-f", "{{.State.Running}}", "hx"]).stdout.trim()).toBe("false");
  });

  it("never removes another container whose ID starts with an all-hex name that has no container (db, cafe)", () => {
    const victim = docker(["create", "--network", "none", TEST_IMAGE, "true"]).stdout.trim();
    const name = unusedPrefix(victim);
    try {
      const argv = ["/usr/bin/docker", "create", "--name", name, "--label", "io.berth.spec=aaaa", "--network", "none", TEST_IMAGE, "true"];
      const r = helper("create", name, "--", ...argv);
      expect([r.status, r.stdout]).toEqual([0, ""]);
      expect(id(victim)).toBe(victim);
      const removed = spawnSync(step, ["remove", "/usr/bin/docker", name], { encoding: "utf8" });
      expect([removed.status, removed.stderr]).toEqual([0, ""]);
      // (docker inspect NAME would now find the victim, by its ID's start.)
      expect(docker(["ps", "-aq", "--filter", `name=^/${name}$`]).stdout).toBe("");
      // Gone already: the removal after a stop finds nothing of its own, and leaves the victim be.
      const again = spawnSync(step, ["remove", "/usr/bin/docker", name], { encoding: "utf8" });
      expect([again.status, again.stderr]).toEqual([0, ""]);
      expect(id(victim)).toBe(victim);
    } finally {
      docker(["rm", "-f", victim, name]);
    }
  });

  it("passes docker create's failure on", () => {
    const r = helper("create", "hx", "--", "/usr/bin/docker", "create", "--name", "hx", "--no-such-flag", TEST_IMAGE);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown flag/);
  });

});

describe("berth-step's readiness and removal against real Docker", () => {
  beforeAll(() => {
    ensureTestImage();
    docker(["rm", "-f", "hx", "hx-b"]);
  });
  afterAll(() => void docker(["rm", "-f", "hx", "hx-b"]));

  /** The unit's main process: the container, run attached as berth-step runs it. */
  const main = (health: string, script: string, spec = "aaaa", interval = "200ms") =>
    spawn("/usr/bin/docker", ["run", "--name", "hx", "--init", "--label", `io.berth.spec=${spec}`, "--network", "none", ...(health ? ["--health-cmd", health, "--health-interval", interval, "--health-retries", "100"] : []), TEST_IMAGE, "sh", "-c", script], { stdio: "ignore" });
  const healthy = (pid: number | undefined, spec = "aaaa", options: string[] = []) =>
    new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve) => {
      // No writable temporary directory, as in a unit with ProtectSystem=strict: the wait needs none.
      const p = spawn(step, ["healthy", "/usr/bin/docker", "hx", spec, ...options], { env: { ...process.env, MAINPID: String(pid), TMPDIR: "/proc/nowhere" } });
      let stdout = "";
      let stderr = "";
      p.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
      p.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
      p.on("close", (status) => resolve({ status, stdout, stderr }));
    });
  const ended = (p: ChildProcess) => new Promise((resolve) => (p.exitCode !== null || p.signalCode !== null ? resolve(p.exitCode) : p.on("exit", resolve)));

  it("healthy returns once the health check passes, and at once for a container that already passed it", async () => {
    const run = main("test -f /ok", "sleep 1; touch /ok; exec sleep 600");
    const r = await healthy(run.pid);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^hx is running; waiting for its health check\nhx is healthy \(\d+\.\ds\)\n$/);
    expect(docker(["inspect", "-f", "{{.State.Health.Status}}", "hx"]).stdout.trim()).toBe("healthy");
    const again = await healthy(run.pid);
    expect(again.status).toBe(0);
    docker(["rm", "-f", "hx"]);
    await ended(run);
  });

  it("healthy --probe is ready once the check passes in the container, without waiting for Docker's next HealthInterval", async () => {
    // Docker itself would not look for an hour.
    const run = main("test -f /ok", "sleep 1; touch /ok; exec sleep 600", "aaaa", "1h");
    const r = await healthy(run.pid, "aaaa", ["--probe", "30", "test -f /ok"]);
    expect([r.status, r.stderr]).toEqual([0, ""]);
    expect(r.stdout).toMatch(/^hx is running; waiting for its health check\nhx is healthy \(\d+\.\ds\)\n$/);
    expect(docker(["inspect", "-f", "{{.State.Health.Status}}", "hx"]).stdout.trim()).toBe("starting");
    docker(["rm", "-f", "hx"]);
    await ended(run);
  });

  it("healthy takes no other container for this one: not one whose name starts with it, even of this spec", async () => {
    docker(["rm", "-f", "hx-b"]);
    const mainProcess = spawn("sleep", ["600"]);
    const waiting = healthy(mainProcess.pid, "aaaa", ["--probe", "30", "true"]);
    // Docker's `container=hx` filter also matches hx-b, which starts, turns healthy and dies with
    // this very spec. hx itself never runs: the main process ends without it.
    const other = spawn("/usr/bin/docker", ["run", "--name", "hx-b", "--label", "io.berth.spec=aaaa", "--network", "none", "--health-cmd", "true", "--health-interval", "200ms", TEST_IMAGE, "sleep", "600"], { stdio: "ignore" });
    await waitFor("hx-b to be healthy", () => docker(["inspect", "-f", "{{.State.Health.Status}}", "hx-b"]).stdout.trim() === "healthy");
    docker(["rm", "-f", "hx-b"]);
    await ended(other);
    mainProcess.kill();
    const r = await waiting;
    expect([r.status, r.stdout, r.stderr]).toEqual([1, "", "hx ended before it was ready\n"]);
  });

  it("healthy --probe fails once the main process has ended, even when the check passes or hangs", async () => {
    // Docker's own check fails and would not run again for an hour.
    const run = main("exit 1", "exec sleep 600", "aaaa", "1h");
    await waitFor("the container to run", () => docker(["inspect", "-f", "{{.State.Running}}", "hx"]).stdout.trim() === "true");
    const gone = spawn("true");
    await ended(gone);
    const passes = await healthy(gone.pid, "aaaa", ["--probe", "30", "true"]);
    expect([passes.status, passes.stderr]).toEqual([1, "hx ended before it was ready\n"]);
    const mainProcess = spawn("sleep", ["600"]);
    const hangs = healthy(mainProcess.pid, "aaaa", ["--probe", "30", "sleep 1000"]);
    await waitFor("the check to run", () => /sleep 1000/.test(docker(["top", "hx"]).stdout));
    mainProcess.kill();
    const r = await hangs;
    expect([r.status, r.stderr]).toEqual([1, "hx ended before it was ready\n"]);
    docker(["rm", "-f", "hx"]);
    await ended(run);
  });

  it("healthy fails when the container exits first, naming its status, and when the main process ends without it", async () => {
    const run = main("false", "sleep 1; exit 3");
    const r = await healthy(run.pid);
    expect(r.status).toBe(1);
    expect(r.stderr).toContain("hx exited with status 3 before it was ready");
    await ended(run);
    docker(["rm", "-f", "hx"]);
    const gone = await healthy(run.pid);
    expect([gone.status, gone.stderr]).toEqual([1, "hx ended before it was ready\n"]);
  });

  it("healthy ignores a container of another spec (a leftover), and refuses one without a health check", async () => {
    const leftover = main("true", "exec sleep 600", "old");
    await waitFor("the leftover to be healthy", () => docker(["inspect", "-f", "{{.State.Health.Status}}", "hx"]).stdout.trim() === "healthy");
    const leftoverId = docker(["inspect", "-f", "{{.Id}}", "hx"]).stdout.trim();
    const since = String(Date.now() / 1000);
    // The unit's main process outlives the leftover here: it is what will run this spec's container.
    // Its probe would pass in the leftover too, and must never run there.
    const waiting = healthy(process.pid, "aaaa", ["--probe", "30", "true berth-probe"]);
    // The leftover is removed (its die event is not this container's), and this spec's container runs.
    docker(["rm", "-f", "hx"]);
    await ended(leftover);
    const run = main("true", "exec sleep 600");
    const r = await waiting;
    expect([r.status, r.stderr]).toEqual([0, ""]);
    // Docker's own health checks of the leftover are exec_create events too; the probe's are marked.
    const execs = docker(["events", "--since", since, "--until", String(Date.now() / 1000), "--filter", `container=${leftoverId}`, "--filter", "event=exec_create", "--format", "{{.Action}}"]);
    expect(execs.status).toBe(0);
    expect(execs.stdout).not.toContain("berth-probe");
    docker(["rm", "-f", "hx"]);
    await ended(run);
    const bare = main("", "exec sleep 600");
    await waitFor("the container to run", () => docker(["inspect", "-f", "{{.State.Running}}", "hx"]).stdout.trim() === "true");
    const none = await healthy(bare.pid);
    expect([none.status, none.stderr]).toEqual([1, "hx has no health check to wait for\n"]);
    docker(["rm", "-f", "hx"]);
    await ended(bare);
  });

  it("remove removes the container, and is quiet when there is nothing to remove", () => {
    docker(["create", "--name", "hx", "--network", "none", TEST_IMAGE, "true"]);
    const removed = spawnSync(step, ["remove", "/usr/bin/docker", "hx"], { encoding: "utf8" });
    expect([removed.status, removed.stdout, removed.stderr]).toEqual([0, "", ""]);
    expect(docker(["inspect", "hx"]).status).not.toBe(0);
    const r = spawnSync(step, ["remove", "/usr/bin/docker", "hx"], { encoding: "utf8" });
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
  });
});
