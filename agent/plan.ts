import { describePaths, type ConfigChange } from "../generator/config-manifest.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { runsContainer } from "../generator/names.js";

/** What berthd knows about one unit before it acts. */
export interface Observed {
  /**
   * The unit as berthd last applied it (the accepted record), if ever. `pending` while its job
   * has no result yet, or when the job did not end in "done".
   */
  applied?: { text: string; file: string; spec?: string; source?: string | undefined; pending?: boolean | undefined } | undefined;
  /** The unit file systemd currently has from the generator, if any. */
  loadedText?: string | undefined;
  activeState?: string | undefined;
  /** Masked by its operator (`systemctl mask`): never started by berthd. */
  masked?: boolean | undefined;
  /** The spec label of the unit's container, when one is running. */
  runningSpec?: string | undefined;
  /** Configuration files (RestartOnChange=, ReloadOnChange=) changed since its container read them. */
  config?: ConfigChange | undefined;
}

export interface Plan {
  /** Whether systemd must re-run the generator to see the set as it is now. */
  reload: boolean;
  start: string[];
  restart: string[];
  /** Running units told to reload their configuration (ReloadOnChange=), in place. */
  reloadInPlace: string[];
  /** Why a unit is restarted or reloaded, for the log and `berth plan`. */
  why: Map<string, string>;
  /** Units whose definition file was deleted (and stayed deleted), or whose ServiceName= changed. */
  stop: string[];
  /** Deleted too recently to act on, with the milliseconds left before they are stopped. */
  waiting: Array<{ unit: string; leftMs: number }>;
  /** Changed, but stopped by the operator: the new version applies at their next start. */
  deferred: string[];
  unchanged: string[];
  /**
   * Unchanged units whose record is written anew: a pending one borne out (the unit runs that
   * version), or one whose definition changed in a way the unit does not show.
   */
  confirmed: string[];
  /**
   * Running units that another berth renders differently, from the same definition into the same
   * container: their record takes the new text, and systemd's copy applies from their next start.
   */
  rerendered: string[];
  /**
   * Changed units not started or restarted because a unit they are ordered after was reverted
   * (RevertOnFailure=): a rollout stays stopped where it failed until that definition changes.
   */
  held: Array<{ unit: string; because: string }>;
  /**
   * Changed units that another unit's restart restarts in its own transaction (a pod's members, a
   * network's containers): unit → that unit. berthd follows the job systemd queued for them
   * instead of restarting them a second time.
   */
  takenAlong: Map<string, string>;
  /**
   * For each restart with dependents, every running unit it stops and starts again with it: if
   * that restart fails, berthd starts them once the unit they need is up (see `stoppedBy`).
   */
  carried: Map<string, string[]>;
}

/** A template (`worker@.service`) is not a unit systemd can start or list; its instances are. */
export const isTemplate = (unit: string): boolean => unit.endsWith("@.service");

const RUNNING = new Set(["active", "activating", "reloading", "failed"]);
const UP = new Set(["active", "activating", "reloading"]);
/** Running, or on its way up: a unit a failed restart stopped is so no longer. */
export const isUp = (activeState: string | undefined): boolean => UP.has(activeState ?? "");

/**
 * Whether berthd restarts a unit with its dependents (job mode "replace"). A container's restart
 * is that service's alone; a network's, volume's, image's or pod's takes the containers that
 * require it along, since they must join the new network or the pod's new holder.
 */
export const restartTakesAlong = (u: GeneratedUnit | undefined): boolean => (u?.type ?? "container") !== "container";

/**
 * Decides what a reconcile does. A unit is changed when its text differs from what berthd last
 * applied, or when its running container was made from another spec (this also catches an edit
 * that someone else's daemon-reload already loaded). Removal is only ever a deleted file: an
 * invalid definition keeps its accepted version and is never stopped.
 */
