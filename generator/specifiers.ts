/**
 * Specifiers systemd expands in unit files (systemd.unit(5) of systemd 252, "Specifiers"),
 * %y/%Y (the unit file's path and directory) included, which Quadlet files use.
 */
const KNOWN = new Set("aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY%");

/** Specifiers of later systemd that Quadlet files use: systemd 252 fails the unit ("Invalid slot"). */
const LATER: Readonly<Record<string, string>> = {
  D: `"%D" (the shared data directory) is a specifier of systemd newer than 252, which fails the unit; write the path: /usr/share, or %h/.local/share for a user's`,
};

/** Returns a complaint about the first `%` that systemd would reject or misread, if any. */
export function checkSpecifiers(value: string): string | undefined {
  for (let i = value.indexOf("%"); i >= 0; i = value.indexOf("%", i + 2)) {
    const next = value[i + 1];
    if (next === undefined) return `a lone "%" ends the value; write "%%" for a literal percent sign`;
    if (!KNOWN.has(next)) return LATER[next] ?? `"%${next}" is not a systemd specifier; write "%%" for a literal percent sign`;
  }
  return undefined;
}
