import { translateBuild } from "./build-unit.js";
import { error } from "./diagnostics.js";
import { translateImage } from "./image-unit.js";
import { defaultContainerName, FILE_TYPES, type FileType } from "./names.js";
import { translateNetwork } from "./network-unit.js";
import { translate, unitNameOf, type Definition, type TranslateContext, type Translated } from "./translate.js";
import { translateVolume } from "./volume-unit.js";

/**
 * Docker has no pods, and emulating one (a holder container whose network namespace the others
 * join) would change what `systemctl stop` of a member and of the pod mean; berth says what to
 * write instead.
 */
export const POD_REFUSAL =
  ".pod files are not supported: Docker has no pods. Share one network namespace by giving the other containers " +
  "Network=OWNER.container (they join OWNER's, as docker's --network container:OWNER does), or put the containers on one NAME.network; " +
  "PublishPort= goes to the owner";

function refusePod(def: Definition): Translated {
  return {
    definition: def, type: "pod", unitName: unitNameOf(def), containerName: "", resource: "", image: undefined, imageFrom: undefined,
    pull: undefined, spec: "", wantedAtBoot: false, text: "", links: [], aliases: [], dependencies: [], ports: [],
    diagnostics: [error(def.file, 0, POD_REFUSAL)],
  };
}

/** How each file type is translated into its unit. */
const TRANSLATORS: Readonly<Record<FileType, (def: Definition, ctx: TranslateContext) => Translated>> = {
  container: translate, network: translateNetwork, volume: translateVolume, image: translateImage, build: translateBuild, pod: refusePod,
};

export function translateDefinition(def: Definition, ctx: TranslateContext): Translated {
  return TRANSLATORS[def.name.type](def, ctx);
}

/** The value in effect for a key: the last non-empty assignment, unless an empty one came after it. */
function lastValue(def: Definition, key: string): string | undefined {
  const entries = def.sections.get(FILE_TYPES[def.name.type].section) ?? [];
  for (let i = entries.length - 1; i >= 0; i--) if (entries[i]!.key === key) return entries[i]!.value || undefined;
  return undefined;
}

/**
 * The Docker name of what a definition makes, needed for the whole set before any one is
 * translated, since others refer to it by file name (`Network=db.network`).
 */
export function resourceNameOf(def: Definition): string | undefined {
  switch (def.name.type) {
    case "container":
      return lastValue(def, "ContainerName") ?? defaultContainerName(def.name);
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
      return undefined;
  }
}
