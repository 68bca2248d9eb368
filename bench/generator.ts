// Measures berth-generator as systemd runs it: one whole process over N typical definitions,
// against a bare `node` start. Prints medians of repeated runs.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
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

const bare = median(Array.from({ length: RUNS }, () => time(process.execPath, ["-e", "0"], {})));
console.log(`bare node start: ${bare.toFixed(1)} ms (median of ${RUNS}, ${process.version})`);
for (const n of [30, 1000]) {
  // systemd's generator directories live on tmpfs (/run); so do the definitions' page cache.
  const root = mkdtempSync(join(process.env.BENCH_DIR ?? "/dev/shm", "berth-bench-"));
  const defs = join(root, "defs");
  mkdirSync(defs);
  for (let i = 0; i < n; i++) writeFileSync(join(defs, `svc${i}.container`), typical(i));
  const runs = Array.from({ length: RUNS }, () => {
    const out = join(root, "out");
    rmSync(out, { recursive: true, force: true });
    return time(generator, [out, out, out], { BERTH_UNIT_DIRS: defs });
  });
  const m = median(runs);
  console.log(`generator, ${n} definitions: ${m.toFixed(1)} ms median (${(m - bare).toFixed(1)} ms over bare node; min ${Math.min(...runs).toFixed(1)} ms)`);
  rmSync(root, { recursive: true, force: true });
}
