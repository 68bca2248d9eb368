import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeAccepted } from "../generator/accepted-store.js";
import { formatDiagnostic, type Diagnostic } from "../generator/diagnostics.js";
import { discoverDefinitions, loadDefinition } from "../generator/load-definitions.js";
import { loadSet, withUnseen } from "../generator/load-set.js";
import { listing } from "../generator/observed-fs.js";
import { repo, runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

const generate = (defs: string, env: NodeJS.ProcessEnv = {}) => {
  const out = tree({});
  const r = runBin("berth-generator", [join(out, "normal"), join(out, "early"), join(out, "late")], { BERTH_UNIT_DIRS: defs, ...env });
  return { ...r, out: join(out, "normal") };
};

/**
 * Definitions in two search directories a and b, their versions recorded as berthd records them;
 * then `lost` cannot be listed. Root lists any directory: a link to itself is what it cannot (ELOOP).
 */
function recordedThenUnlisted(files: Record<string, string>, lost: "a" | "b") {
  const root = tree(files);
  const [a, b] = [join(root, "a"), join(root, "b")];
  const state = tree({});
  for (const u of loadSet({ scope: "system", dirs: [a, b] }).output) writeAccepted(join(state, "accepted"), u);
  const gone = lost === "a" ? a : b;
  renameSync(gone, `${gone}.gone`);
  symlinkSync(gone, gone);
  return { a, b, generated: () => generate(`${a}:${b}`, { BERTH_STATE_DIR: state }) };
}

describe("berth-generator (systemd.generator(7))", () => {
  it("writes one unit per definition into the normal directory, with SourcePath", () => {
    const defs = tree({ "db.container": image(), "api.container": image("", "After=db.container") });
    const r = generate(defs);
    expect(r.status).toBe(0);
    expect(readdirSync(r.out).sort()).toEqual(["api.service", "berth.target", "db.service", "multi-user.target.d"]);
    expect(readFileSync(join(r.out, "api.service"), "utf8")).toContain(`SourcePath=${join(defs, "api.container")}\n`);
    expect(readFileSync(join(r.out, "api.service"), "utf8")).toContain("After=db.service\n");
  });

  it("makes every definition without [Install] wanted at boot through berth.target, and lets [Install] decide otherwise", () => {
    const defs = tree({ "db.container": image(), "api.container": image(), "manual.container": image("[Install]\n"), "w@.container": image() });
    const r = generate(defs);
    expect(readFileSync(join(r.out, "multi-user.target.d/berth-install.conf"), "utf8")).toMatch(/^\[Unit\]\nWants=berth\.target\n$/m);
    expect(readFileSync(join(r.out, "berth.target"), "utf8")).toMatch(/^Wants=api\.service db\.service$/m);
    // No definition to start at boot, no target.
    expect(readdirSync(generate(tree({ "m.container": image("[Install]\n") })).out)).toEqual(["m.service"]);
  });

  it("carries out [Install]: WantedBy=/RequiredBy= as one drop-in per target, Alias= as a symlink", () => {
    const defs = tree({
      "db.container": image("[Install]\nWantedBy=multi-user.target\nAlias=mysql.service\n"),
      "mq.container": image("[Install]\nWantedBy=multi-user.target\nRequiredBy=openstack.target\n"),
      "w@.container": image("[Install]\nWantedBy=multi-user.target\n"),
      "w@one.container": "",
    });
    rmSync(join(defs, "w@one.container"));
    symlinkSync("w@.container", join(defs, "w@one.container"));
    const r = generate(defs);
    expect(r.status).toBe(0);
    expect(readFileSync(join(r.out, "multi-user.target.d/berth-install.conf"), "utf8")).toMatch(/^Wants=db\.service mq\.service w@one\.service$/m);
    expect(readFileSync(join(r.out, "openstack.target.d/berth-install.conf"), "utf8")).toMatch(/^\[Unit\]\nRequires=mq\.service$/m);
    expect(existsSync(join(r.out, "multi-user.target.wants"))).toBe(false);
    expect(readlinkSync(join(r.out, "mysql.service"))).toBe("db.service");
    expect(lstatSync(join(r.out, "mysql.service")).isSymbolicLink()).toBe(true);
  });

  it("one bad file affects only itself: the rest is generated and the exit status says so", () => {
    const defs = tree({ "a.container": image(), "b.container": "[Container]\nImage=x\nthis is not an assignment\n", "c.container": image() });
    const r = generate(defs);
    expect(r.status).toBe(1);
    expect(readdirSync(r.out).filter((f) => f.endsWith(".service")).sort()).toEqual(["a.service", "c.service"]);
    expect(r.stderr).toContain(`berth-generator: ${join(defs, "b.container")}:3: error: expected Key=Value`);
  });

  it("a huge or endless bad file beside good ones costs only itself", () => {
    const defs = tree({ "a.container": image(), "junk.container": "[Container]\n" + "junk\n".repeat(130_000), "zero.container": { link: "/dev/zero" }, "zz.container": image() });
    truncateSync(join(defs, "zz.container"), 50 * 1024 * 1024);
    const r = generate(defs);
    expect(r.status).toBe(1);
    expect(readdirSync(r.out).filter((f) => f.endsWith(".service"))).toEqual(["a.service"]);
    expect(r.stderr.split("\n").filter((l) => l.includes("junk.container"))).toHaveLength(51);
    expect(r.stderr).toContain(`${join(defs, "zero.container")}: error: is a character device`);
  });

  it("keeps the last accepted version of a definition that has turned invalid", () => {
    const defs = tree({ "db.container": image("Environment=V=1"), "web.container": image() });
    const state = tree({});
    const accepted = loadSet({ scope: "system", dirs: [defs] }).output;
    for (const u of accepted) writeAccepted(join(state, "accepted"), u);
    writeFileSync(join(defs, "db.container"), image("Environment=V=2\nHealthRetries=oops"));
    const r = generate(defs, { BERTH_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(readFileSync(join(r.out, "db.service"), "utf8")).toBe(accepted.find((u) => u.unitName === "db.service")!.text);
    expect(r.stderr).toMatch(/db\.container: warning: has errors; the version accepted at .* stays in effect/);
    // A valid edit is used as it is.
    writeFileSync(join(defs, "db.container"), image("Environment=V=3"));
    expect(readFileSync(join(generate(defs, { BERTH_STATE_DIR: state }).out, "db.service"), "utf8")).toContain("V=3");
  });

  it("a search directory that cannot be listed (EIO, EACCES, a link loop) is said to be, and the definitions recorded there keep their last accepted versions", () => {
    const { a, b, generated } = recordedThenUnlisted({ "a/api.container": image(), "b/db.container": image("Environment=V=1") }, "b");
    const r = generated();
    expect(r.status).toBe(1);
    expect(r.stderr).toContain(`${b}: error: cannot list it (ELOOP); the definitions at or under it keep their last accepted versions`);
    expect(r.stderr).toMatch(new RegExp(`${join(b, "db.container")}: warning: not seen \\(${b} could not be listed\\); the version accepted at .* stays in effect`));
    expect(readdirSync(r.out).filter((f) => f.endsWith(".service")).sort()).toEqual(["api.service", "db.service"]);
    expect(readFileSync(join(r.out, "db.service"), "utf8")).toContain("--env V=1 ");
    // b may hold api's drop-ins as well: without a record, api is not written either.
    const fresh = generate(`${a}:${b}`, { BERTH_STATE_DIR: tree({}) });
    expect(readdirSync(fresh.out).filter((f) => f.endsWith(".service"))).toEqual([]);
    expect(fresh.stderr).toContain(`${b}: error: cannot list it (ELOOP)`);
    expect(fresh.stderr).toContain(`${join(a, "api.container")}: error: cannot tell its drop-ins: ${b} could not be listed (ELOOP)`);
  });

  it("a definition recorded under a directory that cannot be listed keeps its place in the search path: over a namesake further down, not over one higher up or masked there", () => {
    const root = tree({ "a/db.container": image("Environment=V=1"), "b/db.container": image("Environment=V=2"), "b/api.container": image(), "c/api.container": image("Environment=V=3") });
    const [a, b, c] = ["a", "b", "c"].map((d) => join(root, d)) as [string, string, string];
    const state = tree({});
    const record = (dirs: string[]) => {
      for (const u of loadSet({ scope: "system", dirs }).output) writeAccepted(join(state, "accepted"), u);
    };
    record([a, c]);
    // a's db (V=1) and c's api (V=3) are recorded; a cannot be listed now: b's db would take over.
    renameSync(a, `${a}.gone`);
    symlinkSync(a, a);
    const dbUnit = (r: ReturnType<typeof generate>) => readFileSync(join(r.out, "db.service"), "utf8");
    const first = generate(`${a}:${b}`, { BERTH_STATE_DIR: state });
    expect(dbUnit(first)).toContain("--env V=1 ");
    expect(first.stderr).toContain(`${join(a, "db.container")}: warning: not seen (${a} could not be listed)`);
    // A namesake higher up the path than the directory that cannot be listed wins as it would
    // anyway (here it has no record, and its drop-ins are unknown: it is not written either).
    rmSync(c, { recursive: true });
    symlinkSync(c, c);
    const higher = generate(`${b}:${c}`, { BERTH_STATE_DIR: state });
    expect(readdirSync(higher.out)).not.toContain("api.service");
    expect(higher.stderr).not.toContain(`${join(c, "api.container")}: warning`);
    // Masked higher up, it stays masked.
    rmSync(join(b, "api.container"));
    symlinkSync("/dev/null", join(b, "api.container"));
    expect(readdirSync(generate(`${b}:${c}`, { BERTH_STATE_DIR: state }).out)).not.toContain("api.service");
  });

  it("a definition recorded under a subdirectory that cannot be listed keeps its place in the walk: over a namesake or a name's claimant after it, not before it", () => {
    const root = tree({ "a/sub/db.container": image("Environment=V=1"), "a/zzz/db.container": image("Environment=V=2"), "b/x.container": image("ContainerName=db"), "b/api.container": image() });
    const [a, b] = [join(root, "a"), join(root, "b")];
    const dirs = [a, b];
    const [recorded] = loadSet({ scope: "system", dirs: [join(a, "sub")] }).output.map((u) => ({ ...u, file: join(a, "sub/db.container"), acceptedAt: "2026-12-01T00:00:00.000Z" }));
    const unit = (dir: string, file: string) => loadSet({ scope: "system", dirs: [dir] }).output.find((u) => u.file === join(dir, file))!;
    // As discovery reports a/sub failing with EIO: a/zzz's db comes after it in the walk (sub < zzz).
    const found = (namesake: string) => ({ sources: [], diagnostics: [], unlisted: [{ path: join(a, "sub"), code: "EIO", root: 0 }], foundIn: new Map([["db", { root: 0, file: namesake }]]) });
    const later = unit(join(a, "zzz"), "db.container");
    const api = unit(b, "api.container");
    const diagnostics: Diagnostic[] = [];
    const out = withUnseen(found(later.file), dirs, new Map([["db", recorded!]]), [later, api], diagnostics);
    expect(out.map((u) => u.file)).toEqual([api.file, join(a, "sub/db.container")]);
    expect(diagnostics.map(formatDiagnostic)).toEqual([`${join(a, "sub/db.container")}: warning: not seen (${join(a, "sub")} could not be listed); the version accepted at 2026-12-01T00:00:00.000Z stays in effect, not ${later.file}`]);
    // A namesake before it in the walk wins, as the file would have lost to it.
    const earlier = { ...later, file: join(a, "aaa/db.container") };
    expect(withUnseen(found(earlier.file), dirs, new Map([["db", recorded!]]), [earlier, api], [])).toEqual([earlier, api]);
    // A later definition that claims its container name loses it, with an error; an earlier one keeps it.
    const x = unit(b, "x.container");
    const clashes: Diagnostic[] = [];
    expect(withUnseen(found(join(a, "sub/db.container")), dirs, new Map([["db", recorded!]]), [x, api], clashes).map((u) => u.file)).toEqual([api.file, join(a, "sub/db.container")]);
    expect(clashes.map(formatDiagnostic)).toContain(`${x.file}: error: its unit, alias or Docker name is already used by ${join(a, "sub/db.container")} (its last accepted version: ${join(a, "sub")} could not be listed)`);
    const xFirst = { ...x, file: join(a, "aaa/x.container") };
    expect(withUnseen(found(join(a, "sub/db.container")), dirs, new Map([["db", recorded!]]), [xFirst, api], [])).toEqual([xFirst, api]);
  });

  it("a search directory that cannot be listed may hold anyone's drop-ins: each definition found elsewhere keeps its last accepted version", () => {
    const { a, b, generated } = recordedThenUnlisted({ "a/db.container.d/10-local.conf": "[Container]\nEnvironment=LOCAL=1\n", "b/db.container": image() }, "a");
    const r = generated();
    expect(r.stderr).toContain(`${join(b, "db.container")}: error: cannot tell its drop-ins: ${a} could not be listed (ELOOP)`);
    expect(r.stderr).toMatch(/db\.container: warning: has errors; the version accepted at .* stays in effect/);
    expect(readFileSync(join(r.out, "db.service"), "utf8")).toContain("--env LOCAL=1 ");
  });

  it("a drop-in directory that cannot be listed is an error of each definition that reads it, so its last accepted version stays in effect", () => {
    const defs = tree({ "db.container": image(), "api.container": image(), "db.container.d/10-v.conf": "[Container]\nEnvironment=V=1\n" });
    const failing = join(defs, "db.container.d");
    const list: typeof listing = (dir, unread) => {
      if (dir !== failing) return listing(dir, unread);
      unread?.(dir, "EIO");
      return [];
    };
    const found = discoverDefinitions([defs], list);
    const db = found.sources.find((s) => s.name.base === "db")!;
    expect(db.dropIns).toEqual([]);
    expect(db.problems?.map(formatDiagnostic)).toEqual([`${join(defs, "db.container")}: error: cannot list its drop-ins in ${failing} (EIO)`]);
    expect(found.sources.find((s) => s.name.base === "api")!.problems).toBeUndefined();
    expect(loadDefinition(db).diagnostics.map(formatDiagnostic)).toEqual(db.problems!.map(formatDiagnostic));
  });

  it("an invalid definition's accepted version keeps its names: a newcomer cannot take them", () => {
    const defs = tree({ "db.container": image() });
    const state = tree({});
    for (const u of loadSet({ scope: "system", dirs: [defs] }).output) writeAccepted(join(state, "accepted"), u);
    writeFileSync(join(defs, "db.container"), image("HealthRetries=oops"));
    writeFileSync(join(defs, "db2.container"), image("ContainerName=db\nServiceName=db"));
    const r = generate(defs, { BERTH_STATE_DIR: state });
    expect(r.status).toBe(1);
    expect(readdirSync(r.out).filter((f) => f.endsWith(".service"))).toEqual(["db.service"]);
    expect(readFileSync(join(r.out, "db.service"), "utf8")).toContain(`SourcePath=${join(defs, "db.container")}\n`);
    expect(r.stderr).toContain(`db2.container: error: unit name "db.service" is already used by ${join(defs, "db.container")} (its last accepted version)`);
    expect(r.stderr).toContain(`container name "db" is already used by ${join(defs, "db.container")} (its last accepted version)`);
    // An edit that only clashes keeps the accepted version in effect too.
    writeFileSync(join(defs, "db.container"), image());
    writeFileSync(join(defs, "db2.container"), image());
    for (const u of loadSet({ scope: "system", dirs: [defs] }).output) writeAccepted(join(state, "accepted"), u);
    writeFileSync(join(defs, "db2.container"), image("ServiceName=db"));
    const clashed = generate(defs, { BERTH_STATE_DIR: state });
    expect(readdirSync(clashed.out).filter((f) => f.endsWith(".service")).sort()).toEqual(["db.service", "db2.service"]);
    expect(readFileSync(join(clashed.out, "db2.service"), "utf8")).toContain(`SourcePath=${join(defs, "db2.container")}\n`);
    expect(clashed.stderr).toContain(`db2.container: error: unit name "db.service" is already used by ${join(defs, "db.container")}`);
    expect(clashed.stderr).toMatch(/db2\.container: warning: has errors; the version accepted at .* stays in effect/);
    // Without an accepted version, the invalid definition claims nothing and the newcomer runs.
    writeFileSync(join(defs, "db.container"), image("HealthRetries=oops"));
    writeFileSync(join(defs, "db2.container"), image("ContainerName=db\nServiceName=db"));
    const fresh = generate(defs, { BERTH_STATE_DIR: tree({}) });
    expect(readFileSync(join(fresh.out, "db.service"), "utf8")).toContain(`SourcePath=${join(defs, "db2.container")}\n`);
  });

  it("reads drop-ins from a linked NAME.container.d, as berth validate and render do", () => {
    const defs = tree({ "db.container": image(), "shared/limits.conf": "[Container]\nEnvironment=FROM_LINK=1\n" });
    symlinkSync(join(defs, "shared"), join(defs, "db.container.d"));
    expect(readFileSync(join(generate(defs).out, "db.service"), "utf8")).toContain("FROM_LINK=1");
    const rendered = runBin("berth", ["render", join(defs, "db.container")], { BERTH_UNIT_DIRS: defs });
    expect(rendered.stdout).toContain("FROM_LINK=1");
  });

  it("an Alias= clash leaves every unit as its own definition says (was: b.service silently became a's)", () => {
    const defs = tree({ "a.container": image("[Install]\nAlias=b.service\n"), "b.container": image(), "c.container": image("[Install]\nAlias=c.service berth.target ..\n") });
    const r = generate(defs);
    expect(r.status).toBe(1);
    expect(lstatSync(join(r.out, "b.service")).isFile()).toBe(true);
    expect(readFileSync(join(r.out, "b.service"), "utf8")).toContain(`SourcePath=${join(defs, "b.container")}\n`);
    expect(readdirSync(r.out).sort()).toEqual(["b.service", "berth.target", "multi-user.target.d"]);
    expect(r.stderr).toContain(`${join(defs, "a.container")}:4: error: [Install] Alias=: "b.service" is already the name of a unit of ${join(defs, "b.container")}`);
    expect(r.stderr).toContain(`${join(defs, "c.container")}:4: error: [Install] Alias=: ".." is not a unit name`);
  });

  it("says which writes failed and why, after every definition's diagnostics, without a stack trace", () => {
    const defs = tree({ "a.container": image(), "b.container": image("Rootfs=/srv/root") });
    const out = join(tree({ normal: "a leftover file, not a directory" }), "normal");
    const r = runBin("berth-generator", [out, out, out], { BERTH_UNIT_DIRS: defs });
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/b\.container:3: error: Rootfs=: not supported/),
      `berth-generator: ${out}: error: not written: something is already there (systemd empties this directory before it runs generators); left as it is`,
      `berth-generator: ${out}/a.service: error: not written: a file or link is where a directory should be; left as it is`,
      `berth-generator: ${out}/berth.target: error: not written: a file or link is where a directory should be; left as it is`,
    ]);
  });

  it("leaves no temporary files behind", () => {
    const r = generate(tree({ "a.container": image() }));
    expect(readdirSync(r.out).filter((f) => f.startsWith("."))).toEqual([]);
  });

  it("writes nothing but succeeds when there are no definitions", () => {
    const r = generate(tree({}));
    expect(r.status).toBe(0);
    expect(readdirSync(r.out)).toEqual([]);
  });

  it("insists on an output directory", () => {
    expect(runBin("berth-generator", []).status).toBe(2);
  });
});

