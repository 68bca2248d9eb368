// Day-2 operations (issue 12), measured against a real user manager, berthd and dockerd:
// - reconfigure: from the rename of one service's configuration file to its restart job being
//   issued, with 10 services watching their configuration (RestartOnChange=);
// - upgrade: the 17-service simulated control plane (examples/openstack-sim) moved from one image
//   tag to the next through a local registry: the whole rollout (pull first, then health-gated
//   levels) against the critical path of its levels (the sum of each level's slowest start).
import { spawn, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "../test/support/agent.js";
import { ensureJournald } from "../test/support/host-services.js";
import { docker, ensureTestImage, TEST_IMAGE } from "../test/support/images.js";
import { LocalRegistry } from "../test/support/registry.js";
import { repo } from "../test/support/run.js";
import { UserManager } from "../test/support/user-manager.js";
import { waitFor } from "../test/support/wait.js";

const TRIALS = Number(process.env.BENCH_RUNS ?? 9);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;

async function reconfigure(size: number): Promise<void> {
  const um = await new UserManager().start();
  const agent = new Agent(um).start();
  const etc = mkdtempSync("/tmp/berth-bench-etc-");
  const names = Array.from({ length: size }, (_, i) => `rc${i}`);
  try {
    await agent.reconciled();
    for (const n of names) {
      mkdirSync(join(etc, n));
      writeFileSync(join(etc, n, `${n}.conf`), "v=0\n");
      um.writeDefinition(`${n}.container`, `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\nExec=sleep 6000\nRestartOnChange=${join(etc, n)}\n`);
    }
    await waitFor("all active", () => names.every((n) => um.show(`${n}.service`, "ActiveState").ActiveState === "active"), 900_000);
    await agent.idle();
    const toJob: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      const n = names[t % size]!;
      const tmp = join(etc, n, `.ansible_tmp${t}${n}.conf`);
      writeFileSync(tmp, `v=${t + 1}\n`);
      const m = agent.mark;
      const t0 = Date.now();
      renameSync(tmp, join(etc, n, `${n}.conf`));
      await agent.waitForLog(new RegExp(`^${n}\\.service: restarting`), m);
      toJob.push(agent.lines.slice(m).find((l) => l.msg.startsWith(`${n}.service: restarting`))!.time - t0);
      await agent.waitForLog(new RegExp(`^${n}\\.service: active`), m);
      await agent.idle();
    }
    console.log(`${size} services with RestartOnChange=: config file rename → restart job issued: p50 ${pct(toJob, 0.5)} ms, p90 ${pct(toJob, 0.9)} ms (budget: 250 ms p50)`);
  } finally {
    await agent.stop("SIGKILL");
    um.systemctl(["stop", ...names.map((n) => `${n}.service`)]);
    await um.stop();
    rmSync(etc, { recursive: true, force: true });
  }
}

// BENCH_TRACE=FILE: one timeline of the upgrade, in ms since the new definitions were written:
// berthd's log, the units' journals (systemd's own lines and each Exec*= helper's output), and
// Docker's container events (health probes' exec events left out: they are most of the traffic).
const traceFile = process.env.BENCH_TRACE;
const TRACED_EVENTS = ["create", "start", "kill", "stop", "die", "destroy", "health_status"];

function writeTrace(file: string, t0: number, agent: Agent, um: UserManager, dockerEvents: string): void {
  const rows: Array<[number, string]> = agent.lines.map((l) => [l.time, `berthd   ${l.msg}`]);
  for (const line of dockerEvents.split("\n").filter(Boolean)) {
    const [nanos, ...rest] = line.split(" ");
    rows.push([Number(BigInt(nanos!) / 1_000_000n), `docker   ${rest.join(" ")}`]);
  }
  const cgroup = `/berth-test-${um.root.slice(um.root.lastIndexOf("-") + 1)}`;
  const journal = spawnSync("journalctl", ["-o", "json", "--no-pager", `--since=@${Math.floor(t0 / 1000)}`], { encoding: "utf8", maxBuffer: 1 << 28 });
  for (const line of journal.stdout.split("\n").filter(Boolean)) {
    const e = JSON.parse(line) as { __REALTIME_TIMESTAMP: string; _SYSTEMD_CGROUP?: string; USER_UNIT?: string; SYSLOG_IDENTIFIER?: string; MESSAGE: string };
    if (!e._SYSTEMD_CGROUP?.startsWith(cgroup)) continue;
    const who = e.USER_UNIT ?? e._SYSTEMD_CGROUP.slice(e._SYSTEMD_CGROUP.lastIndexOf("/") + 1);
    rows.push([Number(e.__REALTIME_TIMESTAMP) / 1000, `journal  ${who}: ${e.SYSLOG_IDENTIFIER ?? ""}: ${e.MESSAGE}`]);
  }
  rows.sort((a, b) => a[0] - b[0]);
  writeFileSync(file, rows.filter(([t]) => t >= t0).map(([t, what]) => `${String(Math.round(t - t0)).padStart(6)} ${what}`).join("\n") + "\n");
}

