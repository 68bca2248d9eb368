import type { ContainerSection } from "./container-section.js";

/** Docker 20.10's built-in log drivers (etwlogs is Windows-only). */
export const DOCKER_LOG_DRIVERS = [
  "none", "local", "json-file", "syslog", "journald", "gelf", "fluentd", "awslogs", "splunk", "gcplogs", "logentries",
] as const;

/** Podman's drivers: what Docker says the same with, or why it cannot. */
const PODMAN_DRIVERS: Readonly<Record<string, { docker: string } | { why: string }>> = {
  // The container's output goes to the unit's journal through berth's attached start already.
  passthrough: { docker: "none" },
  "k8s-file": { why: "it is Podman's file format; use json-file or local (or leave LogDriver= out: the journal gets the output)" },
  "passthrough-tty": { why: "a unit gives the container no terminal; leave LogDriver= out (the journal gets the output)" },
};

/**
 * `LogDriver=` as `--log-driver`: berth's default is `none`, since `docker start -a` brings the
 * output to the unit's journal and Docker's own store would keep a second copy. A name that is
 * no built-in driver may be a plugin installed on the host, so it passes with a warning.
 */
export function logDriver(c: ContainerSection): string {
  const e = c.single("LogDriver");
  if (!e) return "none";
  const podman = Object.hasOwn(PODMAN_DRIVERS, e.value) ? PODMAN_DRIVERS[e.value]! : undefined;
  if (podman && "docker" in podman) return podman.docker;
  if (podman) c.fail(e, `${e.value} is not supported with Docker: ${podman.why}`);
  else if (!(DOCKER_LOG_DRIVERS as readonly string[]).includes(e.value) && !e.value.includes("%") && !e.value.includes("$")) {
    c.warn(e, `"${e.value}" is none of Docker 20.10's log drivers (${DOCKER_LOG_DRIVERS.join(", ")}); it works only as a log plugin installed on this host`);
  }
  return e.value;
}