export function plan(
  desired: readonly GeneratedUnit[],
  observed: ReadonlyMap<string, Observed>,
  deletedUnits: readonly string[],
  /**
   * Units that a failed restart of another left stopped (unit → that unit): they are started,
   * not left for the operator, whose own stop this was not.
   */
  stoppedBy: ReadonlyMap<string, string> = new Map(),
): Plan {
  const p: Plan = { reload: deletedUnits.length > 0, start: [], restart: [], reloadInPlace: [], why: new Map(), stop: [], waiting: [], deferred: [], unchanged: [], confirmed: [], rerendered: [], held: [], takenAlong: new Map(), carried: new Map() };
  for (const u of desired) {
    const o = observed.get(u.unitName) ?? {};
    if (o.loadedText !== u.text) p.reload = true;
    // A template only needs systemd to see it; its instances are started on their own.
    if (isTemplate(u.unitName)) continue;
    const a = o.applied;
    // A pending record is borne out when the unit visibly runs that version (berthd died waiting
    // for a job that went through), and left alone while that version is still starting (a
    // restart would cancel the start). Otherwise its job failed, and it is tried again. A unit
    // that runs no container (a network's, a volume's) shows its version by being active.
    const rerendered = a !== undefined && a.text !== u.text && isRerendered(a, u, o);
    const same = a !== undefined && (a.text === u.text || rerendered) && (o.runningSpec === undefined || o.runningSpec === u.spec);
    const bornOut = a?.pending === true && same && o.activeState === "active" && (!runsContainer(u.type) || o.runningSpec === u.spec);
    const starting = a?.pending === true && same && o.activeState === "activating";
    const done = a !== undefined && (!a.pending || bornOut);
    const config = o.activeState === "active" ? o.config : undefined;
    const leftStopped = stoppedBy.get(u.unitName);
    if (!a) p.start.push(u.unitName);
    else if (starting) p.unchanged.push(u.unitName);
    else if (leftStopped !== undefined && !isUp(o.activeState)) {
      p.start.push(u.unitName);
      p.why.set(u.unitName, `stopped with the restart of ${leftStopped}`);
    }
    else if (done && same && config?.restart.length) {
      p.restart.push(u.unitName);
      p.why.set(u.unitName, `configuration changed (${describePaths(config.restart)})`);
    } else if (done && same && config?.reload.length) {
      p.reloadInPlace.push(u.unitName);
      p.why.set(u.unitName, `configuration changed (${describePaths(config.reload)})`);
    } else if (done && same) p.unchanged.push(u.unitName);
    else if (RUNNING.has(o.activeState ?? "")) {
      p.restart.push(u.unitName);
      p.why.set(u.unitName, a.text !== u.text ? "definition changed" : !done ? "its last start or restart failed" : "its container was made from another version");
    }
    else if (!done) p.start.push(u.unitName);
    else p.deferred.push(u.unitName);
    if (bornOut) p.confirmed.push(u.unitName);
    else if (rerendered && done && same) p.rerendered.push(u.unitName);
    // An edit that leaves the unit as it was ([Install], a comment-like key berth ignores) restarts
    // nothing, but the record must know the definition, or a later berth would take it as changed.
    else if (done && same && a.text === u.text && u.source !== undefined && a.source !== u.source) p.confirmed.push(u.unitName);
  }
  // A unit a failed restart stopped is not part of a rollout, and is not held back by one.
  const reverted = revertedBelow(desired);
  for (const name of stoppedBy.keys()) reverted.delete(name);
  if (reverted.size > 0) {
    for (const list of [p.start, p.restart]) {
      for (const name of list.filter((n) => reverted.has(n))) {
        p.held.push({ unit: name, because: `${reverted.get(name)} was reverted` });
        p.why.delete(name);
      }
      list.splice(0, list.length, ...list.filter((n) => !reverted.has(n)));
    }
  }
  const order = startOrder(desired);
  const byOrder = (a: string, b: string) => (order.get(a) ?? 0) - (order.get(b) ?? 0);
  p.start.sort(byOrder);
  p.restart.sort(byOrder);
  p.reloadInPlace.sort(byOrder);
  // In start order, so that a unit that is itself taken along passes what it takes to its root.
  // berthd follows a unit only from a level above its root's, once the root's job is queued.
  const levels = new Map(rolloutLevels(desired, [...p.start, ...p.restart]).flatMap((names, level) => names.map((n) => [n, level] as const)));
  const along = restartsCarried(desired, observed, p.restart);
  p.carried = along.carried;
  p.takenAlong = new Map([...along.taken].filter(([name, root]) => levels.get(name)! > levels.get(root)!));
  p.stop = [...deletedUnits];
  return p;
}

