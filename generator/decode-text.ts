import { isUtf8 } from "node:buffer";
import { error, type Diagnostic } from "./diagnostics.js";

const LF = 0x0a;

/**
 * A definition's bytes as text. Bytes that are not UTF-8 are refused at the first line holding
 * them: decoded silently they would become U+FFFD in the unit, which is not what the author
 * wrote. The text is still decoded (lossily) so that the rest of the file can be checked.
 */
export function decodeText(bytes: Uint8Array, file: string): { text: string; diagnostics: Diagnostic[] } {
  const text = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString("utf8");
  // Bytes that are not UTF-8 always decode to U+FFFD, so only a text holding one needs the check.
  if (!text.includes("\uFFFD") || isUtf8(bytes)) return { text, diagnostics: [] };
  let line = 1;
  for (let start = 0; start < bytes.length; line++) {
    const end = bytes.indexOf(LF, start);
    const stop = end < 0 ? bytes.length : end;
    if (!isUtf8(bytes.subarray(start, stop))) break;
    start = stop + 1;
  }
  return { text, diagnostics: [error(file, line, "is not valid UTF-8; write the file in UTF-8")] };
}
