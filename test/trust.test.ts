import { chmodSync, chownSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { trustProblem, trustRules, type OwnerAndMode } from "../generator/trust.js";
import { runBin } from "./support/run.js";
import { image, tree } from "./support/tree.js";

const ROOT_DIR: OwnerAndMode = { uid: 0, mode: 0o755 };
const ROOT_FILE: OwnerAndMode = { uid: 0, mode: 0o644 };
const FILE = "/etc/berth/x.container";

describe("trustProblem (sshd's StrictModes for definitions)", () => {
  const cases: Array<[string, OwnerAndMode, OwnerAndMode[], "system" | "user", string | undefined]> = [
    ["root's file in root's directory", ROOT_FILE, [ROOT_DIR, ROOT_DIR], "system", undefined],
    ["read-only for everybody", { uid: 0, mode: 0o400 }, [ROOT_DIR], "system", undefined],
    ["another user's file", { uid: 1000, mode: 0o644 }, [ROOT_DIR], "system", `not trusted: it is owned by uid 1000, who could run anything as root through it (fix: chown root: ${FILE})`],
    ["group-writable", { uid: 0, mode: 0o664 }, [ROOT_DIR], "system", `not trusted: it is writable by group or others (mode 0664), who could run anything as root through it (fix: chmod go-w ${FILE})`],
    ["world-writable", { uid: 0, mode: 0o646 }, [ROOT_DIR], "system", "(mode 0646)"],
    ["sticky is no excuse for a file", { uid: 0, mode: 0o1666 }, [ROOT_DIR], "system", "(mode 01666)"],
    ["world-writable directory", ROOT_FILE, [{ uid: 0, mode: 0o777 }], "system", "not trusted: its directory /etc/berth is writable by group or others (mode 0777), who could run anything as root through it (fix: chmod go-w /etc/berth)"],
    ["writable directory further up", ROOT_FILE, [ROOT_DIR, { uid: 0, mode: 0o775 }], "system", "its directory /etc is writable by group or others (mode 0775)"],
    ["another user's directory", ROOT_FILE, [{ uid: 1000, mode: 0o755 }], "system", "its directory /etc/berth is owned by uid 1000, who could run anything as root through it (fix: chown root: /etc/berth)"],
    ["root's file in a sticky directory", ROOT_FILE, [{ uid: 0, mode: 0o1777 }], "system", undefined],
    ["the user's own file, user scope", { uid: 1000, mode: 0o644 }, [{ uid: 1000, mode: 0o700 }], "user", undefined],
    ["root's file, user scope", ROOT_FILE, [{ uid: 1000, mode: 0o700 }], "user", undefined],
    ["another user's file, user scope", { uid: 1001, mode: 0o644 }, [{ uid: 1000, mode: 0o700 }], "user", `it is owned by uid 1001, who could run anything as root through it (fix: chown 1000 ${FILE})`],
  ];
  it.each(cases)("%s", (_name, file, dirs, scope, problem) => {
    const paths = ["/etc/berth", "/etc", "/"];
    const found = trustProblem({ path: FILE, stat: file }, dirs.map((stat, i) => ({ path: paths[i]!, stat })), trustRules(scope, 1000));
    if (problem === undefined) expect(found).toBeUndefined();
    else expect(found).toContain(problem);
  });

  it("in user scope, root is the user", () => {
    expect(trustRules("user", 0)).toEqual(trustRules("system", 0));
  });
});

describe("definitions that are not root's alone", () => {
  it("are refused by berth validate and the generator, naming the file, what is wrong and the fix", () => {
    const defs = tree({
      "good.container": image(),
      "theirs.container": image(),
      "open.container": image(),
      "drop.container": image(),
      "drop.container.d/env.conf": "[Container]\nEnvironment=A=1\n",
      "shared/sub.container": image(),
      "sticky/ok.container": image(),
    });
    chownSync(join(defs, "theirs.container"), 65534, 65534);
    chmodSync(join(defs, "open.container"), 0o666);
    chmodSync(join(defs, "drop.container.d/env.conf"), 0o664);
    chmodSync(join(defs, "shared"), 0o777);
    chmodSync(join(defs, "sticky"), 0o1777);
    const v = runBin("berth", ["validate"], { BERTH_UNIT_DIRS: defs });
    expect(v.status).toBe(1);
    expect(v.stderr.split("\n").filter(Boolean).sort()).toEqual([
      `${defs}/drop.container.d/env.conf: error: not trusted: it is writable by group or others (mode 0664), who could run anything as root through it (fix: chmod go-w ${defs}/drop.container.d/env.conf)`,
      `${defs}/open.container: error: not trusted: it is writable by group or others (mode 0666), who could run anything as root through it (fix: chmod go-w ${defs}/open.container)`,
      `${defs}/shared/sub.container: error: not trusted: its directory ${defs}/shared is writable by group or others (mode 0777), who could run anything as root through it (fix: chmod go-w ${defs}/shared)`,
      `${defs}/theirs.container: error: not trusted: it is owned by uid 65534, who could run anything as root through it (fix: chown root: ${defs}/theirs.container)`,
    ]);
    const out = join(tree({}), "out");
    mkdirSync(out);
    const g = runBin("berth-generator", [out, out, out], { BERTH_UNIT_DIRS: defs });
    expect(g.status).toBe(1);
    expect(g.stderr).toContain("theirs.container: error: not trusted");
    expect(runBin("berth", ["render", "good"], { BERTH_UNIT_DIRS: defs }).status).toBe(0);
    for (const name of ["theirs", "open", "drop", "sub"]) expect(runBin("berth", ["render", name], { BERTH_UNIT_DIRS: defs }).status, name).toBe(1);
    expect(runBin("berth", ["render", "ok"], { BERTH_UNIT_DIRS: defs }).status).toBe(0);
  });
});
