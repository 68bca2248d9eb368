import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { loadSet } from "../generator/load-set.js";
import { image, tree } from "./support/tree.js";

const errors = (files: Parameters<typeof tree>[0]) => {
  const root = tree(files);
  const set = loadSet({ scope: "system", dirs: [root] });
  return {
    root,
    set,
    errors: set.diagnostics.filter((d) => d.severity === "error").map((d) => ({ file: d.file.slice(root.length + 1), line: d.line, message: d.message })),
  };
};

describe("set validation", () => {
  it("accepts a consistent set", () => {
    expect(errors({
      "db.container": image("PublishPort=3306:3306"),
      "api.container": image("PublishPort=127.0.0.1:8774:8774", "Requires=db.container\nAfter=db.container"),
    }).errors).toEqual([]);
  });

  it("refuses two definitions with the same unit name, keeping the first", () => {
    const r = errors({ "a.container": image("ServiceName=shared"), "b.container": image("ServiceName=shared") });
    expect(r.errors).toEqual([{ file: "b.container", line: 0, message: expect.stringMatching(/unit name "shared.service" is already used by .*a\.container/) }]);
    expect(r.set.units.map((u) => u.definition.file.slice(r.root.length + 1))).toEqual(["a.container"]);
  });

  it("refuses two definitions with the same container name", () => {
    const r = errors({ "a.container": image("ContainerName=db"), "b.container": image("ContainerName=db") });
    expect(r.errors[0]!.message).toMatch(/container name "db" is already used/);
  });

  it("refuses a dependency on a definition that does not exist, at its line", () => {
    const r = errors({ "api.container": image("", "Description=x\nWants=db.container") });
    expect(r.errors).toEqual([{ file: "api.container", line: 3, message: expect.stringMatching(/Wants=: "db.container" is not defined/) }]);
  });

  it("resolves instances of a template", () => {
    expect(errors({ "w@.container": image(), "api.container": image("", "Wants=w@1.container") }).errors).toEqual([]);
  });

  it("refuses ordering cycles, also through Before=", () => {
    const r = errors({
      "a.container": image("", "After=b.container"),
      "b.container": image("", "After=c.container"),
      "c.container": image("", "After=a.container"),
    });
    expect(r.errors).toHaveLength(1);
    expect(r.errors[0]!.message).toMatch(/ordering cycle: a.service → b.service → c.service → a.service/);
    const viaBefore = errors({ "a.container": image("", "After=b.container"), "b.container": image("", "After=x.service"), "x.container": image("ServiceName=x", "Before=b.container\nAfter=a.container") });
    expect(viaBefore.errors.some((e) => /ordering cycle/.test(e.message))).toBe(true);
  });

  it("refuses two definitions publishing the same host port, including overlapping ranges and wildcard addresses", () => {
    expect(errors({ "a.container": image("PublishPort=5000:5000"), "b.container": image("PublishPort=5000:80") }).errors[0]).toMatchObject({
      file: "b.container", line: 3, message: expect.stringMatching(/host port 5000\/tcp is already published by .*a\.container:3/),
    });
    expect(errors({ "a.container": image("PublishPort=127.0.0.1:6000-6010:6000-6010"), "b.container": image("PublishPort=6005:1") }).errors).toHaveLength(1);
    expect(errors({ "a.container": image("PublishPort=127.0.0.1:7000:1"), "b.container": image("PublishPort=127.0.0.2:7000:1") }).errors).toEqual([]);
    expect(errors({ "a.container": image("PublishPort=7000:1/udp"), "b.container": image("PublishPort=7000:1/tcp") }).errors).toEqual([]);
  });

  it("does not count a template's ports against its own instances", () => {
    expect(errors({ "w@.container": image("PublishPort=9000:9000"), "w@a.container": { link: "w@.container" } }).errors).toEqual([]);
  });

  it("lets a valid definition keep a name that a broken one also asks for", () => {
    const r = errors({ "a.container": image("ContainerName=db\nPod=x"), "b.container": image("ContainerName=db") });
    expect(r.set.units.map((u) => u.unitName)).toEqual(["b.service"]);
  });

  it("keeps generating the rest of the directory when one file is broken", () => {
    const r = errors({ "a.container": image(), "b.container": "[Container\nImage=x\n", "c.container": image("Pod=p") , "d.container": image() });
    expect(r.set.units.map((u) => u.unitName)).toEqual(["a.service", "d.service"]);
    expect([...new Set(r.errors.map((e) => e.file))]).toEqual(["b.container", "c.container"]);
  });
});
