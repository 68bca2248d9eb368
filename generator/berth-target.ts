import type { GeneratedUnit } from "./generated-unit.js";
import { GENERATED_HEADER } from "./labels.js";
import type { Scope } from "./search-path.js";

/**
 * berth.target pulls in every definition that has no [Install] section, and is itself wanted by
 * the boot target. One unit file instead of a symlink per service keeps the generator's writes
 * down, and `systemctl list-dependencies berth.target` lists what berth starts at boot.
 */
export function berthTarget(units: readonly GeneratedUnit[], scope: Scope): Pick<GeneratedUnit, "unitName" | "text" | "install"> | undefined {
  const wanted = units.filter((u) => u.wantedAtBoot).map((u) => u.unitName);
  if (wanted.length === 0) return undefined;
  let wants = "";
  // Short lines read better in `systemctl cat`; systemd joins repeated Wants= anyway.
  for (let i = 0; i < wanted.length; i += 16) wants += `Wants=${wanted.slice(i, i + 16).join(" ")}\n`;
  const boot = scope === "system" ? "multi-user.target" : "default.target";
  return {
    unitName: "berth.target",
    text: `${GENERATED_HEADER}: the services defined without an [Install] section.\n[Unit]\nDescription=berth services\nDocumentation=man:berth.container(5)\n${wants}`,
    install: [{ kind: "wants", target: boot, unit: "berth.target" }],
  };
}
