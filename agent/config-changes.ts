import { compareConfig, type ConfigChange, type ConfigState } from "../generator/config-manifest.js";
import type { GeneratedUnit } from "../generator/generated-unit.js";
import { configStateFile, readConfigState, readManifest, writeAtomically } from "../runtime/config-files.js";

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
