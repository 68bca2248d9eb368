import { capDiagnostics, error, type Diagnostic } from "./diagnostics.js";

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
/** systemd refuses quotes, backslashes and control characters in a section name (string_is_safe()). */
const SECTION = /^\[([^[\]"'\\\x00-\x1f\x7f]+)\]$/;
/** systemd's read_line() ends a line at a lone CR and at NUL as well as at LF. */
const HIDDEN_LINE_END = /\r(?!\n)|\0/;
const CR = 0x0d;
const BACKSLASH = 0x5c;

/** systemd's WHITESPACE is these four only; JavaScript's \s and trim() also take NBSP, U+FEFF and more. */
function isSpace(code: number): boolean {
  return code === 0x20 || code === 0x09 || code === 0x0a || code === 0x0d;
}

/** A `#` or `;` after leading whitespace; by character code, as this runs for every line. */
function isComment(line: string): boolean {
  let i = 0;
  while (i < line.length && isSpace(line.charCodeAt(i))) i++;
  const c = line.charCodeAt(i);
  return c === 0x23 || c === 0x3b;
}

/** strstrip() with systemd's whitespace. */
function strip(s: string): string {
  let start = 0;
  let end = s.length;
  while (start < end && isSpace(s.charCodeAt(start))) start++;
  while (end > start && isSpace(s.charCodeAt(end - 1))) end--;
  return start === 0 && end === s.length ? s : s.slice(start, end);
}

/**
 * Whether systemd continues this line: its conf parser scans the line with backslash escapes, so
 * only an odd run of trailing backslashes is a continuation (`C:\\` is an escaped backslash).
 */
export function endsWithEscape(s: string): boolean {
  let i = s.length;
  while (i > 0 && s.charCodeAt(i - 1) === BACKSLASH) i--;
  return (s.length - i) % 2 === 1;
}

/**
 * Parses systemd.syntax(7) as systemd 252's config_parse() does: `#`/`;` comments, `[Section]`
 * headers, `Key=Value` with surrounding whitespace trimmed, and continuation of a line that ends
 * in an unescaped backslash (the backslash becomes a space, and comment lines inside a
 * continuation are skipped). Values stay raw: quoting and escapes are interpreted per key, exactly
 * as systemd does. A lone CR or a NUL, where systemd would end the line and berth would not, is
 * refused rather than guessed at.
 */
export function parseUnitFile(text: string, file: string, into: Sections = new Map()): ParsedUnitFile {
  const diagnostics: Diagnostic[] = [];
  const lines = text.split("\n");
  const hidden = HIDDEN_LINE_END.test(text);
  let current: Entry[] | undefined;

  const finish = (logical: string, lineNo: number): void => {
    const line = strip(logical);
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
    const key = strip(line.slice(0, eq));
    if (!KEY.test(key)) {
      diagnostics.push(error(file, lineNo, `invalid key name "${key}"`));
      return;
    }
    if (!current) {
      diagnostics.push(error(file, lineNo, `assignment "${key}=" outside of any [Section]`));
      return;
    }
    current.push({ key, value: strip(line.slice(eq + 1)), file, line: lineNo });
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
    if (hidden && HIDDEN_LINE_END.test(raw)) {
      const what = raw.includes("\0") ? "a NUL character" : "a carriage return (CR) that is not part of a CRLF line end";
      diagnostics.push(error(file, index + 1, `${what}: systemd would end the line there; write it as a separate line`));
      continue;
    }
    // As systemd: the comment test comes before the byte order mark is removed, and a comment
    // line is skipped whole, inside a continuation too.
    if (isComment(raw)) continue;
    if (index === 0 && raw.charCodeAt(0) === 0xfeff) raw = raw.slice(1);
    if (raw.charCodeAt(raw.length - 1) === BACKSLASH && endsWithEscape(raw)) {
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
  return { sections: into, diagnostics: capDiagnostics(diagnostics) };
}
