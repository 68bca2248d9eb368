import {
  GO_DURATION, INSTALL_REFERENCE_KEYS, SIZE, UNIT_REFERENCE_KEYS, UNSUPPORTED,
} from "./container-keys.js";
import { configCommand, configPaths, CONFIG_KEYS, CONFIG_LABEL_FILE, type ConfigPaths } from "./config-keys.js";
import { ContainerSection } from "./container-section.js";
import { error, hasErrors, sortByFile, warning, type Diagnostic } from "./diagnostics.js";
import { digest } from "./digest.js";
import { formatExec, oneWord } from "./exec-line.js";
import { GENERATED_HEADER, SPEC_LABEL, UNIT_LABEL } from "./labels.js";
import { containerNameOf, unitNameOf } from "./definition-names.js";
import { CONTAINER_NAME, FILE_TYPES, referencedDefinition, isUnitName, type DefinitionName, type FileType } from "./names.js";
import { parseMount } from "./mount-option.js";
import { addHostArgs } from "./add-host.js";
import { logDriver } from "./log-driver.js";
import { networks, type Networks } from "./networks.js";
import { isOneshot, refuseReadinessKeys } from "./oneshot.js";
import { refuseValues } from "./refused-values.js";
import { securityOptions } from "./security-options.js";
import { timezoneArgs } from "./timezone.js";
import { podmanArgs } from "./podman-args.js";
import { parsePublishPort, type HostPorts } from "./publish-port.js";
import { imageReference, networkReference, useLines, volumeSource, type ReferenceContext, type Resolved, type Use } from "./references.js";
import { reloadArgv } from "./reload.js";
import { signalEntry, signalNumber } from "./signals.js";
import { environmentFileArgs, mountArgs, volumeArgs } from "./storage.js";
import { secretOptions, type CredentialStore, type Secrets } from "./secret-keys.js";
import { endsWithEscape, type Entry, type Sections } from "./unit-file.js";
import { splitUnitNames, splitWords } from "./words.js";

export interface Definition {
  name: DefinitionName;
  /** The main file as found in the search path (a symlink keeps its own path). */
  file: string;
  /** The main file, then its drop-ins in the order they apply: the order diagnostics are listed in. */
  files: readonly string[];
  sections: Sections;
}

/** The paths here are in unit syntax (see exec-line.ts): a `%` or `$` in them is doubled. */
export interface TranslateContext extends ReferenceContext {
  docker: string;
  /** Whether a host device exists, for `AddDevice=-/dev/…` (only if present). */
  deviceExists(path: string): boolean;
  /** argv prefix that runs berth's container helper (create, watch, config, ensure). */
  helper: readonly string[];
  /** The `berth-step` script: the shell steps of run, readiness and removal. */
  step: string;
  scope: "system" | "user";
  /** Container name of a defined definition, in unit syntax, or undefined if there is none. */
  containerOf(definition: string): string | undefined;
  /** The host's credential store, for Secret=. */
  credentials: CredentialStore;
}

export interface Dependency {
  key: string;
  unit: string;
  /** Set when the value named a definition (`x.container`). */
  definition?: string;
  entry: Entry;
}

export interface Translated {
  definition: Definition;
  type: FileType;
  unitName: string;
  /** The container's name; empty for the other file types, which run none. */
  containerName: string;
  /** The Docker name of what the unit makes: the container, network or volume, the image pulled or built. */
  resource: string;
  image: string | undefined;
  /** The unit that pulls or builds the image (`Image=app.image`), which berthd leaves the pull to. */
  imageFrom: string | undefined;
  pull: "missing" | "always" | "never" | "newer" | undefined;
  /** Digest of the create argv, put on the container as a label. */
  spec: string;
  /** Host paths that are the service's configuration (RestartOnChange=, ReloadOnChange=). */
  config?: ConfigPaths | undefined;
  /** RevertOnFailure=: a new version that does not become healthy is replaced by the one before. */
  revertOnFailure?: boolean | undefined;
  /** Pulled in by berth.target, because the definition has no [Install] section. */
  wantedAtBoot: boolean;
  text: string;
  /** Symlinks to create in the generator's output directory, relative to it. */
  links: Array<{ path: string; target: string }>;
  /** The `Alias=` names among the links: names in the set, claimed like unit names. */
  aliases: Array<{ name: string; entry: Entry }>;
  dependencies: Dependency[];
  ports: Array<{ host: HostPorts; entry: Entry }>;
  diagnostics: Diagnostic[];
}

export const KNOWN_KEYS = new Set([
  "Image", "ContainerName", "Exec", "Entrypoint", "Environment", "EnvironmentFile", "Volume", "Mount",
  "Tmpfs", "PublishPort", "ExposeHostPort", "Network", "HostName", "IP", "IP6", "DNS", "DNSSearch",
  "DNSOption", "AddHost", "User", "Group", "GroupAdd", "UserNS", "WorkingDir", "Label", "AddCapability",
  "DropCapability", "NoNewPrivileges", "ReadOnly", "AddDevice", "Sysctl", "Ulimit", "ShmSize", "Memory",
  "PidsLimit", "LogDriver", "LogOpt", "HealthCmd", "HealthInterval", "HealthTimeout", "HealthRetries",
  "HealthStartPeriod", "HealthOnFailure", "Notify", "RunInit", "StopSignal", "StopTimeout", "Pull",
  "ServiceName", "Privileged", "Pid", "Ipc", "Cgroupns", "SecurityOpt", "SeccompProfile",
  "SecurityLabelDisable", "SecurityLabelType", "SecurityLabelLevel", "SecurityLabelFileType",
  "DockerArgs", "ReloadCmd", "ReloadSignal", "NetworkAlias", "VolatileTmp", "AppArmor", "RemapUsers",
  "ReadOnlyTmpfs", "RevertOnFailure", "Secret", ...Object.keys(CONFIG_KEYS), "PodmanArgs", "Timezone", "Mask", "Unmask", "SecurityLabelNested",
]);

