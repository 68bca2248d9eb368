import { translateBuild } from "./build-unit.js";
import { translateImage } from "./image-unit.js";
import type { FileType } from "./names.js";
import { translateNetwork } from "./network-unit.js";
import { translatePod } from "./pod-unit.js";
import { translateContainer } from "./container-unit.js";
import { expandDataDir } from "./specifiers.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
import type { Sections } from "./unit-file.js";
import { translateVolume } from "./volume-unit.js";

/** How each file type is translated into its unit. */
const TRANSLATORS: Readonly<Record<FileType, (def: Definition, ctx: TranslateContext) => Translated>> = {
  container: translateContainer, network: translateNetwork, volume: translateVolume, image: translateImage, build: translateBuild, pod: translatePod,
};

export function translateDefinition(def: Definition, ctx: TranslateContext): Translated {
  const expanded = withDataDir(def, ctx.dataDir);
  const t = TRANSLATORS[def.name.type](expanded, ctx);
  // The definition as written: its digest tells berthd whether the operator changed it, which
  // neither writing %D out (an upgrade of berth) nor a user's data directory does.
  return expanded === def ? t : { ...t, definition: def };
}

/** The definition with `%D` written out in every section (expandDataDir); itself when it has none. */
function withDataDir(def: Definition, dataDir: string): Definition {
  let sections: Sections | undefined;
  def.sections.forEach((entries, name) => {
    if (!entries.some((e) => e.value.includes("%D"))) return;
    sections ??= new Map(def.sections);
    sections.set(name, entries.map((e) => (e.value.includes("%D") ? { ...e, value: expandDataDir(e.value, dataDir) } : e)));
  });
  return sections ? { ...def, sections } : def;
}
