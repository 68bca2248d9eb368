import { addHostArgs } from "./add-host.js";
import { commandArgs } from "./container-command.js";
import {
  configLabel, devices, dockerArgs, environmentFiles, imageKey, logDriverArgs, mounts, networkArgs, publishPorts,
  podArgs, pullArgs, secretArgs, securityArgs, STOP_TIMEOUT_CHECK, stopTimeout, userArgs, volatileTmp, volumes,
} from "./create-handlers.js";
import type { KeyHandler } from "./create-run.js";
import { PULL_POLICIES } from "./image-unit.js";
import { HEALTH_ON_FAILURE, healthArgs, readinessKeys } from "./health-check.js";
import type { FlagRule, ValueKind } from "./key-rules.js";
import { podmanArgs } from "./podman-args.js";
import { readOnlyArgs } from "./read-only.js";
import { isDockerName } from "./names.js";
import { GROUP_ADD_CHECK, USERNS_CHECK } from "./refused-values.js";
import { signalNumber } from "./signals.js";
import { timezoneArgs } from "./timezone.js";
import { DURATION_CHECK, MAX_INT32, MAX_INT64, SIZE, type Check } from "./value-checks.js";

/**
 * A row of the [Container] table: a key that becomes Docker options by its kind (`flag`), one a
 * handler translates (the `handler` of its row, or of the key named `with`; `readBy` for keys the
 * rest of the unit reads), or one refused or ignored with the reason.
 */
export type ContainerKeyRule =
  | FlagRule
  | { kind: "own"; value: ValueKind; values?: readonly string[]; check?: Check; handler: KeyHandler }
  | { kind: "own"; value: ValueKind; with: string }
  | { kind: "own"; value: ValueKind; check?: Check; readBy: string }
  | { kind: "refused"; why: string }
  | { kind: "ignored"; why: string };

const own = (value: ValueKind, handler: KeyHandler, extra: { check?: Check; values?: readonly string[] } = {}): ContainerKeyRule => ({ kind: "own", value, handler, ...extra });
const by = (value: ValueKind, key: string): ContainerKeyRule => ({ kind: "own", value, with: key });
const refused = (why: string): ContainerKeyRule => ({ kind: "refused", why });
const ignored = (why: string): ContainerKeyRule => ({ kind: "ignored", why });

const namespace = (pattern: RegExp, expected: string): Check => ({ pattern, expected });
const KEY_VALUE = "KEY=VALUE";
const NO_UID_MAPS = "Docker has no per-container UID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID";
const NO_GID_MAPS = "Docker has no per-container GID maps, only the daemon-wide userns-remap; to run as a given user, write User=UID and Group=GID";
const NO_STARTUP_HEALTH = "Docker has no startup health checks";

/**
 * Every [Container] key berth knows, one row each: what Quadlet's key means to Docker. The walk
 * (docker-create.ts) visits the rows in this order, so the order IS the `docker create` argv, and
 * the argv is hashed into the spec label of every container: reordering rows restarts every
 * container of every user on upgrade. Add new keys where their options go, never move old ones.
 */
