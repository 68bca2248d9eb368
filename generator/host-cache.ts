import { fileRunCache, runCachePath, runKey, type RunCache } from "./run-cache.js";
import type { Scope } from "./search-path.js";

/** The kept runs, and the generator's own file: a run made by another build is not reused. */
export interface GeneratorCache {
  runs: RunCache;
  bundle: string;
  /** The kept run was already found stale (by replay.ts): translate without reading it again. */
  recalled?: boolean;
}

/** The cache of the generator that systemd runs; BERTH_GENERATOR_CACHE sets its path, or turns it off. */
export const hostCache =
  (env: NodeJS.ProcessEnv, bundle: string, options: { recalled?: boolean } = {}) =>
  (scope: Scope): GeneratorCache | undefined => {
    const path = runCachePath(scope, env);
    return path === undefined ? undefined : { runs: fileRunCache(path, runKey(scope, bundle), env), bundle, ...options };
  };
