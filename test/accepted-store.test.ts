import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readAccepted, readAllAccepted, writeAccepted, type Rejection } from "../generator/accepted-store.js";
import { digest } from "../generator/digest.js";
import { loadSet } from "../generator/load-set.js";
import { runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

/** A sound record of db.container in DIR, as berthd writes it. */
function accepted(defs: string): { state: string; record: Record<string, unknown> } {
  const state = tree({});
  const unit = loadSet({ scope: "system", dirs: [defs] }).output.find((u) => u.base === "db")!;
  writeAccepted(join(state, "accepted"), unit);
  return { state, record: JSON.parse(readFileSync(join(state, "accepted/db.json"), "utf8")) as Record<string, unknown> };
}

describe("accepted records", () => {
  const defs = tree({ "db.container": image("[Install]\nWantedBy=multi-user.target\nAlias=mysql.service\n") });
  const { record } = accepted(defs);
  const bad: Array<[string, unknown, string]> = [
    ["an empty object", {}, '"base" is not "db"'],
    ["an array", [], "not a record"],
    ["null", null, "not a record"],
    ["no unitName", { ...record, unitName: undefined }, '"unitName" is not a service name'],
    ["text that is a number", { ...record, text: 42 }, '"text" is not a unit berth generated'],
    ["a unit name that leaves the directory", { ...record, unitName: "../escaped.service" }, '"unitName" is not a service name'],
    ["a unit of another type", { ...record, unitName: "berth.target" }, '"unitName" is not a service name'],
    ["an edge out of the directory", { ...record, install: [{ kind: "alias", target: "../../etc/x.service", unit: "db.service" }] }, '"install" is not [Install] edges of the unit'],
    ["an alias of another unit", { ...record, install: [{ kind: "alias", target: "mysql.service", unit: "other.service" }] }, '"install" is not [Install] edges of the unit'],
    ["an edge of another kind", { ...record, install: [{ kind: "link", target: "mysql.service", unit: "db.service" }] }, '"install" is not [Install] edges of the unit'],
    ["an old record's link out of the directory", { ...record, install: undefined, links: [{ path: "../../etc/x.service", target: "db.service" }] }, '"links" is not links to the unit'],
    ["an old record's link to another file", { ...record, install: undefined, links: [{ path: "mysql.service", target: "/etc/shadow" }] }, '"links" is not links to the unit'],
    ["another definition's base", { ...record, base: "../../x" }, '"base" is not "db"'],
    ["a relative definition path", { ...record, file: "db.container" }, '"file" is not an absolute path'],
    ["no time", { ...record, acceptedAt: "yesterday" }, '"acceptedAt" is not a time'],
  ];
  it.each(bad)("%s is ignored with a warning", (_name, value, problem) => {
    const state = tree({ "accepted/db.json": JSON.stringify(value) });
    const warnings: string[] = [];
    expect(readAccepted(join(state, "accepted"), "db", (file, p) => warnings.push(`${file}: ${p}`))).toBeUndefined();
    expect(warnings).toEqual([expect.stringContaining(`${join(state, "accepted/db.json")}: ignored: ${problem}`)]);
  });

  it("a pod's record, whose unit runs the holder container, is read back as it was written", () => {
    const pods = tree({ "web.pod": "[Pod]\nPublishPort=8080:80\n", "app.container": image("Pod=web.pod\n") });
    const state = tree({});
    for (const unit of loadSet({ scope: "system", dirs: [pods] }).output) writeAccepted(join(state, "accepted"), unit);
    const warnings: string[] = [];
    expect(readAccepted(join(state, "accepted"), "web.pod", (_f, p) => warnings.push(p))).toMatchObject({ unitName: "web-pod.service", type: "pod", containerName: "systemd-web-infra" });
    expect(readAccepted(join(state, "accepted"), "app", (_f, p) => warnings.push(p))).toMatchObject({ unitName: "app.service", after: expect.arrayContaining(["web-pod.service"]) });
    expect(warnings).toEqual([]);
  });

  it("a record written before [Install] edges has its links read as edges", () => {
    const { install, ...old } = record;
    const links = [{ path: "multi-user.target.wants/db.service", target: "../db.service" }, { path: "mysql.service", target: "db.service" }];
    const state = tree({ "accepted/db.json": JSON.stringify({ ...old, links, previous: { ...old, links } }) });
    const read = readAccepted(join(state, "accepted"), "db", () => {});
    expect(install).toEqual([{ kind: "wants", target: "multi-user.target", unit: "db.service" }, { kind: "alias", target: "mysql.service", unit: "db.service" }]);
    expect(read).toMatchObject({ install, previous: { install } });
    expect(read).not.toHaveProperty("links");
  });

  it("a record also holds [Install] as the links an earlier berth reads, so going back to it keeps the last accepted versions", () => {
    expect(record.links).toEqual([{ path: "multi-user.target.wants/db.service", target: "../db.service" }, { path: "mysql.service", target: "db.service" }]);
  });

  it("a sound record is read back as it was written; a missing one is no news", () => {
    const { state } = accepted(defs);
    const warnings: string[] = [];
    expect(readAccepted(join(state, "accepted"), "db", (_f, p) => warnings.push(p))).toMatchObject({ unitName: "db.service", install: record.install });
    expect(readAccepted(join(state, "accepted"), "nope", (_f, p) => warnings.push(p))).toBeUndefined();
    writeFileSync(join(state, "accepted/junk.json"), "{ not json");
    expect([...readAllAccepted(join(state, "accepted"), (_f, p) => warnings.push(p)).keys()]).toEqual(["db"]);
    expect(warnings).toEqual([expect.stringMatching(/^ignored: .*JSON/)]);
  });

  it("keeps records to root: directory 0700, files 0600, also where an older berth made them 0755 and 0644", () => {
    const state = tree({ "accepted/db.json.tmp": "" });
    chmodSync(join(state, "accepted"), 0o755);
    chmodSync(join(state, "accepted/db.json.tmp"), 0o644);
    writeAccepted(join(state, "accepted"), loadSet({ scope: "system", dirs: [defs] }).output[0]!);
    expect(statSync(join(state, "accepted")).mode & 0o7777).toBe(0o700);
    expect(statSync(join(state, "accepted/db.json")).mode & 0o7777).toBe(0o600);
    const fresh = join(tree({}), "state");
    writeAccepted(join(fresh, "accepted"), loadSet({ scope: "system", dirs: [defs] }).output[0]!);
    expect(statSync(join(fresh, "accepted")).mode & 0o7777).toBe(0o700);
  });

  it("the generator ignores a damaged record of an invalid definition, and writes nothing outside its directory", () => {
    const invalid = tree({ "db.container": image("HealthRetries=oops") });
    for (const value of [{}, [], { ...record, file: join(invalid, "db.container"), text: 42 }, { ...record, file: join(invalid, "db.container"), unitName: "../escaped.service" }]) {
      const state = tree({ "accepted/db.json": JSON.stringify(value) });
      const root = tree({});
      mkdirSync(join(root, "out"));
      const r = runBin("berth-generator", [join(root, "out"), join(root, "out"), join(root, "out")], { BERTH_UNIT_DIRS: invalid, BERTH_STATE_DIR: state });
      expect(r.status).toBe(1);
      expect(r.stderr).not.toMatch(/\n\s+at /);
      expect(r.stderr).toContain(`${join(state, "accepted/db.json")}: warning: ignored: `);
      expect(r.stderr).toContain("HealthRetries=: expected a number");
      expect(readdirSync(root)).toEqual(["out"]);
      expect(existsSync(join(root, "out/db.service"))).toBe(false);
    }
  });
});

describe("a version reverted for not becoming healthy (RevertOnFailure=)", () => {
  const defs = tree({ "db.container": "[Container]\nImage=db:1\n" });
  const good = loadSet({ scope: "system", dirs: [defs] }).output[0]!;
  const records = new Map([["db", { ...good, acceptedAt: "2026-12-01T10:00:00.000Z" }]]);
  writeFileSync(join(defs, "db.container"), "[Container]\nImage=db:2-bad\n");
  const bad = loadSet({ scope: "system", dirs: [defs], definitionDigests: true }).output[0]!;
  const load = (rejection: Rejection) => loadSet({ scope: "system", dirs: [defs], records, rejections: new Map([["db", rejection]]) }).output[0]!;
  const at = "2026-12-01T11:00:00.000Z";

  it("stays reverted while the definition is the same, even when another berth writes its unit differently", () => {
    const standIn = load({ text: digest("the unit as an earlier berth wrote it"), source: bad.source, at, why: "not healthy" });
    expect([standIn.text, standIn.acceptedFrom, standIn.rejected?.at]).toEqual([good.text, "2026-12-01T10:00:00.000Z", at]);
  });

  it("is tried again once the definition changes", () => {
    writeFileSync(join(defs, "db.container"), "[Container]\nImage=db:2-fixed\n");
    try {
      const unit = load({ text: digest(bad.text), source: bad.source, at, why: "not healthy" });
      expect([unit.image, unit.acceptedFrom, unit.rejected]).toEqual(["db:2-fixed", undefined, undefined]);
    } finally {
      writeFileSync(join(defs, "db.container"), "[Container]\nImage=db:2-bad\n");
    }
  });

  it("is tried again when only the container it makes changed (a fixed .image it names)", () => {
    expect(load({ text: digest(bad.text), source: bad.source, spec: bad.spec, at, why: "not healthy" }).text).toBe(good.text);
    expect(load({ text: digest(bad.text), source: bad.source, spec: "0000000000000000", at, why: "not healthy" }).text).toBe(bad.text);
  });

  it("is matched by its unit text when the rejection was recorded before definition digests", () => {
    expect(load({ text: digest(bad.text), at, why: "not healthy" }).text).toBe(good.text);
    expect(load({ text: digest("other text"), at, why: "not healthy" }).text).toBe(bad.text);
  });
});

describe("a definition's digest (what berthd compares across berth versions)", () => {
  it("covers the units it depends on as resolved: a dependency renamed with ServiceName= changes it", () => {
    const defs = tree({ "app.container": "[Unit]\nRequires=db.container\n[Container]\nImage=app:1\n", "db.container": "[Container]\nImage=db:1\n" });
    const digestOf = () => loadSet({ scope: "system", dirs: [defs], definitionDigests: true }).output.find((u) => u.base === "app")!.source;
    const before = digestOf();
    expect(digestOf()).toBe(before);
    writeFileSync(join(defs, "db.container"), "[Container]\nImage=db:1\nServiceName=mariadb\n");
    expect(digestOf()).not.toBe(before);
  });
});