export const CONTAINER_KEYS: Readonly<Record<string, ContainerKeyRule>> = {
  Image: own("single", imageKey),
  ContainerName: { kind: "own", value: "single", readBy: "container-unit (the container's name)" },
  // Off unless asked, as in Quadlet: images that bring their own init (s6-overlay, dumb-init)
  // refuse to run as anything but PID 1, and Docker's init would take that place.
  RunInit: { kind: "bool", flag: "--init" },
  Pull: own("one-of", pullArgs, { values: PULL_POLICIES }),
  LogDriver: own("single", logDriverArgs),
  LogOpt: { kind: "list", flag: "--log-opt" },
  Environment: { kind: "words", flag: "--env", pairs: true, check: { pattern: /^[A-Za-z_][A-Za-z0-9_.-]*=/, expected: KEY_VALUE } },
  EnvironmentFile: own("words", environmentFiles),
  Label: { kind: "words", flag: "--label", pairs: true },
  Secret: own("list", secretArgs),
  Volume: own("list", volumes),
  Mount: own("words", mounts),
  Tmpfs: { kind: "list", flag: "--tmpfs" },
  VolatileTmp: own("bool", volatileTmp),
  Timezone: own("single", ({ c, argv }) => timezoneArgs(c, argv)),
  PublishPort: own("list", publishPorts),
  ExposeHostPort: { kind: "words", flag: "--expose" },
  Network: own("list", networkArgs),
  HostName: { kind: "single", flag: "--hostname" },
  IP: { kind: "single", flag: "--ip" },
  IP6: { kind: "single", flag: "--ip6" },
  UserNS: { kind: "single", flag: "--userns", check: USERNS_CHECK },
  RemapUsers: { kind: "single", flag: "--userns", check: USERNS_CHECK },
  // Docker's accepted modes differ per namespace.
  Pid: { kind: "single", flag: "--pid", check: namespace(/^(host|container:[A-Za-z0-9_.-]+)$/, "host or container:NAME") },
  Ipc: { kind: "single", flag: "--ipc", check: namespace(/^(host|private|shareable|none|container:[A-Za-z0-9_.-]+)$/, "host, private, shareable, none or container:NAME") },
  Cgroupns: { kind: "single", flag: "--cgroupns", check: namespace(/^(host|private)$/, "host or private") },
  WorkingDir: { kind: "single", flag: "--workdir" },
  ShmSize: { kind: "single", flag: "--shm-size", check: { pattern: SIZE, expected: "a size such as 64m" } },
  Memory: { kind: "single", flag: "--memory", check: { pattern: SIZE, expected: "a size such as 512m" } },
  StopSignal: { kind: "single", flag: "--stop-signal", check: { test: (v) => signalNumber(v) !== undefined, expected: "a signal name (SIGHUP, HUP) or number from 1 to 64" } },
  DNS: { kind: "words", flag: "--dns" },
  DNSSearch: { kind: "words", flag: "--dns-search" },
  DNSOption: { kind: "words", flag: "--dns-option" },
  GroupAdd: { kind: "words", flag: "--group-add", check: GROUP_ADD_CHECK },
  AddCapability: { kind: "words", flag: "--cap-add" },
  DropCapability: { kind: "words", flag: "--cap-drop" },
  Sysctl: { kind: "words", flag: "--sysctl" },
  // Beside --network-alias, a container on several networks gets its aliases on each (networks.ts).
  NetworkAlias: { kind: "words", flag: "--network-alias", check: { test: isDockerName, expected: "a name ([a-zA-Z0-9][a-zA-Z0-9_.-]*)" } },
  AddHost: own("words", ({ c, argv }) => addHostArgs(c, argv)),
  User: own("single", userArgs),
  Group: by("single", "User"),
  AddDevice: own("list", devices),
  Ulimit: {
    kind: "words", flag: "--ulimit", check: { pattern: /^[a-z]+=-?\d+(:-?\d+)?$/, expected: "NAME=SOFT[:HARD]" },
    ignoredWords: { host: "Docker has no such value; the container keeps the limits Docker gives every container (dockerd's default-ulimits, or else those of containerd's own service)" },
  },
  PidsLimit: { kind: "single", flag: "--pids-limit", check: { range: [-1n, MAX_INT64], expected: "a number" } },
  Privileged: { kind: "bool", flag: "--privileged" },
  ReadOnly: own("bool", readOnlyArgs),
  ReadOnlyTmpfs: by("bool", "ReadOnly"),
  SecurityOpt: own("list", securityArgs),
  Mask: by("words", "SecurityOpt"),
  Unmask: by("words", "SecurityOpt"),
  NoNewPrivileges: by("bool", "SecurityOpt"),
  AppArmor: by("single", "SecurityOpt"),
  SeccompProfile: by("single", "SecurityOpt"),
  SecurityLabelDisable: by("bool", "SecurityOpt"),
  SecurityLabelNested: by("bool", "SecurityOpt"),
  SecurityLabelType: by("single", "SecurityOpt"),
  SecurityLabelLevel: by("single", "SecurityOpt"),
  SecurityLabelFileType: by("single", "SecurityOpt"),
  HealthCmd: own("single", healthArgs),
  HealthInterval: { kind: "single", flag: "--health-interval", check: DURATION_CHECK },
  HealthTimeout: { kind: "single", flag: "--health-timeout", check: DURATION_CHECK },
  HealthStartPeriod: { kind: "single", flag: "--health-start-period", check: DURATION_CHECK },
  HealthRetries: { kind: "single", flag: "--health-retries", check: { range: [0n, MAX_INT32], expected: "a number" } },
  HealthOnFailure: own("one-of", readinessKeys, { values: HEALTH_ON_FAILURE }),
  Notify: by("one-of", "HealthOnFailure"),
  StopTimeout: own("single", stopTimeout, { check: STOP_TIMEOUT_CHECK }),
  RestartOnChange: own("words", configLabel),
  ReloadOnChange: by("words", "RestartOnChange"),
  Entrypoint: own("single", commandArgs),
  Exec: by("words", "Entrypoint"),
  PodmanArgs: own("words", ({ c, argv }) => podmanArgs(c, argv)),
  DockerArgs: own("words", dockerArgs),
  ServiceName: { kind: "own", value: "single", readBy: "checkCommon (the unit's name)" },
  ReloadCmd: { kind: "own", value: "words", readBy: "reload.ts (ExecReload=)" },
  ReloadSignal: { kind: "own", value: "single", readBy: "reload.ts (ExecReload=)" },
  RevertOnFailure: { kind: "own", value: "bool", readBy: "container-unit (berthd's rollback)" },

  // An error: the container would run without something the file relies on, so berth refuses to guess.
  Pod: own("single", podArgs),
  StartWithPod: by("bool", "Pod"),
  Rootfs: refused("Docker runs images only, not an exploded root file system"),
  UIDMap: refused(NO_UID_MAPS),
  GIDMap: refused(NO_GID_MAPS),
  RemapUid: refused(NO_UID_MAPS),
  RemapGid: refused(NO_GID_MAPS),
  RemapUidSize: refused("Docker has no per-container user namespaces, only the daemon-wide userns-remap"),
  SubUIDMap: refused("Docker has no per-container subordinate UID maps"),
  SubGIDMap: refused("Docker has no per-container subordinate GID maps"),
  EnvironmentHost: refused("Docker cannot copy the whole host environment; list the variables with Environment="),
  GlobalArgs: refused("these are Podman global options; Docker has no equivalent"),
  HealthStartupCmd: refused(`${NO_STARTUP_HEALTH}; readiness would change meaning`),
  HealthStartupInterval: refused(NO_STARTUP_HEALTH),
  HealthStartupRetries: refused(NO_STARTUP_HEALTH),
  HealthStartupSuccess: refused(NO_STARTUP_HEALTH),
  HealthStartupTimeout: refused(NO_STARTUP_HEALTH),
  // A warning: the key only tunes Podman itself, and the container runs as intended without it.
  AutoUpdate: ignored("Podman auto-update does not exist for Docker, and berthd never looks for a newer image: it pulls one only when it is missing locally and a new or changed definition is about to start; Pull=newer (or always) pulls at every start of the unit"),
  Annotation: ignored("Docker 20.10 has no OCI annotations"),
  ContainersConfModule: ignored("containers.conf is Podman's configuration"),
  CgroupsMode: ignored("Docker always manages the container's cgroup itself"),
  HttpProxy: ignored("Docker has no such switch; proxy variables reach the container only through Environment="),
  Retry: ignored("pull retries are Podman's; Docker pulls once and systemd's Restart= retries"),
  RetryDelay: ignored("pull retries are Podman's"),
  HealthLogDestination: ignored("Docker keeps health logs in the container state"),
  HealthMaxLogCount: ignored("Docker keeps a fixed number of health logs"),
  HealthMaxLogSize: ignored("Docker keeps health logs at a fixed size"),
};
