import { cpSync, readdirSync, readFileSync } from "node:fs";
import { join, relative } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSet } from "../generator/load-set.js";
import { repo } from "./support/run.js";
import { tree } from "./support/tree.js";

/**
 * Set cases: each directory under test/cases/sets is a search directory whose files say, in `##`
 * lines (comments to the parser), what berth must make of them:
 *
 *   ## error: TEXT            an error containing TEXT at the next line that is not a `##` line
 *   ## error-file: TEXT       an error containing TEXT about the whole file (line 0)
 *   ## unit: NAME             the definition is written, as unit NAME
 *   ## no-unit                the definition gets no unit
 *   ## install: KIND TARGET UNIT   an [Install] edge of the unit (when any is given, all are)
 *   ## no-install             the unit has no [Install] edge
 *
 * Every error in the set must be asserted. `{dir}` stands for the directory the case runs in.
 */
const CASES = join(repo, "test/cases/sets");

interface Expected {
  errors: Array<{ file: string; line: number; text: string }>;
  units: Map<string, string | null>;
  install: Map<string, string[]>;
}

function expectations(dir: string): Expected {
  const out: Expected = { errors: [], units: new Map(), install: new Map() };
  const files = readdirSync(dir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile());
  for (const ent of files) {
    const file = relative(dir, join(ent.parentPath, ent.name));
    const pending: string[] = [];
    readFileSync(join(dir, file), "utf8").split("\n").forEach((line, index) => {
      const m = /^## ([a-z-]+)(?:: (.*))?$/.exec(line);
      if (!m) {
        for (const text of pending.splice(0)) out.errors.push({ file, line: index + 1, text });
        return;
      }
      const [, kind, arg = ""] = m;
      const text = arg.replaceAll("{dir}", dir);
      if (kind === "error") pending.push(text);
      else if (kind === "error-file") out.errors.push({ file, line: 0, text });
      else if (kind === "unit") out.units.set(file, arg);
      else if (kind === "no-unit") out.units.set(file, null);
      else if (kind === "install") out.install.set(file, [...(out.install.get(file) ?? []), arg]);
      else if (kind === "no-install") out.install.set(file, []);
      else throw new Error(`${file}:${index + 1}: unknown assertion ## ${kind}`);
    });
    if (pending.length > 0) throw new Error(`${file}: ## error at the end of the file asserts nothing`);
  }
  return out;
}

describe.each(readdirSync(CASES).sort())("case %s", (name) => {
  // A copy, so that {dir} is known and the files are the test's own (see the trust checks).
  const dir = tree({});
  cpSync(join(CASES, name), dir, { recursive: true });
  const expected = expectations(dir);
  const set = loadSet({ scope: "system", dirs: [dir] });
  const byPlace = <T extends { file: string; line: number }>(list: T[]) =>
    list.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : a.line - b.line));

  it("reports exactly the asserted errors, at their lines", () => {
    const actual = set.diagnostics.filter((d) => d.severity === "error").map((d) => ({ ...d, file: relative(dir, d.file) }));
    expect(byPlace(actual)).toEqual(byPlace(expected.errors).map((e) => expect.objectContaining({ file: e.file, line: e.line, message: expect.stringContaining(e.text) })));
  });

  it("writes the asserted units and [Install] edges", () => {
    for (const [file, unit] of expected.units) {
      const written = set.output.find((u) => u.file === join(dir, file));
      expect(written?.unitName ?? null, file).toBe(unit);
    }
    for (const [file, edges] of expected.install) {
      const written = set.output.find((u) => u.file === join(dir, file));
      expect(written?.install.map((e) => `${e.kind} ${e.target} ${e.unit}`), file).toEqual(edges);
    }
  });
});
