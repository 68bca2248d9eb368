import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import type { Translated } from "./translate.js";

/** Writes each unit through a temporary file and rename, so systemd never reads half a unit. */
export function writeUnits(outDir: string, units: readonly Translated[]): void {
  mkdirSync(outDir, { recursive: true });
  const made = new Set<string>([outDir]);
  for (const u of units) {
    const path = join(outDir, u.unitName);
    const tmp = join(outDir, `.${u.unitName}.tmp`);
    writeFileSync(tmp, u.text, { mode: 0o644 });
    renameSync(tmp, path);
    for (const link of u.links) {
      const at = join(outDir, link.path);
      const dir = dirname(at);
      if (!made.has(dir)) {
        mkdirSync(dir, { recursive: true });
        made.add(dir);
      }
      rmSync(at, { force: true });
      symlinkSync(link.target, at);
    }
  }
}
