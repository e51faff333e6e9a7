// Receive Side Scaling: the Toeplitz hash NICs use to spread flows over receive queues (Microsoft's RSS
// specification, "Verifying the RSS Hash Calculation"; Linux net/core/dev.c + include/linux/netdevice.h
// netdev_rss_key, drivers' toeplitz implementations). For every set bit i of the input (most significant bit
// of byte 0 first) the 32-bit window of the key starting at bit i is XORed into the result. We precompute,
// per key and input byte position, the XOR for all 256 byte values, so a 12-byte IPv4 4-tuple costs 12 loads.
import { NetworkError } from '../errors.js';
import { parseIpAddressBytes } from '../wire/address.js';

/** The key of Microsoft's RSS verification suite (also the default of many NIC drivers). */
export const RSS_DEFAULT_KEY: Uint8Array = Uint8Array.from([
  0x6d, 0x5a, 0x56, 0xda, 0x25, 0x5b, 0x0e, 0xc2, 0x41, 0x67, 0x25, 0x3d, 0x43, 0xa3, 0x8f, 0xb0, 0xd0, 0xca, 0x2b, 0xcb,
  0xae, 0x7b, 0x30, 0xb4, 0x77, 0xcb, 0x2d, 0xa3, 0x80, 0x30, 0xf2, 0x0c, 0x6a, 0x42, 0xb7, 0x3b, 0xbe, 0xac, 0x01, 0xfa,
]);

/**
 * A symmetric key (0x6d5a repeated): a key with a 16-bit period gives the same hash when source and
 * destination addresses and ports are swapped, so both directions of a flow land on one worker
 * (Woo & Park, "Scalable TCP Session Monitoring with Symmetric Receive-side Scaling", 2012).
 */
export const RSS_SYMMETRIC_KEY: Uint8Array = Uint8Array.from({ length: 40 }, (_, i) => (i & 1 ? 0x5a : 0x6d));

/** Toeplitz hashing with one key, table-driven. Inputs may be up to key.length − 4 bytes long. */
export class ToeplitzHasher {
  readonly key: Uint8Array;
  /** Longest input this key can hash (its bit length minus the 32-bit window). */
  readonly maxInputBytes: number;
  /** table[pos × 256 + byte] = contribution of `byte` at input position `pos`. */
  private readonly table: Int32Array;

  constructor(key: Uint8Array = RSS_DEFAULT_KEY) {
    if (!(key instanceof Uint8Array) || key.length < 5) {
      throw new NetworkError('INVALID_ARGUMENT', `an RSS key needs at least 5 bytes, got ${key?.length}`, { field: 'key' });
    }
    this.key = key.slice();
    this.maxInputBytes = key.length - 4;
    const n = this.maxInputBytes;
    const t = new Int32Array(n * 256);
    const k = this.key;
    for (let pos = 0; pos < n; pos++) {
      const base = pos * 256;
      for (let b = 0; b < 8; b++) {
        const bit = pos * 8 + b;
        const byte = bit >> 3;
        const sh = bit & 7;
        const hi = ((k[byte]! << 24) | (k[byte + 1]! << 16) | (k[byte + 2]! << 8) | k[byte + 3]!) >>> 0;
        const next = byte + 4 < k.length ? k[byte + 4]! : 0;
        const window = sh === 0 ? hi : ((hi << sh) | (next >>> (8 - sh))) >>> 0;
        const mask = 0x80 >>> b;
        for (let v = 0; v < 256; v++) if (v & mask) t[base + v] = t[base + v]! ^ window;
      }
    }
    this.table = t;
  }

  /** Hash of bytes[offset, offset+length) as an unsigned 32-bit number. */
  hash(bytes: Uint8Array, offset = 0, length = bytes.length - offset): number {
    if (length > this.maxInputBytes) {
      throw new NetworkError('INVALID_ARGUMENT', `RSS input of ${length} bytes exceeds ${this.maxInputBytes} for a ${this.key.length}-byte key`, {
        field: 'bytes',
        expected: this.maxInputBytes,
        actual: length,
      });
    }
    if (offset < 0 || offset + length > bytes.length) {
      throw new NetworkError('OUT_OF_BOUNDS', 'RSS input range outside the buffer', { offset, length, actual: bytes.length });
    }
    const t = this.table;
    let h = 0;
    for (let i = 0; i < length; i++) h ^= t[(i << 8) | bytes[offset + i]!]!;
    return h >>> 0;
  }

