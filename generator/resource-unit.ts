import { unitNameOf } from "./definition-names.js";
import { ContainerSection } from "./container-section.js";
import { error } from "./diagnostics.js";
import { digest } from "./digest.js";
import { formatExec } from "./exec-line.js";
import { reportKeys, usedBy, type KeyTable } from "./key-rules.js";
import { SPEC_LABEL, UNIT_LABEL } from "./labels.js";
import { FILE_TYPES } from "./names.js";
import { useLines, type Use } from "./references.js";
import { checkCommon, finishUnit } from "./finish-unit.js";
import type { Collected, Definition, TranslateContext, Translated } from "./translate.js";
import { unitSection } from "./unit-section.js";
import { copied } from "./unit-text.js";

/** What a `.network`, `.volume`, `.image` or `.build` file makes, as the file type's code reads it. */
export interface ResourcePlan {
  /** The Docker name of the network, volume or image. */
  resource: string;
  /** The docker command that makes it, as the definition asks (`docker network create … NAME`). */
  command: string[];
  /**
   * Whether berth's helper runs the command only when the object is missing or made from other
   * settings (see runtime/ensure.ts); a build runs as it is, Docker's cache making it cheap.
   */
  ensure: boolean;
  /** Extra arguments for the helper (`--policy missing`). */
  ensureArgs?: string[];
  /** Run when the unit stops (NetworkDeleteOnStop=). */
  stopPost?: string[];
  /** Lines of its own for [Unit] and [Service] (RequiresMountsFor=, WorkingDirectory=). */
  unit?: string[];
  service?: string[];
  uses: Use[];
}

/** What the file type's code gets: the section, the context, and where to put its refusals. */
export type PlanMaker = (c: ContainerSection, def: Definition, ctx: TranslateContext) => ResourcePlan;

/** Docker objects that carry labels get berth's, so the helper can tell its own and their settings. */
const LABELLED = new Set(["network", "volume"]);

/**
 * The unit of a file that makes a Docker object: a oneshot that stays active once the object
 * exists (RemainAfterExit=yes, as Quadlet's), so that the units using it can require it, and a
 * restart of it (a changed definition) restarts them too.
 */
export function resourceUnit(def: Definition, ctx: TranslateContext, table: KeyTable, make: PlanMaker): Translated {
  const type = def.name.type;
  const section = FILE_TYPES[type].section;
  const out: Collected = { diagnostics: [], dependencies: [] };
  const c = new ContainerSection(def.sections.get(section) ?? [], usedBy(table));
  const unitName = unitNameOf(def);
  // No section is needed: Quadlet makes a .network or .volume of defaults from a file of [Unit] only,
  // and a .image or .build without one lacks the key it requires, which says so.
  if (def.name.kind !== "plain") out.diagnostics.push(error(def.file, 0, `a .${type} file cannot be a template or an instance; berth makes those of .container files only`));
  checkCommon(def, c, out);
  const plan = make(c, def, ctx);
  reportKeys(c, table, `unknown key in [${section}]`);

  const command = plan.command.slice();
  // The spec covers what the definition asks, and is carried on the object as a label.
  const spec = digest(command.join("\0"));
  if (LABELLED.has(type)) command.splice(3, 0, "--label", `${UNIT_LABEL}=${unitName}`, "--label", `${SPEC_LABEL}=${spec}`);
  const start = plan.ensure ? ctx.helper.concat("ensure", plan.resource, type, ...(plan.ensureArgs ?? []), "--", ...command) : command;
  const service = [
    "Type=oneshot",
    "RemainAfterExit=yes",
    `SyslogIdentifier=${unitName.slice(0, -".service".length)}`,
    `ExecStart=${formatExec(start)}`,
  ];
  if (plan.stopPost) service.push(`ExecStopPost=-${formatExec(plan.stopPost)}`);
  for (const line of plan.service ?? []) service.push(line);
  for (const e of def.sections.get("Service") ?? []) service.push(copied(e, out.diagnostics));

  const unit = unitSection(def, ctx, `berth ${type} ${plan.resource}`, out).concat(useLines(plan.uses, out.dependencies), plan.unit ?? []);
  const finished = finishUnit(def, ctx, unitName, c, out, [{ name: "Unit", lines: unit }, { name: "Service", lines: service }]);
  return { ...finished, type, containerName: "", resource: plan.resource, image: undefined, imageFrom: undefined, pull: undefined, spec, ports: [] };
}
