import { spawnSync } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Agent, agentOnFreshManager, printAgentLogOnFailure } from "./support/agent.js";
import { docker, ensureTestImage, TEST_IMAGE } from "./support/images.js";
import { LocalRegistry } from "./support/registry.js";
import { repo } from "./support/run.js";
import type { UserManager } from "./support/user-manager.js";
import { waitFor } from "./support/wait.js";

/**
 * A small control plane in four dependency levels, plus one service that depends on nothing:
 * up-db ← up-ks ← up-pl ← up-api, and up-web. Each listens on its port once up, and its health
 * check probes that port, so "healthy" is observable.
 */
const SERVICES: Record<string, { port: number; after?: string; requires?: boolean }> = {
  "up-db": { port: 18101 },
  "up-ks": { port: 18102, after: "up-db", requires: true },
  "up-pl": { port: 18103, after: "up-ks" },
  "up-api": { port: 18104, after: "up-pl" },
  "up-web": { port: 18105 },
};
const NAMES = Object.keys(SERVICES);

const definition = (name: string, image: string): string => {
  const s = SERVICES[name]!;
  const unit = s.after ? `[Unit]\n${s.requires ? "Requires" : "Wants"}=${s.after}.container\nAfter=${s.after}.container\n\n` : "";
  return `${unit}[Container]\nImage=${image}\nContainerName=${name}\nNetwork=none\nRunInit=yes\nExec=fake-service\n` +
    `Environment=NAME=${name} PORT=${s.port} DELAY=1\nHealthCmd=nc -w 1 127.0.0.1 ${s.port} </dev/null\nHealthInterval=200ms\nHealthRetries=1000\n` +
    `StopTimeout=5\nRevertOnFailure=yes\n\n[Service]\nTimeoutStartSec=15\n`;
};

const inspect = (name: string, format: string) => docker(["inspect", "-f", format, name]).stdout.trim();

