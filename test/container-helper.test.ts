import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { repo } from "./support/run.js";

const helper = (...args: string[]) => spawnSync(process.execPath, [`${repo}dist/berth-container.js`, ...args], { encoding: "utf8" });
const id = (name: string) => docker(["inspect", "-f", "{{.Id}}", name]).stdout.trim();
const createArgv = (spec: string) => ["/usr/bin/docker", "create", "--name", "hx", "--label", `io.berth.spec=${spec}`, "--network", "none", TEST_IMAGE, "sleep", "600"];

describe("berth-container create (after Docker refused the unit's run) against real Docker", () => {
  beforeAll(() => {
    ensureTestImage();
    docker(["rm", "-f", "hx"]);
  });
  afterAll(() => void docker(["rm", "-f", "hx"]));

  it("replaces a stopped leftover, keeps a running container with the same spec, replaces one with another", () => {
    expect(helper("create", "hx", "--", ...createArgv("aaaa")).status).toBe(0);
    const created = id("hx");
    const replaced = helper("create", "hx", "--", ...createArgv("aaaa"));
    expect(replaced.status).toBe(0);
    expect(replaced.stdout).toContain("removed a leftover container hx (created)");
    expect(id("hx")).not.toBe(created); // not running: a leftover, replaced

    docker(["start", "hx"]);
    const running = id("hx");
    const kept = helper("create", "hx", "--", ...createArgv("aaaa"));
    expect(kept.stdout).toContain("already running with this definition; keeping it");
    expect(id("hx")).toBe(running);

    expect(helper("create", "hx", "--", ...createArgv("bbbb")).status).toBe(0);
    expect(id("hx")).not.toBe(running);
    expect(docker(["inspect", "-f", "{{.State.Running}}", "hx"]).stdout.trim()).toBe("false");
  });

  it("passes docker create's failure on", () => {
    const r = helper("create", "hx", "--", "/usr/bin/docker", "create", "--name", "hx", "--no-such-flag", TEST_IMAGE);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/unknown flag/);
  });

  it("remove is quiet when there is nothing to remove", () => {
    docker(["rm", "-f", "hx"]);
    const r = helper("remove", "hx");
    expect([r.status, r.stdout, r.stderr]).toEqual([0, "", ""]);
  });
});