/**
 * Whether only berth's rendering of a running unit changed: an upgrade of berth must not restart
 * every service. The unit is active with the spec applied, its container (if it runs one) has that
 * spec, and the definition is the one applied. A record of a berth before definition digests has
 * none to compare: there, the same spec is taken as the same version once, and the record gains
 * the digest.
 */
function isRerendered(a: NonNullable<Observed["applied"]>, u: GeneratedUnit, o: Observed): boolean {
  if (u.source === undefined || a.spec !== u.spec || o.activeState !== "active") return false;
  // A network's, volume's or image's unit shows its version only by being active; restarting it
  // would take its containers along.
  if (runsContainer(u.type) && o.runningSpec !== u.spec) return false;
  return a.source === undefined || a.source === u.source;
}

/** Units ordered after (After=, transitively) a unit that runs a reverted version: unit → that unit. */
function revertedBelow(units: readonly GeneratedUnit[]): Map<string, string> {
  const byName = new Map(units.map((u) => [u.unitName, u]));
  const out = new Map<string, string>();
  const roots = units.filter((u) => u.rejected).map((u) => u.unitName);
  if (roots.length === 0) return out;
  // Walk the edges backwards, from each reverted unit to what is ordered after it.
  const dependents = new Map<string, string[]>();
  for (const u of units) for (const dep of u.after) if (byName.has(dep)) dependents.set(dep, [...(dependents.get(dep) ?? []), u.unitName]);
  for (const root of roots) {
    const stack = [root];
    while (stack.length > 0) {
      for (const next of dependents.get(stack.pop()!) ?? []) {
        if (out.has(next) || next === root) continue;
        out.set(next, root);
        stack.push(next);
      }
    }
  }
  return out;
}

/**
 * The entries of `stoppedBy` (see plan()) still to act on: a unit that is up again leaves, and so
 * do one its operator masked and one whose definition is gone for good; one deleted within its
 * grace period stays.
 */
export function stillStopped(stoppedBy: ReadonlyMap<string, string>, desired: readonly GeneratedUnit[], observed: ReadonlyMap<string, Observed>, waiting: ReadonlySet<string>): Map<string, string> {
  const defined = new Set(desired.map((u) => u.unitName));
  return new Map([...stoppedBy].filter(([unit]) => {
    const o = observed.get(unit);
    return defined.has(unit) ? !isUp(o?.activeState) && !o?.masked : waiting.has(unit);
  }));
}

/**
 * The restarts that systemd carries from a restart with dependents to the running units that
 * require it, transitively, as try-restarts (a unit that is not running stays as it is).
 */
function restartsCarried(units: readonly GeneratedUnit[], observed: ReadonlyMap<string, Observed>, restart: readonly string[]): { taken: Map<string, string>; carried: Map<string, string[]> } {
  const byName = new Map(units.map((u) => [u.unitName, u]));
  const dependents = new Map<string, string[]>();
  for (const u of units) {
    const state = observed.get(u.unitName)?.activeState;
    if (state !== "active" && state !== "reloading") continue;
    for (const dep of u.restartedWith ?? []) dependents.set(dep, [...(dependents.get(dep) ?? []), u.unitName]);
  }
  const restarting = new Set(restart);
  const taken = new Map<string, string>();
  const carried = new Map<string, string[]>();
  for (const root of restart) {
    if (!restartTakesAlong(byName.get(root))) continue;
    const seen = new Set([root]);
    const stack = [root];
    while (stack.length > 0) {
      for (const next of dependents.get(stack.pop()!) ?? []) {
        if (seen.has(next)) continue;
        seen.add(next);
        stack.push(next);
        if (restarting.has(next) && !taken.has(next)) taken.set(next, root);
      }
    }
    seen.delete(root);
    if (seen.size > 0) carried.set(root, [...seen]);
  }
  return { taken, carried };
}

