import type { CreateRun } from "./create-run.js";
import { jsonWords } from "./json-words.js";
import { splitWords } from "./words.js";

/** The words after the image: Exec=, led by any further words of Entrypoint=, whose first goes to `--entrypoint`. */
export function commandArgs(run: CreateRun): void {
  const { c, argv } = run;
  const entrypoint = c.single("Entrypoint");
  // Like Quadlet, the last Exec= wins: a drop-in replaces the command rather than extending it.
  const execWords = c.lastWords("Exec");
  run.command = execWords;
  if (!entrypoint) return;
  let words: string[] | undefined;
  if (entrypoint.value.startsWith("[")) {
    words = jsonWords(entrypoint.value);
    if (!words) c.fail(entrypoint, "expected a JSON array of strings");
  } else {
    const split = splitWords(entrypoint.value);
    if (split.ok && split.words.length > 0) words = split.words;
    else c.fail(entrypoint, split.ok ? "is empty" : split.message);
  }
  // Docker's --entrypoint takes one program; its further words lead the command.
  if (words) {
    argv.push("--entrypoint", words[0]!);
    // concat, not unshift(...words): a spread passes every word as an argument, and a long list
    // overflows the stack.
    run.command = words.slice(1).concat(execWords);
  }
}
