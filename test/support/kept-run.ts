import { waitFor } from "./wait.js";

/**
 * Marks one unit in the generator's kept run (`# kept` at its end): a run that writes the mark has
 * written the kept run. A command for plain `node`, so that it runs inside a booted host as well.
 * The file's layout is generator/run-cache.ts's: one line of JSON, then the units' texts.
 */
const MARK = [
  `const fs = require("node:fs"); const [path, unit] = process.argv.slice(1);`,
  `const content = fs.readFileSync(path, "utf8"); const newline = content.indexOf("\\n");`,
  `const header = JSON.parse(content.slice(0, newline)); let at = newline + 1;`,
  `const texts = header.units.map((u) => content.slice(at, (at += u[2])));`,
  `const i = header.units.findIndex((u) => u[0] === unit); if (i < 0) process.exit(3);`,
  `texts[i] += "# kept\\n"; header.units[i][2] = texts[i].length;`,
  `fs.writeFileSync(path, JSON.stringify(header) + "\\n" + texts.join(""));`,
].join(" ");

export const markKeptCommand = (cache: string, unit: string): string => `node -e '${MARK}' ${cache} ${unit}`;

/**
 * Runs the generator (`generate`, a daemon-reload) until one run writes the kept run: a unit
 * marked in the kept run comes out marked. A kept run may be stale (kept before the last edit,
 * or not yet kept since, while the files are too new), so marking it proves nothing by itself.
 */
export async function waitForKeptRun(generate: () => void, mark: () => boolean, marked: () => boolean): Promise<void> {
  await waitFor("a run of the generator that writes its kept run", () => {
    generate();
    if (!mark()) return false;
    generate();
    return marked();
  });
}

/** Who kept the run in this kept-run file's content: "generator", or "berthd" before its daemon-reload. */
export const keptBy = (content: string): string | undefined => JSON.parse(content.slice(0, content.indexOf("\n"))).by;
