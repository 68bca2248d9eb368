import { isIP } from "node:net";
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
    if (names.length === 0 || names.includes("") || (ip !== "host-gateway" && isIP(ip) === 0 && !expandedAtStart(ip))) {
      c.fail(entry, `expected NAME:IP (NAME;NAME…:IP, or NAME:host-gateway), found "${word}"`);
      continue;
    }
    for (const name of names) argv.push("--add-host", `${name}:${ip}`);
  }
}
