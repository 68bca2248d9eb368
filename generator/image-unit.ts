import type { ContainerSection } from "./container-section.js";
import { error } from "./diagnostics.js";
import { flagArgs, type KeyTable } from "./key-rules.js";
import { PODMAN_ONLY, REGISTRY_KEYS } from "./resource-keys.js";
import { resourceUnit, type ResourcePlan } from "./resource-unit.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";

/** [Image] of a `.image` file, key by key, as `docker pull` (Docker 20.10) takes it. */
export const IMAGE_KEYS: KeyTable = {
  Image: { kind: "own" },
  AllTags: { kind: "bool", flag: "--all-tags" },
  Arch: { kind: "own" },
  OS: { kind: "own" },
  Variant: { kind: "own" },
  Policy: { kind: "own" },
  ImageTag: { kind: "own" },
  ServiceName: { kind: "own" },
  DockerArgs: { kind: "own" },
  CertDir: { kind: "refused", why: "Docker reads a registry's certificates from /etc/docker/certs.d/REGISTRY/" },
  Creds: { kind: "refused", why: "Docker takes registry credentials from docker login, not from the command line" },
  DecryptionKey: { kind: "refused", why: "Docker cannot pull encrypted images" },
  ...REGISTRY_KEYS,
  ...PODMAN_ONLY,
};

/** Podman's pull policies; Docker's pull compares digests, which is Podman's "newer" too. */
export const PULL_POLICIES = ["always", "missing", "never", "newer"] as const;
/** Transports other than a registry, which `docker pull` cannot read. */
const OTHER_TRANSPORT = /^(docker-archive|oci-archive|oci|dir|containers-storage|docker-daemon|sif):/;

/** `--platform OS[/ARCH[/VARIANT]]` from the keys Podman keeps apart; undefined when none is set. */
export function platform(c: ContainerSection): string | undefined {
  const [os, arch, variant] = [c.value("OS"), c.value("Arch"), c.single("Variant")];
  if (os === undefined && arch === undefined && variant === undefined) return undefined;
  // Docker reads a variant only after an architecture.
  if (variant && arch === undefined) c.fail(variant, "needs Arch= with Docker, which spells the platform OS/ARCH/VARIANT");
  return [os ?? "linux", arch, arch === undefined ? undefined : variant?.value].filter((p) => p !== undefined).join("/");
}

function imagePlan(c: ContainerSection, def: Definition, ctx: TranslateContext): ResourcePlan {
  const argv = [ctx.docker, "pull"];
  const entry = c.single("Image");
  const image = entry?.value.replace(/^docker:\/\//, "") ?? "";
  const plan: ResourcePlan = { resource: image, command: argv, ensure: true, uses: [] };
  if (!entry) {
    c.diagnostics.push(error(def.file, 0, "Image= is required in [Image]"));
    return plan;
  }
  if (OTHER_TRANSPORT.test(image)) c.fail(entry, "Docker pulls from registries only; load an archive with docker load and name the image in the container");
  const tag = c.single("ImageTag");
  if (tag && tag.value !== image) c.fail(tag, "not supported with Docker: it names an image loaded from an archive, which Docker cannot pull; the image keeps the name in Image=");
  const policy = c.oneOf("Policy", PULL_POLICIES) ?? "always";
  plan.ensureArgs = ["--policy", policy];
  flagArgs(c, IMAGE_KEYS, argv);
  const p = platform(c);
  if (p) argv.push("--platform", p);
  for (const { word } of c.words("DockerArgs")) argv.push(word);
  argv.push(image);
  return plan;
}

export function translateImage(def: Definition, ctx: TranslateContext): Translated {
  return resourceUnit(def, ctx, IMAGE_KEYS, imagePlan);
}
