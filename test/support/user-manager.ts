import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmdirSync, rmSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { repo } from "./run.js";
import { waitFor } from "./wait.js";

const USER_BUS_SOCKET = "/usr/lib/systemd/user/dbus.socket";
const CGROUP_ROOTS = ["/sys/fs/cgroup/systemd", "/sys/fs/cgroup/unified"].filter((p) => existsSync(p));

/**
 * A throwaway `systemd --user` manager on its own session bus and in its own cgroup subtree, with
 * berth's generator installed and BERTH_UNIT_DIRS pointing at `defs`. Everything it does is real
 * systemd: generators on daemon-reload, jobs, ExecStart argv over D-Bus.
 */
export class UserManager {
  readonly root: string;
  readonly runtime: string;
  readonly defs: string;
  readonly bus: string;
  readonly state: string;
  private manager?: ChildProcess;
  private dbusPid?: number;
  private readonly id: string;

  /**
   * `parent` holds the manager's files and its runtime directory: tmpfs, as /run is on a real
   * host, since the generator writes there on every reload.
   */
  constructor(private readonly extraEnv: Record<string, string> = {}, parent = "/dev/shm") {
    this.root = mkdtempSync(join(parent, "berth-um-"));
    this.id = this.root.slice(this.root.lastIndexOf("-") + 1);
    this.runtime = join(this.root, "runtime");
    this.defs = join(this.root, "defs");
    this.bus = `unix:path=${join(this.runtime, "bus")}`;
    this.state = join(this.root, "state");
  }

  get env(): NodeJS.ProcessEnv {
    return {
      ...process.env, XDG_RUNTIME_DIR: this.runtime, DBUS_SESSION_BUS_ADDRESS: this.bus, BERTH_UNIT_DIRS: this.defs,
      BERTH_STATE_DIR: this.state, ...this.extraEnv,
    };
  }

  get generatorRunsFile(): string {
    return join(this.root, "generator-runs");
  }

  /** How many times systemd has run the generator, i.e. how many daemon-reloads there were. */
  generatorRuns(): number {
    return existsSync(this.generatorRunsFile) ? readFileSync(this.generatorRunsFile, "utf8").split("\n").filter(Boolean).length : 0;
  }

  get generatorDir(): string {
    return join(this.runtime, "systemd/generator");
  }

  async start(): Promise<this> {
    mkdirSync(this.runtime, { recursive: true, mode: 0o700 });
    mkdirSync(this.defs, { recursive: true });
    mkdirSync("/run/systemd/system", { recursive: true });
    const gens = join(this.root, "generators");
    mkdirSync(gens);
    // A wrapper that counts runs: each daemon-reload runs the generator exactly once.
    writeFileSync(join(gens, "berth-generator"), `#!/bin/sh\necho run >> ${this.generatorRunsFile}\nexec ${join(repo, "bin/berth-generator")} "$@"\n`, { mode: 0o755 });
    // As on a host with dbus-user-session, the manager's own dbus.socket provides the session bus
    // at $XDG_RUNTIME_DIR/bus, and systemd joins it once dbus.service runs. Without that package,
    // a bus of our own, started before the manager so that it finds it.
    if (!existsSync(USER_BUS_SOCKET)) this.startBus();
    const cgroups = CGROUP_ROOTS.map((r) => join(r, `berth-test-${this.id}`));
    for (const c of cgroups) mkdirSync(c, { recursive: true });
    // Move the shell into the new subtree, then become the manager, so its cgroup paths are its own.
    const script = cgroups.map((c) => `echo $$ > ${c}/cgroup.procs`).join("; ") + "; exec systemd --user";
    this.manager = spawn("sh", ["-c", script], {
      env: { ...this.env, SYSTEMD_GENERATOR_PATH: gens },
      stdio: ["ignore", "ignore", "pipe"],
    });
    let log = "";
    this.manager.stderr?.on("data", (d: Buffer) => (log += d.toString()));
    await this.answering().catch(() => {
      throw new Error(`user manager did not start: ${log}`);
    });
    return this;
  }

  /** Waits for the manager to answer (systemctl falls back to its private socket). */
  private async answering(): Promise<void> {
    await waitFor("the user manager to answer", () => ["running", "degraded"].includes(this.systemctl(["is-system-running"]).stdout.trim()));
  }

  private startBus(): void {
    const dbus = spawnSync("dbus-daemon", ["--session", `--address=${this.bus}`, "--fork", "--print-pid"], { encoding: "utf8" });
    if (dbus.status !== 0) throw new Error(`dbus-daemon: ${dbus.stderr}`);
    this.dbusPid = Number(dbus.stdout.trim());
  }

