import type { ContainerSection } from "./container-section.js";
import { checkProblem, type Check } from "./value-checks.js";

/** A value's shape: one (the last assignment wins), one per assignment, words, a boolean, or one of a few words. */
export type ValueKind = "single" | "list" | "words" | "bool" | "one-of";

/** A key that becomes one Docker option by its kind; a value failing its check is reported and left out. */
export interface FlagRule {
  kind: "single" | "list" | "words" | "bool";
  flag: string;
  check?: Check;
  /**
   * A list of KEY=VALUE words, read as Quadlet reads one: a word without `=` is left out with a
   * warning (Quadlet drops it silently, as systemd drops it from its own Environment=).
   */
  pairs?: true;
  /** Words of a `words` list that Docker has no option for: each is left out with a warning saying why. */
  ignoredWords?: Readonly<Record<string, string>>;
}

/** Why a word without `=` in a KEY=VALUE list is only warned about: the file runs under Quadlet. */
const NOT_A_PAIR = "not KEY=VALUE, so Quadlet and systemd leave it out, and so does berth (a # starts a comment only at the beginning of a line)";

/**
 * How berth reads one key of a Quadlet section, as data: the table of a section is its whole
 * vocabulary. `flag` keys become Docker options by their kind; `own` keys are read by the file
 * type's code (a name, a pairing, a translation): by the `handler` of the row, by the handler of
 * the key named `with`, or elsewhere as `readBy` says; the rest are refused (an error: the result
 * would not be what the file asks) or ignored (a warning: it only tunes Podman), each with the reason.
 */
export type KeyRule =
  | FlagRule
  | { kind: "own"; value?: ValueKind; values?: readonly string[]; check?: Check; handler?: (run: never) => void; with?: string; readBy?: string }
  | { kind: "refused"; why: string; when?: "true" | "false" }
  | { kind: "ignored"; why: string };

export type KeyTable = Readonly<Record<string, KeyRule>>;

/**
 * Appends a `flag` key's options: a single value, one option per entry (`list`) or per word
 * (`words`), or the flag alone for a true boolean.
 */
export function flagArg(c: ContainerSection, key: string, rule: FlagRule, argv: string[]): void {
  const { flag, check } = rule;
  if (rule.kind === "single") {
    const e = c.single(key);
    if (e === undefined) return;
    const problem = check && checkProblem(e.value, check);
    if (problem) c.fail(e, problem);
    else argv.push(flag, e.value);
  } else if (rule.kind === "list") {
    for (const e of c.entries(key)) {
      const problem = check && checkProblem(e.value, check);
      if (problem) c.fail(e, problem);
      else argv.push(flag, e.value);
    }
  } else if (rule.kind === "words") {
    // Most keys are absent: words() would still allocate a list and step an iterator over nothing.
    if (c.first(key) === undefined) return;
    for (const { word, entry } of c.words(key)) {
      if (rule.pairs && !word.includes("=")) {
        c.warn(entry, `"${word}" is ${NOT_A_PAIR}`);
        continue;
      }
      if (rule.ignoredWords && Object.hasOwn(rule.ignoredWords, word)) {
        c.warn(entry, `"${word}": ${rule.ignoredWords[word]}; ignored`);
        continue;
      }
      const problem = check && checkProblem(word, check);
      if (problem) c.fail(entry, problem);
      else argv.push(flag, word);
    }
  } else if (c.bool(key)) {
    argv.push(flag);
  }
}

/** Appends the options of every `flag` key, in table order. */
export function flagArgs(c: ContainerSection, table: KeyTable, argv: string[]): void {
  for (const key in table) {
    const rule = table[key]!;
    if (rule.kind !== "own" && rule.kind !== "refused" && rule.kind !== "ignored") flagArg(c, key, rule, argv);
  }
}

/** The single value of a key in effect that passes `check`; a failing one is reported. */
export function checkedSingle(c: ContainerSection, key: string, check: Check) {
  const e = c.single(key);
  const problem = e && checkProblem(e.value, check);
  if (!problem) return e;
  c.fail(e, problem);
  return undefined;
}

/**
 * Reports, at its first line, each key the table refuses or ignores, and each it does not know
 * (`unknown` says so). A refusal `when` a boolean has one value only applies to that value:
 * `Copy=true` is Docker's behaviour anyway, `Copy=false` is not.
 */
export function reportKeys(c: ContainerSection, table: KeyTable, unknown: string): void {
  for (const key of c.keys()) {
    const rule = Object.hasOwn(table, key) ? table[key] : undefined;
    // An empty last assignment resets the key to its default, which needs no support.
    const set = c.single(key);
    if (!rule) c.warn(c.first(key)!, `${unknown}, ignored (see berth.container(5) for the keys berth knows)`);
    else if (rule.kind === "ignored") c.warn(c.first(key)!, `not supported with Docker: ${rule.why}; ignored`);
    else if (rule.kind === "refused" && set && (rule.when === undefined || String(c.bool(key)) === rule.when)) {
      c.fail(set, `not supported with Docker: ${rule.why}`);
    }
  }
}

/** Whether a key's value reaches the unit, so that its specifiers must be valid. */
export const usedBy = (table: KeyTable) => (key: string): boolean => {
  const rule = Object.hasOwn(table, key) ? table[key]! : undefined;
  return rule !== undefined && rule.kind !== "ignored" && rule.kind !== "refused";
};
