import { existsSync, lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";
import { isQuadletFile } from "./names.js";
import { dirPrefix } from "./paths.js";

/**
 * How the generator looked at the host: each look at a path, and what it saw, as a string that
 * the same look gives again only if nothing it depends on has changed. A run's looks are what
 * its output depends on outside the environment, so a later run may reuse the output when every
 * look still sees the same (see run-cache.ts).
 */
export type Look = "stat" | "lstat" | "realpath" | "exists" | "env" | "owner" | "isdir" | DirLook;

/**
 * A search directory is seen as what the walk found in it: the definitions, links and drop-in
 * directories, by path, at any depth. A directory that holds none of them reads as no directory,
 * and a file that is none of them is not seen: berthd's files under /run/berth (its lock, the
 * units' configuration state) or an editor's dot-file coming and going change no run, and a run
 * kept before a reboot still holds after it, when /run/berth is gone. A drop-in directory is seen
 * as its `.conf` files. Both are noted from the very listings the walk read, never from a listing
 * of their own, which could differ.
 */
type DirLook = "tree" | "drop-ins";
const TYPE_OF: ReadonlyArray<[(e: Dirent) => boolean, string]> = [
  [(e) => e.isDirectory(), "d"],
  [(e) => e.isSymbolicLink(), "l"],
  [(e) => e.isFile(), "f"],
];
const typeOf = (e: Dirent): string => TYPE_OF.find(([is]) => is(e))?.[1] ?? "o";

/** The walk's depth limit (load-definitions.ts): deeper directories are not looked into. */
export const MAX_DEPTH = 8;

/** Whether the walk goes into an entry (a directory that is not a drop-in directory). */
export const walksInto = (e: Dirent): boolean => e.isDirectory() && !e.name.endsWith(".d");

/** How the walk records an entry it does not go into, at `under` (its directory, from the search directory): undefined when it uses none of it. */
const treeEntry = (e: Dirent, under: string): string | undefined =>
  !e.name.startsWith(".") && (e.isDirectory() || e.isSymbolicLink() || isQuadletFile(e.name)) ? `${typeOf(e)} ${under}${e.name}` : undefined;

/**
 * A listing that fails now reads otherwise than an empty directory did when the run was kept: the
 * failure is an entry of the look. (A run whose own listing failed is not kept at all.)
 */
const failedAs =
  (found: Array<string | undefined>): OnUnlisted =>
  (path, code) =>
    found.push(`!${code} ${path}`);

/** The sorted entries as one string; JSON, so that no file name (one with a newline) reads as two. */
const entriesSeen = (entries: Array<string | undefined>): string => JSON.stringify(entries.filter((e) => e !== undefined).sort());

/**
 * The tree look taken again, by a walk of its own: the walk in load-definitions.ts, reduced to
 * what it notes, naming each directory as it does (the search directory as spelled, those below
 * it from its normalised path: a `..` after a link would otherwise lead elsewhere).
 */
function treeSeen(root: string): string {
  const found: Array<string | undefined> = [];
  const walk = (dir: string, prefix: string, under: string, depth: number): void => {
    for (const e of listing(dir, failedAs(found))) {
      if (e.name.startsWith(".")) continue;
      if (!walksInto(e)) found.push(treeEntry(e, under));
      else if (depth < MAX_DEPTH) walk(prefix + e.name, `${prefix}${e.name}/`, `${under}${e.name}/`, depth + 1);
    }
  };
  walk(root, dirPrefix(root), "", 0);
  return entriesSeen(found);
}

/** Notes, as the walk goes, what it found under one search directory; `done` once it has walked it all. */
export function treeNote(root: string): { add(e: Dirent, under: string): void; done(): void } {
  const found: Array<string | undefined> = [];
  return {
    add: (e, under) => {
      if (recording) found.push(treeEntry(e, under));
    },
    done: () => note("tree", root, entriesSeen(found)),
  };
}

const dropInsSeenOf = (entries: readonly Dirent[]): string =>
  entriesSeen(entries.map((e) => (!e.name.startsWith(".") && e.name.endsWith(".conf") ? `${typeOf(e)} ${e.name}` : undefined)));

/** A drop-in directory's entries, its `.conf` files noted. */
export function observedDropIns(dir: string, unlisted?: OnUnlisted, list = listing): Dirent[] {
  const entries = list(dir, unlisted);
  note("drop-ins", dir, dropInsSeenOf(entries));
  return entries;
}

/** Whether a path leads to a directory; anything that stops stat(2) says it does not. */
function leadsToDirectory(path: string): boolean {
  try {
    return statSync(path).isDirectory();
  } catch {
    return false;
  }
}

/** An entry made from its lstat, for a listing that Node could not type (see listing()). */
const entryOf = (name: string, s: Stats): Dirent =>
  ({ name, isDirectory: () => s.isDirectory(), isSymbolicLink: () => s.isSymbolicLink(), isFile: () => s.isFile() }) as Dirent;

/** Told of what a listing could not read: the directory (`list`) or an entry of it (`stat`), and the error's code. */
export type OnUnlisted = (path: string, code: string, what: "list" | "stat") => void;

/**
 * A directory's entries; none when it is not there, as the walk takes it. Where the file system
 * gives no entry types, Node stats each entry, and one that vanishes meanwhile (an editor's swap
 * file) fails the whole listing: then the names are listed and stat'ed here, skipping what went.
 * Any other failure leaves the run unkept (what was read is not what the next run would see), and
 * is told to `unlisted`: what is there may be more than what was read.
 */
export function listing(dir: string, unlisted?: OnUnlisted): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if ((code === "ENOENT" || code === "ENOTDIR") && !leadsToDirectory(dir)) return [];
  }
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch (e) {
    unkeepable();
    unlisted?.(dir, failure(e).slice(1), "list");
    return [];
  }
  const entries: Dirent[] = [];
  for (const name of names) {
    try {
      entries.push(entryOf(name, lstatSync(`${dir}/${name}`)));
    } catch (e) {
      // Gone since the listing, or not a name Node can pass back (not UTF-8): skipped, as the
      // next run would.
      if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
      unkeepable();
      unlisted?.(`${dir}/${name}`, failure(e).slice(1), "stat");
    }
  }
  return entries;
}

