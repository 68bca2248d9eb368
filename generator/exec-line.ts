/**
 * Writes argv into a unit's Exec*= line so that systemd hands exactly these strings to the
 * program. The words are in unit syntax, as a definition's values are: systemd expands `%`
 * specifiers, and at start substitutes `${VAR}` anywhere in a word and `$VAR` as a whole word from
 * the unit's environment, as Quadlet leaves them to it (a literal `%` is `%%`, a literal `$` is
 * `$$`). Anything else unusual is double-quoted with C escapes, which also keeps newlines and
 * control characters from ever reaching the unit file raw.
 */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;
/** Inside double quotes only these need escaping; every other character stands for itself. */
const SPECIAL = /[\\"\x00-\x1f\x7f]/g;
const ESCAPES: Record<string, string> = { "\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t", "\r": "\\r" };

function escape(ch: string): string {
  return ESCAPES[ch] ?? "\\x" + ch.charCodeAt(0).toString(16).padStart(2, "0");
}

export function quoteExecArg(arg: string): string {
  if (arg === ";") return "\\;";
  if (PLAIN.test(arg)) return arg;
  return `"${arg.replace(SPECIAL, escape)}"`;
}

export function formatExec(argv: readonly string[]): string {
  return argv.map(quoteExecArg).join(" ");
}

/** Text of berth's own (a path, a name) in unit syntax: systemd expands neither `%` nor `$` in it. */
export function unitLiteral(text: string): string {
  return text.replaceAll("%", "%%").replaceAll("$", "$$$$");
}

/**
 * systemd replaces a whole word `$VAR` by the variable's value split at whitespace: no word at all
 * when it is unset or empty, several when it holds spaces. Where one word is expected (an option's
 * value, the container name, the image) that would shift every word after it, so the word is
 * written `${VAR}`, which systemd substitutes as exactly one word. A lone `$`, which systemd would
 * drop, stays a literal dollar sign.
 */
export function oneWord(word: string): string {
  if (word === "$") return "$$";
  return WHOLE_WORD_VARIABLE.test(word) ? `\${${word.slice(1)}}` : word;
}
/** What systemd 252's replace_env_argv() takes for a variable word: `$` then neither `{` nor `$`. */
const WHOLE_WORD_VARIABLE = /^\$[^{$}][^}]*$/;

/** Whether systemd fills in part of a value when the unit starts (a specifier or a variable). */
export function expandedAtStart(text: string): boolean {
  return text.includes("%") || text.includes("$");
}
