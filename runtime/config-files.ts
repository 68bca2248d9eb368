import { createHash } from "node:crypto";
import { mkdirSync, readdirSync, readFileSync, renameSync, statSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { isTransientName, MISSING, type ConfigState, type Manifest } from "../generator/config-manifest.js";

/** A bound on a configuration tree, so that a path set to `/` cannot make every start read the disk. */
const MAX_FILES = 10_000;
const MAX_DEPTH = 32;

function fingerprint(path: string, st: { mode: number; uid: number; gid: number }): string {
  const mode = (st.mode & 0o7777).toString(8);
  return `${mode} ${st.uid}:${st.gid} ${createHash("sha256").update(readFileSync(path)).digest("hex")}`;
}

/**
 * Reads the files under each path (a file, or a directory walked recursively, symlinks followed as
 * the service would follow them) into a manifest. Temporary names are skipped; an unreadable file
 * is an entry of its own, so that becoming readable is a change.
 */
export function readManifest(paths: readonly string[]): Manifest {
  const out: Manifest = {};
  let count = 0;
  const visit = (path: string, depth: number): void => {
    if (++count > MAX_FILES) throw new Error(`more than ${MAX_FILES} files under ${paths.join(", ")}`);
    let st;
    try {
      st = statSync(path);
    } catch (e) {
      out[path] = (e as NodeJS.ErrnoException).code === "ENOENT" ? MISSING : `unreadable ${(e as NodeJS.ErrnoException).code}`;
      return;
    }
    if (st.isDirectory()) {
      if (depth >= MAX_DEPTH) return;
      for (const name of readdirSync(path).sort()) if (!isTransientName(name)) visit(join(path, name), depth + 1);
    } else if (st.isFile()) {
      try {
        out[path] = fingerprint(path, st);
      } catch (e) {
        out[path] = `unreadable ${(e as NodeJS.ErrnoException).code}`;
      }
    }
  };
  for (const p of paths) visit(p, 0);
  return out;
}

/** Where a unit's start leaves its configuration state: `%t/berth/config/UNIT.json` in the unit. */
export function configStateFile(runtimeDir: string, unit: string): string {
  return join(runtimeDir, "berth/config", `${unit}.json`);
}

/** The same digest as docker's --label-file wants it: `KEY=VALUE` lines. */
export function configLabelFile(runtimeDir: string, unit: string): string {
  return join(runtimeDir, "berth/config", `${unit}.labels`);
}

export function readConfigState(file: string): ConfigState | undefined {
  try {
    const s = JSON.parse(readFileSync(file, "utf8")) as ConfigState;
    return typeof s.label === "string" && typeof s.restart === "object" && typeof s.reload === "object" ? s : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Written whole or not at all: a reader (berthd, node_exporter) may read it at any moment. The
 * temporary file is in the same directory, so the rename is atomic, and its name ends in `.tmp`,
 * which no reader of `*.prom` or a unit's state picks up. `makeDir: false` is for a directory
 * someone else owns (node_exporter's), whose mode berth must not decide.
 */
export function writeAtomically(file: string, text: string, options: { mode?: number; makeDir?: boolean } = {}): void {
  if (options.makeDir !== false) mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  writeFileSync(tmp, text, { mode: options.mode ?? 0o600 });
  renameSync(tmp, file);
}