/**
 * What a look saw: a stat's numbers, a resolved path, "1" or "0" for there or not, "!CODE" for an
 * error, or an environment variable's value ("!unset" when it is not set).
 */
export type Seen = string | readonly number[];
export type Observation = readonly [look: Look, path: string, seen: Seen];

/**
 * A stat as what it says about the file: which file (device, inode), its type, owner and mode,
 * and its size and times. Every write to a file, and every change of owner or mode, moves its
 * ctime, which nothing can set back.
 */
const statSeen = (s: Stats): number[] => [s.dev, s.ino, s.mode, s.uid, s.gid, s.size, s.mtimeMs, s.ctimeMs];

/** An error as a look sees it: `!CODE`. */
export const failure = (e: unknown): string => `!${(e as NodeJS.ErrnoException).code ?? "error"}`;

/** What a run looked at. */
export interface Recording {
  observations: Observation[];
  /** When the looks began, in ms since the epoch: what each file's times are judged against. */
  at: number;
  /**
   * The latest mtime or ctime of what was stat'ed, apart for times with a part below the second
   * and whole seconds, whose file systems may keep only seconds (settledMs in run-cache.ts);
   * Infinity for a run not to keep.
   */
  newestFine: number;
  newestCoarse: number;
}

let recording: Recording | undefined;

/** The run read something that the same looks may not see again (a listing or a read that failed): it is not kept. */
export function unkeepable(): void {
  if (recording) recording.newestFine = Infinity;
}

/** Starts recording every look; returns what was recorded when called again with false. */
export function observe(on: true): void;
export function observe(on: false): Recording | undefined;
export function observe(on: boolean): Recording | undefined {
  const was = recording;
  recording = on ? { observations: [], at: Date.now(), newestFine: 0, newestCoarse: 0 } : undefined;
  return was;
}

function note(look: Look, path: string, seen: Seen, s?: Stats): void {
  if (!recording) return;
  recording.observations.push([look, path, seen]);
  if (!s) return;
  noteTime(recording, s.mtimeMs);
  noteTime(recording, s.ctimeMs);
}

function noteTime(r: Recording, t: number): void {
  if (t % 1000 === 0) r.newestCoarse = Math.max(r.newestCoarse, t);
  else r.newestFine = Math.max(r.newestFine, t);
}

/**
 * A look that goes through one system call: the call, and what of its result the look sees. The
 * translation takes it through taken(), which notes it; the next run takes it again in stillSeen().
 */
interface Through<T> {
  call(path: string): T;
  seen(value: T): Seen;
  /** The file's own times, which tell whether it may still be changing (settledMs in run-cache.ts). */
  times?(value: T): Stats;
}
const STAT: Through<Stats> = { call: (p) => statSync(p), seen: statSeen, times: (s) => s };
const LSTAT: Through<Stats> = { call: (p) => lstatSync(p), seen: statSeen, times: (s) => s };
const REALPATH: Through<string> = { call: (p) => realpathSync.native(p), seen: (real) => real };
// What the trust check judges of a directory, not its times: an entry added to it is no change.
const OWNER: Through<Stats> = { call: (p) => statSync(p), seen: (s) => [s.uid, s.mode & 0o7777] };

