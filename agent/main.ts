import { spawn } from "node:child_process";
import { acceptedDir, stateDir as defaultStateDir } from "../generator/accepted-store.js";
import { keptRunPaths, saveKeptRun } from "../generator/run-cache.js";
import { hostCache } from "../generator/host-cache.js";
import { unitDirs, type Scope } from "../generator/search-path.js";
import { DockerClient } from "./docker.js";
import { createLogger } from "./log.js";
import { metricsFile, startMetrics } from "./metrics-writer.js";
import { nextSettleMs } from "./plan.js";
import { reconcile, type Progress, type ReconcileContext, type ReconcileResult } from "./reconcile.js";
import { reconcileLockPath, withReconcileLock } from "./reconcile-lock.js";
import { emptyRollout, withProgress } from "./rollout-status.js";
import { missingSinceOf, readStatus, withActions, writeStatus, type AgentStatus } from "./status-file.js";
import { SystemdClient } from "./systemd-client.js";
import { describeChanges, watchConfiguration, watchDefinitions } from "./watcher.js";

const RESYNC_MS = 5 * 60_000;
const SHUTDOWN_GRACE_MS = 20_000;
// A reconcile that failed outright (systemd or its bus unreachable) is retried sooner than the
// periodic resync: 1 s, doubling up to 30 s. Failed jobs and pulls are retried the same way, as
// systemd's Restart= would, doubling up to 5 min; each clean reconcile starts the series again.
const RETRY_FIRST_MS = 1_000;
const RETRY_MAX_MS = 30_000;
const JOB_RETRY_MAX_MS = 5 * 60_000;

/** A retry timer whose delay doubles on each use, up to `maxMs`. */
function backoff(maxMs: number, fire: () => void): { schedule(): number; reset(): void; cancel(): void } {
  let ms = RETRY_FIRST_MS;
  let timer: NodeJS.Timeout | undefined;
  return {
    schedule() {
      clearTimeout(timer);
      timer = setTimeout(fire, ms);
      const was = ms;
      ms = Math.min(ms * 2, maxMs);
      return was;
    },
    reset() {
      ms = RETRY_FIRST_MS;
    },
    cancel() {
      clearTimeout(timer);
    },
  };
}

/** Tells systemd (Type=notify) how far we are; systemd-notify waits until the manager has read it. */
function notify(...args: string[]): void {
  if (!process.env.NOTIFY_SOCKET) return;
  spawn("systemd-notify", args, { stdio: "ignore" }).on("error", () => undefined);
}

