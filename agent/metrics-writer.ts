import { isAbsolute } from "node:path";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { writeAtomically } from "../runtime/config-files.js";
import type { DockerClient } from "./docker.js";
import type { Logger } from "./log.js";
import { eventError, reconcileErrors, refusedFiles, renderMetrics, serviceSamples, type HostSample, type LastError } from "./metrics.js";
import { isTemplate } from "./plan.js";
import type { ReconcileResult } from "./reconcile.js";
import type { JobResult, SystemdClient } from "./systemd-client.js";
import { debounced } from "./watcher.js";

/** berthd's switch: the file to write. Unset or empty, no metrics. */
export const METRICS_FILE_ENV = "BERTH_METRICS_FILE";

/**
 * A burst of events (a restart is a job, a die, a start and a health change) is one write; a
 * steady stream still gets one every 2 s. Health probes send no events (see DockerClient.follow).
 */
const QUIET_MS = 250;
const MAX_WAIT_MS = 2000;

/** The metrics file berthd's environment asks for, or why it asks for none that works. */
export function metricsFile(env: NodeJS.ProcessEnv): { file?: string; problem?: string } {
  const file = env[METRICS_FILE_ENV];
  if (!file) return {};
  if (!isAbsolute(file) || !file.endsWith(".prom")) {
    return { problem: `${METRICS_FILE_ENV}=${file}: expected an absolute path ending in .prom (node_exporter's textfile collector reads only *.prom files); writing no metrics` };
  }
  return { file };
}

export interface Metrics {
  /** After each reconcile; `result` is undefined when it failed outright. Writes at once. */
  reconciled(ms: number, result: ReconcileResult | undefined): void;
  /** A Docker event of one of berth's containers. */
  containerEvent(e: { action: string; unit: string }): void;
  /** Waits for a write in progress; writes nothing more. */
  close(): Promise<void>;
}

/**
 * Writes node_exporter's textfile whenever berthd's view changes: after each reconcile, and after
 * a burst of container events or systemd job results. Each write asks systemd for the units'
 * states (one call), Docker for berth's containers (one call) and systemd for NRestarts of the
 * units that had a job since (all of them after a reconcile).
 */
export function startMetrics(file: string, deps: { systemd: SystemdClient; docker: DockerClient; log: Logger }): Metrics {
  const { systemd, docker, log } = deps;
  let desired: GeneratedUnit[] = [];
  let units = new Set<string>();
  const host: HostSample = { reconciles: 0, reconcileErrors: 0, reloads: 0, refused: 0 };
  const errors = new Map<string, LastError>();
  const restarts = new Map<string, number>();
  /** Units whose NRestarts may have changed (they had a job) since it was read. */
  const stale = new Set<string>();
  let readAll = true;
  // One warning per distinct problem, not one per write.
  const reported = new Map<string, string>();
  const problem = (source: string, message: string | undefined): void => {
    if (message !== undefined && reported.get(source) !== message) log.warn(`metrics: ${message}`);
    if (message === undefined) reported.delete(source);
    else reported.set(source, message);
  };

  const writeOnce = async (): Promise<void> => {
    const names = [...units];
    const [listed, containers] = await Promise.allSettled([
      names.length > 0 ? systemd.call("ListUnitsByNames", "as", [names]) : Promise.resolve([[]]),
      docker.containers(),
    ]);
    problem("systemd", listed.status === "rejected" ? `cannot read the units' states from systemd: ${(listed.reason as Error).message}` : undefined);
    problem("docker", containers.status === "rejected" ? `cannot list the containers: ${(containers.reason as Error).message}` : undefined);
    const toRead = readAll ? names : names.filter((u) => stale.has(u) || !restarts.has(u));
    readAll = false;
    stale.clear();
    await Promise.all(toRead.map((u) => systemd.property(u, "Service", "NRestarts").then((n) => restarts.set(u, Number(n)), () => restarts.delete(u))));
    const activeStates = new Map(listed.status === "fulfilled" ? (listed.value[0] as Array<[string, string, string, string]>).map(([name, , , active]) => [name, active] as const) : []);
    const text = renderMetrics({
      now: Date.now(),
      host,
      services: serviceSamples(desired, { activeStates, containers: containers.status === "fulfilled" ? containers.value : new Map(), restarts, errors }),
    });
    try {
      // node_exporter runs as its own user: the file is readable by all, like the directory's others.
      writeAtomically(file, text, { mode: 0o644, makeDir: false });
      problem("write", undefined);
    } catch (e) {
      problem("write", `cannot write ${file}: ${(e as Error).message}`);
    }
  };

  // One write at a time; a request during a write gets one more after it.
  let writing: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const write = (): void => {
    if (closed || host.reconciles === 0) return;
    if (writing) {
      again = true;
      return;
    }
    writing = (async () => {
      do {
        again = false;
        await writeOnce().catch((e: Error) => problem("write", `cannot gather the metrics: ${e.message}`));
      } while (again && !closed);
    })().finally(() => (writing = undefined));
  };
  const burst = debounced(write, QUIET_MS, MAX_WAIT_MS);

  const onJob = (r: JobResult): void => {
    if (!units.has(r.unit)) return;
    stale.add(r.unit);
    burst.add(r.unit);
  };
  const onReload = (ms: number): void => {
    host.reloads++;
    host.lastReloadMs = ms;
  };
  systemd.on("job", onJob);
  systemd.on("reloaded", onReload);

  return {
    reconciled(ms, result) {
      host.reconciles++;
      host.lastReconcileMs = ms;
      if (!result) host.reconcileErrors++;
      else {
        desired = result.desired;
        units = new Set(desired.map((u) => u.unitName).filter((u) => !isTemplate(u)));
        host.refused = refusedFiles(result.diagnostics);
        for (const [unit, e] of reconcileErrors(desired, result.diagnostics, result.failures, Date.now())) errors.set(unit, e);
        for (const map of [errors, restarts]) for (const unit of map.keys()) if (!units.has(unit)) map.delete(unit);
      }
      readAll = true;
      burst.cancel();
      write();
    },
    containerEvent(e) {
      const error = eventError(e.action, Date.now());
      if (!units.has(e.unit)) return;
      if (error) errors.set(e.unit, error);
      burst.add(e.unit);
    },
    async close() {
      closed = true;
      burst.cancel();
      systemd.off("job", onJob);
      systemd.off("reloaded", onReload);
      await writing;
    },
  };
}
