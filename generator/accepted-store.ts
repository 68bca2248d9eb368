import { chmodSync, closeSync, fchmodSync, fsyncSync, mkdirSync, openSync, readdirSync, readFileSync, renameSync, rmSync, writeSync } from "node:fs";
import { homedir } from "node:os";
import { join } from "node:path";
import { checkRecord, legacyLinks } from "./accepted-record.js";
import { noteFile } from "./observed-fs.js";
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
  /**
   * While pending: the version it replaces, which had ended "done" (and so was healthy, where it
   * has a health check). RevertOnFailure= goes back to it.
   */
  previous?: AcceptedUnit;
}

export function stateDir(scope: Scope, env: NodeJS.ProcessEnv): string {
  if (env.BERTH_STATE_DIR) return env.BERTH_STATE_DIR;
  if (scope === "system") return "/var/lib/berth";
  return join(env.XDG_STATE_HOME || join(env.HOME || homedir(), ".local/state"), "berth");
}

/**
 * Where the records are kept. In system scope that is under /etc, not /var/lib: the generator
 * reads them at boot, and systemd runs generators before a separate /var is mounted
 * (systemd.generator(7)). The directory starts with a dot, so no walk takes it for definitions.
 */
export function acceptedDir(scope: Scope, env: NodeJS.ProcessEnv): string {
  if (scope === "system" && !env.BERTH_STATE_DIR) return "/etc/berth/.accepted";
  return join(stateDir(scope, env), "accepted");
}

/** A definition's record in the directory of records. */
export const recordFile = (dir: string, base: string) => join(dir, `${base}.json`);

/** Told about a record that is ignored: its file, and what is wrong with it. */
export type RecordWarning = (file: string, problem: string) => void;

/** The record of a definition, if there is one and it is sound; a damaged one is ignored, with a warning. */
export function readAccepted(dir: string, base: string, warn: RecordWarning): AcceptedUnit | undefined {
  const file = recordFile(dir, base);
  let value: unknown;
  noteFile(file);
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
    names = readdirSync(dir).filter((n) => n.endsWith(".json") && n !== REJECTED_FILE);
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
export function writeAccepted(dir: string, unit: GeneratedUnit | AcceptedUnit, options: { pending?: boolean; now?: Date; previous?: AcceptedUnit | undefined } = {}): void {
  const record: AcceptedUnit = {
    ...unit, acceptedFrom: undefined, rejected: undefined, acceptedAt: (options.now ?? new Date()).toISOString(), pending: undefined, previous: undefined,
    ...(options.pending ? { pending: true as const, previous: options.previous && { ...options.previous, previous: undefined } } : {}),
  };
  writeRecord(dir, record);
}

/**
 * The record to keep while `unit` is being applied: it replaces `current`, which is kept as its
 * `previous` if it had been applied ("done"), or passed on if it was itself still pending.
 */
export function previousVersion(current: AcceptedUnit | undefined, unit: GeneratedUnit): AcceptedUnit | undefined {
  if (!current) return undefined;
  if (current.pending) return current.previous;
  return current.text === unit.text ? undefined : current;
}

/** Puts a record back as it was (a revert): its own time of acceptance kept. */
export function restoreAccepted(dir: string, record: AcceptedUnit): void {
  writeRecord(dir, { ...record, pending: undefined, previous: undefined, acceptedFrom: undefined });
}

function writeRecord(dir: string, record: AcceptedUnit): void {
  writeDurably(dir, recordFile(dir, record.base), JSON.stringify(withLegacyLinks(record)) + "\n");
}

function withLegacyLinks(record: AcceptedUnit): AcceptedUnit & { links: ReturnType<typeof legacyLinks> } {
  const previous = record.previous && withLegacyLinks(record.previous);
  return { ...record, previous, links: legacyLinks(record.unitName, record.install) };
}

/** Flushed before the rename: after a power cut the file is either the old one or the new one. */
function writeDurably(dir: string, at: string, text: string): void {
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  // A directory made by an older berth was 0755.
  chmodSync(dir, 0o700);
  const fd = openSync(`${at}.tmp`, "w", 0o600);
  try {
    // A temporary file left by a crash keeps its old mode when opened again.
    fchmodSync(fd, 0o600);
    writeSync(fd, text);
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(`${at}.tmp`, at);
}

/** A deleted definition is a deliberate removal: forget it. */
export function forgetAccepted(dir: string, base: string): void {
  rmSync(recordFile(dir, base), { force: true });
}

/**
 * A version that did not become healthy and was reverted (RevertOnFailure=): the digest of its
 * unit text, so that the same definition is not tried again (no flapping between two versions),
 * and a changed one is.
 */
export interface Rejection {
  text: string;
  /**
   * The definition's digest (GeneratedUnit.source): what must change for a new try. The text alone
   * would also change with an upgrade of berth, which would try the reverted version again.
   */
  source?: string | undefined;
  /** The container's spec: a fixed image in a `.image` the definition names changes only this. */
  spec?: string | undefined;
  at: string;
  why: string;
}

const REJECTED_FILE = ".rejected.json";

/** The rejected versions by definition key; one small file, read once (absent: none). */
export function readRejections(dir: string): Map<string, Rejection> {
  const file = join(dir, REJECTED_FILE);
  noteFile(file);
  try {
    const value = JSON.parse(readFileSync(file, "utf8")) as Record<string, Rejection>;
    return new Map(Object.entries(value).filter(([, r]) => typeof r?.text === "string" && typeof r.at === "string" && typeof r.why === "string" && (r.source === undefined || typeof r.source === "string") && (r.spec === undefined || typeof r.spec === "string")));
  } catch {
    return new Map();
  }
}

export function writeRejections(dir: string, rejections: ReadonlyMap<string, Rejection>): void {
  writeDurably(dir, join(dir, REJECTED_FILE), JSON.stringify(Object.fromEntries(rejections)) + "\n");
}
