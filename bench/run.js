// Runs the benchmarks named on the command line (default: all) and prints their figures.
// Benchmarks are TypeScript that share the tests' support code; esbuild bundles each one first.
import { build } from "esbuild";
import { mkdirSync, mkdtempSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";

const all = ["generator", "start", "agent", "day2"];
// Inside the checkout, so that the bundles' external packages (fast-check) resolve from node_modules.
const cache = fileURLToPath(new URL("../node_modules/.cache/", import.meta.url));
mkdirSync(cache, { recursive: true });
const out = mkdtempSync(join(cache, "berth-bench-"));
for (const name of process.argv.slice(2).length ? process.argv.slice(2) : all) {
  console.log(`\n## ${name}`);
  const outfile = join(out, `${name}.mjs`);
  await build({
    entryPoints: [fileURLToPath(new URL(`./${name}.ts`, import.meta.url))],
    outfile, bundle: true, platform: "node", format: "esm", packages: "external", logLevel: "warning",
    // Keep import.meta.url meaning "the repository" for the shared support code.
    // Of the build in dist/ (npm run bench builds first): a run kept here is the generator's.
    define: {
      "import.meta.url": JSON.stringify(new URL(`../test/support/x.ts`, import.meta.url).href),
      BERTH_BUILD: JSON.stringify(readFileSync(new URL("../dist/build-id", import.meta.url), "utf8").trim()),
    },
  });
  await import(outfile);
}
