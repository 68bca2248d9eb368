import { CONTAINER_KEYS } from "./container-keys.js";
import type { ContainerSection } from "./container-section.js";
import type { CreateRun } from "./create-run.js";
import { digest } from "./digest.js";
import { oneWord } from "./exec-line.js";
import { flagArg } from "./key-rules.js";
import { SPEC_LABEL, UNIT_LABEL } from "./labels.js";
import { NO_SECRETS } from "./secret-keys.js";
import type { Definition, TranslateContext } from "./translate.js";


/**
 * [Container] as `docker create` options: a walk over the key table, in its order, each key's
 * options appended by its kind or by its handler. Checks run in key order, which orders the
 * diagnostics.
 */
export function dockerCreate(def: Definition, c: ContainerSection, ctx: TranslateContext, unitName: string, containerName: string): CreateRun {
  // A template's instances each name themselves: systemd expands %n to "worker@blue.service".
  const unitLabel = def.name.kind === "template" ? "%n" : unitName;
  const argv: string[] = [ctx.docker, "create", "--name", containerName, "--restart", "no", "--label", `${UNIT_LABEL}=${unitLabel}`];
  const fixedArgs = argv.length;
  const run: CreateRun = {
    c, def, ctx, argv,
    resolved(e, r) {
      if ("error" in r) return void c.fail(e, r.error);
      if (r.use) run.uses.push(r.use);
      return r.value;
    },
    image: undefined, imageFrom: undefined, uses: [], pull: undefined, ports: [], health: undefined, waitHealthy: false,
    onFailure: "none", stopTimeout: 0, spec: "", config: undefined, connect: [], joins: [], startedBy: undefined, secrets: NO_SECRETS, command: [],
  };
  // for-in over the record: this runs once per definition in a process that exits right after, so
  // the loop stays in the interpreter, where a for-of over pairs allocates an iterator per step.
  for (const key in CONTAINER_KEYS) {
    const rule = CONTAINER_KEYS[key]!;
    if (rule.kind === "own") {
      if ("handler" in rule) rule.handler(run);
    } else if (rule.kind !== "refused" && rule.kind !== "ignored") {
      flagArg(c, key, rule, argv);
    }
  }
  // Options and the image are one word each; the command's words are the command's to split.
  for (let i = fixedArgs; i < argv.length; i++) argv[i] = oneWord(argv[i]!);
  const imageName = run.image === undefined ? undefined : oneWord(run.image);
  run.image = imageName;
  if (imageName) argv.push(imageName);
  // systemd would drop a lone `$` word from the command; it can only mean a dollar sign.
  for (const word of run.command) argv.push(word === "$" ? "$$" : word);
  // The spec label lets the helper and berthd recognise a container that already is exactly this
  // definition: the intended spec, never what `docker inspect` happens to report.
  // A further network's own address or names are part of what the container is too; a container
  // without them keeps the spec it had before there were any.
  run.spec = digest((run.connect.some((w) => w.startsWith("--connect-")) ? argv.concat(run.connect) : argv).join("\0"));
  argv.splice(fixedArgs, 0, "--label", `${SPEC_LABEL}=${run.spec}`);
  run.connect = run.connect.map(oneWord);
  return run;
}

