import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmdirSync, rmSync, statSync, symlinkSync, unlinkSync, utimesSync, writeFileSync } from "node:fs";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeAccepted } from "../generator/accepted-store.js";
import type { Diagnostic } from "../generator/diagnostics.js";
import type { GeneratorCache } from "../generator/host-cache.js";
import { discoverDefinitions } from "../generator/load-definitions.js";
import { loadSet } from "../generator/load-set.js";
import { generate } from "../generator/main.js";
import { observe, observedEnv, observedLstat, stillSeen } from "../generator/observed-fs.js";
import { fileRunCache, keepable, keptRunPaths, statsMayHideChanges, runKey, saveKeptRun, settledMs } from "../generator/run-cache.js";
import { detectScope } from "../generator/search-path.js";
import { observing, translateAll } from "../generator/translate-run.js";
import { readRegularFile } from "../generator/read-file.js";
import { repo, runBin } from "./support/run.js";
import { markKeptCommand, waitForKeptRun } from "./support/kept-run.js";
import { image, tree } from "./support/tree.js";
import { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

/** Every file and link under an output directory, as systemd would find them. */
function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of readdirSync(dir, { recursive: true, withFileTypes: true })) {
    const path = join(e.parentPath, e.name);
    const rel = path.slice(dir.length + 1);
    if (e.isSymbolicLink()) out[rel] = `-> ${readlinkSync(path)}`;
    else if (e.isFile()) out[rel] = readFileSync(path, "utf8");
  }
  return out;
}

/**
 * File times come from a coarse clock: waits until it has moved on, so that whatever is written
 * next is seen as written after what came before (as it is on a host, where a run waits for its
 * inputs to settle, settledMs, before it keeps them).
 */
function nextTick(): void {
  const probe = join(tree({}), "tick");
  writeFileSync(probe, "");
  const before = statSync(probe).mtimeMs;
  do writeFileSync(probe, "");
  while (statSync(probe).mtimeMs === before);
}

/** A cache whose recalls are counted, that keeps runs at once (inputs written by a test are new). */
function countingCache(path: string, bundle: string) {
  const counted = { hits: 0, misses: 0 };
  const cacheFor =
    (env: NodeJS.ProcessEnv) =>
    (): GeneratorCache => {
      const runs = fileRunCache(path, runKey(detectScope(env), bundle), env, Date.now() + 3_600_000);
      const recall = () => {
        const run = runs.recall();
        counted[run ? "hits" : "misses"]++;
        return run;
      };
      // Judged an hour later, the files the test has just written have settled.
      return { runs: { recall, keep: (looks, run) => runs.keep({ ...looks, at: looks.at + 3_600_000 }, run) }, bundle };
    };
  return { counted, cacheFor };
}

interface Outcome {
  status: number;
  units: Record<string, string>;
  diagnostics: readonly Diagnostic[];
}

function run(env: NodeJS.ProcessEnv, cacheFor?: () => GeneratorCache): Outcome {
  const out = join(tree({}), "normal");
  let diagnostics: readonly Diagnostic[] = [];
  const status = generate([out], env, (d) => (diagnostics = d), cacheFor);
  return { status, units: existsSync(out) ? snapshot(out) : {}, diagnostics };
}

/**
 * A small host: definitions with a drop-in, one in a subdirectory, one linked from elsewhere, a
 * broken one, and an earlier search directory that is not there yet.
 */
function host() {
  const elsewhere = tree({ "linked.container": image("Environment=L=1\n") });
  const early = join(tree({}), "early");
  const defs = tree({
    "linked.container": { link: join(elsewhere, "linked.container") },
    "db.container": image("Environment=V=1\n"),
    "api.container": image("", "After=db.container"),
    "db.container.d/10-env.conf": "[Container]\nEnvironment=FROM_DROPIN=1\n",
    "web/web.container": image("PublishPort=8080:80\n"),
    "bad.container": image("PublishPort=nonsense\n"),
  });
  const state = tree({});
  const env = { BERTH_UNIT_DIRS: `${early}:${defs}`, BERTH_STATE_DIR: state, PATH: process.env.PATH };
  const bundle = join(tree({ "bundle.cjs": "// build 1\n" }), "bundle.cjs");
  return { defs, early, elsewhere, state, env, bundle };
}

