import type { CreateRun } from "./create-run.js";
import { parseMount } from "./mount-option.js";

/** What Podman mounts writable in a read-only container, beside /dev and /dev/shm. */
const READ_ONLY_TMPFS = ["/tmp", "/var/tmp", "/run"];

/** ReadOnly= and ReadOnlyTmpfs=: a read-only root, with Podman's writable scratch directories. */
export function readOnlyArgs({ c, argv }: CreateRun): void {
  if (!c.bool("ReadOnly")) return;
  argv.push("--read-only");
  // Podman's --read-only-tmpfs (on by default) keeps the usual scratch directories writable;
  // Docker has none, and many images fail without them. /dev and /dev/shm Docker has already.
  if (c.bool("ReadOnlyTmpfs") ?? true) {
    const taken = mountTargets(argv);
    for (const path of READ_ONLY_TMPFS) if (!taken.has(path)) argv.push("--tmpfs", path);
  }
}

/**
 * Container paths already mounted by the options in `argv`: Docker refuses a second mount on the
 * same path, so a read-only container's tmpfs goes only where the definition mounts nothing.
 */
function mountTargets(argv: readonly string[]): Set<string> {
  const taken = new Set<string>();
  for (let i = 0; i < argv.length - 1; i++) {
    const flag = argv[i]!;
    const value = argv[i + 1]!;
    let target: string | undefined;
    if (flag === "--tmpfs") target = value.split(":")[0];
    else if (flag === "--volume") {
      const parts = value.split(":");
      target = parts.length > 1 ? parts[1] : parts[0];
    } else if (flag === "--mount") {
      const m = parseMount(value);
      target = "error" in m ? undefined : m.target;
    }
    if (target) taken.add(target.length > 1 ? target.replace(/\/+$/, "") : target);
  }
  return taken;
}
