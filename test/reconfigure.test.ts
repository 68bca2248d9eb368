import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync, chmodSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, agentOnFreshManager, printAgentLogOnFailure } from "./support/agent.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { repo } from "./support/run.js";
import type { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

const SERVICES = ["rc-db", "rc-api", "rc-web"];
const startedAt = (name: string) => docker(["inspect", "-f", "{{.State.StartedAt}}", name]).stdout.trim();
const startTimes = () => Object.fromEntries(SERVICES.map((s) => [s, startedAt(s)]));

/** As Ansible's template module writes: a temporary file beside the target, renamed over it. */
function writeLikeAnsible(path: string, text: string): void {
  const tmp = join(path, "..", `.ansible_tmp${Math.random().toString(36).slice(2)}${path.split("/").at(-1)}`);
  writeFileSync(tmp, text);
  renameSync(tmp, path);
}

describe("reconfigure: berthd restarts or reloads exactly the services whose configuration changed (kolla's CI rule)", () => {
  let um: UserManager;
  let agent: Agent;
  let etc: string;
  const files: Record<string, Record<string, string>> = {
    "rc-db": { "my.cnf": "[mysqld]\nmax_connections=100\n", "config.json": "{}\n" },
    "rc-api": { "api.conf": "[DEFAULT]\ndebug=false\n", "config.json": "{}\n" },
    "rc-web": { "web.conf": "listen 80\n", "policy.yaml": "admin: role:admin\n" },
  };
  const berth = (...args: string[]) => spawnSync(process.execPath, [`${repo}bin/berth`, "--user", ...args], { env: um.env, encoding: "utf8" });
  const reloads = () => docker(["exec", "rc-web", "sh", "-c", "cat /reloads 2>/dev/null || true"]).stdout.trim().split("\n").filter(Boolean).length;
  printAgentLogOnFailure(() => agent);

  beforeAll(async () => {
    ensureTestImage();
    docker(["rm", "-f", ...SERVICES]);
    etc = mkdtempSync("/tmp/berth-kolla-");
    for (const [svc, content] of Object.entries(files)) {
      mkdirSync(join(etc, svc));
      for (const [name, text] of Object.entries(content)) writeFileSync(join(etc, svc, name), text);
    }
    ({ um, agent } = await agentOnFreshManager());
    const def = (svc: string, body: string, unit = "") =>
      `${unit}[Container]\nImage=${TEST_IMAGE}\nContainerName=${svc}\nNetwork=none\nRunInit=yes\nVolume=${join(etc, svc)}:/etc/${svc}:ro\n${body}`;
    um.writeDefinition("rc-db.container", def("rc-db", `RestartOnChange=${join(etc, "rc-db")}\nExec=sleep 600\n`));
    um.writeDefinition("rc-api.container", def("rc-api", `RestartOnChange=${join(etc, "rc-api")}\nExec=sleep 600\n`, "[Unit]\nRequires=rc-db.container\nAfter=rc-db.container\n"));
    // Reloads on SIGHUP, and counts them where the test can read them.
    um.writeDefinition("rc-web.container", def("rc-web",
      `RestartOnChange=${join(etc, "rc-web/web.conf")}\nReloadOnChange=${join(etc, "rc-web/policy.yaml")}\nReloadSignal=HUP\n` +
      `Exec=sh -c 'trap "echo reloaded >> /reloads" HUP; while :; do sleep 1 & wait; done'\n`));
    await waitFor("the three services active", () => SERVICES.every((s) => um.show(`${s}.service`, "ActiveState").ActiveState === "active"));
    await agent.idle();
  });

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    docker(["rm", "-f", ...SERVICES]);
    if (etc) rmSync(etc, { recursive: true, force: true });
  });

  it("each container carries the digest of the configuration it started with, and berth status shows it", () => {
    const label = docker(["inspect", "-f", '{{index .Config.Labels "io.berth.config"}}', "rc-api"]).stdout.trim();
    expect(label).toMatch(/^[0-9a-f]{16}$/);
    const rows = JSON.parse(berth("status", "--json").stdout) as Array<{ unit: string; config: string }>;
    expect(rows.find((r) => r.unit === "rc-api.service")?.config).toBe(label);
  });

  it("a reconfigure with no changes (every file written again, the same bytes) restarts nothing", async () => {
    const before = startTimes();
    const mark = agent.mark;
    for (const [svc, content] of Object.entries(files)) for (const [name, text] of Object.entries(content)) writeLikeAnsible(join(etc, svc, name), text);
    await agent.waitForLog(/^reconciling \(.*configuration: /, mark);
    await agent.reconciled(mark);
    await agent.idle();
    expect(startTimes()).toEqual(before);
    expect(reloads()).toBe(0);
    expect(berth("plan").stdout).toMatch(/^nothing to do$/m);
  });

  it("changing one file restarts exactly its service, and says which file", async () => {
    const before = startTimes();
    const mark = agent.mark;
    writeLikeAnsible(join(etc, "rc-api/api.conf"), "[DEFAULT]\ndebug=true\n");
    expect(await agent.waitForLog(/^rc-api\.service: restarting/, mark)).toBe("rc-api.service: restarting (configuration changed (api.conf))");
    await agent.waitForLog(/^rc-api\.service: active/, mark);
    await agent.idle();
    const after = startTimes();
    expect(after["rc-api"]).not.toBe(before["rc-api"]);
    expect({ ...after, "rc-api": "" }).toEqual({ ...before, "rc-api": "" });
  });

  it("a change of mode or owner counts; a change of time alone does not", async () => {
    const before = startTimes();
    const mark = agent.mark;
    spawnSync("touch", [join(etc, "rc-db/my.cnf")]);
    chmodSync(join(etc, "rc-db/config.json"), 0o600);
    await agent.waitForLog(/^rc-db\.service: restarting \(configuration changed \(config\.json\)\)/, mark);
    await agent.idle();
    expect(startedAt("rc-db")).not.toBe(before["rc-db"]);
    // rc-api requires rc-db, but its configuration did not change: as with Kolla, only the
    // service whose files changed restarts.
    expect([startedAt("rc-api"), startedAt("rc-web")]).toEqual([before["rc-api"], before["rc-web"]]);
  });

  it("a file under ReloadOnChange= reloads the service in place (ReloadSignal=), without a restart", async () => {
    const before = startTimes();
    const mark = agent.mark;
    writeLikeAnsible(join(etc, "rc-web/policy.yaml"), "admin: role:admin or role:operator\n");
    await agent.waitForLog(/^rc-web\.service: reloaded/, mark);
    await waitFor("the container to have reloaded", () => reloads() === 1);
    await agent.idle();
    expect(startTimes()).toEqual(before);
    // Nothing left to do: the reloaded configuration is now what it runs with.
    expect(berth("plan").stdout).toMatch(/^nothing to do$/m);
  });

  it("a change made while berthd was down is caught up when it starts, and nothing else restarts", async () => {
    await agent.stop();
    const before = startTimes();
    writeLikeAnsible(join(etc, "rc-web/web.conf"), "listen 8080\n");
    // What berthd will do, said before it does it.
    expect(berth("plan").stdout).toMatch(/^restart  rc-web\.service  \(configuration changed \(web\.conf\)\)$/m);
    agent = new Agent(um).start();
    await agent.waitForLog(/^rc-web\.service: active/);
    await agent.idle();
    const after = startTimes();
    expect(after["rc-web"]).not.toBe(before["rc-web"]);
    expect([after["rc-db"], after["rc-api"]]).toEqual([before["rc-db"], before["rc-api"]]);
  });
});
