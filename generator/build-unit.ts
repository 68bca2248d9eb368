import { dirname, isAbsolute, join } from "node:path/posix";
import type { ContainerSection } from "./container-section.js";
import { error } from "./diagnostics.js";
import { flagArgs, type KeyTable } from "./key-rules.js";
import { platform } from "./image-unit.js";
import { networkReference } from "./references.js";
import { PODMAN_ONLY, REGISTRY_KEYS } from "./resource-keys.js";
import { resourceUnit, type ResourcePlan } from "./resource-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";

/** [Build] of a `.build` file, key by key, as `docker build` (Docker 20.10's builder) takes it. */
export const BUILD_KEYS: KeyTable = {
  ImageTag: { kind: "list", flag: "--tag" },
  Target: { kind: "single", flag: "--target" },
  Label: { kind: "words", flag: "--label", pairs: true },
  BuildArg: { kind: "words", flag: "--build-arg" },
  ForceRM: { kind: "bool", flag: "--force-rm" },
  File: { kind: "own" },
  SetWorkingDirectory: { kind: "own" },
  Pull: { kind: "own" },
  Network: { kind: "own" },
  Arch: { kind: "own" },
  Variant: { kind: "own" },
  ServiceName: { kind: "own" },
  DockerArgs: { kind: "own" },
  Annotation: { kind: "ignored", why: "Docker 20.10 images have no annotations" },
  DNS: { kind: "refused", why: "docker build has no DNS options; the daemon's DNS settings apply" },
  DNSOption: { kind: "refused", why: "docker build has no DNS options; the daemon's DNS settings apply" },
  DNSSearch: { kind: "refused", why: "docker build has no DNS options; the daemon's DNS settings apply" },
  Environment: { kind: "refused", why: "docker build cannot add environment variables to the image; write ENV in the Containerfile" },
  GroupAdd: { kind: "refused", why: "docker build runs RUN steps with the Containerfile's USER and its groups only" },
  IgnoreFile: { kind: "refused", why: "Docker reads .dockerignore from the context directory only" },
  Secret: { kind: "refused", why: "build secrets need BuildKit (docker buildx), not Docker 20.10's classic builder" },
  Volume: { kind: "refused", why: "docker build mounts no volumes into RUN steps" },
  ...REGISTRY_KEYS,
  ...PODMAN_ONLY,
};

const URL = /^((https?|git):\/\/|github\.com\/)/;
/** A path that starts with a specifier (`%h/app`) is systemd's to complete, not relative. */
const absoluteOrSpecifier = (p: string): boolean => isAbsolute(p) || /^%[^%]/.test(p);

/**
 * The build context, as Quadlet finds it: SetWorkingDirectory= (`unit`: the .build file's
 * directory, `file`: File='s, or a path or URL), else [Service] WorkingDirectory=. Docker needs
 * it spelled out, so it is always the last argument; a relative File= is made absolute against
 * the working directory, where Podman would have looked for it.
 */
function context(c: ContainerSection, def: Definition, plan: ResourcePlan): { context: string; file: string | undefined } | undefined {
  const unitDir = dirname(def.file);
  const fileEntry = c.single("File");
  const file = fileEntry?.value;
  const fixed = (p: string): boolean => absoluteOrSpecifier(p) || URL.test(p);
  const setting = c.single("SetWorkingDirectory");
  const mode = setting?.value.toLowerCase();
  let dir: string | undefined;
  let given: string | undefined;
  if (mode === "unit") dir = unitDir;
  else if (mode === "file" && file === undefined) c.fail(setting!, "SetWorkingDirectory=file needs File=");
  else if (mode === "file") dir = dirname(fixed(file!) ? file! : join(unitDir, file!));
  else if (setting) {
    given = fixed(setting.value) ? setting.value : join(unitDir, setting.value);
    if (!fixed(setting.value)) dir = unitDir;
  }
  // Quadlet leaves a WorkingDirectory= of the definition's own as it is.
  const own = (def.sections.get("Service") ?? []).findLast((e) => e.key === "WorkingDirectory")?.value || undefined;
  if (dir !== undefined && own === undefined) plan.service = [`WorkingDirectory=${dir}`];
  const cwd = own ?? dir;
  const fileArg = file === undefined || fixed(file) ? file : cwd === undefined ? undefined : join(cwd, file);
  const found = given ?? cwd ?? (fileArg !== undefined && absoluteOrSpecifier(fileArg) ? dirname(fileArg) : undefined);
  if (found !== undefined && (file === undefined || fileArg !== undefined)) return { context: found, file: fileArg };
  if (fileEntry) c.fail(fileEntry, "a relative path or a URL needs SetWorkingDirectory= for the build context");
  else c.diagnostics.push(error(def.file, 0, "[Build] needs File= or SetWorkingDirectory= (the build context)"));
  return undefined;
}

function buildPlan(c: ContainerSection, def: Definition, ctx: TranslateContext): ResourcePlan {
  const argv = [ctx.docker, "build"];
  const tags = c.entries("ImageTag");
  const plan: ResourcePlan = { resource: tags[0]?.value ?? "", command: argv, ensure: false, uses: [] };
  if (tags.length === 0) c.diagnostics.push(error(def.file, 0, "ImageTag= is required in [Build]: it names the image that containers use"));
  const pull = c.oneOf("Pull", ["always", "missing", "never", "newer"] as const);
  // Docker's classic builder pulls a missing base image whatever it is told; it can only pull more.
  if (pull === "never") c.fail(c.single("Pull")!, "not supported with Docker: its builder pulls a missing base image anyway");
  if (pull === "always" || pull === "newer") argv.push("--pull");
  flagArgs(c, BUILD_KEYS, argv);
  const p = platform(c);
  if (p) argv.push("--platform", p);
  const networks = c.entries("Network");
  if (networks.length > 1) c.fail(networks[1]!, "docker build takes one network for its RUN steps");
  const network = networks[0];
  // A build has no container to give an address or alias, so no per-network options.
  const withOptions = network !== undefined && network.value.includes(":") && !network.value.startsWith("container:");
  const resolved = network && (withOptions ? { error: "docker build takes no per-network options" } : networkReference(network.value, network, ctx));
  if (resolved && "error" in resolved) c.fail(network, resolved.error);
  else if (resolved) {
    argv.push("--network", resolved.value);
    if (resolved.use) plan.uses.push(resolved.use);
  }
  const where = context(c, def, plan);
  if (where?.file !== undefined) argv.push("--file", where.file);
  for (const { word } of c.words("DockerArgs")) argv.push(word);
  if (where) argv.push(where.context);
  return plan;
}

export function translateBuild(def: Definition, ctx: TranslateContext): Translated {
  return resourceUnit(def, ctx, BUILD_KEYS, buildPlan);
}
