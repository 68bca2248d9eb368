import { oneWord } from "./exec-line.js";
import { defaultContainerName, defaultUnitName } from "./names.js";
import type { Definition } from "./translate.js";

/** The last assignment of a `[Container]` key, read before translation (an empty one means the default). */
function lastValue(def: Definition, key: string): string | undefined {
  const entries = def.sections.get("Container") ?? [];
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return entries[i]!.value || undefined;
  return undefined;
}

/** The unit name a definition will get, needed for the whole set before any one is translated. */
export function unitNameOf(def: Definition): string {
  const last = lastValue(def, "ServiceName");
  if (!last) return defaultUnitName(def.name);
  const stem = last.replace(/\.service$/, "");
  if (def.name.kind === "instance") return `${stem.replace(/@$/, "")}@${def.name.instance}.service`;
  // A template stays a template whatever it is called, or %i would expand to nothing.
  if (def.name.kind === "template") return `${stem.replace(/@$/, "")}@.service`;
  return `${stem}.service`;
}

/** The container name a definition will get, in unit syntax: others in the set join its network by it. */
export function containerNameOf(def: Definition): string {
  return oneWord(lastValue(def, "ContainerName") ?? defaultContainerName(def.name));
}
