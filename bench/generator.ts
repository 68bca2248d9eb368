// Measures berth-generator as systemd runs it: one whole process over N typical definitions,
// against a bare `node` start. Prints medians of repeated runs, interleaved: a full translation
// (a boot after edits made while berthd was stopped, or a daemon-reload after an edit on a host
// without berthd); a kept run written again (a daemon-reload that finds nothing of berth's
// changed); and the daemon-reload after an edit that berthd applied, which writes berthd's own
// translation of the set, kept for it; and, as the floor of any generator written in Node, a
// process that only does a translation's I/O. What that costs berthd is timed apart, in this process as
// in berthd's: its translation watched for the looks against the same unwatched, and the keeping.
// Run this process with berthd's V8 flags (bin/berthd) for berthd's figures:
//   npm run build && node --max-semi-space-size=1 --optimize-for-size --no-maglev --no-turbofan bench/run.js generator
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { readAllAccepted, readRejections } from "../generator/accepted-store.js";
import { hostCache } from "../generator/host-cache.js";
import { loadSet } from "../generator/load-set.js";
import { detectScope } from "../generator/search-path.js";
import { observing, runOf } from "../generator/translate-run.js";
import { keptBy } from "../test/support/kept-run.js";
import { repo } from "../test/support/run.js";

const generator = `${repo}bin/berth-generator`;
const RUNS = Number(process.env.BENCH_RUNS ?? 21);
// BENCH_SIZES=30,300,1000 for other numbers of definitions than the default 30 and 1000.
// Quadlet's own generator, for a side-by-side figure (issue 11 measured berth against Quadlet
// 5.6.2): the path of a quadlet binary built beside this checkout, which stays out of it.
const QUADLET = process.env.QUADLET;

