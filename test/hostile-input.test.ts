import { execFileSync } from "node:child_process";
import { lstatSync, mkdirSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { startOrder } from "../agent/plan.js";
import { MAX_DIAGNOSTICS_PER_FILE } from "../generator/diagnostics.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { loadDefinition } from "../generator/load-definitions.js";
import { loadSet } from "../generator/load-set.js";
import { parseDefinitionName } from "../generator/names.js";
import { image, tree } from "./support/tree.js";

/** Loads a directory as the generator does: the diagnostics relative to it, and the units written. */
const load = (root: string) => {
  const set = loadSet({ scope: "system", dirs: [root] });
  const rel = (f: string) => f.slice(root.length + 1);
  return {
    set,
    written: set.output.map((u) => u.unitName).sort(),
    errors: set.diagnostics.filter((d) => d.severity === "error").map((d) => ({ file: rel(d.file), line: d.line, message: d.message })),
  };
};

describe("a bad file costs only itself", () => {
  it("refuses a FIFO, a link to /dev/zero and a directory named like a definition or drop-in, without blocking", () => {
    const root = tree({ "good.container": image(), "zero.container": { link: "/dev/zero" }, "good.container.d/zero.conf": { link: "/dev/zero" } });
    execFileSync("mkfifo", [join(root, "fifo.container"), join(root, "good.container.d/fifo.conf")]);
    mkdirSync(join(root, "good.container.d/dir.conf"));
    const r = load(root);
    expect(r.errors).toEqual([
      { file: "fifo.container", line: 0, message: expect.stringMatching(/is a FIFO, not a regular file/) },
      { file: "good.container.d/dir.conf", line: 0, message: expect.stringMatching(/is a directory, not a regular file/) },
      { file: "good.container.d/fifo.conf", line: 0, message: expect.stringMatching(/is a FIFO/) },
      { file: "good.container.d/zero.conf", line: 0, message: expect.stringMatching(/is a character device, not a regular file/) },
      { file: "zero.container", line: 0, message: expect.stringMatching(/is a character device/) },
    ]);
  });

  it("does not read through a link put in place of a file after the file was checked", () => {
    const root = tree({ "a.container": image(), "other.txt": "[Container]\nImage=other\n" });
    const file = join(root, "a.container");
    const checked = lstatSync(file);
    rmSync(file);
    symlinkSync(join(root, "other.txt"), file);
    const loaded = loadDefinition({ name: parseDefinitionName("a.container")!, file, dropIns: [] }, () => ({ stat: checked }));
    expect(loaded.unread).toBe(true);
    expect(loaded.diagnostics).toEqual([expect.objectContaining({ file, line: 0, message: expect.stringMatching(/^cannot read: .*ELOOP/) })]);
  });

  it("refuses a file over 1 MiB without reading it, and keeps the rest", () => {
    const root = tree({ "a.container": image(), "zz.container": "" });
    truncateSync(join(root, "zz.container"), 50 * 1024 * 1024);
    const r = load(root);
    expect(r.errors).toEqual([{ file: "zz.container", line: 0, message: expect.stringMatching(/is 52428800 bytes; berth reads .* at most 1048576 bytes/) }]);
    expect(r.written).toEqual(["a.service"]);
  });

  it("sums up a file of 130,000 junk lines in a few diagnostics", () => {
    const root = tree({ "a.container": image(), "junk.container": "[Container]\n" + "junk\n".repeat(130_000), "z.container": image() });
    const r = load(root);
    expect(r.errors).toHaveLength(MAX_DIAGNOSTICS_PER_FILE + 1);
    expect(r.errors.at(-1)).toEqual({ file: "junk.container", line: 0, message: `… and ${130_000 - MAX_DIAGNOSTICS_PER_FILE + 1} more` });
    expect(r.written).toEqual(["a.service", "z.service"]);
  });

  it("refuses bytes that are not UTF-8 at their line instead of writing U+FFFD", () => {
    const root = tree({ "a.container": image() });
    writeFileSync(join(root, "bin.container"), Buffer.concat([Buffer.from("[Container]\nImage=x\nExec=caf"), Buffer.from([0xe9]), Buffer.from("\n")]));
    expect(load(root).errors).toEqual([{ file: "bin.container", line: 3, message: expect.stringMatching(/not valid UTF-8/) }]);
  });

  it("copes with an After= chain of 5,000 definitions, and still finds a cycle at its end", () => {
    const n = 5000;
    const files: Record<string, string> = {};
    for (let i = 0; i < n; i++) files[`s${i}.container`] = image("", i > 0 ? `After=s${i - 1}.container` : "");
    const chain = load(tree(files));
    expect(chain.errors).toEqual([]);
    const order = startOrder(chain.set.output as GeneratedUnit[]);
    expect(order.get("s0.service")).toBeLessThan(order.get(`s${n - 1}.service`)!);
    files["s0.container"] = image("", `After=s${n - 1}.container`);
    const cycle = load(tree(files));
    expect(cycle.errors).toHaveLength(1);
    expect(cycle.errors[0]!.message).toMatch(/^ordering cycle: s0\.service → .* … 4989 more … .* → s0\.service/);
  });

  // Once this took about 65 s (port by port, pair by pair); docs/performance.md has the figure.
  it("checks 300 lines of the whole port range as ranges, and finds the one clash", () => {
    const r = load(tree({ "a.container": image("PublishPort=1-65535:1-65535\n".repeat(300)), "b.container": image("PublishPort=127.0.0.1:40000-40010:1-11\nPublishPort=80:80/udp") }));
    expect(r.errors).toEqual([{ file: "b.container", line: 3, message: expect.stringMatching(/host port 40000\/tcp is already published by .*a\.container:3$/) }]);
  });
});

describe("diagnostics point at the file and line to edit", () => {
  it("lists the main file's first, then each drop-in's, each by line", () => {
    const root = tree({
      "a.container": image("HealthRetries=x\nHealthCmd=true\n\n\n\nMemory=lots"),
      "a.container.d/10-x.conf": "[Container]\nPidsLimit=many\n",
      "a.container.d/20-y.conf": "[Container]\nbroken\n",
    });
    expect(load(root).errors.map((e) => `${e.file}:${e.line}`)).toEqual(["a.container:3", "a.container:8", "a.container.d/10-x.conf:2", "a.container.d/20-y.conf:2"]);
  });

  it("puts an [Install] error at its line in the drop-in", () => {
    const root = tree({ "a.container": image(), "a.container.d/i.conf": "[Install]\n\nWantedBy=multi-user.target bad/name\n" });
    expect(load(root).errors).toEqual([{ file: "a.container.d/i.conf", line: 3, message: expect.stringMatching(/"bad\/name" is not a unit name/) }]);
  });

  it("refuses a unit whose ExecStart= systemd could not read (over 1 MiB)", () => {
    const root = tree({ "a.container": image("Environment=" + "A=1 ".repeat(25_000) + "\n".repeat(1) + ("Environment=" + "A=1 ".repeat(25_000) + "\n").repeat(4)) });
    const r = load(root);
    expect(r.errors).toEqual([{ file: "a.container", line: 0, message: expect.stringMatching(/the unit's ExecStart= line would be \d+ bytes, longer than systemd reads \(1048575\)/) }]);
    expect(r.written).toEqual([]);
  });

  it("refuses a definition whose path holds a line break: it would reach the header and SourcePath=", () => {
    const root = tree({ "evil\nExecStartPre=/bin/evil/a.container": image() });
    const r = load(root);
    expect(r.errors).toEqual([{ file: "evil\nExecStartPre=/bin/evil/a.container", line: 0, message: expect.stringMatching(/control character/) }]);
    expect(r.written).toEqual([]);
  });
});
