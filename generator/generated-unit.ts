import type { Rejection } from "./accepted-store.js";
import type { ConfigPaths } from "./config-keys.js";
import { definitionKey, type FileType } from "./names.js";
import { digest } from "./digest.js";
import type { Translated } from "./translate.js";

const PROPAGATES_RESTART = new Set(["Unit.Requires", "Unit.Requisite", "Unit.BindsTo", "Unit.PartOf"]);

/** What the generator writes for one definition, and what berthd needs to act on it. */
export interface GeneratedUnit {
  /** The definition's key: the name without `.container`, the file name of the other types (`db.network`). */
  base: string;
  /** Absent in records written before there were other file types: a container. */
  type?: FileType | undefined;
  file: string;
  unitName: string;
  /** Empty for the types that run no container. */
  containerName: string;
  /** The Docker name of the network, volume or image the unit makes. */
  resource?: string | undefined;
  image: string | undefined;
  /** The unit that pulls or builds the image: berthd leaves the pull to it. */
  imageFrom?: string | undefined;
  /** Pull= of the definition; berthd never pulls for "never". */
  pull: "missing" | "always" | "never" | "newer" | undefined;
  /** Digest of the container's create argv, also found on the container as a label. */
  spec: string;
  /** Host paths that are the service's configuration (RestartOnChange=, ReloadOnChange=). */
  config?: ConfigPaths | undefined;
  text: string;
  /**
   * Digest of the definition as written (its sections, drop-ins merged), for berthd only: a unit
   * whose text changed while this and the spec did not was only rendered anew by another berth.
   */
  source?: string | undefined;
  install: Translated["install"];
  wantedAtBoot: boolean;
  /**
   * Units this one is ordered after, by its own After= only. berthd queues its jobs in this order;
   * systemd orders the jobs of one transaction by After= and Before= alike.
   */
  after: string[];
  /**
   * Units whose restart systemd carries to this one (its Requires=, Requisite=, BindsTo=, PartOf=):
   * a restart queued with its dependencies restarts this one in the same transaction. Absent in
   * records written before berthd knew.
   */
  restartedWith?: string[] | undefined;
  /** Set when this is the last accepted version standing in for an invalid definition. */
  acceptedFrom?: string | undefined;
  /** Set when it stands in for a version that was reverted (RevertOnFailure=). */
  rejected?: Rejection | undefined;
  /** RevertOnFailure=: a new version that does not become healthy is replaced by the one before. */
  revertOnFailure?: boolean | undefined;
}

/**
 * The definition's sections and assignments in order (what its operator wrote, whatever berth
 * makes of it), and the units it depends on as resolved: a renamed dependency (ServiceName=) is a
 * change of this unit too, since systemd stops it with the old name's unit.
 */
export function definitionDigest(t: Translated): string {
  const lines: string[] = [];
  t.definition.sections.forEach((entries, name) => {
    lines.push(`[${name}]`);
    for (const e of entries) lines.push(`${e.key}=${e.value}`);
  });
  lines.push("[dependencies]");
  for (const d of t.dependencies) lines.push(`${d.key}=${d.unit}`);
  return digest(lines.join("\n"));
}

/** `withSource`: berthd compares definitions; the generator has no use for the digest. */
export function generatedUnit(t: Translated, withSource = false): GeneratedUnit {
  return {
    base: definitionKey(t.definition.name),
    type: t.type,
    file: t.definition.file,
    unitName: t.unitName,
    containerName: t.containerName,
    resource: t.resource,
    image: t.image,
    imageFrom: t.imageFrom,
    pull: t.pull,
    spec: t.spec,
    config: t.config,
    revertOnFailure: t.revertOnFailure,
    text: t.text,
    source: withSource ? definitionDigest(t) : undefined,
    install: t.install,
    wantedAtBoot: t.wantedAtBoot,
    after: t.dependencies.filter((d) => d.key === "Unit.After").map((d) => d.unit),
    restartedWith: t.dependencies.filter((d) => PROPAGATES_RESTART.has(d.key)).map((d) => d.unit),
  };
}
