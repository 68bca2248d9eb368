/**
 * Specifiers systemd expands in unit files (systemd.unit(5) of systemd 252, "Specifiers"),
 * %y/%Y (the unit file's path and directory) included, which Quadlet files use.
 */
const KNOWN = new Set("aAbBCdEfgGhHiIjJlLmMnNopPqsStTuUvVwWyY%");

/** Returns a complaint about the first `%` that systemd would reject or misread, if any. */
export function checkSpecifiers(value: string): string | undefined {
  for (let i = value.indexOf("%"); i >= 0; i = value.indexOf("%", i + 2)) {
    const next = value[i + 1];
    if (next === undefined) return `a lone "%" ends the value; write "%%" for a literal percent sign`;
    if (!KNOWN.has(next)) return `"%${next}" is not a systemd specifier; write "%%" for a literal percent sign`;
  }
  return undefined;
}

/**
 * `%D`, the shared data directory of systemd 256, written out as `dataDir`: systemd 252 fails a
 * unit that has it ("Invalid slot"), and Quadlet files written for a newer systemd use it in paths.
 */
export function expandDataDir(value: string, dataDir: string): string {
  let out = "";
  let from = 0;
  for (let i = value.indexOf("%"); i >= 0; i = value.indexOf("%", i + 2)) {
    if (value[i + 1] !== "D") continue;
    out += value.slice(from, i) + dataDir;
    from = i + 2;
  }
  return from === 0 ? value : out + value.slice(from);
}
