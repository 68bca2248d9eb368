import { hostCache, type GeneratorCache } from "./host-cache.js";
import type { Run } from "./run-cache.js";
import { detectScope, type Scope } from "./search-path.js";
import { translateAll, translateAndKeep } from "./translate-run.js";
import { complain, exitWith, toKmsg, writeRun, type Report } from "./write-run.js";

/** The run, from the cache when nothing it depends on has changed. */
function cachedRun(scope: Scope, env: NodeJS.ProcessEnv, cache: GeneratorCache): Run {
  return (cache.recalled ? undefined : cache.runs.recall()) ?? translateAndKeep(scope, env, cache);
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
