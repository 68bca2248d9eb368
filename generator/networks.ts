import type { ContainerSection } from "./container-section.js";
import { CONTAINER_NAME, isDockerName } from "./names.js";
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

/**
 * Podman's options of one network (`Network=NAME:ip=…,alias=…`) as Docker's: `docker create`'s for
 * the network it joins, berth-step's `--connect-…` (`docker network connect`'s) for each further
 * one, and the key that sets the same for the first network, which may not say it twice.
 */
const PER_NETWORK: Readonly<Record<string, { create: string; connect?: string; check: RegExp; expected: string; key?: string }>> = {
  ip: { create: "--ip", connect: "--connect-ip", check: /^\d{1,3}(\.\d{1,3}){3}$/, expected: "an IPv4 address", key: "IP" },
  ip6: { create: "--ip6", connect: "--connect-ip6", check: /^[0-9A-Fa-f:.]*:[0-9A-Fa-f:.]*$/, expected: "an IPv6 address", key: "IP6" },
  alias: { create: "--network-alias", connect: "--connect-alias", check: CONTAINER_NAME, expected: "a name" },
  mac: { create: "--mac-address", check: /^[0-9A-Fa-f]{2}(:[0-9A-Fa-f]{2}){5}$/, expected: "a MAC address" },
};
const PER_NETWORK_NAMES = Object.keys(PER_NETWORK).join(", ");

/** A network's options as `[option, value]` pairs for `docker create` (first) or berth-step (further); undefined when one is refused (reported). */
function networkOptions(c: ContainerSection, e: Entry, text: string, first: boolean): string[] | undefined {
  const out: string[] = [];
  const seen = new Set<string>();
  for (const option of text.split(",")) {
    const eq = option.indexOf("=");
    const name = eq < 0 ? option : option.slice(0, eq);
    const value = option.slice(eq + 1);
    const rule = Object.hasOwn(PER_NETWORK, name) ? PER_NETWORK[name]! : undefined;
    let problem: string | undefined;
    if (!rule) problem = option === "" ? "an empty option after the colon" : `"${name}" is no option of a network that Docker can honour per container (${PER_NETWORK_NAMES})`;
    else if (name !== "alias" && seen.has(name)) problem = `${name}= is given twice; Docker takes one per network`;
    else if (eq < 0 || !rule.check.test(value)) problem = `${name}= expects ${rule.expected}, found "${value}"`;
    else if (!first && !rule.connect) problem = `${name}= applies to the first network only: docker network connect (20.10) cannot set it`;
    else if (first && rule.key && c.single(rule.key)) problem = `${name}= and ${rule.key}= both set it on the first network; keep one`;
    if (problem) {
      c.fail(e, problem);
      return undefined;
    }
    seen.add(name);
    out.push(first ? rule!.create : rule!.connect!, value);
  }
  return out;
}

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
  /** `NAME.network` as that definition's network name; undefined when refused (reported). */
  networkOf: (e: Entry, value: string) => string | undefined,
): Networks {
  const out: Networks = { args: [], connect: [], joins: [] };
  const names: string[] = [];
  const optionsOf: string[][] = [];
  for (const e of c.entries("Network")) {
    const colon = e.value.indexOf(":");
    const head = colon < 0 ? e.value : e.value.slice(0, colon);
    let name = e.value;
    if (head.endsWith(".network")) {
      const network = networkOf(e, head);
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
    }
    let options: string[] = [];
    if (colon >= 0 && head !== "container") {
      if (ALONE.test(head)) {
        c.fail(e, `${head} takes no options`);
        continue;
      }
      // A refused option is reported; the network still counts, so the lines after it are read in their place.
      options = networkOptions(c, e, e.value.slice(colon + 1), names.length === 0) ?? [];
      name = head.endsWith(".network") ? name : head;
    }
    if (names.length > 0 && (ALONE.test(name) || ALONE.test(names[0]!))) {
      c.fail(e, `${ALONE.test(name) ? name : names[0]} gives the container its whole network stack, so it cannot be combined with another network`);
      continue;
    }
    // A further network is one word of berth-step's options, which takes names of Docker's rule
    // for containers only (the first is a docker create argument, quoted as any).
    if (names.length > 0 && !isDockerName(name)) {
      c.fail(e, `"${name}" cannot be a further network: berth connects to names of [a-zA-Z0-9][a-zA-Z0-9_.-]* only`);
      continue;
    }
    names.push(name);
    optionsOf.push(options);
  }
  if (names.length === 0) return out;
  out.args.push("--network", names[0]!, ...optionsOf[0]!);
  names.slice(1).forEach((more, i) => out.connect.push("--connect", more, ...optionsOf[i + 1]!));
  if (out.connect.length > 0) for (const { word } of c.words("NetworkAlias")) out.connect.push("--alias", word);
  return out;
}
