import type { ContainerSection } from "./container-section.js";
import { againstDefinition, againstDefinitionIfDotted, startsExpanded } from "./host-paths.js";
import { formatMount, parseMount } from "./mount-option.js";
import type { Entry } from "./unit-file.js";

/** `NAME.volume` as the Docker name of that definition's volume; undefined when it is not defined (reported). */
export type VolumeReference = (e: Entry, source: string) => string | undefined;

/**
 * The source of a volume or bind mount, as Docker needs it: a relative host path is resolved the
 * way Quadlet resolves it, and a Quadlet `.volume` unit becomes its volume's name. `Volume=` and
 * `Mount=` both come here, so what one learns about sources the other does too. Undefined when refused.
 */
export function storageSource(e: Entry, source: string, definitionFile: string, volume: VolumeReference): string | undefined {
  if (source.endsWith(".volume") && !source.includes("/")) return volume(e, source);
  return againstDefinitionIfDotted(source, definitionFile);
}

/** `Volume=[SOURCE:]DEST[:OPTIONS]` as `--volume`, read as Quadlet reads it (split at the first two colons). */
export function volumeArgs(c: ContainerSection, definitionFile: string, argv: string[], volume: VolumeReference): void {
  for (const e of c.entries("Volume")) {
    const colon = e.value.indexOf(":");
    if (colon <= 0) {
      argv.push("--volume", e.value);
      continue;
    }
    const source = storageSource(e, e.value.slice(0, colon), definitionFile, volume);
    if (source !== undefined) argv.push("--volume", source + e.value.slice(colon));
  }
}

/** `EnvironmentFile=` words (as Quadlet splits them), each path resolved against the definition. */
export function environmentFileArgs(c: ContainerSection, definitionFile: string, argv: string[]): void {
  for (const { word } of c.words("EnvironmentFile")) argv.push("--env-file", againstDefinition(word, definitionFile));
}

/** `Mount=` words (as Quadlet splits them), each parsed and checked as Docker's `--mount` reads it. */
export function mountArgs(c: ContainerSection, definitionFile: string, argv: string[], volume: VolumeReference): void {
  for (const { word, entry } of c.words("Mount")) {
    const m = parseMount(word);
    if ("error" in m) {
      c.fail(entry, m.error);
      continue;
    }
    const field = m.fields[m.source];
    if (field?.value !== undefined) {
      const source = storageSource(entry, field.value, definitionFile, volume);
      if (source === undefined) continue;
      if (m.type === "bind" && !source.startsWith("/") && !startsExpanded(source)) {
        c.fail(entry, `a bind mount's source is a host path: absolute, or starting with ./ or ../ (relative to the definition), not "${source}"`);
        continue;
      }
      m.fields[m.source] = { key: field.key, value: source };
    }
    argv.push("--mount", formatMount(m));
  }
}
