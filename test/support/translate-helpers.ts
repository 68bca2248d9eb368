import { parseDefinitionName } from "../../generator/names.js";
import { translate, type Translated } from "../../generator/translate.js";
import { parseUnitFile } from "../../generator/unit-file.js";
import { splitWords } from "../../generator/words.js";

export function translateText(text: string, fileName = "svc.container", defined: Record<string, string> = {}): Translated {
  const name = parseDefinitionName(fileName)!;
  const parsed = parseUnitFile(text, `/etc/berth/${fileName}`);
  if (parsed.diagnostics.length) throw new Error(parsed.diagnostics.map((d) => d.message).join("; "));
  return translate(
    { name, file: `/etc/berth/${fileName}`, sections: parsed.sections },
    { docker: "/usr/bin/docker", helper: ["/node", "/berth/container.js"], step: "/berth/berth-step", deviceExists: (p) => p === "/dev/kvm", scope: "system", resolve: (b) => defined[b] },
  );
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

/** The `docker create` argv of the unit: what `berth-step run` runs as `docker run`, after `--`. */
export function createArgv(t: Translated): string[] {
  const argv = unitValues(t, "ExecStart").map(execArgv).find((a) => a[1] === "run");
  if (!argv) throw new Error("no run line");
  return argv.slice(argv.indexOf("--") + 1);
}
