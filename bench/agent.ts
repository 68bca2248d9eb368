// berthd's speed: from a rename into the definition directory to the start job being issued and
// to the unit being active (systemd's own Reload time reported separately), the reconcile time
// for one change among 10 and among 300 definitions, and the agent's resident memory at 300.
import { readFileSync, renameSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Agent } from "../test/support/agent.js";
import { docker, ensureTestImage, TEST_IMAGE } from "../test/support/images.js";
import { UserManager } from "../test/support/user-manager.js";
import { waitFor } from "../test/support/wait.js";

const TRIALS = Number(process.env.BENCH_RUNS ?? 9);
const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))]!;
const def = (i: number, v = 0) => `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\nExec=sleep 6000\nEnvironment=V=${v}\n# ${i}\n`;

async function scenario(size: number): Promise<void> {
  const um = await new UserManager().start();
  const agent = new Agent(um).start();
  const names = Array.from({ length: size }, (_, i) => `b${size}-${i}`);
  try {
    await agent.reconciled();
    const mark = agent.mark;
    for (const n of names) um.writeDefinition(`${n}.container`, def(0));
    await agent.reconciled(mark, 900_000);
    await waitFor("all active", () => names.every((n) => um.show(`${n}.service`, "ActiveState").ActiveState === "active"), 900_000);

    // Each running container adds mounts (its overlay root, and a network namespace unless
    // Network=host) that systemd tracks as mount units and serializes on every Reload.
    const mounts = um.systemctl(["list-units", "--all", "--no-legend", "--type=mount"]).stdout.split("\n").filter(Boolean).length;
    const toJob: number[] = [];
    const toActive: number[] = [];
    const reloads: number[] = [];
    const reconciles: number[] = [];
    const withoutReload: number[] = [];
    for (let t = 0; t < TRIALS; t++) {
      // A new definition, written the way configuration tools write: temp file, then rename.
      const name = `new${size}-${t}`;
      const tmp = join(um.defs, `.tmp-${name}`);
      writeFileSync(tmp, def(t));
      const m = agent.mark;
      const t0 = Date.now();
      renameSync(tmp, join(um.defs, `${name}.container`));
      const issued = await agent.waitForLog(new RegExp(`^${name}\\.service: starting`), m);
      void issued;
      const phases = agent.lines.slice(m).find((l) => l.msg.startsWith("read "));
      if (phases && process.env.BERTH_LOG_LEVEL === "debug") console.log(`    ${phases.msg}`);
      const issuedAt = agent.lines.slice(m).find((l) => l.msg.startsWith(`${name}.service: starting`))!.time;
      const reload = Number(/in (\d+) ms/.exec(await agent.waitForLog(/^reloaded systemd in/, m))![1]);
      await agent.waitForLog(new RegExp(`^${name}\\.service: active`), m);
      const activeAt = agent.lines.slice(m).find((l) => l.msg.startsWith(`${name}.service: active`))!.time;
      toJob.push(issuedAt - t0 - reload);
      toActive.push(activeAt - t0);
      reloads.push(reload);
      await agent.reconciled(m);

      // One changed definition among the set: reconcile time as berthd reports it.
      const m2 = agent.mark;
      um.writeDefinition(`${names[0]}.container`, def(0, t + 1));
      const took = Number(/in (\d+) ms/.exec(await agent.reconciled(m2))![1]);
      if (process.env.BENCH_TRACE) {
        const ls = agent.lines.slice(m2);
        for (const l of ls) console.log(`    +${l.time - ls[0]!.time} ms ${l.msg}`);
      }
      reconciles.push(took);
      withoutReload.push(took - Number(/in (\d+) ms/.exec(await agent.waitForLog(/^reloaded systemd in/, m2))![1]));
    }
    const rssNow = () => Number(/VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${agent.pid}/status`, "utf8"))![1]) / 1024;
    const busy = rssNow();
    // Steady state: V8 hands pages back some seconds after the last burst of work.
    await new Promise((r) => setTimeout(r, 20_000));
    const rss = rssNow();
    console.log(`  berthd resident memory right after the last reconcile: ${busy.toFixed(0)} MB`);
    if (process.env.BENCH_SMAPS) {
      const maps = readFileSync(`/proc/${agent.pid}/smaps`, "utf8").split(/\n(?=[0-9a-f]+-[0-9a-f]+ )/);
      const rows = maps.map((m) => ({ head: m.split("\n")[0]!.slice(0, 110), rss: Number(/\nRss:\s+(\d+)/.exec(m)?.[1] ?? 0) }));
      for (const r of rows.sort((a, b) => b.rss - a.rss).slice(0, 12)) console.log(`    ${r.rss} kB ${r.head}`);
      const kinds = new Map<string, [number, number]>();
      for (const r of rows) {
        const parts = r.head.split(/\s+/);
        const kind = `${parts[1]} ${parts[5] ? "file" : "anon"}`;
        const k = kinds.get(kind) ?? [0, 0];
        kinds.set(kind, [k[0] + r.rss, k[1] + 1]);
      }
      for (const [k, [rss, n]] of kinds) console.log(`    ${k}: ${rss} kB in ${n} mappings`);
    }
    console.log(`${size} definitions:`);
    console.log(`  rename → start job issued (excluding Reload): p50 ${pct(toJob, 0.5)} ms, p90 ${pct(toJob, 0.9)} ms`);
    console.log(`  systemd Reload: p50 ${pct(reloads, 0.5)} ms (the manager tracks ${mounts} mount units)`);
    console.log(`  rename → unit active: p50 ${pct(toActive, 0.5)} ms`);
    console.log(`  reconcile of one changed definition: p50 ${pct(reconciles, 0.5)} ms (${pct(withoutReload, 0.5)} ms without systemd's Reload)`);
    console.log(`  berthd resident memory, idle 20 s later: ${rss.toFixed(0)} MB`);
    results.set(size, [pct(reconciles, 0.5), pct(withoutReload, 0.5)]);
  } finally {
    await agent.stop("SIGKILL");
    // A few at a time: hundreds of concurrent stops and removals have deadlocked dockerd 20.10 here.
    const units = [...names, ...Array.from({ length: TRIALS }, (_, t) => `new${size}-${t}`)].map((n) => `${n}.service`);
    for (let i = 0; i < units.length; i += 20) um.systemctl(["stop", ...units.slice(i, i + 20)]);
    await um.stop();
    const left = docker(["ps", "-aq", "--filter", "label=io.berth.unit"]).stdout.trim().split("\n").filter(Boolean);
    if (left.length) docker(["rm", "-f", ...left]);
  }
}

const results = new Map<number, [number, number]>();
ensureTestImage();
for (const size of (process.env.BENCH_SIZES ?? "10,300").split(",").map(Number)) await scenario(size);
const [r300, r10] = [results.get(300), results.get(10)];
if (r300 && r10) {
  console.log(`one change among 300 costs ${(r300[0] / r10[0]).toFixed(2)}× one among 10 (target ≤ 1.5); ${(r300[1] / r10[1]).toFixed(2)}× without systemd's Reload`);
}
