import { error, hasErrors, type Diagnostic } from "./diagnostics.js";
import type { LoadedDefinition } from "./load-definitions.js";
import { translate, unitNameOf, type TranslateContext, type Translated } from "./translate.js";
import { validateSet } from "./validate-set.js";

export type BuildOptions = Omit<TranslateContext, "resolve"> & { searched: readonly string[] };

export interface BuiltSet {
  /** Units that can be written: those whose own file had no error. */
  units: Translated[];
  /** Every definition that was translated, valid or not, for reporting. */
  all: Translated[];
  diagnostics: Diagnostic[];
}

/**
 * Translates a whole set. A definition with an error of its own is left out, and only it: the
 * rest of the directory is still generated. Name clashes are settled in search-path order, so the
 * definition that was there first keeps its unit and its container.
 */
export function buildSet(loaded: readonly LoadedDefinition[], options: BuildOptions): BuiltSet {
  const unitNames = new Map<string, string>();
  for (const l of loaded) unitNames.set(l.definition.name.base, unitNameOf(l.definition));
  const templates = new Map<string, string>();
  for (const l of loaded) {
    if (l.definition.name.kind === "template") templates.set(l.definition.name.prefix, unitNames.get(l.definition.name.base)!);
  }
  const resolve = (base: string): string | undefined => {
    const direct = unitNames.get(base);
    if (direct) return direct;
    const at = base.indexOf("@");
    const template = at > 0 ? templates.get(base.slice(0, at)) : undefined;
    return template?.replace(/@\.service$/, `@${base.slice(at + 1)}.service`);
  };
  const ctx: TranslateContext = { ...options, resolve };

  const diagnostics: Diagnostic[] = [];
  const all: Translated[] = [];
  const units: Translated[] = [];
  const claimedUnits = new Map<string, Translated>();
  const claimedContainers = new Map<string, Translated>();
  for (const l of loaded) {
    const t = translate(l.definition, ctx);
    const mine = l.diagnostics.length > 0 ? [...l.diagnostics, ...t.diagnostics] : t.diagnostics;
    const clash = (kind: string, name: string, owner: Translated | undefined): void => {
      if (owner) mine.push(error(l.definition.file, 0, `${kind} "${name}" is already used by ${owner.definition.file}`));
    };
    // A definition that cannot be generated claims no name, so a valid namesake still runs.
    const broken = hasErrors(mine);
    clash("unit name", t.unitName, claimedUnits.get(t.unitName));
    clash("container name", t.containerName, claimedContainers.get(t.containerName));
    if (!broken && !claimedUnits.has(t.unitName)) claimedUnits.set(t.unitName, t);
    if (!broken && !claimedContainers.has(t.containerName)) claimedContainers.set(t.containerName, t);
    if (mine.length > 0) diagnostics.push(...mine);
    if (!hasErrors(mine)) units.push(t);
    all.push(t);
  }
  diagnostics.push(...validateSet(all, options.searched));
  return { units, all, diagnostics };
}
