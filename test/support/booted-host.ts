import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { copyFileSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./wait.js";

const TEMPLATE = "/var/cache/berth-test/rootfs-bookworm";
const ANSIBLE_TEMPLATE = `${TEMPLATE}-ansible`;

/** Builds (once per machine) a minimal Debian with systemd, the way an operator's host starts. */
export function ensureRootfs(): string {
  if (existsSync(join(TEMPLATE, "usr/lib/systemd/systemd"))) return TEMPLATE;
  const tmp = `${TEMPLATE}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const r = spawnSync("debootstrap", ["--variant=minbase", "--include=systemd,systemd-sysv,dbus,procps", "bookworm", tmp], { encoding: "utf8" });
  if (r.status !== 0) throw new Error(`debootstrap failed: ${r.stderr.slice(-2000)}`);
  renameSync(tmp, TEMPLATE);
  return TEMPLATE;
}

/**
 * The same Debian with what Ansible needs on a managed host: sshd and python3. Built once per
 * machine from ensureRootfs()'s tree with the distribution's own apt, then copied for each host.
 */
export function ensureAnsibleRootfs(): string {
  if (existsSync(join(ANSIBLE_TEMPLATE, "usr/sbin/sshd")) && existsSync(join(ANSIBLE_TEMPLATE, "usr/bin/python3"))) return ANSIBLE_TEMPLATE;
  const tmp = `${ANSIBLE_TEMPLATE}.tmp`;
  rmSync(tmp, { recursive: true, force: true });
  const copy = spawnSync("cp", ["-a", ensureRootfs(), tmp], { encoding: "utf8" });
  if (copy.status !== 0) throw new Error(`cannot copy the root file system: ${copy.stderr}`);
  copyFileSync("/etc/resolv.conf", join(tmp, "etc/resolv.conf"));
  // No daemon may start inside the chroot (openssh-server's postinst would start sshd).
  writeFileSync(join(tmp, "usr/sbin/policy-rc.d"), "#!/bin/sh\nexit 101\n", { mode: 0o755 });
  const apt = spawnSync("chroot", [tmp, "/bin/sh", "-c", "apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends openssh-server python3 && apt-get clean"], { encoding: "utf8" });
  rmSync(join(tmp, "usr/sbin/policy-rc.d"), { force: true });
  if (apt.status !== 0) throw new Error(`apt-get in the root file system failed: ${apt.stderr.slice(-2000)}`);
  renameSync(tmp, ANSIBLE_TEMPLATE);
  return ANSIBLE_TEMPLATE;
}

export interface BootedHostOptions {
  /** The root file system to copy (default: ensureRootfs()). */
  template?: string;
  /** The Docker socket bound in as /run/docker.sock (default: the machine's). */
  dockerSocket?: string;
  /** More of the machine's directories bound in, read-write, at the same path. */
  binds?: string[];
}

/**
 * A booted system-mode systemd in a container (systemd-nspawn -b) that shares the host's network
 * and Docker engine, with Node.js and the docker CLI of the host bound in: a fresh "host" on
 * which install.sh runs as an operator would run it, and that can be rebooted in seconds.
 */
export class BootedHost {
  readonly root: string;
  private nspawn?: ChildProcess;
  private leader = 0;
  bootedAt = 0;

  private readonly dockerSocket: string;
  private readonly binds: string[];

  constructor(options: BootedHostOptions = {}) {
    this.root = `/var/tmp/berth-host-${process.pid}-${Date.now()}-${Math.random().toString(36).slice(2, 6)}`;
    this.dockerSocket = options.dockerSocket ?? "/run/docker.sock";
    this.binds = options.binds ?? [];
    const r = spawnSync("cp", ["-a", options.template ?? ensureRootfs(), this.root]);
    if (r.status !== 0) throw new Error(`cannot copy the root file system: ${r.stderr}`);
    mkdirSync(join(this.root, "usr/local/bin"), { recursive: true });
    symlinkSync("/usr/local/lib/node_modules/node/bin/node", join(this.root, "usr/local/bin/node"));
    symlinkSync("../lib/node_modules/npm/bin/npm-cli.js", join(this.root, "usr/bin/npm"));
    mkdirSync(join(this.root, "usr/local/lib/node_modules/node"), { recursive: true });
    mkdirSync(join(this.root, "usr/lib/node_modules/npm"), { recursive: true });
    mkdirSync(join(this.root, "etc/ssl/certs"), { recursive: true });
    spawnSync("touch", [join(this.root, "usr/bin/docker")]);
    // A machine ID of its own, so the journal is the container's.
    rmSync(join(this.root, "etc/machine-id"), { force: true });
  }

  async boot(): Promise<void> {
    this.bootedAt = Date.now();
    this.nspawn = spawn("systemd-nspawn", [
      // The console's output is read (and dropped): with a passive pty that nobody reads, PID 1
      // blocked for good once its status lines filled the buffer, as on a slow shutdown that
      // prints many "A stop job is running".
      "-b", "--register=no", "--keep-unit", "--console=read-only", "-D", this.root,
      `--bind=${this.dockerSocket}:/run/docker.sock`,
      "--bind-ro=/usr/bin/docker",
      "--bind-ro=/usr/local/lib/node_modules/node",
      "--bind-ro=/usr/lib/node_modules/npm",
      // The host's CA store: this machine reaches the npm registry through a TLS-inspecting proxy.
      "--bind-ro=/etc/ssl/certs",
      ...this.binds.map((b) => `--bind=${b}`),
    ], { stdio: ["ignore", "ignore", "pipe"] });
    let err = "";
    this.nspawn.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    this.leader = await waitFor("the container's systemd", () => this.findLeader() || (this.nspawn!.exitCode !== null ? (() => { throw new Error(`nspawn exited: ${err}`); })() : undefined));
    await waitFor("boot to finish", () => /^(running|degraded)/.test(this.exec("systemctl is-system-running").stdout) || undefined);
  }

  /** PID 1 of the container, seen from the host: the descendant of nspawn that runs systemd. */
  private findLeader(): number | undefined {
    const pid = this.nspawn?.pid;
    if (!pid) return undefined;
    const children = (p: number): number[] => {
      try {
        return readFileSync(`/proc/${p}/task/${p}/children`, "utf8").trim().split(/\s+/).filter(Boolean).map(Number);
      } catch {
        return [];
      }
    };
    const queue = children(pid);
    while (queue.length) {
      const p = queue.shift()!;
      try {
        if (readFileSync(`/proc/${p}/comm`, "utf8").trim() === "systemd") return p;
      } catch {
        continue;
      }
      queue.push(...children(p));
    }
    return undefined;
  }

  exec(command: string, timeoutMs = 600_000): { status: number; stdout: string; stderr: string } {
    const r = spawnSync("nsenter", ["-t", String(this.leader), "-a", "--", "/bin/sh", "-c", command], {
      encoding: "utf8", timeout: timeoutMs,
      env: {
        PATH: "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", HOME: "/root", LANG: "C.UTF-8",
        ...(process.env.NODE_EXTRA_CA_CERTS ? { NODE_EXTRA_CA_CERTS: process.env.NODE_EXTRA_CA_CERTS } : {}),
      },
    });
    return { status: r.status ?? -1, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
  }

  /** `systemctl reboot`; nspawn leaves when the container reboots, and is started again. */
  async reboot(): Promise<void> {
    const exited = new Promise((r) => this.nspawn!.once("exit", r));
    this.exec("systemctl reboot");
    await exited;
    await this.boot();
  }

  async destroy(): Promise<void> {
    if (this.nspawn && this.nspawn.exitCode === null) {
      const exited = new Promise((r) => this.nspawn!.once("exit", r));
      this.exec("systemctl poweroff");
      await Promise.race([exited, new Promise((r) => setTimeout(r, 60_000))]);
      if (this.nspawn.exitCode === null) this.nspawn.kill("SIGKILL");
    }
    rmSync(this.root, { recursive: true, force: true });
  }
}
