import { configPaths, CONFIG_LABEL_FILE } from "./config-keys.js";
import type { CreateRun } from "./create-run.js";
import { PULL_POLICIES } from "./image-unit.js";
import { logDriver } from "./log-driver.js";
import { holderOf } from "./names.js";
import { networks } from "./networks.js";
import { ownNetworkOptions } from "./podman-args.js";
import { parsePublishPort } from "./publish-port.js";
import { imageReference, networkReference, podReference, volumeSource } from "./references.js";
import { secretOptions } from "./secret-keys.js";
import { securityOptions } from "./security-options.js";
import { environmentFileArgs, mountArgs, volumeArgs } from "./storage.js";
import type { Entry } from "./unit-file.js";
import { checkedSingle } from "./key-rules.js";
import { MAX_INT32, type Check } from "./value-checks.js";

// The handlers of the [Container] keys whose translation is more than one option per value; each
// runs at its key's row of the key table (container-keys.ts), which orders the argv.

/** The image, resolved at the first row (its unit leads the ones the container uses), appended after the options. */
export function imageKey(run: CreateRun): void {
  const e = run.c.single("Image");
  run.image = e && run.resolved(e, imageReference(e.value, e, run.ctx));
  // The image's own unit, when Image= named a .image or .build file.
  run.imageFrom = run.uses[0]?.unit;
}

export function pullArgs(run: CreateRun): void {
  const pull = run.c.oneOf("Pull", PULL_POLICIES);
  run.pull = pull;
  // Docker compares digests on "always" and downloads only what changed: Podman's "newer".
  run.argv.push("--pull", pull === "newer" ? "always" : pull ?? "missing");
}

export const logDriverArgs = (run: CreateRun): void => void run.argv.push("--log-driver", logDriver(run.c));
export const environmentFiles = (run: CreateRun): void => environmentFileArgs(run.c, run.def.file, run.argv);

export function secretArgs(run: CreateRun): void {
  run.secrets = secretOptions(run.c, run.def.sections.get("Service"), run.ctx.credentials);
  for (const arg of run.secrets.args) run.argv.push(arg);
}

const volume = (run: CreateRun) => (e: Entry, source: string): string | undefined => run.resolved(e, volumeSource(source, e, run.ctx));
export const volumes = (run: CreateRun): void => volumeArgs(run.c, run.def.file, run.argv, volume(run));
export const mounts = (run: CreateRun): void => mountArgs(run.c, run.def.file, run.argv, volume(run));

/** Podman's VolatileTmp= is a tmpfs on /tmp, which Docker spells out. */
export function volatileTmp({ c, argv }: CreateRun): void {
  if (c.bool("VolatileTmp")) argv.push("--tmpfs", "/tmp");
}

export function publishPorts({ c, argv, ports }: CreateRun): void {
  for (const e of c.entries("PublishPort")) {
    const parsed = parsePublishPort(e.value);
    if ("error" in parsed) c.fail(e, parsed.error);
    else {
      argv.push("--publish", e.value);
      if (parsed.host) ports.push({ host: parsed.host, entry: e });
    }
  }
}

export function networkArgs(run: CreateRun): void {
  const network = networks(run.c, run.ctx.containerOf, (e, value) => run.resolved(e, networkReference(value, e, run.ctx)));
  for (const word of network.args) run.argv.push(word);
  run.connect = network.connect;
  run.joins = network.joins;
  // Docker has no per-network DNS server: a container on a .network with DNS= gets its servers,
  // unless it names its own, as Podman lets it.
  if (run.uses.length > 0 && run.c.entries("DNS").length === 0) {
    const servers = new Set(run.uses.filter((u) => u.definition.endsWith(".network")).flatMap((u) => run.ctx.networkDns(u.definition)));
    for (const server of servers) run.argv.push("--dns", server);
  }
  // A pod's member is told so by Pod=, once.
  if (network.args[1]?.startsWith("container:") && !run.c.single("Pod")) refuseOwnNetworkKeys(run, run.c.entries("Network")[0]!.value, []);
}

