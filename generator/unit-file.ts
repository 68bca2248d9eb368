import { error, type Diagnostic } from "./diagnostics.js";

/** One assignment as written, with where it was written so errors can point at it. */
export interface Entry {
  key: string;
  value: string;
  file: string;
  line: number;
}

/** Sections in order of first appearance; a section repeated (or extended by a drop-in) accumulates. */
export type Sections = Map<string, Entry[]>;

export interface ParsedUnitFile {
  sections: Sections;
  diagnostics: Diagnostic[];
}

const KEY = /^[A-Za-z0-9][A-Za-z0-9_.-]*$/;
const SECTION = /^\[([^[\]]+)\]$/;

/**
 * Parses systemd.syntax(7): `#`/`;` comments, `[Section]` headers, `Key=Value` with surrounding
 * whitespace trimmed, and trailing-backslash continuation (the backslash becomes a space and
 * comment lines inside a continuation are skipped). Values stay raw: quoting and escapes are
 * interpreted per key, exactly as systemd does.
 */
export function parseUnitFile(text: string, file: string, into: Sections = new Map()): ParsedUnitFile {
  const diagnostics: Diagnostic[] = [];
  const lines = text.replace(/^\uFEFF/, "").split(/\r?\n/);
  let current: Entry[] | undefined;
  let pending: { text: string; line: number } | undefined;

  const finish = (logical: string, lineNo: number): void => {
    const line = logical.trim();
    if (line === "" || line.startsWith("#") || line.startsWith(";")) return;
    const header = SECTION.exec(line);
    if (header) {
      const name = header[1]!;
      current = into.get(name);
      if (!current) {
        current = [];
        into.set(name, current);
      }
      return;
    }
    if (line.startsWith("[")) {
      diagnostics.push(error(file, lineNo, `malformed section header "${line}"`));
      current = undefined;
      return;
    }
    const eq = line.indexOf("=");
    if (eq < 0) {
      diagnostics.push(error(file, lineNo, `expected Key=Value, found "${line}"`));
      return;
    }
    const key = line.slice(0, eq).trim();
    if (!KEY.test(key)) {
      diagnostics.push(error(file, lineNo, `invalid key name "${key}"`));
      return;
    }
    if (!current) {
      diagnostics.push(error(file, lineNo, `assignment "${key}=" outside of any [Section]`));
      return;
    }
    current.push({ key, value: line.slice(eq + 1).trim(), file, line: lineNo });
  };

  lines.forEach((raw, index) => {
    const lineNo = index + 1;
    if (pending) {
      const t = raw.trimStart();
      if (t.startsWith("#") || t.startsWith(";")) return;
    }
    const continued = /\\$/.test(raw) && !/^\s*[#;]/.test(raw);
    const piece = continued ? raw.slice(0, -1) + " " : raw;
    if (continued) {
      pending = pending ? { text: pending.text + piece, line: pending.line } : { text: piece, line: lineNo };
      return;
    }
    if (pending) {
      finish(pending.text + piece, pending.line);
      pending = undefined;
    } else {
      finish(piece, lineNo);
    }
  });
  if (pending) finish(pending.text, pending.line);
  return { sections: into, diagnostics };
}
