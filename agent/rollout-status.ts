import type { Progress } from "./reconcile.js";

/** Where a rollout stands, as `berth status` and `berth apply` show it while it runs. */
export interface RolloutStatus {
  at: string;
  pulls: Record<string, { current: number; total: number; done: boolean }>;
  level?: { index: number; of: number; units: string[] } | undefined;
  units: Record<string, "active" | "failed" | "reverted" | "skipped">;
}

export const emptyRollout = (at: string): RolloutStatus => ({ at, pulls: {}, units: {} });

/** The rollout with one more piece of progress. */
export function withProgress(r: RolloutStatus, p: Progress): RolloutStatus {
  if (p.kind === "pull") return { ...r, pulls: { ...r.pulls, [p.image]: { current: p.current, total: p.total, done: p.done } } };
  if (p.kind === "level") return { ...r, level: { index: p.index, of: p.of, units: p.units } };
  return { ...r, units: { ...r.units, [p.unit]: p.state } };
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);

/** One line per pull still running and for the level in progress: "pulling X: 1.0 of 4.2 MiB". */
export function describeRollout(r: RolloutStatus): string[] {
  const lines: string[] = [];
  for (const [image, pull] of Object.entries(r.pulls)) {
    if (!pull.done) lines.push(`pulling ${image}: ${mib(pull.current)} of ${mib(pull.total)} MiB`);
  }
  if (r.level) {
    const states = r.level.units.map((u) => `${u}${r.units[u] ? ` ${r.units[u]}` : ""}`);
    lines.push(`level ${r.level.index + 1} of ${r.level.of}: ${states.join(", ")}`);
  }
  return lines;
}
