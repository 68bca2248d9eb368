// Starting a service through its berth unit against a bare `docker run -d` of the same container
// (no health check), measured alternately in one run. The unit path returns when systemd reports
// the unit active, i.e. when the helper has seen the container running.
import { spawnSync } from "node:child_process";
import { docker, ensureTestImage, TEST_IMAGE } from "../test/support/images.js";
import { UserManager } from "../test/support/user-manager.js";

const ROUNDS = Number(process.env.BENCH_RUNS ?? 15);
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const timed = (f: () => void) => {
  const t0 = process.hrtime.bigint();
  f();
  return Number(process.hrtime.bigint() - t0) / 1e6;
};

ensureTestImage();
const um = await new UserManager().start();
try {
  docker(["rm", "-f", "bench-unit", "bench-bare"]);
  um.writeDefinition("bench-unit.container", `[Container]\nImage=${TEST_IMAGE}\nNetwork=none\nRunInit=yes\nExec=sleep 600\n`);
  um.reload();
  const unit: number[] = [];
  const bare: number[] = [];
  for (let i = 0; i < ROUNDS; i++) {
    unit.push(timed(() => {
      const r = um.systemctl(["start", "bench-unit.service"]);
      if (r.status !== 0) throw new Error(r.stderr);
    }));
    um.systemctl(["stop", "bench-unit.service"]);
    bare.push(timed(() => {
      const r = spawnSync("docker", ["run", "-d", "--init", "--network", "none", "--name", "bench-bare", TEST_IMAGE, "sleep", "600"]);
      if (r.status !== 0) throw new Error(String(r.stderr));
    }));
    docker(["rm", "-f", "bench-bare"]);
  }
  const u = median(unit);
  const b = median(bare);
  console.log(`systemctl start (berth unit): ${u.toFixed(0)} ms median of ${ROUNDS}`);
  console.log(`docker run -d (bare):         ${b.toFixed(0)} ms median of ${ROUNDS}`);
  console.log(`ratio unit/bare: ${(u / b).toFixed(2)} (target ≤ 1.30)`);
} finally {
  await um.stop();
  docker(["rm", "-f", "bench-unit", "bench-bare"]);
}