/**
 * What Docker refuses for a container that joins another's network namespace (`container:NAME`,
 * a pod's member): the addresses, names and ports there are the owner's to give.
 */
const OWNER_NETWORK_KEYS = ["PublishPort", "ExposeHostPort", "HostName", "DNS", "DNSSearch", "DNSOption", "AddHost", "NetworkAlias", "IP", "IP6"];

function refuseOwnNetworkKeys({ c }: CreateRun, owner: string, more: readonly string[]): void {
  const why = `a container that shares the network of ${owner} cannot have its own; give it to ${owner}`;
  for (const key of more.concat(OWNER_NETWORK_KEYS)) {
    const e = c.entries(key)[0];
    if (e) c.fail(e, why);
  }
  for (const { entry, option } of ownNetworkOptions(c)) c.fail(entry, `${option}: ${why}`);
}

/**
 * Pod=NAME.pod (StartWithPod= with it): the container joins the network and IPC namespaces and
 * the volumes of the pod's holder, and is bound to the pod's unit, which starts it unless
 * StartWithPod=false (an [Install] edge: the pod's unit wants it).
 */
export function podArgs(run: CreateRun): void {
  const e = run.c.single("Pod");
  const startWith = run.c.single("StartWithPod");
  if (!e && startWith) run.c.warn(startWith, "there is no Pod= for it to apply to; ignored");
  if (!e) return;
  const reference = podReference(e.value, e, run.ctx);
  const pod = run.resolved(e, reference);
  if (pod === undefined) return;
  refuseOwnNetworkKeys(run, e.value, ["Network"]);
  const holder = holderOf(pod);
  run.argv.push("--network", `container:${holder}`, "--ipc", `container:${holder}`, "--volumes-from", holder);
  // A template is no unit to want: systemd would start an instance named after the pod's unit.
  if (run.c.bool("StartWithPod") !== false && run.def.name.kind !== "template" && "use" in reference) run.startedBy = reference.use?.unit;
}

/** User= and Group=: Docker's `--user USER[:GROUP]`. */
export function userArgs({ c, argv }: CreateRun): void {
  const user = c.value("User");
  const group = c.single("Group");
  if (group && user === undefined) c.fail(group, "Group= needs User= as well");
  else if (user !== undefined) argv.push("--user", group ? `${user}:${group.value}` : user);
}

export function devices({ c, ctx, argv }: CreateRun): void {
  for (const e of c.entries("AddDevice")) {
    // Quadlet's leading "-" means "only if the device exists"; that is known only on the host.
    const optional = e.value.startsWith("-");
    const spec = optional ? e.value.slice(1) : e.value;
    if (!optional || ctx.deviceExists(spec.split(":")[0]!)) argv.push("--device", spec);
  }
}

export function securityArgs({ c, argv }: CreateRun): void {
  for (const opt of securityOptions(c)) argv.push("--security-opt", opt);
}

const DEFAULT_STOP_TIMEOUT = 10;
export const STOP_TIMEOUT_CHECK: Check = { range: [0n, MAX_INT32], expected: "a number of seconds" };

/** Always given: the unit's own stop timeout is reckoned from it. */
export function stopTimeout(run: CreateRun): void {
  const e = checkedSingle(run.c, "StopTimeout", STOP_TIMEOUT_CHECK);
  run.stopTimeout = e ? Number(e.value) : DEFAULT_STOP_TIMEOUT;
  run.argv.push("--stop-timeout", String(run.stopTimeout));
}

/** RestartOnChange= and ReloadOnChange=: the label the unit's ExecStartPre= writes, read at create. */
export function configLabel(run: CreateRun): void {
  const { c } = run;
  run.config = configPaths(c, run.def.name.kind === "template", c.value("ReloadCmd") !== undefined || c.value("ReloadSignal") !== undefined);
  if (run.config) run.argv.push("--label-file", CONFIG_LABEL_FILE);
}

/** DockerArgs=: Docker's own options, word for word, after everything berth writes. */
export function dockerArgs({ c, argv }: CreateRun): void {
  for (const { word } of c.words("DockerArgs")) argv.push(word);
}
