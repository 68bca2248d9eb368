import type { Dirent, Stats } from "node:fs";
import { dirname, normalize, resolve } from "node:path";
import { decodeText } from "./decode-text.js";
import { error, warning, type Diagnostic } from "./diagnostics.js";
import { definitionKey, hasDefinitionSuffix, NOT_RUN, notRunType, parseDefinitionName, templateBase, type DefinitionName } from "./names.js";
import { listing, MAX_DEPTH, observedDropIns, observedIsDirectory, observedLstat, observedOwner, observedRealpath, observedStat, treeNote, walksInto } from "./observed-fs.js";
import { dirPrefix } from "./paths.js";
import { readRegularFile, type FileRead } from "./read-file.js";
import { dropInDirNames } from "./search-path.js";
import { trustProblem, type OwnerAndMode, type TrustRules } from "./trust.js";
import type { Definition } from "./translate.js";
import { parseUnitFile, type Sections } from "./unit-file.js";

/** A definition as found on disk, before it is read. */
export interface DefinitionSource {
  name: DefinitionName;
  file: string;
  dropIns: string[];
  /** Errors found before its files are read: a drop-in directory it could not list. */
  problems?: Diagnostic[];
}

export interface LoadedDefinition {
  definition: Definition;
  /** An empty main file masks the name, as an empty unit file does in systemd. */
  masked: boolean;
  /** The main file was not read (unreadable or not trusted): translating nothing would only add noise. */
  unread: boolean;
  diagnostics: Diagnostic[];
}

/** systemd's mask: a link to /dev/null. (An empty file masks too; that is seen when it is read.) */
function linksToDevNull(path: string): boolean {
  try {
    return observedRealpath(path) === "/dev/null";
  } catch {
    return false;
  }
}

/**
 * Walks the search directories (recursively, like Quadlet) and returns each definition name once:
 * the first directory wins, and a file that is empty or links to /dev/null masks the name.
 * Dot-files are skipped: they are the temporary files of editors and configuration tools.
 */