async function main(argv: string[]): Promise<number> {
  const scope: Scope = argv.includes("--user") ? "user" : "system";
  const log = createLogger({ level: process.env.BERTH_LOG_LEVEL ?? "info" });
  const stateDir = defaultStateDir(scope, process.env);
  const systemd = new SystemdClient(scope);
  const docker = new DockerClient();
  const records = acceptedDir(scope, process.env);
  const metricsConfig = metricsFile(process.env);
  if (metricsConfig.problem) log.error(metricsConfig.problem);
  const metrics = metricsConfig.file ? startMetrics(metricsConfig.file, { systemd, docker, log }) : undefined;
  const previous = readStatus(stateDir);
  // Deletions keep their clock across a restart of berthd.
  const missingSince = missingSinceOf(previous);
  const status: AgentStatus = { at: "", diagnostics: [], failures: [], events: previous?.events ?? {}, missingSince: {}, actions: previous?.actions ?? [] };

  let running: Promise<void> | undefined;
  // Why the next reconcile runs: requests made while one runs are served together by the next,
  // and each reason stays in its log line.
  let reasons: string[] = [];
  let ready = false;
  let stopping = false;
  const retryReconcile = backoff(RETRY_MAX_MS, () => request("retry after a failed reconcile"));
  const retryJobs = backoff(JOB_RETRY_MAX_MS, () => request("retry after failures"));
  let settle: NodeJS.Timeout | undefined;
  // Progress reaches status.json at most once a second: a pull reports every chunk.
  let progressWrite: NodeJS.Timeout | undefined;
  const onProgress = (p: Progress): void => {
    status.rollout = withProgress(status.rollout ?? emptyRollout(new Date().toISOString()), p);
    progressWrite ??= setTimeout(() => {
      progressWrite = undefined;
      if (status.rollout) saveStatus();
    }, 1000);
  };
  const saveStatus = (): void => {
    try {
      writeStatus(stateDir, status);
    } catch (e) {
      log.warn(`cannot write ${stateDir}/status.json: ${(e as Error).message}`);
    }
  };
  // The generator's bundle sits beside this one in dist/.
  const bundle = `${import.meta.dirname}/berth-generator.cjs`;
  const generatorRun: ReconcileContext["generatorRun"] = {
    bundle,
    keep(looks, run) {
      const t0 = Date.now();
      const runs = hostCache(process.env, bundle, { by: "berthd" })(scope)?.runs;
      const kept = runs?.keep(looks, run) ?? false;
      log.debug(kept ? `kept the translation as the generator's run in ${Date.now() - t0} ms` : "the translation is not the generator's run to keep (see THE GENERATOR'S KEPT RUN)");
    },
  };
  const lock = reconcileLockPath(scope);
  const once = (reason: string): Promise<void> =>
    withReconcileLock(lock, () => reconcileOnce(reason), () => log.info("waiting for the reconcile of a berth apply to finish")).catch((e: Error) => {
      log.error(`cannot take the reconcile lock ${lock}: ${e.message}; retrying in ${retryReconcile.schedule() / 1000} s`);
    });
  const reconcileOnce = async (reason: string): Promise<void> => {
    log.info(`reconciling (${reason})`);
    const t0 = Date.now();
    let result: ReconcileResult | undefined;
    try {
      result = await reconcile({ scope, systemd, docker, log, acceptedDir: records, missingSince, onProgress, generatorRun });
      status.actions = withActions(status.actions, { startedAt: t0, started: result.plan.start, restarted: result.plan.restart, stopped: result.plan.stop });
      retryReconcile.reset();
      configWatcher.set(result.configPaths);
      const p = result.plan;
      log.info(`reconciled in ${Date.now() - t0} ms: ${p.start.length} started, ${p.restart.length} restarted, ${p.reloadInPlace.length ? `${p.reloadInPlace.length} reloaded, ` : ""}${p.stop.length} stopped, ${p.unchanged.length} unchanged${result.failures.length ? `, ${result.failures.length} failed` : ""}`);
      const settles = nextSettleMs(p);
      if (settles !== undefined) {
        clearTimeout(settle);
        settle = setTimeout(() => request("a deletion settled"), settles + 50);
      }
      if (result.failures.length > 0) log.info(`retrying the failures in ${retryJobs.schedule() / 1000} s`);
      else retryJobs.reset();
    } catch (e) {
      log.error({ err: e }, `reconcile failed: ${(e as Error).message}; retrying in ${retryReconcile.schedule() / 1000} s`);
    }
    status.rollout = undefined;
    metrics?.reconciled(Date.now() - t0, result);
    Object.assign(status, {
      at: new Date().toISOString(),
      diagnostics: result?.diagnostics ?? status.diagnostics,
      failures: result?.failures ?? status.failures,
      missingSince: Object.fromEntries(missingSince),
    });
    saveStatus();
    if (!ready) {
      ready = true;
      notify("--ready", `--status=watching ${unitDirs(scope, process.env).join(", ")}`);
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
    unitDirs(scope, process.env),
    (paths) => request(describeChanges(paths)),
    (e) => log.warn(`watching the definition directories: ${e.message}; changes are still picked up by the periodic resync`),
  );
  const configWatcher = watchConfiguration(
    (paths) => request(`configuration: ${describeChanges(paths)}`),
    (e) => log.warn(`watching the configuration paths: ${e.message}; changes are still picked up by the periodic resync`),
  );
  const stopEvents = docker.follow(
    (e) => {
      metrics?.containerEvent(e);
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
  clearTimeout(settle);
  retryReconcile.cancel();
  retryJobs.cancel();
  stopEvents();
  await watcher.close();
  await configWatcher.close();
  await metrics?.close();
  const pending = running as Promise<void> | undefined;
  if (pending) await Promise.race([pending, new Promise((r) => setTimeout(r, SHUTDOWN_GRACE_MS))]);
  systemd.close();
  // Stopping is usually a shutdown: the generator's first run after boot can then write its kept
  // run instead of translating every definition.
  const kept = keptRunPaths(scope, process.env);
  if (kept?.saved !== undefined && saveKeptRun(kept.runtime, kept.saved)) log.info(`saved the generator's kept run to ${kept.saved}`);
  return 0;
}

process.exitCode = await main(process.argv.slice(2));
process.exit();
