import type { Check } from "./value-checks.js";

/**
 * berth refuses the user namespace modes rather than map them: Docker (20.10) has no per-container
 * user namespace, only the daemon-wide userns-remap, so any mapping would be another one than the
 * file asks for, and file ownership in volumes would silently differ.
 */
const NO_USERNS = "Docker has no per-container user namespaces, only the daemon-wide userns-remap; leave the key out";
const USERNS_MODES: Readonly<Record<string, string>> = {
  "keep-id": "Docker has no per-container user namespaces, only the daemon-wide userns-remap; to run as your own user, write User=UID and Group=GID (files it writes to volumes are then yours, as with keep-id)",
  auto: NO_USERNS, nomap: NO_USERNS, private: NO_USERNS,
  ns: "Docker cannot join another user namespace",
  container: "Docker cannot join another container's user namespace",
};
const GROUP_ADD_MODES: Readonly<Record<string, string>> = {
  "keep-groups": "Docker cannot hand the caller's supplementary groups to a container; list the groups (GroupAdd=GID)",
};

/** A value is looked up by its mode, the part before any `:` (`keep-id:uid=1000`). */
function refusedMode(value: string, modes: Readonly<Record<string, string>>): string | undefined {
  const mode = value.split(":")[0]!;
  return Object.hasOwn(modes, mode) ? `${value} is not supported with Docker: ${modes[mode]}` : undefined;
}

/** UserNS= and RemapUsers=: Podman's modes are refused each with its reason; host is Docker's only one. */
export const USERNS_CHECK: Check = {
  refuse: (value) => refusedMode(value, USERNS_MODES) ?? (value === "host" ? undefined : `expected host (Docker's only per-container mode), found "${value}"`),
};
/** A GroupAdd= word that is Podman's own. */
export const GROUP_ADD_CHECK: Check = { refuse: (value) => refusedMode(value, GROUP_ADD_MODES) };
