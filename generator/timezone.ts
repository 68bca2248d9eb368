import type { ContainerSection } from "./container-section.js";

const ZONE = /^[A-Za-z0-9_+-]+(\/[A-Za-z0-9_+-]+)*$/;

/**
 * `Timezone=` as `podman --tz` sets it: the container's /etc/localtime is the host's (`local`) or
 * the host's file of that zone, bound read-only. A `--mount` (not `--volume`) so that a zone the
 * host lacks fails the start instead of Docker creating an empty directory in its place.
 */
export function timezoneArgs(c: ContainerSection, argv: string[]): void {
  const e = c.single("Timezone");
  if (!e) return;
  if (e.value !== "local" && (!ZONE.test(e.value) || e.value.split("/").includes(".."))) {
    c.fail(e, `expected local or a time zone name such as Europe/Berlin, found "${e.value}"`);
    return;
  }
  const source = e.value === "local" ? "/etc/localtime" : `/usr/share/zoneinfo/${e.value}`;
  argv.push("--mount", `type=bind,source=${source},target=/etc/localtime,readonly`);
}
