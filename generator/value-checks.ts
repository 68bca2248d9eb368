/**
 * What a key's value must be, as data a key table can carry: a pattern, a test, a whole number in
 * a range Docker can hold, or a refusal of values Docker cannot honour. Each says what was
 * expected, so every refusal reads alike: `expected …, found "…"`.
 */
export type Check =
  | { pattern: RegExp; expected: string }
  | { test: (value: string) => boolean; expected: string }
  | { range: readonly [bigint, bigint]; expected: string }
  | { refuse: (value: string) => string | undefined };

export const GO_DURATION = /^(\d+(\.\d+)?(ns|us|µs|ms|s|m|h))+$/;
/** A size as Docker's RAMInBytes (go-units) reads it: `128m`, `128mb`, `1.5GiB`, `64 k`. */
export const SIZE = /^\d+(\.\d+)* ?[kKmMgGtTpP]?[iI]?[bB]?$/;

/** Docker reads these as Go ints; a number it cannot hold would fail only when the unit starts. */
export const MAX_INT32 = 2n ** 31n - 1n;
export const MAX_INT64 = 2n ** 63n - 1n;

export const DURATION_CHECK: Check = { pattern: GO_DURATION, expected: "a duration such as 30s or 1m30s" };
const WHOLE = /^-?\d+$/;

/** Why `value` fails `check`, or undefined when it passes. */
export function checkProblem(value: string, check: Check): string | undefined {
  if ("refuse" in check) return check.refuse(value);
  if ("range" in check) {
    if (!WHOLE.test(value)) return `expected ${check.expected}, found "${value}"`;
    const [min, max] = check.range;
    // A long digit string is no exact Number, so it is read as a BigInt.
    const n = value.length < 16 ? Number(value) : BigInt(value);
    return n < min || n > max ? `expected ${check.expected} from ${min} to ${max}, found "${value}"` : undefined;
  }
  const ok = "pattern" in check ? check.pattern.test(value) : check.test(value);
  return ok ? undefined : `expected ${check.expected}, found "${value}"`;
}
