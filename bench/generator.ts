// Measures berth-generator as systemd runs it: one whole process over N typical definitions,
// against a bare `node` start. Prints medians of repeated runs, interleaved: a full translation
// (what a daemon-reload after an edit costs, and every boot) and a kept run written again (a
// daemon-reload that finds nothing of berth's changed).
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";

import { repo } from "../test/support/run.js";

const generator = `${repo}bin/berth-generator`;
const RUNS = Number(process.env.BENCH_RUNS ?? 21);

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

for (const n of [30, 1000]) {
  // systemd's generator directories live on tmpfs (/run); so do the definitions' page cache.
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? "/dev/shm", "berth-bench-"));
  const defs = join(root, "defs");
  mkdirSync(defs);
  for (let i = 0; i < n; i++) writeFileSync(join(defs, `svc${i}.container`), typical(i));
  const out = join(root, "out");
  const cache = join(root, "cache/run-cache.json");
  const generate = (env: NodeJS.ProcessEnv) => {
    rmSync(out, { recursive: true, force: true });
    return time(generator, [out, out, out], { BERTH_UNIT_DIRS: defs, ...env });
  };
  // A run is kept once the files it read are old enough (SETTLED_MS): until then, run again.
  while (!existsSync(cache)) {
    generate({ BERTH_GENERATOR_CACHE: cache });
    spawnSync("sleep", ["0.2"]);
  }
  const bareRuns: number[] = [];
  const full: number[] = [];
  const kept: number[] = [];
  for (let i = 0; i < RUNS; i++) {
    bareRuns.push(time(process.execPath, ["-e", "0"], {}));
    full.push(generate({ BERTH_GENERATOR_CACHE: "off" }));
    kept.push(generate({ BERTH_GENERATOR_CACHE: cache }));
  }
  const b = median(bareRuns);
  const line = (what: string, runs: number[]) => {
    const m = median(runs);
    return `generator, ${n} definitions, ${what}: ${m.toFixed(1)} ms median, ${(m / b).toFixed(2)}x bare node (${(m - b).toFixed(1)} ms over it; min ${Math.min(...runs).toFixed(1)} ms)`;
  };
  console.log(`bare node start: ${b.toFixed(1)} ms (median of ${RUNS} interleaved, ${process.version})`);
  console.log(line("translated", full));
  console.log(line("kept run", kept));
  rmSync(root, { recursive: true, force: true });
}
