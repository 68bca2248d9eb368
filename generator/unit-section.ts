import { error } from "./diagnostics.js";
import { referencedDefinition } from "./names.js";
import type { Networks } from "./networks.js";
import { useLines, type Use } from "./references.js";
import type { Collected, Definition, TranslateContext } from "./translate.js";
import type { Entry } from "./unit-file.js";
import { copied } from "./unit-text.js";
import { splitUnitNames } from "./words.js";

/** `[Unit]` and `[Install]` keys whose values are unit names, so `x.container` must be rewritten. */
export const UNIT_REFERENCE_KEYS = new Set([
  "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "Conflicts", "Before", "After",
  "OnFailure", "OnSuccess", "PropagatesReloadTo", "ReloadPropagatedFrom", "PropagatesStopTo",
  "StopPropagatedFrom", "JoinsNamespaceOf",
]);

/** `%` is the only character systemd treats specially in the free-text values we write ourselves. */
function literal(text: string): string {
  return text.replaceAll("%", "%%");
}

/** [Unit]: the lines every berth unit has, then the definition's own. */
export function unitSection(def: Definition, ctx: TranslateContext, description: string, out: Collected, joins: Networks["joins"] = [], uses: readonly Use[] = []): string[] {
  const lines: string[] = [
    // Names are in specifier syntax already (`worker-%i`).
    `Description=${description}`,
    `Documentation=man:berth.container(5)`,
    `SourcePath=${literal(def.file)}`,
    // Wants, not Requires: a Docker restart must not cascade into restarting every container.
    "Wants=docker.service",
    "After=docker.service docker.socket",
  ];
  if (ctx.scope === "system") lines.push("Wants=network-online.target", "After=network-online.target");
  // Retry for as long as it takes (Docker down, a dependency late); a hard start limit left Kolla
  // services failed until someone ran reset-failed.
  lines.push("StartLimitIntervalSec=0");
  // As in Quadlet: the container whose network this one joins must run first, and a restart of it
  // (a new network namespace) restarts this one.
  for (const { definition, entry } of joins) {
    const unit = ctx.resolve(definition) ?? `${definition}.service`;
    lines.push(`Requires=${unit}`, `After=${unit}`);
    // One of the two names the definition, so a missing one is reported once.
    out.dependencies.push({ key: "Unit.Requires", unit, entry }, { key: "Unit.After", unit, definition, entry });
  }
  for (const line of useLines(uses, out.dependencies)) lines.push(line);
  for (const e of def.sections.get("Unit") ?? []) lines.push(rewrite("Unit", e, UNIT_REFERENCE_KEYS, ctx, out));
  return lines;
}

/** An assignment as written, with `x.container` in unit-list keys replaced by the unit it names. */
export function rewrite(section: string, entry: Entry, keys: ReadonlySet<string>, ctx: TranslateContext, out: Collected): string {
  if (!keys.has(entry.key)) return copied(entry, out.diagnostics);
  // Split as systemd splits these keys, escapes kept: decoding them would turn a typed `\n` into
  // a line break in the unit.
  const split = splitUnitNames(entry.value);
  if (!split.ok) {
    out.diagnostics.push(error(entry.file, entry.line, `${entry.key}=: ${split.message}`));
    return `${entry.key}=`;
  }
  const key = `${section}.${entry.key}`;
  const names: string[] = [];
  for (const word of split.words) {
    const ref = referencedDefinition(word);
    const resolved = ref === undefined ? word : ctx.resolve(ref) ?? `${ref}.service`;
    out.dependencies.push(ref === undefined ? { key, unit: resolved, entry } : { key, unit: resolved, definition: ref, entry });
    names.push(resolved);
  }
  return `${entry.key}=${names.join(" ")}`;
}
