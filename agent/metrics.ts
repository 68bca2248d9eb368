import type { Diagnostic } from "../generator/diagnostics.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { runsContainer } from "../generator/names.js";
import type { ContainerState } from "./docker.js";
import { isTemplate } from "./plan.js";
import type { Failure } from "./reconcile.js";

/**
 * berthd's state as node_exporter's textfile collector reads it: the Prometheus text format,
 * rendered from a snapshot with no I/O. berthd gathers the snapshot (metrics-writer.ts).
 */

/** What went wrong last with a unit, and when berthd last saw it. */
export interface LastError {
  at: number;
  /** definition (refused), reconcile (a pull, a job, a unit systemd did not load), oom, unhealthy. */
  kind: string;
  message: string;
}

export interface ServiceSample {
  unit: string;
  activeState?: string | undefined;
  /** systemd's NRestarts. */
  restarts?: number | undefined;
  lastError?: LastError | undefined;
  /** Only for units that run a container. */
  container?: {
    name: string;
    desiredSpec: string;
    image: string;
    /** Present while a container runs. */
    running?: { spec: string; image: string; health: string | undefined } | undefined;
  };
}

export interface HostSample {
  reconciles: number;
  /** Reconciles that failed outright (systemd or Docker unreachable). */
  reconcileErrors: number;
  lastReconcileMs?: number | undefined;
  reloads: number;
  lastReloadMs?: number | undefined;
  /** Files with errors in the last reconcile. */
  refused: number;
}

export interface MetricsSnapshot {
  /** When the file is written, in ms since the epoch. */
  now: number;
  services: ServiceSample[];
  host: HostSample;
}

type Labels = Record<string, string>;
interface Sample {
  labels: Labels;
  value: number;
}

interface Family {
  name: string;
  type: "gauge" | "counter";
  help: string;
  samples: (s: MetricsSnapshot) => Sample[];
}

/** node_exporter's systemd collector has one series per state; systemd also reports reloading. */
export const UNIT_STATES = ["active", "reloading", "inactive", "failed", "activating", "deactivating"] as const;
export const HEALTH_STATES = ["starting", "healthy", "unhealthy"] as const;
/** Long enough for a diagnostic's message; a label value is not a log. */
export const MESSAGE_MAX = 200;

const seconds = (ms: number): number => ms / 1000;

/** One family's samples from each service that has something to say. */
const perService = (f: (s: ServiceSample) => Sample[] | Sample | undefined) => (snap: MetricsSnapshot): Sample[] => snap.services.flatMap((s) => f(s) ?? []);
/** An info metric (value 1) of each service that runs a container, its labels naming the container. */
const containerInfo = (f: (c: NonNullable<ServiceSample["container"]>) => Labels) =>
  perService((s) => (s.container ? { labels: { unit: s.unit, container: s.container.name, ...f(s.container) }, value: 1 } : undefined));
const one = (value: number | undefined): Sample[] => (value === undefined ? [] : [{ labels: {}, value }]);
const host = (f: (h: HostSample) => number | undefined) => (snap: MetricsSnapshot): Sample[] => one(f(snap.host));

