/**
 * Whether a definition or drop-in may be trusted to become a unit. In system scope a unit runs as
 * root, with whatever `Privileged=` or `Volume=/:/host` it asks for, so whoever can write the file,
 * or replace it in its directory, is root. The rule is sshd's StrictModes: the file and each
 * directory from it up to its search directory belong to a trusted owner, and nobody else can
 * write them, except that a sticky directory (such as /tmp) is safe for entries others do not own.
 */
export interface OwnerAndMode {
  uid: number;
  /** Permission bits, the sticky bit included. */
  mode: number;
}

export interface TrustRules {
  /** The uids that may own a definition: root, and in user scope the user. */
  owners: readonly number[];
  /** How the fix names the owner to give the file: `root:` or the user's uid. */
  chownTo: string;
}

const GROUP_OR_OTHERS_WRITE = 0o022;
const STICKY = 0o1000;
const octal = (mode: number) => `0${(mode & 0o7777).toString(8)}`;

/** Each check, with what it says and how to fix it; the first that fails is reported. */
const CHECKS: ReadonlyArray<{
  fails(s: OwnerAndMode, rules: TrustRules, isDir: boolean): boolean;
  says(path: string, s: OwnerAndMode, rules: TrustRules): string;
}> = [
  {
    fails: (s, rules) => !rules.owners.includes(s.uid),
    says: (path, s, rules) => `is owned by uid ${s.uid}, who could run anything as root through it (fix: chown ${rules.chownTo} ${path})`,
  },
  {
    fails: (s, _rules, isDir) => (s.mode & GROUP_OR_OTHERS_WRITE) !== 0 && !(isDir && (s.mode & STICKY) !== 0),
    says: (path, s) => `is writable by group or others (mode ${octal(s.mode)}), who could run anything as root through it (fix: chmod go-w ${path})`,
  },
];

/**
 * The problem with a file, given its owner and mode and those of the directories it is reached
 * through (nearest first), or undefined when it can be trusted.
 */
export function trustProblem(
  file: { path: string; stat: OwnerAndMode },
  dirs: ReadonlyArray<{ path: string; stat: OwnerAndMode }>,
  rules: TrustRules,
): string | undefined {
  for (const check of CHECKS) {
    if (check.fails(file.stat, rules, false)) return `not trusted: it ${check.says(file.path, file.stat, rules)}`;
  }
  for (const dir of dirs) {
    for (const check of CHECKS) {
      if (check.fails(dir.stat, rules, true)) return `not trusted: its directory ${dir.path} ${check.says(dir.path, dir.stat, rules)}`;
    }
  }
  return undefined;
}

/** Root, and in user scope the user as well: root can act as any user anyway. */
export function trustRules(scope: "system" | "user", uid: number): TrustRules {
  return scope === "system" || uid === 0 ? { owners: [0], chownTo: "root:" } : { owners: [0, uid], chownTo: String(uid) };
}
