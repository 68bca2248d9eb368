import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { forgetAccepted, readAllAccepted, writeAccepted, type AcceptedUnit } from "../generator/accepted-store.js";
import { formatDiagnostic, type Diagnostic } from "../generator/diagnostics.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { GENERATED_HEADER } from "../generator/labels.js";
import { loadSet } from "../generator/load-set.js";
import type { Scope } from "../generator/search-path.js";
import type { DockerClient } from "./docker.js";
import type { Logger } from "./log.js";
import { isTemplate, plan, type Observed, type Plan } from "./plan.js";
import type { SystemdClient } from "./systemd-client.js";

export interface ReconcileContext {
  scope: Scope;
  systemd: SystemdClient;
  docker: DockerClient;
  log: Logger;
  stateDir: string;
  env?: NodeJS.ProcessEnv;
  /**
   * berthd acts on a deleted definition only once it has stayed deleted this long: tools that
   * delete and recreate, a `git checkout`, a directory mounted late must not stop a service.
   * When a deletion is still young, the result's `retryAfterMs` says when to look again.
   */
  deletionGrace?: { ms: number; missingSince: Map<string, number> };
}

export interface Failure {
  unit: string;
  message: string;
}

export interface ReconcileResult {
  plan: Plan;
  diagnostics: Diagnostic[];
  failures: Failure[];
  reloaded: boolean;
  retryAfterMs?: number;
}


