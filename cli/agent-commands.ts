import { acceptedDir, stateDir } from "../generator/accepted-store.js";
import { runningDigest } from "../generator/config-manifest.js";
import { formatDiagnostic } from "../generator/diagnostics.js";
import { runsContainer } from "../generator/names.js";
import { runtimeDir, type Scope } from "../generator/search-path.js";
import { DockerClient } from "../agent/docker.js";
import { createLogger } from "../agent/log.js";
import { nextSettleMs } from "../agent/plan.js";
import { assess, reconcile, type Failure, type Progress, type ReconcileContext } from "../agent/reconcile.js";
import { reconcileLockPath, withReconcileLock } from "../agent/reconcile-lock.js";
import { describeRollout, emptyRollout, withProgress } from "../agent/rollout-status.js";
import { actionsSince, missingSinceOf, readStatus } from "../agent/status-file.js";
import { BusUnreachable, SystemdClient } from "../agent/systemd-client.js";
import { configStateFile, readConfigState } from "../runtime/config-files.js";
import { DockerUnreachable } from "../runtime/docker-socket.js";
import { UsageError, type ParsedArgs } from "./args.js";

/** Failures of the host rather than of berth: said in one line, without a stack trace. */
const UNREACHABLE = [BusUnreachable, DockerUnreachable];

/** Runs a command with a connection to the manager, closed after; an unreachable bus or Docker is one line. */
async function withContext(scope: Scope, command: (ctx: ReconcileContext) => Promise<number>, logToStderr = false, level?: string): Promise<number> {
  // berthd's clock for deleted definitions, so that plan shows what berthd will do.
  const missingSince = missingSinceOf(readStatus(stateDir(scope, process.env)));
  const ctx: ReconcileContext = { scope, systemd: new SystemdClient(scope), docker: new DockerClient(), log: createLogger({ toStderr: logToStderr, ...(level ? { level } : {}) }), acceptedDir: acceptedDir(scope, process.env), missingSince };
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
      ...plan.start.map((u) => `start    ${u}${plan.why.has(u) ? `  (${plan.why.get(u)})` : ""}`),
      ...plan.restart.map((u) => `restart  ${u}  (${plan.why.get(u) ?? "definition changed"}${plan.takenAlong.has(u) ? `; with ${plan.takenAlong.get(u)}, whose restart takes it along` : ""})`),
      ...plan.reloadInPlace.map((u) => `reload   ${u}  (${plan.why.get(u)})`),
      ...plan.deferred.map((u) => `update   ${u}  (stopped; applies at its next start)`),
      ...plan.rerendered.map((u) => `keep     ${u}  (this berth writes its unit differently; same definition and container, so no restart; applies at its next start)`),
      ...plan.held.map((h) => `hold     ${h.unit}  (${h.because}; resumes when that definition changes)`),
    ];
    if (plan.reload) lines.unshift("reload   systemd (daemon-reload)");
    process.stdout.write(lines.length ? lines.join("\n") + "\n" : "nothing to do\n");
    process.stdout.write(`${plan.unchanged.length} unchanged\n`);
    return 0;
  });
}

/**
 * `berth apply [--json] [--since MS]`: what berthd would do, done now, waiting for its jobs;
 * non-zero if anything failed. A deletion still in its grace period is waited out, as berthd
 * would. It runs alone (a reconcile of berthd's in progress is waited for), and `--since` (ms since
 * the epoch) adds what berthd did from then on: a configuration run that wrote files berthd
 * applied at once still learns which services its change started, restarted or stopped.
 */
export async function applyCommand(args: ParsedArgs, scope: Scope): Promise<number> {
  const since = args.options.get("since");
  if (since !== undefined && !/^\d+$/.test(since)) throw new UsageError(`--since takes milliseconds since the epoch, not "${since}"`);
  const timeout = args.options.get("timeout");
  if (timeout !== undefined && !/^\d+$/.test(timeout)) throw new UsageError(`--timeout takes seconds, not "${timeout}"`);
  const json = args.flags.has("json");
  // Only a person at a terminal is shown the rollout as it goes; a tool gets the result alone.
  const live = !json && process.stderr.isTTY === true;
  if (timeout !== undefined) {
    setTimeout(() => {
      process.stderr.write(`berth: the apply did not finish within ${timeout} s; systemd and berthd carry on with it (see berth status)\n`);
      process.exit(1);
    }, Number(timeout) * 1000).unref();
  }
  const waiting = () => process.stderr.write("berth: waiting for berthd's reconcile in progress\n");
  return withReconcileLock(reconcileLockPath(scope), () => withContext(scope, async (ctx) => {
    if (live) ctx.onProgress = showProgress();
    const done = since === undefined ? { started: [], restarted: [], stopped: [] } : actionsSince(readStatus(stateDir(scope, process.env))?.actions, Number(since));
    const reloaded: string[] = [];
    const failed: Failure[] = [];
    let r = await reconcile(ctx);
    for (;;) {
      failed.push(...r.failures);
      done.started.push(...r.plan.start);
      done.restarted.push(...r.plan.restart);
      done.stopped.push(...r.plan.stop);
      reloaded.push(...r.plan.reloadInPlace);
      const settles = nextSettleMs(r.plan);
      if (settles === undefined) break;
      await new Promise((resolve) => setTimeout(resolve, settles + 50));
      r = await reconcile(ctx);
    }
    const result = {
      started: [...new Set(done.started)],
      restarted: [...new Set(done.restarted)],
      reloaded: [...new Set(reloaded)],
      stopped: [...new Set(done.stopped)],
      failed,
      held: r.plan.held,
      unchanged: r.plan.unchanged.length,
      errors: r.diagnostics.filter((d) => d.severity === "error").map(formatDiagnostic),
    };
    if (json) {
      process.stdout.write(JSON.stringify(result, null, 2) + "\n");
    } else {
      for (const f of result.failed) process.stdout.write(`failed   ${f.unit}: ${f.message}\n`);
      for (const h of result.held) process.stdout.write(`held     ${h.unit}: ${h.because}\n`);
      process.stdout.write(`${result.started.length} started, ${result.restarted.length} restarted, ${result.reloaded.length ? `${result.reloaded.length} reloaded, ` : ""}${result.stopped.length} stopped, ${result.unchanged} unchanged\n`);
    }
    return result.failed.length > 0 || result.errors.length > 0 ? 1 : 0;
  }, true, live ? "warn" : "error"), waiting);
}

/** The rollout as it goes, on the terminal: a line whenever what it says changes, a pull's bytes at most once a second. */
function showProgress(): (p: Progress) => void {
  let rollout = emptyRollout(new Date().toISOString());
  let said = new Set<string>();
  let lastBytes = 0;
  return (p) => {
    rollout = withProgress(rollout, p);
    if (p.kind === "pull" && !p.done && Date.now() - lastBytes < 1000) return;
    if (p.kind === "pull") lastBytes = Date.now();
    const lines = describeRollout(rollout);
    for (const line of lines) if (!said.has(line)) process.stderr.write(`${line}\n`);
    said = new Set(lines);
  };
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
    const agent = readStatus(stateDir(scope, process.env));
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
        container: !runsContainer(u.type) ? `(${u.type} ${u.resource ?? ""})` : c ? c.state : "none",
        health: c?.health ?? "-",
        image: u.image ?? "",
        config: c?.config !== undefined && c.state === "running" ? runningDigest(readConfigState(configStateFile(runtimeDir(scope, process.env), u.unitName)), c.config) : "-",
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
