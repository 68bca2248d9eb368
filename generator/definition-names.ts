import { oneWord } from "./exec-line.js";
import { defaultContainerName, defaultUnitName, FILE_TYPES } from "./names.js";
import type { Definition } from "./translate.js";

/** The last assignment of a key of the file type's own section, read before translation (an empty one means the default). */
function lastValue(def: Definition, key: string): string | undefined {
  const entries = def.sections.get(FILE_TYPES[def.name.type].section) ?? [];
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

/**
 * The Docker name of what a definition makes, needed for the whole set before any one is
 * translated, since others refer to it by file name (`Network=db.network`).
 */
export function resourceNameOf(def: Definition): string | undefined {
  switch (def.name.type) {
    case "container":
      return containerNameOf(def);
    case "network":
      return lastValue(def, "NetworkName") ?? `systemd-${def.name.base}`;
    case "volume":
      return lastValue(def, "VolumeName") ?? `systemd-${def.name.base}`;
    case "image":
      return lastValue(def, "Image")?.replace(/^docker:\/\//, "");
    case "build":
      // The first tag names the image, as in Quadlet.
      return (def.sections.get("Build") ?? []).find((e) => e.key === "ImageTag" && e.value !== "")?.value;
    case "pod":
      return lastValue(def, "PodName") ?? `systemd-${def.name.base}`;
  }
}
