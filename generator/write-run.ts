import { formatDiagnostic, hasErrors, type Diagnostic } from "./diagnostics.js";
import { reportToKmsg } from "./kmsg-log.js";
import type { Run } from "./run-cache.js";
import { unitWriter } from "./write-units.js";

export type Report = (diagnostics: readonly Diagnostic[]) => void;

export const toKmsg: Report = (d) => reportToKmsg(d, "berth-generator");

let wroteStderr = false;

export function complain(line: string): void {
  wroteStderr = true;
  process.stderr.write(line);
}

/** Writes a run's units into systemd's output directory and says what is wrong; the generator's exit status. */
export function writeRun(outDir: string, run: Run, report: Report): number {
  const writer = unitWriter(outDir);
  for (const unit of run.units) writer.write(unit);
  // The definitions' diagnostics first, then each write that failed: a full disk or a leftover
  // file must not hide what is wrong with the files.
  const diagnostics = run.diagnostics.concat(writer.finish());
  for (const d of diagnostics) complain(`berth-generator: ${formatDiagnostic(d)}\n`);
  report(diagnostics);
  return hasErrors(diagnostics) ? 1 : 0;
}

/** Ends the process with this status. */
export function exitWith(status: number): void {
  process.exitCode = status;
  // Leaving through process.exit() skips Node's teardown of a heap that held every unit (~5 ms for
  // a thousand). stderr to a pipe can still have output queued; then the event loop drains it first.
  if (!wroteStderr || process.stderr.writableLength === 0) process.exit();
}
