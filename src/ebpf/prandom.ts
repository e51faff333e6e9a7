// get_prandom_u32 (helper 7): xorshift128+ on two 32-bit words, not cryptographic (Linux prandom_u32 is not
// either). The state lives in a SharedArrayBuffer so the native JIT's C helper (native/jit.c h_prandom) runs
// the same generator on the same words: after seedBpfPrandom(s) every engine draws the same sequence, and
// runs on different engines continue one sequence. Not re-exported from the package (helpers.ts is the API).

/** [s0, s1]; shared with native code (one per module instance, so one per worker). */
export const bpfPrandomState = new Uint32Array(new SharedArrayBuffer(8));
bpfPrandomState[0] = (Math.random() * 0x100000000) >>> 0 || 1;
bpfPrandomState[1] = (Math.random() * 0x100000000) >>> 0 || 2;

/** Re-seeds the generator (see seedBpfPrandom in helpers.ts). */
export function seedPrandom(seed: number): void {
  bpfPrandomState[0] = (seed ^ 0x9e3779b9) >>> 0 || 1;
  bpfPrandomState[1] = (Math.imul(seed, 0x85ebca6b) ^ 0xc2b2ae35) >>> 0 || 2;
}

/** The next number. */
export function prandomU32(): number {
  const st = bpfPrandomState;
  let x = st[0]!;
  const y = st[1]!;
  st[0] = y;
  x ^= x << 23;
  x ^= x >>> 17;
  x ^= y ^ (y >>> 26);
  st[1] = x >>> 0;
  return (y + st[1]!) >>> 0;
}
