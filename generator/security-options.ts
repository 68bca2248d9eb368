import type { ContainerSection } from "./container-section.js";
import { maskOptions } from "./masked-paths.js";

const SECURITY_LABELS: Readonly<Record<string, string>> = {
  SecurityLabelType: "type", SecurityLabelLevel: "level", SecurityLabelFileType: "filetype",
};

/** The `--security-opt` values of a definition: SecurityOpt= as written, then what the security keys ask for. */
export function securityOptions(c: ContainerSection): string[] {
  const opts = c.entries("SecurityOpt").map((e) => e.value).concat(maskOptions(c));
  if (c.bool("NoNewPrivileges")) opts.push("no-new-privileges");
  const apparmor = c.value("AppArmor");
  if (apparmor !== undefined) opts.push(`apparmor=${apparmor}`);
  const seccomp = c.value("SeccompProfile");
  if (seccomp !== undefined) opts.push(`seccomp=${seccomp}`);
  if (c.bool("SecurityLabelDisable")) opts.push("label=disable");
  if (c.bool("SecurityLabelNested")) c.fail(c.single("SecurityLabelNested")!, "Docker has no nested SELinux label (label=nested); a container that runs containers needs Privileged=yes or its own SELinux policy");
  for (const key in SECURITY_LABELS) {
    const v = c.value(key);
    if (v !== undefined) opts.push(`label=${SECURITY_LABELS[key]}:${v}`);
  }
  return opts;
}
