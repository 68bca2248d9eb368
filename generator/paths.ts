import { normalize } from "node:path";

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
