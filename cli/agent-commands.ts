import { acceptedDir, stateDir } from "../generator/accepted-store.js";
import { runningDigest } from "../generator/config-manifest.js";
import { formatDiagnostic } from "../generator/diagnostics.js";
import type { Scope } from "../generator/search-path.js";
import { runtimeDir } from "../agent/config-changes.js";
import { DockerClient } from "../agent/docker.js";
import { createLogger } from "../agent/log.js";
import { nextSettleMs } from "../agent/plan.js";
import { assess, reconcile, type ReconcileContext } from "../agent/reconcile.js";
import { describeRollout } from "../agent/rollout-status.js";
import { missingSinceOf, readStatus } from "../agent/status-file.js";
import { BusUnreachable, SystemdClient } from "../agent/systemd-client.js";
import { configStateFile, readConfigState } from "../runtime/config-files.js";
import { DockerUnreachable } from "../runtime/docker-socket.js";
import type { ParsedArgs } from "./args.js";

/** Failures of the host rather than of berth: said in one line, without a stack trace. */
const UNREACHABLE = [BusUnreachable, DockerUnreachable];

/** Runs a command with a connection to the manager, closed after; an unreachable bus or Docker is one line. */
async function withContext(scope: Scope, command: (ctx: ReconcileContext) => Promise<number>): Promise<number> {
  // berthd's clock for deleted definitions, so that plan shows what berthd will do.
  const missingSince = missingSinceOf(readStatus(stateDir(scope)));
  const ctx: ReconcileContext = { scope, systemd: new SystemdClient(scope), docker: new DockerClient(), log: createLogger(), acceptedDir: acceptedDir(scope), missingSince };
  try {
    return await command(ctx);
  } catch (e) {
    if (!UNREACHABLE.some((kind) => e instanceof kind)) throw e;
    process.stderr.write(`berth: ${(e as Error).message}\n`);
    return 1;
  } finally {
    ctx.systemd.close();
  }
}

/** `berth plan`: what a reconcile would do now; changes nothing. */
export async function planCommand(_args: ParsedArgs, scope: Scope): Promise<number> {
  return withContext(scope, async (ctx) => {
    const { plan, diagnostics, renamed } = await assess(ctx);
    for (const d of diagnostics) process.stderr.write(formatDiagnostic(d) + "\n");
    const lines = [
      ...plan.stop.map((u) => `stop     ${u}  (${renamed.has(u) ? `renamed to ${renamed.get(u)}` : "definition deleted"})`),
      ...plan.waiting.map((w) => `wait     ${w.unit}  (definition deleted; stopped if it is still gone in ${Math.ceil(w.leftMs / 1000)} s)`),
      ...plan.start.map((u) => `start    ${u}`),
      ...plan.restart.map((u) => `restart  ${u}  (${plan.why.get(u) ?? "definition changed"})`),
      ...plan.reloadInPlace.map((u) => `reload   ${u}  (${plan.why.get(u)})`),
      ...plan.deferred.map((u) => `update   ${u}  (stopped; applies at its next start)`),
      ...plan.held.map((h) => `hold     ${h.unit}  (${h.because}; resumes when that definition changes)`),
    ];
    if (plan.reload) lines.unshift("reload   systemd (daemon-reload)");
    process.stdout.write(lines.length ? lines.join("\n") + "\n" : "nothing to do\n");
    process.stdout.write(`${plan.unchanged.length} unchanged\n`);
    return 0;
  });
}

/**
 * `berth apply`: what berthd would do, done now, waiting for its jobs; non-zero if anything
 * failed. A deletion still in its grace period is waited out, as berthd would.
 */
