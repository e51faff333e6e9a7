// RFC 1071 Internet checksum, RFC 1624 incremental update, and the IPv4/IPv6 pseudo-header sums.
import { activeNative } from '../backend.js';
import type { PacketBatch } from '../batch.js';
import { NetworkError, fromNative } from '../errors.js';

/** Below this many bytes a single-buffer sum stays in JavaScript: an N-API call costs 40–70 ns here. */
export const NATIVE_CHECKSUM_THRESHOLD = 512;

/** Folds a ones' complement sum held in a (non-negative, < 2^53) number to 16 bits. */
export function foldChecksum(sum: number): number {
  // RFC 1071 §4.1: fold the carries back in until none remain (integer fast path below 2^31).
  if (sum <= 0x7fffffff && sum >= 0) {
    sum = (sum & 0xffff) + (sum >>> 16);
    return (sum & 0xffff) + (sum >>> 16);
  }
  while (sum > 0xffff) sum = (sum % 0x10000) + Math.floor(sum / 0x10000);
  return sum;
}

/** The value a header carries: the ones' complement of the folded sum. */
export function finishChecksum(sum: number): number {
  return ~foldChecksum(sum) & 0xffff;
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

// One cached Uint32Array over the last buffer summed: creating a typed array per call costs more than
// summing a 64-byte packet. It keeps that one buffer alive until another is summed.
let cachedBuffer: ArrayBufferLike | null = null;
let cachedWords: Uint32Array<ArrayBufferLike> = new Uint32Array(0);

function wordsOf(buffer: ArrayBufferLike): Uint32Array<ArrayBufferLike> {
  if (buffer !== cachedBuffer) {
    cachedWords = new Uint32Array(buffer, 0, buffer.byteLength >>> 2);
    cachedBuffer = buffer;
  }
  return cachedWords;
}

/** Sum of the 32-bit little-endian words w[from, to), folded to 16 bits (a little-endian lane sum). */
function sumWordsLE(w: Uint32Array, from: number, to: number): number {
  if (to - from <= 2048) {
    // Short runs (packets): 16+16-bit split in small-integer arithmetic; 2048 words cannot overflow 2^31.
    let lo = 0;
    let hi = 0;
    for (let i = from; i < to; i++) {
      const x = w[i]!;
      lo += x & 0xffff;
      hi += x >>> 16;
    }
    return foldChecksum(lo + hi);
  }
  let total = 0;
  let i = from;
  while (i < to) {
    // Eight double accumulators: exact while each stays < 2^53, i.e. for 2^20 words a chunk.
    const stop = Math.min(to, i + 0x100000);
    const stop8 = stop - ((stop - i) & 7);
    let s0 = 0, s1 = 0, s2 = 0, s3 = 0, s4 = 0, s5 = 0, s6 = 0, s7 = 0;
    for (; i < stop8; i += 8) {
      s0 += w[i]!;
      s1 += w[i + 1]!;
      s2 += w[i + 2]!;
      s3 += w[i + 3]!;
      s4 += w[i + 4]!;
      s5 += w[i + 5]!;
      s6 += w[i + 6]!;
      s7 += w[i + 7]!;
    }
    for (; i < stop; i++) s0 += w[i]!;
    // 2^16 ≡ 1 (mod 2^16 − 1), so folding a sum of 32-bit words gives the sum of their 16-bit halves.
    total = foldChecksum(total + foldChecksum(s0 + s1 + s2 + s3) + foldChecksum(s4 + s5 + s6 + s7));
  }
  return total;
}

/**
 * TypeScript ones' complement sum of bytes[offset, offset+length) as big-endian 16-bit words, folded to
 * 16 bits. The aligned middle is read as 32-bit little-endian words (RFC 1071 §2(B): the sum is
 * byte-order independent, so we sum little-endian lanes and swap once at the end).
 */
function sumTs(bytes: Uint8Array, offset: number, length: number): number {
  let be = 0; // the unaligned head and tail bytes, each in its big-endian position
  if (length < 16) {
    for (let k = 0; k < length; k++) be += (k & 1) === 0 ? bytes[offset + k]! << 8 : bytes[offset + k]!;
    return foldChecksum(be);
  }
  const absStart = bytes.byteOffset + offset;
  const absEnd = absStart + length;
  const midStart = (absStart + 3) & ~3;
  const midEnd = absEnd & ~3;
  for (let a = absStart; a < midStart; a++) {
    const v = bytes[a - bytes.byteOffset]!;
    be += ((a - absStart) & 1) === 0 ? v << 8 : v;
  }
  for (let a = midEnd; a < absEnd; a++) {
    const v = bytes[a - bytes.byteOffset]!;
    be += ((a - absStart) & 1) === 0 ? v << 8 : v;
  }
  let le = sumWordsLE(wordsOf(bytes.buffer), midStart >>> 2, midEnd >>> 2);
  // Little-endian lanes pair (low, high) bytes: the big-endian pairing swapped when the middle starts an
  // even distance from the first byte, the big-endian pairing itself when odd.
  if (((midStart - absStart) & 1) === 0) le = swap16(le);
  return foldChecksum(be + le);
}

function checkRange(bytes: Uint8Array, offset: number, length: number): void {
  if (!(bytes instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', 'checksum input must be a Uint8Array');
  if (!Number.isInteger(offset) || !Number.isInteger(length) || offset < 0 || length < 0 || offset + length > bytes.length) {
    throw new NetworkError('OUT_OF_BOUNDS', `checksum range [${offset}, ${offset + length}) outside 0..${bytes.length}`, { offset, expected: bytes.length, actual: offset + length });
  }
}

/**
 * Ones' complement sum of `bytes` (big-endian 16-bit words, an odd last byte padded with zero) plus
 * `initial` (a partial sum, e.g. a pseudo-header sum), folded to 16 bits and not complemented.
 */
export function onesComplementSum(bytes: Uint8Array, initial = 0, offset = 0, length = bytes.length - offset): number {
  checkRange(bytes, offset, length);
  const init = foldChecksum(initial >>> 0 === initial ? initial : initial >>> 0);
  const native = length >= NATIVE_CHECKSUM_THRESHOLD ? activeNative() : null;
  if (native) return fromNative(() => native.checksumSum(bytes, offset, length, init));
  return foldChecksum(sumTs(bytes, offset, length) + init);
}

/**
 * RFC 1071 Internet checksum: the 16-bit value a header carries (0x220d for the RFC's example bytes
 * 00 01 f2 03 f4 f5 f6 f7). `initial` is a partial sum added in (e.g. a pseudo-header sum).
 */
export function internetChecksum(bytes: Uint8Array, initial = 0): number {
  return ~onesComplementSum(bytes, initial) & 0xffff;
}

/** Checksum of every packet of a batch into out[i] (one native call for the whole batch). */
export function checksumBatch(batch: PacketBatch, out: Uint16Array): Uint16Array {
  const n = batch.length;
  if (out.length < n) throw new NetworkError('OUT_OF_BOUNDS', `output holds ${out.length} results, batch has ${n}`, { expected: n, actual: out.length });
  const native = activeNative();
  if (native) {
    fromNative(() => native.checksumBatch(batch.data, batch.offsets, batch.lengths, n, out));
    return out;
  }
  const data = batch.data;
  const offs = batch.offsets;
  const lens = batch.lengths;
  for (let i = 0; i < n; i++) {
    const off = offs[i]!;
    const len = lens[i]!;
    if (off + len > data.length) throw new NetworkError('OUT_OF_BOUNDS', `packet ${i} [${off}, ${off + len}) outside batch data (${data.length} bytes)`, { offset: off, index: i });
    out[i] = ~sumTs(data, off, len) & 0xffff;
  }
  return out;
}

function addrSum(addr: Uint8Array, expected: number, what: string): number {
  if (addr.length !== expected) throw new NetworkError('INVALID_ARGUMENT', `${what} address must be ${expected} bytes, got ${addr.length}`, { expected, actual: addr.length });
  let s = 0;
  for (let i = 0; i < expected; i += 2) s += (addr[i]! << 8) | addr[i + 1]!;
  return s;
}

/** RFC 768 / RFC 9293 §3.1: the IPv4 pseudo-header sum (src, dst, zero, protocol, length), folded. */
export function ipv4PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, protocol: number, length: number): number {
  return foldChecksum(addrSum(src, 4, 'IPv4') + addrSum(dst, 4, 'IPv4') + (protocol & 0xff) + (length & 0xffff));
}

/** RFC 8200 §8.1: the IPv6 pseudo-header sum (src, dst, 32-bit length, next header), folded. */
export function ipv6PseudoHeaderSum(src: Uint8Array, dst: Uint8Array, nextHeader: number, length: number): number {
  const len = length >>> 0;
  return foldChecksum(addrSum(src, 16, 'IPv6') + addrSum(dst, 16, 'IPv6') + (len >>> 16) + (len & 0xffff) + (nextHeader & 0xff));
}

/**
 * RFC 1624 eqn. 3 incremental update: the new checksum after a 16-bit field changes from oldValue to
 * newValue, HC' = ~(~HC + ~m + m').
 */
export function updateChecksum16(checksum: number, oldValue: number, newValue: number): number {
  return ~foldChecksum((~checksum & 0xffff) + (~oldValue & 0xffff) + (newValue & 0xffff)) & 0xffff;
}

/** RFC 1624 for a 32-bit field (an IPv4 address, a sequence number): two 16-bit updates. */
export function updateChecksum32(checksum: number, oldValue: number, newValue: number): number {
  const o = oldValue >>> 0;
  const n = newValue >>> 0;
  return ~foldChecksum((~checksum & 0xffff) + (~(o >>> 16) & 0xffff) + (~o & 0xffff) + (n >>> 16) + (n & 0xffff)) & 0xffff;
}

/** Verifies bytes whose checksum field is included: the folded sum of a correct header is 0xffff. */
export function verifyChecksum(bytes: Uint8Array, initial = 0): boolean {
  return onesComplementSum(bytes, initial) === 0xffff;
}
