/**
 * Splits a value into words the way systemd's extract_first_word() does with
 * EXTRACT_UNQUOTE | EXTRACT_CUNESCAPE | EXTRACT_CUNESCAPE_RELAX: whitespace separates words,
 * single or double quotes group, C escapes are decoded, unknown escapes are kept verbatim.
 * The words stay in unit syntax, as every value berth writes into the unit is: an escape that
 * decodes to a percent or dollar sign (`\x25`, `\x24`) is a literal one, so it comes out as `%%`
 * or `$$`.
 */
export type SplitResult = { ok: true; words: string[] } | { ok: false; message: string };

const WHITESPACE = new Set([" ", "\t", "\n", "\r"]);
const SIMPLE_ESCAPES: Record<string, string> = {
  a: "\x07", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t", v: "\v", s: " ",
  "\\": "\\", '"': '"', "'": "'",
};

const PERCENT = 0x25;
const DOLLAR = 0x24;

/**
 * A decoded character, in unit syntax: an escape that decodes to `%` or `$` is a literal one.
 * (systemd itself would decode `\x24{A}` in an Exec line before it substitutes variables, and
 * substitute it; berth decodes the definition's words, so an escaped character stays a character.)
 */
function specifierText(code: number): string {
  return code === PERCENT ? "%%" : code === DOLLAR ? "$$" : String.fromCodePoint(code);
}

/**
 * systemd turns `\xHH` and `\NNN` into one raw byte, so above 0x7f they give bytes that are not
 * UTF-8 on their own (`\xc3\xa9` is "é" to systemd); berth does not assemble bytes into
 * characters, and refuses them rather than write something else.
 */
function rawByte(escape: string): string {
  return `${escape} stands for a raw byte above 0x7f; write the character itself, or \\u followed by its code point`;
}

/** Decodes the escape starting after the backslash at `s[i]`; returns the text and the characters consumed. */
function unescapeAt(s: string, i: number): { text: string; used: number } | { error: string } {
  const c = s[i];
  if (c === undefined) return { error: "a trailing backslash escapes nothing" };
  const simple = SIMPLE_ESCAPES[c];
  if (simple !== undefined) return { text: simple, used: 1 };
  const hex = (len: number, radix = 16): { text: string; used: number } | { error: string } | undefined => {
    const digits = s.slice(i + 1, i + 1 + len);
    const pattern = radix === 16 ? /^[0-9a-fA-F]+$/ : /^[0-7]+$/;
    if (digits.length !== len || !pattern.test(digits)) return undefined;
    const code = parseInt(digits, radix);
    if (code === 0) return { error: "a NUL character (\\0) is not allowed in a value" };
    if (c === "x" && code > 0x7f) return { error: rawByte(`\\x${digits}`) };
    if (code > 0x10ffff || (code >= 0xd800 && code <= 0xdfff)) return { error: `\\${c}${digits} is not a valid Unicode code point` };
    return { text: specifierText(code), used: 1 + len };
  };
  let decoded: ReturnType<typeof hex>;
  if (c === "x") decoded = hex(2);
  else if (c === "u") decoded = hex(4);
  else if (c === "U") decoded = hex(8);
  else if (c >= "0" && c <= "7") {
    const digits = s.slice(i, i + 3);
    if (/^[0-7]{3}$/.test(digits)) {
      const code = parseInt(digits, 8);
      if (code === 0) return { error: "a NUL character (\\0) is not allowed in a value" };
      if (code > 0x7f) return { error: rawByte(`\\${digits}`) };
      return { text: specifierText(code), used: 3 };
    }
  }
  return decoded ?? { text: "\\" + c, used: 1 };
}

/** Values without quotes or escapes, nearly all of them, are split by one native match. */
const NEEDS_UNQUOTING = /["'\\]/;
const PLAIN_WORD = /[^ \t\n\r]+/g;

export function splitWords(value: string): SplitResult {
  if (!NEEDS_UNQUOTING.test(value)) return { ok: true, words: value.match(PLAIN_WORD) ?? [] };
  const words: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && WHITESPACE.has(value[i]!)) i++;
    if (i >= value.length) break;
    let word = "";
    let quote: string | undefined;
    for (; i < value.length; i++) {
      const c = value[i]!;
      if (!quote && WHITESPACE.has(c)) break;
      if (c === "\\") {
        const r = unescapeAt(value, i + 1);
        if ("error" in r) return { ok: false, message: r.error };
        word += r.text;
        i += r.used;
      } else if (quote && c === quote) {
        quote = undefined;
      } else if (!quote && (c === '"' || c === "'")) {
        quote = c;
      } else {
        word += c;
      }
    }
    if (quote) return { ok: false, message: `unterminated ${quote === '"' ? "double" : "single"} quote` };
    words.push(word);
  }
  return { ok: true, words };
}

/**
 * Splits a list of unit names as systemd's config_parse_unit_deps() does (extract_first_word()
 * with EXTRACT_RETAIN_ESCAPE): at whitespace, with no unquoting, and a backslash keeps itself and
 * the character after it. Nothing is decoded, so writing the words back joined by spaces gives
 * systemd exactly these words again; `foo\n[Service]` stays one (invalid) unit name.
 */
export function splitUnitNames(value: string): SplitResult {
  if (!value.includes("\\")) return { ok: true, words: value.match(PLAIN_WORD) ?? [] };
  const words: string[] = [];
  let word = "";
  for (let i = 0; i < value.length; i++) {
    const c = value[i]!;
    if (c === "\\") {
      if (i + 1 === value.length) return { ok: false, message: "a trailing backslash escapes nothing" };
      word += c + value[++i];
    } else if (WHITESPACE.has(c)) {
      if (word !== "") words.push(word);
      word = "";
    } else {
      word += c;
    }
  }
  if (word !== "") words.push(word);
  return { ok: true, words };
}