const isKnownKey = (key: string): boolean => KNOWN_KEYS.has(key);

// The key tables below are records walked with for-in: translate() runs once per definition in a
// process that exits right after, so its loops stay in the interpreter, where a for-of over pairs
// allocates an iterator and a result object per step and per destructured pair.

/** Single-valued keys that map one to one onto a docker create option. */
const SINGLE_FLAGS: Readonly<Record<string, string>> = {
  HostName: "--hostname", IP: "--ip", IP6: "--ip6", UserNS: "--userns", RemapUsers: "--userns", Pid: "--pid", Ipc: "--ipc",
  Cgroupns: "--cgroupns", WorkingDir: "--workdir", ShmSize: "--shm-size", Memory: "--memory", StopSignal: "--stop-signal",
};
/** Space-separated list keys whose every word becomes one option. */
const WORD_FLAGS: Readonly<Record<string, string>> = {
  DNS: "--dns", DNSSearch: "--dns-search", DNSOption: "--dns-option", GroupAdd: "--group-add", AddCapability: "--cap-add", DropCapability: "--cap-drop", Sysctl: "--sysctl",
  NetworkAlias: "--network-alias",
};
const HEALTH_DURATIONS: Readonly<Record<string, string>> = {
  HealthInterval: "--health-interval", HealthTimeout: "--health-timeout", HealthStartPeriod: "--health-start-period",
};
/** Docker's accepted modes differ per namespace. */
const NAMESPACE_MODES: ReadonlyArray<[string, RegExp, string]> = [
  ["Pid", /^(host|container:[A-Za-z0-9_.-]+)$/, "host or container:NAME"],
  ["Ipc", /^(host|private|shareable|none|container:[A-Za-z0-9_.-]+)$/, "host, private, shareable, none or container:NAME"],
  ["Cgroupns", /^(host|private)$/, "host or private"],
];
/** Sections translate() writes itself, beside the file type's own; every other one is passed through. */
const OWN_SECTIONS = new Set(["Unit", "Service", "Install"]);
const INSTALL_LINK_KEYS = new Set(["WantedBy", "RequiredBy", "UpheldBy", "Alias"]);
const INSTALL_LINK_DIRS: Readonly<Record<string, string>> = { WantedBy: ".wants", RequiredBy: ".requires", UpheldBy: ".upholds" };

const DEFAULT_STOP_TIMEOUT = 10;
/** Beyond Docker's own grace period: CLI start-up and the final SIGKILL must fit before systemd kills. */
const STOP_MARGIN = 30;

/** Specifiers and the variables systemd substitutes, each standing for name characters; `$$` is a literal `$`. */
const EXPANDED_AT_START = /%[a-zA-Z]|\$\$|\$\{[^}]*\}/g;

/** `%` is the only character systemd treats specially in the free-text values we write ourselves. */
function literal(text: string): string {
  return text.replaceAll("%", "%%");
}

export function translate(def: Definition, ctx: TranslateContext): Translated {
  const out: Collected = { diagnostics: [], dependencies: [] };
  const c = new ContainerSection(def.sections.get("Container") ?? [], isKnownKey);
  const unitName = unitNameOf(def);

  if (!def.sections.has("Container")) out.diagnostics.push(error(def.file, 0, "no [Container] section"));
  checkCommon(def, c, out);

  const containerEntry = c.single("ContainerName");
  const containerName = containerNameOf(def);
  if (!CONTAINER_NAME.test(containerName.replace(EXPANDED_AT_START, (m) => (m === "$$" ? "$" : "x")))) {
    const at = containerEntry ?? { key: "ContainerName", file: def.file, line: 0, value: containerName };
    c.fail(at, `"${containerName}" is not a valid Docker container name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)`);
  }

  const run = dockerCreate(def, c, ctx, unitName, containerName, out.diagnostics);
  reportUnknownKeys(c);

  const sections: Section[] = [
    { name: "Unit", lines: unitSection(def, ctx, `berth container ${containerName}`, out, run.joins, run.uses) },
    { name: "Service", lines: serviceSection(def, c, ctx, containerName, run, out.diagnostics) },
  ];
  const unit = finishUnit(def, ctx, unitName, c, out, sections);
  return {
    ...unit,
    type: "container",
    containerName,
    resource: containerName,
    image: run.image,
    imageFrom: run.imageFrom,
    pull: run.pull,
    spec: run.spec,
    config: run.config,
    revertOnFailure: c.bool("RevertOnFailure") || undefined,
    ports: run.ports,
  };
}

