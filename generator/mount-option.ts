import { SIZE } from "./value-checks.js";

/**
 * `Mount=` as Podman and Docker read it: one CSV record (Go's encoding/csv: a field may be quoted
 * as a whole, `""` is a quote in it) of `key=value` fields and bare flags, `type=volume` unless a
 * `type=` says otherwise. What Docker 20.10's `--mount` has passes, re-encoded the way Docker
 * decodes it; what it lacks is refused by name, with the reason, before any unit is written.
 */
export interface MountField {
  key: string;
  value: string | undefined;
}

export type CsvResult = { ok: true; fields: string[] } | { ok: false; message: string };

/** One record as Go's csv.Reader (default settings) reads it. */
export function parseCsvRecord(text: string): CsvResult {
  if (/[\r\n]/.test(text)) return { ok: false, message: "a mount is one line; it has a line break" };
  const fields: string[] = [];
  let i = 0;
  for (;;) {
    if (text[i] === '"') {
      let field = "";
      for (i++; ; i++) {
        if (i >= text.length) return { ok: false, message: 'a quoted field has no closing "' };
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            field += '"';
            i++;
          } else break;
        } else field += text[i];
      }
      i++;
      if (i < text.length && text[i] !== ",") return { ok: false, message: `extraneous or missing " in the quoted field "${field}"` };
      fields.push(field);
    } else {
      const comma = text.indexOf(",", i);
      const field = text.slice(i, comma < 0 ? text.length : comma);
      if (field.includes('"')) return { ok: false, message: `a " inside the unquoted field "${field}"; quote the whole field` };
      fields.push(field);
      i += field.length;
    }
    if (i >= text.length) return { ok: true, fields };
    i++;
  }
}