function typical(i: number): string {
  const dep = i > 0 ? `After=svc${i - 1}.container\nWants=svc${i - 1}.container\n` : "";
  return `[Unit]\nDescription=service ${i}\n${dep}
[Container]
Image=quay.io/openstack.kolla/svc${i}:2025.1
Network=host
Volume=/etc/kolla/svc${i}:/var/lib/kolla/config_files:ro
Volume=kolla_logs:/var/log/kolla
Environment=KOLLA_CONFIG_STRATEGY=COPY_ALWAYS "KOLLA_SERVICE_NAME=svc${i}"
PublishPort=${10000 + i}:${10000 + i}
HealthCmd=healthcheck_port svc${i} ${10000 + i}
HealthInterval=30s
StopTimeout=60

[Service]
TimeoutStartSec=300

[Install]
WantedBy=multi-user.target
`;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

function time(cmd: string, args: string[], env: NodeJS.ProcessEnv): number {
  const t0 = process.hrtime.bigint();
  const r = spawnSync(cmd, args, { env: { ...process.env, ...env }, stdio: ["ignore", "ignore", "pipe"] });
  const t = Number(process.hrtime.bigint() - t0) / 1e6;
  if (r.status !== 0) throw new Error(`${cmd} failed: ${r.stderr}`);
  return t;
}

/** The mean size of the units a translation wrote, for the I/O floor to write as many bytes. */
function averageUnitSize(dir: string): number {
  const units = readdirSync(dir).filter((f) => f.endsWith(".service"));
  return Math.round(units.reduce((sum, f) => sum + statSync(join(dir, f)).size, 0) / units.length);
}

for (const n of (process.env.BENCH_SIZES ?? "30,1000").split(",").map(Number)) {
  // systemd's generator directories live on tmpfs (/run); so do the definitions' page cache.
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? "/dev/shm", "berth-bench-"));
  const defs = join(root, "defs");
  mkdirSync(defs);
  for (let i = 0; i < n; i++) writeFileSync(join(defs, `svc${i}.container`), typical(i));
  const out = join(root, "out");
  const cache = join(root, "cache/run-cache.json");
  const state = join(root, "state");
  const generate = (env: NodeJS.ProcessEnv) => {
    rmSync(out, { recursive: true, force: true });
    return time(generator, [out, out, out], { BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: state, ...env });
  };
  // A run is kept once the files it read are old enough (settledMs): until then, run again.
  while (!existsSync(cache)) {
    generate({ BERTH_GENERATOR_CACHE: cache });
    spawnSync("sleep", ["0.2"]);
  }
  const bareRuns: number[] = [];
  const full: number[] = [];
  const kept: number[] = [];
  const afterBerthd: number[] = [];
  const floor: number[] = [];
  const quadlet: number[] = [];
  let unitSize: number | undefined;
  const [unwatched, watched, keeping]: number[][] = [[], [], []];
  const berthdEnv = { ...process.env, BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: state, BERTH_GENERATOR_CACHE: cache };
  const scope = detectScope(berthdEnv);
  const accepted = join(state, "accepted");
  const bundle = `${repo}dist/berth-generator.cjs`;
  const ms = (t0: bigint) => Number(process.hrtime.bigint() - t0) / 1e6;
  // berthd's assessment of the set (agent/reconcile.ts assess()), its records read before.
  const records = readAllAccepted(accepted, () => undefined);
  const assess = (env: NodeJS.ProcessEnv) => loadSet({ scope, env, acceptedDir: accepted, records, rejections: readRejections(accepted), definitionDigests: true });
  const edited = join(defs, "svc0.container");
  for (let i = 0; i < RUNS; i++) {
    // An edit as berthd applies it, once its watcher has heard nothing for 50 ms.
    writeFileSync(edited, typical(0).replace("service 0", `service 0, edit ${i}`));
    const written = statSync(edited).ctimeMs;
    while (Date.now() <= written + 50) spawnSync("sleep", ["0.01"]);
    let t0 = process.hrtime.bigint();
    assess(berthdEnv);
    unwatched.push(ms(t0));
    t0 = process.hrtime.bigint();
    const { value: set, looks } = observing(bundle, berthdEnv, assess);
    watched.push(ms(t0));
    t0 = process.hrtime.bigint();
    if (!hostCache(berthdEnv, bundle, { by: "berthd" })(scope)!.runs.keep(looks, runOf(set, scope))) throw new Error("berthd's run was not kept");
    keeping.push(ms(t0));
    afterBerthd.push(generate({ BERTH_GENERATOR_CACHE: cache }));
    // Had the generator translated instead, it would have kept its own run in place of berthd's.
    if (keptBy(readFileSync(cache, "utf8")) !== "berthd") throw new Error("the generator did not write berthd's run");
    bareRuns.push(time(process.execPath, ["-e", "0"], {}));
    if (QUADLET) {
      rmSync(out, { recursive: true, force: true });
      mkdirSync(out);
      quadlet.push(time(QUADLET, ["-no-kmsg-log", out, out, out], { QUADLET_UNIT_DIRS: defs }));
    }
    full.push(generate({ BERTH_GENERATOR_CACHE: "off" }));
    unitSize ??= averageUnitSize(out);
    rmSync(out, { recursive: true, force: true });
    floor.push(time(process.execPath, [`${repo}bench/io-floor.cjs`, defs, out, String(unitSize)], {}));
    kept.push(generate({ BERTH_GENERATOR_CACHE: cache }));
  }
  const b = median(bareRuns);
  const line = (what: string, runs: number[]) => {
    const m = median(runs);
    return `generator, ${n} definitions, ${what}: ${m.toFixed(1)} ms median, ${(m / b).toFixed(2)}x bare node (${(m - b).toFixed(1)} ms over it; min ${Math.min(...runs).toFixed(1)} ms)`;
  };
  console.log(`bare node start: ${b.toFixed(1)} ms (median of ${RUNS} interleaved, ${process.version})`);
  console.log(line("translated", full));
  if (QUADLET) {
    const q = median(quadlet);
    console.log(`${line(`Quadlet (${QUADLET})`, quadlet)}; berth translated ${(median(full) / q).toFixed(2)}x Quadlet, kept run ${(median(kept) / q).toFixed(2)}x Quadlet`);
  }
  console.log(line("kept run", kept));
  console.log(line("after an edit that berthd applied", afterBerthd));
  console.log(line(`I/O alone (read each definition, write a unit of ${unitSize} bytes each; bench/io-floor.cjs)`, floor));
  // berthd is long-running: its first translation (cold code) is left out.
  const warm = (xs: number[]) => median(xs.slice(1)).toFixed(1);
  console.log(`berthd, ${n} definitions (V8 flags: ${process.execArgv.join(" ") || "none"}): its translation ${warm(unwatched)} ms, watched for the looks ${warm(watched)} ms, keeping the run ${warm(keeping)} ms (medians)`);
  rmSync(root, { recursive: true, force: true });
}
