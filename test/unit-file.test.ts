import { describe, expect, it } from "vitest";
import { parseUnitFile } from "../generator/unit-file.js";

const parse = (text: string) => parseUnitFile(text, "t.container");
const entries = (text: string, section = "Container") =>
  parse(text).sections.get(section)?.map((e) => [e.key, e.value, e.line]);

describe("parseUnitFile (systemd.syntax(7))", () => {
  it("reads sections, trims around keys and values, keeps repeated keys in order", () => {
    expect(entries("[Container]\n  Image = foo  \nVolume=/a:/a\nVolume=/b:/b\n")).toEqual([
      ["Image", "foo", 2], ["Volume", "/a:/a", 3], ["Volume", "/b:/b", 4],
    ]);
  });

  it("skips # and ; comments and blank lines", () => {
    expect(entries("# c\n; c\n[Container]\n\n  # indented\nImage=x\n")).toEqual([["Image", "x", 6]]);
  });

  it("joins backslash continuations with a space, skipping comment lines inside them", () => {
    const text = "[Container]\nExec=a \\\n# hidden\n  b \\\n; hidden\n c\nImage=i\n";
    expect(entries(text)).toEqual([["Exec", "a    b   c", 2], ["Image", "i", 7]]);
  });

  it("does not continue a comment that ends in a backslash", () => {
    expect(entries("[Container]\n# x \\\nImage=i\n")).toEqual([["Image", "i", 3]]);
  });

  it("keeps an empty assignment (it resets lists) and raw quoting (interpreted per key)", () => {
    expect(entries('[Container]\nVolume=\nEnvironment="A=b c"\n')).toEqual([["Volume", "", 2], ["Environment", '"A=b c"', 3]]);
  });

  it("merges a repeated section and accepts CRLF and a BOM", () => {
    const s = parse("\uFEFF[Unit]\r\nA=1\r\n[Container]\r\nImage=x\r\n[Unit]\r\nB=2\r\n").sections;
    expect(s.get("Unit")?.map((e) => e.key)).toEqual(["A", "B"]);
  });

  it("reports errors with file and line and goes on", () => {
    const r = parse("Image=x\n[Container]\nno equals here\n[Bad\nImage=y\n= v\n");
    expect(r.diagnostics.map((d) => [d.line, d.severity])).toEqual([[1, "error"], [3, "error"], [4, "error"], [5, "error"], [6, "error"]]);
    expect(r.diagnostics[0]!.message).toMatch(/outside of any \[Section\]/);
    expect(r.diagnostics.every((d) => d.file === "t.container")).toBe(true);
  });

  it("continues a line only on an unescaped trailing backslash, as systemd's conf parser scans it", () => {
    expect(entries("[Container]\nExec=echo C:\\\\\nReadOnly=true\n")).toEqual([["Exec", "echo C:\\\\", 2], ["ReadOnly", "true", 3]]);
    expect(entries("[Container]\nExec=a\\\\\\\nb\n")).toEqual([["Exec", "a\\\\ b", 2]]);
  });

  it("refuses a lone CR or a NUL, where systemd would end the line, naming the line", () => {
    const r = parse("[Service]\nEnvironment=A=b\rExecStartPre=/bin/evil\nX=1\0Y=2\r\nZ=3\n");
    expect(r.diagnostics.map((d) => [d.line, d.severity])).toEqual([[2, "error"], [3, "error"]]);
    expect(r.diagnostics[0]!.message).toMatch(/carriage return/);
    expect(r.diagnostics[1]!.message).toMatch(/NUL/);
    expect(r.sections.get("Service")?.map((e) => e.key)).toEqual(["Z"]);
  });

  it("trims only systemd's whitespace, and refuses section names systemd refuses", () => {
    expect(entries("[Container]\nImage=x\u00a0\n")).toEqual([["Image", "x\u00a0", 2]]);
    expect(parse('[X-a"b]\nA=1\n').diagnostics.map((d) => d.line)).toEqual([1, 2]);
  });

  it("keeps the first diagnostics of a file and sums up the rest in one", () => {
    const r = parse("[Container]\n" + "junk\n".repeat(130_000));
    expect(r.diagnostics).toHaveLength(51);
    expect(r.diagnostics.at(-1)).toMatchObject({ severity: "error", line: 0, message: "… and 129950 more", omitted: 129_950 });
  });
});
