import { spawn, type ChildProcess } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { docker } from "./images.js";
import { waitFor } from "./wait.js";

/**
 * A local image registry (Debian's docker-registry, the CNCF distribution server) on loopback,
 * so pulls are real pulls though this machine reaches no public registry.
 */
export class LocalRegistry {
  private proc?: ChildProcess;
  private readonly dir = mkdtempSync(join(tmpdir(), "berth-registry-"));

  constructor(readonly port = 5055) {}

  get host(): string {
    return `127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    const config = join(this.dir, "config.yml");
    writeFileSync(config, `version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: ${join(this.dir, "data")}\nhttp:\n  addr: ${this.host}\nlog:\n  level: error\n`);
    this.proc = spawn("docker-registry", ["serve", config], { stdio: "ignore" });
    await waitFor("the registry", () => docker(["pull", `${this.host}/none:none`]).stderr.includes("manifest unknown") || undefined);
    return this;
  }

  /** Pushes a local image under `name`, then drops the local copy so only a pull can bring it back. */
  push(local: string, name: string): string {
    const ref = `${this.host}/${name}`;
    for (const args of [["tag", local, ref], ["push", ref], ["rmi", ref]]) {
      const r = docker(args);
      if (r.status !== 0) throw new Error(`docker ${args.join(" ")}: ${r.stderr}`);
    }
    return ref;
  }

  stop(): void {
    this.proc?.kill();
    rmSync(this.dir, { recursive: true, force: true });
  }
}
