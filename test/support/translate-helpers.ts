import { parseDefinitionName } from "../../generator/names.js";
import type { Diagnostic } from "../../generator/diagnostics.js";
import { translateDefinition } from "../../generator/file-types.js";
import type { TranslateContext, Translated } from "../../generator/translate.js";
import { parseUnitFile } from "../../generator/unit-file.js";
import { splitWords } from "../../generator/words.js";

/**
 * Definitions every translation case can refer to, beside those a test gives: by key, the unit
 * and the Docker name of what it makes.
 */
export const REFERABLE: Record<string, { unit: string; resource: string }> = {
  "db.network": { unit: "db-network.service", resource: "systemd-db" },
  "named.network": { unit: "named-network.service", resource: "backend" },
  "data.volume": { unit: "data-volume.service", resource: "systemd-data" },
  "app.image": { unit: "app-image.service", resource: "registry.example/app:1" },
  "app.build": { unit: "app-build.service", resource: "localhost/app" },
  "web.pod": { unit: "web-pod.service", resource: "systemd-web" },
  "dns.network": { unit: "dns-network.service", resource: "systemd-dns" },
};

/** The credential store every translation case sees; any other name is missing from it. */
export const STORED_CREDENTIALS: Record<string, "plain" | "encrypted"> = { "db-password": "plain", "api-token": "encrypted" };

export const testContext = (defined: Record<string, string> = {}): TranslateContext => ({
  docker: "/usr/bin/docker", helper: ["/node", "/berth/container.js"], step: "/berth/berth-step", deviceExists: (p) => p === "/dev/kvm", scope: "system", dataDir: "/usr/share",
  credentials: { find: (name) => (Object.hasOwn(STORED_CREDENTIALS, name) ? STORED_CREDENTIALS[name] : undefined), missing: "warning" },
  resolve: (b) => defined[b] ?? REFERABLE[b]?.unit,
  resource: (b) => REFERABLE[b]?.resource,
  networkDns: (b) => (b === "dns.network" ? ["10.0.0.53", "10.0.0.54"] : []),
  containerOf: (b) => (defined[b] ? b.replace("@", "-") : undefined),
});

export function translateText(text: string, fileName = "svc.container", defined: Record<string, string> = {}): Translated {
  const t: ReturnType<typeof translateAll> = translateAll(text, fileName, defined);
  const parse = t.diagnostics.filter((d) => d.fromParser);
  if (parse.length) throw new Error(parse.map((d) => d.message).join("; "));
  return { ...t, diagnostics: t.diagnostics.filter((d) => !d.fromParser) };
}

/** Parses and translates one definition, with the parser's diagnostics first (marked) and translation's after. */
export function translateAll(text: string, fileName = "svc.container", defined: Record<string, string> = {}): Omit<Translated, "diagnostics"> & { diagnostics: Array<Diagnostic & { fromParser?: true }> } {
  const name = parseDefinitionName(fileName)!;
  const file = `/etc/berth/${fileName}`;
  const parsed = parseUnitFile(text, file);
  const t = translateDefinition({ name, file, files: [file], sections: parsed.sections }, testContext(defined));
  return { ...t, diagnostics: [...parsed.diagnostics.map((d) => ({ ...d, fromParser: true as const })), ...t.diagnostics] };
}

/** The values of `key=` lines in the rendered unit, in order. */
export function unitValues(t: Translated, key: string): string[] {
  return t.text.split("\n").filter((l) => l.startsWith(`${key}=`)).map((l) => l.slice(key.length + 1));
}

/** argv of an Exec line, read back the way systemd's parser reads it. */
export function execArgv(line: string): string[] {
  const r = splitWords(line.replace(/^[-@:+!]+/, ""));
  if (!r.ok) throw new Error(r.message);
  return r.words;
}

/**
 * The docker command of the unit: the `docker create` argv that `berth-step run` runs as `docker
 * run`, or what the helper's `ensure` runs (`docker network create`…), each after `--`; a build's
 * `docker build` as it stands.
 */
export function createArgv(t: Translated): string[] {
  const argv = unitValues(t, "ExecStart").map(execArgv)[0];
  if (!argv) throw new Error("no ExecStart line");
  return argv.includes("--") ? argv.slice(argv.indexOf("--") + 1) : argv;
}
