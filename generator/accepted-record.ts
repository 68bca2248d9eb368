import type { AcceptedUnit } from "./accepted-store.js";
import { GENERATED_HEADER } from "./labels.js";
import { CONTAINER_NAME, FILE_TYPES, fileNameOfKey, isUnitName, parseDefinitionName, runsContainer, type FileType } from "./names.js";
import type { InstallEdge } from "./translate.js";

const PULL = new Set(["missing", "always", "never", "newer"]);
const isString = (v: unknown): v is string => typeof v === "string";

const EDGE_KINDS = new Set(["wants", "requires", "upholds", "alias"]);

/**
 * Whether an [Install] edge is one berth makes: another name of the unit itself, or a unit that
 * pulls in the unit (a template's, an instance of it). Anything else would make a name stand for
 * some other unit; the names are unit names, so no file can be written outside the directory.
 */
function isOwnEdge(v: unknown, unitName: string): boolean {
  if (typeof v !== "object" || v === null) return false;
  const { kind, target, unit } = v as Record<string, unknown>;
  if (!EDGE_KINDS.has(kind as string) || !isUnitName(target) || !isUnitName(unit)) return false;
  if (kind === "alias" || !unitName.endsWith("@.service")) return unit === unitName;
  return unit.startsWith(unitName.slice(0, -".service".length)) && unit.endsWith(".service");
}

/** `TARGET.wants/UNIT` and the like, as records kept [Install] before edges: the target, the kind and the unit. */
const LINK_IN_DEPENDENCY_DIR = /^([^/]+)\.(wants|requires|upholds)\/([^/]+)$/;

/**
 * The edges of a record written before [Install] was kept as edges, from its symlinks: an alias
 * beside the unit, or a dependency link in a target's directory, each pointing at the unit
 * itself. Undefined when a link is anything else.
 */
function edgesOfLinks(links: unknown, unitName: unknown): InstallEdge[] | undefined {
  if (!Array.isArray(links) || !isString(unitName)) return undefined;
  const edges: InstallEdge[] = [];
  for (const l of links) {
    const { path, target } = (typeof l === "object" && l !== null ? l : {}) as Record<string, unknown>;
    const m = isString(path) ? LINK_IN_DEPENDENCY_DIR.exec(path) : null;
    if (isUnitName(path) && target === unitName) edges.push({ kind: "alias", target: path, unit: unitName });
    else if (m && target === `../${unitName}`) edges.push({ kind: m[2] as InstallEdge["kind"], target: m[1]!, unit: m[3]! });
    else return undefined;
  }
  return edges;
}

const isPathList = (v: unknown): boolean => Array.isArray(v) && v.every((p) => isString(p) && p.startsWith("/") && !/[\0\n\r%]/.test(p));
function isConfigPaths(v: unknown): boolean {
  if (typeof v !== "object" || v === null) return false;
  const { restart, reload } = v as Record<string, unknown>;
  return isPathList(restart) && isPathList(reload);
}

/** Each field of a record, what it must be, and how to say it is not. */
const FIELDS: ReadonlyArray<[keyof AcceptedUnit, (v: unknown, r: Record<string, unknown>) => boolean, string]> = [
  ["unitName", (v) => isUnitName(v) && v.endsWith(".service"), "a service name"],
  ["type", (v) => v === undefined || (isString(v) && Object.hasOwn(FILE_TYPES, v)), "a file type berth translates"],
  // Only a container and a pod (its holder) have one; the other types run none.
  ["containerName", (v, r) => isString(v) && (runsContainer(r.type as FileType | undefined) ? CONTAINER_NAME.test(v.replace(/%[a-zA-Z]/g, "x")) : v === ""), "a container name (empty for a unit without a container)"],
  ["resource", (v) => v === undefined || (isString(v) && !/[\0\n\r]/.test(v)), "a Docker name"],
  ["imageFrom", (v) => v === undefined || (isUnitName(v) && v.endsWith(".service")), "a service name"],
  ["file", (v) => isString(v) && v.startsWith("/") && !/[\0\n\r]/.test(v), "an absolute path"],
  ["text", (v) => isString(v) && v.startsWith(GENERATED_HEADER) && !v.includes("\0"), "a unit berth generated"],
  ["install", (v, r) => Array.isArray(v) && v.every((e) => isOwnEdge(e, r.unitName as string)), "[Install] edges of the unit"],
  ["image", (v) => v === undefined || isString(v), "a string"],
  ["pull", (v) => v === undefined || PULL.has(v as string), "missing, always, never or newer"],
  ["spec", (v) => isString(v) && /^[0-9a-f]{16}$/.test(v), "a spec digest"],
  ["source", (v) => v === undefined || (isString(v) && /^[0-9a-f]{16}$/.test(v)), "a definition digest"],
  ["wantedAtBoot", (v) => typeof v === "boolean", "true or false"],
  ["after", (v) => Array.isArray(v) && v.every(isString), "a list of unit names"],
  ["restartedWith", (v) => v === undefined || (Array.isArray(v) && v.every(isString)), "a list of unit names"],
  ["acceptedAt", (v) => isString(v) && !Number.isNaN(Date.parse(v)), "a time"],
  ["pending", (v) => v === undefined || v === true, "true when present"],
  ["revertOnFailure", (v) => v === undefined || typeof v === "boolean", "true or false"],
  ["config", (v) => v === undefined || isConfigPaths(v), "lists of absolute paths (restart, reload)"],
];

/**
 * The record in a parsed `accepted/BASE.json`, or what is wrong with it. Records are berth's own,
 * but a damaged disk, an old version or a hand edit must cost only that record: the generator
 * runs as root and turns the record's names into files.
 */
export function checkRecord(value: unknown, base: string): AcceptedUnit | string {
  if (typeof value !== "object" || value === null || Array.isArray(value)) return "not a record (a JSON object)";
  let r = value as Record<string, unknown>;
  if (r.links !== undefined) {
    // Records carry both forms (see legacyLinks); the edges are what this version reads.
    const { links, ...rest } = r;
    const install = r.install ?? edgesOfLinks(links, r.unitName);
    if (!install) return `"links" is not links to the unit in its own directory`;
    r = { ...rest, install };
  }
  const name = parseDefinitionName(fileNameOfKey(base));
  if (r.base !== base || !name) return `"base" is not ${JSON.stringify(base)}, the record's own name`;
  for (const [field, valid, expected] of FIELDS) {
    if (!valid(r[field], r)) return `"${field}" is not ${expected}`;
  }
  if ((r.type ?? "container") !== name.type) return `"type" is not ${name.type}, the type of ${fileNameOfKey(base)}`;
  if (r.previous !== undefined) {
    const previous = checkRecord(r.previous, base);
    if (typeof previous === "string") return `"previous": ${previous}`;
    if (previous.previous !== undefined || previous.pending !== undefined) return `"previous" is not an applied version`;
    r = { ...r, previous };
  }
  return r as unknown as AcceptedUnit;
}

/**
 * [Install] as the symlinks records held before edges. They are written beside the edges so that
 * an operator who goes back to an earlier berth keeps the last accepted versions: that version
 * refuses a record without them.
 */
export function legacyLinks(unitName: string, install: readonly InstallEdge[]): Array<{ path: string; target: string }> {
  return install.map(({ kind, target, unit }) =>
    kind === "alias" ? { path: target, target: unit } : { path: `${target}.${kind}/${unit}`, target: `../${unitName}` });
}
