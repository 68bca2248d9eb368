import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootedHost, ensureAnsibleRootfs } from "./support/booted-host.js";
import { DockerEngine } from "./support/docker-engine.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { repo } from "./support/run.js";
import { waitFor } from "./support/wait.js";

/**
 * The Ansible role and the example playbook (ansible/), run by a real ansible-core over ssh against
 * four booted hosts (three controllers, one compute host), each with a Docker engine of its own.
 * The playbook is pointed at simulated services on the local test image by the inventory alone.
 */
const SIM = join(repo, "test/ansible/openstack-sim");
const V2 = "berth-test/busybox:v2";
const CONTROLLER_FILES = ["container.d/10-this-host.conf", "mariadb.container", "memcached.container", "rabbitmq.container", "keystone.container"];
const COMPUTE_FILES = ["container.d/10-this-host.conf", "nova-libvirt.container", "nova-compute.container", "nova-compute.container.d/20-this-host.conf"];
const servicesOf = (files: string[]) => files.filter((f) => /^[^/]+\.container$/.test(f)).map((f) => f.slice(0, -".container".length));

interface TestHost {
  name: string;
  group: "controllers" | "compute";
  sshPort: number;
  /** The first of this host's service ports (the simulated services listen on port_base + n). */
  portBase: number;
  engine: DockerEngine;
  host: BootedHost;
  services: string[];
}

// Ports of their own: the hosts share the machine's network, and other suites use the usual ones.
const HOSTS = [
  { name: "ctl1", group: "controllers", sshPort: 22201, portBase: 23100 },
  { name: "ctl2", group: "controllers", sshPort: 22202, portBase: 23200 },
  { name: "ctl3", group: "controllers", sshPort: 22203, portBase: 23300 },
  { name: "cmp1", group: "compute", sshPort: 22204, portBase: 23400 },
] as const;
const KEYSTONE_OFFSET = 3;
const npmCache = join(process.env.HOME ?? "/root", ".npm");