  /**
   * Hash of an IPv4 address pair at data[addrOff, addrOff+8), followed by the 4 port bytes when `ports`: the
   * common case of hashTuple unrolled (constant table rows, no loop). Offsets are trusted, as in hashTuple.
   */
  hashIpv4(data: Uint8Array, o: number, ports: boolean): number {
    const t = this.table;
    let h =
      t[data[o]!]! ^ t[0x100 | data[o + 1]!]! ^ t[0x200 | data[o + 2]!]! ^ t[0x300 | data[o + 3]!]! ^
      t[0x400 | data[o + 4]!]! ^ t[0x500 | data[o + 5]!]! ^ t[0x600 | data[o + 6]!]! ^ t[0x700 | data[o + 7]!]!;
    if (ports) h ^= t[0x800 | data[o + 8]!]! ^ t[0x900 | data[o + 9]!]! ^ t[0xa00 | data[o + 10]!]! ^ t[0xb00 | data[o + 11]!]!;
    return h >>> 0;
  }

  /**
   * Hash of an address pair (+ ports) read straight from a packet: addrLen bytes of source address at
   * addrOff, then the destination right after it, then (portsOff ≥ 0) 4 bytes of source and destination
   * port. This is the NIC's input order. Offsets are trusted (the caller located them in bounds).
   */
  hashTuple(data: Uint8Array, addrOff: number, addrLen: number, portsOff: number): number {
    if (addrLen === 4 && (portsOff < 0 || portsOff === addrOff + 8)) return this.hashIpv4(data, addrOff, portsOff >= 0);
    const t = this.table;
    const n = addrLen * 2;
    let h = 0;
    for (let i = 0; i < n; i++) h ^= t[(i << 8) | data[addrOff + i]!]!;
    if (portsOff >= 0) {
      h ^= t[(n << 8) | data[portsOff]!]! ^ t[((n + 1) << 8) | data[portsOff + 1]!]! ^ t[((n + 2) << 8) | data[portsOff + 2]!]! ^ t[((n + 3) << 8) | data[portsOff + 3]!]!;
    }
    return h >>> 0;
  }
}

const hashers = new WeakMap<Uint8Array, ToeplitzHasher>();
const defaultHasher = new ToeplitzHasher(RSS_DEFAULT_KEY);

/** The (cached) hasher for a key. */
export function toeplitzHasher(key: Uint8Array = RSS_DEFAULT_KEY): ToeplitzHasher {
  if (key === RSS_DEFAULT_KEY) return defaultHasher;
  let h = hashers.get(key);
  if (!h) {
    h = new ToeplitzHasher(key);
    hashers.set(key, h);
  }
  return h;
}

/** Toeplitz hash of `bytes` (e.g. src IP, dst IP, src port, dst port in network order) under `key`. */
export function rssHash(bytes: Uint8Array, key: Uint8Array = RSS_DEFAULT_KEY): number {
  return toeplitzHasher(key).hash(bytes);
}

function ipBytes(addr: string | Uint8Array): Uint8Array {
  return addr instanceof Uint8Array ? addr : parseIpAddressBytes(addr);
}

/**
 * The RSS input for an IPv4/IPv6 2-tuple (no ports) or 4-tuple: source address, destination address,
 * then source and destination port, network byte order. Addresses as text or bytes.
 */
export function rssInput(src: string | Uint8Array, dst: string | Uint8Array, srcPort?: number, dstPort?: number): Uint8Array {
  const s = ipBytes(src);
  const d = ipBytes(dst);
  if (s.length !== d.length || (s.length !== 4 && s.length !== 16)) {
    throw new NetworkError('INVALID_ARGUMENT', 'source and destination must both be IPv4 (4 bytes) or IPv6 (16 bytes)', { field: 'address' });
  }
  const withPorts = srcPort !== undefined && dstPort !== undefined;
  const out = new Uint8Array(s.length * 2 + (withPorts ? 4 : 0));
  out.set(s, 0);
  out.set(d, s.length);
  if (withPorts) {
    out[s.length * 2] = (srcPort >> 8) & 0xff;
    out[s.length * 2 + 1] = srcPort & 0xff;
    out[s.length * 2 + 2] = (dstPort >> 8) & 0xff;
    out[s.length * 2 + 3] = dstPort & 0xff;
  }
  return out;
}
