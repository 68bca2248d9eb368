import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { decodeText } from "../generator/decode-text.js";
import { formatExec, quoteExecArg } from "../generator/exec-line.js";
import { formatCsvRecord, parseCsvRecord } from "../generator/mount-option.js";
import { parseUnitFile } from "../generator/unit-file.js";
import { splitUnitNames, splitWords } from "../generator/words.js";
import { hostileDefinition, misreadOf, WHOLE_FILE } from "./support/hostile.js";
import { translateAll } from "./support/translate-helpers.js";

const FILE = "/etc/berth/svc.container";

/**
 * How systemd's config_parse_exec() reads the words of an Exec line berth wrote: it takes a raw
 * `\;` word as a literal ";" before it unquotes anything, so `"\\;"` stays `\;`. (Variables are
 * substituted later, when the command runs; these are the words of the ExecStart property.)
 */
function execWords(line: string): string[] {
  const r = splitWords(line.replace(RAW_SEMICOLON, "$1\\x3b"));
  if (!r.ok) throw new Error(r.message);
  return r.words;
}
const RAW_SEMICOLON = /(^|[ \t])\\;(?=[ \t]|$)/g;

describe("properties (fast-check)", () => {
  it("the parser never throws, and every diagnostic names the file and a line of it", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 400 }), (text) => {
      const r = parseUnitFile(text, FILE);
      const lines = text.split("\n").length;
      for (const d of r.diagnostics) {
        expect(d.file).toBe(FILE);
        expect(d.omitted !== undefined ? d.line === 0 : d.line >= 1 && d.line <= lines).toBe(true);
      }
    }), { numRuns: 2000 });
  });

  it("decoding never throws, is lossless for UTF-8 and points at a line for anything else", () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 200 }), (bytes) => {
      const r = decodeText(bytes, FILE);
      if (r.diagnostics.length === 0) expect(Buffer.compare(Buffer.from(r.text), Buffer.from(bytes))).toBe(0);
      for (const d of r.diagnostics) expect(d.line >= 1 && d.line <= r.text.split("\n").length).toBe(true);
    }), { numRuns: 2000 });
  });

  it("the word splitters never throw, and unit names split back to themselves", () => {
    fc.assert(fc.property(fc.string({ unit: "binary", maxLength: 200 }), (value) => {
      splitWords(value);
      const names = splitUnitNames(value);
      if (names.ok) expect(splitUnitNames(names.words.join(" "))).toEqual(names);
    }), { numRuns: 3000 });
  });

  it("a mount's CSV record round-trips through Docker's reading", () => {
    const field = fc.string({ maxLength: 12 }).filter((f) => !/[\r\n]/.test(f));
    fc.assert(fc.property(fc.array(field, { minLength: 1, maxLength: 6 }), (fields) => {
      expect(parseCsvRecord(formatCsvRecord(fields))).toEqual({ ok: true, fields });
    }), { numRuns: 3000 });
  });

  it("Exec quoting round-trips every argument list through systemd's reading", () => {
    const arg = fc.oneof(fc.string({ unit: "binary", maxLength: 20 }), fc.constantFrom(";", "", "\\", '"', "'", "$x", "\\;", " ", "\n")).filter((a) => !a.includes("\0"));
    fc.assert(fc.property(fc.array(arg, { minLength: 1, maxLength: 8 }), (argv) => {
      const line = formatExec(argv);
      expect(line).not.toMatch(/[\n\r\0]/);
      expect(execWords(line)).toEqual(argv);
      for (const a of argv) expect(execWords(quoteExecArg(a))).toEqual([a]);
    }), { numRuns: 3000 });
  });

  it("translation never throws, errors point at lines, and systemd reads back exactly the directives berth meant", () => {
    fc.assert(fc.property(hostileDefinition(), (text) => {
      const t = translateAll(text);
      const lines = text.split("\n").length;
      for (const d of t.diagnostics) {
        expect(d.file).toBe(FILE);
        expect(d.message).not.toMatch(/this is a bug in berth/);
        if (d.line === 0) expect(d.message).toMatch(WHOLE_FILE);
        else expect(d.line).toBeLessThanOrEqual(lines);
      }
      if (t.diagnostics.some((d) => d.severity === "error")) return;
      expect(misreadOf(t.text, parseUnitFile(text, FILE).sections)).toBeUndefined();
    }), { numRuns: 3000 });
  });
});