describe("upgrade: pull first, then one dependency level at a time, each gated on health; a bad version is reverted", () => {
  let um: UserManager;
  let agent: Agent;
  let registry: LocalRegistry;
  const image: Record<string, string> = {};
  const berth = (...args: string[]) => spawnSync(process.execPath, [`${repo}bin/berth`, "--user", ...args], { env: um.env, encoding: "utf8" });
  const active = (name: string) => um.show(`${name}.service`, "ActiveState").ActiveState === "active";
  const readyAt = (name: string) => Number(um.show(`${name}.service`, "ActiveEnterTimestampMonotonic").ActiveEnterTimestampMonotonic);
  const startedAt = (name: string) => inspect(name, "{{.State.StartedAt}}");
  /** Rewrites every definition with berthd stopped, so that a new berthd meets them as one batch when it starts. */
  const rollOut = async (images: Record<string, string>): Promise<void> => {
    await agent.stop();
    for (const name of NAMES) um.writeDefinition(`${name}.container`, definition(name, images[name]!));
    agent = new Agent(um).start();
  };
  const log = (from = 0) => agent.lines.slice(from).map((l) => l.msg);
  printAgentLogOnFailure(() => agent);

  beforeAll(async () => {
    ensureTestImage();
    docker(["rm", "-f", ...NAMES]);
    registry = await new LocalRegistry(5056).start();
    // v2 differs from v1 by a layer; "bad" never opens its port, so it never turns healthy.
    const build = (tag: string, dockerfile: string) => {
      const r = spawnSync("sh", ["-c", `printf '${dockerfile}' | DOCKER_BUILDKIT=0 docker build -q -t ${tag} -`], { encoding: "utf8" });
      if (r.status !== 0) throw new Error(r.stderr);
      return tag;
    };
    image.v1 = registry.push(TEST_IMAGE, "sim/svc:v1");
    image.v2 = registry.push(build("berth-test/up-v2", `FROM ${TEST_IMAGE}\\nRUN echo 2 > /version\\n`), "sim/svc:v2");
    image.v3 = registry.push(build("berth-test/up-v3", `FROM ${TEST_IMAGE}\\nRUN echo 3 > /version\\n`), "sim/svc:v3");
    image.bad = registry.push(build("berth-test/up-bad", `FROM ${TEST_IMAGE}\\nRUN printf "#!/bin/sh\\\\nexec sleep 1000000\\\\n" > /bin/fake-service\\n`), "sim/svc-bad:v3");
    docker(["rmi", "berth-test/up-v2", "berth-test/up-v3", "berth-test/up-bad"]);
    ({ um, agent } = await agentOnFreshManager());
    for (const name of NAMES) um.writeDefinition(`${name}.container`, definition(name, image.v1!));
    await waitFor("the control plane on v1", () => NAMES.every(active));
    await agent.idle();
  });

  afterAll(async () => {
    await agent?.stop("SIGKILL");
    await um?.stop();
    registry?.stop();
    docker(["rm", "-f", ...NAMES]);
  });

  it("pulls every new image before anything restarts, then restarts level by level, each once the level below is healthy", async () => {
    await rollOut(Object.fromEntries(NAMES.map((n) => [n, image.v2!])));
    await waitFor("every service on v2", () => NAMES.every((n) => active(n) && inspect(n, "{{.Config.Image}}") === image.v2));
    await agent.idle();
    const lines = log();
    const pulled = lines.findIndex((m) => m === `${image.v2}: pulled`);
    const firstRestart = lines.findIndex((m) => / restarting /.test(m));
    expect(pulled).toBeGreaterThanOrEqual(0);
    expect(firstRestart).toBeGreaterThan(pulled);
    expect(lines.filter((m) => m.startsWith("rollout level"))).toEqual([
      "rollout level 1 of 4: up-db.service, up-web.service",
      "rollout level 2 of 4: up-ks.service",
      "rollout level 3 of 4: up-pl.service",
      "rollout level 4 of 4: up-api.service",
    ]);
    // Each service's new container started only once what it is ordered after was up and healthy.
    for (const [name, s] of Object.entries(SERVICES)) {
      if (!s.after) continue;
      const started = Date.parse(startedAt(name));
      const upSince = Date.parse(inspect(s.after, "{{.State.StartedAt}}"));
      expect(started, `${name} after ${s.after}`).toBeGreaterThan(upSince);
      expect(readyAt(name)).toBeGreaterThan(readyAt(s.after));
    }
    // up-ks requires up-db: systemd restarted it with up-db, and berthd did not restart it again.
    expect(lines.filter((m) => m.startsWith("up-ks.service: restarting") || m.startsWith("up-ks.service: already restarted")).length).toBe(1);
  });

  it("a version that never turns healthy stops the rollout there and is reverted; what is above it keeps running, and nothing flaps", async () => {
    const before = Object.fromEntries(NAMES.map((n) => [n, startedAt(n)]));
    // A new berthd: its log starts at line 0.
    await rollOut({ ...Object.fromEntries(NAMES.map((n) => [n, image.v3!])), "up-pl": image.bad! });
    await agent.waitForLog(/^up-pl\.service: .*reverted to the version accepted at/, 0);
    await agent.idle();
    await waitFor("up-pl back on v2", () => active("up-pl") && inspect("up-pl", "{{.Config.Image}}") === image.v2);
    // Below it: upgraded. Above it: never restarted, still the old version.
    expect(["up-db", "up-ks", "up-web"].map((n) => inspect(n, "{{.Config.Image}}"))).toEqual([image.v3, image.v3, image.v3]);
    expect([startedAt("up-api"), inspect("up-api", "{{.Config.Image}}")]).toEqual([before["up-api"], image.v2]);
    const plan = berth("plan").stdout;
    expect(plan).toMatch(/^hold     up-api\.service  \(up-pl\.service was reverted; resumes when that definition changes\)$/m);
    expect(berth("apply").status).toBe(0);
    // berthd retries after the failure: the rejected version is not tried again.
    const pl = inspect("up-pl", "{{.Id}}");
    await agent.waitForLog(/^reconciling \(.*retry after failures/, 0);
    await agent.reconciled(agent.lines.findIndex((l) => /^reconciling \(.*retry after failures/.test(l.msg)));
    expect([inspect("up-pl", "{{.Id}}"), startedAt("up-api")]).toEqual([pl, before["up-api"]]);
  });

  it("a fixed definition resumes the rollout where it stopped", async () => {
    const mark = agent.mark;
    um.writeDefinition("up-pl.container", definition("up-pl", image.v3!));
    await waitFor("up-pl and up-api on v3", () => ["up-pl", "up-api"].every((n) => active(n) && inspect(n, "{{.Config.Image}}") === image.v3));
    await agent.idle();
    const lines = log(mark);
    expect(lines.findIndex((m) => m.startsWith("up-api.service: restarting"))).toBeGreaterThan(lines.findIndex((m) => m === "up-pl.service: active"));
  });
});