async function upgrade(): Promise<void> {
  const sim = join(repo, "examples/openstack-sim");
  const files = readdirSync(sim).filter((f) => f.endsWith(".container"));
  const registry = await new LocalRegistry(5057).start();
  const v1 = registry.push(TEST_IMAGE, "sim/openstack:v1");
  const build = spawnSync("sh", ["-c", `printf 'FROM ${TEST_IMAGE}\\nRUN echo 2 > /release\\n' | DOCKER_BUILDKIT=0 docker build -q -t berth-test/sim-v2 -`], { encoding: "utf8" });
  if (build.status !== 0) throw new Error(build.stderr);
  const v2 = registry.push("berth-test/sim-v2", "sim/openstack:v2");
  docker(["rmi", "berth-test/sim-v2"]);
  const delay = new Map(files.map((f) => [`${f.replace(/\.container$/, "")}.service`, Number(/DELAY=(\d+)/.exec(readFileSync(join(sim, f), "utf8"))![1])]));
  const containers = files.map((f) => /^ContainerName=(.*)$/m.exec(readFileSync(join(sim, f), "utf8"))![1]!);
  docker(["rm", "-f", ...containers]);
  const um = await new UserManager().start();
  let agent = new Agent(um).start();
  const write = (image: string) => { for (const f of files) um.writeDefinition(f, readFileSync(join(sim, f), "utf8").replace(/^Image=.*$/m, `Image=${image}`)); };
  const onImage = (image: string) => files.every((f, i) => um.show(f.replace(/\.container$/, ".service"), "ActiveState").ActiveState === "active" && docker(["inspect", "-f", "{{.Config.Image}}", containers[i]!]).stdout.trim() === image);
  try {
    await agent.reconciled();
    write(v1);
    await waitFor("the control plane on v1", () => onImage(v1), 900_000);
    await agent.idle();
    await agent.stop();
    // The operator's upgrade: every tag moves at once; berthd meets the batch as it starts.
    // systemd's debug log has each Exec*= process's fork and exit.
    if (traceFile) {
      ensureJournald();
      um.systemctl(["log-level", "debug"]);
      um.systemctl(["log-target", "journal"]);
    }
    const events = traceFile ? spawn("docker", ["events", "--filter", "type=container", ...TRACED_EVENTS.flatMap((e) => ["--filter", `event=${e}`]), "--format", "{{.TimeNano}} {{.Action}} {{.Actor.Attributes.name}}"], { stdio: ["ignore", "pipe", "ignore"] }) : undefined;
    let dockerEvents = "";
    events?.stdout.on("data", (d: Buffer) => (dockerEvents += d.toString()));
    write(v2);
    const t0 = Date.now();
    agent = new Agent(um).start();
    await waitFor("the control plane on v2", () => onImage(v2), 900_000);
    await agent.idle();
    events?.kill();
    if (traceFile) writeTrace(traceFile, t0, agent, um, dockerEvents);
    const at = (re: RegExp) => agent.lines.find((l) => re.test(l.msg))?.time ?? NaN;
    const lastActive = Math.max(...agent.lines.filter((l) => /\.service: active$/.test(l.msg)).map((l) => l.time));
    const pulled = at(/: pulled$/) - at(/^pulling \d+ image/);
    const levels = agent.lines.filter((l) => l.msg.startsWith("rollout level")).map((l) => l.msg.replace(/^rollout level \d+ of \d+: /, "").split(", "));
    const critical = levels.reduce((sum, units) => sum + Math.max(...units.map((u) => delay.get(u) ?? 0)), 0) * 1000;
    const took = lastActive - t0;
    const rollout = lastActive - at(/^rollout level 1 of/);
    console.log(`upgrade of the 17-service control plane (${levels.length} levels): ${(took / 1000).toFixed(1)} s from berthd's start; pull of the new image ${pulled} ms`);
    // Each level: from its restarts being issued to its last unit active, against its slowest start.
    const levelLines = agent.lines.filter((l) => l.msg.startsWith("rollout level"));
    levelLines.forEach((l, i) => {
      const end = i + 1 < levelLines.length ? levelLines[i + 1]!.time : lastActive;
      console.log(`  level ${i + 1}: ${((end - l.time) / 1000).toFixed(1)} s for a slowest start of ${Math.max(...levels[i]!.map((u) => delay.get(u) ?? 0))} s (${levels[i]!.length} services)`);
    });
    console.log(`  critical path of its health-gated levels: ${(critical / 1000).toFixed(1)} s; rollout ${(rollout / 1000).toFixed(1)} s = ${(rollout / critical).toFixed(2)}× (budget ≤ 1.3×); whole upgrade ${(took / critical).toFixed(2)}×`);
  } finally {
    await agent.stop("SIGKILL");
    um.systemctl(["stop", ...files.map((f) => f.replace(/\.container$/, ".service"))]);
    await um.stop();
    registry.stop();
    docker(["rm", "-f", ...containers]);
  }
}

ensureTestImage();
if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === "reconfigure") await reconfigure(10);
if (!process.env.BENCH_ONLY || process.env.BENCH_ONLY === "upgrade") await upgrade();
