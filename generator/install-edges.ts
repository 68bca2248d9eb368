import { error, warning, type Diagnostic } from "./diagnostics.js";
import { isUnitName } from "./names.js";
import type { Collected, Definition, InstallEdge, Translated } from "./translate.js";
import type { Entry } from "./unit-file.js";
import { splitWords } from "./words.js";

export const INSTALL_REFERENCE_KEYS = new Set(["WantedBy", "RequiredBy", "UpheldBy", "Also"]);
/** The [Install] keys that make an edge, and its kind. */
const EDGE_OF_KEY: Readonly<Record<string, InstallEdge["kind"]>> = { WantedBy: "wants", RequiredBy: "requires", UpheldBy: "upholds", Alias: "alias" };

/**
 * Generated units cannot be enabled, so [Install] is carried out by the generator: as edges here,
 * which only the writer turns into files (write-units.ts).
 */
export function installEdges(
  def: Definition,
  unitName: string,
  out: Collected,
  rewrite: (e: Entry) => string,
): Pick<Translated, "install" | "aliases"> {
  const install: InstallEdge[] = [];
  const aliases: Translated["aliases"] = [];
  const lists = new Map<string, Array<{ name: string; entry: Entry }>>();
  let defaultInstance: string | undefined;
  for (const e of def.sections.get("Install") ?? []) {
    if (e.key === "DefaultInstance") {
      defaultInstance = e.value || undefined;
      continue;
    }
    if (!Object.hasOwn(EDGE_OF_KEY, e.key)) {
      if (e.key !== "Also") out.diagnostics.push(warning(e.file, e.line, `[Install] ${e.key}= has no effect on a generated unit; ignored`));
      continue;
    }
    if (e.value === "") {
      lists.set(e.key, []);
      continue;
    }
    // Alias= names this unit itself, so it is only unquoted (as Quadlet does), never rewritten.
    const split = e.key === "Alias" ? splitWords(e.value) : { ok: true as const, words: rewrite(e).slice(e.key.length + 1).split(/\s+/).filter(Boolean) };
    if (!split.ok) {
      out.diagnostics.push(error(e.file, e.line, `${e.key}=: ${split.message}`));
      continue;
    }
    const list = lists.get(e.key) ?? [];
    for (const name of split.words) list.push({ name, entry: e });
    lists.set(e.key, list);
  }
  let enabledName = unitName;
  if (def.name.kind === "template") {
    if (!defaultInstance) {
      if ([...lists.values()].some((l) => l.length > 0)) noInstance(def, out.diagnostics);
      return { install, aliases };
    }
    enabledName = unitName.replace(/@\.service$/, `@${defaultInstance}.service`);
  }
  for (const [key, targets] of lists) {
    for (const { name, entry } of targets) {
      const problem = isUnitName(name) ? key === "Alias" && aliasProblem(name, unitName) : "is not a unit name";
      if (problem) out.diagnostics.push(error(entry.file, entry.line, `[Install] ${key}=: "${name}" ${problem}`));
      else if (key === "Alias") aliases.push({ name, entry });
      else install.push({ kind: EDGE_OF_KEY[key]!, target: name, unit: enabledName });
    }
  }
  for (const a of aliases) install.push({ kind: "alias", target: a.name, unit: unitName });
  return { install, aliases };
}

/**
 * systemd's rule for an alias: another name of the same unit, so of the same type, a template
 * for a template and the same instance for an instance. Anything else would make the link
 * stand for a different unit (`Alias=berth.target` once replaced the target).
 */
function aliasProblem(alias: string, unitName: string): string | undefined {
  if (alias === unitName) return "is the unit's own name";
  if (!alias.endsWith(".service")) return "is not a .service name: an alias has the type of its unit";
  const at = (name: string) => name.slice(name.indexOf("@") + 1 || name.length);
  if (alias.includes("@") !== unitName.includes("@") || at(alias) !== at(unitName)) {
    return `must be ${unitName.includes("@") ? `a name like NAME@${at(unitName)}` : "a name without \"@\""}, as the unit ${unitName} is`;
  }
  return undefined;
}

function noInstance(def: Definition, diagnostics: Diagnostic[]): void {
  diagnostics.push(warning(def.file, 0, "[Install] of a template needs DefaultInstance= (or an instance file such as name@inst.container); nothing enabled"));
}

/** The symlink systemctl enable would make for an edge, as `berth render` shows it. */
export function edgeLink(edge: InstallEdge, unitName: string): { path: string; target: string } {
  return edge.kind === "alias" ? { path: edge.target, target: edge.unit } : { path: `${edge.target}.${edge.kind}/${edge.unit}`, target: `../${unitName}` };
}