/** The checks every file type shares: the file's path, and ServiceName=. */
export function checkCommon(def: Definition, c: ContainerSection, out: Collected): void {
  // The path goes into the header comment and SourcePath=, where no escape can carry a line break.
  if (CONTROL.test(def.file)) out.diagnostics.push(error(def.file, 0, "the path contains a control character (a line break?); move the file to a plain path"));
  const serviceName = c.single("ServiceName");
  if (serviceName && !/^[A-Za-z0-9:_.\\-]+@?(\.service)?$/.test(serviceName.value)) {
    c.fail(serviceName, `"${serviceName.value}" is not a valid service name`);
  }
}

/**
 * What every file type's unit has beside its own [Unit] and [Service] lines: the sections passed
 * through, the [Install] links, the text, and the last check of its lines.
 */
export function finishUnit(
  def: Definition,
  ctx: TranslateContext,
  unitName: string,
  c: ContainerSection,
  out: Collected,
  sections: Section[],
): Pick<Translated, "definition" | "unitName" | "wantedAtBoot" | "text" | "links" | "aliases" | "dependencies" | "diagnostics"> {
  const own = FILE_TYPES[def.name.type].section;
  // forEach, not for-of: destructuring each [name, entries] pair steps an iterator per pair.
  def.sections.forEach((entries, name) => {
    if (name === own || OWN_SECTIONS.has(name)) return;
    if (name === "Quadlet") {
      if (entries.length > 0) out.diagnostics.push(warning(entries[0]!.file, entries[0]!.line, "[Quadlet] settings do not apply to berth; ignored"));
      return;
    }
    sections.push({ name, lines: entries.map((e) => copied(e, out.diagnostics)) });
  });
  const { links, aliases } = installLinks(def, unitName, out, (e) => rewrite("Install", e, INSTALL_REFERENCE_KEYS, ctx, out));

  const lines = unitLines(def.file, sections);
  const text = lines.join("\n");
  // Only a unit that would be written: with errors, bad lines are already reported at their source.
  if (!hasErrors(out.diagnostics) && !hasErrors(c.diagnostics)) checkLines(def.file, lines, text, out.diagnostics);
  const diagnostics = c.diagnostics.length > 0 ? out.diagnostics.concat(c.diagnostics) : out.diagnostics;
  return {
    definition: def,
    unitName,
    // A dropped definition is a service that should run, at boot too, not only when berthd starts
    // it. An [Install] section, even an empty one, takes this over.
    wantedAtBoot: !def.sections.has("Install") && def.name.kind !== "template",
    text,
    links,
    aliases,
    dependencies: out.dependencies,
    diagnostics: sortByFile(diagnostics, def.files),
  };
}

/** What translation collects beside the unit text. */
export interface Collected {
  diagnostics: Diagnostic[];
  dependencies: Dependency[];
}

export interface Section {
  name: string;
  lines: string[];
}

/** The `docker create` command and what the rest of the unit needs to know about it. */
interface ContainerRun {
  argv: string[];
  spec: string;
  /** The image as written into the unit: `${VAR}` is substituted when the unit starts. */
  image: string | undefined;
  imageFrom: string | undefined;
  /** Units of the networks, volumes, images and containers the container uses. */
  uses: Use[];
  pull: "missing" | "always" | "never" | "newer" | undefined;
  ports: Translated["ports"];
  stopTimeout: number;
  waitHealthy: boolean;
  onFailure: "none" | "kill" | "restart" | "stop";
  config: ConfigPaths | undefined;
  /** berth-step's options that connect the container to its further networks. */
  connect: string[];
  joins: Networks["joins"];
  secrets: Secrets;
}

