/**
 * A 64-bit FNV-1a digest, as 16 hex digits, of `parts` joined by `separator`. It only has to tell
 * specs apart, not resist an adversary, and loading node:crypto would cost the generator several
 * milliseconds per run. The parts are hashed in place rather than joined first: the joined
 * string was one more allocation per definition, and the digest is the same either way.
 */
export function digest(parts: readonly string[], separator = ""): string {
  const state = { h1: 0x811c9dc5, h2: 0xcbf29ce4 };
  for (let p = 0; p < parts.length; p++) {
    if (p > 0) hashInto(state, separator);
    hashInto(state, parts[p]!);
  }
  return (state.h2 >>> 0).toString(16).padStart(8, "0") + (state.h1 >>> 0).toString(16).padStart(8, "0");
}

function hashInto(state: { h1: number; h2: number }, text: string): void {
  let { h1, h2 } = state;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193);
    h2 = Math.imul(h2 ^ c, 0x01000193) ^ (h1 >>> 15);
  }
  state.h1 = h1;
  state.h2 = h2;
}
