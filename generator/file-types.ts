import { translateBuild } from "./build-unit.js";
import { translateImage } from "./image-unit.js";
import type { FileType } from "./names.js";
import { translateNetwork } from "./network-unit.js";
import { translatePod } from "./pod-unit.js";
import { translateContainer } from "./container-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
import { translateVolume } from "./volume-unit.js";

/** How each file type is translated into its unit. */
const TRANSLATORS: Readonly<Record<FileType, (def: Definition, ctx: TranslateContext) => Translated>> = {
  container: translateContainer, network: translateNetwork, volume: translateVolume, image: translateImage, build: translateBuild, pod: translatePod,
};

export function translateDefinition(def: Definition, ctx: TranslateContext): Translated {
  return TRANSLATORS[def.name.type](def, ctx);
}
