import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_KEYS } from "../generator/build-unit.js";
import { CONTAINER_KEYS } from "../generator/container-keys.js";
import { IMAGE_KEYS } from "../generator/image-unit.js";
import type { KeyTable } from "../generator/key-rules.js";
import { NETWORK_KEYS } from "../generator/network-unit.js";
import { POD_KEYS } from "../generator/pod-unit.js";
import { VOLUME_KEYS } from "../generator/volume-unit.js";
import { repo } from "./support/run.js";

const man = readFileSync(join(repo, "docs/berth.container.5.md"), "utf8");

/** The keys in the first column of the man page's table under `### [Section]`. */
function documentedKeys(section: string): string[] {
  const start = man.indexOf(`### [${section}]`);
  expect(start, `a "### [${section}]" section in the man page`).toBeGreaterThan(0);
  const body = man.slice(man.indexOf("\n", start));
  const end = body.search(/^##/m);
  const rows = body.slice(0, end < 0 ? undefined : end).split("\n").filter((l) => l.startsWith("| `"));
  return rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Za-z0-9]+)=`/g)].map((m) => m[1]!));
}

describe("the man page documents every key of each file type's table, and no other", () => {
  it.each([["Network", NETWORK_KEYS], ["Volume", VOLUME_KEYS], ["Image", IMAGE_KEYS], ["Build", BUILD_KEYS], ["Pod", POD_KEYS]] as Array<[string, KeyTable]>)("[%s]", (section, table) => {
    expect(documentedKeys(section).sort()).toEqual(Object.keys(table).sort());
  });
});

/** The keys in the first column of every table between two top-level headings of the man page. */
function keysBetween(from: string, to: string): string[] {
  const body = man.slice(man.indexOf(from), man.indexOf(to));
  const rows = body.split("\n").filter((l) => l.startsWith("| `"));
  return [...new Set(rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Z][A-Za-z0-9]*)=/g)].map((m) => m[1]!)))];
}

/** The [Container] keys of the table with the given support: translated, refused or ignored. */
const containerKeys = (support: "translated" | "refused" | "ignored"): string[] =>
  Object.keys(CONTAINER_KEYS).filter((k) => {
    const kind = CONTAINER_KEYS[k]!.kind;
    return support === "translated" ? kind !== "refused" && kind !== "ignored" : kind === support;
  });

/** The man page's rows of the refusals tables: each key, and its second column (error or warning, for a key's row). */
function refusalRows(): Map<string, string> {
  const body = man.slice(man.indexOf("## QUADLET KEYS DOCKER CANNOT HONOUR"), man.indexOf("## UNKNOWN KEYS"));
  const rows = new Map<string, string>();
  for (const row of body.split("\n").filter((l) => l.startsWith("| `"))) {
    const cells = row.split("|").map((c) => c.trim());
    for (const m of cells[1]!.matchAll(/`([A-Z][A-Za-z0-9]*)=/g)) rows.set(m[1]!, cells[2]!);
  }
  return rows;
}

describe("the man page documents every [Container] key of the key table, with its support", () => {
  it("THE [Container] SECTION lists exactly the keys that are translated", () => {
    expect(keysBetween("## THE [Container] SECTION", "## QUADLET KEYS DOCKER CANNOT HONOUR").sort()).toEqual(containerKeys("translated").sort());
  });

  it("QUADLET KEYS DOCKER CANNOT HONOUR lists exactly the keys refused or ignored with a reason", () => {
    // Rows for values of keys berth knows (`UserNS=keep-id`, `Network=pasta`) are refusals of a value, not of a key.
    const translated = new Set(containerKeys("translated"));
    const refused = [...refusalRows().keys()].filter((k) => !translated.has(k));
    expect(refused.sort()).toEqual(containerKeys("refused").concat(containerKeys("ignored")).sort());
  });

  it("says of each refused key that it is an error, and of each ignored one that it is a warning", () => {
    const rows = refusalRows();
    for (const key of containerKeys("refused")) expect(rows.get(key), key).toBe("error");
    for (const key of containerKeys("ignored")) expect(rows.get(key), key).toBe("warning");
  });
});

describe("every key of each file type's table has a translation case (test/cases/translate)", () => {
  const cases = join(repo, "test/cases/translate");
  const caseText = (suffix: string) =>
    readdirSync(cases).filter((f) => f.endsWith(suffix)).map((f) => readFileSync(join(cases, f), "utf8")).join("\n");
  it.each([[".container", CONTAINER_KEYS], [".network", NETWORK_KEYS], [".volume", VOLUME_KEYS], [".image", IMAGE_KEYS], [".build", BUILD_KEYS], [".pod", POD_KEYS]] as Array<[string, KeyTable]>)("%s", (suffix, table) => {
    const text = caseText(suffix);
    expect(Object.keys(table).filter((key) => !new RegExp(`^${key}=`, "m").test(text))).toEqual([]);
  });
});
