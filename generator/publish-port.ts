/** A host port binding taken from `PublishPort=`, enough to tell whether two of them collide. */
export interface HostPorts {
  ip: string;
  first: number;
  last: number;
  proto: string;
}

const RANGE = /^(\d{1,5})(?:-(\d{1,5}))?$/;

function range(text: string): [number, number] | undefined {
  const m = RANGE.exec(text);
  if (!m) return undefined;
  const first = Number(m[1]);
  const last = m[2] === undefined ? first : Number(m[2]);
  return first >= 1 && last <= 65535 && first <= last ? [first, last] : undefined;
}

/**
 * Parses Docker's `[[ip:][hostPort]:]containerPort[/proto]`. Returns the host side (undefined when
 * Docker picks a random host port), or an error message.
 */
export function parsePublishPort(value: string): { host: HostPorts | undefined } | { error: string } {
  const slash = value.lastIndexOf("/");
  const proto = slash >= 0 ? value.slice(slash + 1).toLowerCase() : "tcp";
  const spec = slash >= 0 ? value.slice(0, slash) : value;
  if (!["tcp", "udp", "sctp"].includes(proto)) return { error: `unknown protocol "${proto}"` };
  const colon = spec.lastIndexOf(":");
  const container = range(spec.slice(colon + 1));
  if (!container) return { error: `"${spec.slice(colon + 1)}" is not a port or port range` };
  if (colon < 0) return { host: undefined };
  const rest = spec.slice(0, colon);
  const hostColon = rest.startsWith("[") ? rest.indexOf("]:") + 1 : rest.lastIndexOf(":");
  const hostPort = hostColon >= 0 ? rest.slice(hostColon + 1) : rest;
  const ip = hostColon >= 0 ? rest.slice(0, hostColon).replace(/^\[|\]$/g, "") : "";
  if (hostPort === "") return { host: undefined };
  const host = range(hostPort);
  if (!host) return { error: `"${hostPort}" is not a host port or port range` };
  if (host[1] - host[0] !== container[1] - container[0] && container[0] !== container[1]) {
    return { error: "host and container port ranges differ in size" };
  }
  return { host: { ip, first: host[0], last: host[1], proto } };
}

const WILDCARD = new Set(["", "0.0.0.0", "::"]);

export function portsCollide(a: HostPorts, b: HostPorts): boolean {
  if (a.proto !== b.proto || a.last < b.first || b.last < a.first) return false;
  return a.ip === b.ip || WILDCARD.has(a.ip) || WILDCARD.has(b.ip);
}
