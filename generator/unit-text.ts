import { error, type Diagnostic } from "./diagnostics.js";
import { GENERATED_HEADER } from "./labels.js";
import { endsWithEscape, type Entry } from "./unit-file.js";

export interface Section {
  name: string;
  lines: string[];
}

/**
 * The unit's lines. One join over all of them gives the unit text as a single flat string;
 * appending section by section built a tree of string pieces that the file write then had to
 * copy once more.
 */
export function unitLines(file: string, sections: readonly Section[]): string[] {
  const all: string[] = [`${GENERATED_HEADER} from ${file}. Edit that file (or a drop-in), not this one.`];
  for (let i = 0; i < sections.length; i++) {
    const { name, lines } = sections[i]!;
    if (i > 0) all.push("");
    all.push(`[${name}]`);
    for (let j = 0; j < lines.length; j++) all.push(lines[j]!);
  }
  // The empty last element ends the text with a newline.
  all.push("");
  return all;
}

export const CONTROL = /[\x00-\x1f\x7f]/;
const LINE_BREAK = /[\n\r\0]/;
const BACKSLASH = 0x5c;
const HASH = 0x23;
/** systemd 252's read_line() refuses a line of LONG_LINE_MAX (1 MiB) bytes or more: the unit does not load. */
export const MAX_LINE_BYTES = 1024 * 1024 - 1;
/** A UTF-16 code unit is at most 3 UTF-8 bytes, so a line this short needs no counting. */
const SURELY_SHORT = Math.floor(MAX_LINE_BYTES / 3);

/** A copied assignment, unless systemd would read it back as more (or less) than one line. */
export function copied(e: Entry, diagnostics: Diagnostic[]): string {
  if (endsWithEscape(e.value)) diagnostics.push(error(e.file, e.line, `${e.key}=: ends in a backslash, which would continue the line in the unit; write "\\\\" for a literal backslash`));
  return `${e.key}=${e.value}`;
}

/**
 * The last guard of the rule that every line berth writes is read back by systemd as exactly
 * that line: no line break, CR or NUL inside it, no continuation, and no more than systemd reads.
 * Values are checked where they are read, with their line; this catches what slipped through.
 * `text` is the lines joined: one scan of it tells whether any line holds a break at all.
 */
export function checkLines(file: string, lines: readonly string[], text: string, diagnostics: Diagnostic[]): void {
  let breaks = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) breaks++;
  // indexOf scans natively, much faster than a regular expression over a unit's few kilobytes.
  const broken = breaks !== lines.length - 1 || text.includes("\r") || text.includes("\0");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const continued = line.charCodeAt(line.length - 1) === BACKSLASH && line.charCodeAt(0) !== HASH && endsWithEscape(line);
    if (continued || (broken && LINE_BREAK.test(line))) {
      diagnostics.push(error(file, 0, `berth would write a line that systemd reads differently: ${JSON.stringify(line.slice(0, 80))}; this is a bug in berth`));
    }
    if (line.length > SURELY_SHORT) {
      const bytes = Buffer.byteLength(line);
      if (bytes > MAX_LINE_BYTES) {
        diagnostics.push(error(file, 0, `the unit's ${line.slice(0, line.indexOf("="))}= line would be ${bytes} bytes, longer than systemd reads (${MAX_LINE_BYTES}); split the definition's lists or move values into an EnvironmentFile=`));
      }
    }
  }
}

/** Generated units cannot be enabled, so [Install] is carried out here as symlinks. */
