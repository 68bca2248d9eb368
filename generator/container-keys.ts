/**
 * Quadlet `[Container]` keys that Docker cannot honour, and why. An error means the container
 * would run without something the file relies on, so berth refuses to guess; a warning means the
 * key only tunes Podman itself and the container runs as intended without it.
 */
export const UNSUPPORTED: Record<string, { severity: "error" | "warning"; why: string }> = {
  Pod: { severity: "error", why: "Docker has no pods; give each container its own definition, and let the others join one owner's network namespace with Network=OWNER.container, or put them all on one .network" },
  StartWithPod: { severity: "error", why: "Docker has no pods" },
  Rootfs: { severity: "error", why: "Docker runs images only, not an exploded root file system" },
  UIDMap: { severity: "error", why: "Docker has no per-container UID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID" },
  GIDMap: { severity: "error", why: "Docker has no per-container GID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID" },
  RemapUid: { severity: "error", why: "Docker has no per-container UID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID" },
  RemapGid: { severity: "error", why: "Docker has no per-container GID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID" },
  RemapUidSize: { severity: "error", why: "Docker has no per-container user namespaces, only the daemon-wide userns-remap" },
  SubUIDMap: { severity: "error", why: "Docker has no per-container subordinate UID maps" },
  SubGIDMap: { severity: "error", why: "Docker has no per-container subordinate GID maps" },
  EnvironmentHost: { severity: "error", why: "Docker cannot copy the whole host environment; list the variables with Environment=" },
  GlobalArgs: { severity: "error", why: "these are Podman global options; Docker has no equivalent" },
  HealthStartupCmd: { severity: "error", why: "Docker has no startup health checks; readiness would change meaning" },
  HealthStartupInterval: { severity: "error", why: "Docker has no startup health checks" },
  HealthStartupRetries: { severity: "error", why: "Docker has no startup health checks" },
  HealthStartupSuccess: { severity: "error", why: "Docker has no startup health checks" },
  HealthStartupTimeout: { severity: "error", why: "Docker has no startup health checks" },
  AutoUpdate: { severity: "warning", why: "Podman auto-update does not exist for Docker, and berthd never looks for a newer image: it pulls one only when it is missing locally and a new or changed definition is about to start; Pull=newer (or always) pulls at every start of the unit; ignored" },
  Annotation: { severity: "warning", why: "Docker 20.10 has no OCI annotations; ignored" },
  ContainersConfModule: { severity: "warning", why: "containers.conf is Podman's configuration; ignored" },
  CgroupsMode: { severity: "warning", why: "Docker always manages the container's cgroup itself; ignored" },
  HttpProxy: { severity: "warning", why: "Docker has no such switch; proxy variables reach the container only through Environment=; ignored" },
  Retry: { severity: "warning", why: "pull retries are Podman's; Docker pulls once and systemd's Restart= retries; ignored" },
  RetryDelay: { severity: "warning", why: "pull retries are Podman's; ignored" },
  HealthLogDestination: { severity: "warning", why: "Docker keeps health logs in the container state; ignored" },
  HealthMaxLogCount: { severity: "warning", why: "Docker keeps a fixed number of health logs; ignored" },
  HealthMaxLogSize: { severity: "warning", why: "Docker keeps health logs at a fixed size; ignored" },
};

/** `[Unit]` and `[Install]` keys whose values are unit names, so `x.container` must be rewritten. */
export const UNIT_REFERENCE_KEYS = new Set([
  "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "Conflicts", "Before", "After",
  "OnFailure", "OnSuccess", "PropagatesReloadTo", "ReloadPropagatedFrom", "PropagatesStopTo",
  "StopPropagatedFrom", "JoinsNamespaceOf",
]);
export const INSTALL_REFERENCE_KEYS = new Set(["WantedBy", "RequiredBy", "UpheldBy", "Also"]);

export const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
/** A size as Docker's RAMInBytes (go-units) reads it: `128m`, `128mb`, `1.5GiB`, `64 k`. */
export const SIZE = /^\d+(\.\d+)* ?[kKmMgGtTpP]?[iI]?[bB]?$/;
