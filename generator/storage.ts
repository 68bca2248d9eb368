import type { ContainerSection } from "./container-section.js";
import { againstDefinition, againstDefinitionIfDotted, startsExpanded } from "./host-paths.js";
import { formatMount, parseMount } from "./mount-option.js";
import type { Entry } from "./unit-file.js";

/**
 * The source of a volume or bind mount, as Docker needs it: a relative host path is resolved the
 * way Quadlet resolves it, and a Quadlet `.volume` unit is refused. `Volume=` and `Mount=` both come
 * here, so what one learns about sources the other does too. Undefined when refused.
 */
export function storageSource(c: ContainerSection, e: Entry, source: string, definitionFile: string): string | undefined {
  if (source.endsWith(".volume") && !source.includes("/")) {
    c.fail(e, "references to Quadlet .volume units are not supported; name a Docker volume or a host path");
    return undefined;
  }
  return againstDefinitionIfDotted(source, definitionFile);
}

/** `Volume=[SOURCE:]DEST[:OPTIONS]` as `--volume`, read as Quadlet reads it (split at the first two colons). */
export function volumeArgs(c: ContainerSection, definitionFile: string, argv: string[]): void {
  for (const e of c.entries("Volume")) {
    const colon = e.value.indexOf(":");
    if (colon <= 0) {
      argv.push("--volume", e.value);
      continue;
    }
    const source = storageSource(c, e, e.value.slice(0, colon), definitionFile);
    if (source !== undefined) argv.push("--volume", source + e.value.slice(colon));
  }
}

/** `EnvironmentFile=` words (as Quadlet splits them), each path resolved against the definition. */
export function environmentFileArgs(c: ContainerSection, definitionFile: string, argv: string[]): void {
  for (const { word } of c.words("EnvironmentFile")) argv.push("--env-file", againstDefinition(word, definitionFile));
}

/** `Mount=` words (as Quadlet splits them), each parsed and checked as Docker's `--mount` reads it. */
export function mountArgs(c: ContainerSection, definitionFile: string, argv: string[]): void {
  for (const { word, entry } of c.words("Mount")) {
    const m = parseMount(word);
    if ("error" in m) {
      c.fail(entry, m.error);
      continue;
    }
    const field = m.fields[m.source];
    if (field?.value !== undefined) {
      const source = storageSource(c, entry, field.value, definitionFile);
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
