// RFC 1071 Internet checksum, RFC 1624 incremental update, and the IPv4/IPv6 pseudo-header sums.
import { activeNative } from '../backend.js';
import type { PacketBatch } from '../batch.js';
import { NetworkError, fromNative } from '../errors.js';

/** Below this many bytes a single-buffer sum stays in JavaScript: an N-API call costs 40–70 ns here. */
export const NATIVE_CHECKSUM_THRESHOLD = 512;

/** Folds a ones' complement sum held in a (non-negative, < 2^53) number to 16 bits. */
export function foldChecksum(sum: number): number {
  // RFC 1071 §4.1: fold the carries back in until none remain.
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

/**
 * TypeScript ones' complement sum of bytes[offset, offset+length) as big-endian 16-bit words, folded to
 * 16 bits. Aligned middle part read as 32-bit little-endian words (RFC 1071 §2(B): the sum is
 * byte-order independent, so we sum little-endian lanes and swap once at the end).
 */
function sumTs(bytes: Uint8Array, offset: number, length: number): number {
  const end = offset + length;
  let p = offset;
  let be = 0; // sum of the odd prefix/tail bytes in big-endian position
  // Prefix bytes until the absolute address is 4-aligned.
  const abs = bytes.byteOffset + p;
  let head = (4 - (abs & 3)) & 3;
  if (head > length) head = length;
  for (let k = 0; k < head; k++, p++) be += ((p - offset) & 1) === 0 ? bytes[p]! << 8 : bytes[p]!;
  const words = (end - p) >>> 2;
  let le = 0;
  if (words > 0) {
    const w = new Uint32Array(bytes.buffer, bytes.byteOffset + p, words);
    let lo = 0;
    let hi = 0;
    let i = 0;
    // Fold every 8192 words so both accumulators stay small integers (V8 keeps them in registers).
    while (i < words) {
      const stop = Math.min(words, i + 8192);
      const stop4 = stop - ((stop - i) & 3);
      for (; i < stop4; i += 4) {
        const a = w[i]!;
        const b = w[i + 1]!;
        const c = w[i + 2]!;
        const d = w[i + 3]!;
        lo += (a & 0xffff) + (b & 0xffff) + (c & 0xffff) + (d & 0xffff);
        hi += (a >>> 16) + (b >>> 16) + (c >>> 16) + (d >>> 16);
      }
      for (; i < stop; i++) {
        const a = w[i]!;
        lo += a & 0xffff;
        hi += a >>> 16;
      }
      lo = (lo & 0xffff) + (lo >>> 16) + (hi & 0xffff) + (hi >>> 16);
      hi = 0;
    }
    le = foldChecksum(lo);
    p += words * 4;
    // Little-endian lanes pair (even-index byte low, odd high): that is the big-endian pairing swapped when the
    // middle starts at an even distance from `offset`, and the big-endian pairing itself when odd.
    if (((p - words * 4 - offset) & 1) === 0) le = swap16(le);
  }
  for (; p < end; p++) be += ((p - offset) & 1) === 0 ? bytes[p]! << 8 : bytes[p]!;
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
