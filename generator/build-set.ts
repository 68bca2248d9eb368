import { capDiagnostics, error, hasErrors, sortByFile, type Diagnostic } from "./diagnostics.js";
import type { AcceptedUnit } from "./accepted-store.js";
import type { LoadedDefinition } from "./load-definitions.js";
import { translateDefinition } from "./file-types.js";
import { networkDnsOf, resourceNameOf, unitNameOf } from "./definition-names.js";
import { definitionKey, runsContainer, type FileType } from "./names.js";
import type { TranslateContext, Translated } from "./translate.js";
import { validateSet } from "./validate-set.js";

export type BuildOptions = Omit<TranslateContext, "resolve" | "resource" | "networkDns" | "containerOf"> & {
  searched: readonly string[];
  /** The last accepted version of a definition file, which stands in for it while it has errors. */
  accepted?: (base: string, file: string) => AcceptedUnit | undefined;
};

export interface BuiltSet {
  /** Units that can be written: those whose own file had no error. */
  units: Translated[];
  /** Every definition that was translated, valid or not, for reporting. */
  all: Translated[];
  /** Accepted versions standing in for definitions with errors of their own, holding their names. */
  standIns: Map<Translated, AcceptedUnit>;
  diagnostics: Diagnostic[];
}

/**
 * Translates a whole set. A definition with an error of its own is left out, and only it: the
 * rest of the directory is still generated. Name clashes are settled in search-path order, so the
 * definition that was there first keeps its unit and its container.
 */
export function buildSet(loaded: readonly LoadedDefinition[], options: BuildOptions): BuiltSet {
  // By definition key (`db`, `db.network`): its unit, and the Docker name of what it makes.
  const unitNames = new Map<string, string>();
  const resources = new Map<string, string | undefined>();
  const dns = new Map<string, string[]>();
  // Each definition's own unit name, which no alias may take, even while the definition is invalid.
  const ownerOfName = new Map<string, string>();
  for (const l of loaded) {
    const name = unitNameOf(l.definition);
    const key = definitionKey(l.definition.name);
    unitNames.set(key, name);
    resources.set(key, resourceNameOf(l.definition));
    if (l.definition.name.type === "network") dns.set(key, networkDnsOf(l.definition));
    if (!ownerOfName.has(name)) ownerOfName.set(name, l.definition.file);
  }
  const templates = new Map<string, string>();
  for (const l of loaded) {
    if (l.definition.name.kind === "template" && l.definition.name.type === "container") templates.set(l.definition.name.prefix, unitNames.get(l.definition.name.base)!);
  }
  const resolve = (base: string): string | undefined => {
    const direct = unitNames.get(base);
    if (direct) return direct;
    const at = base.indexOf("@");
    const template = at > 0 ? templates.get(base.slice(0, at)) : undefined;
    return template?.replace(/@\.service$/, `@${base.slice(at + 1)}.service`);
  };
  // An instance with no file of its own is named by its template, with its instance for %i.
  const containerOf = (base: string): string | undefined => {
    const direct = resources.get(base);
    if (direct !== undefined) return direct;
    const at = base.indexOf("@");
    return at > 0 ? resources.get(base.slice(0, at + 1))?.replaceAll("%i", base.slice(at + 1)) : undefined;
  };
  const ctx: TranslateContext = { ...options, resolve, resource: (key) => resources.get(key), networkDns: (key) => dns.get(key) ?? [], containerOf };

  let diagnostics: Diagnostic[] = [];
  const all: Translated[] = [];
  const units: Translated[] = [];
  const standIns = new Map<Translated, AcceptedUnit>();
  const claimedUnits = new Map<string, Translated>();
  // Docker names by kind: a network may share its name with a container, not with another network.
  const claimedContainers = new Map<string, Translated>();
  const claim = (t: { type: FileType; containerName: string; resource: string }): string | undefined =>
    runsContainer(t.type) ? t.containerName : t.type === "network" || t.type === "volume" ? `${t.type} ${t.resource}` : undefined;
  for (const l of loaded) {
    const t = translateDefinition(l.definition, ctx);
    const mine = l.unread ? l.diagnostics : l.diagnostics.length > 0 ? sortByFile(l.diagnostics.concat(t.diagnostics), l.definition.files) : t.diagnostics;
    const clash = (kind: string, name: string, owner: Translated | undefined): void => {
      if (owner) mine.push(error(l.definition.file, 0, `${kind} "${name}" is already used by ${owner.definition.file}${standIns.has(owner) ? " (its last accepted version)" : ""}`));
    };
    clash("unit name", t.unitName, claimedUnits.get(t.unitName));
    const claimed = claim(t);
    const dockerObject = t.type === "network" || t.type === "volume";
    if (claimed !== undefined) clash(dockerObject ? `${t.type} name` : "container name", dockerObject ? t.resource : t.containerName, claimedContainers.get(claimed));
    for (const { name, entry } of t.aliases) {
      const owner = ownerOfName.get(name) ?? claimedUnits.get(name)?.definition.file;
      if (owner) mine.push(error(entry.file, entry.line, `[Install] Alias=: "${name}" is already the name of a unit of ${owner}`));
    }
    if (!hasErrors(mine)) {
      claimedUnits.set(t.unitName, t);
      for (const a of t.aliases) claimedUnits.set(a.name, t);
      if (claimed !== undefined) claimedContainers.set(claimed, t);
      units.push(t);
    } else {
      // It cannot be generated, so it claims no name and a valid namesake still runs, unless its
      // last accepted version stands in for it: that one keeps running under its own names.
      const standIn = options.accepted?.(definitionKey(l.definition.name), l.definition.file);
      const names = standIn ? [standIn.unitName, ...standIn.install.filter((e) => e.kind === "alias").map((e) => e.target)] : [];
      const standInClaim = standIn && claim({ type: standIn.type ?? "container", containerName: standIn.containerName, resource: standIn.resource ?? standIn.containerName });
      const holder = standIn && (names.map((n) => claimedUnits.get(n)).find(Boolean) ?? (standInClaim === undefined ? undefined : claimedContainers.get(standInClaim)));
      if (standIn && holder) {
        mine.push(error(l.definition.file, 0, `its last accepted version cannot stand in: ${holder.definition.file} now uses its unit, alias or container name`));
      } else if (standIn) {
        standIns.set(t, standIn);
        for (const n of names) claimedUnits.set(n, t);
        if (standInClaim !== undefined) claimedContainers.set(standInClaim, t);
      }
    }
    // concat, not push(...mine): a spread passes every element as an argument, and a long list
    // overflows the stack.
    if (mine.length > 0) diagnostics = diagnostics.concat(capDiagnostics(mine));
    all.push(t);
  }
  diagnostics = diagnostics.concat(validateSet(all, options.searched, new Set([...units, ...standIns.keys()])));
  return { units, all, standIns, diagnostics };
}
