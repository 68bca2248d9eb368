export type Severity = "error" | "warning";

/** A problem found in a definition, pinned to the file and line an operator must edit. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the problem belongs to the file or the set as a whole. */
  line: number;
  message: string;
  /** Set on the "… and N more" summary that stands for diagnostics left out of a long list. */
  omitted?: number;
}

export function error(file: string, line: number, message: string): Diagnostic {
  return { severity: "error", file, line, message };
}

export function warning(file: string, line: number, message: string): Diagnostic {
  return { severity: "warning", file, line, message };
}

/** Control characters (a newline in a file name, a CR in a value) would forge lines in logs. */
const CONTROL = /[\x00-\x1f\x7f]/g;
const escapeControl = (c: string): string => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`;

/** Compiler-style `file:line: severity: message`, which editors and CI logs link to. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`.replace(CONTROL, escapeControl);
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}

/**
 * Diagnostics kept per file. A file of 130,000 junk lines gives one error per line: past the
 * first few, more of them tell the operator nothing and only cost memory and log space.
 */
export const MAX_DIAGNOSTICS_PER_FILE = 50;

/**
 * Keeps the first MAX_DIAGNOSTICS_PER_FILE diagnostics of each file, in order, and puts one
 * "… and N more" right after the last one kept; earlier summaries are folded into it, so capping
 * twice counts everything once. The summary is an error when any omitted diagnostic was.
 */
export function capDiagnostics(list: readonly Diagnostic[], max = MAX_DIAGNOSTICS_PER_FILE): Diagnostic[] {
  if (list.length <= max && !list.some((d) => d.omitted !== undefined)) return list as Diagnostic[];
  const perFile = new Map<string, { kept: number; lastKept: number; omitted: number; omittedError: boolean }>();
  const keep: boolean[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    let f = perFile.get(d.file);
    if (!f) perFile.set(d.file, (f = { kept: 0, lastKept: -1, omitted: 0, omittedError: false }));
    const summary = d.omitted !== undefined;
    const kept = !summary && f.kept < max;
    keep.push(kept);
    if (kept) {
      f.kept++;
      f.lastKept = i;
    } else {
      f.omitted += d.omitted ?? 1;
      f.omittedError ||= d.severity === "error";
    }
  }
  const out: Diagnostic[] = [];
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    const f = perFile.get(d.file)!;
    if (keep[i]) out.push(d);
    // A file with only summaries still gets its one summary, at the first of them.
    if (f.omitted > 0 && (f.lastKept === i || (f.lastKept < 0 && !keep[i]))) {
      out.push({ severity: f.omittedError ? "error" : "warning", file: d.file, line: 0, message: `… and ${f.omitted} more`, omitted: f.omitted });
      f.omitted = 0;
    }
  }
  return out;
}

/**
 * Orders a definition's diagnostics by file, in the order its files apply (the main file, then
 * its drop-ins), then by line: line numbers of different files do not compare. The sort is
 * stable, so diagnostics of one line keep the order they were found in.
 */
export function sortByFile(list: Diagnostic[], files: readonly string[]): Diagnostic[] {
  if (list.length < 2) return list;
  const rank = new Map(files.map((f, i) => [f, i]));
  const of = (d: Diagnostic) => rank.get(d.file) ?? files.length;
  return list.sort((a, b) => of(a) - of(b) || a.line - b.line);
}
