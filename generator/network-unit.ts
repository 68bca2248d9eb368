import { IPV4 } from "./add-host.js";
import type { ContainerSection } from "./container-section.js";
import { DNS_SERVER } from "./definition-names.js";
import { flagArgs, type KeyTable } from "./key-rules.js";
import { PODMAN_ONLY } from "./resource-keys.js";
import { resourceUnit, type ResourcePlan } from "./resource-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";

/** [Network] of a `.network` file, key by key, as `docker network create` (Docker 20.10) takes it. */
export const NETWORK_KEYS: KeyTable = {
  Driver: { kind: "single", flag: "--driver" },
  Internal: { kind: "bool", flag: "--internal" },
  IPv6: { kind: "bool", flag: "--ipv6" },
  Label: { kind: "words", flag: "--label", pairs: true },
  IPAMDriver: { kind: "own" },
  Subnet: { kind: "own" },
  Gateway: { kind: "own" },
  IPRange: { kind: "own" },
  Options: { kind: "own" },
  InterfaceName: { kind: "own" },
  NetworkName: { kind: "own" },
  NetworkDeleteOnStop: { kind: "own" },
  ServiceName: { kind: "own" },
  DockerArgs: { kind: "own" },
  DisableDNS: { kind: "refused", when: "true", why: "Docker always runs its DNS server on a user-defined network" },
  DNS: { kind: "own", readBy: "the containers on the network (definition-names networkDnsOf): Docker has no per-network DNS server" },
  ...PODMAN_ONLY,
};

/** Podman's names of IPAM drivers as Docker's; null where Docker has none built in. */
const IPAM_DRIVERS: Readonly<Record<string, string | null>> = { "host-local": "default", none: "null", dhcp: null };

/**
 * Podman's driver options (`Options=`) as Docker spells them, per driver. Docker's own names
 * (`com.docker.network.bridge.name`) have a dot and pass as written; any other name is refused,
 * since Docker's drivers ignore options they do not know and the network would silently differ.
 */
const OPTIONS: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  bridge: { mtu: "com.docker.network.driver.mtu" },
  macvlan: { parent: "parent", mode: "macvlan_mode" },
  ipvlan: { parent: "parent", mode: "ipvlan_mode" },
};
/** InterfaceName= is the bridge's own device for a bridge, and the host's parent device for the others. */
const INTERFACE_OPTION: Readonly<Record<string, string>> = { bridge: "com.docker.network.bridge.name", macvlan: "parent", ipvlan: "parent" };
const CIDR = /^[0-9A-Fa-f.:]+\/\d+$/;

function ipv4(text: string): number | undefined {
  return IPV4.test(text) ? text.split(".").reduce((n, o) => n * 256 + Number(o), 0) : undefined;
}

/** Podman's `START-END` of IPv4 addresses: the first address, and how many (a power of two or not). */
function ipv4Range(text: string): { first: number; bits: number } | undefined {
  const [start, end, ...rest] = text.split("-");
  const [first, last] = [ipv4(start ?? ""), ipv4(end ?? "")];
  if (rest.length > 0 || first === undefined || last === undefined || last < first) return undefined;
  return { first, bits: Math.log2(last - first + 1) };
}

/** The largest CIDR block inside a range: aligned to its own size, starting in it. */
function cidrBlock(range: { first: number; bits: number }): { first: number; bits: number; cidr: string } | undefined {
  const count = 2 ** range.bits;
  for (let bits = Math.floor(range.bits); bits >= 0; bits--) {
    const size = 2 ** bits;
    const first = Math.ceil(range.first / size) * size;
    if (first + size <= range.first + count) {
      const address = [24, 16, 8, 0].map((shift) => Math.floor(first / 2 ** shift) % 256).join(".");
      return { first, bits, cidr: `${address}/${32 - bits}` };
    }
  }
  return undefined;
}

function networkPlan(c: ContainerSection, def: Definition, ctx: TranslateContext): ResourcePlan {
  const name = c.value("NetworkName") ?? `systemd-${def.name.base}`;
  const argv = [ctx.docker, "network", "create"];
  flagArgs(c, NETWORK_KEYS, argv);
  const driver = c.value("Driver") ?? "bridge";

  const ipam = c.single("IPAMDriver");
  const ipamDriver = ipam && (Object.hasOwn(IPAM_DRIVERS, ipam.value) ? IPAM_DRIVERS[ipam.value] : ipam.value);
  if (ipam && ipamDriver === null) c.fail(ipam, `not supported with Docker: Docker has no "${ipam.value}" IPAM driver built in`);
  else if (ipamDriver) argv.push("--ipam-driver", ipamDriver);

  // As Quadlet pairs them: the n-th Gateway= and IPRange= belong to the n-th Subnet=.
  const subnets = c.entries("Subnet");
  const gateways = c.entries("Gateway");
  const ranges = c.entries("IPRange");
  for (const [list, what] of [[gateways, "gateway"], [ranges, "range"]] as const) {
    const extra = list[subnets.length];
    if (extra) c.fail(extra, subnets.length === 0 ? `a ${what} needs a Subnet=` : `more ${what}s than subnets; each belongs to the Subnet= of the same position`);
  }
  const cidrs = ranges.map((r) => {
    if (CIDR.test(r.value)) return r.value;
    const range = ipv4Range(r.value);
    const block = range && cidrBlock(range);
    // Podman's START-END: one CIDR block as it is, or what Docker can take instead, named.
    if (block && block.first === range.first && block.bits === range.bits) return block.cidr;
    c.fail(r, `Docker takes a range in CIDR notation (10.89.0.128/25), not "${r.value}"${block ? `; the largest block inside it is ${block.cidr}` : ""}`);
    return undefined;
  });
  subnets.forEach((s, i) => {
    argv.push("--subnet", s.value);
    if (gateways[i]) argv.push("--gateway", gateways[i].value);
    if (cidrs[i]) argv.push("--ip-range", cidrs[i]);
  });

  const interfaceName = c.single("InterfaceName");
  if (interfaceName) {
    const option = INTERFACE_OPTION[driver];
    if (option) argv.push("--opt", `${option}=${interfaceName.value}`);
    else c.fail(interfaceName, `not supported with Docker for the ${driver} driver`);
  }
  // The containers on the network get these; a bad one is the network's error, and they get none.
  for (const { word, entry } of c.words("DNS")) if (!DNS_SERVER.test(word)) c.fail(entry, `expected an IP address, found "${word}"`);
  for (const { word, entry } of c.words("Options")) {
    const eq = word.indexOf("=");
    const key = eq < 0 ? word : word.slice(0, eq);
    const docker = key.includes(".") ? key : OPTIONS[driver]?.[key];
    if (docker === undefined) c.fail(entry, `"${key}" is not an option Docker's ${driver} driver knows; write Docker's own option name`);
    else argv.push("--opt", `${docker}${eq < 0 ? "" : word.slice(eq)}`);
  }
  for (const { word } of c.words("DockerArgs")) argv.push(word);
  argv.push(name);
  const plan: ResourcePlan = { resource: name, command: argv, ensure: true, uses: [] };
  // Quadlet leaves the network in place on stop unless asked; a container still on it keeps it.
  if (c.bool("NetworkDeleteOnStop")) plan.stopPost = [ctx.docker, "network", "rm", name];
  return plan;
}

export function translateNetwork(def: Definition, ctx: TranslateContext): Translated {
  return resourceUnit(def, ctx, NETWORK_KEYS, networkPlan);
}
