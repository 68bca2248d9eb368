import type { ContainerSection } from "./container-section.js";
import type { CreateRun } from "./create-run.js";
import { isBadJsonWords, jsonWords } from "./json-words.js";
import { splitWords } from "./words.js";

/**
 * The health check forms Podman and Docker take, each as what Docker's `--health-cmd` needs: one
 * shell command line (Docker's CMD-SHELL), or null for no health check at all. Undefined means the
 * form's arguments do not fit it.
 */
const HEALTH_FORMS: Readonly<Record<string, (args: readonly string[]) => string | null | undefined>> = {
  NONE: (args) => (args.length === 0 ? null : undefined),
  "CMD-SHELL": (args) => (args.length > 0 && args.join("").trim() !== "" ? args.join(" ") : undefined),
  // Docker's CLI has no exec form, so the words are quoted into a shell line that runs exactly them.
  CMD: (args) => (args.length > 0 ? args.map(shellWord).join(" ") : undefined),
};
const HEALTH_FORM_PREFIX = /^(CMD-SHELL|CMD|NONE)(?:\s+([^]*))?$/;
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word the shell reads back as itself: single quotes, with a quote written as '\''. */
function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/** HealthCmd=: `--health-cmd LINE`, or `--no-healthcheck` for `none`. */
export function healthArgs(run: CreateRun): void {
  const health = healthCommand(run.c);
  if (health === null) run.argv.push("--no-healthcheck");
  else if (health !== undefined) {
    run.health = health;
    run.argv.push("--health-cmd", health);
  }
}

export const HEALTH_ON_FAILURE = ["none", "kill", "restart", "stop"] as const;

/** HealthOnFailure= and Notify=: what the unit's start waits for, and does when the container turns unhealthy. */
export function readinessKeys(run: CreateRun): void {
  const { c } = run;
  const hasHealth = run.health !== undefined;
  const onFailure = c.oneOf("HealthOnFailure", HEALTH_ON_FAILURE) ?? "none";
  const notifyEntry = c.single("Notify");
  const healthyNotify = notifyEntry?.value.toLowerCase() === "healthy";
  const notifyFlag = healthyNotify ? undefined : c.bool("Notify");
  const notify = healthyNotify ? "healthy" : notifyFlag === undefined ? undefined : String(notifyFlag);
  if (notifyEntry && notify === "true") {
    c.fail(notifyEntry, "a Docker container cannot send sd_notify messages; use Notify=healthy with a HealthCmd=");
  }
  run.waitHealthy = notify === "healthy" || (notify === undefined && hasHealth);
  run.onFailure = onFailure;
  if (notify === "healthy" && !hasHealth) c.fail(notifyEntry!, "Notify=healthy needs a HealthCmd=");
  if (onFailure !== "none" && !hasHealth) c.fail(c.single("HealthOnFailure")!, "HealthOnFailure= needs a HealthCmd=");
}

/**
 * HealthCmd= as a shell command line for `--health-cmd`, null for `none`, undefined if unset or
 * wrong: a plain command (a shell line, as in Podman), `CMD-SHELL LINE`, `CMD PROGRAM ARGS…`,
 * `NONE`, or Docker's JSON array form (`["CMD","curl","-f","URL"]`).
 */
function healthCommand(c: ContainerSection): string | null | undefined {
  const e = c.single("HealthCmd");
  if (!e) return undefined;
  const value = e.value.trim();
  if (value.toLowerCase() === "none") return null;
  let form = "CMD-SHELL";
  let args: readonly string[] | undefined = [value];
  // A value that is no JSON array is a shell line, as in Podman: `[ -f /ok ]` is the test command.
  const json = value.startsWith("[") ? jsonWords(value) : undefined;
  // `[]` or `["CMD", 1]` would run as a shell line that fails on every check.
  if (json === undefined && value.startsWith("[") && isBadJsonWords(value)) {
    c.fail(e, `a JSON array must hold the words of a command, as strings, found "${e.value}"`);
    return undefined;
  }
  if (json && Object.hasOwn(HEALTH_FORMS, json[0]!.toUpperCase())) {
    form = json[0]!.toUpperCase();
    args = json.slice(1);
  } else if (json) {
    // Podman's array without a form: the words of a command, run as they are; one word is a shell line.
    form = json.length === 1 ? "CMD-SHELL" : "CMD";
    args = json;
  } else {
    const m = HEALTH_FORM_PREFIX.exec(value);
    if (m) {
      form = m[1]!;
      const rest = m[2] ?? "";
      const split = form === "CMD" ? splitWords(rest) : undefined;
      if (split && !split.ok) {
        c.fail(e, split.message);
        return undefined;
      }
      args = split ? split.words : rest === "" ? [] : [rest];
    }
  }
  const translated = args && Object.hasOwn(HEALTH_FORMS, form) ? HEALTH_FORMS[form]!(args) : undefined;
  if (translated === undefined) {
    c.fail(e, `expected a command, CMD-SHELL COMMAND, CMD PROGRAM ARGS…, NONE, or a JSON array such as ["CMD","curl","-f","URL"], found "${e.value}"`);
  }
  return translated;
}
