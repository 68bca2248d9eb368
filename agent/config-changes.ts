import { compareConfig, type ConfigChange, type ConfigState } from "../generator/config-manifest.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import type { Scope } from "../generator/search-path.js";
import { configStateFile, readConfigState, readManifest, writeAtomically } from "../runtime/config-files.js";

/** systemd's `%t`: where the units' starts leave their configuration state. */
export function runtimeDir(scope: Scope, env: NodeJS.ProcessEnv = process.env): string {
  return scope === "system" ? "/run" : env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.() ?? 0}`;
}

export interface ConfigNow {
  change: ConfigChange;
  /** Recorded once the unit has reloaded, so the next look compares with what it now runs. */
  afterReload: () => void;
}

/** What changed in a running unit's configuration files, read from disk now. */
export function configNow(unit: GeneratedUnit, runningLabel: string | undefined, dir: string): ConfigNow | undefined {
  if (!unit.config || runningLabel === undefined) return undefined;
  const file = configStateFile(dir, unit.unitName);
  const state = readConfigState(file);
  const now = { restart: readManifest(unit.config.restart), reload: readManifest(unit.config.reload) };
  return {
    change: compareConfig(state, now, runningLabel),
    afterReload: () => {
      const next: ConfigState = { label: runningLabel, restart: state?.label === runningLabel ? state.restart : now.restart, reload: now.reload };
      writeAtomically(file, JSON.stringify(next) + "\n");
    },
  };
}
