import * as nodeFs from "node:fs";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import type { InstallEdge } from "../generator/translate.js";
import { unitWriter, type WriterFs } from "../generator/write-units.js";
import { tree } from "./support/tree.js";

const failing = (call: keyof WriterFs, code: string, errno: number): WriterFs => ({
  ...nodeFs,
  [call]: () => {
    throw Object.assign(new Error(code), { code, errno });
  },
});

const unit = (name: string, install: InstallEdge[] = []) => ({ unitName: name, text: "[Unit]\n", install });

describe("unitWriter", () => {
  it("reports a full disk per file and leaves neither half a unit nor a temporary file", () => {
    const out = tree({});
    const writer = unitWriter(out, failing("writeFileSync", "ENOSPC", -28));
    writer.write(unit("a.service", [{ kind: "alias", target: "x.service", unit: "a.service" }]));
    writer.write(unit("b.service"));
    expect(writer.finish()).toEqual([
      { severity: "error", file: join(out, "a.service"), line: 0, message: "not written: no space left on device (ENOSPC)" },
      { severity: "error", file: join(out, "b.service"), line: 0, message: "not written: no space left on device (ENOSPC)" },
    ]);
    // The alias of a unit that was not written is not written either.
    expect(readdirSync(out)).toEqual([]);
  });

  it("puts a unit larger than a page in place through a temporary file, and takes it away when that fails", () => {
    const big = { unitName: "big.service", text: `[Unit]\nDescription=${"x".repeat(5000)}\n`, install: [] };
    const out = tree({});
    const writer = unitWriter(out);
    writer.write(big);
    expect(writer.finish()).toEqual([]);
    expect(readdirSync(out)).toEqual(["big.service"]);
    expect(readFileSync(join(out, "big.service"), "utf8")).toBe(big.text);
    const full = tree({});
    const failed = unitWriter(full, failing("linkSync", "ENOSPC", -28));
    failed.write(big);
    expect(failed.finish().map((d) => d.message)).toEqual(["not written: no space left on device (ENOSPC)"]);
    expect(readdirSync(full)).toEqual([]);
  });

  it("reports an output directory it may not write", () => {
    const out = tree({});
    const writer = unitWriter(out, failing("openSync", "EACCES", -13));
    writer.write(unit("a.service"));
    expect(writer.finish().map((d) => d.message)).toEqual(["not written: permission denied (EACCES)"]);
  });

  it("puts each unit in place whole, and says what it found in the way", () => {
    const out = tree({ "b.service": "old\n", "elsewhere/keep": "x", "wants.target.d": { link: "elsewhere" } });
    const writer = unitWriter(out);
    writer.write(unit("a.service", [{ kind: "alias", target: "b.service", unit: "a.service" }, { kind: "wants", target: "wants.target", unit: "a.service" }]));
    writer.write(unit("b.service"));
    expect(writer.finish().map((d) => `${d.file.slice(out.length + 1)}: ${d.message}`)).toEqual([
      "b.service: not written: something is already there (systemd empties this directory before it runs generators); left as it is",
      "b.service: not written: something is already there (systemd empties this directory before it runs generators); left as it is",
      "wants.target.d: not written: a file or link is where a directory should be; left as it is",
    ]);
    expect(readFileSync(join(out, "a.service"), "utf8")).toBe("[Unit]\n");
    expect(readFileSync(join(out, "b.service"), "utf8")).toBe("old\n");
    expect(readdirSync(join(out, "elsewhere"))).toEqual(["keep"]);
  });
});
