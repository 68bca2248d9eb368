import { existsSync, lstatSync, readdirSync, readFileSync, readlinkSync, rmSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { writeAccepted } from "../generator/accepted-store.js";
import { loadSet } from "../generator/load-set.js";
import { repo, runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

const generate = (defs: string, env: NodeJS.ProcessEnv = {}) => {
  const out = tree({});
  const r = runBin("berth-generator", [join(out, "normal"), join(out, "early"), join(out, "late")], { BERTH_UNIT_DIRS: defs, ...env });
  return { ...r, out: join(out, "normal") };
};

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
    const defs = tree({ "a.container": image(), "b.container": image("Pod=x") });
    const out = join(tree({ normal: "a leftover file, not a directory" }), "normal");
    const r = runBin("berth-generator", [out, out, out], { BERTH_UNIT_DIRS: defs });
    expect(r.status).toBe(1);
    expect(r.stderr.split("\n").filter(Boolean)).toEqual([
      expect.stringMatching(/b\.container:3: error: Pod=: not supported/),
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
