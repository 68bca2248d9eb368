/**
 * A JSON `\u0025` or `\u0024` is a literal percent or dollar sign, so it must reach the unit as
 * `%%` or `$$`, as `\x25` and `\x24` do in words; escaped backslashes are matched first so that
 * `\\u0025` stays text.
 */
const JSON_LITERAL = /\\(?:\\|u0025|u0024)/gi;

/** A JSON array of strings, in unit syntax; undefined if the value is none. */
export function jsonWords(value: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(value.replace(JSON_LITERAL, (m) => (m === "\\\\" ? m : m.endsWith("5") ? "%%" : "$$")));
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((w) => typeof w === "string")) return parsed;
  } catch {
    // Not JSON: the caller says what was expected.
  }
  return undefined;
}

/**
 * Whether a value is meant as a JSON array of words but is none: empty, or strings mixed with
 * other values. `[ -f /ok ]` is no JSON, and `[ 1 ]` or `[ true ]` no words: both are shell tests.
 */
export function isBadJsonWords(value: string): boolean {
  try {
    const parsed: unknown = JSON.parse(value);
    return Array.isArray(parsed) && (parsed.length === 0 || parsed.some((w) => typeof w === "string"));
  } catch {
    return false;
  }
}