/** Every metric in the file, in the order written. */
export const FAMILIES: readonly Family[] = [
  {
    name: "berth_service_state",
    type: "gauge",
    help: "The unit's systemd ActiveState: 1 for the state it is in, 0 for the others.",
    samples: perService((s) => (s.activeState === undefined ? undefined : UNIT_STATES.map((state) => ({ labels: { unit: s.unit, state }, value: s.activeState === state ? 1 : 0 })))),
  },
  {
    name: "berth_service_health",
    type: "gauge",
    help: "The running container's health check status: 1 for its status, 0 for the others. Absent without a health check.",
    samples: perService((s) => {
      const c = s.container;
      const health = c?.running?.health;
      return c && health ? HEALTH_STATES.map((h) => ({ labels: { unit: s.unit, container: c.name, health: h }, value: health === h ? 1 : 0 })) : undefined;
    }),
  },
  {
    name: "berth_service_restarts_total",
    type: "counter",
    help: "Automatic restarts by systemd (NRestarts); systemd resets it when the unit is started by a job or reset-failed.",
    samples: perService((s) => (s.restarts === undefined ? undefined : { labels: { unit: s.unit }, value: s.restarts })),
  },
  {
    name: "berth_service_up_to_date",
    type: "gauge",
    help: "1 when the running container was made from the unit's current definition (io.berth.spec), 0 when from another. Absent when no container runs.",
    samples: perService((s) => {
      const c = s.container;
      return c?.running ? { labels: { unit: s.unit, container: c.name }, value: c.running.spec === c.desiredSpec ? 1 : 0 } : undefined;
    }),
  },
  {
    name: "berth_service_spec_info",
    type: "gauge",
    help: "The spec digest the definition asks for (desired) and the one the running container has (running, empty when none runs).",
    samples: containerInfo((c) => ({ desired: c.desiredSpec, running: c.running?.spec ?? "" })),
  },
  {
    name: "berth_service_image_info",
    type: "gauge",
    help: "The image the definition names (image) and the one the running container was made from (running_image, empty when none runs).",
    samples: containerInfo((c) => ({ image: c.image, running_image: c.running?.image ?? "" })),
  },
  {
    name: "berth_service_last_error_timestamp_seconds",
    type: "gauge",
    help: "When berthd last saw an error of the unit (a refused definition, a failed pull or job, an out-of-memory kill, an unhealthy container), since berthd started.",
    samples: perService((s) => (s.lastError ? { labels: { unit: s.unit }, value: seconds(s.lastError.at) } : undefined)),
  },
  {
    name: "berth_service_last_error_info",
    type: "gauge",
    help: `That error: its kind (definition, reconcile, oom, unhealthy) and message (at most ${MESSAGE_MAX} characters).`,
    samples: perService((s) => (s.lastError ? { labels: { unit: s.unit, kind: s.lastError.kind, message: truncate(s.lastError.message, MESSAGE_MAX) }, value: 1 } : undefined)),
  },
  { name: "berth_reconciles_total", type: "counter", help: "Reconciles since berthd started.", samples: host((h) => h.reconciles) },
  { name: "berth_reconcile_errors_total", type: "counter", help: "Reconciles that failed outright (systemd or Docker unreachable) since berthd started.", samples: host((h) => h.reconcileErrors) },
  { name: "berth_reconcile_duration_seconds", type: "gauge", help: "How long the last reconcile took.", samples: host((h) => (h.lastReconcileMs === undefined ? undefined : seconds(h.lastReconcileMs))) },
  { name: "berth_daemon_reloads_total", type: "counter", help: "systemd daemon-reloads berthd made since it started.", samples: host((h) => h.reloads) },
  { name: "berth_daemon_reload_duration_seconds", type: "gauge", help: "How long berthd's last daemon-reload took, generators included.", samples: host((h) => (h.lastReloadMs === undefined ? undefined : seconds(h.lastReloadMs))) },
  { name: "berth_definitions_refused", type: "gauge", help: "Files (definitions, drop-ins) with errors in the last reconcile; each keeps its last accepted version, if any.", samples: host((h) => h.refused) },
  { name: "berth_textfile_write_timestamp_seconds", type: "gauge", help: "When berthd wrote this file.", samples: (s) => one(seconds(s.now)) },
];

