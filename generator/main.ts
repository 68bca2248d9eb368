import { formatDiagnostic, hasErrors, type Diagnostic } from "./diagnostics.js";
import { reportToKmsg } from "./kmsg-log.js";
import { acceptedDir } from "./accepted-store.js";
import { berthTarget } from "./berth-target.js";
import { detectScope, loadSet } from "./load-set.js";
import { unitWriter } from "./write-units.js";

let wroteStderr = false;

function complain(line: string): void {
  wroteStderr = true;
  process.stderr.write(line);
}

/** systemd.generator(7): `berth-generator normal-dir [early-dir late-dir]`. */
export function generate(
  argv: readonly string[],
  env: NodeJS.ProcessEnv = process.env,
  report: (diagnostics: readonly Diagnostic[]) => void = (d) => reportToKmsg(d, "berth-generator"),
): number {
  const outDir = argv[0];
  if (!outDir) {
    complain("usage: berth-generator NORMAL-DIR [EARLY-DIR LATE-DIR]\n");
    return 2;
  }
  const scope = detectScope(env);
  const set = loadSet({ scope, env, acceptedDir: acceptedDir(scope, env) });
  const writer = unitWriter(outDir);
  for (const unit of set.output) writer.write(unit);
  const target = berthTarget(set.output, scope);
  if (target) writer.write(target);
  // The definitions' diagnostics first, then each write that failed: a full disk or a leftover
  // file must not hide what is wrong with the files.
  const diagnostics = set.diagnostics.concat(writer.finish());
  for (const d of diagnostics) complain(`berth-generator: ${formatDiagnostic(d)}\n`);
  report(diagnostics);
  return hasErrors(diagnostics) ? 1 : 0;
}

/** Runs as bin/berth-generator does, which loads this bundle with its code cache. */
export function runGenerator(argv: readonly string[]): void {
  process.exitCode = generate(argv);
  // Leaving through process.exit() skips Node's teardown of a heap that held every unit (~5 ms for
  // a thousand). stderr to a pipe can still have output queued; then the event loop drains it first.
  if (!wroteStderr || process.stderr.writableLength === 0) process.exit();
}
