/**
 * Reads unit-file text as systemd 252 does, written apart from berth's own parser so that one can
 * check the other: read_line() (src/basic/fileio.c) ends a line at LF, CR or NUL, and a CR LF or
 * LF CR pair is one line end; config_parse() (src/shared/conf-parser.c) skips comment lines,
 * continues a line whose backslash escapes nothing, and parse_line() strips " \t\n\r".
 */
export interface Directive {
  section: string | undefined;
  key: string;
  value: string;
}

export interface SystemdReading {
  sections: string[];
  directives: Directive[];
  /** What systemd would warn about or refuse: a bad header, a line without "=", a line too long. */
  problems: string[];
}

const EOL: Record<string, number> = { "\n": 1, "\r": 2, "\0": 4 };
const NUL = 4;
const WHITESPACE = " \t\n\r";
const LONG_LINE_MAX = 1024 * 1024;

function readLines(text: string): string[] {
  const lines: string[] = [];
  let start = 0;
  let i = 0;
  while (i < text.length) {
    if (EOL[text[i]!] === undefined) {
      i++;
      continue;
    }
    lines.push(text.slice(start, i));
    // A run of line-end characters is one line end while no kind repeats, and NUL ends it at once.
    let seen = 0;
    while (i < text.length) {
      const kind = EOL[text[i]!];
      if (kind === undefined || seen & kind || seen & NUL) break;
      seen |= kind;
      i++;
    }
    start = i;
  }
  if (start < text.length) lines.push(text.slice(start));
  return lines;
}

function strip(s: string): string {
  let a = 0;
  let b = s.length;
  while (a < b && WHITESPACE.includes(s[a]!)) a++;
  while (b > a && WHITESPACE.includes(s[b - 1]!)) b--;
  return s.slice(a, b);
}

/** string_is_safe(): no control characters, quotes or backslashes. */
const UNSAFE = /[\x01-\x1f\x7f"'\\]/;

export function readAsSystemd(text: string): SystemdReading {
  const out: SystemdReading = { sections: [], directives: [], problems: [] };
  let section: string | undefined;
  const parseLine = (raw: string): void => {
    const l = strip(raw);
    if (l === "" || "#;".includes(l[0]!)) return;
    if (l[0] === "[") {
      const name = l.slice(1, -1);
      if (!l.endsWith("]") || l.length < 2 || UNSAFE.test(name)) out.problems.push(`bad section header ${JSON.stringify(l)}`);
      else out.sections.push((section = name));
      return;
    }
    const eq = l.indexOf("=");
    if (section === undefined) out.problems.push(`assignment outside a section: ${JSON.stringify(l)}`);
    else if (eq <= 0) out.problems.push(`missing "=": ${JSON.stringify(l)}`);
    else out.directives.push({ section, key: strip(l.slice(0, eq)), value: strip(l.slice(eq + 1)) });
  };
  let continuation: string | undefined;
  let bomSeen = false;
  for (let line of readLines(text)) {
    if (Buffer.byteLength(line) >= LONG_LINE_MAX) {
      out.problems.push("line too long");
      return out;
    }
    const first = line.split("").find((c) => !WHITESPACE.includes(c));
    if (first !== undefined && "#;".includes(first)) continue;
    if (!bomSeen && line.startsWith("\uFEFF")) {
      line = line.slice(1);
      bomSeen = true;
    }
    const p = continuation === undefined ? line : continuation + line;
    let escaped = false;
    for (const c of p) escaped = escaped ? false : c === "\\";
    if (escaped) {
      continuation = p.slice(0, -1) + " ";
      continue;
    }
    parseLine(p);
    continuation = undefined;
  }
  if (continuation !== undefined) parseLine(continuation);
  return out;
}
