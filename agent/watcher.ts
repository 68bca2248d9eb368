import { watch, type FSWatcher } from "chokidar";
import { basename } from "node:path";
import { isTransientName } from "../generator/config-manifest.js";
import { isQuadletFile } from "../generator/names.js";

/**
 * Collects paths and hands them over once no new one has come for `quietMs`, but never later
 * than `maxWaitMs` after the first, so a steady stream of writes still gets served.
 */
export function debounced(onChange: (paths: string[]) => void, quietMs: number, maxWaitMs: number): { add(path: string): void; cancel(): void } {
  let pending: string[] = [];
  let timer: NodeJS.Timeout | undefined;
  let first = 0;
  const fire = (): void => {
    timer = undefined;
    const paths = pending;
    pending = [];
    onChange(paths);
  };
  return {
    add(path) {
      pending.push(path);
      const now = Date.now();
      if (!timer) first = now;
      clearTimeout(timer);
      timer = setTimeout(fire, Math.max(0, Math.min(quietMs, first + maxWaitMs - now)));
    },
    cancel() {
      clearTimeout(timer);
      timer = undefined;
      pending = [];
    },
  };
}

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
  const batch = debounced(onChange, quietMs, maxWaitMs);
  const relevant = (path: string): boolean => {
    const name = basename(path);
    // Dot-files are temporaries (Ansible, vim); the rename into place is the event that counts.
    return !name.startsWith(".") && (isQuadletFile(name) || name.endsWith(".conf") || name.endsWith(".d"));
  };
  const watcher: FSWatcher = watch([...dirs], { ignoreInitial: true, followSymlinks: true, depth: 8 });
  // Out of inotify watches, a permission error…: keep running; the periodic resync still applies changes.
  watcher.on("error", (e) => onError(e as Error));
  watcher.on("all", (_event, path) => {
    if (relevant(path)) batch.add(path);
  });
  return {
    close: async () => {
      batch.cancel();
      await watcher.close();
    },
  };
}

/**
 * Watches the configuration paths of the services (RestartOnChange=, ReloadOnChange=), which
 * change as definitions do: `set()` after each reconcile. A tool's burst of writes becomes one
 * request; files on their way into place are not changes of their own.
 */
export function watchConfiguration(
  onChange: (paths: string[]) => void,
  onError: (e: Error) => void,
  quietMs = 100,
  maxWaitMs = 2000,
): { set(paths: readonly string[]): void; close(): Promise<void> } {
  const batch = debounced(onChange, quietMs, maxWaitMs);
  let watched = new Set<string>();
  let watcher: FSWatcher | undefined;
  return {
    set(paths) {
      const next = new Set(paths);
      const added = [...next].filter((p) => !watched.has(p));
      const removed = [...watched].filter((p) => !next.has(p));
      watched = next;
      if (!watcher && added.length > 0) {
        watcher = watch(added, { ignoreInitial: true, followSymlinks: true, depth: 32 });
        watcher.on("error", (e) => onError(e as Error));
        watcher.on("all", (_event, path) => {
          if (!isTransientName(basename(path))) batch.add(path);
        });
        return;
      }
      if (added.length > 0) watcher?.add(added);
      if (removed.length > 0) watcher?.unwatch(removed);
    },
    close: async () => {
      batch.cancel();
      await watcher?.close();
    },
  };
}

/** "keystone.container changed", or for a burst "50 files changed (a.container, b.container, …)". */
export function describeChanges(paths: readonly string[]): string {
  const names = [...new Set(paths.map((p) => basename(p)))];
  if (names.length <= 3) return `${names.join(", ")} changed`;
  return `${names.length} files changed (${names.slice(0, 3).join(", ")}, …)`;
}
