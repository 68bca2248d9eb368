import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import {
  acceptedDir, forgetAccepted, previousVersion, readAllAccepted, readRejections, restoreAccepted, stateDir, writeAccepted, writeRejections, type AcceptedUnit, type Rejection,
} from "../generator/accepted-store.js";
import { digest } from "../generator/digest.js";
import { formatDiagnostic, warning, type Diagnostic } from "../generator/diagnostics.js";
import { expandedAtStart } from "../generator/exec-line.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { GENERATED_HEADER } from "../generator/labels.js";
import { loadSet } from "../generator/load-set.js";
import type { Recording } from "../generator/observed-fs.js";
import type { Run } from "../generator/run-cache.js";
import { observing, runOf } from "../generator/translate-run.js";
import { runtimeDir, type Scope } from "../generator/search-path.js";
import { configNow, type ConfigNow } from "./config-changes.js";
import type { DockerClient } from "./docker.js";
import type { Logger } from "./log.js";
import { graceDeletions, isTemplate, isUp, nextSettleMs, plan, restartTakesAlong, rolloutLevels, stillStopped, type Observed, type Plan } from "./plan.js";
import { pullImages } from "./pull-images.js";
import { readStoppedBy, writeStoppedBy } from "./stopped-by.js";
import { JOB_WAIT_MINUTES, type JobResult, type SystemdClient } from "./systemd-client.js";

export interface ReconcileContext {
  scope: Scope;
  systemd: SystemdClient;
  docker: DockerClient;
  log: Logger;
  /** Where the accepted records are (acceptedDir). */
  acceptedDir: string;
  env?: NodeJS.ProcessEnv;
  /**
   * Deleted definitions whose units are stopped only once they have stayed deleted (see
   * graceDeletions): when each was first seen missing. berthd keeps it across reconciles and
   * in its status file, where `berth plan` and `berth apply` read it.
   */
  missingSince: Map<string, number>;
  /** Told how a rollout goes (pulls, levels), for `berth status` and `berth apply`'s live view. */
  onProgress?: (p: Progress) => void;
  /**
   * Where berthd keeps its translation of the set as the generator's run, for the daemon-reload
   * that applies a change: the generator that systemd then runs writes it instead of translating
   * every definition again (THE GENERATOR'S KEPT RUN). The generator's bundle is part of the run's
   * key, and stat'ed with the definitions.
   */
  generatorRun?: { bundle: string; keep(looks: Recording, run: Run): void };
}

export type Progress =
  | { kind: "pull"; image: string; units: string[]; current: number; total: number; done: boolean }
  | { kind: "level"; index: number; of: number; units: string[] }
  | { kind: "unit"; unit: string; state: "active" | "failed" | "reverted" | "skipped" };

export interface Failure {
  unit: string;
  message: string;
}

/** A definition deleted less than this long ago is left running, in case it comes back. */
export const DELETION_GRACE_MS = 2_000;

/**
 * A container's restart is that service's alone, as Kolla restarts one container: berthd orders
 * its restarts itself (one dependency level at a time), and a Requires= dependent restarts only
 * when it changed, in its own level, once this one is healthy again. Other units restart with
 * their dependents (restartTakesAlong).
 */
function jobMode(method: string, unit: GeneratedUnit | undefined): "replace" | "ignore-dependencies" {
  return method === "RestartUnit" && !restartTakesAlong(unit) ? "ignore-dependencies" : "replace";
}

/** What the log says when a job is queued, and when it is done. */
const VERBS = {
  StartUnit: ["starting", "active"],
  StopUnit: ["stopping", "stopped"],
  RestartUnit: ["restarting", "active"],
  ReloadUnit: ["reloading", "reloaded"],
} as const;

export interface ReconcileResult {
  plan: Plan;
  /** The configuration paths of the set (RestartOnChange=, ReloadOnChange=), for berthd to watch. */
  configPaths: string[];
  diagnostics: Diagnostic[];
  failures: Failure[];
  /** The set as this reconcile read it. */
  desired: GeneratedUnit[];
}


export function generatorDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  return join(runtimeDir(scope, env), "systemd/generator");
}

/** Units berth generated that systemd currently has, with their text. */
function loadedUnits(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  let names: string[] = [];
  try {
    names = readdirSync(dir).filter((n) => n.endsWith(".service"));
  } catch {
    return out;
  }
  for (const n of names) {
    try {
      const text = readFileSync(join(dir, n), "utf8");
      if (text.startsWith(GENERATED_HEADER)) out.set(n, text);
    } catch {
      // a symlink (Alias=) to a unit that is listed under its own name
    }
  }
  return out;
}