  /**
   * The session bus crashes: the manager's own dbus.service (socket-activated from dbus.socket on
   * the bus address, as dbus-user-session sets it up) is killed with SIGKILL. Every client loses
   * its connection, match rules and subscription; the next connection starts a new bus, and
   * systemd joins it once dbus.service is back.
   */
  async crashBus(): Promise<void> {
    const pid = Number(this.show("dbus.service", "MainPID").MainPID);
    if (!pid) throw new Error("this user manager runs no dbus.service (is dbus-user-session installed?)");
    process.kill(pid, "SIGKILL");
    await waitFor("the bus to die", () => !existsSync(`/proc/${pid}`));
    await this.answering();
  }

  systemctl(args: string[]): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("systemctl", ["--user", ...args], { env: this.env, encoding: "utf8" });
    return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
  }

  /** A unit property read over D-Bus, decoded from busctl's JSON. */
  property(unit: string, iface: string, name: string): unknown {
    const path = `/org/freedesktop/systemd1/unit/${unit.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}`;
    const r = spawnSync("busctl", ["--user", "--json=short", "get-property", "org.freedesktop.systemd1", path, `org.freedesktop.systemd1.${iface}`, name], { env: this.env, encoding: "utf8" });
    if (r.status !== 0) throw new Error(`busctl: ${r.stderr}`);
    return (JSON.parse(r.stdout) as { data: unknown }).data;
  }

  /** The argv of each command of an Exec*= property, as systemd will pass it. */
  execArgv(unit: string, property: string): string[][] {
    return (this.property(unit, "Service", property) as Array<[string, string[]]>).map(([, argv]) => argv);
  }

  /** Unit properties as `systemctl show` prints them. */
  show(unit: string, ...props: string[]): Record<string, string> {
    const out: Record<string, string> = {};
    for (const line of this.systemctl(["show", unit, ...props.map((p) => `--property=${p}`)]).stdout.split("\n")) {
      const eq = line.indexOf("=");
      if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
    }
    return out;
  }

  /**
   * The unit's journal. journald attributes a throwaway manager's output by cgroup (it is not
   * under user@.service), so match on the unit's cgroup, which is what `journalctl -u` means.
   */
  journal(unit: string): Array<{ MESSAGE: string; SYSLOG_IDENTIFIER?: string; PRIORITY?: string }> {
    const r = spawnSync("journalctl", ["-o", "json", "--no-pager", `_SYSTEMD_CGROUP=/berth-test-${this.id}/app.slice/${unit}`], { encoding: "utf8" });
    return r.stdout.split("\n").filter(Boolean).map((l) => JSON.parse(l) as { MESSAGE: string });
  }

  /** Writes a definition the way configuration tools do: a temporary file renamed into place. */
  writeDefinition(name: string, text: string): void {
    const at = join(this.defs, name);
    mkdirSync(dirname(at), { recursive: true });
    const tmp = join(dirname(at), `.tmp-${process.pid}-${name}`);
    writeFileSync(tmp, text);
    renameSync(tmp, at);
  }

  reload(): void {
    const r = this.systemctl(["daemon-reload"]);
    if (r.status !== 0) throw new Error(`daemon-reload: ${r.stderr}`);
  }

  async stop(): Promise<void> {
    if (this.manager && this.manager.exitCode === null) {
      const exited = new Promise((r) => this.manager!.once("exit", r));
      this.manager.kill("SIGTERM");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 15_000))]);
      if (this.manager.exitCode === null) this.manager.kill("SIGKILL");
    }
    if (this.dbusPid) {
      try {
        process.kill(this.dbusPid);
      } catch {
        // already gone
      }
    }
    for (const r of CGROUP_ROOTS) removeCgroup(join(r, `berth-test-${this.id}`));
    rmSync(this.root, { recursive: true, force: true });
  }
}

function removeCgroup(dir: string): void {
  if (!existsSync(dir)) return;
  for (const ent of readdirSync(dir, { withFileTypes: true })) if (ent.isDirectory()) removeCgroup(join(dir, ent.name));
  for (let i = 0; i < 50; i++) {
    try {
      rmdirSync(dir);
      return;
    } catch {
      const procs = readFileSync(join(dir, "cgroup.procs"), "utf8").trim();
      if (procs) for (const pid of procs.split("\n")) try { process.kill(Number(pid), "SIGKILL"); } catch { /* gone */ }
      spawnSync("sleep", ["0.1"]);
    }
  }
}
