import { configCommand } from "./config-keys.js";
import { CONTAINER_KEYS } from "./container-keys.js";
import { ContainerSection } from "./container-section.js";
import type { CreateRun } from "./create-run.js";
import { containerNameOf, unitNameOf } from "./definition-names.js";
import { error, type Diagnostic } from "./diagnostics.js";
import { dockerCreate } from "./docker-create.js";
import { formatExec, oneWord } from "./exec-line.js";
import { goDurationSeconds } from "./go-duration.js";
import { checkCommon, finishUnit } from "./finish-unit.js";
import { reportKeys, usedBy } from "./key-rules.js";
import { isDockerName } from "./names.js";
import { isOneshot, refuseReadinessKeys } from "./oneshot.js";
import { reloadArgv } from "./reload.js";
import { signalNumber } from "./signals.js";
import type { Collected, Definition, TranslateContext, Translated } from "./translate.js";
import { unitSection } from "./unit-section.js";
import { copied, type Section } from "./unit-text.js";

/** Beyond Docker's own grace period: CLI start-up and the final SIGKILL must fit before systemd kills. */
const STOP_MARGIN = 30;

/** Only the keys berth translates reach the unit, so only theirs must have valid specifiers. */
const IS_USED = usedBy(CONTAINER_KEYS);

export function translateContainer(def: Definition, ctx: TranslateContext): Translated {
  const out: Collected = { diagnostics: [], dependencies: [] };
  const c = new ContainerSection(def.sections.get("Container") ?? [], IS_USED);
  const unitName = unitNameOf(def);

  if (!def.sections.has("Container")) out.diagnostics.push(error(def.file, 0, "no [Container] section"));
  checkCommon(def, c, out);

  const containerEntry = c.single("ContainerName");
  const containerName = containerNameOf(def);
  if (!isDockerName(containerName)) {
    const at = containerEntry ?? { key: "ContainerName", file: def.file, line: 0, value: containerName };
    c.fail(at, `"${containerName}" is not a valid Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`);
  }

  if (!c.single("Image")) out.diagnostics.push(error(def.file, 0, "Image= is required in [Container]"));
  const run = dockerCreate(def, c, ctx, unitName, containerName);
  reportKeys(c, CONTAINER_KEYS, "unknown key");

  const sections: Section[] = [
    { name: "Unit", lines: unitSection(def, ctx, `berth container ${containerName}`, out, run.joins, run.uses) },
    { name: "Service", lines: serviceSection(def, c, ctx, containerName, run, out.diagnostics) },
  ];
  const unit = finishUnit(def, ctx, unitName, c, out, sections);
  if (run.startedBy) unit.install.push({ kind: "wants", target: run.startedBy, unit: unitName });
  return {
    ...unit,
    type: "container",
    containerName,
    resource: containerName,
    image: run.image,
    imageFrom: run.imageFrom,
    pull: run.pull,
    spec: run.spec,
    config: run.config,
    revertOnFailure: c.bool("RevertOnFailure") || undefined,
    ports: run.ports,
  };
}

function serviceSection(def: Definition, c: ContainerSection, ctx: TranslateContext, containerName: string, run: CreateRun, diagnostics: Diagnostic[]): string[] {
  // concat() copies an array natively; a spread steps through it with an iterator, allocating a
  // result object per element, and this runs once per definition.
  // The create argv (what the spec digest covers) is run attached by berth-step: see runtime/berth-step.
  const start = [ctx.step, "run", ctx.helper[0]!, containerName, run.pull === "never" && run.image ? run.image : "-"].concat(run.connect, run.secrets.step, "--", run.argv);
  const oneshot = isOneshot(def);
  if (oneshot) refuseReadinessKeys(c);
  const stopSignal = c.value("StopSignal");
  const stopNumber = stopSignal === undefined ? undefined : signalNumber(stopSignal);
  // A container stopped by its stop signal exits 128+N (through an init, or a payload that dies of it): a clean stop.
  const cleanExits = stopNumber === undefined || 128 + stopNumber === 143 ? "143" : `143 ${128 + stopNumber}`;

  const lines: string[] = [
    oneshot ? "Type=oneshot" : "Type=exec",
    // Not an Exec line: systemd substitutes no variables here, so a name that has them gives way to the unit's.
    `SyslogIdentifier=${containerName.includes("$") ? "%N" : containerName}`,
  ];
  if (run.config) lines.push(`ExecStartPre=${formatExec(configCommand(ctx.helper, run.config))}`);
  lines.push(
    `ExecStart=${formatExec(start)}`,
  );
  // A oneshot unit's start is done when its container has exited 0; ExecStartPost= would run after that.
  if (!oneshot) lines.push(`ExecStartPost=${formatExec(readiness(ctx, containerName, run))}`);
  lines.push(
    `ExecStop=${formatExec([ctx.docker, "stop", "--time", String(run.stopTimeout), containerName])}`,
    `ExecStopPost=${formatExec([ctx.step, "remove", ctx.docker, containerName])}`,
    `SuccessExitStatus=${cleanExits}`,
    `TimeoutStopSec=${run.stopTimeout + STOP_MARGIN}`,
    // Docker stops its containers cleanly (143) when it shuts down; "always" brings them back
    // when it returns. An explicit `systemctl stop` is never undone by Restart=. systemd refuses
    // "always" for a oneshot unit: one that failed is tried again.
    oneshot ? "Restart=on-failure" : "Restart=always",
    "RestartSec=5",
  );
  const reload = reloadArgv(c, ctx.docker, containerName);
  if (reload) lines.push(`ExecReload=${formatExec(reload)}`);
  for (const line of run.secrets.service) lines.push(line);
  for (const e of def.sections.get("Service") ?? []) lines.push(copied(e, diagnostics));
  return lines;
}

/** Docker's HealthTimeout= when unset or 0. */
const DOCKER_HEALTH_TIMEOUT = 30;

/**
 * The ExecStartPost= that returns once the container is ready: running, or healthy. Waiting for
 * health, it runs the health check itself every quarter second or so until it first passes, as
 * Docker would at its next interval, and within Docker's time limit for one check: readiness
 * does not wait out a realistic HealthInterval=.
 */
function readiness(ctx: TranslateContext, containerName: string, run: CreateRun): string[] {
  const timeout = run.c.value("HealthTimeout");
  const seconds = (timeout === undefined ? 0 : goDurationSeconds(timeout)) || DOCKER_HEALTH_TIMEOUT;
  // timeout(1) reads a plain decimal; below a millisecond it would mean no limit at all.
  const limit = String(Math.max(0.001, Math.round(seconds * 1000) / 1000));
  const ready = run.waitHealthy
    ? [ctx.step, "healthy", ctx.docker, containerName, run.spec].concat(run.health === undefined ? [] : ["--probe", limit, oneWord(run.health)])
    : [ctx.step, "running", ctx.docker, containerName, run.spec];
  return run.onFailure === "none" ? ready : ready.concat("--on-unhealthy", run.onFailure, ctx.helper[0]!);
}
