import type { ContainerSection } from "./container-section.js";
import type { Entry } from "./unit-file.js";

/**
 * Signal names as Docker 20.10 reads them (`--stop-signal`, `docker kill --signal`): the Linux
 * names of its signal map, with or without `SIG`, in any case, or a number. A name Docker does not
 * know fails the container's start or reload, so berth refuses it when it reads the definition.
 */
const NAMED: Readonly<Record<string, number>> = {
  HUP: 1, INT: 2, QUIT: 3, ILL: 4, TRAP: 5, ABRT: 6, IOT: 6, BUS: 7, FPE: 8, KILL: 9, USR1: 10,
  SEGV: 11, USR2: 12, PIPE: 13, ALRM: 14, TERM: 15, STKFLT: 16, CHLD: 17, CLD: 17, CONT: 18,
  STOP: 19, TSTP: 20, TTIN: 21, TTOU: 22, URG: 23, XCPU: 24, XFSZ: 25, VTALRM: 26, PROF: 27,
  WINCH: 28, IO: 29, POLL: 29, PWR: 30, SYS: 31, RTMIN: 34, RTMAX: 64,
};
const REALTIME = /^RT(MIN\+|MAX-)(\d{1,2})$/;
const LAST_SIGNAL = 64;

/** The number of a signal as Docker reads it, or undefined if Docker would refuse it. */
export function signalNumber(text: string): number | undefined {
  if (/^\d+$/.test(text)) {
    const n = Number(text);
    return n >= 1 && n <= LAST_SIGNAL ? n : undefined;
  }
  const name = text.toUpperCase().replace(/^SIG/, "");
  if (Object.hasOwn(NAMED, name)) return NAMED[name];
  // Docker names RTMIN+1…RTMIN+15 and RTMAX-14…RTMAX-1.
  const rt = REALTIME.exec(name);
  const offset = rt ? Number(rt[2]) : 0;
  if (!rt || offset < 1 || offset > 15 || (rt[1] === "MAX-" && offset > 14)) return undefined;
  return rt[1] === "MIN+" ? NAMED.RTMIN! + offset : NAMED.RTMAX! - offset;
}

/** The entry of a signal key in effect, or undefined when unset or refused (with its line). */
export function signalEntry(c: ContainerSection, key: string): Entry | undefined {
  const e = c.single(key);
  if (e && signalNumber(e.value) === undefined) {
    c.fail(e, `expected a signal name (SIGHUP, HUP) or number from 1 to 64, found "${e.value}"`);
    return undefined;
  }
  return e;
}