// Minutes long (see the README's Tests section): run under BERTH_ANSIBLE_TEST=1, which .ci/run sets
// when the role, the playbook or this test changed.
describe.skipIf(!process.env.BERTH_ANSIBLE_TEST)("the berth role and the OpenStack playbook, by ansible-core over ssh on four booted hosts", () => {
  // Made in beforeAll: when the suite is skipped, nothing is.
  let work = "";
  let key = "";
  const hosts: TestHost[] = [];
  const timings: Record<string, number> = {};
  const t0 = Date.now();

  /** Host variables on top of the fixed ones, changed by the tests (a typo, an upgrade). */
  let extraHostVars: Record<string, Record<string, unknown>> = {};
  let release = "latest";

  function writeInventory(): string {
    const hostEntry = (h: TestHost) => ({
      ansible_host: "127.0.0.1", ansible_port: h.sshPort, ansible_user: "root", ansible_become: false,
      ansible_ssh_private_key_file: key, ansible_python_interpreter: "/usr/bin/python3",
      ansible_ssh_common_args: "-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null",
      api_address: "127.0.0.1", port_base: h.portBase, ...extraHostVars[h.name],
    });
    const group = (g: TestHost["group"], files: string[]) => ({
      hosts: Object.fromEntries(hosts.filter((h) => h.group === g).map((h) => [h.name, hostEntry(h)])),
      vars: { openstack_files: files },
    });
    const inventory = {
      all: {
        vars: { openstack_templates: SIM, openstack_release: release },
        children: { controllers: group("controllers", CONTROLLER_FILES), compute: group("compute", COMPUTE_FILES) },
      },
    };
    const path = join(work, "inventory.json");
    writeFileSync(path, JSON.stringify(inventory, null, 1));
    return path;
  }

  /** ansible-playbook on the repository's playbook; asynchronous, so that a probe can run meanwhile. */
  function playbook(...args: string[]): Promise<{ status: number; out: string; ms: number }> {
    const started = Date.now();
    const inventory = writeInventory();
    return new Promise((resolve) => {
      const p = spawn("ansible-playbook", ["-i", inventory, "openstack.yml", ...args], {
        cwd: join(repo, "ansible"),
        env: {
          ...process.env, ANSIBLE_CONFIG: join(repo, "ansible/ansible.cfg"), ANSIBLE_NOCOLOR: "1", ANSIBLE_FORCE_COLOR: "0", TMPDIR: work,
          // Each line stamped with its time, for a look at where a slow run spent it.
          ANSIBLE_LOG_PATH: join(repo, "test-results/ansible.log"),
          // No compression on loopback: it only costs CPU.
          ANSIBLE_SSH_ARGS: "-o ControlMaster=auto -o ControlPersist=60s",
        },
      });
      let out = "";
      p.stdout.on("data", (d: Buffer) => (out += d.toString()));
      p.stderr.on("data", (d: Buffer) => (out += d.toString()));
      p.on("exit", (code) => {
        console.log(`ansible-playbook ${args.join(" ")}: exit ${code} after ${((Date.now() - started) / 1000).toFixed(1)} s`);
        resolve({ status: code ?? -1, out, ms: Date.now() - started });
      });
    });
  }

  /** The PLAY RECAP line of each host: ok=… changed=… failed=… */
  const recap = (out: string): Record<string, Record<string, number>> => {
    const lines = out.slice(out.lastIndexOf("PLAY RECAP")).split("\n").slice(1);
    return Object.fromEntries(lines.map((l) => /^(\S+)\s+:\s+(.*)$/.exec(l)).filter((m) => m !== null).map((m) => [m[1], Object.fromEntries([...m[2]!.matchAll(/(\w+)=(\d+)/g)].map((x) => [x[1], Number(x[2])]))]));
  };

  const sh = (h: TestHost, cmd: string) => h.host.exec(cmd);
  const containerName = (s: string) => s.replaceAll("-", "_");
  /** Id and StartedAt of each of a host's containers, as kolla's CI compares them. */
  const containers = (h: TestHost) => Object.fromEntries(h.services.map((s) => [s, h.engine.docker(["inspect", "-f", "{{.Id}} {{.State.StartedAt}} {{.Config.Image}}", containerName(s)]).stdout.trim()]));
  const allContainers = () => Object.fromEntries(hosts.map((h) => [h.name, containers(h)]));
  const active = (h: TestHost) => sh(h, `systemctl is-active ${h.services.map((s) => `${s}.service`).join(" ")}`).stdout.trim().split("\n").every((l) => l === "active");
  const host = (name: string) => hosts.find((h) => h.name === name)!;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "berth-ansible-"));
    key = join(work, "id_ed25519");
    ensureTestImage();
    expect(docker(["tag", TEST_IMAGE, V2]).status).toBe(0);
    const template = ensureAnsibleRootfs();
    mkdirSync(join(repo, "test-results"), { recursive: true });
    rmSync(join(repo, "test-results/ansible.log"), { force: true });
    mkdirSync(npmCache, { recursive: true });
    expect(spawnSync("ssh-keygen", ["-q", "-t", "ed25519", "-N", "", "-f", key]).status).toBe(0);
    const booted = Date.now();
    // In parallel: an engine, a copy of the root file system, an sshd on its own port, a boot.
    await Promise.all(HOSTS.map(async (spec) => {
      const engine = new DockerEngine(`bta-${spec.name}`);
      await engine.start();
      engine.load([TEST_IMAGE, V2]);
      // The machine's npm cache, which npm shares safely between processes: install.sh's two
      // `npm ci` on four hosts at once then download nothing the machine already has.
      const host = new BootedHost({ template, dockerSocket: engine.socket, binds: [npmCache] });
      writeFileSync(join(host.root, "etc/ssh/sshd_config.d/berth-test.conf"), `Port ${spec.sshPort}\nListenAddress 127.0.0.1\nPermitRootLogin prohibit-password\n`);
      // A first boot (no machine ID) applies the presets, which enable ssh.socket on port 22: in a
      // shared network the first host would take it, and its sshd would ignore the port above.
      symlinkSync("/dev/null", join(host.root, "etc/systemd/system/ssh.socket"));
      mkdirSync(join(host.root, "root/.ssh"), { recursive: true, mode: 0o700 });
      writeFileSync(join(host.root, "root/.ssh/authorized_keys"), readFileSync(`${key}.pub`), { mode: 0o600 });
      // npm, run by install.sh over ssh, must trust what this machine trusts (a TLS-inspecting proxy).
      if (process.env.NODE_EXTRA_CA_CERTS) writeFileSync(join(host.root, "etc/environment"), `NODE_EXTRA_CA_CERTS=${process.env.NODE_EXTRA_CA_CERTS}\n`);
      const h: TestHost = { ...spec, engine, host, services: servicesOf(spec.group === "controllers" ? CONTROLLER_FILES : COMPUTE_FILES) };
      hosts.push(h);
      await host.boot();
      await waitFor(`sshd of ${spec.name}`, () => sh(h, "systemctl is-active ssh").stdout.trim() === "active");
    }));
    hosts.sort((a, b) => a.name.localeCompare(b.name));
    timings.boot = Date.now() - booted;
    console.log(`four hosts booted, each with its engine and sshd, in ${(timings.boot / 1000).toFixed(1)} s`);
  });

  afterAll(async () => {
    await Promise.all(hosts.map(async (h) => {
      await h.host.destroy();
      await h.engine.stop();
    }));
    if (work) rmSync(work, { recursive: true, force: true });
    timings.file = Date.now() - t0;
    console.log(`ansible.test.ts times (s): ${Object.entries(timings).map(([k, v]) => `${k} ${(v / 1000).toFixed(1)}`).join(", ")}`);
  });

  it("a first deploy installs berth and brings every service up on every host, each after its dependencies were ready", async () => {
    const r = await playbook();
    timings.firstDeploy = r.ms;
    expect(r.status, r.out).toBe(0);
    for (const h of hosts) {
      expect(recap(r.out)[h.name], h.name).toMatchObject({ failed: 0, unreachable: 0 });
      // The play waited for them (berth apply): they are up when it ends, not later.
      expect(active(h), `${h.name}: ${sh(h, "berth status").stdout}`).toBe(true);
      const readyAt = (s: string) => Number(sh(h, `systemctl show -p ActiveEnterTimestampMonotonic --value ${s}.service`).stdout.trim());
      const startedAt = (s: string) => Number(sh(h, `systemctl show -p ExecMainStartTimestampMonotonic --value ${s}.service`).stdout.trim());
      for (const [dep, s] of [["mariadb", "keystone"], ["nova-libvirt", "nova-compute"]] as const) {
        if (h.services.includes(s)) expect(startedAt(s), `${h.name}: ${s} started after ${dep} was ready`).toBeGreaterThanOrEqual(readyAt(dep));
      }
      // Per-host settings through the drop-ins.
      expect(h.engine.docker(["inspect", "-f", "{{.Config.Env}}", h.services[0]!.replaceAll("-", "_")]).stdout).toContain(`HOST=${h.name}`);
    }
  });

  it("a second run with no change reports changed=0 and restarts no container on any host", async () => {
    const before = allContainers();
    const berthd = () => hosts.map((h) => sh(h, "systemctl show -p MainPID --value berthd").stdout.trim());
    const agents = berthd();
    const r = await playbook();
    timings.noChange = r.ms;
    expect(r.status, r.out).toBe(0);
    for (const h of hosts) expect(recap(r.out)[h.name], `${h.name}\n${r.out}`).toMatchObject({ changed: 0, failed: 0 });
    expect(allContainers()).toEqual(before);
    // install.sh did not run again: it would have restarted berthd.
    expect(berthd()).toEqual(agents);
  });

  it("--check --diff shows the definition diff and berth plan's output for the new definitions, and changes nothing", async () => {
    const cmp = host("cmp1");
    const before = allContainers();
    const file = sh(cmp, "cat /etc/berth/nova-compute.container.d/20-this-host.conf").stdout;
    extraHostVars = { cmp1: { nova_compute_delay: 2 } };
    const r = await playbook("--check", "--diff");
    extraHostVars = {};
    expect(r.status, r.out).toBe(0);
    expect(r.out).toMatch(/^-Environment=DELAY=1$/m);
    expect(r.out).toMatch(/^\+Environment=DELAY=2$/m);
    // The plan describes the candidates, not what is installed: nova-compute would restart.
    expect(r.out).toMatch(/ok: \[cmp1\] => \{\s*"msg": \[\s*"reload   systemd \(daemon-reload\)",\s*"restart  nova-compute\.service  \(definition changed\)",\s*"1 unchanged"\s*\]/);
    // Where nothing differs, the plan says so: the candidates are rendered exactly as the
    // template task would write them.
    for (const h of ["ctl1", "ctl2", "ctl3"]) expect(r.out).toMatch(new RegExp(`ok: \\[${h}\\] => \\{\\s*"msg": \\[\\s*"nothing to do",\\s*"4 unchanged"\\s*\\]`));
    expect(sh(cmp, "cat /etc/berth/nova-compute.container.d/20-this-host.conf").stdout).toBe(file);
    expect(allContainers()).toEqual(before);
    // No mount and no scratch directory left behind.
    expect(sh(cmp, "findmnt -n /etc/berth; ls /tmp | grep berth-plan").stdout.trim()).toBe("");
  });

  it("a typo in one host's template is refused by validate: the play fails on that host with the file and the line, and its service runs on", async () => {
    const ctl2 = host("ctl2");
    const before = containers(ctl2);
    extraHostVars = { ctl2: { keystone_extra: "HealthRetries=many" } };
    const r = await playbook();
    extraHostVars = {};
    expect(r.status, r.out).not.toBe(0);
    expect(recap(r.out).ctl2, r.out).toMatchObject({ failed: 1 });
    // The line of the typo in the rendered file: the template's line, after the 3-line header.
    const line = readFileSync(join(SIM, "keystone.container.j2"), "utf8").split("\n").findIndex((l) => l.includes("keystone_extra")) + 1 + 2;
    expect(r.out).toMatch(new RegExp(`failed: \\[ctl2\\] \\(item=keystone\\.container\\)[\\s\\S]*?:${line}: error: HealthRetries=: expected a number, found \\\\"many\\\\"`));
    expect(containers(ctl2)).toEqual(before);
    expect(sh(ctl2, "grep -c many /etc/berth/keystone.container; true").stdout.trim()).toBe("0");
  });

  it("an image bump with serial: 1 upgrades the controllers one at a time, at least two always serving keystone", async () => {
    const controllers = hosts.filter((h) => h.group === "controllers");
    const probe = new KeystoneProbe(controllers.map((h) => ({ name: h.name, port: h.portBase + KEYSTONE_OFFSET })));
    await probe.start();
    release = "v2";
    const r = await playbook();
    const seen = await probe.stop();
    timings.rollingUpgrade = r.ms;
    console.log(`keystone probe: ${seen.rounds} rounds, fewest controllers serving at once ${seen.fewestServing}, seen down: ${seen.down.join(", ")}`);
    expect(r.status, r.out).toBe(0);
    for (const h of hosts) {
      expect(recap(r.out)[h.name], h.name).toMatchObject({ failed: 0 });
      expect(recap(r.out)[h.name]!.changed, h.name).toBeGreaterThan(0);
      expect(active(h), h.name).toBe(true);
      for (const s of h.services) expect(containers(h)[s], `${h.name} ${s}`).toMatch(/ berth-test\/busybox:v2$/);
    }
    // Each controller was seen down (the probe sees restarts), never two at once.
    expect(seen.fewestServing, JSON.stringify(seen)).toBeGreaterThanOrEqual(2);
    expect(seen.down.sort()).toEqual(controllers.map((h) => h.name));
    expect(seen.rounds).toBeGreaterThan(10);
  });

  it("a change that cannot be applied fails the play on its host, naming the service and why; the service runs on, and the next good run applies", async () => {
    const cmp = host("cmp1");
    const before = containers(cmp);
    extraHostVars = { cmp1: { nova_compute_broken: true } };
    const r = await playbook("--limit", "cmp1");
    extraHostVars = {};
    expect(r.status, r.out).not.toBe(0);
    expect(recap(r.out).cmp1, r.out).toMatchObject({ failed: 1 });
    expect(r.out).toMatch(/berth apply failed on cmp1:[\s\S]*nova-compute\.service: cannot pull 127\.0\.0\.1:1\/berth-test\/missing:v1/);
    expect(containers(cmp)).toEqual(before);
    const fixed = await playbook("--limit", "cmp1");
    expect(fixed.status, fixed.out).toBe(0);
    expect(recap(fixed.out).cmp1!.changed, fixed.out).toBeGreaterThan(0);
    expect(active(cmp), sh(cmp, "berth status").stdout).toBe(true);
  });

  it("a file the variables no longer list is stopped and removed; a definition the role did not write is left alone", async () => {
    const cmp = host("cmp1");
    writeFileSync(join(cmp.host.root, "etc/berth/hand-made.container"), `[Container]\nImage=${V2}\nRunInit=yes\nNetwork=none\nExec=sleep 600\n`);
    await waitFor("hand-made.service active", () => sh(cmp, "systemctl is-active hand-made.service").stdout.trim() === "active");
    const files = [...COMPUTE_FILES];
    COMPUTE_FILES.splice(COMPUTE_FILES.indexOf("nova-compute.container.d/20-this-host.conf"), 1);
    try {
      const r = await playbook("--limit", "cmp1");
      expect(r.status, r.out).toBe(0);
      expect(recap(r.out).cmp1!.changed).toBeGreaterThan(0);
      expect(sh(cmp, "ls /etc/berth/nova-compute.container.d").stdout.trim()).toBe("");
      expect(sh(cmp, "systemctl is-active hand-made.service").stdout.trim()).toBe("active");
      expect(sh(cmp, "test -f /etc/berth/hand-made.container && echo kept").stdout.trim()).toBe("kept");
      expect(JSON.parse(sh(cmp, "cat /etc/berth/.ansible-managed").stdout)).not.toContain("nova-compute.container.d/20-this-host.conf");
    } finally {
      COMPUTE_FILES.splice(0, COMPUTE_FILES.length, ...files);
    }
  });
});

