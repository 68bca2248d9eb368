import type { ContainerSection } from "./container-section.js";

/**
 * How berth reads one key of a Quadlet section, as data: the table of a section is its whole
 * vocabulary. `flag` keys become Docker options by their kind; `own` keys are read by the file
 * type's code (a name, a pairing, a translation); the rest are refused (an error: the result would
 * not be what the file asks) or ignored (a warning: it only tunes Podman), each with the reason.
 */
export type KeyRule =
  | { kind: "single" | "list" | "words" | "bool"; flag: string }
  | { kind: "own" }
  | { kind: "refused"; why: string; when?: "true" | "false" }
  | { kind: "ignored"; why: string };

export type KeyTable = Readonly<Record<string, KeyRule>>;

/**
 * Appends the options of every `flag` key, in table order: a single value (the last one wins), one
 * option per entry (`list`) or per word (`words`), or the flag alone for a true boolean.
 */
export function flagArgs(c: ContainerSection, table: KeyTable, argv: string[]): void {
  for (const key in table) {
    const rule = table[key]!;
    if (rule.kind === "single") {
      const v = c.value(key);
      if (v !== undefined) argv.push(rule.flag, v);
    } else if (rule.kind === "list") {
      for (const e of c.entries(key)) argv.push(rule.flag, e.value);
    } else if (rule.kind === "words") {
      for (const { word } of c.words(key)) argv.push(rule.flag, word);
    } else if (rule.kind === "bool") {
      if (c.bool(key)) argv.push(rule.flag);
    }
  }
}

/**
 * Reports, at its first line, each key the table refuses or ignores, and each it does not know.
 * A refusal `when` a boolean has one value only applies to that value: `Copy=true` is Docker's
 * behaviour anyway, `Copy=false` is not.
 */
export function reportKeys(c: ContainerSection, table: KeyTable, section: string): void {
  for (const key of c.keys()) {
    const rule = Object.hasOwn(table, key) ? table[key] : undefined;
    // An empty last assignment resets the key to its default, which needs no support.
    const set = c.single(key);
    if (!rule) c.warn(c.first(key)!, `unknown key in [${section}], ignored (see berth.container(5) for the keys berth knows)`);
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