/** [Container] as `docker create` options. Checks run in key order, which orders the diagnostics. */
function dockerCreate(
  def: Definition,
  c: ContainerSection,
  ctx: TranslateContext,
  unitName: string,
  containerName: string,
  diagnostics: Diagnostic[],
): ContainerRun {
  // A template's instances each name themselves: systemd expands %n to "worker@blue.service".
  const unitLabel = def.name.kind === "template" ? "%n" : unitName;
  const argv: string[] = [ctx.docker, "create", "--name", containerName, "--restart", "no", "--label", `${UNIT_LABEL}=${unitLabel}`];
  const fixedArgs = argv.length;
  const ports: Translated["ports"] = [];
  const uses: Use[] = [];
  /** A value with any reference resolved: its Docker name, and the unit that makes it. */
  const resolved = (e: Entry, r: Resolved): string | undefined => {
    if ("error" in r) return void c.fail(e, r.error);
    if (r.use) uses.push(r.use);
    return r.value;
  };
  const volume = (e: Entry, source: string): string | undefined => resolved(e, volumeSource(source, e, ctx));

  const imageEntry = c.single("Image");
  if (!imageEntry) diagnostics.push(error(def.file, 0, "Image= is required in [Container]"));
  const image = imageEntry && resolved(imageEntry, imageReference(imageEntry.value, imageEntry, ctx));
  // The image's own unit, when Image= named a .image or .build file (the only use so far).
  const imageFrom = uses[0]?.unit;

  // Off unless asked, as in Quadlet: images that bring their own init (s6-overlay, dumb-init)
  // refuse to run as anything but PID 1, and Docker's init would take that place.
  if (c.bool("RunInit") ?? false) argv.push("--init");
  const pull = c.oneOf("Pull", ["missing", "always", "never", "newer"] as const);
  // Docker compares digests on "always" and downloads only what changed: Podman's "newer".
  argv.push("--pull", pull === "newer" ? "always" : pull ?? "missing");

  argv.push("--log-driver", logDriver(c));
  for (const e of c.entries("LogOpt")) argv.push("--log-opt", e.value);

  for (const { word, entry } of c.words("Environment")) {
    if (!/^[A-Za-z_][A-Za-z0-9_.-]*=/.test(word)) c.fail(entry, `expected KEY=VALUE, found "${word}"`);
    else argv.push("--env", word);
  }
  environmentFileArgs(c, def.file, argv);
  for (const { word, entry } of c.words("Label")) {
    if (!word.includes("=")) c.fail(entry, `expected KEY=VALUE, found "${word}"`);
    else argv.push("--label", word);
  }
  const secrets = secretOptions(c, def.sections.get("Service"), ctx.credentials);
  for (const arg of secrets.args) argv.push(arg);

  volumeArgs(c, def.file, argv, volume);
  mountArgs(c, def.file, argv, volume);
  for (const e of c.entries("Tmpfs")) argv.push("--tmpfs", e.value);
  // Podman's VolatileTmp= is a tmpfs on /tmp, which Docker spells out.
  if (c.bool("VolatileTmp")) argv.push("--tmpfs", "/tmp");
  timezoneArgs(c, argv);
  for (const e of c.entries("PublishPort")) {
    const parsed = parsePublishPort(e.value);
    if ("error" in parsed) c.fail(e, parsed.error);
    else {
      argv.push("--publish", e.value);
      if (parsed.host) ports.push({ host: parsed.host, entry: e });
    }
  }
  for (const { word } of c.words("ExposeHostPort")) argv.push("--expose", word);
  const network = networks(c, ctx.containerOf, (e, value) => resolved(e, networkReference(value, e, ctx)));
  for (const word of network.args) argv.push(word);
  for (const key in SINGLE_FLAGS) {
    const v = c.value(key);
    if (v !== undefined) argv.push(SINGLE_FLAGS[key]!, v);
  }
  for (const key in WORD_FLAGS) {
    for (const { word } of c.words(key)) argv.push(WORD_FLAGS[key]!, word);
  }
  addHostArgs(c, argv);
  signalEntry(c, "StopSignal");
  c.matching("ShmSize", SIZE, "a size such as 64m");
  c.matching("Memory", SIZE, "a size such as 512m");
  refuseValues(c);
  for (const [key, pattern, expected] of NAMESPACE_MODES) c.matching(key, pattern, expected);

  const user = c.value("User");
  const group = c.single("Group");
  if (group && user === undefined) c.fail(group, "Group= needs User= as well");
  else if (user !== undefined) argv.push("--user", group ? `${user}:${group.value}` : user);

  for (const e of c.entries("AddDevice")) {
    // Quadlet's leading "-" means "only if the device exists"; that is known only on the host.
    const optional = e.value.startsWith("-");
    const spec = optional ? e.value.slice(1) : e.value;
    if (!optional || ctx.deviceExists(spec.split(":")[0]!)) argv.push("--device", spec);
  }
  for (const { word, entry } of c.words("Ulimit")) {
    if (!/^[a-z]+=-?\d+(:-?\d+)?$/.test(word)) c.fail(entry, `expected NAME=SOFT[:HARD], found "${word}"`);
    else argv.push("--ulimit", word);
  }
  const pids = bounded(c, "PidsLimit", -1n, MAX_INT64, "a number");
  if (pids) argv.push("--pids-limit", pids.value);

  if (c.bool("Privileged")) argv.push("--privileged");
  if (c.bool("ReadOnly")) {
    argv.push("--read-only");
    // Podman's --read-only-tmpfs (on by default) keeps the usual scratch directories writable;
    // Docker has none, and many images fail without them. /dev and /dev/shm Docker has already.
    if (c.bool("ReadOnlyTmpfs") ?? true) {
      const taken = mountTargets(argv);
      for (const path of READ_ONLY_TMPFS) if (!taken.has(path)) argv.push("--tmpfs", path);
    }
  }
  for (const opt of securityOptions(c)) argv.push("--security-opt", opt);

  const health = healthCommand(c);
  const hasHealth = typeof health === "string";
  if (health === null) argv.push("--no-healthcheck");
  else if (hasHealth) argv.push("--health-cmd", health);
  for (const key in HEALTH_DURATIONS) {
    const e = c.matching(key, GO_DURATION, "a duration such as 30s or 1m30s");
    if (e) argv.push(HEALTH_DURATIONS[key]!, e.value);
  }
  const retries = bounded(c, "HealthRetries", 0n, MAX_INT32, "a number");
  if (retries) argv.push("--health-retries", retries.value);
  const onFailure = c.oneOf("HealthOnFailure", ["none", "kill", "restart", "stop"] as const) ?? "none";
  const notifyEntry = c.single("Notify");
  const healthyNotify = notifyEntry?.value.toLowerCase() === "healthy";
  const notifyFlag = healthyNotify ? undefined : c.bool("Notify");
  const notify = healthyNotify ? "healthy" : notifyFlag === undefined ? undefined : String(notifyFlag);
  if (notifyEntry && notify === "true") {
    c.fail(notifyEntry, "a Docker container cannot send sd_notify messages; use Notify=healthy with a HealthCmd=");
  }
  const waitHealthy = notify === "healthy" || (notify === undefined && hasHealth);
  if (notify === "healthy" && !hasHealth) c.fail(notifyEntry!, "Notify=healthy needs a HealthCmd=");
  if (onFailure !== "none" && !hasHealth) c.fail(c.single("HealthOnFailure")!, "HealthOnFailure= needs a HealthCmd=");

  const stopTimeoutEntry = bounded(c, "StopTimeout", 0n, MAX_INT32, "a number of seconds");
  const stopTimeout = stopTimeoutEntry ? Number(stopTimeoutEntry.value) : DEFAULT_STOP_TIMEOUT;
  argv.push("--stop-timeout", String(stopTimeout));

  const config = configPaths(c, def.name.kind === "template", c.value("ReloadCmd") !== undefined || c.value("ReloadSignal") !== undefined);
  if (config) argv.push("--label-file", CONFIG_LABEL_FILE);

  const command = commandWords(c, argv);
  podmanArgs(c, argv);
  for (const { word } of c.words("DockerArgs")) argv.push(word);
  // Options and the image are one word each; the command's words are the command's to split.
  for (let i = fixedArgs; i < argv.length; i++) argv[i] = oneWord(argv[i]!);
  const imageName = image === undefined ? undefined : oneWord(image);
  if (imageName) argv.push(imageName);
  // systemd would drop a lone `$` word from the command; it can only mean a dollar sign.
  for (const word of command) argv.push(word === "$" ? "$$" : word);
  // The spec label lets the helper and berthd recognise a container that already is exactly this
  // definition: the intended spec, never what `docker inspect` happens to report.
  const spec = digest(argv.join("\0"));
  argv.splice(fixedArgs, 0, "--label", `${SPEC_LABEL}=${spec}`);
  return { argv, spec, image: imageName, imageFrom, uses, pull, ports, stopTimeout, waitHealthy, onFailure, config, connect: network.connect.map(oneWord), joins: network.joins, secrets };
}

