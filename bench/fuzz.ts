// A long fuzz run over the whole translation: FUZZ_RUNS (default 10^6) hostile definitions (see
// test/support/hostile.ts), plus a share of random bytes through the decoder. It counts crashes,
// misplaced diagnostics and smuggled directives as read back by an independent reader of systemd's
// rules, then has systemd itself (`systemd-analyze verify`, offline) read a sample of the units.
// Run: npm run fuzz   (FUZZ_RUNS=N, FUZZ_SAMPLE=N, FUZZ_SEED=N to change it)
import { spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import fc from "fast-check";
import { decodeText } from "../generator/decode-text.js";
import { parseDefinitionName } from "../generator/names.js";
import { translateContainer as translate } from "../generator/container-unit.js";
import type { Translated } from "../generator/translate.js";
import { parseUnitFile } from "../generator/unit-file.js";
import { hostileDefinition, misreadOf, WHOLE_FILE } from "../test/support/hostile.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 1_000_000);
const SAMPLE = Number(process.env.FUZZ_SAMPLE ?? 2000);
const SEED = Number(process.env.FUZZ_SEED ?? 20251201);
const BATCH = 10_000;
const FILE = "/etc/berth/fuzz.container";

// Executables that exist, so that systemd-analyze verify checks the unit rather than the paths.
const ctx = { docker: "/bin/true", helper: ["/bin/true"], step: "/bin/true", deviceExists: () => false, scope: "system" as const, dataDir: "/usr/share", resolve: () => undefined, containerOf: () => undefined,
  resource: () => undefined, credentials: { find: () => undefined, missing: "warning" as const } };
const name = parseDefinitionName("fuzz.container")!;

const counts = { inputs: 0, fromBytes: 0, crashes: 0, misplaced: 0, valid: 0, smuggled: 0 };
const examples: Record<string, string[]> = { crashes: [], misplaced: [], smuggled: [] };
const note = (kind: keyof typeof examples, what: string) => {
  if (examples[kind]!.length < 3) examples[kind]!.push(what);
};
const sample: string[] = [];

function check(text: string): void {
  counts.inputs++;
  let t: Translated;
  let sections: ReturnType<typeof parseUnitFile>["sections"];
  let diagnostics;
  try {
    const parsed = parseUnitFile(text, FILE);
    sections = parsed.sections;
    t = translate({ name, file: FILE, files: [FILE], sections }, ctx);
    diagnostics = parsed.diagnostics.concat(t.diagnostics);
  } catch (e) {
    counts.crashes++;
    note("crashes", `${JSON.stringify(text)}: ${(e as Error).stack}`);
    return;
  }
  const lines = text.split("\n").length;
  for (const d of diagnostics) {
    const wrong = d.file !== FILE || /this is a bug in berth/.test(d.message) || (d.line === 0 ? !WHOLE_FILE.test(d.message) : d.line > lines);
    if (wrong) {
      counts.misplaced++;
      note("misplaced", `${JSON.stringify(text)}: ${d.line} ${d.message}`);
    }
  }
  if (diagnostics.some((d) => d.severity === "error")) return;
  counts.valid++;
  const misread = misreadOf(t.text, sections);
  if (misread) {
    counts.smuggled++;
    note("smuggled", `${JSON.stringify(text)}: ${misread}\n--- unit ---\n${t.text}`);
  }
  // An even spread over the run.
  if (sample.length < SAMPLE && counts.valid % Math.max(1, Math.floor(RUNS / (4 * SAMPLE))) === 0) sample.push(t.text);
}

const started = performance.now();
const definitions = hostileDefinition();
const bytes = fc.uint8Array({ maxLength: 300 });
for (let done = 0, batch = 0; done < RUNS; batch++) {
  const n = Math.min(BATCH, RUNS - done);
  // One input in twenty is random bytes, to cover the decoder and the parser's worst.
  const fromBytes = Math.floor(n / 20);
  for (const text of fc.sample(definitions, { numRuns: n - fromBytes, seed: SEED + batch })) check(text);
  for (const b of fc.sample(bytes, { numRuns: fromBytes, seed: SEED - batch - 1 })) {
    counts.fromBytes++;
    check(decodeText(b, FILE).text);
  }
  done += n;
  if (batch % 10 === 9) process.stderr.write(`  ${done} inputs, ${((performance.now() - started) / 1000).toFixed(0)} s\n`);
}
const seconds = (performance.now() - started) / 1000;

/**
 * systemd's own reading of the sample. Its complaints carry file:line; each one must be about a
 * line berth meant to write with that key (a copied unknown key, a copied bad value). A complaint
 * about a line berth did not write as such is a misread: the unit says more than berth meant.
 */
function verifyWithSystemd(units: readonly string[]): { checked: number; misread: number; complaints: number; refused: number; seconds: number; examples: string[] } {
  const t0 = performance.now();
  const dir = mkdtempSync(join(tmpdir(), "berth-fuzz-"));
  const result = { checked: 0, misread: 0, complaints: 0, refused: 0, seconds: 0, examples: [] as string[] };
  try {
    for (let i = 0; i < units.length; i += 50) {
      const names = units.slice(i, i + 50).map((text, j) => {
        const file = join(dir, `fuzz-${i + j}.service`);
        writeFileSync(file, text);
        return file;
      });
      const r = spawnSync("systemd-analyze", ["verify", "--man=no", ...names], { encoding: "utf8", timeout: 120_000 });
      result.checked += names.length;
      for (const line of `${r.stdout}\n${r.stderr}`.split("\n")) {
        const m = /fuzz-(\d+)\.service:(\d+): (.*)$/.exec(line);
        if (/fuzz-\d+\.service failed to load/.test(line)) result.refused++;
        if (!m) continue;
        result.complaints++;
        const meant = units[Number(m[1])]!.split("\n")[Number(m[2]) - 1];
        const key = /Unknown key '([^']+)'|key name '([^']+)'|'([A-Za-z0-9]+)=/.exec(m[3]!);
        const named = key?.[1] ?? key?.[2];
        const misread = meant === undefined || /Missing '='|Invalid section header|Bad characters in section|Line too long|Assignment outside of section/.test(m[3]!)
          || (named !== undefined && !meant.startsWith(`${named}=`))
          || (/Unknown section '([^']+)'/.exec(m[3]!)?.[1] !== undefined && meant !== `[${/Unknown section '([^']+)'/.exec(m[3]!)![1]}]`);
        if (misread) {
          result.misread++;
          if (result.examples.length < 3) result.examples.push(`${line}\n  berth meant line: ${JSON.stringify(meant)}`);
        }
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  result.seconds = (performance.now() - t0) / 1000;
  return result;
}

// The checker must see a smuggled line, or its zero means nothing.
const selfTest = verifyWithSystemd(["[Unit]\nDescription=a\rPwnedKey=1\n[Service]\nExecStart=/bin/true\n"]);
const systemd = verifyWithSystemd(sample);

console.log(`fuzz: ${counts.inputs} inputs (${counts.fromBytes} from random bytes), seed ${SEED}, ${seconds.toFixed(1)} s (${((seconds * 1e6) / counts.inputs).toFixed(1)} µs per input)`);
console.log(`  crashes: ${counts.crashes}`);
console.log(`  diagnostics without a proper file and line: ${counts.misplaced}`);
console.log(`  valid definitions: ${counts.valid} (${((100 * counts.valid) / counts.inputs).toFixed(1)} %)`);
console.log(`  smuggled directives (independent reader of systemd's rules): ${counts.smuggled}`);
console.log(`  systemd-analyze verify: ${systemd.checked} units in ${systemd.seconds.toFixed(1)} s; ${systemd.complaints} complaints about lines, ${systemd.misread} about lines berth did not write as such; ${systemd.refused} units refused`);
console.log(`  (checker self-test: a smuggled line ${selfTest.misread > 0 ? "is" : "is NOT"} seen)`);
for (const [kind, list] of Object.entries({ ...examples, misread: systemd.examples })) for (const e of list) console.log(`\nexample (${kind}):\n${e}`);
process.exitCode = counts.crashes + counts.misplaced + counts.smuggled + systemd.misread > 0 || selfTest.misread === 0 ? 1 : 0;
