// Bundles each executable into one file. A generator runs on every daemon-reload and the
// container helper on every start and stop; loading one file instead of a dozen modules takes
// about 15 ms off each run (see docs/performance.md).
import { build } from "esbuild";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { copyFileSync, chmodSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";

/**
 * The build's identity, a digest of every source that goes into a bundle: berthd and the generator
 * of one build share it, and a berthd still running older code after an upgrade does not (its
 * kept runs are not the generator's; generator/build-id.ts).
 */
function sourcesDigest() {
  const hash = createHash("sha256");
  for (const dir of ["agent", "cli", "generator", "runtime", "scripts"]) {
    const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
    for (const path of files.map((e) => `${e.parentPath}/${e.name}`).sort()) hash.update(`${path}\0`).update(readFileSync(path)).update("\0");
  }
  return hash.digest("hex").slice(0, 16);
}
const buildId = sourcesDigest();

const common = {
  bundle: true,
  platform: "node",
  target: "node22",
  packages: "external",
  logLevel: "warning",
  define: { BERTH_BUILD: JSON.stringify(buildId) },
};

// V8 checks a code cache against its source's length only: a cache of an earlier bundle must not
// outlive it, should making the new one fail.
rmSync("dist/berth-generator.cache", { force: true });

await build({
  ...common,
  entryPoints: { "berth-container": "runtime/container.ts", berth: "cli/main.ts", berthd: "agent/main.ts" },
  outdir: "dist",
  format: "esm",
});

// The generator is CommonJS: a required bundle gets Node's built-in modules as they are, where an
// ES module first has an ESM facade built for each (node:fs alone pulls in all of node:stream).
await build({
  ...common,
  entryPoints: { "berth-generator": "generator/main.ts", "berth-generator-replay": "generator/replay.ts" },
  outdir: "dist",
  outExtension: { ".js": ".cjs" },
  format: "cjs",
  define: { ...common.define, "import.meta.dirname": "__dirname" },
});

// The generator's code cache, for the Node that builds (a process of its own: it runs the generator).
const cache = spawnSync(process.execPath, ["scripts/generator-cache.cjs"], { stdio: "inherit" });
if (cache.status !== 0) throw new Error(`making the generator's code cache failed (status ${cache.status ?? cache.signal})`);

// For benches that bundle berth's code themselves (bench/run.js), to be of this build.
writeFileSync("dist/build-id", `${buildId}\n`);

// The units' fast paths, a shell script beside the helper it falls back to.
copyFileSync("runtime/berth-step", "dist/berth-step");
chmodSync("dist/berth-step", 0o755);