/**
 * The units of a rollout in levels: a unit's level is one above the highest of the units in the
 * same batch it is ordered after, so each level needs only levels below it to be up.
 */
export function rolloutLevels(units: readonly GeneratedUnit[], names: readonly string[]): string[][] {
  const byName = new Map(units.map((u) => [u.unitName, u]));
  const batch = new Set(names);
  const level = new Map<string, number>();
  // startOrder puts every unit after those it is ordered after, so one pass in that order suffices.
  const order = startOrder(units);
  for (const name of [...names].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) {
    const deps = (byName.get(name)?.after ?? []).filter((d) => batch.has(d) && d !== name);
    level.set(name, Math.max(0, ...deps.map((d) => (level.get(d) ?? -1) + 1)));
  }
  const out: string[][] = [];
  for (const name of [...names].sort((a, b) => (order.get(a) ?? 0) - (order.get(b) ?? 0))) (out[level.get(name)!] ??= []).push(name);
  return out.filter((l) => l !== undefined);
}

/**
 * berthd acts on a deleted definition only once it has stayed deleted `graceMs`: tools that delete
 * and recreate, a `git checkout`, a directory mounted late must not stop a service. `missingSince`
 * (unit → when first seen missing) is updated in place: units no longer missing leave it.
 */
export function graceDeletions(units: readonly string[], missingSince: Map<string, number>, graceMs: number, now: number): { settled: string[]; waiting: Plan["waiting"] } {
  const missing = new Set(units);
  for (const unit of missingSince.keys()) if (!missing.has(unit)) missingSince.delete(unit);
  const settled: string[] = [];
  const waiting: Plan["waiting"] = [];
  for (const unit of units) {
    const since = missingSince.get(unit) ?? now;
    missingSince.set(unit, since);
    const leftMs = since + graceMs - now;
    if (leftMs > 0) waiting.push({ unit, leftMs });
    else settled.push(unit);
  }
  return { settled, waiting };
}

/** When the first deletion still in its grace period settles, if any: the time to look again. */
export function nextSettleMs(p: Plan): number | undefined {
  return p.waiting.length > 0 ? Math.min(...p.waiting.map((w) => w.leftMs)) : undefined;
}

/**
 * Dependencies first (After=), by depth-first topological order; cycles are refused earlier. The
 * walk keeps its own stack, so that an After= chain of thousands of units cannot overflow the
 * call stack.
 */
export function startOrder(units: readonly GeneratedUnit[]): Map<string, number> {
  const byName = new Map(units.map((u) => [u.unitName, u]));
  const order = new Map<string, number>();
  const visiting = new Set<string>();
  const stack: Array<{ name: string; after: readonly string[]; next: number }> = [];
  const enter = (u: GeneratedUnit): void => {
    visiting.add(u.unitName);
    stack.push({ name: u.unitName, after: u.after, next: 0 });
  };
  for (const root of [...units].sort((a, b) => (a.unitName < b.unitName ? -1 : 1))) {
    if (order.has(root.unitName)) continue;
    enter(root);
    while (stack.length > 0) {
      const top = stack.at(-1)!;
      const dep = top.after[top.next++];
      if (dep === undefined) {
        stack.pop();
        visiting.delete(top.name);
        order.set(top.name, order.size);
        continue;
      }
      const u = byName.get(dep);
      if (u && !order.has(dep) && !visiting.has(dep)) enter(u);
    }
  }
  return order;
}