export function generatorDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  if (scope === "system") return "/run/systemd/generator";
  return join(env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`, "systemd/generator");
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

/** Keeps only deletions older than the grace period; the rest wait for a later reconcile. */
function settledDeletions(ctx: ReconcileContext, d: { units: string[]; bases: string[] }, records: ReadonlyMap<string, AcceptedUnit>): { units: string[]; bases: string[]; retryAfterMs?: number } {
  const grace = ctx.deletionGrace;
  if (!grace) return d;
  const now = Date.now();
  const seen = new Set(d.units);
  for (const unit of grace.missingSince.keys()) if (!seen.has(unit)) grace.missingSince.delete(unit);
  let retryAfterMs: number | undefined;
  const young = new Set<string>();
  for (const unit of d.units) {
    const since = grace.missingSince.get(unit) ?? now;
    grace.missingSince.set(unit, since);
    const left = since + grace.ms - now;
    if (left > 0) {
      young.add(unit);
      retryAfterMs = Math.min(retryAfterMs ?? left, left);
    }
  }
  if (young.size === 0) return d;
  ctx.log.info(`${[...young].join(", ")}: definition gone; stopping if it is still gone in ${Math.ceil((retryAfterMs ?? 0) / 1000)} s`);
  // A young deletion's unit must also survive the reload: keep its record until it is settled.
  const youngBases = new Set([...records.values()].filter((r) => young.has(r.unitName)).map((r) => r.base));
  return { units: d.units.filter((u) => !young.has(u)), bases: d.bases.filter((b) => !youngBases.has(b)), retryAfterMs };
}

async function observe(ctx: ReconcileContext, desired: readonly GeneratedUnit[], loaded: ReadonlyMap<string, string>, records: ReadonlyMap<string, AcceptedUnit>, extra: readonly string[]): Promise<Map<string, Observed>> {
  const names = [...new Set([...desired.map((u) => u.unitName), ...extra])].filter((n) => !isTemplate(n));
  const [states, specs] = await Promise.all([
    names.length > 0 ? ctx.systemd.call("ListUnitsByNames", "as", [names]) : Promise.resolve([[]]),
    ctx.docker.runningSpecs(),
  ]);
  const active = new Map((states[0] as Array<[string, string, string, string]>).map(([name, , , activeState]) => [name, activeState]));
  const out = new Map<string, Observed>();
  for (const u of desired) {
    const record = records.get(u.base);
    out.set(u.unitName, {
      applied: record && record.unitName === u.unitName ? record : undefined,
      loadedText: loaded.get(u.unitName),
      activeState: active.get(u.unitName),
      runningSpec: specs.get(u.unitName),
    });
  }
  for (const name of extra) if (!out.has(name)) out.set(name, { activeState: active.get(name) });
  return out;
}

/** Reads the set and works out what a reconcile would do, without doing it (`berth plan`). */
export async function preview(ctx: ReconcileContext): Promise<{ plan: Plan; diagnostics: Diagnostic[]; desired: GeneratedUnit[] }> {
  const set = loadSet({ scope: ctx.scope, ...(ctx.env ? { env: ctx.env } : {}), stateDir: ctx.stateDir });
  const loaded = loadedUnits(generatorDir(ctx.scope, ctx.env));
  const records = readAllAccepted(ctx.stateDir, (file, problem) => ctx.log.warn(`${file}: ${problem}`));
  const gone = [...new Set([...deletedUnits(set.output, [...records.values()], loaded).units, ...renamedUnits(set.output, records).keys()])];
  const observed = await observe(ctx, set.output, loaded, records, gone);
  return { plan: plan(set.output, observed, gone), diagnostics: set.diagnostics, desired: set.output };
}

/**
 * One reconcile: validate the set, pull images the changes need, one daemon-reload, then start,
 * restart and stop only what changed (starts in dependency order, stops first), waiting for every
 * job's result.
 */
export async function reconcile(ctx: ReconcileContext): Promise<ReconcileResult> {
  const { log } = ctx;
  const tStart = Date.now();
  const set = loadSet({ scope: ctx.scope, ...(ctx.env ? { env: ctx.env } : {}), stateDir: ctx.stateDir });
  for (const d of set.diagnostics) (d.severity === "error" ? log.error : log.warn).call(log, formatDiagnostic(d));
  const loaded = loadedUnits(generatorDir(ctx.scope, ctx.env));
  const records = readAllAccepted(ctx.stateDir, (file, problem) => ctx.log.warn(`${file}: ${problem}`));
  const deleted = settledDeletions(ctx, deletedUnits(set.output, [...records.values()], loaded), records);
  const renamed = renamedUnits(set.output, records);
  const gone = [...new Set([...deleted.units, ...renamed.keys()])];
  const tLoaded = Date.now();
  const observed = await observe(ctx, set.output, loaded, records, gone);
  const p = plan(set.output, observed, gone);
  log.debug(`read ${set.output.length} definitions in ${tLoaded - tStart} ms, observed systemd and Docker in ${Date.now() - tLoaded} ms`);
  const byName = new Map(set.output.map((u) => [u.unitName, u]));
  const failures: Failure[] = [];
  const fail = (unit: string, message: string): void => {
    failures.push({ unit, message });
    log.error(`${unit}: ${message}`);
  };

  const run = async (method: "StartUnit" | "StopUnit" | "RestartUnit", names: readonly string[]): Promise<void> => {
    // All jobs are queued at once; systemd orders them by After=, in the order given for ties.
    const jobs = names.map((name) => {
      log.info(`${name}: ${method === "StartUnit" ? "starting" : method === "StopUnit" ? "stopping" : "restarting"}`);
      const job = ctx.systemd.job(method, name);
      const unit = byName.get(name);
      if (unit && !unit.acceptedFrom) writeAccepted(ctx.stateDir, unit);
      return job.then((r) => ({ name, r }), (e: Error) => ({ name, r: { unit: name, result: e.message } }));
    });
    for (const { name, r } of await Promise.all(jobs)) {
      if (r.result === "done") log.info(`${name}: ${method === "StopUnit" ? "stopped" : "active"}`);
      else fail(name, `${method} ended with "${r.result}"`);
    }
  };

  // Pull first, so the restart is the only downtime; a failed pull leaves the old container up.
  for (const name of [...p.start, ...p.restart]) {
    const unit = byName.get(name);
    const image = unit?.image;
    if (!image || unit.pull === "never" || image.includes("%") || (await ctx.docker.hasImage(image).catch(() => true))) continue;
    log.info(`${name}: pulling ${image}`);
    try {
      await ctx.docker.pull(image, (line) => log.info(`${name}: ${image}: ${line}`));
    } catch (e) {
      fail(name, `cannot pull ${image}: ${(e as Error).message}; the running container is left as it is`);
      p.start = p.start.filter((n) => n !== name);
      p.restart = p.restart.filter((n) => n !== name);
    }
  }

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
  for (const base of deleted.bases) forgetAccepted(ctx.stateDir, base);

  let reloaded = false;
  if (p.reload) {
    log.info("reloading systemd");
    const t0 = Date.now();
    await ctx.systemd.reload();
    log.info(`reloaded systemd in ${Date.now() - t0} ms`);
    reloaded = true;
  }
  for (const name of [...p.start, ...p.restart]) {
    const state = await ctx.systemd.loadState(name).catch((e: Error) => e.message);
    if (state !== "loaded") {
      fail(name, `systemd did not load the unit (LoadState=${state}); see systemd-analyze verify`);
      p.start = p.start.filter((n) => n !== name);
      p.restart = p.restart.filter((n) => n !== name);
    }
  }
  for (const name of p.deferred) writeAccepted(ctx.stateDir, byName.get(name)!);

  await run("StartUnit", p.start);
  await run("RestartUnit", p.restart);
  return { plan: p, diagnostics: set.diagnostics, failures, reloaded, ...(deleted.retryAfterMs ? { retryAfterMs: deleted.retryAfterMs } : {}) };
}
