import fc from "fast-check";
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { error, warning } from "../generator/diagnostics.js";
import type { ContainerState } from "../agent/docker.js";
import { escapeHelp, eventError, FAMILIES, formatValue, HEALTH_STATES, MESSAGE_MAX, reconcileErrors, refusedFiles, renderMetrics, serviceSamples, truncate, UNIT_STATES, type MetricsSnapshot, type ServiceSample } from "../agent/metrics.js";
import { metricsFile } from "../agent/metrics-writer.js";
import { parseFamilies as parse, seriesByName } from "./support/prometheus.js";

const values = (text: string, name: string) => seriesByName(text).get(name) ?? [];

const unit = (name: string, more: Partial<GeneratedUnit> = {}): GeneratedUnit => ({
  base: name, file: `/etc/berth/${name}.container`, unitName: `${name}.service`, containerName: name, image: `registry.example/${name}:1`,
  pull: undefined, spec: `spec-${name}`, text: "", install: [], wantedAtBoot: true, after: [], ...more,
});
const container = (u: GeneratedUnit, more: Partial<ContainerState> = {}): ContainerState => ({
  id: `id-${u.base}`, name: u.containerName, unit: u.unitName, spec: u.spec, config: undefined, state: "running", status: "Up 3 minutes", health: undefined, image: u.image!, ...more,
});
const host = { reconciles: 7, reconcileErrors: 1, lastReconcileMs: 1250, reloads: 2, lastReloadMs: 84, refused: 1 };
const snapshot = (services: ServiceSample[]): MetricsSnapshot => ({ now: 1_700_000_000_123, services, host });

/** Label values that the text format must escape, or that a naive writer would break on. */
const HOSTILE = 'say "hi" \\ C:\\path\\n and a\nsecond line, then } and {x="y"} and \u00e9\u{1f433}';

