import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createArgv, translateAll } from "./support/translate-helpers.js";
import { hasDefinitionSuffix } from "../generator/names.js";
import { splitWords } from "../generator/words.js";

/**
 * Translation cases as data, in the style of Quadlet's test files: each `test/cases/translate/*.container`
 * (or `.network`, `.volume`, `.image`, `.build`, `.pod`) is a definition whose `## assert-…` comment
 * lines say what berth must make of it. References to other files resolve as REFERABLE says.
 */
const dir = join(import.meta.dirname, "cases/translate");

const words = (text: string): string[] => {
  const r = splitWords(text);
  if (!r.ok) throw new Error(r.message);
  return r.words;
};

type Translation = ReturnType<typeof translateAll>;
const errors = (t: Translation) => t.diagnostics.filter((d) => d.severity === "error");
const unitLines = (t: Translation) => t.text.split("\n");
/** Whether the create argv holds the words of `rest` one after another. */
const hasRun = (t: Translation, rest: string) => {
  const argv = createArgv(t);
  const needle = words(rest);
  return argv.some((_, i) => needle.every((n, j) => argv[i + j] === n));
};
const withLine = (t: Translation, severity: string) => t.diagnostics.filter((d) => d.severity === severity).map((d) => `${d.line} ${d.message}`);
const lineAndMessage = (rest: string) => {
  const [, line, message] = /^(\d+) (.*)$/.exec(rest)!;
  return expect.stringContaining(`${line} ${message}`);
};

/** Each assertion, given the translation and the rest of its line. */
const ASSERTIONS: Record<string, (t: Translation, rest: string) => void> = {
  "assert-valid": (t) => expect(errors(t)).toEqual([]),
  "assert-error": (t, rest) => expect(withLine(t, "error")).toContainEqual(lineAndMessage(rest)),
  "assert-error-count": (t, rest) => expect(withLine(t, "error")).toHaveLength(Number(rest)),
  "assert-warning": (t, rest) => expect(withLine(t, "warning")).toContainEqual(lineAndMessage(rest)),
  "assert-unit-line": (t, rest) => expect(unitLines(t).some((l) => new RegExp(rest).test(l)), `a line matching ${rest} in\n${t.text}`).toBe(true),
  "assert-no-unit-line": (t, rest) => expect(unitLines(t).filter((l) => new RegExp(rest).test(l))).toEqual([]),
  "assert-unit-name": (t, rest) => expect(t.unitName).toBe(rest),
  "assert-sections": (t, rest) => expect(unitLines(t).filter((l) => l.startsWith("[")).map((l) => l.slice(1, -1))).toEqual(words(rest)),
  "assert-create-args": (t, rest) => expect(hasRun(t, rest), `${rest} in ${JSON.stringify(createArgv(t))}`).toBe(true),
  "assert-no-create-args": (t, rest) => expect(hasRun(t, rest), `no ${rest} in ${JSON.stringify(createArgv(t))}`).toBe(false),
  "assert-command": (t, rest) => {
    const argv = createArgv(t);
    const command = words(rest);
    expect(argv.slice(-command.length)).toEqual(command);
  },
};

describe("translation cases (test/cases/translate)", () => {
  const files = readdirSync(dir).filter(hasDefinitionSuffix).sort();
  it.each(files)("%s", (file) => {
    const text = readFileSync(join(dir, file), "utf8");
    const t = translateAll(text, file);
    const assertions = text.split("\n").filter((l) => l.startsWith("## assert-"));
    expect(assertions.length).toBeGreaterThan(0);
    for (const line of assertions) {
      const space = line.indexOf(" ", 3);
      const name = space < 0 ? line.slice(3) : line.slice(3, space);
      const check = ASSERTIONS[name];
      if (!check) throw new Error(`${file}: unknown assertion ${name}`);
      check(t, space < 0 ? "" : line.slice(space + 1));
    }
  });
});
