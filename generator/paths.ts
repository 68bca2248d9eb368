import { dirname, join, normalize } from "node:path";

/**
 * What `path.join(dir, name)` puts in front of `name` when `name` is one plain path component
 * (no "/", not "." or ".."). Computed once per directory, it lets a thousand entries be named by
 * concatenation instead of a thousand normalisations of the same directory.
 */
export function dirPrefix(dir: string): string {
  const base = normalize(dir);
  if (base === "." || base === "./") return "";
  return base.endsWith("/") ? base : `${base}/`;
}

/** An empty, "." or ".." segment: the cases path.join would rewrite. */
const REWRITTEN_BY_JOIN = /(^|\/)\.{0,2}(\/|$)/;

/**
 * `path.join(dir, path)` and its dirname, given `prefix = dirPrefix(dir)`. Paths made only of
 * plain segments, as every link berth writes is, are appended as they are.
 */
export function locate(dir: string, prefix: string, path: string): { at: string; parent: string } {
  if (REWRITTEN_BY_JOIN.test(path)) {
    const at = join(dir, path);
    return { at, parent: dirname(at) };
  }
  const slash = path.lastIndexOf("/");
  return { at: prefix + path, parent: slash < 0 ? dir : prefix + path.slice(0, slash) };
}
