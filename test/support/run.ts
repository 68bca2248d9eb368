import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

export const repo = fileURLToPath(new URL("../..", import.meta.url));

export interface Ran {
  status: number;
  stdout: string;
  stderr: string;
}

/** Runs one of berth's executables from bin/, as an operator would. */
export function runBin(name: string, args: string[], env: NodeJS.ProcessEnv = {}, input?: string): Ran {
  // Never read or write the host's own /var/lib/berth, or the generator's kept run in /run, from a test.
  const state = { BERTH_STATE_DIR: mkdtempSync(join(tmpdir(), "berth-state-")), BERTH_GENERATOR_CACHE: "off" };
  const r = spawnSync(`${repo}bin/${name}`, args, { env: { ...process.env, ...state, ...env }, encoding: "utf8", input });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}