/** A record as Go's csv.Writer writes it, so Docker's reader gets exactly these fields back. */
export function formatCsvRecord(fields: readonly string[]): string {
  return fields.map((f) => (/[,"\r\n]|^[ \t]|^\\\.$/.test(f) ? `"${f.replaceAll('"', '""')}"` : f)).join(",");
}

const MOUNT_TYPES = ["bind", "volume", "tmpfs"] as const;
export type MountType = (typeof MOUNT_TYPES)[number];

/** Mount types Docker 20.10 lacks, and why. */
const REFUSED_TYPES: Readonly<Record<string, string>> = {
  devpts: "Docker mounts /dev/pts itself and has no devpts mounts",
  image: "Docker 20.10 cannot mount an image's file system into a container",
  glob: "Docker has no glob mounts; give one Mount= per path",
  ramfs: "Docker has no ramfs mounts; use type=tmpfs",
  artifact: "Docker has no OCI artifact mounts",
  npipe: "named pipes exist only on Windows",
};

/** Go's strconv.ParseBool. */
const GO_BOOL = new Set(["1", "t", "T", "TRUE", "true", "True", "0", "f", "F", "FALSE", "false", "False"]);
export const GO_FALSE = new Set(["0", "f", "F", "FALSE", "false", "False"]);
const GO_TRUE = new Set(["1", "t", "T", "TRUE", "true", "True"]);

type Check = (value: string | undefined) => string | undefined;
const flagOrBool: Check = (v) => (v === undefined || GO_BOOL.has(v) ? undefined : `expected true or false, found "${v}"`);
const text: Check = (v) => (v === undefined ? "needs a value (KEY=VALUE)" : undefined);
const oneOf = (...allowed: string[]): Check => (v) => (v !== undefined && allowed.includes(v.toLowerCase()) ? undefined : `expected one of ${allowed.join(", ")}, found "${v ?? ""}"`);
const size: Check = (v) => (v !== undefined && SIZE.test(v) ? undefined : `expected a size such as 64m, found "${v ?? ""}"`);
const octal: Check = (v) => (v !== undefined && /^[0-7]{1,11}$/.test(v) && parseInt(v, 8) <= 0xffffffff ? undefined : `expected an octal mode such as 1777, found "${v ?? ""}"`);

/** The keys of Docker 20.10's `--mount` (cli/opts/mount.go), by lower-case name; `types` limits a key to those mount types. */
const DOCKER_KEYS: Readonly<Record<string, { check: Check; types?: readonly MountType[] }>> = {
  source: { check: text }, src: { check: text },
  target: { check: text }, dst: { check: text }, destination: { check: text },
  readonly: { check: flagOrBool }, ro: { check: flagOrBool },
  consistency: { check: oneOf("consistent", "cached", "delegated", "default") },
  "bind-propagation": { check: oneOf("shared", "slave", "private", "rshared", "rslave", "rprivate"), types: ["bind"] },
  "bind-nonrecursive": { check: flagOrBool, types: ["bind"] },
  "volume-driver": { check: text, types: ["volume"] },
  "volume-label": { check: text, types: ["volume"] },
  "volume-nocopy": { check: flagOrBool, types: ["volume"] },
  "volume-opt": { check: text, types: ["volume"] },
  "tmpfs-size": { check: size, types: ["tmpfs"] },
  "tmpfs-mode": { check: octal, types: ["tmpfs"] },
};

/** Podman options Docker says the same with: the Docker field, or null when it is Docker's default anyway. */
const PODMAN_SPELLINGS: Readonly<Record<string, (value: string | undefined) => string | null>> = {
  rw: (v) => (v !== undefined && GO_FALSE.has(v) ? "readonly" : null),
  // Docker's tmpfs mounts always start empty.
  notmpcopyup: () => null,
};

/** Podman options Docker's `--mount` lacks, and why. */
const PODMAN_ONLY: Readonly<Record<string, string>> = {
  relabel: "Docker does not relabel a --mount for SELinux; use Volume=SRC:DEST:z (or :Z)",
  U: "Docker cannot chown a mount to the container's user; chown the source on the host",
  chown: "Docker cannot chown a mount to the container's user; chown the source on the host",
  idmap: "Docker has no ID-mapped mounts",
  "no-dereference": "Docker always follows a symlink source",
  tmpcopyup: "Docker's tmpfs mounts start empty; they cannot copy the image's files up",
  subpath: "Docker 20.10 cannot mount a subpath of a volume",
  noswap: "Docker's tmpfs has no noswap option",
  suid: "Docker's --mount takes no mount flags", nosuid: "Docker's --mount takes no mount flags",
  exec: "Docker's --mount takes no mount flags", noexec: "Docker's --mount takes no mount flags",
  dev: "Docker's --mount takes no mount flags", nodev: "Docker's --mount takes no mount flags",
};

/**
 * What a tmpfs takes from Podman that Docker's `--mount` lacks and its `--tmpfs` has (mount(8)'s
 * options): the mount flags, and `U`, the tmpfs given to the container's user (`uid=`, `gid=`).
 */
const TMPFS_ONLY = new Set(["U", "chown", "suid", "nosuid", "exec", "noexec", "dev", "nodev"]);

const SOURCE_KEYS = new Set(["source", "src"]);
const TARGET_KEYS = new Set(["target", "dst", "destination"]);

export interface ParsedMount {
  type: MountType;
  fields: MountField[];
  /** Index in `fields` of the source, if any. */
  source: number;
  target: string;
  /** A tmpfs's options that only Docker's `--tmpfs` has (TMPFS_ONLY), as written. */
  tmpfsOnly: string[];
}

/** A `Mount=` value checked against Docker's `--mount`; the message names the option at fault. */
export function parseMount(value: string): ParsedMount | { error: string } {
  const csv = parseCsvRecord(value);
  if (!csv.ok) return { error: csv.message };
  let type = "volume";
  const fields: MountField[] = [];
  for (const raw of csv.fields) {
    const eq = raw.indexOf("=");
    const key = eq < 0 ? raw : raw.slice(0, eq);
    const v = eq < 0 ? undefined : raw.slice(eq + 1);
    if (key.toLowerCase() === "type" && v !== undefined) type = v.toLowerCase();
    else fields.push({ key, value: v });
  }
  if (Object.hasOwn(REFUSED_TYPES, type)) return { error: `type=${type} is not supported with Docker: ${REFUSED_TYPES[type]}` };
  if (!(MOUNT_TYPES as readonly string[]).includes(type)) return { error: `unknown mount type "${type}" (Docker has bind, volume and tmpfs)` };
  const mountType = type as MountType;
  const kept: MountField[] = [];
  const tmpfsOnly: string[] = [];
  let source = -1;
  let target: string | undefined;
  for (const f of fields) {
    if (f.key === "") return { error: "an empty field; fields are KEY=VALUE, separated by commas" };
    if (mountType === "tmpfs" && TMPFS_ONLY.has(f.key) && (f.value === undefined || (f.key === "chown" && GO_TRUE.has(f.value)))) {
      tmpfsOnly.push(f.key === "chown" ? "U" : f.key);
      continue;
    }
    if (Object.hasOwn(PODMAN_ONLY, f.key)) return { error: `${f.key} is not supported with Docker: ${PODMAN_ONLY[f.key]}` };
    if (Object.hasOwn(PODMAN_SPELLINGS, f.key)) {
      const docker = PODMAN_SPELLINGS[f.key]!(f.value);
      if (docker) kept.push({ key: docker, value: undefined });
      continue;
    }
    const key = f.key.toLowerCase();
    const spec = Object.hasOwn(DOCKER_KEYS, key) ? DOCKER_KEYS[key]! : undefined;
    if (!spec) return { error: `Docker's --mount has no option "${f.key}"` };
    const problem = spec.check(f.value);
    if (problem) return { error: `${f.key}: ${problem}` };
    if (spec.types && !spec.types.includes(mountType)) return { error: `${f.key} does not apply to type=${mountType} (Docker refuses the mix)` };
    if (SOURCE_KEYS.has(key)) source = kept.length;
    if (TARGET_KEYS.has(key)) target = f.value;
    kept.push(f);
  }
  if (!target) return { error: "a target= (or dst=) is required" };
  if (mountType === "tmpfs" && source >= 0) return { error: "a tmpfs mount has no source" };
  if (mountType === "bind" && source < 0) return { error: "a bind mount needs a source=" };
  return { type: mountType, fields: kept, source, target, tmpfsOnly };
}

/** Docker's `--mount` field as mount(8)'s option, for a tmpfs that goes through `--tmpfs`. */
const TMPFS_OPTION: Readonly<Record<string, (value: string | undefined) => string | null>> = {
  "tmpfs-size": (v) => `size=${v}`,
  "tmpfs-mode": (v) => `mode=${v}`,
  readonly: (v) => (v === undefined || GO_TRUE.has(v) ? "ro" : null),
  ro: (v) => (v === undefined || GO_TRUE.has(v) ? "ro" : null),
  target: () => null, dst: () => null, destination: () => null, consistency: () => null,
};

/**
 * A tmpfs with options only `--tmpfs` takes, as its `TARGET:OPTIONS` value: the mount flags as
 * written, and for `U` the owner given (`uid=`, `gid=`); or why it cannot be one.
 */
export function tmpfsValue(m: ParsedMount, owner: { uid: string; gid: string } | undefined): { value: string } | { error: string } {
  if (m.target.includes(":")) return { error: `a tmpfs that needs Docker's --tmpfs cannot have a ":" in its target` };
  const options = m.fields.map((f) => TMPFS_OPTION[f.key.toLowerCase()]!(f.value)).filter((o): o is string => o !== null);
  for (const option of m.tmpfsOnly) {
    if (option !== "U") options.push(option);
    else if (!owner) return { error: "U gives the tmpfs to the container's user, which berth knows only as numbers: write User=UID and Group=GID" };
    else options.push(`uid=${owner.uid}`, `gid=${owner.gid}`);
  }
  return { value: `${m.target}:${options.join(",")}` };
}

/** The `--mount` value Docker reads back as exactly these fields. */
export function formatMount(m: ParsedMount): string {
  return formatCsvRecord([`type=${m.type}`].concat(m.fields.map((f) => (f.value === undefined ? f.key : `${f.key}=${f.value}`))));
}