/** Units whose definition file is gone: a deliberate removal. */
function deletedUnits(desired: readonly GeneratedUnit[], records: readonly AcceptedUnit[], loaded: ReadonlyMap<string, string>): { units: string[]; bases: string[] } {
  const wanted = new Set(desired.map((u) => u.unitName));
  const units = new Set<string>();
  const bases: string[] = [];
  for (const r of records) {
    if (!wanted.has(r.unitName) && !existsSync(r.file)) {
      units.add(r.unitName);
      bases.push(r.base);
    }
  }
  for (const [name, text] of loaded) {
    const source = /^SourcePath=(.*)$/m.exec(text)?.[1]?.replaceAll("%%", "%");
    if (!wanted.has(name) && source !== undefined && !existsSync(source)) units.add(name);
  }
  return { units: [...units], bases };
}

/**
 * Deleted networks, volumes, images and pods that a unit still uses (its After=): stopping one would
 * stop the containers that require it, for a mistake in the set. It stays, with its record, until
 * nothing uses it; the user's definition reports the missing file.
 */
function stillUsed(desired: readonly GeneratedUnit[], records: ReadonlyMap<string, AcceptedUnit>, deleted: readonly string[]): Map<string, { key: string; message: string }> {
  const out = new Map<string, { key: string; message: string }>();
  const byUnit = new Map([...records.values()].map((r) => [r.unitName, r]));
  for (const unit of deleted) {
    const r = byUnit.get(unit);
    if (!r || (r.type ?? "container") === "container") continue;
    const users = desired.filter((u) => u.after.includes(unit)).map((u) => u.unitName);
    if (users.length > 0) out.set(unit, { key: r.base, message: `deleted, but ${users.join(", ")} still use ${unit}; it stays until nothing does` });
  }
  return out;
}

/**
 * Units whose definition now names another unit (`ServiceName=` changed): the old unit is stopped
 * like a deleted one, at once, since the file is there and the new unit will want its container
 * name. Its record is not forgotten: the new unit's replaces it when it starts.
 */
function renamedUnits(desired: readonly GeneratedUnit[], records: ReadonlyMap<string, AcceptedUnit>): Map<string, string> {
  const wanted = new Set(desired.map((u) => u.unitName));
  const out = new Map<string, string>();
  for (const u of desired) {
    const was = records.get(u.base)?.unitName;
    if (was !== undefined && was !== u.unitName && !wanted.has(was)) out.set(was, u.unitName);
  }
  return out;
}

async function observe(ctx: ReconcileContext, desired: readonly GeneratedUnit[], loaded: ReadonlyMap<string, string>, records: ReadonlyMap<string, AcceptedUnit>, extra: readonly string[]): Promise<{ observed: Map<string, Observed>; config: Map<string, ConfigNow> }> {
  const names = [...new Set([...desired.map((u) => u.unitName), ...extra])].filter((n) => !isTemplate(n));
  const [states, running] = await Promise.all([
    names.length > 0 ? ctx.systemd.call("ListUnitsByNames", "as", [names]) : Promise.resolve([[]]),
    ctx.docker.runningContainers(),
  ]);
  const listed = states[0] as Array<[string, string, string, string]>;
  const active = new Map(listed.map(([name, , , activeState]) => [name, activeState]));
  const masked = new Set(listed.filter(([, , loadState]) => loadState === "masked").map(([name]) => name));
  const observed = new Map<string, Observed>();
  const config = new Map<string, ConfigNow>();
  const dir = runtimeDir(ctx.scope, ctx.env ?? process.env);
  for (const u of desired) {
    const record = records.get(u.base);
    const container = running.get(u.unitName);
    const now = configNow(u, container?.config, dir);
    if (now) config.set(u.unitName, now);
    observed.set(u.unitName, {
      applied: record && record.unitName === u.unitName ? record : undefined,
      loadedText: loaded.get(u.unitName),
      activeState: active.get(u.unitName),
      masked: masked.has(u.unitName) || undefined,
      runningSpec: container?.spec,
      config: now?.change,
    });
  }
  for (const name of extra) if (!observed.has(name)) observed.set(name, { activeState: active.get(name) });
  return { observed, config };
}

