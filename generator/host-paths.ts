import { posix } from "node:path";
import { unitLiteral } from "./exec-line.js";

/**
 * Whether systemd fills in the start of a path (`%h/data`, `${STATE}/data`): it is absolute or not
 * only once the unit runs, so it is left as written, as Quadlet leaves a leading specifier.
 */
export function startsExpanded(path: string): boolean {
  return (path[0] === "%" && path[1] !== "%") || (path[0] === "$" && path[1] !== "$");
}

/**
 * A relative path as Quadlet resolves it: against the directory of the definition's main file,
 * also when a drop-in set it (Quadlet merges drop-ins into the unit, which keeps the main file's
 * path), and without expanding `~`. The result is in unit syntax, like the value.
 */
export function againstDefinition(path: string, definitionFile: string): string {
  if (path.startsWith("/") || startsExpanded(path)) return path;
  return posix.join(unitLiteral(posix.dirname(definitionFile)), path);
}

/** A storage source (`Volume=` or `Mount=`): Quadlet resolves only one that starts with `.`. */
export function againstDefinitionIfDotted(source: string, definitionFile: string): string {
  return source.startsWith(".") ? againstDefinition(source, definitionFile) : source;
}
