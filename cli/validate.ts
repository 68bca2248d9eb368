import { statSync } from "node:fs";
import { basename } from "node:path";
import { formatDiagnostic, hasErrors, type Diagnostic } from "../generator/diagnostics.js";
import { loadSet } from "../generator/load-set.js";
import type { Scope } from "../generator/search-path.js";
import { UsageError, type ParsedArgs } from "./args.js";

/**
 * `berth validate [--json] [--strict] [--as NAME.container|network|volume|image|build] [PATH…]`. Directories replace the
 * search path; files are checked in the context of the set, standing in for the definition of
 * the same name. `--as` names a file whose own name says nothing, as Ansible's `validate:` gives:
 * a definition (NAME.container) or a drop-in (NAME.container.d/FILE.conf).
 */
export function validate(args: ParsedArgs, scope: Scope): number {
  const dirs: string[] = [];
  const files: string[] = [];
  for (const p of args.positionals) {
    let isDir = false;
    try {
      isDir = statSync(p).isDirectory();
    } catch {
      throw new UsageError(`${p}: no such file or directory`);
    }
    (isDir ? dirs : files).push(p);
  }
  const as = args.options.get("as");
  if (as !== undefined && files.length !== 1) throw new UsageError("--as goes with exactly one file");
  // A drop-in is named with its directory (keystone.container.d/10-host.conf); a leading
  // /etc/berth/ is allowed on either.
  const named = as === undefined ? undefined : as.endsWith(".conf") ? as.split("/").slice(-2).join("/") : basename(as);
  const overlay = files.map((path) => ({ fileName: named ?? basename(path), path }));
  // Checked against this host's own set (what Ansible's validate: does on the target), a secret
  // missing from the host's credential store is an error, as a missing dependency is: deploy it
  // first. Another tree may be checked anywhere, so there it is a warning (--strict refuses it).
  const set = loadSet({ scope, ...(dirs.length > 0 ? { dirs } : {}), overlay, missingCredential: dirs.length > 0 ? "warning" : "error" });
  // A checked file's drop-ins are part of it.
  const own = new Set(set.sources.filter((s) => files.includes(s.file)).flatMap((s) => [s.file, ...s.dropIns]));
  const relevant = (d: Diagnostic): boolean => files.length === 0 || files.includes(d.file) || own.has(d.file);
  const strict = args.flags.has("strict");
  const shown = set.diagnostics.filter(relevant).map((d) => (strict && d.severity === "warning" ? { ...d, severity: "error" as const } : d));
  const failed = hasErrors(shown);
  if (args.flags.has("json")) {
    const checked = files.length > 0 ? files : set.sources.map((s) => s.file);
    process.stdout.write(JSON.stringify({ valid: !failed, checked, diagnostics: shown }, null, 2) + "\n");
  } else {
    for (const d of shown) process.stderr.write(formatDiagnostic(d) + "\n");
    const count = files.length > 0 ? files.length : set.sources.length;
    const what = `${count} definition${count === 1 ? "" : "s"} in ${files.length > 0 ? "context of " : ""}${set.dirs.join(", ")}`;
    process.stdout.write(`${failed ? "invalid" : "valid"}: ${what}\n`);
  }
  return failed ? 1 : 0;
}
