import fc from "fast-check";
import { UNIT_REFERENCE_KEYS } from "../../generator/unit-section.js";
import type { Sections } from "../../generator/unit-file.js";
import { readAsSystemd } from "./systemd-reader.js";

/** The keys berth writes before a definition's own [Unit] lines (system scope) … */
export const BERTH_UNIT_KEYS = ["Description", "Documentation", "SourcePath", "Wants", "After", "Wants", "After", "StartLimitIntervalSec"];
/** … and the keys it may write before a definition's own [Service] lines. */
export const BERTH_SERVICE_KEYS = ["Type", "SyslogIdentifier", "ExecStart", "ExecStartPost", "ExecStop", "ExecStopPost", "SuccessExitStatus", "TimeoutStopSec", "Restart", "RestartSec", "ExecReload", "LoadCredential", "LoadCredentialEncrypted"];

/** Pieces an attacker or a clumsy editor puts into values: escapes, line ends, quoting, specifiers, headers. */
const FRAGMENTS = [
  "\\n", "\\x0a", "\\012", "\\r", "\\\\", "\\", "\\;", "\\x25", "\\045", "\\u0025", "\\xe9", "\\uD800", "%", "%%", "%i", "%z",
  '"', "'", "\r", "\0", "\n", "\r\n", "\n\r", " ", "\t", "\u00a0", "\uFEFF", "é", "✓", "=", ";", "#", "$HOME", "${X}",
  "[Service]", "[Unit]", "[X-Evil]", "ExecStartPre=/bin/evil", "PwnedKey=1", "x.container", "a.service", "A=1", "1-65535:1-65535",
  "99999999999999999999", "-1", "yes", "healthy", "/dev/kvm", '["sh","-c"]',
];
const KEYS = [
  "Image", "Exec", "Entrypoint", "Environment", "Label", "Volume", "PublishPort", "Network", "HealthCmd", "Notify", "StopTimeout",
  "StopSignal", "HealthRetries", "PidsLimit", "ReloadCmd", "ReloadSignal", "DockerArgs", "ContainerName", "User", "Group",
  "ReadOnly", "RunInit", "Pull", "AddDevice", "Ulimit", "Memory", "Pod", "Secret", "FutureKey",
  ...UNIT_REFERENCE_KEYS, "Description", "ExecStartPre", "TimeoutStartSec", "WantedBy", "RequiredBy", "DefaultInstance", "X-Key",
];
const SECTIONS = ["[Unit]", "[Service]", "[Container]", "[Install]", "[X-Mine]", "[Quadlet]", "[Bad", "[a\"b]"];

const fragment = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...FRAGMENTS) },
  { weight: 2, arbitrary: fc.constantFrom("a", "b", "svc", "busybox", "1", "80:80") },
  { weight: 1, arbitrary: fc.string({ unit: "binary", maxLength: 6 }) },
);
const value = fc.array(fragment, { maxLength: 6 }).map((parts) => parts.join(""));
const line = fc.oneof(
  { weight: 6, arbitrary: fc.tuple(fc.constantFrom(...KEYS), value, fc.constantFrom("", "\\", "\\\\")).map(([k, v, end]) => `${k}=${v}${end}`) },
  { weight: 2, arbitrary: fc.constantFrom(...SECTIONS) },
  { weight: 1, arbitrary: value },
  { weight: 1, arbitrary: value.map((v) => `# ${v}`) },
);

/** A definition that starts valid and goes on with arbitrary, mostly hostile, lines. */
export function hostileDefinition(): fc.Arbitrary<string> {
  return fc.array(line, { maxLength: 20 }).map((lines) => ["[Container]", "Image=busybox", ...lines, ""].join("\n"));
}

/** The only problems that belong to a whole file (line 0) rather than to a line of it. */
export const WHOLE_FILE = /^(no \[Container\] section|Image= is required|… and \d+ more$|the unit's \w+= line would be|\[Install\] of a template needs)/;

const OWN_SECTIONS = new Set(["Unit", "Service", "Container", "Install", "Quadlet"]);
const same = (a: unknown, b: unknown): boolean => JSON.stringify(a) === JSON.stringify(b);

/**
 * How a rendered unit, read by an independent reader of systemd's rules, differs from what berth
 * meant to write for the definition's sections, or undefined when it does not: exactly berth's
 * sections, berth's own lines followed by the definition's, one ExecStart=, copied values intact.
 */
export function misreadOf(unitText: string, sections: Sections): string | undefined {
  const reading = readAsSystemd(unitText);
  if (reading.problems.length > 0) return `systemd would complain: ${reading.problems.join("; ")}`;
  const copied = [...sections.keys()].filter((s) => !OWN_SECTIONS.has(s));
  if (!same(reading.sections, ["Unit", "Service", ...copied])) return `sections ${JSON.stringify(reading.sections)}`;
  const read = (section: string) => reading.directives.filter((d) => d.section === section);
  const written = (section: string) => (sections.get(section) ?? []).map((e) => ({ section, key: e.key, value: e.value }));
  const unitKeys = read("Unit").map((d) => d.key);
  // Between berth's own lines and the definition's: the Requires=/After= pairs of what it uses (a network, a volume, another container's network).
  const writtenKeys = written("Unit").map((d) => d.key);
  const between = unitKeys.slice(BERTH_UNIT_KEYS.length, unitKeys.length - writtenKeys.length);
  if (!same(unitKeys.slice(0, BERTH_UNIT_KEYS.length), BERTH_UNIT_KEYS) || !same(unitKeys.slice(unitKeys.length - writtenKeys.length), writtenKeys) || between.some((k) => k !== "Requires" && k !== "After")) {
    return `[Unit] keys ${JSON.stringify(unitKeys)}`;
  }
  const service = read("Service");
  const own = service.slice(0, service.length - written("Service").length);
  if (!own.every((d) => BERTH_SERVICE_KEYS.includes(d.key)) || own.filter((d) => d.key === "ExecStart").length !== 1) return `[Service] keys ${JSON.stringify(service.map((d) => d.key))}`;
  for (const s of ["Service", ...copied]) {
    const tail = read(s).slice(s === "Service" ? own.length : 0);
    if (!same(tail, written(s))) return `[${s}] ${JSON.stringify(tail)} is not ${JSON.stringify(written(s))}`;
  }
  return undefined;
}
