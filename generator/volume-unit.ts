import type { ContainerSection } from "./container-section.js";
import { flagArgs, type KeyTable } from "./key-rules.js";
import { PODMAN_ONLY } from "./resource-keys.js";
import { resourceUnit, type ResourcePlan } from "./resource-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
import type { Entry } from "./unit-file.js";

/** [Volume] of a `.volume` file, key by key, as `docker volume create` (Docker 20.10) takes it. */
export const VOLUME_KEYS: KeyTable = {
  Driver: { kind: "own" },
  Label: { kind: "words", flag: "--label", pairs: true },
  Device: { kind: "own" },
  Type: { kind: "own" },
  Options: { kind: "own" },
  User: { kind: "own" },
  Group: { kind: "own" },
  VolumeName: { kind: "own" },
  ServiceName: { kind: "own" },
  DockerArgs: { kind: "own" },
  Copy: { kind: "refused", when: "false", why: "Docker copies the image's files into an empty volume; turn that off per container with Mount=…,volume-nocopy" },
  UID: { kind: "refused", why: "Docker cannot set the owner of a volume's directory; use User= with Device= (a mount option) or chown it from a container" },
  GID: { kind: "refused", why: "Docker cannot set the group of a volume's directory; use Group= with Device= (a mount option) or chown it from a container" },
  Image: { kind: "refused", why: "Docker 20.10 has no image volumes" },
  ...PODMAN_ONLY,
};

/** Docker's local driver passes these into mount(8)'s -o; with no Device= it refuses them. */
const MOUNT_OPTION_KEYS = [["User", "uid", "id -u"], ["Group", "gid", "getent group"]] as const;

/**
 * A user or group ID as Quadlet reads one (its LookupUint32): decimal, `0x` hexadecimal, octal
 * after a leading 0, an optional `+`; undefined for anything else, or a value no ID can be.
 */
function quadletId(value: string): number | undefined {
  const digits = value.startsWith("+") ? value.slice(1) : value;
  const [base, text] = /^0[xX]/.test(digits) ? [16, digits.slice(2)] : digits.startsWith("0") && digits.length > 1 ? [8, digits.slice(1)] : [10, digits];
  const pattern = base === 16 ? /^[0-9a-fA-F]+$/ : base === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!pattern.test(text)) return undefined;
  const id = parseInt(text, base);
  return id <= 0xffffffff ? id : undefined;
}

function volumePlan(c: ContainerSection, def: Definition, ctx: TranslateContext): ResourcePlan {
  const name = c.value("VolumeName") ?? `systemd-${def.name.base}`;
  const argv = [ctx.docker, "volume", "create"];
  const plan: ResourcePlan = { resource: name, command: argv, ensure: true, uses: [] };
  const driver = c.single("Driver");
  if (driver?.value === "image") c.fail(driver, "not supported with Docker: Docker 20.10 has no image volumes");
  else if (driver) argv.push("--driver", driver.value);
  flagArgs(c, VOLUME_KEYS, argv);

  const device = c.value("Device");
  const type = c.single("Type");
  if (device !== undefined) argv.push("--opt", `device=${device}`);
  if (type && device === undefined) c.fail(type, "needs Device=");
  else if (type) argv.push("--opt", `type=${type.value}`);
  // A bind mount's source must be there before Docker mounts it.
  if (type?.value === "bind" && device !== undefined) plan.unit = [`RequiresMountsFor=${device}`];
  // Each mount option with the line that asked for it.
  const asked: Array<{ entry: Entry; option: string }> = [];
  for (const [key, option, lookup] of MOUNT_OPTION_KEYS) {
    const e = c.single(key);
    const number = e === undefined || e.value === "root" ? 0 : quadletId(e.value);
    // Quadlet takes a value that is no number as 0: a volume of User=postgres is root's there,
    // and the file runs as it did.
    if (e && number === undefined) {
      const how = /^[A-Za-z_][A-Za-z0-9_.-]*$/.test(e.value) ? ` (${lookup} ${e.value})` : "";
      c.warn(e, `"${e.value}" is no number, which Quadlet reads as 0 (root), and so does berth; write the number${how} to make the volume that ${key.toLowerCase()}'s`);
    }
    const id = e === undefined ? undefined : String(number ?? 0);
    // Without a device the volume's directory is root's already: 0 asks for what Docker does anyway.
    if (e && id !== undefined && !(id === "0" && device === undefined)) asked.push({ entry: e, option: `${option}=${id}` });
  }
  const options = c.single("Options");
  if (options !== undefined) asked.push({ entry: options, option: options.value });
  if (asked.length > 0 && device === undefined) {
    c.fail(asked[0]!.entry, "Docker's local driver takes mount options only with Device= (and Type=)");
  } else if (asked.length > 0) argv.push("--opt", `o=${asked.map((a) => a.option).join(",")}`);
  for (const { word } of c.words("DockerArgs")) argv.push(word);
  argv.push(name);
  return plan;
}

export function translateVolume(def: Definition, ctx: TranslateContext): Translated {
  return resourceUnit(def, ctx, VOLUME_KEYS, volumePlan);
}
