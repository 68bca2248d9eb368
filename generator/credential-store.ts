import { observedExists } from "./observed-fs.js";
import type { Severity } from "./diagnostics.js";
import type { CredentialStore, StoredAs } from "./secret-keys.js";

/**
 * Where systemd 252 looks for `LoadCredential=NAME` given without a path: `credstore/` under
 * each of these, in this order (checked on 252: /etc before /run, and /usr/local/lib is searched
 * although its man page names only the other three). `LoadCredentialEncrypted=NAME` looks in
 * `credstore.encrypted/` first, and decrypts whatever it finds, so it fails on a plain file.
 */
const STORE_ROOTS = ["/etc", "/run", "/usr/local/lib", "/usr/lib"];

const inStore = (dir: string, name: string): boolean => STORE_ROOTS.some((root) => observedExists(`${root}/${dir}/${name}`));

/**
 * The host's credential store, as the generator sees it when it runs. Whether a credential is
 * encrypted decides the unit's directive, since systemd 252 keeps only the last of
 * `LoadCredential=` and `LoadCredentialEncrypted=` for one name.
 */
export function hostCredentialStore(missing: Severity): CredentialStore {
  return {
    missing,
    find: (name): StoredAs => (inStore("credstore.encrypted", name) ? "encrypted" : inStore("credstore", name) ? "plain" : undefined),
  };
}
