import { error, type Diagnostic } from "./diagnostics.js";
import { addressesCollide, firstOverlap, indexPorts, type PortHit, type PortIndex } from "./publish-port.js";
import { definitionKey, fileNameOfKey } from "./names.js";
import type { Translated } from "./translate.js";

/**
 * Checks that only make sense across the whole set of definitions. `written` holds those that get
 * a unit (their own or their accepted version).
 */
export function validateSet(units: readonly Translated[], searched: readonly string[], written: ReadonlySet<Translated>): Diagnostic[] {
  return [...missingReferences(units, searched, written), ...orderingCycles(units), ...portConflicts(units)];
}

function missingReferences(units: readonly Translated[], searched: readonly string[], written: ReadonlySet<Translated>): Diagnostic[] {
  const out: Diagnostic[] = [];
  const defined = new Set(units.map((u) => definitionKey(u.definition.name)));
  const templates = new Map(units.filter((u) => u.definition.name.kind === "template" && u.type === "container").map((u) => [u.definition.name.prefix, u]));
  for (const u of units) {
    for (const d of u.dependencies) {
      if (d.definition === undefined || defined.has(d.definition)) continue;
      const at = d.definition.indexOf("@");
      const template = at > 0 ? templates.get(d.definition.slice(0, at)) : undefined;
      if (template && written.has(template)) continue;
      // An invalid plain definition is reported where it is; an instance has no file of its own
      // to report, and its unit would simply never exist.
      const why = template ? `is an instance of ${template.definition.file}, which has errors: ${d.unit} does not exist` : `is not defined in ${searched.join(", ")}`;
      out.push(error(d.entry.file, d.entry.line, `${d.entry.key}=: "${fileNameOfKey(d.definition)}" ${why}`));
    }
  }
  return out;
}

interface Edge {
  to: string;
  from: Translated;
  line: number;
  key: string;
}

/** systemd breaks an ordering cycle at boot by silently deleting a job, so refuse it up front. */
function orderingCycles(units: readonly Translated[]): Diagnostic[] {
  const byUnit = new Map(units.map((u) => [u.unitName, u]));
  const edges = new Map<string, Edge[]>();
  const addEdge = (later: string, earlier: string, from: Translated, line: number, key: string): void => {
    if (!byUnit.has(later) || !byUnit.has(earlier)) return;
    const list = edges.get(later) ?? [];
    list.push({ to: earlier, from, line, key });
    edges.set(later, list);
  };
  for (const u of units) {
    for (const d of u.dependencies) {
      if (d.key === "Unit.After") addEdge(u.unitName, d.unit, u, d.entry.line, "After");
      if (d.key === "Unit.Before") addEdge(d.unit, u.unitName, u, d.entry.line, "Before");
    }
  }
  const out: Diagnostic[] = [];
  const state = new Map<string, "active" | "done">();
  // Depth first with an explicit path, not recursion: an After= chain of thousands of definitions
  // would overflow the call stack. Each step on the path keeps its next edge to follow.
  const path: Array<{ unit: string; edges: readonly Edge[]; next: number; via?: Edge }> = [];
  const enter = (unit: string): void => {
    state.set(unit, "active");
    path.push({ unit, edges: edges.get(unit) ?? [], next: 0 });
  };
  for (const u of units) {
    if (state.has(u.unitName)) continue;
    enter(u.unitName);
    while (path.length > 0) {
      const step = path.at(-1)!;
      const edge = step.edges[step.next++];
      if (!edge) {
        path.pop();
        state.set(step.unit, "done");
        continue;
      }
      step.via = edge;
      const s = state.get(edge.to);
      if (s === "active") {
        const cycle = path.slice(path.findIndex((f) => f.unit === edge.to));
        const first = cycle[0]!.via!;
        out.push(error(first.from.definition.file, first.line, `ordering cycle: ${cycleNames(cycle.map((f) => f.unit), edge.to)} (each waits for the next; systemd would drop a start job to break it)`));
      } else if (s === undefined) {
        enter(edge.to);
      }
    }
  }
  return out;
}

/** `a → b → c → a`; a cycle through thousands of units is named by its ends. */
function cycleNames(units: readonly string[], back: string): string {
  const shown = units.length <= 12 ? units : [...units.slice(0, 6), `… ${units.length - 11} more …`, ...units.slice(-5)];
  return [...shown, back].join(" → ");
}

/**
 * Two definitions publishing the same host port. Each one's ports are indexed as sorted ranges,
 * so that a range is checked against another definition's in O(log n) whatever its size: expanding
 * ranges port by port made 300 lines of `1-65535:1-65535` take a minute. Only definitions that a
 * sweep over all ranges found clashing are compared pairwise, so a set without clashes costs one sort.
 */
function portConflicts(units: readonly Translated[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  // A template publishes nothing itself; its instances do.
  const publishing = units.filter((u) => u.definition.name.kind !== "template" && u.ports.length > 0);
  const clashing = clashingUnits(publishing);
  if (clashing.size === 0) return out;
  const earlier: Array<{ unit: Translated; index: Map<string, PortIndex[]> }> = [];
  for (const unit of publishing) {
    if (!clashing.has(unit)) continue;
    for (const port of unit.ports) {
      const { proto, ip, first, last } = port.host;
      const clashes: Array<{ at: number; unit: Translated; line: number }> = [];
      for (const other of earlier) {
        let best: PortHit | undefined;
        for (const index of other.index.get(proto) ?? []) {
          if (!addressesCollide(index.ip, ip)) continue;
          const hit = firstOverlap(index, first, last);
          if (hit && (!best || hit.at < best.at)) best = hit;
        }
        if (best) clashes.push({ at: best.at, unit: other.unit, line: best.entry.line });
      }
      clashes.sort((a, b) => a.at - b.at);
      for (const c of clashes) {
        out.push(error(port.entry.file, port.entry.line, `PublishPort=: host port ${c.at}/${proto} is already published by ${c.unit.definition.file}:${c.line}`));
      }
    }
    earlier.push({ unit, index: indexPorts(unit.ports) });
  }
  return out;
}

/**
 * The definitions with a host port range that overlaps another definition's, by one sweep over
 * all ranges in order of their first port. The sweep keeps, per definition and address, only the
 * range that reaches furthest, since a later range overlaps one of them exactly when it overlaps that.
 */
function clashingUnits(units: readonly Translated[]): Set<Translated> {
  const ranges = units.flatMap((unit) => unit.ports.map(({ host }) => ({ unit, host })));
  ranges.sort((a, b) => a.host.first - b.host.first);
  const clashing = new Set<Translated>();
  const reaching = new Map<string, Map<string, { unit: Translated; ip: string; last: number }>>();
  const owner = new Map(units.map((u, i) => [u, i]));
  for (const { unit, host } of ranges) {
    let active = reaching.get(host.proto);
    if (!active) reaching.set(host.proto, (active = new Map()));
    active.forEach((a, key) => {
      if (a.last < host.first) active.delete(key);
      else if (a.unit !== unit && addressesCollide(a.ip, host.ip)) clashing.add(a.unit).add(unit);
    });
    const key = `${owner.get(unit)} ${host.ip}`;
    const mine = active.get(key);
    if (!mine || mine.last < host.last) active.set(key, { unit, ip: host.ip, last: host.last });
  }
  return clashing;
}