/** Each change to what the units depend on; `same` where the units come out the same all the same. */
const CHANGES: ReadonlyArray<{ change: string; apply(h: ReturnType<typeof host>): NodeJS.ProcessEnv | void; same?: true }> = [
  { change: "a definition edited to the same size", apply: ({ defs }) => writeFileSync(join(defs, "db.container"), image("Environment=V=2\n")) },
  { change: "a drop-in added", apply: ({ defs }) => writeFileSync(join(defs, "db.container.d/20-more.conf"), "[Container]\nEnvironment=MORE=1\n") },
  { change: "a drop-in removed", apply: ({ defs }) => unlinkSync(join(defs, "db.container.d/10-env.conf")) },
  { change: "a definition removed", apply: ({ defs }) => unlinkSync(join(defs, "api.container")) },
  { change: "a definition added in a subdirectory", apply: ({ defs }) => writeFileSync(join(defs, "web/cache.container"), image()) },
  { change: "a definition edited in a subdirectory", apply: ({ defs }) => writeFileSync(join(defs, "web/web.container"), image("PublishPort=8081:80\n")) },
  {
    change: "a definition masked by a link to /dev/null",
    apply: ({ defs }) => {
      unlinkSync(join(defs, "api.container"));
      symlinkSync("/dev/null", join(defs, "api.container"));
    },
  },
  { change: "a .kube file added (berth warns that it does not run it)", apply: ({ defs }) => writeFileSync(join(defs, "web/app.kube"), "[Kube]\nYaml=app.yaml\n") },
  { change: "a definition made writable by others", apply: ({ defs }) => chmodSync(join(defs, "db.container"), 0o666) },
  { change: "a definition broken", apply: ({ defs }) => writeFileSync(join(defs, "api.container"), image("PublishPort=nonsense\n")) },
  {
    change: "a last accepted version recorded for the broken definition",
    apply: ({ defs, state }) => {
      const good = loadSet({ scope: "system", dirs: [tree({ "bad.container": image() })] }).output[0]!;
      writeAccepted(join(state, "accepted"), { ...good, file: join(defs, "bad.container") });
    },
  },
  { change: "an earlier search directory created", apply: ({ early }) => void tree({ "db.container": image("Environment=V=0\n") }, early) },
  { change: "a linked definition's file edited", apply: ({ elsewhere }) => writeFileSync(join(elsewhere, "linked.container"), image("Environment=L=2\n")) },
  { change: "a drop-in directory for every container created", apply: ({ defs }) => void tree({ "container.d/50-all.conf": "[Container]\nEnvironment=ALL=1\n" }, defs) },
  { change: "an environment variable it reads", apply: ({ env }) => ({ ...env, BERTH_DOCKER: "/opt/docker" }) },
  { change: "a new build of the generator", apply: ({ bundle }) => writeFileSync(bundle, "// build 2\n"), same: true },
];

