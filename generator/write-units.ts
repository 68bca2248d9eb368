import { mkdirSync, renameSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirPrefix, locate } from "./paths.js";
import type { GeneratedUnit } from "./generated-unit.js";

/**
 * Writes each unit through a temporary file and a rename, so systemd never reads half a unit.
 * Synchronous on purpose: measured, a thousand small async writes cost more in promise and
 * thread-pool overhead than they gain.
 */
export function unitWriter(outDir: string): (unit: Pick<GeneratedUnit, "unitName" | "text" | "links">) => void {
  mkdirSync(outDir, { recursive: true });
  // Unit names never contain "/", so they can be appended to the directory as they are.
  const prefix = dirPrefix(outDir);
  const made = new Set<string>([outDir]);
  const link = (path: string, target: string): void => {
    const { at, parent } = locate(outDir, prefix, path);
    if (!made.has(parent)) {
      mkdirSync(parent, { recursive: true });
      made.add(parent);
    }
    try {
      symlinkSync(target, at);
    } catch (e) {
      // systemd empties the directory first; only a manual rerun finds an old link.
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
      rmSync(at, { force: true });
      symlinkSync(target, at);
    }
  };
  return (u) => {
    const tmp = `${prefix}.${u.unitName}.tmp`;
    // Naming the encoding takes Node's one-call native path; options without it go through a Buffer.
    writeFileSync(tmp, u.text, { encoding: "utf8", mode: 0o644 });
    renameSync(tmp, prefix + u.unitName);
    for (const l of u.links) link(l.path, l.target);
  };
}
