import { spawn, type ChildProcess } from "node:child_process";
import { beforeEach } from "vitest";
import { repo } from "./run.js";
import { UserManager } from "./user-manager.js";
import { PATIENCE_MS, waitFor } from "./wait.js";

/** berthd --user running against a throwaway user manager, with its log lines collected. */
export class Agent {
  private proc?: ChildProcess;
  readonly lines: Array<{ level: number; msg: string; time: number }> = [];

  constructor(private readonly um: UserManager) {}

  start(): this {
    // Run the executable itself, so its interpreter line (and Node options) apply as in production.
    this.proc = spawn(`${repo}bin/berthd`, ["--user"], { env: { ...this.um.env, JOURNAL_STREAM: "" }, stdio: ["ignore", "pipe", "pipe"] });
    let buf = "";
    this.proc.stdout!.on("data", (d: Buffer) => {
      buf += d.toString();
      for (let nl = buf.indexOf("\n"); nl >= 0; nl = buf.indexOf("\n")) {
        const line = buf.slice(0, nl);
        buf = buf.slice(nl + 1);
        try {
          this.lines.push(JSON.parse(line) as { level: number; msg: string; time: number });
        } catch {
          this.lines.push({ level: 30, msg: line, time: Date.now() });
        }
      }
    });
    this.proc.stderr!.on("data", (d: Buffer) => this.lines.push({ level: 50, msg: d.toString(), time: Date.now() }));
    return this;
  }

  async waitForLog(pattern: RegExp, from = 0, ms = PATIENCE_MS): Promise<string> {
    return waitFor(`berthd to log ${pattern}`, () => this.lines.slice(from).find((l) => pattern.test(l.msg))?.msg, ms);
  }

  /**
   * Waits for the first reconcile that began after the log position `from` to finish, and returns
   * its summary. A reconcile already running at `from` read the definitions before, so it is not
   * the one that applies a change made after `from`.
   */
  async reconciled(from = 0, ms = PATIENCE_MS): Promise<string> {
    return waitFor(`berthd to finish a reconcile begun after line ${from}`, () => {
      const began = this.lines.findIndex((l, i) => i >= from && l.msg.startsWith("reconciling ("));
      return began < 0 ? undefined : this.lines.slice(began).find((l) => l.msg.startsWith("reconciled in"))?.msg;
    }, ms);
  }

  /** Waits until no reconcile is in progress (the last one logged has finished). */
  async idle(ms = PATIENCE_MS): Promise<void> {
    await waitFor("berthd to finish its reconcile", () => this.lines.filter((l) => /^reconcil(ing|ed in)/.test(l.msg)).at(-1)?.msg.startsWith("reconciled"), ms);
  }

  get pid(): number | undefined {
    return this.proc?.pid;
  }

  get mark(): number {
    return this.lines.length;
  }

  async stop(signal: NodeJS.Signals = "SIGTERM"): Promise<number | null> {
    const p = this.proc;
    if (!p || p.exitCode !== null) return p?.exitCode ?? null;
    const exited = new Promise<number | null>((r) => p.once("exit", (code) => r(code)));
    p.kill(signal);
    return exited;
  }
}

/** A fresh user manager with berthd running on it, after its first reconcile. */
export async function agentOnFreshManager(): Promise<{ um: UserManager; agent: Agent }> {
  const um = await new UserManager().start();
  const agent = new Agent(um).start();
  await agent.reconciled();
  return { um, agent };
}

/**
 * When a test fails, prints what berthd logged during it: a timeout alone says what was awaited,
 * not what berthd was doing instead. `get` is called late because tests replace their agent.
 */
export function printAgentLogOnFailure(get: () => Agent | undefined): void {
  beforeEach(({ onTestFailed }) => {
    const at = get();
    const from = at?.mark ?? 0;
    const t0 = Date.now();
    onTestFailed(() => {
      const now = get();
      // A test that started a new agent: all of the new one's lines.
      const lines = (now === at ? now?.lines.slice(from) : now?.lines) ?? [];
      console.error(`berthd's log during the test (ms since its start):\n${lines.map((l) => `${String(l.time - t0).padStart(7)} ${l.msg}`).join("\n")}`);
    });
  });
}
