import { posix } from "node:path";
import type { ContainerSection } from "./container-section.js";

/** RestartOnChange= and ReloadOnChange=: berth's own keys, host paths that are a service's configuration. */
export interface ConfigPaths {
  restart: string[];
  reload: string[];
}

export const CONFIG_KEYS = { RestartOnChange: "restart", ReloadOnChange: "reload" } as const;

/**
 * The paths as berthd and the unit's start will both read them: literal absolute paths, since
 * berthd expands no specifiers. A path in both lists restarts (the stronger action wins).
 */
export function configPaths(c: ContainerSection, isTemplate: boolean, canReload: boolean): ConfigPaths | undefined {
  const out: ConfigPaths = { restart: [], reload: [] };
  for (const key in CONFIG_KEYS) {
    const kind = CONFIG_KEYS[key as keyof typeof CONFIG_KEYS];
    for (const { word, entry } of c.words(key)) {
      if (isTemplate) c.fail(entry, "not supported in a template: berthd watches the paths of the units it starts itself");
      else if (!word.startsWith("/")) c.fail(entry, `"${word}" is not an absolute path`);
      else if (word.includes("%")) c.fail(entry, `"${word}": specifiers are not expanded here; write the path itself`);
      else if (kind === "reload" && !canReload) c.fail(entry, "needs ReloadCmd= or ReloadSignal=, to tell the service to reload");
      else out[kind].push(posix.normalize(word).replace(/(.)\/$/, "$1"));
    }
  }
  out.reload = out.reload.filter((p) => !out.restart.includes(p));
  return out.restart.length + out.reload.length > 0 ? out : undefined;
}

/** The unit's ExecStartPre= that fingerprints the configuration; see runtime/container.ts. */
export function configCommand(helper: readonly string[], paths: ConfigPaths): string[] {
  const argv = helper.concat("config", "%n", "%t");
  for (const p of paths.restart) argv.push("--restart", p);
  for (const p of paths.reload) argv.push("--reload", p);
  return argv;
}

/** docker's --label-file: the label the ExecStartPre= above wrote, read when the container is created. */
export const CONFIG_LABEL_FILE = "%t/berth/config/%n.labels";