describe("berth-generator's kept run (the next daemon-reload with nothing changed)", () => {
  it("writes what a full translation writes, and says the same", () => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/kept-run"), h.bundle);
    const first = run(h.env, cacheFor(h.env));
    const kept = run(h.env, cacheFor(h.env));
    expect(counted).toEqual({ hits: 1, misses: 1 });
    expect(kept).toEqual(first);
    expect(kept).toEqual(run(h.env));
    expect(Object.keys(kept.units)).toEqual(expect.arrayContaining(["web.service", "linked.service"]));
  });

  /** What the translation does not read: the kept run still holds, and is still right. */
  const UNREAD: ReadonlyArray<{ change: string; apply(h: ReturnType<typeof host>): void }> = [
    { change: "berthd's files in a search directory (its lock, the units' configuration state)", apply: ({ defs }) => void tree({ "reconcile.lock": "1\n", "config/db.service.json": "{}\n" }, defs) },
    { change: "an editor's temporary file", apply: ({ defs }) => writeFileSync(join(defs, ".db.container.swp"), "x") },
    { change: "a README beside the definitions", apply: ({ defs }) => writeFileSync(join(defs, "README"), "x") },
    { change: "an empty search directory where there was none (as /run/berth after a reboot, the other way round)", apply: ({ early }) => mkdirSync(early) },
  ];
  it.each(UNREAD)("still holds after $change", ({ apply }) => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/kept-run"), h.bundle);
    run(h.env, cacheFor(h.env));
    nextTick();
    apply(h);
    expect(run(h.env, cacheFor(h.env))).toEqual(run(h.env));
    expect(counted).toEqual({ hits: 1, misses: 1 });
  });

  it("notes each environment variable the translation asks for, however it asks", () => {
    observe(true);
    const env = observedEnv({ A: "1" });
    void env.B;
    void ("C" in env);
    void Object.hasOwn(env, "D");
    void env.hasOwnProperty;
    const { observations } = observe(false)!;
    expect(observations.map(([, name, seen]) => [name, seen])).toEqual([["B", "!unset"], ["C", "!unset"], ["D", "!unset"], ["hasOwnProperty", "!unset"]]);
    expect(stillSeen(observations, { A: "2" })).toBe(true);
    for (const name of ["B", "C", "D", "hasOwnProperty"]) expect(stillSeen(observations, { [name]: "x" })).toBe(false);
  });

  it("is not stopped by an environment variable it does not read, such as the pid systemd sets", () => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/kept-run"), h.bundle);
    run({ ...h.env, SYSTEMD_EXEC_PID: "101" }, cacheFor({ ...h.env, SYSTEMD_EXEC_PID: "101" }));
    const env = { ...h.env, SYSTEMD_EXEC_PID: "102" };
    expect(run(env, cacheFor(env))).toEqual(run(env));
    expect(counted).toEqual({ hits: 1, misses: 1 });
  });

  it.each(CHANGES)("translates anew after $change", ({ apply, same }) => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/kept-run"), h.bundle);
    const before = run(h.env, cacheFor(h.env));
    nextTick();
    const env = apply(h) ?? h.env;
    const after = run(env, cacheFor(env));
    expect(counted).toEqual({ hits: 0, misses: 2 });
    expect(after).toEqual(run(env));
    if (!same) expect(after).not.toEqual(before);
  });

  it("writes what a full translation writes after any series of edits (property)", () => {
    const names = ["db.container", "api.container", "sub/web.container", "db.container.d/10.conf", "container.d/50.conf"];
    const bodies = [image(), image("Environment=V=1\n"), image("Environment=V=2\n"), image("PublishPort=nonsense\n"), image("", "After=db.container"), "[Container]\nEnvironment=D=1\n", ""];
    const edit = fc.oneof(
      fc.record({ op: fc.constant("write" as const), name: fc.constantFrom(...names), body: fc.constantFrom(...bodies) }),
      fc.record({ op: fc.constantFrom("remove" as const, "mask" as const, "open to others" as const), name: fc.constantFrom(...names) }),
    );
    const apply = (defs: string, e: { op: string; name: string; body?: string }) => {
      const path = join(defs, e.name);
      mkdirSync(join(path, ".."), { recursive: true });
      rmSync(path, { force: true });
      if (e.op === "write") writeFileSync(path, e.body!);
      else if (e.op === "mask") symlinkSync("/dev/null", path);
      else if (e.op === "open to others") {
        writeFileSync(path, image());
        chmodSync(path, 0o666);
      }
    };
    fc.assert(
      fc.property(fc.array(edit, { minLength: 1, maxLength: 6 }), (edits) => {
        const h = host();
        const { counted, cacheFor } = countingCache(join(tree({}), "cache/kept-run"), h.bundle);
        run(h.env, cacheFor(h.env));
        for (const e of edits) {
          nextTick();
          apply(h.defs, e);
          const full = run(h.env);
          // The run after the edit, and the one after that, which finds nothing changed.
          expect(run(h.env, cacheFor(h.env))).toEqual(full);
          const hits = counted.hits;
          expect(run(h.env, cacheFor(h.env))).toEqual(full);
          expect(counted.hits).toBe(hits + 1);
        }
      }),
      { numRuns: 40 },
    );
  });

  it("notes every environment variable the translation reads: only the entry points read process.env", () => {
    // Everything else is given the environment, which the run records through observedEnv().
    const ENTRY_POINTS = new Set(["main.ts", "replay.ts"]);
    const direct = readdirSync(join(repo, "generator"))
      .filter((f) => f.endsWith(".ts") && !ENTRY_POINTS.has(f))
      .flatMap((f) => readFileSync(join(repo, "generator", f), "utf8").split("\n").map((line, i) => ({ at: `${f}:${i + 1}`, line })))
      .filter(({ line }) => line.includes("process.env"))
      .map(({ at, line }) => `${at}: ${line.trim()}`);
    // detectScope() runs before the cache is asked (its result is in the key); loadSet() falls
    // back to process.env for berthd and the CLI, and the generator always gives it one.
    expect(direct).toEqual([
      expect.stringMatching(/^load-set\.ts:\d+: const env = options\.env \?\? process\.env;$/),
      expect.stringMatching(/^search-path\.ts:\d+: export function detectScope\(env: NodeJS\.ProcessEnv = process\.env\): Scope \{$/),
    ]);
    expect(readFileSync(join(repo, "generator/translate-run.ts"), "utf8")).toContain("value = translate(observedEnv(env));");
  });

  it("keeps no run whose files may still be changing, judged when it looked: 40 ms after times finer than a second, 2.1 s after whole seconds", () => {
    const path = join(tree({}), "cache/kept-run");
    const at = Date.now();
    const keep = (newestFine: number, newestCoarse: number) => fileRunCache(path, "k", {}).keep({ observations: [], at, newestFine, newestCoarse }, { units: [], diagnostics: [] });
    expect(keep(at - 25, 0)).toBe(false);
    expect(keep(at - 1000, at - 2000)).toBe(false);
    expect(existsSync(path)).toBe(false);
    expect(keep(at - 41, at - 2101)).toBe(true);
    expect(fileRunCache(path, "k", {}).recall()).toEqual({ units: [], diagnostics: [] });
    expect([settledMs(false), settledMs(true)]).toEqual([40, 2100]);
  });

  it("sees a rewrite at the same size of a file that had settled when the run looked, as the 40 ms rule holds", async () => {
    const file = join(tree({ "a.container": image("Environment=V=0\n") }), "a.container");
    for (let i = 1; i <= 20; i++) {
      const changed = statSync(file).ctimeMs;
      await waitFor("the file to settle", () => Date.now() > changed + settledMs(false) + 1);
      observe(true);
      observedLstat(file);
      const looks = observe(false)!;
      expect(keepable(looks)).toBe(true);
      writeFileSync(file, image(`Environment=V=${i % 10}\n`));
      expect(stillSeen(looks.observations, {})).toBe(false);
    }
  });

  it("keeps no run that looked at a relative path, which the next run, elsewhere, would find elsewhere", () => {
    const defs = tree({ "a.container": image() });
    const env = { BERTH_UNIT_DIRS: "defs", BERTH_STATE_DIR: tree({}) };
    const cwd = process.cwd();
    let looks: ReturnType<typeof observe> | undefined;
    try {
      process.chdir(tree({}));
      symlinkSync(defs, "defs");
      observe(true);
      expect(loadSet({ scope: "system", env: observedEnv(env) }).output.map((u) => u.unitName)).toEqual(["a.service"]);
      looks = observe(false);
    } finally {
      process.chdir(cwd);
    }
    const later = { ...looks!, at: Date.now() + 3_600_000 };
    expect(keepable(later)).toBe(false);
    expect(keepable({ ...later, observations: later.observations.filter(([, path]) => !path.startsWith("defs")) })).toBe(true);
  });

  it("judges a file whose times have no part below the second by the rule of file systems that keep whole seconds, and only that file", () => {
    const dir = tree({ "a.container": image(), "b.container": image() });
    const looks = () => {
      observe(true);
      observedLstat(join(dir, "a.container"));
      observedLstat(join(dir, "b.container"));
      return observe(false)!;
    };
    expect(looks().newestCoarse).toBe(0);
    // As ext3 or FAT would have written it, or dpkg or tar (ctime, which nothing can set, comes from the clock).
    utimesSync(join(dir, "b.container"), 1_700_000_000, 1_700_000_000);
    const seen = looks();
    expect(seen.newestCoarse).toBe(1_700_000_000_000);
    expect(seen.newestFine).toBeGreaterThan(Date.now() - 60_000);
  });

  it("keeps no run that could not read a file it stat'ed (EIO, a security label berthd has and the generator has not)", () => {
    const dir = tree({ "a.container": image() });
    observe(true);
    // A directory passes no check of its own, and fails the read.
    expect(readRegularFile(dir, observedLstat(dir))).toEqual({ error: expect.stringMatching(/^is a directory/) });
    expect(observe(false)!.newestFine).not.toBe(Infinity);
    observe(true);
    // The stat said a regular file; the open fails for a reason it did not show.
    const file = join(dir, "a.container");
    const stat = observedLstat(file);
    unlinkSync(file);
    expect(readRegularFile(file, stat)).toEqual({ error: expect.stringMatching(/^cannot read: .*ENOENT/) });
    expect(observe(false)!.newestFine).toBe(Infinity);
  });

  it("keeps no run that read a file on a network file system, whose stat may come from a client's cache", () => {
    const dir = tree({ "a.container": image() });
    observe(true);
    observedLstat(join(dir, "a.container"));
    const { observations } = observe(false)!;
    expect(statsMayHideChanges(observations)).toBe(false);
    // NFS, squashfs, EROFS, overlayfs (systemd-sysext); then ext4 and tmpfs.
    for (const magic of [0x6969, 0x73717368, 0xe0f5e1e2, 0x794c7630]) expect(statsMayHideChanges(observations, (d) => (d === dir ? magic : 0xef53))).toBe(true);
    for (const magic of [0xef53, 0x01021994]) expect(statsMayHideChanges(observations, () => magic)).toBe(false);
  });

  describe("a cache file it cannot trust is not read", () => {
    const kept = (): string => {
      const path = join(tree({}), "cache/kept-run");
      fileRunCache(path, "k", {}).keep({ observations: [], at: Date.now(), newestFine: 0, newestCoarse: 0 }, { units: [{ unitName: "a.service", text: "[Unit]\n", install: [] }], diagnostics: [] });
      expect(fileRunCache(path, "k", {}).recall()?.units).toHaveLength(1);
      return path;
    };
    const CASES: ReadonlyArray<[string, (path: string) => void]> = [
      ["writable by others", (p) => chmodSync(p, 0o666)],
      ["in a directory writable by others", (p) => chmodSync(join(p, ".."), 0o777)],
      ["a link", (p) => {
        writeFileSync(`${p}.real`, readFileSync(p));
        unlinkSync(p);
        symlinkSync(`${p}.real`, p);
      }],
      ["cut short", (p) => writeFileSync(p, readFileSync(p).subarray(0, -3))],
      ["not the cache's format", (p) => writeFileSync(p, "[]\n")],
      ["of the right key but a wrong shape", (p) => {
        const content = readFileSync(p, "utf8");
        writeFileSync(p, content.replace('"a.service",[],', '"a.service",5,'));
      }],
    ];
    it.each(CASES)("%s", (_case, spoil) => {
      const path = kept();
      spoil(path);
      expect(fileRunCache(path, "k", {}).recall()).toBeUndefined();
    });
    it.runIf(process.getuid?.() === 0)("owned by another user", () => {
      const path = kept();
      chownSync(path, 65534, 65534);
      expect(fileRunCache(path, "k", {}).recall()).toBeUndefined();
    });
    it("made before the clock was set back", () => {
      const path = kept();
      expect(fileRunCache(path, "k", {}, Date.now() - 3_600_000).recall()).toBeUndefined();
    });
    it("made for another environment", () => {
      expect(fileRunCache(kept(), "another", {}).recall()).toBeUndefined();
    });
  });

  /** What discovery noted of a search directory: its looks. */
  const walked = (dir: string) => {
    observe(true);
    discoverDefinitions([dir]);
    return observe(false)!.observations;
  };

  it("notes a search directory as the walk read it: a definition added since is seen, at any depth", () => {
    const dir = tree({ "a.container": image(), "sub/deeper/c.container": image() });
    const looks = walked(dir);
    expect(stillSeen(looks, {})).toBe(true);
    writeFileSync(join(dir, "sub/deeper/d.container"), image());
    expect(stillSeen(looks, {})).toBe(false);
  });

  it("walks a search directory spelled with `..` after a link as discovery does", () => {
    // The kernel resolves x/link/.. to the link's parent (other/y); discovery lists the search
    // directory as spelled, and those below it by the normalised path (base/x/d/sub).
    const base = tree({ "x/d/sub/a.container": image() });
    const other = tree({ "y/z/b.container": image(), "y/d/sub/a.container": image() });
    symlinkSync(join(other, "y/z"), join(base, "x/link"));
    const spelled = `${base}/x/link/../d`;
    const looks = walked(spelled);
    writeFileSync(join(base, "x/d/sub/new.container"), image());
    expect(discoverDefinitions([spelled]).sources.map((s) => s.name.base)).toContain("new");
    expect(stillSeen(looks, {})).toBe(false);
  });

  it("keeps no run that could not list a search directory", () => {
    const h = host();
    const loop = join(tree({}), "loop");
    symlinkSync(loop, loop);
    const env = { ...h.env, BERTH_UNIT_DIRS: `${loop}:${h.defs}` };
    const path = join(tree({}), "cache/kept-run");
    const { counted, cacheFor } = countingCache(path, h.bundle);
    expect(run(env, cacheFor(env))).toEqual(run(env));
    expect(existsSync(path)).toBe(false);
    expect(counted.hits).toBe(0);
  });

  it("does not take a search directory it cannot list now for the empty one it listed then", () => {
    const h = host();
    const empty = join(tree({}), "empty");
    mkdirSync(empty);
    const env = { ...h.env, BERTH_UNIT_DIRS: `${empty}:${h.defs}` };
    const path = join(tree({}), "cache/kept-run");
    const { counted, cacheFor } = countingCache(path, h.bundle);
    run(env, cacheFor(env));
    expect(existsSync(path)).toBe(true);
    // Root lists any directory: a link to itself is what it cannot.
    rmdirSync(empty);
    symlinkSync(empty, empty);
    expect(run(env, cacheFor(env))).toEqual(run(env));
    expect(counted.hits).toBe(0);
  });

  it("does not take one file whose name holds a newline for two files", () => {
    const dir = tree({ "a.container\nf b.container": image() });
    const looks = walked(dir);
    unlinkSync(join(dir, "a.container\nf b.container"));
    tree({ "a.container": image(), "b.container": image() }, dir);
    expect(stillSeen(looks, {})).toBe(false);
  });
});

