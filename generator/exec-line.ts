/**
 * Writes argv into a unit's Exec*= line so that systemd hands exactly these strings to the
 * program. `%` specifiers are left for systemd to expand (definitions use systemd's syntax, so a
 * literal percent sign was already written `%%`). Lines carry the `:` prefix (systemd ≥ 249), so
 * `$` is never subject to environment expansion. Anything else unusual is double-quoted with C
 * escapes, which also keeps newlines and control characters from ever reaching the unit file raw.
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
  return ":" + argv.map(quoteExecArg).join(" ");
}
