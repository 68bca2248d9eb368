import type { ContainerSection } from "./container-section.js";
import type { Entry } from "./unit-file.js";

/** Podman network modes Docker lacks, and why. */
const PODMAN_MODES: Readonly<Record<string, string>> = {
  slirp4netns: "it is rootless Podman's user-mode network; use a Docker network (the default bridge, or a named one)",
  pasta: "it is rootless Podman's user-mode network; use a Docker network (the default bridge, or a named one)",
  ns: "Docker cannot join a network namespace by path; join a container's with Network=NAME.container or container:NAME",
  private: "it is Podman's name for a network of the container's own; leave Network= out for Docker's default bridge",
};
/** Modes that own the container's whole network stack, so no second network can be added. */
const ALONE = /^(host|none|container:.*)$/;

export interface Networks {
  /** `--network` for `docker create` (Docker 20.10 joins one network there). */
  args: string[];
  /** berth-step's options for the further networks: `--connect NET`…, then the aliases again. */
  connect: string[];
  /** Definitions whose container's network this one joins: it needs them running first. */
  joins: Array<{ definition: string; entry: Entry }>;
}

/**
 * `Network=` lines as Quadlet reads them: each a network, `NAME.container` for the network of the
 * container that definition runs (`container:ITS-NAME`, with Requires= and After= on its unit).
 * `containerOf` gives a definition's container name, undefined when the set has no such definition.
 */
export function networks(
  c: ContainerSection,
  containerOf: (definition: string) => string | undefined,
  /** `NAME.network` (with anything after a colon) as that definition's network name; undefined when refused (reported). */
  networkOf: (e: Entry, value: string) => string | undefined,
): Networks {
  const out: Networks = { args: [], connect: [], joins: [] };
  const names: string[] = [];
  for (const e of c.entries("Network")) {
    const colon = e.value.indexOf(":");
    const head = colon < 0 ? e.value : e.value.slice(0, colon);
    let name = e.value;
    if (head.endsWith(".network")) {
      const network = networkOf(e, e.value);
      if (network === undefined) continue;
      name = network;
    }
    if (Object.hasOwn(PODMAN_MODES, head)) {
      c.fail(e, `${head} is not supported with Docker: ${PODMAN_MODES[head]}`);
      continue;
    }
    if (head.endsWith(".container")) {
      if (colon >= 0) {
        c.fail(e, "a container's network takes no options (as in Quadlet)");
        continue;
      }
      const definition = head.slice(0, -".container".length);
      const container = containerOf(definition) ?? definition;
      // A specifier would be expanded in this unit, for this unit's instance, not the other one's.
      if (/%[^%]/.test(container.replaceAll("%%", ""))) {
        c.fail(e, `the container name of ${head} ("${container}") depends on specifiers, so this unit cannot name it; give that definition a plain ContainerName=`);
        continue;
      }
      out.joins.push({ definition, entry: e });
      name = `container:${container}`;
    } else if (colon >= 0 && head !== "container" && !head.endsWith(".network")) {
      c.fail(e, `Docker 20.10 takes no per-network options ("${e.value.slice(colon + 1)}"); use IP=, IP6= and NetworkAlias=`);
      continue;
    }
    if (names.length > 0 && (ALONE.test(name) || ALONE.test(names[0]!))) {
      c.fail(e, `${ALONE.test(name) ? name : names[0]} gives the container its whole network stack, so it cannot be combined with another network`);
      continue;
    }
    names.push(name);
  }
  if (names.length === 0) return out;
  out.args.push("--network", names[0]!);
  for (const more of names.slice(1)) out.connect.push("--connect", more);
  if (out.connect.length > 0) for (const { word } of c.words("NetworkAlias")) out.connect.push("--alias", word);
  return out;
}
