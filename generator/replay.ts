import { hostCache } from "./host-cache.js";
import type { Run } from "./run-cache.js";
import { detectScope } from "./search-path.js";
import { exitWith, toKmsg, writeRun } from "./write-run.js";

/**
 * The generator's first step, bundled on its own: when nothing has changed since the last run,
 * the kept run is written without loading the translator at all. Returns false when it is not.
 */
export function replayed(argv: readonly string[], bundle: string): boolean {
  const outDir = argv[0];
  if (!outDir) return false;
  let run: Run | undefined;
  try {
    run = hostCache(process.env, bundle)(detectScope(process.env))?.runs.recall();
  } catch {
    // A kept run that cannot be used costs this run its speed, never its units.
  }
  if (!run) return false;
  exitWith(writeRun(outDir, run, toKmsg));
  return true;
}
