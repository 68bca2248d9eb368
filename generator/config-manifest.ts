import { digest } from "./digest.js";

/**
 * The configuration a service reads (RestartOnChange=, ReloadOnChange=), as berth compares it:
 * each file by content, mode and owner, never by time, so that a tool writing every file again
 * with the same bytes changes nothing. Keys are absolute paths; a listed path that does not exist
 * is an entry too, so that creating it later counts as a change.
 */
export type Manifest = Record<string, string>;

/** What the unit's start recorded, and what berthd updates after a reload. */
export interface ConfigState {
  /** The digest put on the container as CONFIG_LABEL when it was created. */
  label: string;
  restart: Manifest;
  reload: Manifest;
}

export const MISSING = "missing";

/**
 * Names that configuration tools and editors use for files on their way into place (Ansible's
 * `.ansible_tmp…`, vim's swap files and `4913` probe, emacs' `.#` locks, `~` backups, dpkg's
 * leftovers). They come and go around every write; counting them would restart a service once for
 * the temporary file and again for the real one.
 */
const TRANSIENT: readonly RegExp[] = [/^\.ansible_tmp/, /^\..*\.sw[a-p]$/, /^4913$/, /^\.#/, /~$/, /\.dpkg-(new|old|tmp|dist)$/];

export function isTransientName(name: string): boolean {
  return TRANSIENT.some((re) => re.test(name));
}

/** One digest for a manifest: the same files with the same fingerprints give the same digest. */
export function manifestDigest(...manifests: Manifest[]): string {
  const lines: string[] = [];
  for (const m of manifests) for (const path in m) lines.push(`${path}\0${m[path]}`);
  return digest(lines.sort().join("\n"));
}

/** Paths added, removed or changed between two manifests, sorted. */
export function changedPaths(before: Manifest, after: Manifest): string[] {
  const out = new Set<string>();
  for (const path in before) if (before[path] !== after[path]) out.add(path);
  for (const path in after) if (!(path in before)) out.add(path);
  return [...out].sort();
}

/** "keystone.conf", "a.conf, b.conf", or "12 files (a.conf, b.conf, c.conf, …)". */
export function describePaths(paths: readonly string[]): string {
  const names = paths.map((p) => p.slice(p.lastIndexOf("/") + 1));
  if (names.length <= 3) return names.join(", ");
  return `${names.length} files (${names.slice(0, 3).join(", ")}, …)`;
}

/** Which configuration files changed since the running container started (or last reloaded). */
export interface ConfigChange {
  restart: string[];
  reload: string[];
}

/**
 * Compares what is on disk now with what the running container read. `state` is trusted only when
 * it belongs to that container (its label matches); without it the digest alone tells whether
 * anything changed, and a change of unknown kind restarts.
 */
export function compareConfig(state: ConfigState | undefined, now: { restart: Manifest; reload: Manifest }, runningLabel: string): ConfigChange {
  if (state?.label === runningLabel) return { restart: changedPaths(state.restart, now.restart), reload: changedPaths(state.reload, now.reload) };
  if (manifestDigest(now.restart, now.reload) === runningLabel) return { restart: [], reload: [] };
  return { restart: changedPaths({}, { ...now.restart, ...now.reload }), reload: [] };
}

/** The digest of the configuration a container runs with: its label, or what it reloaded since. */
export function runningDigest(state: ConfigState | undefined, runningLabel: string): string {
  return state?.label === runningLabel ? manifestDigest(state.restart, state.reload) : runningLabel;
}
