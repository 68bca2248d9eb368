import dbus from "dbus-next";
import { EventEmitter } from "node:events";

const SYSTEMD = "org.freedesktop.systemd1";
const MANAGER_PATH = "/org/freedesktop/systemd1";
const MANAGER = "org.freedesktop.systemd1.Manager";
/** The system bus allows 128 pending replies per connection; stay well below. */
const MAX_IN_FLIGHT = 32;
const CALL_TIMEOUT_MS = 30_000;
export const JOB_WAIT_MINUTES = 10;
const JOB_WAIT_MS = JOB_WAIT_MINUTES * 60_000;

export type Scope = "system" | "user";

export interface JobResult {
  unit: string;
  result: "done" | "canceled" | "timeout" | "failed" | "dependency" | "skipped" | "lost" | "pending";
}

/** Unit names as systemd escapes them into object paths. */
export function unitPath(unit: string): string {
  return `/org/freedesktop/systemd1/unit/${unit.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16).padStart(2, "0")}`)}`;
}

/** What to check when a manager's bus cannot be reached at all. */
const BUS_HINT: Record<Scope, string> = {
  system: "is this host running systemd, with its system bus (dbus)? For your own manager, use --user",
  user: "is your user manager running, with its session bus (dbus-user-session) and DBUS_SESSION_BUS_ADDRESS?",
};

/** The manager's bus could not be reached: one line for the operator, not a stack trace. */
export class BusUnreachable extends Error {}

/**
 * systemd's Manager over D-Bus, through dbus-next with the guards it lacks: a timeout on every
 * call, a cap on calls in flight, one raw match rule per signal family, reconnection when the
 * bus goes away, and re-subscription when systemd re-executes (it gets a new unique name).
 * Job results are buffered by job path because JobRemoved often arrives before StartUnit's reply.
 */
export class SystemdClient extends EventEmitter {
  private bus: dbus.MessageBus | undefined;
  private connecting: Promise<dbus.MessageBus> | undefined;
  private inFlight = 0;
  private readonly queue: Array<() => void> = [];
  private readonly finished = new Map<string, JobResult>();
  /** Callers waiting for a job; two calls can get the same job back when systemd merges them. */
  private readonly waiting = new Map<string, Array<(r: JobResult) => void>>();
  private closed = false;
  /** Rejects when a connection ends: dbus-next leaves calls in flight on a dead bus unanswered. */
  private readonly ended = new WeakMap<dbus.MessageBus, Promise<never>>();

  constructor(private readonly scope: Scope) {
    super();
  }

  private async connect(): Promise<dbus.MessageBus> {
    if (this.bus) return this.bus;
    this.connecting ??= this.open().finally(() => (this.connecting = undefined));
    return this.connecting;
  }

  private async open(): Promise<dbus.MessageBus> {
    const bus = this.scope === "system" ? dbus.systemBus() : dbus.sessionBus();
    // A refused Hello or a socket error must never reach Node as an unhandled "error" event.
    bus.on("error", () => undefined);
    await new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        bus.disconnect();
        reject(new Error("D-Bus: no answer to Hello"));
      }, CALL_TIMEOUT_MS);
      bus.once("connect", () => (clearTimeout(timer), resolve()));
      bus.once("error", (e: Error) => (clearTimeout(timer), reject(e)));
    }).catch((e: Error) => {
      throw new BusUnreachable(`cannot reach the ${this.scope} manager over D-Bus (${e.message}): ${BUS_HINT[this.scope]}`);
    });
    let end!: (e: Error) => void;
    const ended = new Promise<never>((_, reject) => (end = reject));
    ended.catch(() => undefined);
    this.ended.set(bus, ended);
    const gone = (e: Error): void => {
      end(e);
      this.lost(bus, e);
    };
    bus.on("error", gone);
    const stream = (bus as unknown as { _connection?: { stream?: EventEmitter } })._connection?.stream;
    stream?.on("end", () => gone(new Error("D-Bus connection closed")));
    stream?.on("close", () => gone(new Error("D-Bus connection closed")));
    bus.on("message", (m: dbus.Message) => this.onMessage(m));
    try {
      await this.raw(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
        `type='signal',sender='${SYSTEMD}',interface='${MANAGER}',member='JobRemoved'`,
      ]);
      await this.raw(bus, "org.freedesktop.DBus", "/org/freedesktop/DBus", "org.freedesktop.DBus", "AddMatch", "s", [
        `type='signal',sender='org.freedesktop.DBus',member='NameOwnerChanged',arg0='${SYSTEMD}'`,
      ]);
      await this.raw(bus, SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe", "", []);
    } catch (e) {
      // Half set up is worse than not connected: without Subscribe no job result would arrive.
      bus.disconnect();
      throw e;
    }
    this.bus = bus;
    return bus;
  }

  private lost(bus: dbus.MessageBus, e: Error): void {
    if (this.bus !== bus) return;
    this.bus = undefined;
    try {
      bus.disconnect();
    } catch {
      // already gone
    }
    // Jobs in flight can no longer be followed; report them as lost so nobody waits forever.
    for (const resolvers of this.waiting.values()) for (const resolve of resolvers) resolve({ unit: "", result: "lost" });
    this.waiting.clear();
    // A new manager numbers its jobs from 1 again.
    this.finished.clear();
    if (!this.closed) this.emit("disconnected", e);
  }

  private onMessage(m: dbus.Message): void {
    if (m.type !== dbus.MessageType.SIGNAL) return;
    if (m.interface === MANAGER && m.member === "JobRemoved") {
      const [, job, unit, result] = m.body as [number, string, string, JobResult["result"]];
      const r = { unit, result };
      const resolvers = this.waiting.get(job);
      this.waiting.delete(job);
      for (const resolve of resolvers ?? []) resolve(r);
      // Kept for a caller whose StartUnit reply is still on its way; results nobody asks for
      // (other clients' jobs) must not pile up.
      this.finished.set(job, r);
      if (this.finished.size > 1000) this.finished.delete(this.finished.keys().next().value!);
      // Anyone's job, systemd's own automatic restarts included: a unit's state may have changed.
      this.emit("job", r);
    } else if (m.member === "NameOwnerChanged" && m.body[0] === SYSTEMD && m.body[2]) {
      // systemd re-executed (or rejoined the bus) under a new unique name. It usually carries its
      // subscribers over and answers AlreadySubscribed; if it lost them, this subscribes again.
      // Any other failure: start over with a new connection.
      const bus = this.bus;
      if (bus) {
        void this.raw(bus, SYSTEMD, MANAGER_PATH, MANAGER, "Subscribe", "", []).then(
          () => this.emit("reexecuted"),
          (e: Error & { type?: string }) => (e.type === "org.freedesktop.systemd1.AlreadySubscribed" ? this.emit("reexecuted") : this.lost(bus, e)),
        );
      }
    }
  }

  private async raw(bus: dbus.MessageBus, destination: string, path: string, iface: string, member: string, signature: string, body: unknown[], timeoutMs = CALL_TIMEOUT_MS): Promise<unknown[]> {
    if (this.inFlight >= MAX_IN_FLIGHT) await new Promise<void>((r) => this.queue.push(r));
    this.inFlight++;
    let timer: NodeJS.Timeout | undefined;
    try {
      const reply = await Promise.race([
        bus.call(new dbus.Message({ destination, path, interface: iface, member, signature, body })),
        this.ended.get(bus) ?? new Promise<never>(() => undefined),
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`D-Bus call ${member} timed out after ${timeoutMs / 1000}s`)), timeoutMs);
        }),
      ]);
      return reply?.body ?? [];
    } finally {
      clearTimeout(timer);
      this.inFlight--;
      this.queue.shift()?.();
    }
  }

  async call(member: string, signature = "", body: unknown[] = [], timeoutMs?: number): Promise<unknown[]> {
    return this.raw(await this.connect(), SYSTEMD, MANAGER_PATH, MANAGER, member, signature, body, timeoutMs);
  }

  async property(unit: string, iface: "Unit" | "Service", name: string): Promise<unknown> {
    const [variant] = await this.raw(await this.connect(), SYSTEMD, unitPath(unit), "org.freedesktop.DBus.Properties", "Get", "ss", [`org.freedesktop.systemd1.${iface}`, name]);
    return (variant as dbus.Variant).value;
  }

  async properties(unit: string, iface: "Unit" | "Service"): Promise<Record<string, unknown>> {
    const [all] = await this.raw(await this.connect(), SYSTEMD, unitPath(unit), "org.freedesktop.DBus.Properties", "GetAll", "s", [`org.freedesktop.systemd1.${iface}`]);
    return Object.fromEntries(Object.entries(all as Record<string, dbus.Variant>).map(([k, v]) => [k, v.value]));
  }

  /** daemon-reload; the reply comes only when it is complete, generators included. Emits "reloaded" with its duration. */
  async reload(): Promise<void> {
    const t0 = performance.now();
    await this.call("Reload", "", [], 120_000);
    this.emit("reloaded", performance.now() - t0);
  }

  /** Loads (if needed) and returns a unit's LoadState. */
  async loadState(unit: string): Promise<string> {
    await this.call("LoadUnit", "s", [unit]);
    return String(await this.property(unit, "Unit", "LoadState"));
  }

  /**
   * Queues a job and resolves with its result once systemd removes it, or with "pending" after
   * `waitMs`: a unit that keeps failing and restarting can hold its start job open, and one such
   * unit must not stall every later reconcile. `queued` runs once systemd has taken the job, with
   * every job of its transaction installed.
   */
  async job(
    method: "StartUnit" | "StopUnit" | "RestartUnit" | "TryRestartUnit" | "ReloadUnit",
    unit: string,
    options: { waitMs?: number; mode?: "replace" | "ignore-dependencies"; queued?: () => void } = {},
  ): Promise<JobResult> {
    const [job] = (await this.call(method, "ss", [unit, options.mode ?? "replace"])) as [string];
    options.queued?.();
    return this.jobResult(job, unit, options.waitMs);
  }

  /** The job systemd has queued or running for a unit, if any: one another unit's transaction made. */
  async unitJob(unit: string): Promise<string | undefined> {
    const [id, path] = (await this.property(unit, "Unit", "Job")) as [number, string];
    return id === 0 ? undefined : path;
  }

  /** Resolves with a job's result once systemd removes it, or with "pending" after `waitMs`. */
  jobResult(job: string, unit: string, waitMs = JOB_WAIT_MS): Promise<JobResult> {
    const early = this.finished.get(job);
    if (early) return Promise.resolve(early);
    return new Promise((resolve) => {
      const done = (r: JobResult): void => {
        clearTimeout(timer);
        resolve(r);
      };
      const timer = setTimeout(() => {
        const rest = (this.waiting.get(job) ?? []).filter((w) => w !== done);
        if (rest.length > 0) this.waiting.set(job, rest);
        else this.waiting.delete(job);
        resolve({ unit, result: "pending" });
      }, waitMs);
      this.waiting.set(job, [...(this.waiting.get(job) ?? []), done]);
    });
  }

  async resetFailed(unit: string): Promise<void> {
    await this.call("ResetFailedUnit", "s", [unit]).catch(() => undefined);
  }

  close(): void {
    this.closed = true;
    const bus = this.bus;
    this.bus = undefined;
    bus?.disconnect();
  }
}
