import { error, warning, type Diagnostic } from "./diagnostics.js";
import { checkSpecifiers } from "./specifiers.js";
import type { Entry } from "./unit-file.js";
import { splitWords } from "./words.js";

const NONE: readonly Entry[] = [];
const TRUE = new Set(["1", "yes", "y", "true", "t", "on"]);
const FALSE = new Set(["0", "no", "n", "false", "f", "off"]);

/**
 * Reads `[Container]` with systemd's assignment semantics: for a single-valued key the last
 * assignment wins, for a list an empty assignment drops everything assigned before it. Every
 * accessor reports problems against the line that caused them.
 */
export class ContainerSection {
  readonly diagnostics: Diagnostic[] = [];
  private readonly byKey = new Map<string, Entry[]>();

  /**
   * `used` tells the keys whose values reach the unit. Only those are checked for specifiers: an
   * ignored key (`CPUQuota=600%`, warned about elsewhere) is never written, so its `%` is harmless.
   */
  constructor(entries: readonly Entry[], used: (key: string) => boolean) {
    for (const e of entries) {
      const list = this.byKey.get(e.key);
      if (list) list.push(e);
      else this.byKey.set(e.key, [e]);
      if (!used(e.key)) continue;
      const bad = checkSpecifiers(e.value);
      if (bad) this.fail(e, bad);
    }
  }

  /** Keys in order of first assignment. */
  keys(): IterableIterator<string> {
    return this.byKey.keys();
  }

  first(key: string): Entry | undefined {
    return this.byKey.get(key)?.[0];
  }

  fail(e: Entry, message: string): void {
    this.diagnostics.push(error(e.file, e.line, `${e.key}=: ${message}`));
  }

  warn(e: Entry, message: string): void {
    this.diagnostics.push(warning(e.file, e.line, `${e.key}=: ${message}`));
  }

  /** The entry in effect for a single-valued key; an empty last assignment means "default". */
  single(key: string): Entry | undefined {
    const last = this.byKey.get(key)?.at(-1);
    return last && last.value !== "" ? last : undefined;
  }

  value(key: string): string | undefined {
    return this.single(key)?.value;
  }

  /** Entries after the last empty assignment, each value kept whole (one path, one port…). */
  entries(key: string): readonly Entry[] {
    const all = this.byKey.get(key);
    if (!all) return NONE;
    let start = all.length;
    while (start > 0 && all[start - 1]!.value !== "") start--;
    return start === 0 ? all : all.slice(start);
  }

  /** Like entries(), but each value is split into quoted words as systemd splits lists. */
  words(key: string): Array<{ word: string; entry: Entry }> {
    const out: Array<{ word: string; entry: Entry }> = [];
    for (const entry of this.entries(key)) {
      const split = splitWords(entry.value);
      if (!split.ok) this.fail(entry, split.message);
      else for (const word of split.words) out.push({ word, entry });
    }
    return out;
  }

  /** The words of the last assignment only. */
  lastWords(key: string): string[] {
    const e = this.single(key);
    if (!e) return [];
    const split = splitWords(e.value);
    if (!split.ok) {
      this.fail(e, split.message);
      return [];
    }
    return split.words;
  }

  bool(key: string): boolean | undefined {
    const e = this.single(key);
    if (!e) return undefined;
    const v = e.value.toLowerCase();
    if (TRUE.has(v)) return true;
    if (FALSE.has(v)) return false;
    this.fail(e, `expected a boolean (yes/no), found "${e.value}"`);
    return undefined;
  }

  /** A single value that must match `pattern`; `expected` completes "expected …". */
  matching(key: string, pattern: RegExp, expected: string): Entry | undefined {
    const e = this.single(key);
    if (e && !pattern.test(e.value)) {
      this.fail(e, `expected ${expected}, found "${e.value}"`);
      return undefined;
    }
    return e;
  }

  oneOf<T extends string>(key: string, allowed: readonly T[]): T | undefined {
    const e = this.single(key);
    if (!e) return undefined;
    const v = e.value.toLowerCase() as T;
    if (allowed.includes(v)) return v;
    this.fail(e, `expected one of ${allowed.join(", ")}, found "${e.value}"`);
    return undefined;
  }
}
