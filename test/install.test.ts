import { spawnSync } from "node:child_process";
import { chownSync, mkdirSync, readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repo } from "./support/run.js";
import { tree } from "./support/tree.js";

/** A PATH with the shell tools install.sh uses, but without docker, node, npm, or rm. */
function bareTools(): string {
  const dir = tree({});
  for (const tool of ["bash", "id", "ps", "dirname", "sed", "cat", "grep", "stat"]) symlinkSync(`/usr/bin/${tool}`, join(dir, tool));
  return dir;
}

/** Calls one of install.sh's checks; sourcing the script only defines them. */
function check(fn: string, prefix: string): string {
  const r = spawnSync("bash", ["-c", `source "${repo}install.sh"; ${fn} "$1"`, "_", prefix], { encoding: "utf8" });
  expect(r.stderr).toBe("");
  return r.stdout.trim();
}

describe("install.sh prerequisites", () => {
  it("says everything that is missing, at once, before touching the host", () => {
    // This machine (and CI) runs no systemd as PID 1, and here the PATH hides docker, node and npm.
    const r = spawnSync("/usr/bin/bash", [`${repo}install.sh`], { encoding: "utf8", env: { PATH: bareTools(), HOME: "/root" } });
    expect(r.status).toBe(1);
    const init = readFileSync("/proc/1/comm", "utf8").trim() === "systemd" ? "" : "systemd as the init system (PID 1); ";
    expect(r.stderr).toContain(`berth install: error: missing: ${init}the docker CLI (apt-get install docker.io); Node.js 22.22 or later, or npm to install it`);
  });

  it("refuses to run as anything but root, and unknown options", () => {
    expect(spawnSync("bash", [`${repo}install.sh`, "--frobnicate"], { encoding: "utf8" }).stderr).toMatch(/usage: install\.sh \[--uninstall\]/);
  });

  it("installs a pinned Node.js release, not whatever npm calls latest", () => {
    const script = readFileSync(`${repo}install.sh`, "utf8");
    expect(script).toMatch(/^NODE_VERSION=24\.\d+\.\d+$/m);
    expect(script).toContain('"node@$NODE_VERSION"');
    expect(script).not.toMatch(/cp -a|node@24[^.]/);
  });
});

describe("install.sh BERTH_PREFIX", () => {
  const cases: Array<[string, string]> = [
    ["/opt/berth", ""],
    ["/srv/berth-2.1", ""],
    ["", "is not an absolute path"],
    ["opt/berth", "is not an absolute path"],
    ["/", "is a system directory"],
    ["/usr", "is a system directory"],
    ["/etc", "is a system directory"],
    ["/usr/local/bin", "is a system directory"],
    ["/var/lib/berth", "is a system directory"],
    ["/opt/berth/", "must be made of plain names"],
    ["/opt//berth", "must be made of plain names"],
    ["/opt/be rth", "must be made of plain names"],
    ["/opt/*", "must be made of plain names"],
    ["/opt/../usr", "must not contain . or .. segments"],
    ["/opt/./berth", "must not contain . or .. segments"],
    ["/opt/berth/..", "must not contain . or .. segments"],
    ["/tmp/berth", "is inside /tmp, which other users can write to"],
    ["/home/alice/berth", "is inside /home, which other users can write to"],
  ];
  it.each(cases)("%j: %s", (prefix, problem) => {
    const found = check("prefix_problem", prefix);
    if (problem === "") expect(found).toBe("");
    else expect(found).toContain(problem);
  });

  it("replaces only an absent or empty directory or a berth installation, below directories root's alone", () => {
    expect(check("prefix_state_problem", "/no-such-dir-berth/berth")).toBe("");
    const other = tree({ "data.txt": "x" });
    expect(check("prefix_state_problem", other)).toBe(`${other} exists and is not a berth installation`);
    const sibling = tree({ "p.old/data.txt": "x" });
    expect(check("prefix_state_problem", join(sibling, "p"))).toBe(`${sibling}/p.old exists and is not a berth installation`);
    const file = join(tree({ f: "" }), "f");
    expect(check("prefix_state_problem", file)).toBe(`${file} exists and is not a directory`);
    const link = join(tree({ l: { link: "/usr" } }), "l");
    expect(check("prefix_state_problem", link)).toBe(`${link} is a symbolic link`);
    // A berth installation, or an empty directory, passes; then /tmp above it (1777) does not.
    expect(check("prefix_state_problem", tree({ "package.json": '{ "name": "berth" }' }))).toBe("/tmp (mode 1777) is writable by group or others");
    const owned = tree({});
    mkdirSync(join(owned, "parent"));
    chownSync(join(owned, "parent"), 65534, 65534);
    expect(check("prefix_state_problem", join(owned, "parent/berth"))).toBe(`${owned}/parent is owned by uid 65534, not root`);
  });

  it("refuses a bad prefix before anything is removed, also for --uninstall", () => {
    const victim = tree({ "keep.txt": "x" });
    for (const [prefix, message] of [["/usr", "BERTH_PREFIX=/usr is a system directory"], [victim, `BERTH_PREFIX=${victim} is inside /tmp`]]) {
      // No rm on this PATH either: a wrong check cannot remove anything here.
      const r = spawnSync("/usr/bin/bash", [`${repo}install.sh`, "--uninstall"], { encoding: "utf8", env: { PATH: bareTools(), BERTH_PREFIX: prefix } });
      expect(r.status).toBe(1);
      expect(r.stderr).toContain(message!);
    }
    expect(readFileSync(join(victim, "keep.txt"), "utf8")).toBe("x");
  });
});
