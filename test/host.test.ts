import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootedHost } from "./support/booted-host.js";
import { docker, ensureTestImage } from "./support/images.js";
import { keptBy, markKeptCommand, waitForKeptRun } from "./support/kept-run.js";
import { LocalRegistry } from "./support/registry.js";
import { repo } from "./support/run.js";
import { waitFor } from "./support/wait.js";

const SIM = join(repo, "examples/openstack-sim");
const services = readdirSync(SIM).filter((f) => f.endsWith(".container")).map((f) => f.slice(0, -".container".length)).sort();

/** Edges "a must be ready before b" from the simulated definitions' After= lines. */
function dependencies(): Array<[string, string]> {
  const edges: Array<[string, string]> = [];
  for (const s of services) {
    const after = /^After=(.*)$/m.exec(readFileSync(join(SIM, `${s}.container`), "utf8"))?.[1] ?? "";
    for (const dep of after.split(/\s+/).filter(Boolean)) edges.push([dep.replace(/\.container$/, ""), s]);
  }
  return edges;
}

/** Services ordered after `root` (After=), transitively. */
function above(root: string): Set<string> {
  const out = new Set<string>();
  const edges = dependencies();
  for (let grew = true; grew;) {
    grew = false;
    for (const [dep, s] of edges) if ((dep === root || out.has(dep)) && !out.has(s)) grew = out.add(s) !== undefined;
  }
  return out;
}

/** The longest chain of start delays: how long a perfectly parallel start must take. */
function criticalPath(): number {
  const delay = new Map(services.map((s) => [s, Number(/DELAY=(\d+)/.exec(readFileSync(join(SIM, `${s}.container`), "utf8"))![1])]));
  const memo = new Map<string, number>();
  const longest = (s: string): number => {
    if (!memo.has(s)) memo.set(s, delay.get(s)! + Math.max(0, ...dependencies().filter(([, b]) => b === s).map(([a]) => longest(a))));
    return memo.get(s)!;
  };
  return Math.max(...services.map(longest)) * 1000;
}

const containerName = (s: string) => s.replaceAll("-", "_");

/** Where the generator of the system manager keeps its last run. */
const KEPT_RUN = "/run/berth-generator/kept-run";

