/** How a definition's file name maps to systemd and Docker names. */
export interface DefinitionName {
  /** File name without `.container`: `keystone`, `worker@`, `worker@blue`. */
  base: string;
  /** For `worker@.container` and `worker@blue.container`: `worker`. */
  prefix: string;
  kind: "plain" | "template" | "instance";
  instance: string;
}

export const SUFFIX = ".container";
const BASE = /^([A-Za-z0-9][A-Za-z0-9_.:-]*)(?:@([A-Za-z0-9_.:\\-]*))?$/;
/** Docker's own rule for container names. */
export const CONTAINER_NAME = /^[a-zA-Z0-9][a-zA-Z0-9_.-]*$/;
export const UNIT_NAME = /^[A-Za-z0-9:_.\\-]+(@[A-Za-z0-9:_.\\-]*)?\.[a-z]+$/;
/** systemd's UNIT_NAME_MAX, less its NUL. */
export const UNIT_NAME_MAX = 255;

/** A name systemd takes for a unit, no longer than it allows. */
export const isUnitName = (v: unknown): v is string => typeof v === "string" && UNIT_NAME.test(v) && v.length <= UNIT_NAME_MAX;

/** The directories of [Install]'s dependency links (`T.wants/`), with the key each stands for. */
export const DEPENDENCY_OF_LINK_DIR: Readonly<Record<string, string>> = { wants: "Wants", requires: "Requires", upholds: "Upholds" };
/** `TARGET.wants/UNIT` and the like: the target, the kind and the unit. */
export const LINK_IN_DEPENDENCY_DIR = new RegExp(`^([^/]+)\\.(${Object.keys(DEPENDENCY_OF_LINK_DIR).join("|")})/([^/]+)$`);

export function parseDefinitionName(fileName: string): DefinitionName | undefined {
  if (!fileName.endsWith(SUFFIX)) return undefined;
  const base = fileName.slice(0, -SUFFIX.length);
  const m = BASE.exec(base);
  if (!m || base.length > 200) return undefined;
  const instance = m[2];
  if (instance === undefined) return { base, prefix: base, kind: "plain", instance: "" };
  return { base, prefix: m[1]!, kind: instance === "" ? "template" : "instance", instance };
}

export function templateBase(name: DefinitionName): string {
  return `${name.prefix}@`;
}

/** `keystone.service`, `worker@.service`, `worker@blue.service`. */
export function defaultUnitName(name: DefinitionName): string {
  return `${name.base}.service`;
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

/** For a unit name like `mariadb.container` in `[Unit]`, the definition it refers to. */
export function referencedDefinition(value: string): string | undefined {
  return value.endsWith(SUFFIX) ? value.slice(0, -SUFFIX.length) : undefined;
}