const mark = (cache: string, unit: string) => () => spawnSync("sh", ["-c", markKeptCommand(cache, unit)]).status === 0;
const MARKED = /^# kept$/m;

/** bin/berth-generator as systemd runs it, and the db.service its last run wrote. */
function binGenerator(env: NodeJS.ProcessEnv) {
  let unit = "";
  const generate = () => {
    const out = join(tree({}), "normal");
    expect(runBin("berth-generator", [out, out, out], env).status).toBe(0);
    unit = readFileSync(join(out, "db.service"), "utf8");
  };
  return { generate, unit: () => unit };
}

/** Edits db.container once the file clock has moved on: the next run writes the edit, not the kept run. */
function expectEditTranslated(dir: string, generate: () => void, unit: () => string, write = (path: string, text: string) => writeFileSync(path, text)): void {
  nextTick();
  write(join(dir, "db.container"), image("Environment=V=2\n"));
  generate();
  expect(unit()).toContain("--env V=2 ");
  expect(unit()).not.toMatch(MARKED);
}

/** db.container (V=1) run by bin/berth-generator until its run is kept, db.service marked in it. */
async function keptBinRun() {
  const defs = tree({ "db.container": image("Environment=V=1\n") });
  const cache = join(tree({}), "cache/kept-run");
  const env = { BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: tree({}), BERTH_GENERATOR_CACHE: cache };
  const { generate, unit } = binGenerator(env);
  // A run is kept once the files it read are old enough not to be changing still.
  await waitForKeptRun(generate, mark(cache, "db.service"), () => MARKED.test(unit()));
  return { defs, cache, env, generate, unit };
}

