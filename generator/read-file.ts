import { closeSync, constants, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";

/**
 * The most berth reads of one definition or drop-in: systemd's own longest line (LONG_LINE_MAX),
 * so any file that systemd could read as one line fits, and a 50 MB binary or a link to
 * /dev/zero costs a stat and an error.
 */
export const MAX_FILE_BYTES = 1024 * 1024;

export type FileRead = { bytes: Buffer } | { error: string };

/** What a file is when it is not a regular file, for the error message. */
const KINDS: ReadonlyArray<[(s: Stats) => boolean, string]> = [
  [(s) => s.isDirectory(), "a directory"],
  [(s) => s.isFIFO(), "a FIFO"],
  [(s) => s.isCharacterDevice(), "a character device"],
  [(s) => s.isBlockDevice(), "a block device"],
  [(s) => s.isSocket(), "a socket"],
];

function notRegular(s: Stats): string | undefined {
  if (s.isFile()) return undefined;
  const kind = KINDS.find(([is]) => is(s))?.[1] ?? "not a regular file";
  return `is ${kind}, not a regular file; only regular files are read`;
}

const tooLarge = (size: number): string => `is ${size} bytes; berth reads definitions and drop-ins of at most ${MAX_FILE_BYTES} bytes (1 MiB)`;

/**
 * Reads a regular file (through symlinks) of at most `cap` bytes. Anything else is refused before
 * it is opened, since opening a FIFO blocks and opening some devices has effects; the open itself
 * does not block (O_NONBLOCK) and what was opened is checked again, in case the path was swapped.
 */
export function readRegularFile(path: string, cap = MAX_FILE_BYTES): FileRead {
  let fd: number | undefined;
  try {
    const before = statSync(path);
    const refused = notRegular(before) ?? (before.size > cap ? tooLarge(before.size) : undefined);
    if (refused) return { error: refused };
    fd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY);
    const opened = notRegular(fstatSync(fd));
    if (opened) return { error: opened };
    // Room for the size found, and one byte more to notice a file that grew since: then it may
    // grow up to one byte over the cap, which tells a file too large.
    let buffer = Buffer.allocUnsafe(before.size + 1);
    let length = 0;
    for (let n = 1; n > 0 && length <= cap; length += n) {
      if (length === buffer.length) buffer = Buffer.concat([buffer], Math.min(2 * buffer.length, cap + 1));
      n = readSync(fd, buffer, length, buffer.length - length, null);
    }
    if (length > cap) return { error: tooLarge(length) };
    return { bytes: buffer.subarray(0, length) };
  } catch (e) {
    return { error: `cannot read: ${(e as Error).message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