describe("a fresh host: install.sh, the OpenStack control plane, reboots", () => {
  let host: BootedHost;
  const sh = (cmd: string) => host.exec(cmd);
  const allActive = () => {
    const r = sh(`systemctl is-active ${services.map((s) => `${s}.service`).join(" ")}`);
    return r.stdout.trim().split("\n").every((l) => l === "active");
  };
  const readyAt = (s: string) => Number(sh(`busctl get-property org.freedesktop.systemd1 /org/freedesktop/systemd1/unit/${s.replace(/[^A-Za-z0-9]/g, (c) => `_${c.charCodeAt(0).toString(16)}`)}_2eservice org.freedesktop.systemd1.Unit ActiveEnterTimestamp`).stdout.split(" ")[1]) / 1000;
  const startedAt = (s: string) => Date.parse(docker(["inspect", "-f", "{{.State.StartedAt}}", containerName(s)]).stdout.trim());
  const ids = () => Object.fromEntries(services.map((s) => [s, docker(["inspect", "-f", "{{.Id}}", containerName(s)]).stdout.trim()]));
  const MARKED = /^# kept$/m;
  const keystoneUnit = () => sh("systemctl cat keystone.service").stdout;
  /** Daemon-reloads until one writes the generator's kept run, keystone marked in it. */
  const waitForKeptRunOfKeystone = () =>
    waitForKeptRun(() => sh("systemctl daemon-reload"), () => sh(markKeptCommand(KEPT_RUN, "keystone.service")).status === 0, () => MARKED.test(keystoneUnit()));
  const expectOrdered = () => {
    for (const [dep, s] of dependencies()) {
      expect(startedAt(s), `${s} started after ${dep} was ready`).toBeGreaterThanOrEqual(readyAt(dep));
    }
  };

  beforeAll(async () => {
    ensureTestImage();
    for (const s of services) docker(["rm", "-f", containerName(s)]);
    host = new BootedHost();
    // The checkout as an operator would have it: tracked files only, no node_modules, no dist.
    const files = spawnSync("git", ["ls-files"], { cwd: repo, encoding: "utf8" }).stdout.split("\n").filter(Boolean);
    for (const f of files) {
      mkdirSync(join(host.root, "root/berth", f, ".."), { recursive: true });
      copyFileSync(join(repo, f), join(host.root, "root/berth", f));
    }
    spawnSync("chmod", ["+x", ...["install.sh", "bin/berth", "bin/berthd", "bin/berth-generator", "runtime/berth-step"].map((f) => join(host.root, "root/berth", f))]);
    // Cloned by an ordinary user with a careless umask: another user owns it and anyone may write it.
    spawnSync("chown", ["-R", "1000:1000", join(host.root, "root/berth")]);
    spawnSync("chmod", ["-R", "go+w", join(host.root, "root/berth")]);
    // /var on a file system of its own, as on many servers: systemd mounts it after the generators.
    spawnSync("cp", ["-a", join(host.root, "var"), join(host.root, "srv/var")]);
    writeFileSync(join(host.root, "etc/fstab"), "/srv/var /var none bind 0 0\n");
    await host.boot();
  });

  afterAll(async () => {
    await host?.destroy();
    for (const s of services) docker(["rm", "-f", containerName(s)]);
  });

  it("install.sh checks, installs, and starts berthd", () => {
    const r = sh("cd /root/berth && ./install.sh");
    expect(r.stderr).not.toMatch(/error/i);
    expect(r.status).toBe(0);
    expect(sh("systemctl is-active berthd").stdout.trim()).toBe("active");
    expect(sh("systemctl is-enabled berthd").stdout.trim()).toBe("enabled");
    expect(sh("berth --version").stdout).toMatch(/^berth /);
    expect(sh("readlink /usr/lib/systemd/system-generators/berth-generator").stdout.trim()).toBe("/opt/berth/bin/berth-generator");
    // Whoever could write what runs as root would be root: all of it is root's alone, whoever
    // owned the checkout. (A symlink's own mode means nothing.)
    const installed = "/opt/berth /usr/local/bin/berth /usr/local/bin/berthd /usr/lib/systemd/system-generators/berth-generator /usr/lib/systemd/user-generators/berth-generator /etc/systemd/system/berthd.service /etc/berth";
    const notRoots = () => sh(`find ${installed} \\( -not -user root -o -not -group root -o \\( -not -type l -perm /022 \\) \\) -print`);
    expect(notRoots()).toMatchObject({ status: 0, stdout: "" });
    // Idempotent: a second run upgrades in place, and puts /etc/berth right again.
    sh("chmod 0777 /etc/berth");
    expect(sh("cd /root/berth && ./install.sh").status).toBe(0);
    expect(sh("systemctl is-active berthd").stdout.trim()).toBe("active");
    expect(sh("stat -c '%a %U %G' /etc/berth").stdout.trim()).toBe("755 root root");
    expect(notRoots()).toMatchObject({ status: 0, stdout: "" });
  });

  it("the simulated control plane comes up, each service only after its dependencies were ready", async () => {
    for (const s of services) copyFileSync(join(SIM, `${s}.container`), join(host.root, "etc/berth", `${s}.container`));
    await waitFor("all 17 services active", () => allActive() || undefined);
    expectOrdered();
  });

  it("systemctl and journalctl work on them as usual", () => {
    expect(sh("systemctl status keystone --no-pager").stdout).toMatch(/Active: active \(running\)/);
    expect(sh("journalctl -u keystone --no-pager").stdout).toContain("fake-service keystone: listening on 5000");
    expect(sh("systemctl list-dependencies --plain keystone.service").stdout).toContain("mariadb.service");
  });

  it("a daemon-reload that finds no definition changed writes the generator's kept run", async () => {
    await waitForKeptRunOfKeystone();
    // Without the kept run (nor a copy berthd saved), the next reload translates everything again.
    expect(sh(`rm -f ${KEPT_RUN} /etc/berth/.accepted/kept-run && systemctl daemon-reload`).status).toBe(0);
    expect(keystoneUnit()).not.toMatch(MARKED);
  });

  it("after a reboot everything comes back in order from the generator alone, with the agent disabled; a huge bad file and an Alias= clash cost only themselves", async () => {
    expect(sh("systemctl disable --now berthd").status).toBe(0);
    // Once, either of these took every berth unit down at boot (the generator crashed), or
    // replaced keystone's unit with a link to another one.
    expect(sh("head -c 50M /dev/urandom > /etc/berth/zz.container && printf '[Container]\\nImage=berth-test/busybox\\n[Install]\\nAlias=keystone.service\\n' > /etc/berth/aa-alias.container").status).toBe(0);
    await host.reboot();
    await waitFor("all services active after reboot", () => allActive() || undefined);
    const allReady = Math.max(...services.map(readyAt));
    expectOrdered();
    expect(sh("systemctl is-active berthd").stdout.trim()).toBe("inactive");
    expect(sh("systemctl show -p LoadState --value aa-alias.service").stdout.trim()).toBe("not-found");
    expect(sh("readlink /run/systemd/generator/keystone.service; echo $?").stdout.trim()).toBe("1");
    const validate = sh("berth validate");
    expect(validate.status).toBe(1);
    expect(validate.stdout + validate.stderr).toMatch(/\/etc\/berth\/zz\.container: error: .*1 MiB/);
    expect(validate.stdout + validate.stderr).toMatch(/\/etc\/berth\/aa-alias\.container:4: error: .*Alias=: "keystone\.service"/);
    sh("rm /etc/berth/zz.container /etc/berth/aa-alias.container");
    const took = allReady - host.bootedAt;
    const path = criticalPath();
    console.log(`boot to all ${services.length} services active: ${(took / 1000).toFixed(1)} s; critical path ${(path / 1000).toFixed(1)} s; ratio ${(took / path).toFixed(2)}`);
  });

  it("an edit restarts only that service", async () => {
    expect(sh("systemctl enable --now berthd").status).toBe(0);
    const before = ids();
    const file = join(host.root, "etc/berth/horizon.container");
    writeFileSync(`${file}.tmp`, readFileSync(file, "utf8").replace("DELAY=3", "DELAY=1"));
    renameSync(`${file}.tmp`, file);
    await waitFor("horizon replaced", () => {
      const now = ids();
      return now.horizon !== before.horizon && now.horizon !== "" && sh("systemctl is-active horizon").stdout.trim() === "active";
    });
    const after = ids();
    for (const s of services) if (s !== "horizon") expect(after[s], s).toBe(before[s]);
    // PID 1 ran the generator on berthd's daemon-reload, and it wrote what berthd had translated
    // for it (translating again, it would have kept its own run in place of berthd's).
    const kept = sh(`cat ${KEPT_RUN}`).stdout;
    expect(keptBy(kept)).toBe("berthd");
    expect(kept).toMatch(/DELAY=1/);
    expect(sh("systemctl cat horizon.service").stdout).toMatch(/DELAY=1/);
  });

  it("a typo changes nothing running; berth status and the journal show the error", async () => {
    const before = ids();
    const file = join(host.root, "etc/berth/keystone.container");
    writeFileSync(`${file}.tmp`, readFileSync(file, "utf8").replace("HealthInterval=30s", "HealthInterval=fast"));
    renameSync(`${file}.tmp`, file);
    await waitFor("the error in berthd's journal", () => /keystone\.container:\d+: error: HealthInterval=/.test(sh("journalctl -u berthd --no-pager").stdout) || undefined);
    expect(sh("berth status").stdout).toMatch(/keystone\.service: .*HealthInterval=: expected a duration/);
    expect(ids()).toEqual(before);
    // Also across someone else's daemon-reload.
    sh("systemctl daemon-reload");
    expect(sh("systemctl show -p ExecStart keystone").stdout).toContain("--health-interval 30s");
  });

  it("after a reboot, with /var on its own file system, the definition with the typo runs its last accepted version; the generator at boot writes the run berthd saved as it stopped", async () => {
    await waitForKeptRunOfKeystone();
    expect(sh("systemctl disable --now berthd").status).toBe(0);
    expect(sh("journalctl -b -u berthd --no-pager").stdout).toContain("saved the generator's kept run to /etc/berth/.accepted/kept-run");
    const before = ids().keystone;
    await host.reboot();
    expect(keystoneUnit()).toMatch(MARKED);
    // /var is mounted after the generators ran: what they read from it at boot was not there.
    expect(sh("findmnt -n -o SOURCE /var").stdout).toContain("/srv/var");
    await waitFor("all services active after reboot", () => allActive() || undefined);
    expect(sh("systemctl show -p ExecStart keystone").stdout).toContain("--health-interval 30s");
    expect(ids().keystone).not.toBe(before);
    expectOrdered();
  });

  it("an upgrade pulls every image first, then restarts level by level on health; a bad image in the middle is reverted and what is above it never restarts", async () => {
    const registry = await new LocalRegistry(5058).start();
    try {
      const build = spawnSync("sh", ["-c", `printf 'FROM berth-test/busybox:latest\\nRUN echo 2 > /release\\n' | DOCKER_BUILDKIT=0 docker build -q -t berth-test/sim-v2 - && printf 'FROM berth-test/busybox:latest\\nRUN printf "#!/bin/sh\\\\nexec sleep 1000000\\\\n" > /bin/fake-service\\n' | DOCKER_BUILDKIT=0 docker build -q -t berth-test/sim-bad -`], { encoding: "utf8" });
      expect(build.status, build.stderr).toBe(0);
      const v2 = registry.push("berth-test/sim-v2", "sim/openstack:v2");
      const bad = registry.push("berth-test/sim-bad", "sim/openstack-bad:v2");
      docker(["rmi", "berth-test/sim-v2", "berth-test/sim-bad"]);
      expect(sh("cd /root/berth && ./install.sh").status).toBe(0);
      expect(sh("systemctl stop berthd").status).toBe(0);
      // Everything as it was accepted (keystone's typo fixed), then the operator's upgrade in one batch.
      for (const s of services) copyFileSync(join(SIM, `${s}.container`), join(host.root, "etc/berth", `${s}.container`));
      expect(sh("berth apply").status).toBe(0);
      await waitFor("all active before the upgrade", () => allActive() || undefined);
      const before = Object.fromEntries(services.map((s) => [s, startedAt(s)]));
      for (const s of services) {
        const text = readFileSync(join(SIM, `${s}.container`), "utf8").replace(/^Image=.*$/m, `Image=${s === "placement-api" ? bad : v2}\nRevertOnFailure=yes`);
        writeFileSync(join(host.root, "etc/berth", `${s}.container.tmp`), text);
        renameSync(join(host.root, "etc/berth", `${s}.container.tmp`), join(host.root, "etc/berth", `${s}.container`));
      }
      mkdirSync(join(host.root, "etc/berth/placement-api.container.d"));
      writeFileSync(join(host.root, "etc/berth/placement-api.container.d/timeout.conf"), "[Service]\nTimeoutStartSec=20\n");
      // berthd meets the whole batch when it starts, as after a configuration run that stopped it.
      const cursor = sh("journalctl -u berthd -n 0 --show-cursor --no-pager").stdout.match(/cursor: (\S+)/)?.[1] ?? "";
      const journal = () => sh(`journalctl -u berthd --after-cursor='${cursor}' -o cat --no-pager`).stdout;
      const t0 = Date.now();
      expect(sh("systemctl start berthd").status).toBe(0);
      await waitFor("placement-api reverted", () => /placement-api\.service: .*reverted to the version accepted at/.test(journal()) || undefined);
      await waitFor("the rollout's reconcile to end", () => /^reconciled in .*failed/m.test(journal()) || undefined);
      const took = Date.now() - t0;
      const log = journal();
      // The image first, then the levels in order.
      expect(log.indexOf(`${v2}: pulled`)).toBeGreaterThan(0);
      expect(log.indexOf(`${v2}: pulled`)).toBeLessThan(log.search(/\.service: (re)?starting/));
      const levels = [...log.matchAll(/rollout level (\d+) of (\d+)/g)].map((m) => Number(m[1]));
      expect(levels).toEqual([...levels].sort((a, b) => a - b));
      // Each restarted service started only once what it is ordered after was ready again.
      const upgraded = services.filter((s) => startedAt(s) !== before[s]);
      for (const [dep, s] of dependencies()) {
        if (upgraded.includes(s) && upgraded.includes(dep)) expect(startedAt(s), `${s} after ${dep}`).toBeGreaterThanOrEqual(readyAt(dep));
      }
      // placement-api is back on its old image; nothing above it was restarted.
      expect(docker(["inspect", "-f", "{{.Config.Image}}", containerName("placement-api")]).stdout.trim()).toBe("berth-test/busybox:latest");
      const held = above("placement-api");
      expect(held.size).toBeGreaterThan(0);
      for (const s of held) expect(startedAt(s), s).toBe(before[s]);
      for (const s of ["mariadb", "keystone", "memcached", "rabbitmq"]) expect(docker(["inspect", "-f", "{{.Config.Image}}", containerName(s)]).stdout.trim(), s).toBe(v2);
      expect(sh("berth plan").stdout).toMatch(/^hold     nova-api\.service  \(placement-api\.service was reverted/m);
      // berthd's retry after the failure leaves it so: no flapping between the two versions.
      const placement = startedAt("placement-api");
      await waitFor("berthd's retry", () => /^reconciling \(retry after failures/m.test(journal()) || undefined);
      await waitFor("the retry to end", () => journal().split(/^reconciling \(retry after failures.*$/m)[1]?.match(/^reconciled in/m) || undefined);
      expect(startedAt("placement-api")).toBe(placement);
      expect(Object.fromEntries([...held].map((s) => [s, startedAt(s)]))).toEqual(Object.fromEntries([...held].map((s) => [s, before[s]])));
      console.log(`upgrade with a bad image in the middle: ${(took / 1000).toFixed(1)} s from berthd's start to the rollout stopped and placement-api reverted (its start timeout is 20 s)`);
    } finally {
      registry.stop();
    }
  });

  it("install.sh --uninstall removes berth and leaves the definitions", () => {
    const r = sh("cd /root/berth && ./install.sh --uninstall");
    expect(r.status).toBe(0);
    expect(sh("test -e /opt/berth || test -e /usr/local/bin/berth || test -e /usr/lib/systemd/system-generators/berth-generator; echo $?").stdout.trim()).toBe("1");
    expect(sh("ls /etc/berth/*.container | wc -l").stdout.trim()).toBe("17");
    expect(sh("systemctl is-active berthd").stdout.trim()).not.toBe("active");
    expect(docker(["ps", "-q", "--filter", "label=io.berth.unit"]).stdout.trim()).toBe("");
  });
});
