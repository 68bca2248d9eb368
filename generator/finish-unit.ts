import type { ContainerSection } from "./container-section.js";
import { error, hasErrors, sortByFile, warning } from "./diagnostics.js";
import { installEdges, INSTALL_REFERENCE_KEYS } from "./install-edges.js";
import { FILE_TYPES } from "./names.js";
import type { Collected, Definition, TranslateContext, Translated } from "./translate.js";
import { rewrite } from "./unit-section.js";
import { checkLines, copied, CONTROL, unitLines, type Section } from "./unit-text.js";

/** Sections translate() writes itself, beside the file type's own; every other one is passed through. */
const OWN_SECTIONS = new Set(["Unit", "Service", "Install"]);

/** The checks every file type shares: the file's path, and ServiceName=. */
export function checkCommon(def: Definition, c: ContainerSection, out: Collected): void {
  // The path goes into the header comment and SourcePath=, where no escape can carry a line break.
  if (CONTROL.test(def.file)) out.diagnostics.push(error(def.file, 0, "the path contains a control character (a line break?); move the file to a plain path"));
  const serviceName = c.single("ServiceName");
  if (serviceName && !/^[A-Za-z0-9:_.\\-]+@?(\.service)?$/.test(serviceName.value)) {
    c.fail(serviceName, `"${serviceName.value}" is not a valid service name`);
  }
}

/**
 * What every file type's unit has beside its own [Unit] and [Service] lines: the sections passed
 * through, the [Install] links, the text, and the last check of its lines.
 */
export function finishUnit(
  def: Definition,
  ctx: TranslateContext,
  unitName: string,
  c: ContainerSection,
  out: Collected,
  sections: Section[],
): Pick<Translated, "definition" | "unitName" | "wantedAtBoot" | "text" | "install" | "aliases" | "dependencies" | "diagnostics"> {
  const own = FILE_TYPES[def.name.type].section;
  // forEach, not for-of: destructuring each [name, entries] pair steps an iterator per pair.
  def.sections.forEach((entries, name) => {
    if (name === own || OWN_SECTIONS.has(name)) return;
    if (name === "Quadlet") {
      if (entries.length > 0) out.diagnostics.push(warning(entries[0]!.file, entries[0]!.line, "[Quadlet] settings do not apply to berth; ignored"));
      return;
    }
    sections.push({ name, lines: entries.map((e) => copied(e, out.diagnostics)) });
  });
  const { install, aliases } = installEdges(def, unitName, out, (e) => rewrite("Install", e, INSTALL_REFERENCE_KEYS, ctx, out));

  const lines = unitLines(def.file, sections);
  const text = lines.join("\n");
  // Only a unit that would be written: with errors, bad lines are already reported at their source.
  if (!hasErrors(out.diagnostics) && !hasErrors(c.diagnostics)) checkLines(def.file, lines, text, out.diagnostics);
  const diagnostics = c.diagnostics.length > 0 ? out.diagnostics.concat(c.diagnostics) : out.diagnostics;
  return {
    definition: def,
    unitName,
    // A dropped definition is a service that should run, at boot too, not only when berthd starts
    // it. An [Install] section, even an empty one, takes this over.
    wantedAtBoot: !def.sections.has("Install") && def.name.kind !== "template",
    text,
    install,
    aliases,
    dependencies: out.dependencies,
    diagnostics: sortByFile(diagnostics, def.files),
  };
}