export function discoverDefinitions(dirs: readonly string[], list: typeof listing = listing): Discovered {
  const seen = new Map<string, DefinitionSource | null>();
  const foundIn = new Map<string, { root: number; file: string }>();
  const diagnostics: Diagnostic[] = [];
  // What could not be listed (EIO, EACCES, ELOOP…), unlike what is not there: the definitions
  // under it are unknown, not deleted (loadSet keeps their last accepted versions).
  const unlisted: Unlisted[] = [];
  let rootIndex = 0;
  const unlistable = (path: string, code: string, what: "list" | "stat"): void => {
    unlisted.push({ path, code, root: rootIndex });
    diagnostics.push(error(path, 0, `cannot ${what} it (${code}); the definitions at or under it keep their last accepted versions`));
  };
  // Drop-in directories found at the top of a search directory, listed when first asked for.
  const dropInDirs = new Map<string, Dirent[] | undefined>();
  // An explicit stack of directories being listed, each at its next entry: the order of a
  // recursive walk (a subdirectory's files come before its parent's later entries), without one
  // stack frame per level.
  const open = (dir: string, prefix: string, depth: number) => ({ entries: list(dir, unlistable).sort((a, b) => (a.name < b.name ? -1 : 1)), next: 0, prefix, depth });
  for (const [index, root] of dirs.entries()) {
    rootIndex = index;
    const rootPrefix = dirPrefix(root);
    const tree = treeNote(root);
    const stack = [open(root, rootPrefix, 0)];
    while (stack.length > 0) {
      const frame = stack[stack.length - 1]!;
      const ent = frame.entries[frame.next++];
      if (!ent) {
        stack.pop();
        continue;
      }
      const { prefix, depth } = frame;
      if (ent.name.startsWith(".")) continue;
      const path = prefix + ent.name;
      if (!walksInto(ent)) tree.add(ent, prefix.slice(rootPrefix.length));
      if (ent.isDirectory()) {
        if (!walksInto(ent)) {
          if (depth === 0) dropInDirs.set(path, undefined);
        } else if (depth < MAX_DEPTH) stack.push(open(path, `${path}/`, depth + 1));
        continue;
      }
      // A linked drop-in directory counts, as it does for systemd's own units. Other linked
      // directories are not walked: a link back up the tree would multiply the walk.
      if (ent.isSymbolicLink() && ent.name.endsWith(".d") && observedIsDirectory(path)) {
        if (depth === 0) dropInDirs.set(path, undefined);
        continue;
      }
      const notRun = notRunType(ent.name);
      if (notRun) diagnostics.push(warning(path, 0, `${NOT_RUN[notRun]}; ignored`));
      if (!hasDefinitionSuffix(ent.name) || seen.has(ent.name)) continue;
      const name = parseDefinitionName(ent.name);
      if (!name) {
        diagnostics.push(error(path, 0, `"${ent.name}" is not a valid definition name (letters, digits, "_", ".", "-", one "@")`));
        continue;
      }
      seen.set(ent.name, ent.isSymbolicLink() && linksToDevNull(path) ? null : { name, file: path, dropIns: [] });
      foundIn.set(definitionKey(name), { root: index, file: path });
    }
    tree.done();
  }
  const sources = [...seen.values()].filter((s): s is DefinitionSource => s !== null);
  // Listing only directories known to exist, each once, keeps a thousand definitions from
  // costing thousands of readdir calls.
  if (dropInDirs.size > 0 || unlisted.length > 0) {
    // A unit without a drop-in that could not be listed would not be what the files say: that is
    // an error of the definition's own, and its last accepted version stays in effect. Under a
    // search directory that could not be listed, any drop-in directory may be.
    const unlistedDropIns = new Map<string, string>();
    let consulted: string[] = [];
    const listDropIns = (dir: string): readonly Dirent[] => {
      consulted.push(dir);
      if (!dropInDirs.has(dir)) return [];
      let entries = dropInDirs.get(dir);
      if (!entries) dropInDirs.set(dir, (entries = observedDropIns(dir, (path, code) => unlistedDropIns.set(path, code), list)));
      return entries;
    };
    for (const s of sources) {
      consulted = [];
      s.dropIns = findDropIns(dirs, s.name, listDropIns);
      const problems = new Set<string>();
      for (const d of consulted) {
        for (const [path, code] of unlistedDropIns) if (path === d || path.startsWith(`${d}/`)) problems.add(`cannot list its drop-ins in ${path} (${code})`);
        for (const u of unlisted) if (d === normalize(u.path) || d.startsWith(dirPrefix(u.path))) problems.add(`cannot tell its drop-ins: ${u.path} could not be listed (${u.code})`);
      }
      if (problems.size > 0) s.problems = [...problems].map((p) => error(s.file, 0, p));
    }
  }
  return { sources, diagnostics, unlisted, foundIn };
}

/** A directory, or an entry, that could not be listed (not one that is not there): which search directory it is under. */
export interface Unlisted {
  path: string;
  code: string;
  /** The search directory's index. */
  root: number;
}

export interface Discovered {
  sources: DefinitionSource[];
  diagnostics: Diagnostic[];
  unlisted: Unlisted[];
  /** Each definition key found (masked ones too): in which search directory, by index, and its file. */
  foundIn: Map<string, { root: number; file: string }>;
}

/** systemd's rule: drop-ins are applied in file-name order; a name in a higher-priority place wins. */
export function findDropIns(
  dirs: readonly string[],
  name: DefinitionName,
  list: (dir: string) => readonly Dirent[] = observedDropIns,
): string[] {
  const chosen = new Map<string, string>();
  const names = dropInDirNames(name.base, name.type, name.kind === "instance" ? templateBase(name) : undefined);
  for (const dir of dirs) {
    const prefix = dirPrefix(dir);
    for (const sub of names) {
      const subDir = prefix + sub;
      for (const ent of list(subDir)) {
        if (ent.name.startsWith(".") || !ent.name.endsWith(".conf") || chosen.has(ent.name)) continue;
        chosen.set(ent.name, `${subDir}/${ent.name}`);
      }
    }
  }
  if (chosen.size === 0) return [];
  return [...chosen.entries()]
    .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
    .map(([, path]) => path)
    .filter((path) => !linksToDevNull(path));
}

