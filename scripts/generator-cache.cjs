// Makes the generator's V8 code cache (see bin/berth-generator): the bundle is compiled as the
// launcher compiles it, run over the example control plane until every function on a run's path
// is compiled, and the cache taken then.
"use strict";
const { chmodSync, cpSync, mkdtempSync, readdirSync, rmSync, writeFileSync } = require("node:fs");
const { tmpdir } = require("node:os");
const { join } = require("node:path");
const { compile, load, cacheFile } = require("../bin/berth-generator");

const WARM_UP_RUNS = 3;

const script = compile(undefined);
const generator = load(script);
const root = mkdtempSync(join(tmpdir(), "berth-cache-"));
try {
  const defs = join(root, "defs");
  cpSync(join(__dirname, "../examples/openstack"), defs, { recursive: true });
  // A checkout made with umask 002 has group-writable files, which the generator rightly refuses.
  for (const entry of readdirSync(defs, { recursive: true, withFileTypes: true })) {
    chmodSync(join(entry.parentPath, entry.name), entry.isDirectory() ? 0o755 : 0o644);
  }
  chmodSync(defs, 0o755);
  for (let i = 0; i < WARM_UP_RUNS; i++) {
    // Its own state directory, so that no last accepted version of this host is read.
    // Nothing to the kernel log: this is a build, maybe as root, not the host's generator.
    const status = generator.generate([join(root, `out${i}`)], { BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: join(root, "state") }, () => undefined);
    if (status !== 0) throw new Error(`the generator's warm-up over examples/openstack failed (status ${status})`);
  }
} finally {
  rmSync(root, { recursive: true, force: true });
}
writeFileSync(cacheFile, script.createCachedData());
