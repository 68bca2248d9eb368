import type { ConfigPaths } from "./config-keys.js";
import type { Translated } from "./translate.js";

/** What the generator writes for one definition, and what berthd needs to act on it. */
export interface GeneratedUnit {
  /** The definition's name without `.container`. */
  base: string;
  file: string;
  unitName: string;
  containerName: string;
  image: string | undefined;
  /** Pull= of the definition; berthd never pulls for "never". */
  pull: "missing" | "always" | "never" | "newer" | undefined;
  /** Digest of the container's create argv, also found on the container as a label. */
  spec: string;
  /** Host paths that are the service's configuration (RestartOnChange=, ReloadOnChange=). */
  config?: ConfigPaths | undefined;
  text: string;
  links: Translated["links"];
  wantedAtBoot: boolean;
  /**
   * Units this one is ordered after, by its own After= only. berthd queues its jobs in this order;
   * systemd orders the jobs of one transaction by After= and Before= alike.
   */
  after: string[];
  /** Set when this is the last accepted version standing in for an invalid definition. */
  acceptedFrom?: string | undefined;
}

export function generatedUnit(t: Translated): GeneratedUnit {
  return {
    base: t.definition.name.base,
    file: t.definition.file,
    unitName: t.unitName,
    containerName: t.containerName,
    image: t.image,
    pull: t.pull,
    spec: t.spec,
    config: t.config,
    text: t.text,
    links: t.links,
    wantedAtBoot: t.wantedAtBoot,
    after: t.dependencies.filter((d) => d.key === "Unit.After").map((d) => d.unit),
  };
}
