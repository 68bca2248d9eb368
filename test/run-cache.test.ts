import { chmodSync, chownSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writeAccepted } from "../generator/accepted-store.js";
import type { Diagnostic } from "../generator/diagnostics.js";
import type { GeneratorCache } from "../generator/host-cache.js";
import { loadSet } from "../generator/load-set.js";
import { generate } from "../generator/main.js";
import { observe, observedLstat, observedReaddir, stillSeen } from "../generator/observed-fs.js";
import { fileRunCache, runKey, SETTLED_MS, type RunCache } from "../generator/run-cache.js";
import { runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

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
 * inputs to settle, SETTLED_MS, before it keeps them).
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
      const runs = fileRunCache(path, runKey(env, bundle), Date.now() + 3_600_000);
      const recall = () => {
        const run = runs.recall();
        counted[run ? "hits" : "misses"]++;
        return run;
      };
      return { runs: { recall, keep: runs.keep }, bundle };
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

/** A small host: definitions with a drop-in, one in a subdirectory, and a broken one. */
function host() {
  const defs = tree({
    "db.container": image("Environment=V=1\n"),
    "api.container": image("", "After=db.container"),
    "db.container.d/10-env.conf": "[Container]\nEnvironment=FROM_DROPIN=1\n",
    "web/web.container": image("PublishPort=8080:80\n"),
    "bad.container": image("PublishPort=nonsense\n"),
  });
  const state = tree({});
  const env = { BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: state, PATH: process.env.PATH };
  const bundle = join(tree({ "bundle.cjs": "// build 1\n" }), "bundle.cjs");
  return { defs, state, env, bundle };
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
  { change: "a definition made writable by others", apply: ({ defs }) => chmodSync(join(defs, "db.container"), 0o666) },
  { change: "a definition broken", apply: ({ defs }) => writeFileSync(join(defs, "api.container"), image("PublishPort=nonsense\n")) },
  {
    change: "a last accepted version recorded for the broken definition",
    apply: ({ defs, state }) => {
      const good = loadSet({ scope: "system", dirs: [tree({ "bad.container": image() })] }).output[0]!;
      writeAccepted(join(state, "accepted"), { ...good, file: join(defs, "bad.container") });
    },
  },
  { change: "the environment", apply: ({ env }) => ({ ...env, BERTH_DOCKER: "/opt/docker" }) },
  { change: "a new build of the generator", apply: ({ bundle }) => writeFileSync(bundle, "// build 2\n"), same: true },
];

describe("berth-generator's kept run (the next daemon-reload with nothing changed)", () => {
  it("writes what a full translation writes, and says the same", () => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/run-cache.json"), h.bundle);
    const first = run(h.env, cacheFor(h.env));
    const kept = run(h.env, cacheFor(h.env));
    expect(counted).toEqual({ hits: 1, misses: 1 });
    expect(kept).toEqual(first);
    expect(kept).toEqual(run(h.env));
    expect(Object.keys(kept.units)).toContain("web.service");
  });

  it.each(CHANGES)("translates anew after $change", ({ apply, same }) => {
    const h = host();
    const { counted, cacheFor } = countingCache(join(tree({}), "cache/run-cache.json"), h.bundle);
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
        const { counted, cacheFor } = countingCache(join(tree({}), "cache/run-cache.json"), h.bundle);
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

  it("keeps no run whose files may still be changing", () => {
    const path = join(tree({}), "cache/run-cache.json");
    const now = Date.now();
    fileRunCache(path, "k", now).keep({ observations: [], newest: now - SETTLED_MS / 2 }, { units: [], diagnostics: [] });
    expect(existsSync(path)).toBe(false);
    fileRunCache(path, "k", now).keep({ observations: [], newest: now - SETTLED_MS - 1 }, { units: [], diagnostics: [] });
    expect(fileRunCache(path, "k").recall()).toEqual({ units: [], diagnostics: [] });
  });

  describe("a cache file it cannot trust is not read", () => {
    const kept = (): string => {
      const path = join(tree({}), "cache/run-cache.json");
      fileRunCache(path, "k", Date.now() + 3_600_000).keep({ observations: [], newest: 0 }, { units: [{ unitName: "a.service", text: "[Unit]\n", install: [] }], diagnostics: [] });
      expect(fileRunCache(path, "k").recall()?.units).toHaveLength(1);
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
    ];
    it.each(CASES)("%s", (_case, spoil) => {
      const path = kept();
      spoil(path);
      expect(fileRunCache(path, "k").recall()).toBeUndefined();
    });
    it.runIf(process.getuid?.() === 0)("owned by another user", () => {
      const path = kept();
      chownSync(path, 65534, 65534);
      expect(fileRunCache(path, "k").recall()).toBeUndefined();
    });
    it("made for another environment", () => {
      expect(fileRunCache(kept(), "another").recall()).toBeUndefined();
    });
  });

  it("sees an entry added to a directory after it was listed", () => {
    const dir = tree({ "a.container": image() });
    observe(true);
    observedReaddir(dir);
    observedLstat(join(dir, "a.container"));
    const looks = observe(false)!;
    expect(stillSeen(looks.observations)).toBe(true);
    nextTick();
    writeFileSync(join(dir, "b.container"), image());
    expect(stillSeen(looks.observations)).toBe(false);
  });
});

describe("bin/berth-generator with its kept run", () => {
  /** A run of the generator as systemd starts it, with the cache where the test wants it. */
  const generator = (out: string, env: NodeJS.ProcessEnv) => runBin("berth-generator", [out, out, out], env);

  it("writes the kept units on an unchanged daemon-reload, and translates a definition edited since", () => {
    const defs = tree({ "db.container": image("Environment=V=1\n") });
    const cache = join(tree({}), "cache/run-cache.json");
    const env = { BERTH_UNIT_DIRS: defs, BERTH_STATE_DIR: tree({}), BERTH_GENERATOR_CACHE: cache };
    const out = () => join(tree({}), "normal");
    // A run keeps its units once the files it read are old enough not to be changing still.
    for (let i = 0; !existsSync(cache); i++) {
      expect(i).toBeLessThan(200);
      expect(generator(out(), env).status).toBe(0);
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 50);
    }
    // What the next run writes comes from the cache: mark a unit there, and the mark is written.
    const content = readFileSync(cache, "utf8");
    const newline = content.indexOf("\n");
    const header = JSON.parse(content.slice(0, newline)) as { units: Array<[string, unknown, number]> };
    let at = newline + 1;
    const texts = header.units.map(([, , length]) => content.slice(at, (at += length)));
    const db = header.units.findIndex(([name]) => name === "db.service");
    texts[db] = `${texts[db]}# kept\n`;
    header.units[db]![2] = texts[db]!.length;
    const mode = lstatSync(cache).mode;
    writeFileSync(cache, `${JSON.stringify(header)}\n${texts.join("")}`);
    chmodSync(cache, mode);
    const kept = out();
    expect(generator(kept, env).status).toBe(0);
    expect(readFileSync(join(kept, "db.service"), "utf8")).toMatch(/--env V=1 [^]*# kept\n$/);

    nextTick();
    writeFileSync(join(defs, "db.container"), image("Environment=V=2\n"));
    const edited = out();
    expect(generator(edited, env).status).toBe(0);
    const unit = readFileSync(join(edited, "db.service"), "utf8");
    expect(unit).toContain("V=2");
    expect(unit).not.toContain("# kept");
  });
});
