import { readFileSync } from "node:fs";
import { join } from "node:path";
import { writeAtomically } from "../runtime/config-files.js";

/**
 * Units that a restart of a unit they need stopped along with it, while that restart has not
 * succeeded (unit → that unit): berthd starts them once it is up (Plan.carried). Kept in a file of
 * its own beside berthd's status, written under the reconcile lock, since `berth apply` reconciles
 * as well as berthd, and both may be stopped in the middle of a restart.
 */
const file = (stateDir: string) => join(stateDir, "stopped-by.json");

export function readStoppedBy(stateDir: string): Map<string, string> {
  try {
    const saved: unknown = JSON.parse(readFileSync(file(stateDir), "utf8"));
    const entries = saved && typeof saved === "object" && !Array.isArray(saved) ? Object.entries(saved) : [];
    return new Map(entries.filter((e): e is [string, string] => typeof e[1] === "string"));
  } catch {
    return new Map();
  }
}

export function writeStoppedBy(stateDir: string, stoppedBy: ReadonlyMap<string, string>): void {
  writeAtomically(file(stateDir), JSON.stringify(Object.fromEntries(stoppedBy)) + "\n", { mode: 0o644 });
}