/** What Podman mounts writable in a read-only container, beside /dev and /dev/shm. */
const READ_ONLY_TMPFS = ["/tmp", "/var/tmp", "/run"];

/**
 * Container paths already mounted by the options in `argv`: Docker refuses a second mount on the
 * same path, so a read-only container's tmpfs goes only where the definition mounts nothing.
 */
function mountTargets(argv: readonly string[]): Set<string> {
  const taken = new Set<string>();
  for (let i = 0; i < argv.length - 1; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1]!;
    let target: string | undefined;
    if (flag === "--tmpfs") target = value.split(":")[0];
    else if (flag === "--volume") {
      const parts = value.split(":");
      target = parts.length > 1 ? parts[1] : parts[0];
    } else if (flag === "--mount") {
      const m = parseMount(value);
      target = "error" in m ? undefined : m.target;
    }
    if (target) taken.add(target.length > 1 ? target.replace(/\/+$/, "") : target);
  }
  return taken;
}

/** Docker reads these as Go ints; a number it cannot hold would fail only when the unit starts. */
const MAX_INT32 = 2n ** 31n - 1n;
const MAX_INT64 = 2n ** 63n - 1n;

/** A whole number from `min` to `max`; a long digit string is no exact Number, so it is read as a BigInt. */
function bounded(c: ContainerSection, key: string, min: bigint, max: bigint, expected: string): Entry | undefined {
  const e = c.matching(key, /^-?\d+$/, expected);
  if (!e) return undefined;
  const n = e.value.length < 16 ? Number(e.value) : BigInt(e.value);
  if (n < min || n > max) {
    c.fail(e, `expected ${expected} from ${min} to ${max}, found "${e.value}"`);
    return undefined;
  }
  return e;
}

/**
 * A JSON `\u0025` or `\u0024` is a literal percent or dollar sign, so it must reach the unit as
 * `%%` or `$$`, as `\x25` and `\x24` do in words; escaped backslashes are matched first so that
 * `\\u0025` stays text.
 */
const JSON_LITERAL = /\\(?:\\|u0025|u0024)/gi;

/** A JSON array of strings, in unit syntax; undefined if the value is none. */
function jsonWords(value: string): string[] | undefined {
  try {
    const parsed: unknown = JSON.parse(value.replace(JSON_LITERAL, (m) => (m === "\\\\" ? m : m.endsWith("5") ? "%%" : "$$")));
    if (Array.isArray(parsed) && parsed.length > 0 && parsed.every((w) => typeof w === "string")) return parsed;
  } catch {
    // Not JSON: the caller says what was expected.
  }
  return undefined;
}

/**
 * The health check forms Podman and Docker take, each as what Docker's `--health-cmd` needs: one
 * shell command line (Docker's CMD-SHELL), or null for no health check at all. Undefined means the
 * form's arguments do not fit it.
 */
const HEALTH_FORMS: Readonly<Record<string, (args: readonly string[]) => string | null | undefined>> = {
  NONE: (args) => (args.length === 0 ? null : undefined),
  "CMD-SHELL": (args) => (args.length > 0 && args.join("").trim() !== "" ? args.join(" ") : undefined),
  // Docker's CLI has no exec form, so the words are quoted into a shell line that runs exactly them.
  CMD: (args) => (args.length > 0 ? args.map(shellWord).join(" ") : undefined),
};
const HEALTH_FORM_PREFIX = /^(CMD-SHELL|CMD|NONE)(?:\s+([^]*))?$/;
const SHELL_SAFE = /^[A-Za-z0-9_@%+=:,./-]+$/;

