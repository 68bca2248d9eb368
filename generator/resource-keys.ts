import type { KeyTable } from "./key-rules.js";

/** Keys every Quadlet file type has that only make sense to Podman itself. */
export const PODMAN_ONLY: KeyTable = {
  ContainersConfModule: { kind: "ignored", why: "containers.conf is Podman's configuration" },
  GlobalArgs: { kind: "refused", why: "these are Podman's global options; Docker has no equivalent" },
  PodmanArgs: { kind: "refused", why: "these are Podman's command-line options; write Docker's with DockerArgs=" },
};

/** Keys of the files that talk to a registry (`.image`, `.build`), where Docker has no switch of its own. */
export const REGISTRY_KEYS: KeyTable = {
  AuthFile: { kind: "refused", why: "Docker reads registry credentials from its own config.json (docker login)" },
  TLSVerify: { kind: "refused", when: "false", why: "Docker trusts a registry without TLS only when the daemon lists it in insecure-registries" },
  Retry: { kind: "ignored", why: "Docker pulls once; berthd and systemd try again" },
  RetryDelay: { kind: "ignored", why: "Docker pulls once; berthd and systemd try again" },
};
