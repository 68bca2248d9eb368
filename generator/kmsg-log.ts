import { closeSync, openSync, writeSync } from "node:fs";
import { formatDiagnostic, type Diagnostic } from "./diagnostics.js";

/**
 * Generators run before journald is reachable; the kernel log is the one place an operator will
 * find their messages after boot. `<3>`/`<4>` are the err/warning priorities.
 */
export function reportToKmsg(diagnostics: readonly Diagnostic[], tag: string): void {
  // A clean run, the usual one, costs no open of /dev/kmsg.
  if (diagnostics.length === 0) return;
  let fd: number | undefined;
  try {
    fd = openSync("/dev/kmsg", "w");
  } catch {
    return;
  }
  try {
    for (const d of diagnostics) {
      writeSync(fd, `<${d.severity === "error" ? 3 : 4}>${tag}: ${formatDiagnostic(d)}\n`);
    }
  } catch {
    // kmsg rate limits and may refuse; stderr already has everything.
  } finally {
    closeSync(fd);
  }
}
