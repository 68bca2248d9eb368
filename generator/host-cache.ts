import { existsSync } from "node:fs";
import { fileRunCache, keptRunPaths, runKey, type KeptBy, type RunCache } from "./run-cache.js";
import type { Scope } from "./search-path.js";

/** The kept runs, and the generator's own file: a run made by another build is not reused. */
export interface GeneratorCache {
  runs: RunCache;
  bundle: string;
  /** The kept run was already found stale (by replay.ts): translate without reading it again. */
  recalled?: boolean;
}

/** The cache of the generator that systemd runs (see keptRunPaths); BERTH_GENERATOR_CACHE sets its path, or turns it off. */
export const hostCache =
  (env: NodeJS.ProcessEnv, bundle: string, options: { recalled?: boolean; by?: KeptBy } = {}) =>
  (scope: Scope): GeneratorCache | undefined => {
    const paths = keptRunPaths(scope, env);
    if (!paths) return undefined;
    const key = runKey(scope, bundle);
    const runtime = fileRunCache(paths.runtime, key, env, Date.now(), options.by);
    // The first run after boot finds the runtime directory empty, and the run that berthd saved as
    // it stopped may still hold. Later runs keep their own; the saved one is older.
    const saved = paths.saved === undefined ? undefined : fileRunCache(paths.saved, key, env);
    const recall = () => (saved && !existsSync(paths.runtime) ? saved.recall() : runtime.recall());
    return { runs: { recall, keep: runtime.keep }, bundle, ...(options.recalled ? { recalled: true } : {}) };
  };
