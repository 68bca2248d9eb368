import type { ContainerSection } from "./container-section.js";
import type { Severity } from "./diagnostics.js";
import type { Entry } from "./unit-file.js";

/**
 * `Secret=NAME[,type=mount|env][,target=…]`, Podman's syntax, on systemd's credentials: the unit
 * loads credential NAME from the host's credential store, and the container gets it as a file
 * bind-mounted read-only from the unit's credentials directory, or as an environment variable
 * that berth-step exports into the docker CLI's own environment. The value itself is never in
 * the unit, on a command line, or in the journal.
 */

/** How the host's credential store holds a credential, as systemd 252 searches it; undefined if it does not. */
export type StoredAs = "encrypted" | "plain" | undefined;

export interface CredentialStore {
  find(name: string): StoredAs;
  /**
   * How a credential missing from the store is reported. The definition is not wrong, the host
   * lacks the credential: the generator writes the unit (the credential may come later, and
   * each start loads it afresh), while a check against this host's own set can refuse it.
   */
  missing: Severity;
}

export interface Secrets {
  /** `docker create` options: a bind mount of the credential, or `--env TARGET` without a value. */
  readonly args: readonly string[];
  /** berth-step's words: NAME for a credential that must be there, TARGET=NAME for one it exports as TARGET. */
  readonly step: readonly string[];
  /** [Service] lines that load the credentials. */
  readonly service: readonly string[];
}

/** Most definitions have no secret; they share this rather than each making garbage of its own. */
export const NO_SECRETS: Secrets = { args: [], step: [], service: [] };