describe("the metrics file (rendering, no I/O)", () => {
  const db = unit("db");
  const web = unit("web", { image: "registry.example/web:2", spec: "spec-web-2" });
  const net = unit("db-net", { type: "network", containerName: "", image: undefined, unitName: "db-net-network.service" });
  const services = serviceSamples([db, web, net, unit("worker@", { unitName: "worker@.service" })], {
    activeStates: new Map([["db.service", "active"], ["web.service", "failed"], ["db-net-network.service", "active"]]),
    containers: new Map([
      ["db.service", container(db, { health: "healthy" })],
      ["web.service", container(web, { spec: "spec-web-1", image: "registry.example/web:1" })],
    ]),
    restarts: new Map([["db.service", 0], ["web.service", 4]]),
    errors: new Map([["web.service", { at: 1_700_000_000_000, kind: "reconcile", message: HOSTILE }]]),
  });
  const text = renderMetrics(snapshot(services));

  it("is the text format a real parser reads, every metric with HELP and TYPE, named as Prometheus asks", () => {
    const families = parse(text);
    expect(families.map((f) => f.name)).toEqual(FAMILIES.map((f) => f.name));
    for (const f of families) {
      expect(f.help, f.name).not.toBe("");
      expect(["GAUGE", "COUNTER"], f.name).toContain(f.type);
      expect(f.name).toMatch(/^berth_[a-z_]+[a-z]$/);
      // Counters end in _total; times and durations are in seconds; nothing else claims _total.
      expect(f.name.endsWith("_total")).toBe(f.type === "COUNTER");
      if (/duration|timestamp/.test(f.name)) expect(f.name).toMatch(/_seconds$/);
      expect(f.metrics.length).toBeGreaterThan(0);
    }
    expect(text.endsWith("\n")).toBe(true);
  });

  it("has one series per unit state, 1 for the state it is in", () => {
    const states = values(text, "berth_service_state");
    expect(states.filter((s) => s.unit === "web.service")).toHaveLength(UNIT_STATES.length);
    expect(states.filter((s) => s.value === 1).map((s) => [s.unit, s.state])).toEqual([
      ["db-net-network.service", "active"], ["db.service", "active"], ["web.service", "failed"],
    ]);
  });

  it("gives health only for a running container with a health check, and the container's name", () => {
    const health = values(text, "berth_service_health");
    expect(health).toHaveLength(HEALTH_STATES.length);
    expect(health.filter((h) => h.value === 1)).toEqual([{ unit: "db.service", container: "db", health: "healthy", value: 1 }]);
  });

  it("counts restarts as a counter, from NRestarts", () => {
    expect(values(text, "berth_service_restarts_total")).toEqual([{ unit: "db.service", value: 0 }, { unit: "web.service", value: 4 }]);
  });

  it("compares the running spec with the desired one, and names both digests and both images", () => {
    expect(values(text, "berth_service_up_to_date")).toEqual([{ unit: "db.service", container: "db", value: 1 }, { unit: "web.service", container: "web", value: 0 }]);
    expect(values(text, "berth_service_spec_info")).toContainEqual({ unit: "web.service", container: "web", desired: "spec-web-2", running: "spec-web-1", value: 1 });
    expect(values(text, "berth_service_image_info")).toContainEqual({ unit: "web.service", container: "web", image: "registry.example/web:2", running_image: "registry.example/web:1", value: 1 });
  });

  it("leaves a unit that runs no container out of the container metrics, and a template out of all", () => {
    for (const name of ["berth_service_health", "berth_service_up_to_date", "berth_service_spec_info", "berth_service_image_info"]) {
      expect(values(text, name).map((s) => s.unit), name).not.toContain("db-net-network.service");
    }
    expect(text).not.toContain("worker@");
  });

  it("escapes quotes, backslashes and newlines in label values, so the parser reads back exactly the message", () => {
    expect(values(text, "berth_service_last_error_info")).toEqual([{ unit: "web.service", kind: "reconcile", message: HOSTILE, value: 1 }]);
    expect(values(text, "berth_service_last_error_timestamp_seconds")).toEqual([{ unit: "web.service", value: 1_700_000_000 }]);
    // One sample a line: the newline in the message did not start another.
    expect(text.split("\n").filter((l) => l.startsWith("berth_service_last_error_info"))).toHaveLength(1);
  });

  it("round-trips any label value and any help text through the parser", () => {
    // Any character, and often the ones the format gives a meaning.
    const tricky = (maxLength: number) => fc.string({ unit: fc.oneof(fc.constantFrom('"', "\\", "\n", "n", "{", "}", "=", ",", " ", "\t", "\r", "#"), fc.string({ unit: "binary", minLength: 1, maxLength: 1 })), maxLength });
    fc.assert(fc.property(tricky(300), tricky(80), (message, name) => {
      const s: ServiceSample = { unit: name, lastError: { at: 0, kind: "reconcile", message } };
      const [info] = values(renderMetrics(snapshot([s])), "berth_service_last_error_info");
      expect(info).toEqual({ unit: name, kind: "reconcile", message: truncate(message, MESSAGE_MAX), value: 1 });
    }));
    // The parser trims each line and refuses an empty HELP; berth's help texts are neither.
    fc.assert(fc.property(fc.string({ unit: "binary", minLength: 1, maxLength: 200 }).filter((h) => h.trim() === h && h !== ""), (help) => {
      expect(parse(`# HELP x ${escapeHelp(help)}\n# TYPE x gauge\nx 1\n`)[0]?.help).toBe(help);
    }));
  });

  it("cuts long messages between code points", () => {
    const long = "\u{1f433}".repeat(MESSAGE_MAX + 5);
    const cut = truncate(long, MESSAGE_MAX);
    expect([...cut]).toHaveLength(MESSAGE_MAX);
    expect(cut.endsWith("\u{1f433}…")).toBe(true);
    expect(truncate("short", MESSAGE_MAX)).toBe("short");
  });

  it("has the host's figures in base units", () => {
    expect(values(text, "berth_reconciles_total")).toEqual([{ value: 7 }]);
    expect(values(text, "berth_reconcile_errors_total")).toEqual([{ value: 1 }]);
    expect(values(text, "berth_reconcile_duration_seconds")).toEqual([{ value: 1.25 }]);
    expect(values(text, "berth_daemon_reloads_total")).toEqual([{ value: 2 }]);
    expect(values(text, "berth_daemon_reload_duration_seconds")).toEqual([{ value: 0.084 }]);
    expect(values(text, "berth_definitions_refused")).toEqual([{ value: 1 }]);
    expect(values(text, "berth_textfile_write_timestamp_seconds")).toEqual([{ value: 1_700_000_000.123 }]);
  });

  it("leaves out a family with no samples (no HELP or TYPE without a sample)", () => {
    const bare = renderMetrics({ now: 0, services: [], host: { reconciles: 1, reconcileErrors: 0, reloads: 0, refused: 0 } });
    expect(parse(bare).map((f) => f.name)).toEqual(["berth_reconciles_total", "berth_reconcile_errors_total", "berth_daemon_reloads_total", "berth_definitions_refused", "berth_textfile_write_timestamp_seconds"]);
  });

  it("is what the man page lists: every metric, its type and its labels", () => {
    const page = readFileSync(new URL("../docs/berth.container.5.md", import.meta.url), "utf8");
    const section = page.slice(page.indexOf("### Metrics"), page.indexOf("## TRUST AND OWNERSHIP"));
    const rows = [...section.matchAll(/^\| `(berth_\w+)` \| (gauge|counter) \|(?: ((?:`\w+`(?:, )?)+) \|)?/gm)].map((m) => ({
      name: m[1], type: m[2], labels: [...(m[3] ?? "").matchAll(/`(\w+)`/g)].map((l) => l[1]),
    }));
    const rendered = parse(text);
    expect(rows).toEqual(FAMILIES.map((f) => ({ name: f.name, type: f.type, labels: Object.keys(rendered.find((r) => r.name === f.name)?.metrics[0]?.labels ?? {}) })));
  });

  it("writes the infinities as Go parses them", () => {
    expect([formatValue(Infinity), formatValue(-Infinity), formatValue(NaN), formatValue(0.5)]).toEqual(["+Inf", "-Inf", "NaN", "0.5"]);
  });
});

