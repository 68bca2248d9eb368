import { spawn, spawnSync } from "node:child_process";

/** Whether a journald answers on its stream socket; a socket file left in a persisted /run by a dead journald does not count. */
function journaldListens(): boolean {
  return spawnSync("systemd-cat", ["true"], { stdio: "ignore" }).status === 0;
}

/** Starts journald if nothing listens for journal streams, so units' output can be read back. */
export function ensureJournald(): void {
  if (journaldListens()) return;
  spawn("/lib/systemd/systemd-journald", [], { detached: true, stdio: "ignore" }).unref();
  for (let i = 0; i < 50 && !journaldListens(); i++) spawnSync("sleep", ["0.1"]);
  if (!journaldListens()) throw new Error("systemd-journald did not start");
}
