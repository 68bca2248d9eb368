import { acceptedDir } from "./accepted-store.js";
import { berthTarget } from "./berth-target.js";
import type { GeneratorCache } from "./host-cache.js";
import { loadSet, type LoadedSet } from "./load-set.js";
import { noteFile, observe, observedEnv, type Recording } from "./observed-fs.js";
import type { Run } from "./run-cache.js";
import type { Scope } from "./search-path.js";

/** What the generator writes for a set, and what it says. */
export function runOf(set: LoadedSet, scope: Scope): Run {
  const target = berthTarget(set.output, scope);
  return { units: target ? [...set.output, target] : set.output, diagnostics: set.diagnostics };
}

/** Reads and translates every definition: what the run writes, and what it says. */
export function translateAll(scope: Scope, env: NodeJS.ProcessEnv): Run {
  return runOf(loadSet({ scope, env, acceptedDir: acceptedDir(scope, env) }), scope);
}

/**
 * What `translate` returns, and what it looked at: the environment it is given is observed, and
 * the generator's bundle is stat'ed first, so that a new build translates anew.
 */
export function observing<T>(bundle: string, env: NodeJS.ProcessEnv, translate: (env: NodeJS.ProcessEnv) => T): { value: T; looks: Recording } {
  observe(true);
  let value: T;
  try {
    noteFile(bundle);
    value = translate(observedEnv(env));
  } catch (e) {
    observe(false);
    throw e;
  }
  return { value, looks: observe(false)! };
}

/** Translates every definition, and keeps the run when it may be kept. */
export function translateAndKeep(scope: Scope, env: NodeJS.ProcessEnv, cache: GeneratorCache): Run {
  const { value: run, looks } = observing(cache.bundle, env, (observed) => translateAll(scope, observed));
  cache.runs.keep(looks, run);
  return run;
}
