import { spawnSync } from "node:child_process";
import { copyFileSync, mkdirSync, readdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { BootedHost } from "./support/booted-host.js";
import { docker, ensureTestImage } from "./support/images.js";
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
  });

  it("a typo changes nothing running; berth status and the journal show the error", async () => {
    const before = ids();
    const file = join(host.root, "etc/berth/keystone.container");
    writeFileSync(`${file}.tmp`, readFileSync(file, "utf8").replace("HealthInterval=200ms", "HealthInterval=fast"));
    renameSync(`${file}.tmp`, file);
    await waitFor("the error in berthd's journal", () => /keystone\.container:\d+: error: HealthInterval=/.test(sh("journalctl -u berthd --no-pager").stdout) || undefined);
    expect(sh("berth status").stdout).toMatch(/keystone\.service: .*HealthInterval=: expected a duration/);
    expect(ids()).toEqual(before);
    // Also across someone else's daemon-reload.
    sh("systemctl daemon-reload");
    expect(sh("systemctl show -p ExecStart keystone").stdout).toContain("--health-interval 200ms");
  });

  it("after a reboot, with /var on its own file system, the definition with the typo runs its last accepted version", async () => {
    expect(sh("systemctl disable --now berthd").status).toBe(0);
    const before = ids().keystone;
    await host.reboot();
    // /var is mounted after the generators ran: what they read from it at boot was not there.
    expect(sh("findmnt -n -o SOURCE /var").stdout).toContain("/srv/var");
    await waitFor("all services active after reboot", () => allActive() || undefined);
    expect(sh("systemctl show -p ExecStart keystone").stdout).toContain("--health-interval 200ms");
    expect(ids().keystone).not.toBe(before);
    expectOrdered();
  });

  it("install.sh --uninstall removes berth and leaves the definitions", () => {
    const r = sh("cd /root/berth && ./install.sh --uninstall");
    expect(r.status).toBe(0);
    expect(sh("test -e /opt/berth || test -e /usr/local/bin/berth || test -e /usr/lib/systemd/system-generators/berth-generator; echo $?").stdout.trim()).toBe("1");
    expect(sh("ls /etc/berth | wc -l").stdout.trim()).toBe("17");
    expect(sh("systemctl is-active berthd").stdout.trim()).not.toBe("active");
    expect(docker(["ps", "-q", "--filter", "label=io.berth.unit"]).stdout.trim()).toBe("");
  });
});
