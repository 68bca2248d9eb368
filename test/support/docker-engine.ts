import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { mkdirSync, rmSync } from "node:fs";
import { waitFor } from "./wait.js";

/**
 * A Docker engine of its own, for one booted host: hosts that shared the machine's would see each
 * other's containers (same names, same io.berth.unit labels). Images come from the machine's
 * engine (docker save | docker load), since no registry is reachable.
 */
export class DockerEngine {
  readonly socket: string;
  private readonly run: string;
  private readonly data: string;
  private dockerd?: ChildProcess;
  private log = "";
  private stopping = false;

  /** `name` keeps the paths short: the exec root holds sockets, whose paths are limited to 108 bytes. */
  constructor(name: string) {
    this.run = `/run/${name}`;
    this.data = `/var/tmp/${name}-docker`;
    this.socket = `${this.run}/docker.sock`;
  }

  async start(): Promise<void> {
    this.stopLeftovers();
    mkdirSync(this.run, { recursive: true });
    mkdirSync(this.data, { recursive: true });
    this.dockerd = spawn("dockerd", [
      "--data-root", this.data, "--exec-root", `${this.run}/e`, "--pidfile", `${this.run}/pid`,
      "-H", `unix://${this.socket}`, "--iptables=false", "--bridge=none",
    ], { stdio: ["ignore", "ignore", "pipe"] });
    this.dockerd.stderr!.on("data", (d: Buffer) => (this.log = (this.log + d.toString()).slice(-4000)));
    // Said at once: a host whose engine died fails in ways that do not name it.
    this.dockerd.once("exit", (code, signal) => this.stopping || console.error(`dockerd on ${this.socket} exited (${code ?? signal}):\n${this.log}`));
    await waitFor(`dockerd on ${this.socket}`, () => {
      if (this.dockerd!.exitCode !== null) throw new Error(`dockerd exited: ${this.log}`);
      return this.docker(["info", "--format", "{{.ID}}"]).status === 0;
    });
  }

  docker(args: string[]): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("docker", ["-H", `unix://${this.socket}`, ...args], { encoding: "utf8" });
    return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** Copies images from the machine's engine into this one. */
  load(images: string[]): void {
    const r = spawnSync("sh", ["-c", `docker save "$@" | docker -H unix://${this.socket} load -q`, "sh", ...images], { encoding: "utf8" });
    if (r.status !== 0) throw new Error(`cannot load ${images.join(", ")}: ${r.stderr}`);
  }

  async stop(): Promise<void> {
    this.stopping = true;
    if (this.dockerd && this.dockerd.exitCode === null) {
      const exited = new Promise((r) => this.dockerd!.once("exit", r));
      this.dockerd.kill("SIGTERM");
      await exited;
    }
    this.cleanUp();
  }

  /** An engine left by a test run that was killed: its pid file says which. */
  private stopLeftovers(): void {
    spawnSync("sh", ["-c", `pid=$(cat ${this.run}/pid 2>/dev/null) && kill "$pid" 2>/dev/null && while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done; true`]);
    this.cleanUp();
  }

  private cleanUp(): void {
    // dockerd leaves its network namespace mounted; removing the directory under it would fail.
    spawnSync("umount", [`${this.run}/e/netns/default`]);
    rmSync(this.run, { recursive: true, force: true });
    rmSync(this.data, { recursive: true, force: true });
  }
}
