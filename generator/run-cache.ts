import { closeSync, lstatSync, mkdirSync, openSync, readFileSync, renameSync, unlinkSync, writeFileSync } from "node:fs";
import { homedir } from "node:os";
import { dirname } from "node:path";
import type { Diagnostic } from "./diagnostics.js";
import type { GeneratedUnit } from "./generated-unit.js";
import { stillSeen, type Observation } from "./observed-fs.js";
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
  /** Keeps a run made from these looks, unless a file it saw may still be changing (see SETTLED_MS). */
  keep(looks: { observations: Observation[]; newest: number }, run: Run): void;
}

/**
 * How old every file a kept run saw must be. A file's times come from the kernel's coarse clock
 * and the file system's granularity (a few ms on Linux's tick, a second on ext3, two on FAT): a
 * file written again within the same tick, at the same size, shows the same stat. Once its times
 * are older than the run by more than that, any later write moves them.
 */
export const SETTLED_MS = 2000;

const FORMAT = "berth-generator run cache 1";

/**
 * What the output depends on besides the looks: the whole environment (search paths, scope,
 * state directory), who runs it, with which Node, from where, and which generator: the bundle's
 * path, since the units name the helpers beside it. (A new build at that path is a look: the run
 * stats its bundle.)
 */
export function runKey(env: NodeJS.ProcessEnv, bundle: string): string {
  const entries = Object.entries(env).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([FORMAT, bundle, process.execPath, process.version, process.getuid?.(), process.getgid?.(), process.cwd(), homedir(), entries]);
}

/** The default place: the manager's runtime directory, emptied at boot, like systemd's own generator output. */
export function runCachePath(scope: Scope, env: NodeJS.ProcessEnv): string | undefined {
  const set = env.BERTH_GENERATOR_CACHE;
  if (set !== undefined) return set === "" || set === "off" ? undefined : set;
  if (scope === "user" && !env.XDG_RUNTIME_DIR) return undefined;
  return `${runtimeDir(scope, env)}/berth-generator/run-cache.json`;
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
function serialize(key: string, observations: readonly Observation[], run: Run): string {
  const units = run.units.map((u) => [u.unitName, u.install, u.text.length]);
  return `${JSON.stringify({ key, observations, diagnostics: run.diagnostics, units })}\n${run.units.map((u) => u.text).join("")}`;
}

type Header = { key: string; observations: Observation[]; diagnostics: Diagnostic[]; units: Array<[string, Run["units"][number]["install"], number]> };

function deserialize(content: string, key: string): { observations: Observation[]; run: Run } | undefined {
  const newline = content.indexOf("\n");
  let header: Header;
  try {
    header = JSON.parse(content.slice(0, newline));
  } catch {
    return undefined;
  }
  // The key first: a run of another environment is not read any further.
  if (header?.key !== key || !Array.isArray(header.observations) || !Array.isArray(header.units) || !Array.isArray(header.diagnostics)) return undefined;
  const units: Run["units"] = [];
  let at = newline + 1;
  for (const [unitName, install, length] of header.units) {
    units.push({ unitName, install, text: content.slice(at, (at += length)) });
  }
  return at === content.length ? { observations: header.observations, run: { units, diagnostics: header.diagnostics } } : undefined;
}

export function fileRunCache(path: string, key: string, now: number = Date.now()): RunCache {
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
      return kept && stillSeen(kept.observations) ? kept.run : undefined;
    },
    keep(looks, run) {
      if (looks.newest >= now - SETTLED_MS) return;
      const temporary = `${path}.${process.pid}.tmp`;
      try {
        try {
          mkdirSync(dir, { mode: 0o700 });
        } catch {
          // There already: it must be ours.
        }
        if (!ours(dir, "directory")) return;
        const fd = openSync(temporary, "wx", 0o600);
        try {
          writeFileSync(fd, serialize(key, looks.observations, run), "utf8");
        } finally {
          closeSync(fd);
        }
        renameSync(temporary, path);
      } catch {
        // A cache that cannot be kept costs the next run its speed, nothing else.
        try {
          unlinkSync(temporary);
        } catch {
          // never made
        }
      }
    },
  };
}

