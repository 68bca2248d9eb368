import type { Dirent } from "node:fs";
import { basename, dirname, join, normalize } from "node:path";
import { buildSet, type BuiltSet } from "./build-set.js";
import { readAccepted, readAllAccepted, readRejections, recordFile, type AcceptedUnit, type Rejection } from "./accepted-store.js";
import { hostCredentialStore } from "./credential-store.js";
import { digest } from "./digest.js";
import { listing, noteFile, observedExists } from "./observed-fs.js";
import { capDiagnostics, error, warning, type Diagnostic, type Severity } from "./diagnostics.js";
import { unitLiteral } from "./exec-line.js";
import { definitionDigest, generatedUnit, type GeneratedUnit } from "./generated-unit.js";
import type { Translated } from "./translate.js";
import { discoverDefinitions, findDropIns, loadDefinition, trustChecker, type DefinitionSource, type Discovered } from "./load-definitions.js";
import { decodeText } from "./decode-text.js";
import { definitionKey, parseDefinitionName, runsContainer } from "./names.js";
import { dirPrefix } from "./paths.js";
import { readRegularFile } from "./read-file.js";
import { parseUnitFile } from "./unit-file.js";
import { sharedDataDir, unitDirs, type Scope } from "./search-path.js";
import { trustRules } from "./trust.js";

function dockerPath(env: NodeJS.ProcessEnv): string {
  if (env.BERTH_DOCKER) return env.BERTH_DOCKER;
  return ["/usr/bin/docker", "/usr/local/bin/docker", "/bin/docker"].find((p) => observedExists(p)) ?? "/usr/bin/docker";
}

export interface LoadSetOptions {
  scope: Scope;
  env?: NodeJS.ProcessEnv;
  /** Replaces the configured search directories. */
  dirs?: readonly string[];
  /** Extra files standing in for definitions of the given file name (`berth validate --as`). */
  overlay?: ReadonlyArray<{ fileName: string; path: string }>;
  /** Where last accepted versions are kept (acceptedDir); without it or `records`, none stand in for invalid definitions. */
  acceptedDir?: string;
  /** The records, already read (berthd reads them all anyway); used instead of acceptedDir. */
  records?: ReadonlyMap<string, AcceptedUnit>;
  /** Versions reverted for not becoming healthy (RevertOnFailure=); read from acceptedDir if not given. */
  rejections?: ReadonlyMap<string, Rejection>;
  /** How a Secret= credential missing from this host's store is reported; a warning unless asked. */
  missingCredential?: Severity;
  /** Give each unit its definition's digest (GeneratedUnit.source), as berthd needs. */
  definitionDigests?: boolean;
}

/** `NAME.container.d/FILE.conf`, `prefix-.container.d/FILE.conf` or `container.d/FILE.conf`. */
const DROP_IN = /^((?:[A-Za-z0-9][A-Za-z0-9_.:@\\-]*\.)?container\.d)\/([^/.][^/]*\.conf)$/;

/**
 * Drop-ins given to check (`berth validate --as keystone.container.d/10-host.conf FILE`) stand in
 * for that file in the first search directory: each definition's drop-ins are looked up again as
 * if it were there, so precedence and order are systemd's, and the candidate is read in its place.
 * A candidate that applies to no definition is still parsed, and said to apply to nothing.
 */
