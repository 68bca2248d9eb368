/**
 * Writes argv into a unit's Exec*= line so that systemd hands exactly these strings to the
 * program. `%` specifiers are left for systemd to expand (definitions use systemd's syntax, so a
 * literal percent sign was already written `%%`). Lines carry the `:` prefix (systemd ≥ 249), so
 * `$` is never subject to environment expansion. Anything else unusual is double-quoted with C
 * escapes, which also keeps newlines and control characters from ever reaching the unit file raw.
 */
const PLAIN = /^[A-Za-z0-9_@%+=:,./-]+$/;

export function quoteExecArg(arg: string): string {
  if (arg === ";") return "\\;";
  if (PLAIN.test(arg)) return arg;
  let out = '"';
  for (const ch of arg) {
    const code = ch.codePointAt(0)!;
    if (ch === "\\") out += "\\\\";
    else if (ch === '"') out += '\\"';
    else if (ch === "\n") out += "\\n";
    else if (ch === "\t") out += "\\t";
    else if (ch === "\r") out += "\\r";
    else if (code < 0x20 || code === 0x7f) out += "\\x" + code.toString(16).padStart(2, "0");
    else out += ch;
  }
  return out + '"';
}

export function formatExec(argv: readonly string[]): string {
  return ":" + argv.map(quoteExecArg).join(" ");
}
