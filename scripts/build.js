// Bundles each executable into one file. A generator runs on every daemon-reload and the
// container helper on every start and stop; loading one file instead of a dozen modules takes
// about 15 ms off each run (see docs/performance.md).
import { build } from "esbuild";
import { copyFileSync, chmodSync } from "node:fs";

const entries = {
  "berth-generator": "generator/main.ts",
  "berth-container": "runtime/container.ts",
  berth: "cli/main.ts",
  berthd: "agent/main.ts",
};

await build({
  entryPoints: entries,
  outdir: "dist",
  bundle: true,
  platform: "node",
  format: "esm",
  target: "node22",
  packages: "external",
  outExtension: { ".js": ".js" },
  logLevel: "warning",
});

// The units' fast paths, a shell script beside the helper it falls back to.
copyFileSync("runtime/berth-step", "dist/berth-step");
chmodSync("dist/berth-step", 0o755);
