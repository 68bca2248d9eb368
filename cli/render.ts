import { existsSync } from "node:fs";
import { basename, resolve } from "node:path";
import { acceptedDir } from "../generator/accepted-store.js";
import { formatDiagnostic } from "../generator/diagnostics.js";
import { loadSet } from "../generator/load-set.js";
import { edgeLink } from "../generator/install-edges.js";
import { definitionKey, hasDefinitionSuffix, parseDefinitionName } from "../generator/names.js";
import type { Scope } from "../generator/search-path.js";
import { UsageError, type ParsedArgs } from "./args.js";

/** `berth render NAME|FILE`: the unit exactly as the generator would write it. */
export function render(args: ParsedArgs, scope: Scope): number {
  const target = args.positionals[0];
  if (!target || args.positionals.length > 1) throw new UsageError("render takes one NAME or FILE");
  const isFile = target.includes("/") || (hasDefinitionSuffix(target) && existsSync(target));
  const fileName = args.options.get("as") ?? basename(target);
  // systemd ignores a relative SourcePath=, and the unit names its source by it.
  const set = loadSet({ scope, overlay: isFile ? [{ fileName, path: resolve(target) }] : [], acceptedDir: acceptedDir(scope, process.env) });
  // A definition by its file name (`db.network`, `keystone.container`), its unit or its container.
  const named = parseDefinitionName(isFile ? fileName : target);
  const wanted = named ? definitionKey(named) : target.replace(/\.service$/, "");
  const translated = set.all.find((t) => definitionKey(t.definition.name) === wanted || t.unitName === `${wanted}.service` || (t.containerName !== "" && t.containerName === wanted));
  if (!translated) {
    process.stderr.write(`berth: no definition named "${target}" in ${set.dirs.join(", ")}\n`);
    return 1;
  }
  const source = set.sources.find((s) => s.file === translated.definition.file);
  const files = new Set([translated.definition.file, ...(source?.dropIns ?? [])]);
  for (const d of set.diagnostics) if (files.has(d.file)) process.stderr.write(formatDiagnostic(d) + "\n");
  // Set errors (a port clash, a missing dependency) do not stop the generator writing the unit.
  const unit = set.output.find((u) => u.file === translated.definition.file);
  if (!unit) return 1;
  process.stdout.write(unit.text);
  for (const edge of unit.install) {
    const link = edgeLink(edge, unit.unitName);
    process.stderr.write(`# and a symlink ${link.path} -> ${link.target}\n`);
  }
  return 0;
}