/** A look through its call, noted while recording; it throws as node:fs does. */
function taken<T>(look: Look, through: Through<T>, path: string): T {
  let value: T;
  try {
    value = through.call(path);
  } catch (e) {
    note(look, path, failure(e));
    throw e;
  }
  note(look, path, through.seen(value), through.times?.(value));
  return value;
}

/** A look taken again. */
const again =
  <T>(through: Through<T>) =>
  (path: string): Seen =>
    through.seen(through.call(path));

export const observedStat = (path: string): Stats => taken("stat", STAT, path);
export const observedLstat = (path: string): Stats => taken("lstat", LSTAT, path);
export const observedRealpath = (path: string): string => taken("realpath", REALPATH, path);

/** The owner and permission bits of a path, through links: what the trust check judges. */
export function observedOwner(path: string): { uid: number; mode: number } {
  const s = taken("owner", OWNER, path);
  return { uid: s.uid, mode: s.mode & 0o7777 };
}

/** statSync with `throwIfNoEntry: false`: undefined for a path that is not there. */
export function observedStatIfAny(path: string): Stats | undefined {
  if (!recording) return statSync(path, { throwIfNoEntry: false });
  try {
    return observedStat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return undefined;
    throw e;
  }
}

export function observedExists(path: string): boolean {
  const there = existsSync(path);
  note("exists", path, there ? "1" : "0");
  return there;
}

/** Whether a path leads to a directory. */
export function observedIsDirectory(path: string): boolean {
  const is = leadsToDirectory(path);
  note("isdir", path, is ? "1" : "0");
  return is;
}

/** Notes a file about to be read by other means (a record of berthd's): its stat, or why there is none. */
export function noteFile(path: string): void {
  if (!recording) return;
  try {
    observedStat(path);
  } catch {
    // Noted as missing or unreadable.
  }
}

const UNSET = "!unset";
/** The whole environment, for code that walks it rather than asking for a name. */
const EVERY_VARIABLE = "";
/** A variable's value: only the environment's own string values count (not `hasOwnProperty`). */
const valueOf = (env: NodeJS.ProcessEnv, name: string): string => {
  const value = Object.hasOwn(env, name) ? env[name] : undefined;
  return typeof value === "string" ? value : UNSET;
};
const envSeen = (env: NodeJS.ProcessEnv, name: string): string =>
  name === EVERY_VARIABLE ? JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) : valueOf(env, name);

/**
 * The environment as the translation sees it, each variable it asks for noted. systemd gives each
 * generator variables that change on every run (SYSTEMD_EXEC_PID, its own pid), so the run
 * depends on the variables it reads, not on the whole environment.
 */
export function observedEnv(env: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  if (!recording) return env;
  return new Proxy(env, {
    get(target, name) {
      if (typeof name === "string") note("env", name, envSeen(target, name));
      return Reflect.get(target, name);
    },
    has(target, name) {
      if (typeof name === "string") note("env", name, envSeen(target, name));
      return Reflect.has(target, name);
    },
    getOwnPropertyDescriptor(target, name) {
      if (typeof name === "string") note("env", name, envSeen(target, name));
      return Reflect.getOwnPropertyDescriptor(target, name);
    },
    ownKeys(target) {
      note("env", EVERY_VARIABLE, envSeen(target, EVERY_VARIABLE));
      return Reflect.ownKeys(target);
    },
  });
}

const LOOKS: Readonly<Record<Look, (path: string, env: NodeJS.ProcessEnv) => Seen>> = {
  stat: again(STAT),
  lstat: again(LSTAT),
  realpath: again(REALPATH),
  owner: again(OWNER),
  exists: (p) => (existsSync(p) ? "1" : "0"),
  env: (name, env) => envSeen(env, name),
  isdir: (p) => (leadsToDirectory(p) ? "1" : "0"),
  tree: treeSeen,
  "drop-ins": (p) => {
    const failed: string[] = [];
    const seen = dropInsSeenOf(listing(p, failedAs(failed)));
    return failed.length > 0 ? `${seen} ${failed.join(" ")}` : seen;
  },
};

function same(a: Seen, b: Seen): boolean {
  if (typeof a === "string" || typeof b === "string") return a === b;
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Whether every look, taken again in this environment, sees what it saw. */
export function stillSeen(observations: readonly Observation[], env: NodeJS.ProcessEnv): boolean {
  for (const [look, path, seen] of observations) {
    let now: Seen;
    try {
      now = LOOKS[look](path, env);
    } catch (e) {
      now = failure(e);
    }
    if (!same(now, seen)) return false;
  }
  return true;
}