/** A systemd credential ID (a file name, and no `:`), kept to characters that need no quoting anywhere. */
const NAME = /^[A-Za-z0-9_][A-Za-z0-9_.-]{0,254}$/;
/** A name `export` takes: berth-step passes the value through the shell's environment. */
const ENV_NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Docker's --mount is comma-separated, and a quote would start CSV quoting. */
const PATH_UNSAFE = /[,"\x00-\x1f\x7f]/;
const SECRETS_DIR = "/run/secrets";
/**
 * What the container's file is: systemd's credential itself, which systemd 252 makes owned by the
 * unit's user (root) with mode 0400. A bind mount cannot change either.
 */
const FILE_OWNER = { uid: 0, gid: 0, mode: 0o400 };
/** Podman's options that set the file's owner and mode, as it spells them. */
const OWNER_OPTIONS: Readonly<Record<string, keyof typeof FILE_OWNER>> = { uid: "uid", UID: "uid", gid: "gid", GID: "gid", mode: "mode" };
/** Keys of the [Service] section with which a definition loads a credential itself (`ID:PATH`). */
const OWN_CREDENTIAL_KEYS = new Set(["LoadCredential", "LoadCredentialEncrypted", "SetCredential", "SetCredentialEncrypted"]);

interface Secret {
  name: string;
  type: "mount" | "env";
  target: string;
}

/** One Secret= value read as Podman reads `--secret`, or why it cannot be honoured. */
function parseSecret(value: string): Secret | string {
  const parts = value.split(",");
  let name = parts[0]!.includes("=") ? undefined : parts.shift();
  let type: string | undefined;
  let target: string | undefined;
  /** uid=, gid= and mode= as written, by what they set. */
  const owner: Partial<Record<keyof typeof FILE_OWNER, string>> = {};
  for (const part of parts) {
    const eq = part.indexOf("=");
    if (eq < 0) return `"${part}" must be OPTION=VALUE`;
    const option = part.slice(0, eq);
    const v = part.slice(eq + 1);
    if (option === "source") name = v;
    else if (option === "type") {
      if (type !== undefined) return "type= is given twice";
      type = v;
    } else if (option === "target") target = v;
    else if (Object.hasOwn(OWNER_OPTIONS, option)) owner[OWNER_OPTIONS[option]!] = part;
    else return `unknown option "${option}" (Podman's are source, type, target, uid, gid and mode)`;
  }
  if (!name) return "names no secret (NAME or source=NAME)";
  if (!NAME.test(name)) return `"${name}" is not a credential name: letters, digits, _, . and -, not starting with . or -`;
  if (type !== undefined && type !== "mount" && type !== "env") return `type must be mount or env, found "${type}"`;
  const owned = Object.keys(owner);
  if (type === "env") {
    if (owned.length > 0) return "uid=, gid= and mode= apply to type=mount only";
    const variable = target ?? name;
    return ENV_NAME.test(variable) ? { name, type, target: variable } : `"${variable}" is not a variable name for type=env ([A-Za-z_][A-Za-z0-9_]*; give one with target=)`;
  }
  for (const key of owned as Array<keyof typeof FILE_OWNER>) {
    const written = owner[key]!;
    const v = written.slice(written.indexOf("=") + 1);
    const n = /^\d+$/.test(v) ? Number.parseInt(v, key === "mode" ? 8 : 10) : Number.NaN;
    if (n !== FILE_OWNER[key]) {
      return `${written}: the container gets systemd's credential file itself, owned by root with mode 0400, and a bind mount cannot change that; ` +
        "a process that is not root in the container cannot read it: use type=env, or read the file as root before dropping privileges";
    }
  }
  const path = target === undefined ? `${SECRETS_DIR}/${name}` : target.startsWith("/") ? target : `${SECRETS_DIR}/${target}`;
  if (target === "" || PATH_UNSAFE.test(path)) return `target "${target}" is no path Docker's --mount can take (no commas, quotes or control characters)`;
  return { name, type: "mount", target: path };
}

/** The [Service] assignments of the definition that load credential `name` themselves. */
function loadedByDefinition(service: readonly Entry[] | undefined, name: string): boolean {
  return service !== undefined && service.some((e) => OWN_CREDENTIAL_KEYS.has(e.key) && e.value.split(":")[0] === name);
}

/**
 * The Secret= lines of a container. A credential is loaded once however many Secret= use it,
 * encrypted when the store holds it encrypted; a definition's own `[Service] LoadCredential=NAME:PATH`
 * (or SetCredential=) takes over loading it, and the store is not asked.
 */
export function secretOptions(c: ContainerSection, service: readonly Entry[] | undefined, store: CredentialStore): Secrets {
  const entries = c.entries("Secret");
  if (entries.length === 0) return NO_SECRETS;
  const out = { args: [] as string[], step: [] as string[], service: [] as string[] };
  const targets = new Map<string, Entry>();
  const loaded = new Set<string>();
  for (const e of entries) {
    const s = parseSecret(e.value);
    if (typeof s === "string") {
      c.fail(e, s);
      continue;
    }
    const claim = `${s.type} ${s.target}`;
    const earlier = targets.get(claim);
    if (earlier) {
      c.fail(e, `${s.type === "env" ? "variable" : "path"} ${s.target} is already the target of the Secret= at line ${earlier.line}`);
      continue;
    }
    targets.set(claim, e);
    if (s.type === "env") {
      out.args.push("--env", s.target);
      out.step.push(`${s.target}=${s.name}`);
    } else {
      // %d is the unit's credentials directory, a mount in the host's namespace that dockerd sees.
      out.args.push("--mount", `type=bind,source=%d/${s.name},target=${s.target},readonly`);
      out.step.push(s.name);
    }
    if (loaded.has(s.name) || loadedByDefinition(service, s.name)) continue;
    loaded.add(s.name);
    const stored = store.find(s.name);
    out.service.push(`${stored === "encrypted" ? "LoadCredentialEncrypted" : "LoadCredential"}=${s.name}`);
    if (stored === undefined) {
      const problem = `credential "${s.name}" is not in this host's credential store (/etc/credstore/${s.name} or /etc/credstore.encrypted/${s.name}, ` +
        "or /run/, /usr/local/lib/, /usr/lib/); the container will not start without it";
      if (store.missing === "error") c.fail(e, problem);
      else c.warn(e, problem);
    }
  }
  return out;
}
