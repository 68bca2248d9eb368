import type { ConfigPaths } from "./config-keys.js";
import type { Diagnostic } from "./diagnostics.js";
import type { DefinitionName, FileType } from "./names.js";
import type { HostPorts } from "./publish-port.js";
import type { ReferenceContext } from "./references.js";
import type { CredentialStore } from "./secret-keys.js";
import type { Entry, Sections } from "./unit-file.js";

// What translation takes and gives, for every file type: container-unit.ts and the file types'
// own modules translate; unit-section.ts, install-edges.ts and unit-text.ts make what they share.

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
  /** What `%D` means to this manager, in unit syntax: berth writes it out for systemd 252. */
  dataDir: string;
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

/**
 * One edge of [Install]: `target` wants, requires or upholds `unit` (the instance enabled), or
 * (`alias`) `target` is another name of the unit `unit`.
 */
export interface InstallEdge {
  kind: "wants" | "requires" | "upholds" | "alias";
  target: string;
  unit: string;
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
  /** What [Install] adds: the units that pull this one in, and its other names. */
  install: InstallEdge[];
  /** The `Alias=` names among the links: names in the set, claimed like unit names. */
  aliases: Array<{ name: string; entry: Entry }>;
  dependencies: Dependency[];
  ports: Array<{ host: HostPorts; entry: Entry }>;
  diagnostics: Diagnostic[];
}

/** What translation collects beside the unit text. */
export interface Collected {
  diagnostics: Diagnostic[];
  dependencies: Dependency[];
}
