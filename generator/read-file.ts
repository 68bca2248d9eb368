import { closeSync, constants, openSync, readSync, type Stats } from "node:fs";
import { observedStatIfAny, unkeepable } from "./observed-fs.js";

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

const OPEN_ANY = constants.O_RDONLY | constants.O_NONBLOCK | constants.O_NOCTTY;
const OPEN_CHECKED = OPEN_ANY | constants.O_NOFOLLOW;

const tooLarge = (size: number): string => `is ${size} bytes; berth reads definitions and drop-ins of at most ${MAX_FILE_BYTES} bytes (1 MiB)`;

/**
 * Reads a regular file (through symlinks) of at most `cap` bytes. Anything else is refused before
 * it is opened, since opening a FIFO blocks and opening some devices has effects. Should the path
 * be swapped for a FIFO or a device after that check, the open does not block (O_NONBLOCK) and the
 * read stops one byte past the cap, so the worst is an error.
 *
 * `known` is the file's lstat, already taken (by the trust check) and not a link: it stands for
 * the stat, and the open then refuses a link (O_NOFOLLOW), so what is read is the file checked.
 */
export function readRegularFile(path: string, known?: Stats, cap = MAX_FILE_BYTES): FileRead {
  let fd: number | undefined;
  try {
    // Without throwing (unless recording a run to keep), stat takes Node's cheaper path: a thousand
    // definitions are stat'ed per reload.
    const before = known ?? observedStatIfAny(path);
    if (!before) return { error: "cannot read: no such file" };
    const refused = notRegular(before) ?? (before.size > cap ? tooLarge(before.size) : undefined);
    if (refused) return { error: refused };
    fd = openSync(path, known ? OPEN_CHECKED : OPEN_ANY);
    // Room for the size found and one byte more: a read that fills it all is of a file that grew
    // since, which may then grow up to one byte past the cap, telling a file too large. A shorter
    // read of a regular file is its end.
    let buffer = Buffer.allocUnsafe(before.size + 1);
    let length = 0;
    for (;;) {
      const n = readSync(fd, buffer, length, buffer.length - length, null);
      length += n;
      if (n === 0 || length < buffer.length || length > cap) break;
      buffer = Buffer.concat([buffer], Math.min(2 * buffer.length, cap + 1));
    }
    if (length > cap) return { error: tooLarge(length) };
    return { bytes: buffer.subarray(0, length) };
  } catch (e) {
    // Not decided by the stat the run noted (EIO, EACCES under another label): the next run may read it.
    unkeepable();
    return { error: `cannot read: ${(e as Error).message}` };
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}
