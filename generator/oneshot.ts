import type { ContainerSection } from "./container-section.js";
import type { Definition } from "./translate.js";

/** Whether `[Service]` makes the unit `Type=oneshot` (the last `Type=` wins, as in systemd). */
export function isOneshot(def: Definition): boolean {
  const service = def.sections.get("Service") ?? [];
  for (let i = service.length - 1; i >= 0; i--) if (service[i]!.key === "Type") return service[i]!.value === "oneshot";
  return false;
}

/**
 * A oneshot unit is started once its container has exited 0: its main process is the attached run,
 * and systemd counts the start done when that exits. Nothing runs after the container to wait for,
 * so the keys about waiting for health do not apply.
 */
export function refuseReadinessKeys(c: ContainerSection): void {
  const notify = c.single("Notify");
  if (notify?.value.toLowerCase() === "healthy") c.fail(notify, "a Type=oneshot unit is ready when its container has exited 0; there is no health to wait for");
  const onFailure = c.single("HealthOnFailure");
  if (onFailure && onFailure.value.toLowerCase() !== "none") c.fail(onFailure, "a Type=oneshot unit is done when its container has exited; nothing watches its health");
}