/** A word the shell reads back as itself: single quotes, with a quote written as '\''. */
function shellWord(word: string): string {
  return SHELL_SAFE.test(word) ? word : `'${word.replaceAll("'", "'\\''")}'`;
}

/**
 * HealthCmd= as a shell command line for `--health-cmd`, null for `none`, undefined if unset or
 * wrong: a plain command (a shell line, as in Podman), `CMD-SHELL LINE`, `CMD PROGRAM ARGS…`,
 * `NONE`, or Docker's JSON array form (`["CMD","curl","-f","URL"]`).
 */
function healthCommand(c: ContainerSection): string | null | undefined {
  const e = c.single("HealthCmd");
  if (!e) return undefined;
  const value = e.value.trim();
  if (value.toLowerCase() === "none") return null;
  let form = "CMD-SHELL";
  let args: readonly string[] | undefined = [value];
  // A value that is no JSON array is a shell line, as in Podman: `[ -f /ok ]` is the test command.
  const json = value.startsWith("[") ? jsonWords(value) : undefined;
  if (json) {
    form = json[0]!;
    args = json.slice(1);
  } else {
    const m = HEALTH_FORM_PREFIX.exec(value);
    if (m) {
      form = m[1]!;
      const rest = m[2] ?? "";
      const split = form === "CMD" ? splitWords(rest) : undefined;
      if (split && !split.ok) {
        c.fail(e, split.message);
        return undefined;
      }
      args = split ? split.words : rest === "" ? [] : [rest];
    }
  }
  const translated = args && Object.hasOwn(HEALTH_FORMS, form) ? HEALTH_FORMS[form]!(args) : undefined;
  if (translated === undefined) {
    c.fail(e, `expected a command, CMD-SHELL COMMAND, CMD PROGRAM ARGS…, NONE, or a JSON array such as ["CMD","curl","-f","URL"], found "${e.value}"`);
  }
  return translated;
}

/** The words after the image: Exec=, led by any further words of Entrypoint=, whose first goes to `argv`. */
function commandWords(c: ContainerSection, argv: string[]): string[] {
  const entrypoint = c.single("Entrypoint");
  // Like Quadlet, the last Exec= wins: a drop-in replaces the command rather than extending it.
  const execWords = c.lastWords("Exec");
  if (!entrypoint) return execWords;
  let words: string[] | undefined;
  if (entrypoint.value.startsWith("[")) {
    words = jsonWords(entrypoint.value);
    if (!words) c.fail(entrypoint, "expected a JSON array of strings");
  } else {
    const split = splitWords(entrypoint.value);
    if (split.ok && split.words.length > 0) words = split.words;
    else c.fail(entrypoint, split.ok ? "is empty" : split.message);
  }
  // Docker's --entrypoint takes one program; its further words lead the command.
  if (words) {
    argv.push("--entrypoint", words[0]!);
    // concat, not unshift(...words): a spread passes every word as an argument, and a long list
    // overflows the stack.
    return words.slice(1).concat(execWords);
  }
  return execWords;
}

function reportUnknownKeys(c: ContainerSection): void {
  for (const key of c.keys()) {
    if (KNOWN_KEYS.has(key)) continue;
    const first = c.first(key)!;
    const unsupported = UNSUPPORTED[key];
    if (unsupported?.severity === "error") c.fail(first, `not supported with Docker: ${unsupported.why}`);
    else if (unsupported) c.warn(first, `not supported with Docker: ${unsupported.why}`);
    else c.warn(first, "unknown key, ignored (see berth.container(5) for the keys berth knows)");
  }
}

/** [Unit]: the lines every berth unit has, then the definition's own. */
export function unitSection(def: Definition, ctx: TranslateContext, description: string, out: Collected, joins: Networks["joins"] = [], uses: readonly Use[] = []): string[] {
  const lines: string[] = [
    // Names are in specifier syntax already (`worker-%i`).
    `Description=${description}`,
    `Documentation=man:berth.container(5)`,
    `SourcePath=${literal(def.file)}`,
    // Wants, not Requires: a Docker restart must not cascade into restarting every container.
    "Wants=docker.service",
    "After=docker.service docker.socket",
  ];
  if (ctx.scope === "system") lines.push("Wants=network-online.target", "After=network-online.target");
  // Retry for as long as it takes (Docker down, a dependency late); a hard start limit left Kolla
  // services failed until someone ran reset-failed.
  lines.push("StartLimitIntervalSec=0");
  // As in Quadlet: the container whose network this one joins must run first, and a restart of it
  // (a new network namespace) restarts this one.
  for (const { definition, entry } of joins) {
    const unit = ctx.resolve(definition) ?? `${definition}.service`;
    lines.push(`Requires=${unit}`, `After=${unit}`);
    // One of the two names the definition, so a missing one is reported once.
    out.dependencies.push({ key: "Unit.Requires", unit, entry }, { key: "Unit.After", unit, definition, entry });
  }
  for (const line of useLines(uses, out.dependencies)) lines.push(line);
  for (const e of def.sections.get("Unit") ?? []) lines.push(rewrite("Unit", e, UNIT_REFERENCE_KEYS, ctx, out));
  return lines;
}

