import { formatDiagnostic, hasErrors } from "./diagnostics.js";
import { reportToKmsg } from "./kmsg-log.js";
import { stateDir } from "./accepted-store.js";
import { detectScope, loadSet } from "./load-set.js";
import { unitWriter } from "./write-units.js";

/** systemd.generator(7): `berth-generator normal-dir [early-dir late-dir]`. */
export function main(argv: readonly string[]): number {
  const outDir = argv[0];
  if (!outDir) {
    process.stderr.write("usage: berth-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
    return 2;
  }
  const scope = detectScope();
  const set = loadSet({ scope, stateDir: stateDir(scope) });
  set.output.forEach(unitWriter(outDir));
  for (const d of set.diagnostics) process.stderr.write(`berth-generator: ${formatDiagnostic(d)}\n`);
  reportToKmsg(set.diagnostics, "berth-generator");
  return hasErrors(set.diagnostics) ? 1 : 0;
}

process.exitCode = main(process.argv.slice(2));
