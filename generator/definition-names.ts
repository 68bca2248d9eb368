import { oneWord } from "./exec-line.js";
import { defaultContainerName, defaultUnitName, FILE_TYPES, isPodName } from "./names.js";
import type { Definition } from "./translate.js";
import { splitWords } from "./words.js";

/** The last assignment of a key of the file type's own section, read before translation (an empty one means the default). */
function lastValue(def: Definition, key: string): string | undefined {
  const entries = def.sections.get(FILE_TYPES[def.name.type].section) ?? [];
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return entries[i]!.value || undefined;
  return undefined;
}

/**
 * The DNS servers of a `.network` (DNS=, words, an empty assignment resetting them), which berth
 * gives each container on it: Docker has no per-network DNS server.
 */
export function networkDnsOf(def: Definition): string[] {
  if (def.name.type !== "network") return [];
  let servers: string[] = [];
  for (const e of def.sections.get("Network") ?? []) {
    if (e.key !== "DNS") continue;
    const split = splitWords(e.value);
    // A bad value is the network's own error (network-unit.ts); its containers get none of it.
    if (!split.ok || !split.words.every((w) => DNS_SERVER.test(w))) return [];
    servers = e.value === "" ? [] : servers.concat(split.words);
  }
  return servers;
}

/** What Docker's --dns takes: an IPv4 or IPv6 address. */
export const DNS_SERVER = /^(\d{1,3}(\.\d{1,3}){3}|[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*)$/;

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
    case "pod": {
      // An invalid name is the pod's own error; its members name the default holder meanwhile.
      const name = lastValue(def, "PodName");
      return name !== undefined && isPodName(name) ? name : `systemd-${def.name.base}`;
    }
  }
}
