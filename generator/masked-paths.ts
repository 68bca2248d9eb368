import type { ContainerSection } from "./container-section.js";

/** What Docker 20.10 masks in every container (its default OCI spec), beside the read-only /proc paths below. */
const DOCKER_MASKED = new Set([
  "/proc/asound", "/proc/acpi", "/proc/kcore", "/proc/keys", "/proc/latency_stats", "/proc/timer_list",
  "/proc/timer_stats", "/proc/sched_debug", "/proc/scsi", "/sys/firmware",
]);

/**
 * `Mask=` and `Unmask=` where Docker's defaults say the same: masking a path Docker masks anyway
 * is kept as it is, and `Unmask=ALL` is Docker's `systempaths=unconfined` (every masked and
 * read-only path opened). Anything else Docker cannot express per path, so it is refused.
 */
export function maskOptions(c: ContainerSection): string[] {
  const opts: string[] = [];
  for (const { word, entry } of c.words("Mask")) {
    const extra = word.split(":").filter((p) => p !== "" && !DOCKER_MASKED.has(p.replace(/\/+$/, "")));
    if (extra.length > 0) c.fail(entry, `Docker cannot mask ${extra.join(", ")}: it masks only its own default paths (${[...DOCKER_MASKED].join(", ")}); the container would be less confined than the file asks`);
  }
  for (const { word, entry } of c.words("Unmask")) {
    if (word === "ALL") opts.push("systempaths=unconfined");
    else c.fail(entry, `Docker cannot unmask single paths ("${word}"); Unmask=ALL opens all of them (--security-opt systempaths=unconfined)`);
  }
  return opts;
}
