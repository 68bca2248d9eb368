import type { ContainerSection } from "./container-section.js";
import { expandedAtStart } from "./exec-line.js";

/**
 * `AddHost=` words as Podman reads them, `NAME[;NAME…]:IP` (an IPv6 address bare or in brackets,
 * or `host-gateway`), as Docker 20.10's `--add-host NAME:IP`, one per name: Docker takes one name
 * per option and checks the address, so a bad one is refused here rather than at start.
 */
export function addHostArgs(c: ContainerSection, argv: string[]): void {
  for (const { word, entry } of c.words("AddHost")) {
    const colon = word.indexOf(":");
    const names = colon > 0 ? word.slice(0, colon).split(";") : [];
    const ip = word.slice(colon + 1).replace(/^\[(.*)\]$/, "$1");
    if (names.length === 0 || names.includes("") || (ip !== "host-gateway" && !isIpAddress(ip) && !expandedAtStart(ip))) {
      c.fail(entry, `expected NAME:IP (NAME;NAME…:IP, or NAME:host-gateway), found "${word}"`);
      continue;
    }
    for (const name of names) argv.push("--add-host", `${name}:${ip}`);
  }
}

export const IPV4 = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;
const HEX_GROUP = /^[0-9a-fA-F]{1,4}$/;

/**
 * An address as Go's net.ParseIP takes it (IPv4 dotted, IPv6 with at most one `::` and an IPv4
 * tail), checked by hand: loading node:net would cost the generator's start-up more than all of this.
 */
export function isIpAddress(text: string): boolean {
  if (IPV4.test(text)) return true;
  const halves = text.split("::");
  if (halves.length > 2) return false;
  const groups = (half: string): string[] => (half === "" ? [] : half.split(":"));
  const all = halves.flatMap(groups);
  // An IPv4 tail stands for two groups.
  const last = all.at(-1);
  const tail = last !== undefined && IPV4.test(last) ? 1 : 0;
  const count = all.length + tail;
  if (!all.slice(0, all.length - tail).every((g) => HEX_GROUP.test(g))) return false;
  return halves.length === 2 ? count <= 7 : count === 8;
}
