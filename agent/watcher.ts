import { watch, type FSWatcher } from "chokidar";
import { basename } from "node:path";
import { hasDefinitionSuffix } from "../generator/names.js";

/**
 * Turns file system events in the definition directories into reconcile requests. Events are
 * only hints: editors and configuration tools write temporary files and rename them into place,
 * often many at once, so requests are debounced into one, and the reconcile rereads everything.
 */
export function watchDefinitions(
  dirs: readonly string[],
  onChange: (paths: string[]) => void,
  onError: (e: Error) => void,
  quietMs = 50,
  maxWaitMs = 2000,
): { close(): Promise<void> } {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  const fire = (): void => {
    timer = undefined;
    const paths = pending;
    pending = [];
    onChange(paths);
  };
  const relevant = (path: string): boolean => {
    const name = basename(path);
    // Dot-files are temporaries (Ansible, vim); the rename into place is the event that counts.
    return !name.startsWith(".") && (hasDefinitionSuffix(name) || name.endsWith(".conf") || name.endsWith(".d"));
  };
  const watcher: FSWatcher = watch([...dirs], { ignoreInitial: true, followSymlinks: true, depth: 8 });
  // Out of inotify watches, a permission error…: keep running; the periodic resync still applies changes.
  watcher.on("error", (e) => onError(e as Error));
  watcher.on("all", (_event, path) => {
    if (!relevant(path)) return;
    pending.push(path);
    const now = Date.now();
    if (!timer) first = now;
    clearTimeout(timer);
    // Wait for a quiet moment, but never longer than maxWaitMs under a steady stream of writes.
    timer = setTimeout(fire, Math.max(0, Math.min(quietMs, first + maxWaitMs - now)));
  });
  return {
    close: async () => {
      clearTimeout(timer);
      await watcher.close();
    },
  };
}

/** "keystone.container changed", or for a burst "50 files changed (a.container, b.container, …)". */
export function describeChanges(paths: readonly string[]): string {
  const names = [...new Set(paths.map((p) => basename(p)))];
  if (names.length <= 3) return `${names.join(", ")} changed`;
  return `${names.length} files changed (${names.slice(0, 3).join(", ")}, …)`;
}