/**
 * What a reconcile finds and would do. `berth plan` shows exactly this, and a reconcile does
 * exactly this, so the two cannot disagree.
 */
export interface Assessment {
  plan: Plan;
  diagnostics: Diagnostic[];
  desired: GeneratedUnit[];
  /** Units whose ServiceName= changed: old name → new name. */
  renamed: Map<string, string>;
  /** Records of definitions deleted for good, to forget once their units are stopped. */
  forget: string[];
  /** The configuration files of running units, as read now. */
  config: Map<string, ConfigNow>;
  records: Map<string, AcceptedUnit>;
  /** Reverted versions (RevertOnFailure=) by definition key, still in effect. */
  rejections: Map<string, Rejection>;
  /** Whether some recorded rejection no longer applies (its definition changed): rewrite them. */
  staleRejections: boolean;
  /** Units a restart of a unit they need left stopped (see plan()), as still to act on. */
  stoppedBy: Map<string, string>;
  /** The translation as the generator's run, and what it looked at (with ctx.generatorRun, and records all sound). */
  generatorRun?: { looks: Recording; run: Run };
}

export async function assess(ctx: ReconcileContext, now = Date.now()): Promise<Assessment> {
  // Read once, for the set's stand-ins and for the plan alike; a damaged one is one warning.
  const recordProblems: Diagnostic[] = [];
  const records = readAllAccepted(ctx.acceptedDir, (file, problem) => recordProblems.push(warning(file, 0, problem)));
  // As the generator translates, with the records read and its own looks noted (see generatorRun).
  const translate = (env: NodeJS.ProcessEnv) => {
    const rejected = readRejections(ctx.acceptedDir);
    // Where the generator would find the records, asked of the environment as it asks: a berthd
    // given another BERTH_STATE_DIR than the generator keeps no run (its looks say so).
    const generatorsRecords = acceptedDir(ctx.scope, env);
    return { rejected, generatorsRecords, set: loadSet({ scope: ctx.scope, env, acceptedDir: ctx.acceptedDir, records, rejections: rejected, definitionDigests: true }) };
  };
  const env = ctx.env ?? process.env;
  const translated = ctx.generatorRun ? observing(ctx.generatorRun.bundle, env, translate) : { value: translate(env), looks: undefined };
  const { rejected, set, generatorsRecords } = translated.value;
  // A damaged record is a warning the generator would give where berthd read it: not its run.
  const generatorRun = translated.looks && recordProblems.length === 0 && generatorsRecords === ctx.acceptedDir ? { looks: translated.looks, run: runOf(set, ctx.scope) } : undefined;
  // A rejection lasts while its version is what the definition says; an edit gives it a new try.
  const rejections = new Map(set.output.filter((u) => u.rejected).map((u) => [u.base, u.rejected!]));
  const loaded = loadedUnits(generatorDir(ctx.scope, ctx.env));
  const deleted = deletedUnits(set.output, [...records.values()], loaded);
  const { settled, waiting } = graceDeletions(deleted.units, ctx.missingSince, DELETION_GRACE_MS, now);
  const renamed = renamedUnits(set.output, records);
  const inUse = stillUsed(set.output, records, settled);
  const gone = [...new Set([...settled.filter((u) => !inUse.has(u)), ...renamed.keys()])];
  const { observed, config } = await observe(ctx, set.output, loaded, records, gone);
  const stoppedBy = stillStopped(readStoppedBy(stateDir(ctx.scope, ctx.env ?? process.env)), set.output, observed, new Set(waiting.map((w) => w.unit)));
  const p = plan(set.output, observed, gone, stoppedBy);
  // A deletion still in its grace period keeps its unit through a reload, and its record.
  p.waiting = waiting;
  const kept = new Set([...waiting.map((w) => w.unit), ...inUse.keys()]);
  const forget = deleted.bases.filter((b) => !kept.has(records.get(b)!.unitName));
  const diagnostics = recordProblems.concat(set.diagnostics, [...inUse].map(([unit, users]) => warning(records.get(users.key)?.file ?? unit, 0, users.message)));
  return { plan: p, diagnostics, desired: set.output, renamed, forget, config, records, rejections, staleRejections: rejections.size !== rejected.size, stoppedBy, ...(generatorRun ? { generatorRun } : {}) };
}

/**
 * One reconcile: validate the set, pull images the changes need, one daemon-reload, then start,
 * restart and stop only what changed (starts in dependency order, stops first), waiting for every
 * job's result. A version is recorded as applied once its job has ended "done".
 */
