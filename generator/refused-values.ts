import type { ContainerSection } from "./container-section.js";

/**
 * Values of translated keys that Docker cannot honour, and why: the key is fine, this value is
 * Podman's own. A value is looked up by its mode, the part before any `:` (`keep-id:uid=1000`).
 */
const REFUSED: Readonly<Record<string, Readonly<Record<string, string>>>> = {
  UserNS: userNsModes(),
  RemapUsers: userNsModes(),
  GroupAdd: {
    "keep-groups": "Docker cannot hand the caller's supplementary groups to a container; list the groups (GroupAdd=GID)",
  },
};

/**
 * berth refuses the user namespace modes rather than map them: Docker (20.10) has no per-container
 * user namespace, only the daemon-wide userns-remap, so any mapping would be another one than the
 * file asks for, and file ownership in volumes would silently differ.
 */
function userNsModes(): Record<string, string> {
  const none = "Docker has no per-container user namespaces, only the daemon-wide userns-remap; leave the key out";
  return {
    "keep-id": "Docker has no per-container user namespaces, only the daemon-wide userns-remap; to run as your own user, write User=UID and Group=GID (files it writes to volumes are then yours, as with keep-id)",
    auto: none, nomap: none, private: none,
    ns: "Docker cannot join another user namespace",
    container: "Docker cannot join another container's user namespace",
  };
}

/** Keys whose whole value is one mode; the others are lists of words, each checked. */
const SINGLE = new Set(["UserNS", "RemapUsers"]);

export function refuseValues(c: ContainerSection): void {
  for (const key in REFUSED) {
    const table = REFUSED[key]!;
    const values = SINGLE.has(key) ? [c.single(key)].flatMap((e) => (e ? [{ word: e.value, entry: e }] : [])) : c.words(key);
    for (const { word, entry } of values) {
      const mode = word.split(":")[0]!;
      if (Object.hasOwn(table, mode)) c.fail(entry, `${word} is not supported with Docker: ${table[mode]}`);
      else if (SINGLE.has(key) && word !== "host") c.fail(entry, `expected host (Docker's only per-container mode), found "${word}"`);
    }
  }
}