function overlayDropIns(dirs: readonly string[], sources: DefinitionSource[], candidates: ReadonlyMap<string, string>): Diagnostic[] {
  const byDir = new Map<string, string[]>();
  for (const path of candidates.keys()) byDir.set(dirname(path), [...(byDir.get(dirname(path)) ?? []), basename(path)]);
  // A directory not there yet has the candidate for its first file; one that cannot be listed is said to be.
  const unlisted = new Map<string, string>();
  const list = (dir: string): Dirent[] => {
    const entries = listing(dir, (path, code) => unlisted.set(path, code));
    const added = (byDir.get(dir) ?? []).filter((n) => !entries.some((e) => e.name === n));
    return [...entries, ...added.map((name) => ({ name }) as Dirent)];
  };
  const used = new Set<string>();
  for (const s of sources) {
    s.dropIns = findDropIns(dirs, s.name, list).map((path) => {
      const candidate = candidates.get(path);
      if (candidate === undefined) return path;
      used.add(path);
      return candidate;
    });
  }
  const diagnostics: Diagnostic[] = [];
  for (const [path, candidate] of candidates) {
    const code = unlisted.get(dirname(path));
    if (code !== undefined) diagnostics.push(error(candidate, 0, `cannot list ${dirname(path)} (${code}), where it would go: the drop-ins beside it are unknown`));
    if (used.has(path)) continue;
    const got = readRegularFile(candidate);
    if ("error" in got) {
      diagnostics.push(error(candidate, 0, got.error));
      continue;
    }
    const decoded = decodeText(got.bytes, candidate);
    diagnostics.push(...decoded.diagnostics, ...parseUnitFile(decoded.text, candidate, new Map()).diagnostics);
    diagnostics.push(warning(candidate, 0, `${path} applies to no definition`));
  }
  return diagnostics;
}

export interface LoadedSet extends BuiltSet {
  dirs: readonly string[];
  sources: DefinitionSource[];
  /** What the generator writes: valid units, and accepted versions standing in for invalid ones. */
  output: GeneratedUnit[];
}

/** Reads every definition on the search path and translates the set, as the generator does. */
export function loadSet(options: LoadSetOptions): LoadedSet {
  const env = options.env ?? process.env;
  const dirs = options.dirs ?? unitDirs(options.scope, env);
  const found = discoverDefinitions(dirs);
  const sources = found.sources;
  let diagnostics = found.diagnostics;
  const dropInOverlay = new Map<string, string>();
  for (const o of options.overlay ?? []) {
    const dropIn = DROP_IN.exec(o.fileName);
    if (dropIn) {
      dropInOverlay.set(join(dirs[0] ?? ".", dropIn[1]!, dropIn[2]!), o.path);
      continue;
    }
    const name = parseDefinitionName(o.fileName);
    if (!name) {
      diagnostics.push(error(o.path, 0, `"${o.fileName}" is not a valid definition name (NAME.container, NAME.network, NAME.volume, NAME.image or NAME.build) or drop-in (NAME.container.d/FILE.conf)`));
      continue;
    }
    const source: DefinitionSource = { name, file: o.path, dropIns: findDropIns(dirs, name) };
    const index = sources.findIndex((s) => definitionKey(s.name) === definitionKey(name));
    if (index >= 0) sources[index] = source;
    else sources.push(source);
  }
  if (dropInOverlay.size > 0) diagnostics = diagnostics.concat(overlayDropIns(dirs, sources, dropInOverlay));
  // Ownership guards what becomes a unit: the search path. A file or directory given to check
  // (Ansible's `validate:` temporary file, a staging checkout) is checked for its content only;
  // whatever installs it sets owner and mode.
  const trust = options.dirs === undefined ? trustChecker(dirs, trustRules(options.scope, process.getuid?.() ?? 0)) : () => ({});
  const overlaid = new Set((options.overlay ?? []).map((o) => o.path));
  const loaded = sources.map((s) => loadDefinition(s, (file) => (overlaid.has(file) ? {} : trust(file)))).filter((l) => !l.masked);
  const dir = options.acceptedDir;
  // Each record is read once, however often the set asks, so a damaged one is reported once;
  // and only when asked (an invalid definition), so a valid set costs no reads at boot.
  const records = new Map<string, AcceptedUnit | undefined>(options.records ?? []);
  // Once per record: one under a directory that could not be listed may be read twice.
  const warned = new Set<string>();
  const warn = (file: string, problem: string) => {
    if (!warned.has(file)) diagnostics.push(warning(file, 0, problem));
    warned.add(file);
  };
  const ofFile = (base: string, file: string) => {
    const a = records.get(base);
    return a && a.file === file ? a : undefined;
  };
  // Records read before (berthd's) are noted where the generator would read them, once each:
  // berthd's translation for its reload looks where the generator's does (translate-run.ts).
  const noted = new Set<string>();
  const accepted =
    options.records !== undefined
      ? (base: string, file: string) => {
          if (dir !== undefined && !noted.has(base)) noteFile(recordFile(dir, base));
          noted.add(base);
          return ofFile(base, file);
        }
      : dir !== undefined
        ? (base: string, file: string) => {
            if (!records.has(base)) records.set(base, readAccepted(dir, base, warn));
            return ofFile(base, file);
          }
        : undefined;
  const built = buildSet(loaded, {
    docker: unitLiteral(dockerPath(env)),
    // The executables are bundled side by side in dist/.
    helper: [unitLiteral(process.execPath), unitLiteral(join(import.meta.dirname, "berth-container.js"))],
    step: unitLiteral(join(import.meta.dirname, "berth-step")),
    deviceExists: observedExists,
    scope: options.scope,
    dataDir: sharedDataDir(options.scope, env),
    credentials: hostCredentialStore(options.missingCredential ?? "warning"),
    searched: dirs,
    ...(accepted ? { accepted } : {}),
  });
  diagnostics = diagnostics.concat(built.diagnostics);
  const rejections = options.rejections ?? (dir === undefined ? new Map<string, Rejection>() : readRejections(dir));
  const unitOf = (t: Translated) => generatedUnit(t, options.definitionDigests);
  let output = accepted === undefined ? built.units.map(unitOf) : withAccepted(built, sources, diagnostics, accepted, rejections, unitOf);
  if (found.unlisted.length > 0 && accepted !== undefined) {
    output = withUnseen(found, dirs, options.records ?? readAllAccepted(dir!, warn), output, diagnostics);
  }
  // Set checks (a missing reference on each of thousands of lines) add to a file's count.
  return { ...built, diagnostics: capDiagnostics(diagnostics), dirs, sources, output };
}