describe("the generator's code cache (bin/berth-generator)", () => {
  const launcher = createRequire(import.meta.url)("../bin/berth-generator") as {
    compile(cachedData: Buffer | undefined): import("node:vm").Script;
    cacheFile: string;
  };

  it("is taken by the Node that built it", () => {
    expect(launcher.compile(readFileSync(launcher.cacheFile)).cachedDataRejected).toBe(false);
  });

  it("is refused when it does not fit, and the generator still runs", () => {
    // A process of its own: V8 would find the text compiled already in this one and not look at the cache.
    const out = join(tree({}), "out");
    const child = spawnSync(process.execPath, ["-e", `
      const launcher = require(${JSON.stringify(join(repo, "bin/berth-generator"))});
      const script = launcher.compile(Buffer.from("not a code cache"));
      if (!script.cachedDataRejected) process.exit(3);
      process.exit(launcher.load(script).generate([process.argv[1]]));`, out], { env: { ...process.env, BERTH_UNIT_DIRS: tree({ "db.container": image() }), BERTH_STATE_DIR: tree({}) }, encoding: "utf8" });
    expect(child.stderr).toBe("");
    expect(child.status).toBe(0);
    expect(readdirSync(out).sort()).toEqual(["berth.target", "db.service", "multi-user.target.d"]);
  });
});
