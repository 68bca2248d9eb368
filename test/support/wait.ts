/**
 * How long a test waits for something that must happen. It is a bound for when it never does,
 * far above what it takes on a slow machine (3-4x this one, and a busy dockerd), never a guess
 * at how long it takes: every wait ends as soon as the event it waits for is seen.
 */
export const PATIENCE_MS = 5 * 60_000;

/** Polls until `check` returns a value other than undefined/false, or fails after `ms`. */
export async function waitFor<T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>, ms = PATIENCE_MS): Promise<T> {
  const until = Date.now() + ms;
  for (;;) {
    const v = await check();
    if (v !== undefined && v !== false) return v;
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
