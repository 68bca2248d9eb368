export type Severity = "error" | "warning";

/** A problem found in a definition, pinned to the file and line an operator must edit. */
export interface Diagnostic {
  severity: Severity;
  file: string;
  /** 1-based; 0 when the problem belongs to the file or the set as a whole. */
  line: number;
  message: string;
}

export function error(file: string, line: number, message: string): Diagnostic {
  return { severity: "error", file, line, message };
}

export function warning(file: string, line: number, message: string): Diagnostic {
  return { severity: "warning", file, line, message };
}

/** Compiler-style `file:line: severity: message`, which editors and CI logs link to. */
export function formatDiagnostic(d: Diagnostic): string {
  const where = d.line > 0 ? `${d.file}:${d.line}` : d.file;
  return `${where}: ${d.severity}: ${d.message}`;
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === "error");
}
