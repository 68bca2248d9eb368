/** Quadlet's file types: what a definition makes, by its file name's suffix. */
export type FileType = "container" | "network" | "volume" | "image" | "build" | "pod";

/** Per file type: its section, and what its unit name adds to the base (`db.network` → `db-network.service`). */
export const FILE_TYPES: Readonly<Record<FileType, { section: string; unitSuffix: string }>> = {
  container: { section: "Container", unitSuffix: "" },
  network: { section: "Network", unitSuffix: "-network" },
  volume: { section: "Volume", unitSuffix: "-volume" },
  image: { section: "Image", unitSuffix: "-image" },
  build: { section: "Build", unitSuffix: "-build" },
  pod: { section: "Pod", unitSuffix: "-pod" },
};
const SUFFIXED = /\.(container|network|volume|image|build|pod)$/;
const OTHER_SUFFIX = /\.(network|volume|image|build|pod)$/;

/** How a definition's file name maps to systemd and Docker names. */
export interface DefinitionName {
  type: FileType;
  /** File name without its suffix: `keystone`, `worker@`, `worker@blue`. */
  base: string;
  /** For `worker@.container` and `worker@blue.container`: `worker`. */
  prefix: string;
  kind: "plain" | "template" | "instance";
  instance: string;
}

const BASE = /^([A-Za-z0-9][A-Za-z0-9_.:-]*)(?:@([A-Za-z0-9_.:\\-]*))?$/;
/** Docker's own rule for container names. */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;

/** Specifiers and the variables systemd substitutes, each standing for name characters; `$$` is a literal `$`. */
const EXPANDED_AT_START = /%[a-zA-Z]|\$\$|\$\{[^}]*\}|\$[A-Za-z_][A-Za-z0-9_]*/g;

/** Whether a name in unit syntax keeps Docker's rule for container names whatever its specifiers and variables stand for. */
export const isDockerName = (name: string): boolean => CONTAINER_NAME.test(name.replace(EXPANDED_AT_START, (m) => (m === "$$" ? "$" : "x")));

/** A pod's name, which its members write into their own units: a Docker name, with no specifier or variable to expand there differently. */
export const isPodName = (name: string): boolean => isDockerName(name) && !/[%$]/.test(name);
export const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.[a-z]+$/;
/** systemd's UNIT_NAME_MAX, less its NUL. */
export const UNIT_NAME_MAX = 255;

/** A name systemd takes for a unit, no longer than it allows. */
export const isUnitName = (v: unknown): v is string => typeof v === "string" && UNIT_NAME.test(v) && v.length <= UNIT_NAME_MAX;


/** Whether a file name has one of the definition suffixes (`.container`, `.network`…). */
export const hasDefinitionSuffix = (fileName: string): boolean => SUFFIXED.test(fileName);

/** Quadlet's file types that Docker cannot run, and why: such a file is warned about, not silently passed over. */
export const NOT_RUN: Readonly<Record<string, string>> = {
  kube: "berth does not run .kube files: they are played by podman kube play, which Docker has no counterpart of",
  artifact: "berth does not run .artifact files: OCI artifacts are Podman's, and Docker has none",
};
const NOT_RUN_SUFFIX = /\.(kube|artifact)$/;

/** The type of a Quadlet file berth does not run (`kube`, `artifact`), if it is one. */
export const notRunType = (fileName: string): string | undefined => NOT_RUN_SUFFIX.exec(fileName)?.[1];

/** Whether a file name is one of Quadlet's, run by berth or not: what the walk, its looks and berthd's watch see. */
export const isQuadletFile = (fileName: string): boolean => SUFFIXED.test(fileName) || NOT_RUN_SUFFIX.test(fileName);

export function parseDefinitionName(fileName: string): DefinitionName | undefined {
  const suffix = SUFFIXED.exec(fileName);
  if (!suffix) return undefined;
  const type = suffix[1] as FileType;
  const base = fileName.slice(0, suffix.index);
  const m = BASE.exec(base);
  // `db.network.container` would share its key (and its record) with `db.network`.
  if (!m || base.length > 200 || (type === "container" && OTHER_SUFFIX.test(base))) return undefined;
  const instance = m[2];
  if (instance === undefined) return { type, base, prefix: base, kind: "plain", instance: "" };
  return { type, base, prefix: m[1]!, kind: instance === "" ? "template" : "instance", instance };
}

/**
 * What identifies a definition in the set, in references and in its accepted record: the base
 * for a `.container` (as before there were other types), the file name for the others (`db.network`).
 */
export function definitionKey(name: Pick<DefinitionName, "type" | "base">): string {
  return name.type === "container" ? name.base : `${name.base}.${name.type}`;
}

/** The file name a key stands for: `db.network` for itself, `keystone.container` for `keystone`. */
export function fileNameOfKey(key: string): string {
  return OTHER_SUFFIX.test(key) ? key : `${key}.container`;
}

export function templateBase(name: DefinitionName): string {
  return `${name.prefix}@`;
}

/** `keystone.service`, `worker@.service`, `worker@blue.service`, `db-network.service`. */
export function defaultUnitName(name: DefinitionName): string {
  return `${name.base}${FILE_TYPES[name.type].unitSuffix}.service`;
}

/**
 * Containers are named after the definition (`keystone`), so `docker ps` reads like the host's
 * service list. Docker forbids `@`, so template instances become `worker-blue`; a template's
 * name carries `%i` for systemd to fill in.
 */
export function defaultContainerName(name: DefinitionName): string {
  if (name.kind === "plain") return name.base;
  return `${name.prefix}-${name.kind === "template" ? "%i" : name.instance}`;
}

/** For a name like `mariadb.container` or `db.network` in `[Unit]`, the key of the definition it refers to. */
export function referencedDefinition(value: string): string | undefined {
  if (!SUFFIXED.test(value)) return undefined;
  return value.endsWith(".container") ? value.slice(0, -".container".length) : value;
}

/** Whether a unit of this file type runs a container: a container's, or a pod's holder. Records before file types are containers'. */
export const runsContainer = (type: FileType | undefined): boolean => type === undefined || type === "container" || type === "pod";

/** The holder container of the pod named `pod`, whose namespaces its members join (Quadlet's infra name). */
export const holderOf = (pod: string): string => `${pod}-infra`;
