import { acceptedDir } from "./accepted-store.js";
import { berthTarget } from "./berth-target.js";
import { hostCache, type GeneratorCache } from "./host-cache.js";
import { loadSet } from "./load-set.js";
import { noteFile, observe, observedEnv } from "./observed-fs.js";
import type { Run } from "./run-cache.js";
import { detectScope, type Scope } from "./search-path.js";
import { complain, exitWith, toKmsg, writeRun, type Report } from "./write-run.js";

/** Reads and translates every definition: what the run writes, and what it says. */
function translateAll(scope: Scope, env: NodeJS.ProcessEnv): Run {
  const set = loadSet({ scope, env, acceptedDir: acceptedDir(scope, env) });
  const target = berthTarget(set.output, scope);
  return { units: target ? [...set.output, target] : set.output, diagnostics: set.diagnostics };
}

/**
 * The run, from the cache when nothing it depends on has changed. The generator's own file is
 * stat'ed with the definitions: a new build translates anew.
 */
function cachedRun(scope: Scope, env: NodeJS.ProcessEnv, cache: GeneratorCache): Run {
  const kept = cache.recalled ? undefined : cache.runs.recall();
  if (kept) return kept;
  observe(true);
  let run: Run;
  try {
    noteFile(cache.bundle);
    run = translateAll(scope, observedEnv(env));
  } catch (e) {
    observe(false);
    throw e;
  }
  cache.runs.keep(observe(false)!, run);
  return run;
}

/** systemd.generator(7): `berth-generator normal-dir [early-dir late-dir]`. */
export function generate(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  report: Report = toKmsg,
  cacheFor: (scope: Scope) => GeneratorCache | undefined = () => undefined,
): number {
  const outDir = argv[0];
  if (!outDir) {
    complain("usage: berth-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
    return 2;
  }
  const scope = detectScope(env);
  const cache = cacheFor(scope);
  return writeRun(outDir, cache ? cachedRun(scope, env, cache) : translateAll(scope, env), report);
}

/**
 * Runs as bin/berth-generator does, which loads this bundle with its code cache once replay.ts
 * found no kept run to write.
 */
export function runGenerator(argv: readonly string[]): void {
  exitWith(generate(argv, process.env, toKmsg, hostCache(process.env, `${import.meta.dirname}/berth-generator.cjs`, { recalled: true })));
}