/** An assignment as written, with `x.container` in unit-list keys replaced by the unit it names. */
function rewrite(section: string, entry: Entry, keys: ReadonlySet<string>, ctx: TranslateContext, out: Collected): string {
  if (!keys.has(entry.key)) return copied(entry, out.diagnostics);
  // Split as systemd splits these keys, escapes kept: decoding them would turn a typed `\n` into
  // a line break in the unit.
  const split = splitUnitNames(entry.value);
  if (!split.ok) {
    out.diagnostics.push(error(entry.file, entry.line, `${entry.key}=: ${split.message}`));
    return `${entry.key}=`;
  }
  const key = `${section}.${entry.key}`;
  const names: string[] = [];
  for (const word of split.words) {
    const ref = referencedDefinition(word);
    const resolved = ref === undefined ? word : ctx.resolve(ref) ?? `${ref}.service`;
    out.dependencies.push(ref === undefined ? { key, unit: resolved, entry } : { key, unit: resolved, definition: ref, entry });
    names.push(resolved);
  }
  return `${entry.key}=${names.join(" ")}`;
}

function serviceSection(def: Definition, c: ContainerSection, ctx: TranslateContext, containerName: string, run: ContainerRun, diagnostics: Diagnostic[]): string[] {
  // concat() copies an array natively; a spread steps through it with an iterator, allocating a
  // result object per element, and this runs once per definition.
  // The create argv (what the spec digest covers) is run attached by berth-step: see runtime/berth-step.
  const start = [ctx.step, "run", ctx.helper[0]!, containerName, run.pull === "never" && run.image ? run.image : "-"].concat(run.connect, run.secrets.step, "--", run.argv);
  const oneshot = isOneshot(def);
  if (oneshot) refuseReadinessKeys(c);
  const stopSignal = c.value("StopSignal");
  const stopNumber = stopSignal === undefined ? undefined : signalNumber(stopSignal);
  // A container stopped by its stop signal exits 128+N (through an init, or a payload that dies of it): a clean stop.
  const cleanExits = stopNumber === undefined || 128 + stopNumber === 143 ? "143" : `143 ${128 + stopNumber}`;

  const lines: string[] = [
    oneshot ? "Type=oneshot" : "Type=exec",
    // Not an Exec line: systemd substitutes no variables here, so a name that has them gives way to the unit's.
    `SyslogIdentifier=${containerName.includes("$") ? "%N" : containerName}`,
  ];
  if (run.config) lines.push(`ExecStartPre=${formatExec(configCommand(ctx.helper, run.config))}`);
  lines.push(
    `ExecStart=${formatExec(start)}`,
  );
  // A oneshot unit's start is done when its container has exited 0; ExecStartPost= would run after that.
  if (!oneshot) lines.push(`ExecStartPost=${formatExec(readiness(ctx, containerName, run))}`);
  lines.push(
    `ExecStop=${formatExec([ctx.docker, "stop", "--time", String(run.stopTimeout), containerName])}`,
    `ExecStopPost=${formatExec([ctx.step, "remove", ctx.docker, containerName])}`,
    `SuccessExitStatus=${cleanExits}`,
    `TimeoutStopSec=${run.stopTimeout + STOP_MARGIN}`,
    // Docker stops its containers cleanly (143) when it shuts down; "always" brings them back
    // when it returns. An explicit `systemctl stop` is never undone by Restart=. systemd refuses
    // "always" for a oneshot unit: one that failed is tried again.
    oneshot ? "Restart=on-failure" : "Restart=always",
    "RestartSec=5",
  );
  const reload = reloadArgv(c, ctx.docker, containerName);
  if (reload) lines.push(`ExecReload=${formatExec(reload)}`);
  for (const line of run.secrets.service) lines.push(line);
  for (const e of def.sections.get("Service") ?? []) lines.push(copied(e, diagnostics));
  return lines;
}

/** The ExecStartPost= that returns once the container is ready: running, or healthy. */
function readiness(ctx: TranslateContext, containerName: string, run: ContainerRun): string[] {
  const ready = [ctx.step, run.waitHealthy ? "healthy" : "running", ctx.docker, containerName, run.spec];
  return run.onFailure === "none" ? ready : ready.concat("--on-unhealthy", run.onFailure, ctx.helper[0]!);
}

/**
 * The unit's lines. One join over all of them gives the unit text as a single flat string;
 * appending section by section built a tree of string pieces that the file write then had to
 * copy once more.
 */
function unitLines(file: string, sections: readonly Section[]): string[] {
  const all: string[] = [`${GENERATED_HEADER} from ${file}. Edit that file (or a drop-in), not this one.`];
  for (let i = 0; i < sections.length; i++) {
    const { name, lines } = sections[i]!;
    if (i > 0) all.push("");
    all.push(`[${name}]`);
    for (let j = 0; j < lines.length; j++) all.push(lines[j]!);
  }
  // The empty last element ends the text with a newline.
  all.push("");
  return all;
}

export const CONTROL = /[\x00-\x1f\x7f]/;
const LINE_BREAK = /[\n\r\0]/;
const BACKSLASH = 0x5c;
const HASH = 0x23;
/** systemd 252's read_line() refuses a line of LONG_LINE_MAX (1 MiB) bytes or more: the unit does not load. */
export const MAX_LINE_BYTES = 1024 * 1024 - 1;
/** A UTF-16 code unit is at most 3 UTF-8 bytes, so a line this short needs no counting. */
const SURELY_SHORT = Math.floor(MAX_LINE_BYTES / 3);

