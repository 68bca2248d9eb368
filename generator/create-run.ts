import type { ConfigPaths } from "./config-keys.js";
import type { ContainerSection } from "./container-section.js";
import type { Networks } from "./networks.js";
import type { Resolved, Use } from "./references.js";
import type { Secrets } from "./secret-keys.js";
import type { Definition, TranslateContext, Translated } from "./translate.js";
import type { Entry } from "./unit-file.js";

export type Pull = "missing" | "always" | "never" | "newer";

/**
 * The `docker create` command as the key table's walk builds it, and what the rest of the unit
 * needs to know about it. Each key's handler appends its options to `argv` and fills in its fields.
 */
export interface CreateRun {
  readonly c: ContainerSection;
  readonly def: Definition;
  readonly ctx: TranslateContext;
  argv: string[];
  /** A value with any reference resolved: its Docker name, and the unit that makes it (kept in `uses`). */
  resolved(e: Entry, r: Resolved): string | undefined;
  /** The image as written into the unit: `${VAR}` is substituted when the unit starts. */
  image: string | undefined;
  imageFrom: string | undefined;
  /** Units of the networks, volumes, images and containers the container uses. */
  uses: Use[];
  pull: Pull | undefined;
  ports: Translated["ports"];
  /** The health check's shell line, as `--health-cmd` has it; undefined without one (or with `none`). */
  health: string | undefined;
  waitHealthy: boolean;
  onFailure: "none" | "kill" | "restart" | "stop";
  stopTimeout: number;
  config: ConfigPaths | undefined;
  /** berth-step's options that connect the container to its further networks. */
  connect: string[];
  joins: Networks["joins"];
  /** The pod's unit that wants this one (Pod=, unless StartWithPod=false). */
  startedBy: string | undefined;
  secrets: Secrets;
  /** Digest of the create argv, put on the container as a label. */
  spec: string;
  /** The words after the image. */
  command: string[];
}

/** A handler reads its key (and the keys whose rows name it `with`) for the run. */
export type KeyHandler = (run: CreateRun) => void;