const ownerAndMode = (s: Stats): OwnerAndMode => ({ uid: s.uid, mode: s.mode & 0o7777 });

/** What the trust check found: a reason to refuse the file, or the file's own stat when it is not a link (for the read). */
export interface TrustFinding {
  problem?: string;
  stat?: Stats;
}

/**
 * The shell around trustProblem(): the owner and mode of a file, of each directory from it up to
 * its search directory (to / for a file outside them), and of the directory a link leads into.
 */
export function trustChecker(searchDirs: readonly string[], rules: TrustRules): (file: string) => TrustFinding {
  const tops = new Set(searchDirs.map((d) => resolve(d)));
  const dirStats = new Map<string, OwnerAndMode>();
  const dirStat = (path: string) => {
    let s = dirStats.get(path);
    if (!s) dirStats.set(path, (s = observedOwner(path)));
    return { path, stat: s };
  };
  // The directories from each file's directory up to its search directory, by the directory as
  // the file's path spells it: a thousand definitions share one, resolved and stat'ed once.
  const chains = new Map<string, Array<{ path: string; stat: OwnerAndMode }>>();
  const chain = (spelled: string) => {
    let dirs = chains.get(spelled);
    if (!dirs) {
      dirs = [];
      for (let dir = resolve(spelled); ; dir = dirname(dir)) {
        dirs.push(dirStat(dir));
        if (tops.has(dir) || dir === "/") break;
      }
      chains.set(spelled, dirs);
    }
    return dirs;
  };
  return (file) => {
    try {
      const own = observedLstat(file);
      const slash = file.lastIndexOf("/");
      const dirs = chain(slash < 0 ? "." : file.slice(0, slash) || "/");
      // Not a regular file: it is refused as such when read, which says more than its mode.
      if (!own.isSymbolicLink()) return own.isFile() ? { problem: trustProblem({ path: file, stat: ownerAndMode(own) }, dirs, rules), stat: own } : {};
      const target = observedRealpath(file);
      const st = observedStat(target);
      if (!st.isFile()) return {};
      const into = dirs.some((d) => d.path === dirname(target)) ? dirs : [...dirs, dirStat(dirname(target))];
      return { problem: trustProblem({ path: file, stat: ownerAndMode(st) }, into, rules) };
    } catch {
      // Gone or unreadable: reading it says so.
      return {};
    }
  };
}

export function loadDefinition(
  source: DefinitionSource,
  trust: (file: string) => TrustFinding = () => ({}),
  read: (path: string, known?: Stats) => FileRead = readRegularFile,
): LoadedDefinition {
  const sections: Sections = new Map();
  let diagnostics: Diagnostic[] = [...(source.problems ?? [])];
  const files = [source.file, ...source.dropIns];
  let masked = false;
  let unread = false;
  for (const file of files) {
    const found = trust(file);
    const got = found.problem ? { error: found.problem } : read(file, found.stat);
    if ("error" in got) {
      diagnostics.push(error(file, 0, got.error));
      unread ||= file === source.file;
      continue;
    }
    const decoded = decodeText(got.bytes, file);
    if (file === source.file && decoded.text.trim() === "") masked = true;
    // concat, not push(...list): a spread passes every element as an argument, and a long list
    // overflows the stack.
    diagnostics = diagnostics.concat(decoded.diagnostics, parseUnitFile(decoded.text, file, sections).diagnostics);
  }
  return { definition: { name: source.name, file: source.file, files, sections }, masked, unread, diagnostics };
}
