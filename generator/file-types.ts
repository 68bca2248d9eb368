import { translateBuild } from "./build-unit.js";
import { error } from "./diagnostics.js";
import { translateImage } from "./image-unit.js";
import { FILE_TYPES, type FileType } from "./names.js";
import { translateNetwork } from "./network-unit.js";
import { unitNameOf } from "./definition-names.js";
import { translateContainer } from "./container-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
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
    pull: undefined, spec: "", wantedAtBoot: false, text: "", install: [], aliases: [], dependencies: [], ports: [],
    diagnostics: [error(def.file, 0, POD_REFUSAL)],
  };
}

/** How each file type is translated into its unit. */
const TRANSLATORS: Readonly<Record<FileType, (def: Definition, ctx: TranslateContext) => Translated>> = {
  container: translateContainer, network: translateNetwork, volume: translateVolume, image: translateImage, build: translateBuild, pod: refusePod,
};

export function translateDefinition(def: Definition, ctx: TranslateContext): Translated {
  return TRANSLATORS[def.name.type](def, ctx);
}
