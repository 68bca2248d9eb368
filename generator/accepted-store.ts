import { chmodSync, closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { checkRecord } from "./accepted-record.js";
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

/** Told about a record that is ignored: its file, and what is wrong with it. */
export type RecordWarning = (file: string, problem: string) => void;

/** The record of a definition, if there is one and it is sound; a damaged one is ignored, with a warning. */
export function readAccepted(dir: string, base: string, warn: RecordWarning): AcceptedUnit | undefined {
  const file = path(dir, base);
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(file, "utf8"));
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") warn(file, `ignored: ${(e as Error).message}`);
    return undefined;
  }
  const record = checkRecord(value, base);
  if (typeof record === "string") warn(file, `ignored: ${record}`);
  return typeof record === "string" ? undefined : record;
}

/** Every sound record, by definition base name. */
export function readAllAccepted(dir: string, warn: RecordWarning): Map<string, AcceptedUnit> {
  const out = new Map<string, AcceptedUnit>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".json"));
  } catch (e) {
    // Missing: nothing accepted yet. Unreadable (0700, and not run as root): every unit would
    // look new, so say why.
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") warn(dir, `cannot read the last accepted versions: ${(e as Error).message}`);
    return out;
  }
  for (const n of names) {
    const base = n.slice(0, -".json".length);
    const r = readAccepted(dir, base, warn);
    if (r) out.set(base, r);
  }
  return out;
}

/** Records hold unit text, `Environment=` values included: root's alone, as the definitions are. */
export function writeAccepted(dir: string, unit: GeneratedUnit, options: { pending?: boolean; now?: Date } = {}): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A directory made by an older berth was 0755.
  chmodSync(dir, 0o700);
  const record: AcceptedUnit = { ...unit, acceptedFrom: undefined, acceptedAt: (options.now ?? new Date()).toISOString(), ...(options.pending ? { pending: true as const } : {}) };
  const at = path(dir, unit.base);
  // Flushed before the rename: after a power cut a record is either the old one or the new one.
  const fd = openSync(`${at}.tmp`, "w", 0o600);
  try {
    // A temporary file left by a crash keeps its old mode when opened again.
    fchmodSync(fd, 0o600);
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
