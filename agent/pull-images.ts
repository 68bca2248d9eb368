import { expandedAtStart } from "../generator/exec-line.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import type { Failure, Progress, ReconcileContext } from "./reconcile.js";

/** How often a pull's byte count reaches the journal and the status file. */
const PROGRESS_EVERY_MS = 2_000;

/**
 * Pulls every image the units need and the host lacks, all at once (each image once, however many
 * units use it). Resolves with the units whose image could not be pulled, each with the reason.
 */
export async function pullImages(ctx: ReconcileContext, units: readonly GeneratedUnit[], progress: (p: Progress) => void): Promise<Failure[]> {
  const { log } = ctx;
  const byImage = new Map<string, string[]>();
  for (const u of units) {
    const image = u.image;
    // An image that a .image or .build unit provides is that unit's to pull or build; one with
    // specifiers or variables is known only to the unit.
    if (!image || u.pull === "never" || u.imageFrom !== undefined || expandedAtStart(image)) continue;
    byImage.set(image, [...(byImage.get(image) ?? []), u.unitName]);
  }
  const missing = [];
  for (const [image, names] of byImage) if (!(await ctx.docker.hasImage(image).catch(() => true))) missing.push({ image, names });
  if (missing.length === 0) return [];
  log.info(`pulling ${missing.length} image${missing.length === 1 ? "" : "s"} before anything restarts: ${missing.map((m) => m.image).join(", ")}`);
  const results = await Promise.all(missing.map(async ({ image, names }) => {
    let said = 0;
    const bytes = (current: number, total: number): void => {
      progress({ kind: "pull", image, units: names, current, total, done: false });
      if (Date.now() - said < PROGRESS_EVERY_MS) return;
      said = Date.now();
      log.info(`${image}: ${mib(current)} of ${mib(total)} MiB`);
    };
    try {
      await ctx.docker.pull(image, (line) => log.info(`${names.join(", ")}: ${image}: ${line}`), bytes);
      log.info(`${image}: pulled`);
      progress({ kind: "pull", image, units: names, current: 1, total: 1, done: true });
      return [];
    } catch (e) {
      return names.map((unit) => ({ unit, message: `cannot pull ${image}: ${(e as Error).message}; nothing was restarted, every running container is left as it is` }));
    }
  }));
  return results.flat();
}

const mib = (n: number): string => (n / 1024 / 1024).toFixed(1);
