import { closeSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import type { Scope } from "./search-path.js";
import type { GeneratedUnit } from "./generated-unit.js";

/**
 * The last accepted version of each definition, as the unit it produced. berthd (or `berth
 * apply`) records a definition here once it is valid; when a later edit is invalid, the generator
 * writes the recorded unit instead, so a typo never changes what runs, not on daemon-reload and
 * not after a reboot.
 */
export interface AcceptedUnit extends GeneratedUnit {
  acceptedAt: string;
  /** Written before its start or restart job, cleared once the job ended "done". */
  pending?: true;
}

export function stateDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  if (env.BERTH_STATE_DIR) return env.BERTH_STATE_DIR;
  if (scope === "system") return "/var/lib/berth";
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local/state"), "berth");
}

/**
 * Where the records are kept. In system scope that is under /etc, not /var/lib: the generator
 * reads them at boot, and systemd runs generators before a separate /var is mounted
 * (systemd.generator(7)). The directory starts with a dot, so no walk takes it for definitions.
 */
export function acceptedDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  if (scope === "system" && !env.BERTH_STATE_DIR) return "/etc/berth/.accepted";
  return join(stateDir(scope, env), "accepted");
}

const path = (dir: string, base: string) => join(dir, `${base}.json`);

export function readAccepted(dir: string, base: string): AcceptedUnit | undefined {
  try {
    return JSON.parse(readFileSync(path(dir, base), "utf8")) as AcceptedUnit;
  } catch {
    return undefined;
  }
}

export function writeAccepted(dir: string, unit: GeneratedUnit, options: { pending?: boolean; now?: Date } = {}): void {
  mkdirSync(dir, { recursive: true });
  const record: AcceptedUnit = { ...unit, acceptedFrom: undefined, acceptedAt: (options.now ?? new Date()).toISOString(), ...(options.pending ? { pending: true as const } : {}) };
  const at = path(dir, unit.base);
  // Flushed before the rename: after a power cut a record is either the old one or the new one.
  const fd = openSync(`${at}.tmp`, "w");
  try {
    writeSync(fd, JSON.stringify(record) + "\n");
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${at}.tmp`, at);
}

/** A deleted definition is a deliberate removal: forget it. */
export function forgetAccepted(dir: string, base: string): void {
  rmSync(path(dir, base), { force: true });
}
