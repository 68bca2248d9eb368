import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildSet, type BuiltSet } from "./build-set.js";
import type { Translated } from "./translate.js";
import { error } from "./diagnostics.js";
import { discoverDefinitions, findDropIns, loadDefinition, type DefinitionSource } from "./load-definitions.js";
import { parseDefinitionName } from "./names.js";
import { unitDirs, type Scope } from "./search-path.js";

export function detectScope(env: NodeJS.ProcessEnv = process.env): Scope {
  // systemd ≥ 251 tells generators which manager runs them.
  if (env.SYSTEMD_SCOPE === "user" || env.SYSTEMD_SCOPE === "system") return env.SYSTEMD_SCOPE;
  return process.getuid?.() === 0 ? "system" : "user";
}

function dockerPath(env: NodeJS.ProcessEnv): string {
  if (env.BERTH_DOCKER) return env.BERTH_DOCKER;
  return ["/usr/bin/docker", "/usr/local/bin/docker", "/bin/docker"].find((p) => existsSync(p)) ?? "/usr/bin/docker";
}

export interface LoadSetOptions {
  /** Receives each writable unit as soon as it is translated. */
  onUnit?: (unit: Translated) => void;
  scope: Scope;
  env?: NodeJS.ProcessEnv;
  /** Replaces the configured search directories. */
  dirs?: readonly string[];
  /** Extra files standing in for definitions of the given file name (`berth validate --as`). */
  overlay?: ReadonlyArray<{ fileName: string; path: string }>;
}

export interface LoadedSet extends BuiltSet {
  dirs: readonly string[];
  sources: DefinitionSource[];
}

/** Reads every definition on the search path and translates the set, as the generator does. */
export function loadSet(options: LoadSetOptions): LoadedSet {
  const env = options.env ?? process.env;
  const dirs = options.dirs ?? unitDirs(options.scope, env);
  const found = discoverDefinitions(dirs);
  const sources = found.sources;
  const diagnostics = [...found.diagnostics];
  for (const o of options.overlay ?? []) {
    const name = parseDefinitionName(o.fileName);
    if (!name) {
      diagnostics.push(error(o.path, 0, `"${o.fileName}" is not a valid definition name (NAME.container)`));
      continue;
    }
    const source: DefinitionSource = { name, file: o.path, dropIns: findDropIns(dirs, name) };
    const index = sources.findIndex((s) => s.name.base === name.base);
    if (index >= 0) sources[index] = source;
    else sources.push(source);
  }
  const loaded = sources.map((s) => loadDefinition(s)).filter((l) => !l.masked);
  const built = buildSet(loaded, {
    docker: dockerPath(env),
    // The executables are bundled side by side in dist/.
    helper: [process.execPath, join(import.meta.dirname, "berth-container.js")],
    scope: options.scope,
    searched: dirs,
  }, options.onUnit);
  return { ...built, diagnostics: [...diagnostics, ...built.diagnostics], dirs, sources };
}
