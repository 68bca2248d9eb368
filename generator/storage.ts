import type { ContainerSection } from "./container-section.js";
import { againstDefinition, againstDefinitionIfDotted, startsExpanded } from "./host-paths.js";
import { formatMount, parseMount, tmpfsValue } from "./mount-option.js";
import type { Entry } from "./unit-file.js";

/** `NAME.volume` as the Docker name of that definition's volume; undefined when it is not defined (reported). */
export type VolumeReference = (e: Entry, source: string) => string | undefined;

/**
 * The source of a volume or bind mount, as Docker needs it: a relative host path is resolved the
 * way Quadlet resolves it, and a Quadlet `.volume` unit becomes its volume's name. `Volume=` and
 * `Mount=` both come here, so what one learns about sources the other does too. Undefined when refused.
 */
export function storageSource(e: Entry, source: string, definitionFile: string, volume: VolumeReference): string | undefined {
  if (source.endsWith(".volume") && !source.includes("/")) return volume(e, source);
  return againstDefinitionIfDotted(source, definitionFile);
}

/** What Docker 20.10's `--volume` takes after the second colon: each passes as written. */
const DOCKER_VOLUME_OPTIONS = new Set(["rw", "ro", "z", "Z", "private", "rprivate", "shared", "rshared", "slave", "rslave", "nocopy", "consistent", "cached", "delegated"]);

/**
 * Podman's volume options that Docker's `--volume` refuses ("invalid mode"), by name: left out
 * where Docker does the same without being asked (`warn` says why, or nothing for a plain
 * equivalent), refused otherwise with the reason.
 */
const PODMAN_VOLUME_OPTIONS: Readonly<Record<string, { drop: true; warn?: string } | { refuse: string }>> = {
  rbind: { drop: true },
  idmap: { drop: true, warn: "a Docker container has no user namespace of its own, so there is nothing to map, as in a rootful Podman container without UserNS=; left out" },
  U: { refuse: "Docker cannot chown a volume to the container's user; chown the source once on the host (chown -R UID:GID SOURCE)" },
  O: { refuse: "Docker has no overlay volumes" },
  bind: { refuse: "Docker binds recursively; a Mount=type=bind,…,bind-nonrecursive=true binds one level" },
  ...Object.fromEntries(["exec", "noexec", "suid", "nosuid", "dev", "nodev"].map((flag) => [flag, { refuse: "Docker's --volume takes no mount flags; set them on the host's mount" }])),
};

/** `Volume=` options as Docker takes them; undefined when one is refused (reported). */
function volumeOptions(c: ContainerSection, e: Entry, options: string): string | undefined {
  const kept: string[] = [];
  let refused = false;
  for (const option of options.split(",")) {
    if (option === "") continue;
    const podman = Object.hasOwn(PODMAN_VOLUME_OPTIONS, option.split("=")[0]!) ? PODMAN_VOLUME_OPTIONS[option.split("=")[0]!] : undefined;
    // A variable is substituted when the unit starts: Docker judges it then.
    if (DOCKER_VOLUME_OPTIONS.has(option) || option.startsWith("$")) kept.push(option);
    else if (podman && "refuse" in podman) {
      c.fail(e, `${option}: ${podman.refuse}`);
      refused = true;
    } else if (podman) {
      if (podman.warn) c.warn(e, `${option}: ${podman.warn}`);
    } else {
      c.fail(e, `"${option}" is not an option Docker's --volume takes (${[...DOCKER_VOLUME_OPTIONS].join(", ")})`);
      refused = true;
    }
  }
  return refused ? undefined : kept.join(",");
}

/** `Volume=[SOURCE:]DEST[:OPTIONS]` as `--volume`, read as Quadlet reads it (split at the first two colons). */
export function volumeArgs(c: ContainerSection, definitionFile: string, argv: string[], volume: VolumeReference): void {
  for (const e of c.entries("Volume")) {
    const colon = e.value.indexOf(":");
    if (colon <= 0) {
      argv.push("--volume", e.value);
      continue;
    }
    const second = e.value.indexOf(":", colon + 1);
    const options = second < 0 ? "" : volumeOptions(c, e, e.value.slice(second + 1));
    const source = storageSource(e, e.value.slice(0, colon), definitionFile, volume);
    if (source === undefined || options === undefined) continue;
    const target = e.value.slice(colon, second < 0 ? e.value.length : second);
    argv.push("--volume", options === "" ? source + target : `${source}${target}:${options}`);
  }
}

/** `EnvironmentFile=` words (as Quadlet splits them), each path resolved against the definition. */
export function environmentFileArgs(c: ContainerSection, definitionFile: string, argv: string[]): void {
  for (const { word } of c.words("EnvironmentFile")) argv.push("--env-file", againstDefinition(word, definitionFile));
}

/** The container's user and group, when both are numbers: the owner a tmpfs with `U` is given. */
function numericOwner(c: ContainerSection): { uid: string; gid: string } | undefined {
  const [uid, gid] = [c.value("User"), c.value("Group")];
  return uid !== undefined && gid !== undefined && /^\d+$/.test(uid) && /^\d+$/.test(gid) ? { uid, gid } : undefined;
}

/** `Mount=` words (as Quadlet splits them), each parsed and checked as Docker's `--mount` reads it. */
export function mountArgs(c: ContainerSection, definitionFile: string, argv: string[], volume: VolumeReference): void {
  for (const { word, entry } of c.words("Mount")) {
    const m = parseMount(word);
    if ("error" in m) {
      c.fail(entry, m.error);
      continue;
    }
    if (m.tmpfsOnly.length > 0) {
      const tmpfs = tmpfsValue(m, numericOwner(c));
      if ("error" in tmpfs) c.fail(entry, tmpfs.error);
      else argv.push("--tmpfs", tmpfs.value);
      continue;
    }
    const field = m.fields[m.source];
    if (field?.value !== undefined) {
      const source = storageSource(entry, field.value, definitionFile, volume);
      if (source === undefined) continue;
      if (m.type === "bind" && !source.startsWith("/") && !startsExpanded(source)) {
        c.fail(entry, `a bind mount's source is a host path: absolute, or starting with ./ or ../ (relative to the definition), not "${source}"`);
        continue;
      }
      m.fields[m.source] = { key: field.key, value: source };
    }
    argv.push("--mount", formatMount(m));
  }
}
