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

/** Whether two host addresses share a port space: the same address, or either one is every address. */
export function addressesCollide(a: string, b: string): boolean {
  return a === b || WILDCARD.has(a) || WILDCARD.has(b);
}

interface PortRange<E> {
  first: number;
  last: number;
  entry: E;
}

/** One definition's host port ranges for one protocol and address, sorted by first port. */
export interface PortIndex<E = { line: number }> {
  ip: string;
  ranges: Array<PortRange<E>>;
  /** For each i, the index of the range among ranges[0..i] that reaches the highest port. */
  reach: number[];
}

export interface PortHit<E = { line: number }> {
  /** The lowest port of the query that the index holds. */
  at: number;
  entry: E;
}

/** Indexes ranges by protocol, then address. */
export function indexPorts<E>(ports: ReadonlyArray<{ host: HostPorts; entry: E }>): Map<string, Array<PortIndex<E>>> {
  const byKey = new Map<string, PortIndex<E>>();
  const byProto = new Map<string, Array<PortIndex<E>>>();
  for (const { host, entry } of ports) {
    const key = `${host.proto} ${host.ip}`;
    let index = byKey.get(key);
    if (!index) {
      byKey.set(key, (index = { ip: host.ip, ranges: [], reach: [] }));
      const list = byProto.get(host.proto);
      if (list) list.push(index);
      else byProto.set(host.proto, [index]);
    }
    index.ranges.push({ first: host.first, last: host.last, entry });
  }
  byKey.forEach((index) => {
    index.ranges.sort((a, b) => a.first - b.first);
    let best = 0;
    index.reach = index.ranges.map((r, i) => (best = r.last > index.ranges[best]!.last ? i : best));
  });
  return byProto;
}

/** The lowest port from `first` to `last` that a range of the index covers, in O(log n). */
export function firstOverlap<E>(index: PortIndex<E>, first: number, last: number): PortHit<E> | undefined {
  const { ranges, reach } = index;
  // Ranges starting at or below `first`: one of them covers `first` if the furthest does.
  let lo = 0;
  let hi = ranges.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ranges[mid]!.first <= first) lo = mid + 1;
    else hi = mid;
  }
  const furthest = lo > 0 ? ranges[reach[lo - 1]!]! : undefined;
  if (furthest && furthest.last >= first) return { at: first, entry: furthest.entry };
  // Otherwise the first range that starts above `first`, if it starts in time.
  const next = ranges[lo];
  return next && next.first <= last ? { at: next.first, entry: next.entry } : undefined;
}
