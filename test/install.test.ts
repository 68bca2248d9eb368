import { spawnSync } from "node:child_process";
import { readFileSync, symlinkSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { repo } from "./support/run.js";
import { tree } from "./support/tree.js";

/** A PATH with the shell tools install.sh uses, but without docker, node or npm. */
function bareTools(): string {
  const dir = tree({});
  for (const tool of ["bash", "id", "ps", "dirname", "sed", "cat", "grep"]) symlinkSync(`/usr/bin/${tool}`, join(dir, tool));
  return dir;
}

describe("install.sh prerequisites", () => {
  it("says everything that is missing, at once, before touching the host", () => {
    // This machine (and CI) runs no systemd as PID 1, and here the PATH hides docker, node and npm.
    const r = spawnSync("/usr/bin/bash", [`${repo}install.sh`], { encoding: "utf8", env: { PATH: bareTools(), HOME: "/root" } });
    expect(r.status).toBe(1);
    const init = readFileSync("/proc/1/comm", "utf8").trim() === "systemd" ? "" : "systemd as the init system (PID 1); ";
    expect(r.stderr).toContain(`berth install: error: missing: ${init}the docker CLI (apt-get install docker.io); Node.js 22 or 24, or npm to install it`);
  });

  it("refuses to run as anything but root, and unknown options", () => {
    expect(spawnSync("bash", [`${repo}install.sh`, "--frobnicate"], { encoding: "utf8" }).stderr).toMatch(/usage: install\.sh \[--uninstall\]/);
  });
});
