import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Diagnostic } from "../generator/diagnostics.js";
import { writeAtomically } from "../runtime/config-files.js";
import type { Failure } from "./reconcile.js";
import type { RolloutStatus } from "./rollout-status.js";

/** What berthd last found, for `berth status`: errors by definition file, failures by unit. */
export interface AgentStatus {
  at: string;
  diagnostics: Diagnostic[];
  failures: Failure[];
  /** Container events worth an operator's eye (died, out of memory, unhealthy), by unit. */
  events: Record<string, { at: string; event: string }>;
  /** Deleted definitions' units still in their grace period: when each was first seen missing. */
  missingSince?: Record<string, number>;
  /** The rollout in progress (pulls, the level being started), while a reconcile runs one. */
  rollout?: RolloutStatus | undefined;
  /** berthd's latest reconciles that acted, oldest first, for `berth apply --since`. */
  actions?: Actions[];
}

/** What one reconcile did, and when it began (ms since the epoch). */
export interface Actions {
  startedAt: number;
  started: string[];
  restarted: string[];
  stopped: string[];
}

/** Enough for the reconciles of one configuration run, however many files it changes. */
export const ACTIONS_KEPT = 200;

/** Appends a reconcile's actions to the history, if it did anything, keeping the latest ones. */
export function withActions(history: readonly Actions[] | undefined, a: Actions): Actions[] {
  const kept = Array.isArray(history) ? history : [];
  if (a.started.length + a.restarted.length + a.stopped.length === 0) return [...kept];
  return [...kept, a].slice(-ACTIONS_KEPT);
}

/** The units started, restarted and stopped by the reconciles that began at `since` or later. */
export function actionsSince(history: readonly Actions[] | undefined, since: number): Omit<Actions, "startedAt"> {
  const out = { started: new Set<string>(), restarted: new Set<string>(), stopped: new Set<string>() };
  for (const a of Array.isArray(history) ? history : []) {
    if (!(a.startedAt >= since)) continue;
    for (const kind of ["started", "restarted", "stopped"] as const) for (const u of Array.isArray(a[kind]) ? a[kind] : []) out[kind].add(u);
  }
  return { started: [...out.started], restarted: [...out.restarted], stopped: [...out.stopped] };
}

const file = (stateDir: string) => join(stateDir, "status.json");

export function writeStatus(stateDir: string, status: AgentStatus): void {
  // The state directory keeps its usual mode; `berth status` reads the file as any user.
  mkdirSync(stateDir, { recursive: true });
  writeAtomically(file(stateDir), JSON.stringify(status, null, 1), { mode: 0o644, makeDir: false });
}

export function readStatus(stateDir: string): AgentStatus | undefined {
  try {
    return JSON.parse(readFileSync(file(stateDir), "utf8")) as AgentStatus;
  } catch {
    return undefined;
  }
}

/**
 * berthd's clock for deleted definitions, from its status file (readStatus). Only times are kept: anything
 * else would make a deletion look settled (NaN) and stop its unit at once.
 */
export function missingSinceOf(status: AgentStatus | undefined): Map<string, number> {
  const saved = status?.missingSince;
  const entries = saved && typeof saved === "object" ? Object.entries(saved) : [];
  return new Map(entries.filter((e): e is [string, number] => Number.isFinite(e[1])));
}
