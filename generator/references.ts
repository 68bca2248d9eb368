import type { Dependency } from "./translate.js";
import type { Entry } from "./unit-file.js";

/**
 * References from one definition to another's Docker object, as Quadlet writes them:
 * `Network=db.network`, `Volume=data.volume:/var/lib/db`, `Image=app.image` or `Image=app.build`.
 * Each comes to the object's real Docker name, and to a unit the referring one must have
 * started first (Requires= and After=, as Quadlet adds them).
 */
export interface ReferenceContext {
  /** The unit name of a definition, by key (`db.network`), or undefined if there is none. */
  resolve(key: string): string | undefined;
  /** The Docker name of what a definition makes (network, volume, image, container), by key. */
  resource(key: string): string | undefined;
  /** The DNS servers a `.network` gives the containers on it (its DNS=), by key. */
  networkDns(key: string): readonly string[];
}

/** A unit that the referring definition uses, and the line that said so. */
export interface Use {
  unit: string;
  /** BindsTo= instead of Requires=: the unit stops with the one it uses (a pod's member with the pod). */
  bind?: true;
  /** The key of the referenced definition (`db.network`). */
  definition: string;
  entry: Entry;
}

export type Resolved = { value: string; use?: Use } | { error: string };

function referenceTo(key: string, entry: Entry, ctx: ReferenceContext): Resolved {
  const unit = ctx.resolve(key);
  const name = ctx.resource(key);
  if (unit === undefined || name === undefined) return { error: `"${key}" is not defined: there is no such file in the search path` };
  return { value: name, use: { unit, definition: key, entry } };
}

/** `NAME.volume` as the source of a `Volume=` (and of a `Mount=`): the volume's Docker name. Any other source is returned as it is. */
export function volumeSource(source: string, entry: Entry, ctx: ReferenceContext): Resolved {
  return /^[^/.][^/]*\.volume$/.test(source) ? referenceTo(source, entry, ctx) : { value: source };
}

/**
 * `NAME.network` in `Network=` (without the options after a colon, which networks.ts reads): the
 * network's Docker name. Any other value is returned as it is.
 */
export function networkReference(value: string, entry: Entry, ctx: ReferenceContext): Resolved {
  return value.endsWith(".network") ? referenceTo(value, entry, ctx) : { value };
}

/** `NAME.image` or `NAME.build` in `Image=`: the image that unit pulls or builds. Any other value is returned as it is. */
export function imageReference(value: string, entry: Entry, ctx: ReferenceContext): Resolved {
  return /\.(image|build)$/.test(value) ? referenceTo(value, entry, ctx) : { value };
}

/**
 * The `[Unit]` lines of the units used, and the dependencies they stand for: Requires= (a
 * failed network or volume means no container) and After= (created before the container starts).
 */
export function useLines(uses: readonly Use[], dependencies: Dependency[]): string[] {
  if (uses.length === 0) return [];
  const unitsOf = (list: readonly Use[]) => [...new Set(list.map((u) => u.unit))].join(" ");
  for (const u of uses) {
    dependencies.push({ key: u.bind ? "Unit.BindsTo" : "Unit.Requires", unit: u.unit, definition: u.definition, entry: u.entry });
    dependencies.push({ key: "Unit.After", unit: u.unit, definition: u.definition, entry: u.entry });
  }
  const required = uses.filter((u) => !u.bind);
  const bound = uses.filter((u) => u.bind);
  const lines = required.length > 0 ? [`Requires=${unitsOf(required)}`] : [];
  if (bound.length > 0) lines.push(`BindsTo=${unitsOf(bound)}`);
  lines.push(`After=${unitsOf(uses)}`);
  return lines;
}

/** `NAME.pod` in `Pod=`: the pod's name, and its unit, which the member is bound to. */
export function podReference(value: string, entry: Entry, ctx: ReferenceContext): Resolved {
  const r = /^[^/]+\.pod$/.test(value) ? referenceTo(value, entry, ctx) : { error: `expected NAME.pod, found "${value}"` };
  return "use" in r && r.use ? { ...r, use: { ...r.use, bind: true } } : r;
}
