import { error, type Diagnostic } from "./diagnostics.js";
import { portsCollide } from "./publish-port.js";
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
  const defined = new Set(units.map((u) => u.definition.name.base));
  const templates = new Map(units.filter((u) => u.definition.name.kind === "template").map((u) => [u.definition.name.prefix, u]));
  for (const u of units) {
    for (const d of u.dependencies) {
      if (d.definition === undefined || defined.has(d.definition)) continue;
      const at = d.definition.indexOf("@");
      const template = at > 0 ? templates.get(d.definition.slice(0, at)) : undefined;
      if (template && written.has(template)) continue;
      // An invalid plain definition is reported where it is; an instance has no file of its own
      // to report, and its unit would simply never exist.
      const why = template ? `is an instance of ${template.definition.file}, which has errors: ${d.unit} does not exist` : `is not defined in ${searched.join(", ")}`;
      out.push(error(d.entry.file, d.entry.line, `${d.entry.key}=: "${d.definition}.container" ${why}`));
    }
  }
  return out;
}

/** systemd breaks an ordering cycle at boot by silently deleting a job, so refuse it up front. */
function orderingCycles(units: readonly Translated[]): Diagnostic[] {
  const byUnit = new Map(units.map((u) => [u.unitName, u]));
  const edges = new Map<string, Array<{ to: string; from: Translated; line: number; key: string }>>();
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
  const stack: Array<{ unit: string; via?: { from: Translated; line: number; key: string } }> = [];
  const visit = (unit: string): void => {
    state.set(unit, "active");
    stack.push({ unit });
    for (const edge of edges.get(unit) ?? []) {
      stack[stack.length - 1]!.via = edge;
      const s = state.get(edge.to);
      if (s === "active") {
        const start = stack.findIndex((f) => f.unit === edge.to);
        const cycle = stack.slice(start);
        const names = [...cycle.map((f) => f.unit), edge.to].join(" → ");
        const first = cycle[0]!.via!;
        out.push(error(first.from.definition.file, first.line, `ordering cycle: ${names} (each waits for the next; systemd would drop a start job to break it)`));
      } else if (s === undefined) {
        visit(edge.to);
      }
    }
    stack.pop();
    state.set(unit, "done");
  };
  for (const u of units) if (!state.has(u.unitName)) visit(u.unitName);
  return out;
}

function portConflicts(units: readonly Translated[]): Diagnostic[] {
  const out: Diagnostic[] = [];
  const byPort = new Map<string, Array<{ unit: Translated; port: Translated["ports"][number] }>>();
  for (const unit of units) {
    // A template publishes nothing itself; its instances do.
    if (unit.definition.name.kind === "template") continue;
    for (const port of unit.ports) {
      const clashes = new Set<Translated>();
      for (let p = port.host.first; p <= port.host.last; p++) {
        const key = `${port.host.proto}/${p}`;
        const list = byPort.get(key) ?? [];
        for (const other of list) {
          if (other.unit !== unit && portsCollide(other.port.host, port.host) && !clashes.has(other.unit)) {
            clashes.add(other.unit);
            out.push(error(port.entry.file, port.entry.line, `PublishPort=: host port ${p}/${port.host.proto} is already published by ${other.unit.definition.file}:${other.port.entry.line}`));
          }
        }
        list.push({ unit, port });
        byPort.set(key, list);
      }
    }
  }
  return out;
}
