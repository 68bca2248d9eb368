import { existsSync, lstatSync, readdirSync, realpathSync, statSync, type Dirent, type Stats } from "node:fs";

/**
 * How the generator looked at the host: each look at a path, and what it saw, as a string that
 * the same look gives again only if nothing it depends on has changed. A run's looks are what
 * its output depends on outside the environment, so a later run may reuse the output when every
 * look still sees the same (see run-cache.ts).
 */
export type Look = "stat" | "lstat" | "realpath" | "exists" | "env";
/**
 * What a look saw: a stat's numbers, a resolved path, "1" or "0" for there or not, "!CODE" for an
 * error, or an environment variable's value ("!unset" when it is not set).
 */
export type Seen = string | readonly number[];
export type Observation = readonly [look: Look, path: string, seen: Seen];

/**
 * A stat as what it says about the file: which file (device, inode), its type, owner and mode,
 * and its size and times. Every write to a file, and every change of owner or mode, moves its
 * ctime, which nothing can set back; a directory's times move when an entry is added, removed or
 * renamed.
 */
const statSeen = (s: Stats): number[] => [s.dev, s.ino, s.mode, s.uid, s.gid, s.size, s.mtimeMs, s.ctimeMs];

const failure = (e: unknown): string => `!${(e as NodeJS.ErrnoException).code ?? "error"}`;

interface Recording {
  observations: Observation[];
  /** The latest mtime or ctime of everything stat'ed, in ms since the epoch. */
  newest: number;
}

let recording: Recording | undefined;

/** Starts recording every look; returns what was recorded when called again with false. */
export function observe(on: true): void;
export function observe(on: false): Recording | undefined;
export function observe(on: boolean): Recording | undefined {
  const was = recording;
  recording = on ? { observations: [], newest: 0 } : undefined;
  return was;
}

function note(look: Look, path: string, seen: Seen, s?: Stats): void {
  if (!recording) return;
  recording.observations.push([look, path, seen]);
  if (s) recording.newest = Math.max(recording.newest, s.mtimeMs, s.ctimeMs);
}

/** The shell's stat calls, each noted while recording. They throw as node:fs does. */
function statWith(look: "stat" | "lstat", call: typeof statSync, path: string): Stats {
  let s: Stats;
  try {
    s = call(path);
  } catch (e) {
    note(look, path, failure(e));
    throw e;
  }
  note(look, path, statSeen(s), s);
  return s;
}

export const observedStat = (path: string): Stats => statWith("stat", statSync, path);
export const observedLstat = (path: string): Stats => statWith("lstat", lstatSync, path);

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

export function observedRealpath(path: string): string {
  let real: string;
  try {
    real = realpathSync.native(path);
  } catch (e) {
    note("realpath", path, failure(e));
    throw e;
  }
  note("realpath", path, real);
  return real;
}

export function observedExists(path: string): boolean {
  const there = existsSync(path);
  note("exists", path, there ? "1" : "0");
  return there;
}

/**
 * A directory's entries. While recording, the directory is stat'ed first: an entry added after
 * the stat moves its times, so the look no longer sees the same, where a stat after the listing
 * could see an entry the listing missed.
 */
export function observedReaddir(dir: string): Dirent[] {
  if (recording) {
    try {
      observedStat(dir);
    } catch {
      // Not there, or not readable: noted, and the listing says the same.
    }
  }
  return readdirSync(dir, { withFileTypes: true });
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
const envSeen = (env: NodeJS.ProcessEnv, name: string): string =>
  name === EVERY_VARIABLE ? JSON.stringify(Object.entries(env).sort(([a], [b]) => (a < b ? -1 : 1))) : (env[name] ?? UNSET);

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
    ownKeys(target) {
      note("env", EVERY_VARIABLE, envSeen(target, EVERY_VARIABLE));
      return Reflect.ownKeys(target);
    },
  });
}

const LOOKS: Readonly<Record<Look, (path: string, env: NodeJS.ProcessEnv) => Seen>> = {
  stat: (p) => statSeen(statSync(p)),
  lstat: (p) => statSeen(lstatSync(p)),
  realpath: (p) => realpathSync.native(p),
  exists: (p) => (existsSync(p) ? "1" : "0"),
  env: (name, env) => envSeen(env, name),
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
