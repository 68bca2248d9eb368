import { mkdirSync, openSync, readFileSync, rmSync, statSync, writeSync, closeSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Scope } from "../generator/search-path.js";

/**
 * Where the lock is: in the runtime directory, which a reboot empties, so a lock left by a killed
 * process never outlives the boot whose process IDs it names. BERTH_STATE_DIR (tests) keeps it
 * apart from the host's.
 */
export function reconcileLockPath(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_STATE_DIR) return join(env.BERTH_STATE_DIR, "reconcile.lock");
  const runtime = scope === "system" ? "/run" : env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`;
  return join(runtime, "berth", "reconcile.lock");
}

/** A process, told apart from a later one with the same ID by its start time (field 22 of stat). */
function processIdentity(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
    return `${pid} ${stat.slice(stat.lastIndexOf(")") + 2).split(" ")[19]}`;
  } catch {
    return undefined;
  }
}

/**
 * An empty lock is one whose holder has created it and not yet written its name, which takes it
 * microseconds: only one left empty this long was made by a process that died in between.
 */
const UNNAMED_HOLDER_MS = 10_000;

/** The holder is gone when no process with its ID and start time runs any more. */
function holderGone(path: string): boolean {
  let holder: string;
  try {
    holder = readFileSync(path, "utf8").trim();
    if (holder === "") return Date.now() - statSync(path).mtimeMs > UNNAMED_HOLDER_MS;
  } catch {
    return false;
  }
  const pid = Number(holder.split(" ")[0]);
  return !Number.isInteger(pid) || pid <= 0 || processIdentity(pid) !== holder;
}

/**
 * Runs `fn` as the only reconcile of its scope: berthd's (one per batch of changes) and
 * `berth apply`'s would otherwise both restart the same unit, and `berth apply` would return while
 * berthd's restart was still under way. Node has no flock(2), so the lock is a file created
 * exclusively that names its holder; a holder that died is recognised and its lock taken over.
 * (Two waiters that find the same holder dead at the same moment could both take it over; the
 * only contenders are berthd and the operator's `berth apply`, so that is left as it is.)
 */
export async function withReconcileLock<T>(path: string, fn: () => Promise<T>, onWait: () => void = () => undefined): Promise<T> {
  mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
  const me = processIdentity(process.pid) ?? String(process.pid);
  let waited = false;
  for (;;) {
    try {
      const fd = openSync(path, "wx", 0o644);
      try {
        writeSync(fd, `${me}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
    if (holderGone(path)) {
      rmSync(path, { force: true });
      continue;
    }
    if (!waited) onWait();
    waited = true;
    await new Promise((r) => setTimeout(r, 100));
  }
  try {
    return await fn();
  } finally {
    rmSync(path, { force: true });
  }
}