/**
 * A definition with an error (its own, or one the set gives it) keeps its last accepted version
 * in effect. Without one, a definition with only set errors is still written as it is: systemd
 * copes with a missing dependency or a port clash, and the operator has been told.
 */
function withAccepted(
  built: BuiltSet,
  sources: readonly DefinitionSource[],
  diagnostics: Diagnostic[],
  accepted: (base: string, file: string) => AcceptedUnit | undefined,
  rejections: ReadonlyMap<string, Rejection>,
  unitOf: (t: Translated) => GeneratedUnit,
): GeneratedUnit[] {
  const failing = new Set(diagnostics.filter((d) => d.severity === "error").map((d) => d.file));
  const dropIns = new Map(sources.map((s) => [s.file, s.dropIns]));
  const writable = new Set(built.units);
  const output: GeneratedUnit[] = [];
  for (const t of built.all) {
    const files = [t.definition.file, ...(dropIns.get(t.definition.file) ?? [])];
    if (!files.some((f) => failing.has(f))) {
      if (!writable.has(t)) continue;
      // A version that was reverted stays reverted until the definition changes again.
      const key = definitionKey(t.definition.name);
      const rejected = rejections.size > 0 ? rejections.get(key) : undefined;
      const standIn = rejected && isRejected(rejected, t) ? accepted(key, t.definition.file) : undefined;
      if (rejected && standIn) {
        diagnostics.push(warning(t.definition.file, 0, `this version was reverted at ${rejected.at} (${rejected.why}); the version accepted at ${standIn.acceptedAt} stays in effect until the definition changes`));
        output.push({ ...standIn, acceptedFrom: standIn.acceptedAt, rejected });
      } else {
        output.push(unitOf(t));
      }
      continue;
    }
    // With errors of its own, only a stand-in that the set let keep its names is used.
    const standIn = writable.has(t) ? accepted(definitionKey(t.definition.name), t.definition.file) : built.standIns.get(t);
    if (standIn) {
      diagnostics.push(warning(t.definition.file, 0, `has errors; the version accepted at ${standIn.acceptedAt} stays in effect`));
      output.push({ ...standIn, acceptedFrom: standIn.acceptedAt });
    } else if (writable.has(t)) {
      output.push(unitOf(t));
    }
  }
  return output;
}