/** A label value in the text format: backslash, double quote and line feed are escaped. */
export function escapeLabelValue(v: string): string {
  return v.replace(/[\\"\n]/g, (c) => (c === "\n" ? "\\n" : `\\${c}`));
}

/** HELP text escapes backslash and line feed only. */
export function escapeHelp(v: string): string {
  return v.replace(/[\\\n]/g, (c) => (c === "\n" ? "\\n" : "\\\\"));
}

/** Go's float syntax, which Prometheus parses: JavaScript's, except for the infinities. */
export function formatValue(v: number): string {
  if (v === Infinity) return "+Inf";
  if (v === -Infinity) return "-Inf";
  return String(v);
}

/** At most `max` characters, cut between code points, never inside a surrogate pair. */
export function truncate(s: string, max: number): string {
  const points = [...s];
  return points.length <= max ? s : `${points.slice(0, max - 1).join("")}…`;
}

const formatLabels = (labels: Labels): string => {
  const pairs = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabelValue(v)}"`);
  return pairs.length ? `{${pairs.join(",")}}` : "";
};

/** The text file: each family with samples gets its HELP and TYPE; a family with none is left out. */
export function renderMetrics(snap: MetricsSnapshot): string {
  const sorted = { ...snap, services: [...snap.services].sort((a, b) => (a.unit < b.unit ? -1 : a.unit > b.unit ? 1 : 0)) };
  const out: string[] = [];
  for (const f of FAMILIES) {
    const samples = f.samples(sorted);
    if (samples.length === 0) continue;
    out.push(`# HELP ${f.name} ${escapeHelp(f.help)}`, `# TYPE ${f.name} ${f.type}`);
    for (const s of samples) out.push(`${f.name}${formatLabels(s.labels)} ${formatValue(s.value)}`);
  }
  return out.join("\n") + "\n";
}

/** What berthd found out about each unit, from systemd, Docker and itself. */
export interface ServiceSources {
  activeStates: ReadonlyMap<string, string>;
  containers: ReadonlyMap<string, ContainerState>;
  restarts: ReadonlyMap<string, number>;
  errors: ReadonlyMap<string, LastError>;
}

/** The samples of the set's units; a template is no unit of its own, its instances are. */
export function serviceSamples(desired: readonly GeneratedUnit[], src: ServiceSources): ServiceSample[] {
  return desired.filter((u) => !isTemplate(u.unitName)).map((u) => {
    const c = src.containers.get(u.unitName);
    return {
      unit: u.unitName,
      activeState: src.activeStates.get(u.unitName),
      restarts: src.restarts.get(u.unitName),
      lastError: src.errors.get(u.unitName),
      container: runsContainer(u.type)
        ? {
            name: u.containerName,
            desiredSpec: u.spec,
            image: u.image ?? "",
            running: c?.state === "running" ? { spec: c.spec ?? "", image: c.image, health: c.health } : undefined,
          }
        : undefined,
    };
  });
}

/**
 * The errors a reconcile reports, by unit: a failure (pull, job, load) names its unit; an error in
 * a definition is its unit's, and so is one in a drop-in, which makes the unit run its last
 * accepted version (acceptedFrom).
 */
export function reconcileErrors(desired: readonly GeneratedUnit[], diagnostics: readonly Diagnostic[], failures: readonly Failure[], at: number): Map<string, LastError> {
  const out = new Map<string, LastError>();
  for (const u of desired) {
    const own = diagnostics.find((d) => d.severity === "error" && d.file === u.file);
    if (own) out.set(u.unitName, { at, kind: "definition", message: own.line > 0 ? `line ${own.line}: ${own.message}` : own.message });
    else if (u.acceptedFrom) out.set(u.unitName, { at, kind: "definition", message: `a drop-in or the set has errors; running the version accepted at ${u.acceptedFrom}` });
  }
  for (const f of failures) out.set(f.unit, { at, kind: "reconcile", message: f.message });
  return out;
}

/** Files with errors: definitions berthd refused, whole or through a drop-in. */
export function refusedFiles(diagnostics: readonly Diagnostic[]): number {
  return new Set(diagnostics.filter((d) => d.severity === "error").map((d) => d.file)).size;
}

/** The error a container event means, if any: a death is the unit's to handle (Restart=), and is counted there. */
export function eventError(action: string, at: number): LastError | undefined {
  if (action === "oom") return { at, kind: "oom", message: "the container was killed for lack of memory" };
  if (action.startsWith("health_status: unhealthy")) return { at, kind: "unhealthy", message: "the container's health check is failing" };
  return undefined;
}
