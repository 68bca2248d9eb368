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
const COMMENT = /^\s*[#;]/;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/**
 * Parses systemd.syntax(7): `#`/`;` comments, `[Section]` headers, `Key=Value` with surrounding
 * whitespace trimmed, and trailing-backslash continuation (the backslash becomes a space and
 * comment lines inside a continuation are skipped). Values stay raw: quoting and escapes are
 * interpreted per key, exactly as systemd does.
 */
export function parseUnitFile(text: string, file: string, into: Sections = new Map()): ParsedUnitFile {
  const diagnostics: Diagnostic[] = [];
  const lines = (text.charCodeAt(0) === 0xfeff ? text.slice(1) : text).split("\n");
  let current: Entry[] | undefined;

  const finish = (logical: string, lineNo: number): void => {
    const line = logical.trim();
    const first = line[0];
    if (first === undefined || first === "#" || first === ";") return;
    if (first === "[") {
      const header = SECTION.exec(line);
      if (!header) {
        diagnostics.push(error(file, lineNo, `malformed section header "${line}"`));
        current = undefined;
        return;
      }
      const name = header[1]!;
      current = into.get(name);
      if (!current) {
        current = [];
        into.set(name, current);
      }
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

  // A continued logical line: its text so far and the line it started on.
  let pending: string | undefined;
  let pendingLine = 0;
  for (let index = 0; index < lines.length; index++) {
    let raw = lines[index]!;
    // A string split is much cheaper than one on /\r?\n/; the CR of a CRLF ending goes here.
    // Last characters are compared by code: endsWith() is a generic builtin call, and this loop
    // runs for every line of every definition.
    if (index < lines.length - 1 && raw.charCodeAt(raw.length - 1) === CR) raw = raw.slice(0, -1);
    if (pending !== undefined && COMMENT.test(raw)) continue;
    if (raw.charCodeAt(raw.length - 1) === BACKSLASH && !COMMENT.test(raw)) {
      const piece = raw.slice(0, -1) + " ";
      if (pending === undefined) {
        pending = piece;
        pendingLine = index + 1;
      } else {
        pending += piece;
      }
      continue;
    }
    if (pending !== undefined) {
      finish(pending + raw, pendingLine);
      pending = undefined;
    } else {
      finish(raw, index + 1);
    }
  }
  if (pending !== undefined) finish(pending, pendingLine);
  return { sections: into, diagnostics };
}
