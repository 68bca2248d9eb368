import { chmodSync, closeSync, constants, copyFileSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, rmSync, statfsSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import type { GeneratedUnit } from "./generated-unit.js";
import { buildId } from "./build-id.js";
import { failure, stillSeen, type Observation, type Recording } from "./observed-fs.js";
import { acceptedDir } from "./accepted-store.js";
import { runtimeDir, type Scope } from "./search-path.js";

/** What a run writes, and what it says. */
export interface Run {
  units: Array<Pick<GeneratedUnit, "unitName" | "text" | "install">>;
  diagnostics: Diagnostic[];
}

/**
 * The generator's last run, kept for the next. systemd runs generators on every daemon-reload,
 * mostly with nothing of berth's changed (a package's install, `systemctl enable`); then the next
 * run takes a stat of each file instead of reading, parsing and translating every definition.
 */
export interface RunCache {
  /** The kept run, if it was made with this environment and build and every look still sees the same. */
  recall(): Run | undefined;
  /** Keeps a run made from these looks, unless a file it saw may still be changing (see settledMs); whether it did. */
  keep(looks: Recording, run: Run): boolean;
}

/**
 * How old a file's times must be, when its run looked at it, for any later write to move them. A
 * file's times come from the kernel's coarse clock (one tick: 10 ms at most) cut to the file
 * system's granularity: a file written again within that, at the same size, shows the same stat.
 * A time with a part below the second shows a granularity of 10 ms at most (exFAT's; ext4, XFS,
 * Btrfs and tmpfs keep nanoseconds), so 40 ms is twice enough. A whole second may come from a file system
 * that keeps only seconds (ext3, ext4 with small inodes) or two (FAT's mtime), plus a tick; or from
 * a package or archive that set it (dpkg, tar), which costs nothing, being old. Short enough that
 * the translation berthd keeps for its reload, made 50 ms or more after the edit it applies (its
 * watcher's quiet time), is kept.
 */
export const settledMs = (coarse: boolean): number => (coarse ? 2100 : 40);

const FORMAT = "berth-generator run cache 2";

/** `homedir()` throws for a user without one. */
function orError(read: () => string): string {
  try {
    return read();
  } catch (e) {
    return failure(e);
  }
}

/**
 * What the output depends on besides the looks (which include the environment variables the
 * translation read): the scope, who runs it (the groups decide what it may read, and no stat
 * changes with them), with which Node, from where, and which generator: the bundle's path, since
 * the units name the helpers beside it, and which build translated (berthd's code may be older than
 * the bundle, until it restarts; a new bundle at that path is also a look: the run stats it).
 * Not the working directory, which differs between the generator (/) and a user's berthd (~):
 * a run that looked at a relative path is not kept (keepable).
 */
export function runKey(scope: Scope, bundle: string): string {
  const groups = process.getgroups?.().sort((a, b) => a - b);
  return JSON.stringify([FORMAT, buildId, scope, bundle, process.execPath, process.version, process.getuid?.(), process.getgid?.(), groups, orError(homedir)]);
}

/**
 * Whether a run made from these looks may be kept: its files had settled when it looked, their
 * stats show every change, and every path it looked at is absolute (the next run may have another
 * working directory).
 */
export function keepable(looks: Recording): boolean {
  return (
    looks.newestFine < looks.at - settledMs(false) &&
    looks.newestCoarse < looks.at - settledMs(true) &&
    looks.observations.every(([look, path]) => look === "env" || path.startsWith("/")) &&
    !statsMayHideChanges(looks.observations)
  );
}

/**
 * Where the kept run is: the manager's runtime directory, emptied at boot like systemd's own
 * generator output; and the copy berthd saves when it stops, beside the last accepted versions,
 * which the generator can read at boot (they are under /etc for that reason). An explicit
 * BERTH_GENERATOR_CACHE is the one place.
 */
export function keptRunPaths(scope: Scope, env: NodeJS.ProcessEnv): { runtime: string; saved?: string } | undefined {
  const set = env.BERTH_GENERATOR_CACHE;
  if (set !== undefined) return set === "" || set === "off" ? undefined : { runtime: set };
  if (scope === "user" && !env.XDG_RUNTIME_DIR) return undefined;
  return { runtime: `${runtimeDir(scope, env)}/berth-generator/kept-run`, saved: `${acceptedDir(scope, env)}/kept-run` };
}

/**
 * Saves the kept run where the first run after boot finds it (berthd, as it stops). Only a file
 * that is ours, into a directory that is ours, and whole: a temporary file renamed into place.
 */
export function saveKeptRun(from: string, to: string): boolean {
  if (!ours(dirname(from), "directory") || !ours(from, "file") || !ours(dirname(to), "directory")) return false;
  const temporary = `${to}.${process.pid}.tmp`;
  try {
    copyFileSync(from, temporary, constants.COPYFILE_EXCL);
    chmodSync(temporary, 0o600);
    renameSync(temporary, to);
    return true;
  } catch {
    rmSync(temporary, { force: true });
    return false;
  }
}

/**
 * Ours alone: a file or directory that another user could write would let them choose the units
 * written, so such a cache is neither read nor written.
 */
function ours(path: string, isKind: "file" | "directory"): boolean {
  try {
    const s = lstatSync(path);
    const kind = isKind === "file" ? s.isFile() : s.isDirectory();
    return kind && s.uid === process.getuid?.() && (s.mode & 0o022) === 0;
  } catch {
    return false;
  }
}

/**
 * The file: one line of JSON (the key, the looks, the diagnostics and each unit's name, edges and
 * length), then the units' texts end to end. Texts kept out of JSON need no escaping either way:
 * at a thousand units that halves the time to read the cache back.
 */
function serialize(key: string, at: number, by: KeptBy, observations: readonly Observation[], run: Run): string {
  const units = run.units.map((u) => [u.unitName, u.install, u.text.length]);
  return `${JSON.stringify({ key, at, by, observations, diagnostics: run.diagnostics, units })}\n${run.units.map((u) => u.text).join("")}`;
}

/** Who translated the run: the generator, or berthd in the reconcile that reloads (agent/reconcile.ts). */
export type KeptBy = "generator" | "berthd";

/** `at`: when the run started, in ms since the epoch. */
type Header = { key: string; at: number; by?: KeptBy; observations: Observation[]; diagnostics: Diagnostic[]; units: Array<[string, Run["units"][number]["install"], number]> };

const isString = (x: unknown): x is string => typeof x === "string";
const isEdge = (e: unknown): boolean => {
  const edge = e as Record<string, unknown> | null;
  return typeof edge === "object" && edge !== null && isString(edge.kind) && isString(edge.target) && isString(edge.unit);
};
const isUnitEntry = (u: unknown): boolean => Array.isArray(u) && isString(u[0]) && Array.isArray(u[1]) && u[1].every(isEdge) && Number.isSafeInteger(u[2]) && u[2] >= 0;
const isDiagnostic = (d: unknown): boolean => {
  const x = d as Record<string, unknown> | null;
  return typeof x === "object" && x !== null && (x.severity === "error" || x.severity === "warning") && isString(x.file) && Number.isSafeInteger(x.line) && isString(x.message);
};
const isObservation = (o: unknown): boolean => Array.isArray(o) && isString(o[0]) && isString(o[1]) && (isString(o[2]) || (Array.isArray(o[2]) && o[2].every((n) => typeof n === "number")));

/** A header of the right shape: a file that its owner edited into another shape is stale, never a crash. */
const isHeader = (h: Header, key: string): boolean =>
  h?.key === key && typeof h.at === "number" && Array.isArray(h.observations) && h.observations.every(isObservation) && Array.isArray(h.units) && h.units.every(isUnitEntry) && Array.isArray(h.diagnostics) && h.diagnostics.every(isDiagnostic);

function deserialize(content: string, key: string): { at: number; observations: Observation[]; run: Run } | undefined {
  const newline = content.indexOf("\n");
  let header: Header;
  try {
    header = JSON.parse(content.slice(0, newline));
  } catch {
    return undefined;
  }
  // The key first: a run of another build or user is not read any further.
  if (!isHeader(header, key)) return undefined;
  const units: Run["units"] = [];
  let at = newline + 1;
  for (const [unitName, install, length] of header.units) {
    units.push({ unitName, install, text: content.slice(at, (at += length)) });
  }
  return at === content.length ? { at: header.at, observations: header.observations, run: { units, diagnostics: header.diagnostics } } : undefined;
}

/**
 * File systems whose stat may not show a change, by statfs(2) magic: network file systems, whose
 * clients may answer from cached attributes (NFS for up to 60 s by default), so that an edit made
 * on another machine is not seen at once; and read-only images, which reproducible builds give
 * the same times, and whose files' device and inode numbers repeat from one image to the next
 * (an A/B update of /usr), also when merged by an overlay (a system extension refreshed).
 */
const STATS_MAY_HIDE_CHANGES = new Set([
  0x6969, // NFS
  0xff534d42, // CIFS
  0xfe534d42, // SMB2
  0x517b, // SMB
  0x65735546, // FUSE (sshfs and others)
  0x00c36400, // Ceph
  0x01021997, // 9P
  0x0bd00bd0, // Lustre
  0x47504653, // GPFS
  0x6b414653, // AFS
  0x73717368, // squashfs
  0xe0f5e1e2, // EROFS
  0x9660, // ISO 9660
  0x28cd3d45, // cramfs
  0x7275, // romfs
  // overlayfs: systemd-sysext merges such images into /usr through it, and its device numbers
  // repeat from one merge to the next.
  0x794c7630,
]);

/** Whether a file the run stat'ed is on such a file system (a run that cannot tell is not kept). */
export function statsMayHideChanges(observations: readonly Observation[], typeOf = (dir: string) => statfsSync(dir).type): boolean {
  const dirs = new Set<string>();
  for (const [look, path, seen] of observations) {
    if ((look === "stat" || look === "lstat") && typeof seen !== "string") dirs.add(dirname(path));
  }
  for (const dir of dirs) {
    try {
      if (STATS_MAY_HIDE_CHANGES.has(typeOf(dir))) return true;
    } catch {
      return true;
    }
  }
  return false;
}

export function fileRunCache(path: string, key: string, env: NodeJS.ProcessEnv, now: number = Date.now(), by: KeptBy = "generator"): RunCache {
  const dir = dirname(path);
  return {
    recall() {
      if (!ours(dir, "directory") || !ours(path, "file")) return undefined;
      let kept: ReturnType<typeof deserialize>;
      try {
        kept = deserialize(readFileSync(path, "utf8"), key);
      } catch {
        return undefined;
      }
      // A clock set back since (NTP at boot, a machine without a real-time clock) could give a
      // new write the times of an old one: such a run is not trusted.
      return kept && now >= kept.at && stillSeen(kept.observations, env) ? kept.run : undefined;
    },
    keep(looks, run) {
      if (!keepable(looks)) return false;
      const temporary = `${path}.${process.pid}.tmp`;
      try {
        try {
          mkdirSync(dir, { mode: 0o700 });
        } catch {
          // There already: it must be ours.
        }
        if (!ours(dir, "directory")) return false;
        const fd = openSync(temporary, "wx", 0o600);
        try {
          writeFileSync(fd, serialize(key, looks.at, by, looks.observations, run), "utf8");
        } finally {
          closeSync(fd);
        }
        renameSync(temporary, path);
        return true;
      } catch {
        // A cache that cannot be kept costs the next run its speed, nothing else.
        try {
          unlinkSync(temporary);
        } catch {
          // never made
        }
        return false;
      }
    },
  };
}
