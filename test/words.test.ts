import { describe, expect, it } from "vitest";
import { isIpAddress } from "../generator/add-host.js";
import { quoteExecArg } from "../generator/exec-line.js";
import { checkSpecifiers } from "../generator/specifiers.js";
import { splitWords } from "../generator/words.js";

const words = (v: string) => {
  const r = splitWords(v);
  return r.ok ? r.words : r.message;
};

describe("splitWords (extract_first_word semantics)", () => {
  it("splits on whitespace and groups quotes, also mid-word", () => {
    expect(words(`a  "b c" 'd e' f"g h"i`)).toEqual(["a", "b c", "d e", "fg hi"]);
  });
  it("decodes C escapes and keeps unknown ones verbatim", () => {
    expect(words(String.raw`"tab\there" \x41\u00e9\101 "q\"uote" back\\slash \; \z`)).toEqual([
      "tab\there", "Aé\x41", 'q"uote', "back\\slash", "\\;", "\\z",
    ]);
  });
  it("rejects unterminated quotes and NUL", () => {
    expect(words(`"open`)).toMatch(/unterminated double quote/);
    expect(words(String.raw`a\x00`)).toMatch(/NUL/);
  });
  it("returns nothing for an empty value", () => {
    expect(words("   ")).toEqual([]);
  });
});

describe("quoteExecArg", () => {
  it("leaves plain words alone and quotes the rest so systemd reads them back", () => {
    expect(quoteExecArg("--name")).toBe("--name");
    expect(quoteExecArg("a b")).toBe('"a b"');
    expect(quoteExecArg('x"y\\z')).toBe('"x\\"y\\\\z"');
    expect(quoteExecArg("$HOME")).toBe('"$HOME"');
    expect(quoteExecArg("line\nExecStart=/bin/evil")).toBe('"line\\nExecStart=/bin/evil"');
    expect(quoteExecArg(";")).toBe("\\;");
    expect(quoteExecArg("\x01")).toBe('"\\x01"');
  });
  it("round-trips through splitWords for every printable and control character", () => {
    const all = Array.from({ length: 0x250 }, (_, i) => String.fromCodePoint(i + 1)).join("");
    expect(words(quoteExecArg(all))).toEqual([all]);
  });
});

describe("checkSpecifiers", () => {
  it("accepts systemd specifiers and %% and rejects the rest", () => {
    expect(checkSpecifiers("%i-%N-%%-%h")).toBeUndefined();
    expect(checkSpecifiers("50%")).toMatch(/lone "%"/);
    expect(checkSpecifiers("a%zb")).toMatch(/"%z" is not a systemd specifier/);
  });
});

describe("isIpAddress (AddHost=)", () => {
  it.each(["10.0.0.5", "0.0.0.0", "255.255.255.255", "::1", "::", "fd00::1", "1:2:3:4:5:6:7:8", "::ffff:10.0.0.1", "1::", "1:2:3:4:5:6:10.0.0.1"])("%s is an address", (a) => {
    expect(isIpAddress(a)).toBe(true);
  });
  it.each(["10.0.0", "256.0.0.1", "01.2.3.4x", "1:2:3:4:5:6:7:8:9", "1::2::3", "fd00::1g", "", "1:2:3:4:5:6:7", ":1", "host"])("%s is not", (a) => {
    expect(isIpAddress(a)).toBe(false);
  });
});
