/**
 * 64-bit arithmetic on (lo, hi) int32 pairs, shared by the interpreter and the code the JS JIT generates.
 * Results come back as the low word; the high word is left in `bpfArith.hi` (no allocation per op).
 * Semantics follow RFC 9669 §4.1: division by zero gives 0, modulo by zero leaves the dividend, signed
 * division truncates towards zero and INT_MIN / -1 wraps to INT_MIN.
 */

/** Scratch for the high word of the last 64-bit result. */
export const bpfArith = { hi: 0 };

/** High 32 bits of the 64-bit product of two unsigned 32-bit numbers. */
export function bpfMulHiU32(a: number, b: number): number {
  const a0 = a & 0xffff;
  const a1 = a >>> 16;
  const b0 = b & 0xffff;
  const b1 = b >>> 16;
  const lo = a0 * b0;
  const m1 = a1 * b0;
  const m2 = a0 * b1;
  const mid = (lo >>> 16) + (m1 & 0xffff) + (m2 & 0xffff);
  return (a1 * b1 + (m1 >>> 16) + (m2 >>> 16) + (mid >>> 16)) | 0;
}

export function bpfMul64(al: number, ah: number, bl: number, bh: number): number {
  bpfArith.hi = (bpfMulHiU32(al >>> 0, bl >>> 0) + Math.imul(al, bh) + Math.imul(ah, bl)) | 0;
  return Math.imul(al, bl);
}

function toU64(lo: number, hi: number): bigint {
  return (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
}
function toS64(lo: number, hi: number): bigint {
  return (BigInt(hi | 0) << 32n) | BigInt(lo >>> 0);
}
function fromBig(v: bigint): number {
  const u = BigInt.asUintN(64, v);
  bpfArith.hi = Number(u >> 32n) | 0;
  return Number(u & 0xffffffffn) | 0;
}

/** Unsigned 64-bit division; by zero → 0. */
export function bpfDiv64(al: number, ah: number, bl: number, bh: number): number {
  if (bh === 0 && ah === 0) {
    bpfArith.hi = 0;
    const b = bl >>> 0;
    return b === 0 ? 0 : Math.floor((al >>> 0) / b) | 0;
  }
  const b = toU64(bl, bh);
  if (b === 0n) {
    bpfArith.hi = 0;
    return 0;
  }
  return fromBig(toU64(al, ah) / b);
}

/** Unsigned 64-bit modulo; by zero → dividend. */
export function bpfMod64(al: number, ah: number, bl: number, bh: number): number {
  if (bh === 0 && ah === 0) {
    bpfArith.hi = 0;
    const b = bl >>> 0;
    return b === 0 ? al : ((al >>> 0) % b) | 0;
  }
  const b = toU64(bl, bh);
  if (b === 0n) {
    bpfArith.hi = ah;
    return al;
  }
  return fromBig(toU64(al, ah) % b);
}

/** Signed 64-bit division (sdiv); by zero → 0; INT64_MIN / -1 → INT64_MIN. */
export function bpfSdiv64(al: number, ah: number, bl: number, bh: number): number {
  if (ah === al >> 31 && bh === bl >> 31) {
    // Both fit in int32: exact in doubles; the quotient may be 2^31, which needs the 64-bit hi = 0.
    if (bl === 0) {
      bpfArith.hi = 0;
      return 0;
    }
    const q = Math.trunc(al / bl);
    bpfArith.hi = q < 0 ? -1 : 0;
    return q | 0;
  }
  const b = toS64(bl, bh);
  if (b === 0n) {
    bpfArith.hi = 0;
    return 0;
  }
  return fromBig(toS64(al, ah) / b);
}

/** Signed 64-bit modulo (smod): the sign of the dividend; by zero → dividend. */
export function bpfSmod64(al: number, ah: number, bl: number, bh: number): number {
  if (ah === al >> 31 && bh === bl >> 31) {
    if (bl === 0) {
      bpfArith.hi = ah;
      return al;
    }
    const r = al % bl;
    bpfArith.hi = r < 0 ? -1 : 0;
    return r | 0;
  }
  const b = toS64(bl, bh);
  if (b === 0n) {
    bpfArith.hi = ah;
    return al;
  }
  return fromBig(toS64(al, ah) % b);
}

/** 32-bit unsigned division; by zero → 0. */
export function bpfDiv32(a: number, b: number): number {
  const d = b >>> 0;
  return d === 0 ? 0 : Math.floor((a >>> 0) / d) | 0;
}
/** 32-bit unsigned modulo; by zero → dividend. */
export function bpfMod32(a: number, b: number): number {
  const d = b >>> 0;
  return d === 0 ? a | 0 : ((a >>> 0) % d) | 0;
}
/** 32-bit signed division; by zero → 0; INT_MIN / -1 → INT_MIN. */
export function bpfSdiv32(a: number, b: number): number {
  return b === 0 ? 0 : Math.trunc((a | 0) / (b | 0)) | 0;
}
/** 32-bit signed modulo; by zero → dividend. */
export function bpfSmod32(a: number, b: number): number {
  return b === 0 ? a | 0 : ((a | 0) % (b | 0)) | 0;
}

export function bpfLsh64(al: number, ah: number, n: number): number {
  n &= 63;
  if (n === 0) {
    bpfArith.hi = ah;
    return al;
  }
  if (n < 32) {
    bpfArith.hi = (ah << n) | (al >>> (32 - n));
    return al << n;
  }
  bpfArith.hi = al << (n - 32);
  return 0;
}

export function bpfRsh64(al: number, ah: number, n: number): number {
  n &= 63;
  if (n === 0) {
    bpfArith.hi = ah;
    return al;
  }
  if (n < 32) {
    bpfArith.hi = ah >>> n | 0;
    return ((al >>> n) | (ah << (32 - n))) | 0;
  }
  bpfArith.hi = 0;
  return (ah >>> (n - 32)) | 0;
}

export function bpfArsh64(al: number, ah: number, n: number): number {
  n &= 63;
  if (n === 0) {
    bpfArith.hi = ah;
    return al;
  }
  if (n < 32) {
    bpfArith.hi = ah >> n;
    return ((al >>> n) | (ah << (32 - n))) | 0;
  }
  bpfArith.hi = ah >> 31;
  return ah >> (n - 32);
}

/** Reverses the 4 bytes of a 32-bit value. */
export function bpfBswap32(x: number): number {
  return ((x << 24) | ((x & 0xff00) << 8) | ((x >>> 8) & 0xff00) | (x >>> 24)) | 0;
}
/** Reverses the 2 low bytes (result zero-extended). */
export function bpfBswap16(x: number): number {
  return ((x & 0xff) << 8) | ((x >>> 8) & 0xff);
}

/** Unsigned 64-bit a > b. */
export function bpfGtU64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah === bh ? al >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0;
}
/** Signed 64-bit a > b. */
export function bpfGtS64(al: number, ah: number, bl: number, bh: number): boolean {
  return ah === bh ? al >>> 0 > bl >>> 0 : ah > bh;
}
