import { closeSync, linkSync, lstatSync, mkdirSync, openSync, symlinkSync, unlinkSync, writeFileSync } from "node:fs";
import { getSystemErrorMessage } from "node:util";
import { error, type Diagnostic } from "./diagnostics.js";
import { dirPrefix, locate } from "./paths.js";
import type { GeneratedUnit } from "./generated-unit.js";

/** The [Unit] dependency each kind of [Install] edge stands for, in its target's drop-in. */
const DEPENDENCY_OF_EDGE: Readonly<Record<string, string>> = { wants: "Wants", requires: "Requires", upholds: "Upholds" };

/** Why a write failed, for the operator: what the kernel said, or what berth found in the way. */
const REASON_OF_CODE: Readonly<Record<string, string>> = {
  EEXIST: "something is already there (systemd empties this directory before it runs generators); left as it is",
  ENOTDIR: "a file or link is where a directory should be; left as it is",
};

/** The file-system calls the writer makes; tests put in a full disk or an unwritable directory. */
export type WriterFs = Pick<typeof import("node:fs"), "openSync" | "writeFileSync" | "closeSync" | "linkSync" | "unlinkSync" | "mkdirSync" | "lstatSync" | "symlinkSync">;

// Named imports, not `import * as`: a bundled namespace import reaches each function through a getter.
const nodeFs: WriterFs = { openSync, writeFileSync, closeSync, linkSync, unlinkSync, mkdirSync, lstatSync, symlinkSync };

/**
 * The most one write(2) puts in place whole. Linux copies a write into a file a page at a time
 * and stops between pages on a fatal signal (generic_perform_write), so a write that starts at
 * offset 0 and fits in the smallest page (4 KiB) either lands whole or not at all, even on
 * SIGKILL; and tmpfs, where systemd's generator directories are, refuses a page on a full disk
 * before copying any of it.
 */
const WHOLE_WRITE_BYTES = 4096;

export interface UnitWriter {
  write(unit: Pick<GeneratedUnit, "unitName" | "text" | "install">): void;
  /** Writes what the units' `[Install]` sections add to other units; call once, after every write. Returns one error per write that failed. */
  finish(): Diagnostic[];
}

/**
 * Writes each unit into systemd's output directory, and never anything else: nothing there is
 * overwritten and no link there is followed, so a leftover file, or a link someone planted, is
 * reported instead of written through. systemd never finds half a unit, not even when the disk
 * fills or the generator is killed: a unit of up to a page is written whole by one write(2), a
 * larger file goes to a temporary file that link(2) puts in place. A failed write is reported, with the file and
 * the reason, and costs only that file and its links.
 *
 * A `WantedBy=` link (`multi-user.target.wants/x.service`) means the same to systemd as `Wants=x.service`
 * in the target, so all of one target's are written as one drop-in (`multi-user.target.d/berth-install.conf`):
 * one file instead of a symlink per unit, which at a thousand units is the difference between
 * about 1 ms and 5-15 ms. `Alias=` stays a symlink.
 * Synchronous on purpose: measured, a thousand small async writes cost more in promise and
 * thread-pool overhead than they gain.
 */
export function unitWriter(outDir: string, fs: WriterFs = nodeFs): UnitWriter {
  const failures: Diagnostic[] = [];
  const fail = (path: string, e: unknown): false => {
    const { code, errno } = e as NodeJS.ErrnoException;
    const reason = (code && REASON_OF_CODE[code]) ?? (errno !== undefined ? `${getSystemErrorMessage(errno)} (${code})` : String(e));
    failures.push(error(path, 0, `not written: ${reason}`));
    return false;
  };
  // Unit names never contain "/", so they can be appended to the directory as they are.
  const prefix = dirPrefix(outDir);
  const made = new Set<string>();
  const dependencies = new Map<string, Map<string, string[]>>();
  try {
    fs.mkdirSync(outDir, { recursive: true });
    made.add(outDir);
  } catch (e) {
    fail(outDir, e);
  }
  /** A directory directly below the output directory: made here, or found as a real directory. */
  const mkdir = (dir: string): boolean => {
    if (made.has(dir)) return true;
    try {
      fs.mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") return fail(dir, e);
      try {
        if (!fs.lstatSync(dir).isDirectory()) return fail(dir, { code: "ENOTDIR" });
      } catch (gone) {
        return fail(dir, gone);
      }
    }
    made.add(dir);
    return true;
  };
  // A temporary file that link(2) puts in place: nothing is seen under the name before all of it is.
  const writeViaTemporary = (path: string, text: string): boolean => {
    const slash = path.lastIndexOf("/");
    const temporary = `${path.slice(0, slash + 1)}.${path.slice(slash + 1)}.tmp`;
    try {
      // O_EXCL: the temporary file is a new one of ours, never a link to somewhere else.
      const fd = fs.openSync(temporary, "wx", 0o644);
      try {
        // Naming the encoding takes Node's one-call native path; writeFileSync retries short writes.
        fs.writeFileSync(fd, text, "utf8");
      } finally {
        fs.closeSync(fd);
      }
      fs.linkSync(temporary, path);
      return true;
    } catch (e) {
      return fail(path, e);
    } finally {
      try {
        fs.unlinkSync(temporary);
      } catch {
        // It was never made.
      }
    }
  };
  /**
   * A unit of one page is written straight to its name (three system calls instead of five): the
   * write lands whole or not at all, and a failed one takes the file away again. What a SIGKILL
   * between the open and the write can leave is an empty file, which systemd reads as a masked
   * unit, never half a unit. O_EXCL: a name that is taken, or a link, is never written through.
   */
  const writeFile = (path: string, text: string): boolean => {
    if (text.length > WHOLE_WRITE_BYTES / 3 && Buffer.byteLength(text) > WHOLE_WRITE_BYTES) return writeViaTemporary(path, text);
    let fd: number;
    try {
      fd = fs.openSync(path, "wx", 0o644);
    } catch (e) {
      return fail(path, e);
    }
    try {
      try {
        fs.writeFileSync(fd, text, "utf8");
      } finally {
        fs.closeSync(fd);
      }
      return true;
    } catch (e) {
      try {
        fs.unlinkSync(path);
      } catch {
        // Gone already: nothing of it is left to see.
      }
      return fail(path, e);
    }
  };
  const link = (path: string, target: string): void => {
    const { at, parent } = locate(outDir, prefix, path);
    if (!mkdir(parent)) return;
    try {
      fs.symlinkSync(target, at);
    } catch (e) {
      fail(at, e);
    }
  };
  return {
    write(u) {
      if (!writeFile(prefix + u.unitName, u.text)) return;
      for (const { kind, target, unit } of u.install) {
        if (kind === "alias") {
          link(target, unit);
          continue;
        }
        let byKind = dependencies.get(target);
        if (!byKind) dependencies.set(target, (byKind = new Map()));
        const names = byKind.get(kind);
        if (names) names.push(unit);
        else byKind.set(kind, [unit]);
      }
    },
    finish() {
      dependencies.forEach((byKind, target) => {
        const lines = ["# Generated by berth-generator from the definitions' [Install] sections.", "[Unit]"];
        byKind.forEach((names, kind) => lines.push(`${DEPENDENCY_OF_EDGE[kind]}=${names.join(" ")}`));
        const dir = `${prefix}${target}.d`;
        if (mkdir(dir)) writeFile(`${dir}/berth-install.conf`, `${lines.join("\n")}\n`);
      });
      return failures;
    },
  };
}