describe("bin/berth-generator with its kept run", () => {
  it("writes the kept units on an unchanged run, and translates a definition edited since", async () => {
    const { defs, generate, unit } = await keptBinRun();
    expect(unit()).toMatch(/--env V=1 [^]*# kept\n$/);
    expectEditTranslated(defs, generate, unit);
  });
});

describe("a run kept by another build", () => {
  it("is not written: berthd running older code than the generator's bundle (until it restarts) keeps no run the generator takes", async () => {
    const { cache, env, generate, unit } = await keptBinRun();
    // The same run, kept by these sources (build "unbuilt") under the built generator's path.
    const runs = fileRunCache(cache, runKey(detectScope({ ...process.env, ...env }), `${repo}dist/berth-generator.cjs`), env);
    await waitFor("the sources' run kept", () => {
      const { looks, value: run } = observing(`${repo}dist/berth-generator.cjs`, { ...process.env, ...env }, (observed) => translateAll(detectScope(observed), observed));
      run.units[0]!.text += "# kept\n";
      return runs.keep(looks, run);
    });
    generate();
    expect(unit()).toContain("--env V=1 ");
    expect(unit()).not.toMatch(MARKED);
  });
});

describe("the kept run after a reboot: the run berthd saved as it stopped", () => {
  it("is written by the first run, whose runtime directory is empty, while it still holds; a definition edited since is translated", async () => {
    const defs = tree({ "db.container": image("Environment=V=1\n") });
    const runtime = tree({});
    const state = tree({});
    mkdirSync(join(state, "accepted"), { mode: 0o700 });
    const env = { SYSTEMD_SCOPE: "user", XDG_RUNTIME_DIR: runtime, BERTH_STATE_DIR: state, BERTH_UNIT_DIRS: defs, BERTH_GENERATOR_CACHE: undefined };
    const { generate, unit } = binGenerator(env);
    const paths = keptRunPaths("user", env)!;
    expect(paths).toEqual({ runtime: join(runtime, "berth-generator/kept-run"), saved: join(state, "accepted/kept-run") });
    await waitForKeptRun(generate, mark(paths.runtime, "db.service"), () => MARKED.test(unit()));
    expect(saveKeptRun(paths.runtime, paths.saved!)).toBe(true);
    expect(lstatSync(paths.saved!).mode & 0o777).toBe(0o600);
    // A reboot empties the runtime directory: the saved run, marked as the runtime one was, is written.
    rmSync(join(runtime, "berth-generator"), { recursive: true });
    generate();
    expect(unit()).toMatch(MARKED);
    expectEditTranslated(defs, generate, unit);
  });

  it("is saved only from a file and into a directory that nobody else can write", () => {
    const from = join(tree({ "kept-run": "x" }), "kept-run");
    const into = tree({});
    chmodSync(from, 0o666);
    expect(saveKeptRun(from, join(into, "kept-run"))).toBe(false);
    chmodSync(from, 0o600);
    chmodSync(into, 0o777);
    expect(saveKeptRun(from, join(into, "kept-run"))).toBe(false);
    chmodSync(into, 0o700);
    expect(saveKeptRun(from, join(into, "kept-run"))).toBe(true);
    expect(readFileSync(join(into, "kept-run"), "utf8")).toBe("x");
  });
});

describe("the kept run under systemd (a real user manager)", () => {
  it("an unchanged daemon-reload writes the kept units, although systemd gives each run its own SYSTEMD_EXEC_PID; the next after an edit translates it", async () => {
    const um = await new UserManager().start();
    try {
      um.writeDefinition("db.container", image("Environment=V=1\n"));
      const cache = join(um.runtime, "berth-generator/kept-run");
      const unit = () => readFileSync(join(um.generatorDir, "db.service"), "utf8");
      await waitForKeptRun(() => um.reload(), mark(cache, "db.service"), () => MARKED.test(unit()));
      expect(unit()).toMatch(/--env V=1 [^]*# kept\n$/);
      expectEditTranslated(um.defs, () => um.reload(), unit, (_path, text) => um.writeDefinition("db.container", text));
    } finally {
      await um.stop();
    }
  });
});
