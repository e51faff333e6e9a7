// Shared helpers of the wire codecs: typed errors with structured detail and big-endian byte math.
// Internal to src/wire (not re-exported), so the names need no prefix.
import { NetworkError } from '../errors.js';

/** TRUNCATED: `field` of `proto` needs `expected` bytes from `offset`, only `actual` are there. */
export function truncated(proto: string, field: string, offset: number, expected: number, actual: number): NetworkError {
  return new NetworkError('TRUNCATED', `${proto}: ${field} needs ${expected} bytes at offset ${offset}, ${actual} available`, { offset, field: `${proto}.${field}`, expected, actual });
}

/** INVALID_PACKET: `field` of `proto` holds `actual`, the rule says `expected`. */
export function invalid(proto: string, field: string, offset: number, expected: string | number, actual: string | number): NetworkError {
  return new NetworkError('INVALID_PACKET', `${proto}: bad ${field} at offset ${offset}: expected ${expected}, got ${actual}`, { offset, field: `${proto}.${field}`, expected, actual });
}

/** Validates the (bytes, offset, length) triple every check() takes and returns the usable length. */
export function span(proto: string, bytes: Uint8Array, offset: number, length: number | undefined): number {
  if (!(bytes instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', `${proto}: input must be a Uint8Array`);
  if (!Number.isInteger(offset) || offset < 0 || offset > bytes.length) {
    throw new NetworkError('OUT_OF_BOUNDS', `${proto}: offset ${offset} outside 0..${bytes.length}`, { offset, expected: bytes.length, actual: offset });
  }
  const avail = bytes.length - offset;
  if (length === undefined) return avail;
  if (!Number.isInteger(length) || length < 0 || length > avail) {
    throw new NetworkError('OUT_OF_BOUNDS', `${proto}: length ${length} exceeds the ${avail} bytes after offset ${offset}`, { offset, expected: avail, actual: length });
  }
  return length;
}

/** Throws OUT_OF_BOUNDS when an emit target is too small. */
export function needRoom(proto: string, bytes: Uint8Array, offset: number, needed: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + needed > bytes.length) {
    throw new NetworkError('BUFFER_FULL', `${proto}: emitting ${needed} bytes at offset ${offset} overruns a ${bytes.length}-byte buffer`, { offset, expected: offset + needed, actual: bytes.length });
  }
}

export function rd16(b: Uint8Array, o: number): number {
  return (b[o]! << 8) | b[o + 1]!;
}

export function rd32(b: Uint8Array, o: number): number {
  return ((b[o]! << 24) | (b[o + 1]! << 16) | (b[o + 2]! << 8) | b[o + 3]!) >>> 0;
}

export function wr16(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 8) & 0xff;
  b[o + 1] = v & 0xff;
}

export function wr32(b: Uint8Array, o: number, v: number): void {
  b[o] = (v >>> 24) & 0xff;
  b[o + 1] = (v >>> 16) & 0xff;
  b[o + 2] = (v >>> 8) & 0xff;
  b[o + 3] = v & 0xff;
}

/** Throws INVALID_ARGUMENT unless v is an integer in [0, max]. */
export function uint(proto: string, field: string, v: number, max: number): number {
  if (!Number.isInteger(v) || v < 0 || v > max) throw new NetworkError('INVALID_ARGUMENT', `${proto}: ${field} must be an integer in 0..${max}, got ${v}`, { field: `${proto}.${field}`, expected: max, actual: v });
  return v;
}
