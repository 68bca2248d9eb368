import { readFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { BUILD_KEYS } from "../generator/build-unit.js";
import { UNSUPPORTED } from "../generator/container-keys.js";
import { KNOWN_KEYS } from "../generator/translate.js";
import { IMAGE_KEYS } from "../generator/image-unit.js";
import type { KeyTable } from "../generator/key-rules.js";
import { NETWORK_KEYS } from "../generator/network-unit.js";
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
  it.each([["Network", NETWORK_KEYS], ["Volume", VOLUME_KEYS], ["Image", IMAGE_KEYS], ["Build", BUILD_KEYS]] as Array<[string, KeyTable]>)("[%s]", (section, table) => {
    expect(documentedKeys(section).sort()).toEqual(Object.keys(table).sort());
  });
});

/** The keys in the first column of every table between two top-level headings of the man page. */
function keysBetween(from: string, to: string): string[] {
  const body = man.slice(man.indexOf(from), man.indexOf(to));
  const rows = body.split("\n").filter((l) => l.startsWith("| `"));
  return [...new Set(rows.flatMap((row) => [...row.split("|")[1]!.matchAll(/`([A-Z][A-Za-z0-9]*)=/g)].map((m) => m[1]!)))];
}

describe("the man page documents every [Container] key berth knows, and every Quadlet key it refuses or ignores", () => {
  it("THE [Container] SECTION lists exactly the keys that are translated", () => {
    expect(keysBetween("## THE [Container] SECTION", "## QUADLET KEYS DOCKER CANNOT HONOUR").sort()).toEqual([...KNOWN_KEYS].sort());
  });

  it("QUADLET KEYS DOCKER CANNOT HONOUR lists exactly the keys refused or ignored with a reason", () => {
    // Rows for values of keys berth knows (`UserNS=keep-id`, `Network=pasta`) are refusals of a value, not of a key.
    const refused = keysBetween("## QUADLET KEYS DOCKER CANNOT HONOUR", "## UNKNOWN KEYS").filter((k) => !KNOWN_KEYS.has(k));
    expect(refused.sort()).toEqual(Object.keys(UNSUPPORTED).sort());
  });
});