/**
 * Connects to each controller's fake keystone port, round after round, and keeps the fewest that
 * answered in any round and which controllers were ever seen down.
 */
class KeystoneProbe {
  private running = false;
  private loop?: Promise<void>;
  private result = { fewestServing: Infinity, down: [] as string[], rounds: 0 };

  constructor(private readonly targets: Array<{ name: string; port: number }>) {}

  private static answers(port: number): Promise<boolean> {
    return new Promise((resolve) => {
      const s = connect({ host: "127.0.0.1", port });
      s.setTimeout(2000, () => (s.destroy(), resolve(false)));
      s.once("connect", () => (s.destroy(), resolve(true)));
      s.once("error", () => resolve(false));
    });
  }

  async start(): Promise<void> {
    // Every keystone answers before the upgrade begins.
    await waitFor("every keystone to answer", async () => (await Promise.all(this.targets.map((t) => KeystoneProbe.answers(t.port)))).every(Boolean));
    this.running = true;
    this.loop = (async () => {
      while (this.running) {
        const up = await Promise.all(this.targets.map((t) => KeystoneProbe.answers(t.port)));
        this.result.rounds++;
        this.result.fewestServing = Math.min(this.result.fewestServing, up.filter(Boolean).length);
        this.targets.forEach((t, i) => !up[i] && !this.result.down.includes(t.name) && this.result.down.push(t.name));
        // Pacing only, so that the probe leaves the machine's two cores to the hosts.
        await new Promise((r) => setTimeout(r, 20));
      }
    })();
  }

  async stop(): Promise<KeystoneProbe["result"]> {
    this.running = false;
    await this.loop;
    return this.result;
  }
}