/** A copied assignment, unless systemd would read it back as more (or less) than one line. */
export function copied(e: Entry, diagnostics: Diagnostic[]): string {
  if (endsWithEscape(e.value)) diagnostics.push(error(e.file, e.line, `${e.key}=: ends in a backslash, which would continue the line in the unit; write "\\\\" for a literal backslash`));
  return `${e.key}=${e.value}`;
}

/**
 * The last guard of the rule that every line berth writes is read back by systemd as exactly
 * that line: no line break, CR or NUL inside it, no continuation, and no more than systemd reads.
 * Values are checked where they are read, with their line; this catches what slipped through.
 * `text` is the lines joined: one scan of it tells whether any line holds a break at all.
 */
function checkLines(file: string, lines: readonly string[], text: string, diagnostics: Diagnostic[]): void {
  let breaks = 0;
  for (let i = text.indexOf("\n"); i >= 0; i = text.indexOf("\n", i + 1)) breaks++;
  // indexOf scans natively, much faster than a regular expression over a unit's few kilobytes.
  const broken = breaks !== lines.length - 1 || text.includes("\r") || text.includes("\0");
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    const continued = line.charCodeAt(line.length - 1) === BACKSLASH && line.charCodeAt(0) !== HASH && endsWithEscape(line);
    if (continued || (broken && LINE_BREAK.test(line))) {
      diagnostics.push(error(file, 0, `berth would write a line that systemd reads differently: ${JSON.stringify(line.slice(0, 80))}; this is a bug in berth`));
    }
    if (line.length > SURELY_SHORT) {
      const bytes = Buffer.byteLength(line);
      if (bytes > MAX_LINE_BYTES) {
        diagnostics.push(error(file, 0, `the unit's ${line.slice(0, line.indexOf("="))}= line would be ${bytes} bytes, longer than systemd reads (${MAX_LINE_BYTES}); split the definition's lists or move values into an EnvironmentFile=`));
      }
    }
  }
}

/** Generated units cannot be enabled, so [Install] is carried out here as symlinks. */
function installLinks(
  def: Definition,
  unitName: string,
  out: Collected,
  rewrite: (e: Entry) => string,
): Pick<Translated, "links" | "aliases"> {
  const links: Translated["links"] = [];
  const aliases: Translated["aliases"] = [];
  const install = def.sections.get("Install") ?? [];
  const lists = new Map<string, Array<{ name: string; entry: Entry }>>();
  let defaultInstance: string | undefined;
  for (const e of install) {
    if (e.key === "DefaultInstance") {
      defaultInstance = e.value || undefined;
      continue;
    }
    if (!INSTALL_LINK_KEYS.has(e.key)) {
      if (e.key !== "Also") out.diagnostics.push(warning(e.file, e.line, `[Install] ${e.key}= has no effect on a generated unit; ignored`));
      continue;
    }
    if (e.value === "") {
      lists.set(e.key, []);
      continue;
    }
    // Alias= names this unit itself, so it is only unquoted (as Quadlet does), never rewritten.
    const split = e.key === "Alias" ? splitWords(e.value) : { ok: true as const, words: rewrite(e).slice(e.key.length + 1).split(/\s+/).filter(Boolean) };
    if (!split.ok) {
      out.diagnostics.push(error(e.file, e.line, `${e.key}=: ${split.message}`));
      continue;
    }
    const list = lists.get(e.key) ?? [];
    for (const name of split.words) list.push({ name, entry: e });
    lists.set(e.key, list);
  }
  let enabledName = unitName;
  if (def.name.kind === "template") {
    if (!defaultInstance) return { links: [...lists.values()].some((l) => l.length > 0) ? noInstance(def, out.diagnostics, links) : links, aliases };
    enabledName = unitName.replace(/@\.service$/, `@${defaultInstance}.service`);
  }
  for (const [key, targets] of lists) {
    for (const { name, entry } of targets) {
      const problem = isUnitName(name) ? key === "Alias" && aliasProblem(name, unitName) : "is not a unit name";
      if (problem) out.diagnostics.push(error(entry.file, entry.line, `[Install] ${key}=: "${name}" ${problem}`));
      else if (key === "Alias") aliases.push({ name, entry });
      else links.push({ path: `${name}${INSTALL_LINK_DIRS[key]}/${enabledName}`, target: `../${unitName}` });
    }
  }
  for (const a of aliases) links.push({ path: a.name, target: unitName });
  return { links, aliases };
}

/**
 * systemd's rule for an alias: another name of the same unit, so of the same type, a template
 * for a template and the same instance for an instance. Anything else would make the link
 * stand for a different unit (`Alias=berth.target` once replaced the target).
 */
function aliasProblem(alias: string, unitName: string): string | undefined {
  if (alias === unitName) return "is the unit's own name";
  if (!alias.endsWith(".service")) return "is not a .service name: an alias has the type of its unit";
  const at = (name: string) => name.slice(name.indexOf("@") + 1 || name.length);
  if (alias.includes("@") !== unitName.includes("@") || at(alias) !== at(unitName)) {
    return `must be ${unitName.includes("@") ? `a name like NAME@${at(unitName)}` : "a name without \"@\""}, as the unit ${unitName} is`;
  }
  return undefined;
}

function noInstance(def: Definition, diagnostics: Diagnostic[], links: Translated["links"]): Translated["links"] {
  diagnostics.push(warning(def.file, 0, "[Install] of a template needs DefaultInstance= (or an instance file such as name@inst.container); nothing enabled"));
  return links;
}