export async function reconcile(ctx: ReconcileContext): Promise<ReconcileResult> {
  const { log } = ctx;
  const tStart = Date.now();
  const { plan: p, diagnostics, desired, renamed, forget, config, records, rejections, staleRejections, stoppedBy, generatorRun } = await assess(ctx);
  for (const d of diagnostics) (d.severity === "error" ? log.error : log.warn).call(log, formatDiagnostic(d));
  log.debug(`assessed ${desired.length} definitions in ${Date.now() - tStart} ms`);
  const settles = nextSettleMs(p);
  if (settles !== undefined) log.info(`${p.waiting.map((w) => w.unit).join(", ")}: definition gone; stopping if it is still gone in ${Math.ceil(settles / 1000)} s`);
  for (const h of p.held) log.warn(`${h.unit}: not started or restarted: ${h.because}; the rollout resumes when that definition changes`);
  const byName = new Map(desired.map((u) => [u.unitName, u]));
  const failures: Failure[] = [];
  const fail = (unit: string, message: string): void => {
    failures.push({ unit, message });
    log.error(`${unit}: ${message}`);
  };
  const progress = ctx.onProgress ?? (() => undefined);
  if (staleRejections) writeRejections(ctx.acceptedDir, rejections);

  // A record that cannot be written fails its unit, not the whole reconcile. A pending one keeps
  // the version it replaces, for RevertOnFailure=.
  const record = (unit: GeneratedUnit, pending = false): void => {
    try {
      const previous = pending ? previousVersion(records.get(unit.base), unit) : undefined;
      writeAccepted(ctx.acceptedDir, unit, { pending, previous });
      records.set(unit.base, { ...unit, acceptedAt: new Date().toISOString(), ...(pending ? { pending: true as const, previous } : {}) });
    } catch (e) {
      fail(unit.unitName, `cannot record its accepted version in ${ctx.acceptedDir}: ${(e as Error).message}`);
    }
  };

  /** Units taken along by a restart already queued → the job systemd queued for each, if any. */
  const along = new Map<string, Promise<string | undefined>>();
  const followAlong = (root: string): void => {
    for (const [name, by] of p.takenAlong) if (by === root) along.set(name, ctx.systemd.unitJob(name).catch(() => undefined));
  };
  // The units a restart with dependents stops are noted before it is queued, so that neither its
  // failure nor berthd's death leaves them down: a later plan() starts them. Each leaves the note
  // once it is seen up again, at the end of a reconcile or in the next one's assessment.
  const stateFile = stateDir(ctx.scope, ctx.env ?? process.env);
  const keepStoppedBy = (): void => {
    try {
      writeStoppedBy(stateFile, stoppedBy);
    } catch (e) {
      log.warn(`cannot write ${stateFile}/stopped-by.json: ${(e as Error).message}`);
    }
  };
  const noteCarried = (root: string): void => {
    const carried = p.carried.get(root) ?? [];
    for (const unit of carried) stoppedBy.set(unit, root);
    if (carried.length > 0) keepStoppedBy();
  };

  /** Queues the jobs at once and waits for them all; the names of those that did not end "done". */
  const run = async (method: keyof typeof VERBS, names: readonly string[]): Promise<Array<{ name: string; result: string }>> => {
    const jobs = names.map((name) => {
      const why = p.why.get(name) ? ` (${p.why.get(name)})` : "";
      const u = byName.get(name);
      const unit = u && !u.acceptedFrom ? u : undefined;
      // Pending until the job reports: a berthd killed meanwhile finds out on its next start.
      if (unit) record(unit, true);
      const queue = (): Promise<JobResult> => {
        log.info(`${name}: ${VERBS[method][0]}${why}`);
        if (method === "RestartUnit") noteCarried(name);
        return ctx.systemd.job(method, name, { mode: jobMode(method, u), queued: () => followAlong(name) });
      };
      // The restart another unit's restart queued for this one, followed instead of a second one;
      // without such a job, or when it left the unit stopped, berthd restarts it itself.
      const follow = async (job: string): Promise<JobResult> => {
        log.info(`${name}: restarting with ${p.takenAlong.get(name)}${why}`);
        const r = await ctx.systemd.jobResult(job, name);
        const running = r.result !== "done" || (await ctx.systemd.property(name, "Unit", "ActiveState")) === "active";
        return running ? r : queue();
      };
      const taken = method === "RestartUnit" ? along.get(name) : undefined;
      return (taken ? taken.then((job) => (job === undefined ? queue() : follow(job))) : queue()).then((r) => ({ name, r, unit }), (e: Error) => ({ name, r: { unit: name, result: e.message }, unit }));
    });
    const failed: Array<{ name: string; result: string }> = [];
    for (const { name, r, unit } of await Promise.all(jobs)) {
      if (r.result === "done") {
        if (unit) record(unit);
        if (method === "ReloadUnit") config.get(name)?.afterReload();
        log.info(`${name}: ${VERBS[method][1]}`);
        progress({ kind: "unit", unit: name, state: "active" });
      } else if (r.result === "pending") {
        // Still starting (a long first start, a slow health check): systemd sees it through, and
        // its record stays pending until a later reconcile sees how it ended. It is not up yet,
        // so a rollout does not go past it.
        log.warn(`${name}: ${method} has no result after ${JOB_WAIT_MINUTES} minutes; left to systemd`);
        failed.push({ name, result: r.result });
      } else {
        failed.push({ name, result: r.result });
        progress({ kind: "unit", unit: name, state: "failed" });
        if (method === "StopUnit" || method === "ReloadUnit") fail(name, `${method} ended with "${r.result}"`);
      }
    }
    return failed;
  };

  // Every image first, in parallel, so that the restarts are the only downtime; if one cannot be
  // pulled nothing is started or restarted, and every running container is left as it is.
  const pullFailures = await pullImages(ctx, [...p.start, ...p.restart].map((n) => byName.get(n)!).filter((u) => u !== undefined), progress);
  if (pullFailures.length > 0) {
    for (const f of pullFailures) fail(f.unit, f.message);
    const held = [...p.start, ...p.restart].filter((n) => !pullFailures.some((f) => f.unit === n));
    if (held.length > 0) log.warn(`not started or restarted until every image is here: ${held.join(", ")}`);
    p.start = [];
    p.restart = [];
  }

  /**
   * Starts and restarts one dependency level at a time: a level begins once every job of the level
   * below ended "done", that is active and, with a health check, healthy. The first failure stops
   * the rollout there; the levels above keep running what they ran.
   */
  const rollout = async (): Promise<void> => {
    const starts = new Set(p.start);
    const levels = rolloutLevels(desired, [...p.start, ...p.restart]);
    for (let i = 0; i < levels.length; i++) {
      const level = levels[i]!;
      if (levels.length > 1) {
        log.info(`rollout level ${i + 1} of ${levels.length}: ${level.join(", ")}`);
        progress({ kind: "level", index: i, of: levels.length, units: level });
      }
      const failed = (await Promise.all([run("StartUnit", level.filter((n) => starts.has(n))), run("RestartUnit", level.filter((n) => !starts.has(n)))])).flat();
      for (const f of failed) {
        if (f.result === "pending") fail(f.name, `still starting after ${JOB_WAIT_MINUTES} minutes; the levels above it wait until it is up`);
        else await failedInRollout(f.name, `${starts.has(f.name) ? "StartUnit" : "RestartUnit"} ended with "${f.result}"`);
        const stopped = p.carried.get(f.name) ?? [];
        if (stopped.length > 0 && f.result !== "pending") log.warn(`${stopped.join(", ")}: stopped with ${f.name}, whose restart failed; started again once it is up`);
      }
      if (failed.length > 0) {
        const left = levels.slice(i + 1).flat();
        if (left.length > 0) log.warn(`rollout stopped at level ${i + 1}: ${failed.map((f) => `${f.name} ${f.result === "pending" ? "is still starting" : "failed"}`).join(", ")}; not started or restarted: ${left.join(", ")}`);
        for (const name of left) progress({ kind: "unit", unit: name, state: "skipped" });
        // What was not done is not reported as done (berth apply, the actions berthd keeps).
        const notDone = new Set([...left, ...failed.map((f) => f.name)]);
        p.start = p.start.filter((n) => !notDone.has(n));
        p.restart = p.restart.filter((n) => !notDone.has(n));
        return;
      }
    }
  };

  /** A failed start or restart: reverted to the version before (RevertOnFailure=), or tried again later. */
  const failedInRollout = async (name: string, what: string): Promise<void> => {
    const u = byName.get(name);
    const previous = u ? records.get(u.base)?.previous : undefined;
    if (!u?.revertOnFailure || !previous || u.acceptedFrom) {
      fail(name, `${what}; it is tried again`);
      return;
    }
    const at = new Date().toISOString();
    rejections.set(u.base, { text: digest(u.text), source: u.source, spec: u.spec, at, why: what });
    writeRejections(ctx.acceptedDir, rejections);
    restoreAccepted(ctx.acceptedDir, previous);
    records.set(u.base, previous);
    log.warn(`${name}: ${what}; reverting to the version accepted at ${previous.acceptedAt} (RevertOnFailure=yes)`);
    await ctx.systemd.reload();
    const r = await ctx.systemd.job("RestartUnit", name, { mode: jobMode("RestartUnit", u) }).catch((e: Error) => ({ unit: name, result: e.message }));
    const outcome = r.result === "done" ? `reverted to the version accepted at ${previous.acceptedAt}` : `reverting to the version accepted at ${previous.acceptedAt} ended with "${r.result}" too`;
    fail(name, `${what}; ${outcome}; the new version stays rejected until its definition changes`);
    progress({ kind: "unit", unit: name, state: "reverted" });
  };

  // A renamed unit whose successor will not start (its pull failed) keeps running as it is.
  const starting = new Set([...p.start, ...p.restart]);
  const leaving = p.stop.filter((name) => !renamed.has(name) || starting.has(renamed.get(name)!));

  // A deleted template takes its running instances with it.
  const stops: string[] = [];
  for (const name of leaving) {
    if (!isTemplate(name)) {
      stops.push(name);
      continue;
    }
    const [instances] = (await ctx.systemd.call("ListUnitsByPatterns", "asas", [[], [name.replace(/@\.service$/, "@*.service")]])) as [Array<[string, string, string, string]>];
    for (const [unit, , , active] of instances) if (active !== "inactive") stops.push(unit);
  }
  // An instance can also be listed on its own (its file deleted or renamed with the template).
  p.stop = [...new Set(stops)];

  // Stop removed units while systemd still has their unit files: once reloaded they are
  // "not-found" and have lost their ExecStop=/ExecStopPost=, so nothing would remove the container.
  await run("StopUnit", p.stop);
  for (const name of p.stop) {
    await ctx.systemd.resetFailed(name);
    await ctx.docker.removeUnitContainer(name).catch((e: Error) => fail(name, `cannot remove its container: ${e.message}`));
  }
  for (const base of forget) forgetAccepted(ctx.acceptedDir, base);

  if (p.reload) {
    if (generatorRun) ctx.generatorRun?.keep(generatorRun.looks, generatorRun.run);
    log.info("reloading systemd");
    const t0 = Date.now();
    await ctx.systemd.reload();
    log.info(`reloaded systemd in ${Date.now() - t0} ms`);
  }
  for (const name of [...p.start, ...p.restart]) {
    const state = await ctx.systemd.loadState(name).catch((e: Error) => e.message);
    if (state !== "loaded") {
      fail(name, `systemd did not load the unit (LoadState=${state}); see systemd-analyze verify`);
      p.start = p.start.filter((n) => n !== name);
      p.restart = p.restart.filter((n) => n !== name);
    }
  }
  for (const name of p.deferred) record(byName.get(name)!);
  for (const name of p.confirmed) {
    const unit = byName.get(name)!;
    if (!unit.acceptedFrom) record(unit);
  }
  for (const name of p.rerendered) {
    const unit = byName.get(name)!;
    if (unit.acceptedFrom) continue;
    log.info(`${name}: this berth writes its unit differently, from the same definition and for the same container; it keeps running, and the new unit applies from its next start`);
    record(unit);
  }

  await rollout();
  await run("ReloadUnit", p.reloadInPlace);
  // A unit that runs again (its own start, or a restart that brought it back) leaves the note now,
  // so that a stop by its operator afterwards is theirs to keep; one still down stays on it.
  for (const unit of [...stoppedBy.keys()]) {
    const state = await ctx.systemd.property(unit, "Unit", "ActiveState").catch(() => undefined);
    if (isUp(state as string | undefined)) stoppedBy.delete(unit);
  }
  if (JSON.stringify([...stoppedBy]) !== JSON.stringify([...readStoppedBy(stateFile)])) keepStoppedBy();
  const configPaths = [...new Set(desired.flatMap((u) => (u.config ? u.config.restart.concat(u.config.reload) : [])))];
  return { plan: p, diagnostics, failures, configPaths, desired };
}