export async function applyCommand(_args: ParsedArgs, scope: Scope): Promise<number> {
  return withContext(scope, async (ctx) => {
    const done = { start: 0, restart: 0, reload: 0, stop: 0 };
    let failed = false;
    let r = await reconcile(ctx);
    for (;;) {
      failed ||= r.failures.length > 0;
      done.start += r.plan.start.length;
      done.restart += r.plan.restart.length;
      done.reload += r.plan.reloadInPlace.length;
      done.stop += r.plan.stop.length;
      const settles = nextSettleMs(r.plan);
      if (settles === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, settles + 50));
      r = await reconcile(ctx);
    }
    process.stdout.write(`${done.start} started, ${done.restart} restarted, ${done.reload ? `${done.reload} reloaded, ` : ""}${done.stop} stopped, ${r.plan.unchanged.length} unchanged\n`);
    return failed || r.diagnostics.some((d) => d.severity === "error") ? 1 : 0;
  });
}

interface ServiceStatus {
  unit: string;
  definition: string;
  active: string;
  sub: string;
  container: string;
  health: string;
  image: string;
  /** The digest of the configuration files the container runs with (RestartOnChange=, ReloadOnChange=). */
  config: string;
  since: string;
  error: string;
}

/** `berth status [--json]`: each service as systemd and Docker see it, with berth's last error. */
export async function statusCommand(args: ParsedArgs, scope: Scope): Promise<number> {
  return withContext(scope, async (ctx) => {
    const { desired, diagnostics } = await assess(ctx);
    const containers = await ctx.docker.containers();
    const agent = readStatus(stateDir(scope));
    const rows: ServiceStatus[] = [];
    for (const u of desired) {
      const props = await ctx.systemd.properties(u.unitName, "Unit").catch(() => ({}) as Record<string, unknown>);
      const c = containers.get(u.unitName);
      const enter = Number(props.ActiveEnterTimestamp ?? 0) / 1000;
      const errors = [
        ...diagnostics.filter((d) => d.severity === "error" && d.file === u.file).map(formatDiagnostic),
        ...(agent?.failures ?? []).filter((f) => f.unit === u.unitName).map((f) => f.message),
      ];
      const event = agent?.events[u.unitName];
      rows.push({
        unit: u.unitName,
        definition: u.file,
        active: String(props.ActiveState ?? "unknown"),
        sub: String(props.SubState ?? ""),
        // A network's, volume's or image's unit runs no container: it names what it makes.
        container: (u.type ?? "container") !== "container" ? `(${u.type} ${u.resource ?? ""})` : c ? c.state : "none",
        health: c?.health ?? "-",
        image: u.image ?? "",
        config: c?.config !== undefined && c.state === "running" ? runningDigest(readConfigState(configStateFile(runtimeDir(scope), u.unitName)), c.config) : "-",
        since: enter > 0 ? new Date(enter).toISOString() : "-",
        error: errors.join("; ") || (event ? `${event.event} at ${event.at}` : "") || (u.acceptedFrom ? `definition invalid; running the version accepted at ${u.acceptedFrom}` : ""),
      });
    }
    if (args.flags.has("json")) {
      process.stdout.write(JSON.stringify(rows, null, 2) + "\n");
    } else {
      const head = ["UNIT", "ACTIVE", "CONTAINER", "HEALTH", "SINCE", "CONFIG", "IMAGE"];
      const table = [head, ...rows.map((r) => [r.unit, `${r.active}/${r.sub}`, r.container, r.health, r.since, r.config, r.image])];
      const widths = head.map((_, i) => Math.max(...table.map((row) => row[i]!.length)));
      for (const row of table) process.stdout.write(row.map((cell, i) => cell.padEnd(widths[i]!)).join("  ").trimEnd() + "\n");
      for (const r of rows) if (r.error) process.stdout.write(`${r.unit}: ${r.error}\n`);
      if (agent?.rollout) for (const line of describeRollout(agent.rollout)) process.stdout.write(`rollout: ${line}\n`);
      for (const d of diagnostics) if (!rows.some((r) => r.definition === d.file)) process.stdout.write(`${formatDiagnostic(d)}\n`);
    }
    return 0;
  });
}
