import { spawn } from "node:child_process";
import { stateDir as defaultStateDir } from "../generator/accepted-store.js";
import { unitDirs, type Scope } from "../generator/search-path.js";
import { DockerClient } from "./docker.js";
import { createLogger } from "./log.js";
import { reconcile, type ReconcileResult } from "./reconcile.js";
import { readStatus, writeStatus, type AgentStatus } from "./status-file.js";
import { SystemdClient } from "./systemd-client.js";
import { describeChanges, watchDefinitions } from "./watcher.js";

const RESYNC_MS = 5 * 60_000;
const SHUTDOWN_GRACE_MS = 20_000;
const DELETION_GRACE_MS = 2_000;
// A reconcile that failed outright (systemd or its bus unreachable) is retried sooner than the
// periodic resync: 1 s, doubling up to 30 s.
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;

/** Tells systemd (Type=notify) how far we are; systemd-notify waits until the manager has read it. */
function notify(...args: string[]): void {
  if (!process.env.NOTIFY_SOCKET) return;
  spawn("systemd-notify", args, { stdio: "ignore" }).on("error", () => undefined);
}

async function main(argv: string[]): Promise<number> {
  const scope: Scope = argv.includes("--user") ? "user" : "system";
  const log = createLogger({ level: process.env.BERTH_LOG_LEVEL ?? "info" });
  const stateDir = defaultStateDir(scope);
  const systemd = new SystemdClient(scope);
  const docker = new DockerClient();
  const deletionGrace = { ms: DELETION_GRACE_MS, missingSince: new Map<string, number>() };
  const status: AgentStatus = { at: "", diagnostics: [], failures: [], events: readStatus(stateDir)?.events ?? {} };

  let running: Promise<void> | undefined;
  // Why the next reconcile runs: requests made while one runs are served together by the next,
  // and each reason stays in its log line.
  let reasons: string[] = [];
  let ready = false;
  let stopping = false;
  let retryMs = RETRY_FIRST_MS;
  let retry: NodeJS.Timeout | undefined;
  const once = async (reason: string): Promise<void> => {
    log.info(`reconciling (${reason})`);
    const t0 = Date.now();
    let result: ReconcileResult | undefined;
    try {
      result = await reconcile({ scope, systemd, docker, log, stateDir, deletionGrace });
      if (result.retryAfterMs !== undefined) setTimeout(() => request("a deletion settled"), result.retryAfterMs + 50);
      const p = result.plan;
      log.info(`reconciled in ${Date.now() - t0} ms: ${p.start.length} started, ${p.restart.length} restarted, ${p.stop.length} stopped, ${p.unchanged.length} unchanged${result.failures.length ? `, ${result.failures.length} failed` : ""}`);
      retryMs = RETRY_FIRST_MS;
    } catch (e) {
      log.error({ err: e }, `reconcile failed: ${(e as Error).message}; retrying in ${retryMs / 1000} s`);
      clearTimeout(retry);
      retry = setTimeout(() => request("retry after a failed reconcile"), retryMs);
      retryMs = Math.min(retryMs * 2, RETRY_MAX_MS);
    }
    Object.assign(status, { at: new Date().toISOString(), diagnostics: result?.diagnostics ?? status.diagnostics, failures: result?.failures ?? status.failures });
    try {
      writeStatus(stateDir, status);
    } catch (e) {
      log.warn(`cannot write ${stateDir}/status.json: ${(e as Error).message}`);
    }
    if (!ready) {
      ready = true;
      notify("--ready", `--status=watching ${unitDirs(scope).join(", ")}`);
    }
  };
  const request = (reason: string): void => {
    if (stopping) return;
    if (!reasons.includes(reason)) reasons.push(reason);
    if (running) return;
    running = (async () => {
      while (reasons.length > 0 && !stopping) {
        const now = reasons;
        reasons = [];
        await once(now.join("; "));
      }
    })().finally(() => (running = undefined));
  };

  const watcher = watchDefinitions(
    unitDirs(scope),
    (paths) => request(describeChanges(paths)),
    (e) => log.warn(`watching the definition directories: ${e.message}; changes are still picked up by the periodic resync`),
  );
  const stopEvents = docker.follow(
    (e) => {
      if (e.action === "oom" || e.action === "die" || e.action.startsWith("health_status: unhealthy")) {
        status.events[e.unit] = { at: new Date().toISOString(), event: e.action };
        log.warn(`${e.unit}: container ${e.name}: ${e.action}`);
      }
    },
    (e) => log.warn(`Docker events: ${e.message}; retrying`),
  );
  systemd.on("disconnected", (e: Error) => {
    log.warn(`lost systemd's bus: ${e.message}; reconnecting`);
    setTimeout(() => request("reconnecting to systemd"), 1000);
  });
  systemd.on("reexecuted", () => request("systemd re-executed"));
  // A full resync also lists Docker's containers again instead of trusting what events told us.
  const fullResync = (reason: string): void => {
    docker.forgetRunning();
    request(reason);
  };
  const resync = setInterval(() => fullResync("periodic resync"), RESYNC_MS);
  process.on("SIGHUP", () => fullResync("SIGHUP"));
  process.on("SIGUSR2", () => {
    const m = process.memoryUsage();
    void import("node:v8").then((v8) => log.info(`spaces: ${v8.getHeapSpaceStatistics().map((x) => `${x.space_name} ${(x.space_size / 2 ** 20).toFixed(1)}/${(x.space_used_size / 2 ** 20).toFixed(1)}`).join(", ")}`));
    log.info(`memory: rss ${(m.rss / 2 ** 20).toFixed(0)} MiB, heap ${(m.heapUsed / 2 ** 20).toFixed(0)}/${(m.heapTotal / 2 ** 20).toFixed(0)} MiB, external ${(m.external / 2 ** 20).toFixed(0)} MiB, buffers ${(m.arrayBuffers / 2 ** 20).toFixed(0)} MiB`);
  });

  request("start-up");
  await new Promise<void>((resolve) => {
    const shutdown = (signal: string): void => {
      log.info(`${signal}: finishing the reconcile in progress, then exiting`);
      stopping = true;
      notify("--stopping");
      resolve();
    };
    process.once("SIGTERM", () => shutdown("SIGTERM"));
    process.once("SIGINT", () => shutdown("SIGINT"));
  });
  clearInterval(resync);
  clearTimeout(retry);
  stopEvents();
  await watcher.close();
  const pending = running as Promise<void> | undefined;
  if (pending) await Promise.race([pending, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS))]);
  systemd.close();
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
process.exit();