describe("errors by unit", () => {
  const a = unit("a");
  const b = unit("b", { acceptedFrom: "2026-01-01T00:00:00.000Z" });
  const c = unit("c");

  it("takes a definition's error with its line, a stand-in's reason, and a reconcile's failure", () => {
    const diagnostics = [error(a.file, 7, 'HealthRetries=: expected a number, got "many"'), warning(c.file, 3, "only a warning"), error("/etc/berth/container.d/x.conf", 2, "bad drop-in")];
    const errors = reconcileErrors([a, b, c], diagnostics, [{ unit: "c.service", message: "StartUnit ended with \"failed\"; it is tried again" }], 42);
    expect(Object.fromEntries(errors)).toEqual({
      "a.service": { at: 42, kind: "definition", message: 'line 7: HealthRetries=: expected a number, got "many"' },
      "b.service": { at: 42, kind: "definition", message: "a drop-in or the set has errors; running the version accepted at 2026-01-01T00:00:00.000Z" },
      "c.service": { at: 42, kind: "reconcile", message: "StartUnit ended with \"failed\"; it is tried again" },
    });
    expect(refusedFiles(diagnostics)).toBe(2);
  });

  it("takes out-of-memory kills and unhealthy turns from Docker's events, not deaths", () => {
    expect(eventError("oom", 1)?.kind).toBe("oom");
    expect(eventError("health_status: unhealthy", 1)?.kind).toBe("unhealthy");
    for (const action of ["die", "start", "health_status: healthy", "destroy"]) expect(eventError(action, 1)).toBeUndefined();
  });
});

describe("the switch (BERTH_METRICS_FILE)", () => {
  it("is off unless set, and takes only an absolute path to a .prom file", () => {
    expect(metricsFile({})).toEqual({});
    expect(metricsFile({ BERTH_METRICS_FILE: "" })).toEqual({});
    expect(metricsFile({ BERTH_METRICS_FILE: "/var/lib/prometheus/node-exporter/berth.prom" })).toEqual({ file: "/var/lib/prometheus/node-exporter/berth.prom" });
    expect(metricsFile({ BERTH_METRICS_FILE: "berth.prom" }).problem).toMatch(/^BERTH_METRICS_FILE=berth\.prom: expected an absolute path ending in \.prom/);
    expect(metricsFile({ BERTH_METRICS_FILE: "/var/lib/x/berth.txt" }).problem).toContain("reads only *.prom files");
  });
});
