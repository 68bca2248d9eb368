import { spawn, spawnSync } from "node:child_process";
import { existsSync } from "node:fs";

/** Starts journald if nothing listens for journal streams, so units' output can be read back. */
export function ensureJournald(): void {
  if (existsSync("/run/systemd/journal/stdout")) return;
  spawn("/lib/systemd/systemd-journald", [], { detached: true, stdio: "ignore" }).unref();
  for (let i = 0; i < 50 && !existsSync("/run/systemd/journal/stdout"); i++) spawnSync("sleep", ["0.1"]);
  if (!existsSync("/run/systemd/journal/stdout")) throw new Error("systemd-journald did not start");
}
