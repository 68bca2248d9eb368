import type { ContainerSection } from "./container-section.js";
import { signalEntry } from "./signals.js";

/**
 * `systemctl reload` as Quadlet 5.5 defines it: ReloadCmd= runs a command in the container,
 * ReloadSignal= sends it a signal, and a definition may set one of them, not both. Like Quadlet,
 * the last ReloadCmd= is the command (a drop-in replaces it). Returns the ExecReload= argv.
 */
export function reloadArgv(c: ContainerSection, docker: string, containerName: string): string[] | undefined {
  const command = c.lastWords("ReloadCmd");
  const signal = c.single("ReloadSignal");
  if (command.length > 0 && signal) {
    c.fail(signal, "ReloadCmd= and ReloadSignal= exclude each other (as in Quadlet); set one of them");
    return undefined;
  }
  if (command.length > 0) return [docker, "exec", containerName].concat(command);
  const checked = signal && signalEntry(c, "ReloadSignal");
  return checked ? [docker, "kill", "--signal", checked.value, containerName] : undefined;
}
