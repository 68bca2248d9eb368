// How many real-world Quadlet files berth takes as they are, and why it refuses the rest:
// `QUADLET_CORPUS=DIR node bench/run.js quadlet-corpus`, where each directory under DIR holds one
// repository's files as found (its own layout: drop-ins and relative paths keep working). Each
// repository is checked as one set, searched recursively as Quadlet searches its directory, and
// as `berth validate DIR` checks it. Not part of the default run: the corpus is public files that
// stay out of this repository (docs/quadlet-compatibility.md says how ours was gathered).
import { readdirSync } from "node:fs";
import { join } from "node:path";

import { loadSet } from "../generator/load-set.js";

const root = process.env.QUADLET_CORPUS;
if (!root) {
  console.log("QUADLET_CORPUS is not set: nothing to measure");
} else {
  const byType = new Map<string, { files: number; accepted: number }>();
  const causes = new Map<string, number>();
  for (const repo of readdirSync(root, { withFileTypes: true }).filter((e) => e.isDirectory())) {
    const set = loadSet({ scope: "system", dirs: [join(root, repo.name)], missingCredential: "warning" });
    for (const source of set.sources) {
      const own = set.diagnostics.filter((d) => d.severity === "error" && (d.file === source.file || source.dropIns.includes(d.file)));
      const counts = byType.get(source.name.type) ?? { files: 0, accepted: 0 };
      counts.files++;
      if (own.length === 0) counts.accepted++;
      byType.set(source.name.type, counts);
      // The cause without the file's own values: `"ollama.network" is not defined` counts as `"…" is not defined`.
      for (const cause of new Set(own.map((d) => d.message.replace(/"[^"]*"/g, '"…"').replace(/\d+/g, "N")))) causes.set(cause, (causes.get(cause) ?? 0) + 1);
    }
  }
  for (const [type, { files, accepted }] of byType) {
    console.log(`.${type}: ${accepted} of ${files} accepted (${((100 * accepted) / files).toFixed(1)}%)`);
  }
  console.log("\nrefusals, by files refused for each cause:");
  for (const [cause, n] of [...causes].sort((a, b) => b[1] - a[1]).slice(0, 40)) console.log(`${String(n).padStart(5)}  ${cause.slice(0, 160)}`);
}