/**
 * The names a unit claims in the set, as buildSet() claims them: its unit name and aliases, and
 * the Docker name of what it makes (a container's, a network's or a volume's, each kind apart).
 */
function claims(u: GeneratedUnit): string[] {
  const type = u.type ?? "container";
  const docker = runsContainer(type) ? [`container ${u.containerName}`] : type === "network" || type === "volume" ? [`${type} ${u.resource ?? ""}`] : [];
  return [u.unitName, ...u.install.filter((e) => e.kind === "alias").map((e) => e.target), ...docker];
}

/** Where a file comes in the walk: its search directory, then its path below it, part by part in name order. */
function walkPlace(file: string, dirs: readonly string[]): [number, string[]] {
  const root = dirs.findIndex((d) => file.startsWith(dirPrefix(d)));
  return root < 0 ? [dirs.length, [file]] : [root, file.slice(dirPrefix(dirs[root]!).length).split("/")];
}

function walksBefore(a: [number, string[]], b: [number, string[]]): boolean {
  if (a[0] !== b[0]) return a[0] < b[0];
  for (let i = 0; i < Math.min(a[1].length, b[1].length); i++) if (a[1][i] !== b[1][i]) return a[1][i]! < b[1][i]!;
  return a[1].length < b[1].length;
}

/**
 * The definitions under a directory that could not be listed (EIO, EACCES…) are unknown, not
 * deleted: each one recorded there keeps its last accepted version, in its place in the walk. A
 * definition of its name found before it (or masked there) wins, as does a unit found before it
 * that claims one of its names; it wins over those found after it, which then have an error.
 */
export function withUnseen(found: Discovered, dirs: readonly string[], records: ReadonlyMap<string, AcceptedUnit>, output: GeneratedUnit[], diagnostics: Diagnostic[]): GeneratedUnit[] {
  let out = output;
  for (const [base, r] of records) {
    const lost = found.unlisted.find((u) => r.file === normalize(u.path) || r.file.startsWith(dirPrefix(u.path)));
    if (lost === undefined) continue;
    const place = walkPlace(r.file, dirs);
    const namesake = found.foundIn.get(base);
    if (namesake && walksBefore(walkPlace(namesake.file, dirs), place)) continue;
    const mine = new Set(claims(r));
    const clashing = out.filter((u) => u.base !== base && claims(u).some((c) => mine.has(c)));
    if (clashing.some((u) => walksBefore(walkPlace(u.file, dirs), place))) continue;
    const replaced = out.find((u) => u.base === base);
    diagnostics.push(warning(r.file, 0, `not seen (${lost.path} could not be listed); the version accepted at ${r.acceptedAt} stays in effect${replaced ? `, not ${replaced.file}` : ""}`));
    for (const u of clashing) diagnostics.push(error(u.file, 0, `its unit, alias or Docker name is already used by ${r.file} (its last accepted version: ${lost.path} could not be listed)`));
    out = [...out.filter((u) => u.base !== base && !clashing.includes(u)), { ...r, acceptedFrom: r.acceptedAt }];
  }
  return out;
}

/**
 * Whether a reverted version is still what the definition says: the same definition, into the same
 * container (a fixed `.image` it names changes only the latter). Rejections recorded before
 * definition digests compare the text.
 */
function isRejected(rejected: Rejection, t: Translated): boolean {
  if (rejected.source === undefined) return rejected.text === digest(t.text);
  return rejected.source === definitionDigest(t) && (rejected.spec === undefined || rejected.spec === t.spec);
}
