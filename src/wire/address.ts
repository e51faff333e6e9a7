// Address helpers: IPv4 (as a uint32), IPv6 (16 bytes, printed per RFC 5952 the way tshark/glibc print it)
// and MAC (6 bytes / a 48-bit number) parse and format.
import { NetworkError } from '../errors.js';

function bad(kind: string, s: string, why: string): NetworkError {
  return new NetworkError('INVALID_ARGUMENT', `invalid ${kind} address '${s}': ${why}`, { field: kind, actual: s });
}

/** Parses dotted-quad IPv4 ('192.0.2.1') into a uint32 (network order as a number). */
export function parseIpv4Address(s: string): number {
  if (typeof s !== 'string') throw bad('IPv4', String(s), 'not a string');
  const parts = s.split('.');
  if (parts.length !== 4) throw bad('IPv4', s, 'needs four dotted decimal parts');
  let v = 0;
  for (const p of parts) {
    // RFC 6943 §3.1.1: only the strict dotted-decimal form; no octal/hex or missing parts.
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) throw bad('IPv4', s, `part '${p}' is not a decimal byte`);
    const n = Number(p);
    if (n > 255) throw bad('IPv4', s, `part ${n} > 255`);
    v = v * 256 + n;
  }
  return v >>> 0;
}

/** Formats a uint32 IPv4 address as dotted quad. */
export function formatIpv4Address(addr: number): string {
  return `${(addr >>> 24) & 0xff}.${(addr >>> 16) & 0xff}.${(addr >>> 8) & 0xff}.${addr & 0xff}`;
}

/** Reads 4 bytes at offset as a uint32 IPv4 address. */
export function readIpv4Address(bytes: Uint8Array, offset = 0): number {
  return ((bytes[offset]! << 24) | (bytes[offset + 1]! << 16) | (bytes[offset + 2]! << 8) | bytes[offset + 3]!) >>> 0;
}

/** Writes a uint32 IPv4 address as 4 bytes at offset. */
export function writeIpv4Address(bytes: Uint8Array, offset: number, addr: number): void {
  bytes[offset] = addr >>> 24;
  bytes[offset + 1] = (addr >>> 16) & 0xff;
  bytes[offset + 2] = (addr >>> 8) & 0xff;
  bytes[offset + 3] = addr & 0xff;
}

/** The 4 bytes of a uint32 IPv4 address. */
export function ipv4AddressBytes(addr: number): Uint8Array {
  const b = new Uint8Array(4);
  writeIpv4Address(b, 0, addr);
  return b;
}

/** Parses an IPv6 address (RFC 4291 §2.2: '::' compression, trailing dotted IPv4) into 16 bytes. */
export function parseIpv6Address(s: string): Uint8Array {
  if (typeof s !== 'string') throw bad('IPv6', String(s), 'not a string');
  const out = new Uint8Array(16);
  const dbl = s.indexOf('::');
  if (dbl !== -1 && s.indexOf('::', dbl + 1) !== -1) throw bad('IPv6', s, "more than one '::'");
  const parseGroups = (part: string, allowV4Tail: boolean): number[] => {
    if (part === '') return [];
    const groups = part.split(':');
    const words: number[] = [];
    for (let i = 0; i < groups.length; i++) {
      const g = groups[i]!;
      if (allowV4Tail && i === groups.length - 1 && g.includes('.')) {
        const v4 = parseIpv4Address(g);
        words.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(g)) throw bad('IPv6', s, `group '${g}' is not 1-4 hex digits`);
        words.push(parseInt(g, 16));
      }
    }
    return words;
  };
  let words: number[];
  if (dbl === -1) {
    words = parseGroups(s, true);
    if (words.length !== 8) throw bad('IPv6', s, `has ${words.length} groups, needs 8`);
  } else {
    const head = parseGroups(s.slice(0, dbl), false);
    const tail = parseGroups(s.slice(dbl + 2), true);
    if (head.length + tail.length > 7) throw bad('IPv6', s, "too many groups around '::'");
    words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  }
  for (let i = 0; i < 8; i++) {
    out[2 * i] = words[i]! >>> 8;
    out[2 * i + 1] = words[i]! & 0xff;
  }
  return out;
}

/**
 * Formats 16 bytes at offset as IPv6 text per RFC 5952 (lowercase, no leading zeros, the first longest run
 * of ≥ 2 zero groups as '::'), with glibc inet_ntop's dotted tail for ::ffff:a.b.c.d and ::a.b.c.d —
 * exactly what tshark prints.
 */
export function formatIpv6Address(bytes: Uint8Array, offset = 0): string {
  let bestBase = -1;
  let bestLen = 0;
  let curBase = -1;
  let curLen = 0;
  for (let i = 0; i < 8; i++) {
    const w = (bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!;
    if (w === 0) {
      if (curBase === -1) {
        curBase = i;
        curLen = 1;
      } else curLen++;
    } else if (curBase !== -1) {
      if (curLen > bestLen) {
        bestBase = curBase;
        bestLen = curLen;
      }
      curBase = -1;
    }
  }
  if (curBase !== -1 && curLen > bestLen) {
    bestBase = curBase;
    bestLen = curLen;
  }
  // RFC 5952 §4.2.2: a single 16-bit zero field is not shortened.
  if (bestLen < 2) bestBase = -1;
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (bestBase !== -1 && i >= bestBase && i < bestBase + bestLen) {
      if (i === bestBase) s += ':';
      continue;
    }
    if (i !== 0) s += ':';
    // glibc inet_ntop6: IPv4-compatible (::a.b.c.d) and IPv4-mapped (::ffff:a.b.c.d) print a dotted tail.
    if (i === 6 && bestBase === 0 && (bestLen === 6 || (bestLen === 5 && bytes[offset + 10] === 0xff && bytes[offset + 11] === 0xff))) {
      s += `${bytes[offset + 12]}.${bytes[offset + 13]}.${bytes[offset + 14]}.${bytes[offset + 15]}`;
      break;
    }
    s += (((bytes[offset + 2 * i]! << 8) | bytes[offset + 2 * i + 1]!)).toString(16);
  }
  if (bestBase !== -1 && bestBase + bestLen === 8) s += ':';
  return s;
}

/** Parses 'aa:bb:cc:dd:ee:ff' (or '-' separated) into 6 bytes. */
export function parseMacAddress(s: string): Uint8Array {
  if (typeof s !== 'string' || !/^[0-9a-fA-F]{1,2}([:-][0-9a-fA-F]{1,2}){5}$/.test(s)) throw bad('MAC', String(s), 'needs six hex bytes separated by : or -');
  return Uint8Array.from(s.split(/[:-]/), (h) => parseInt(h, 16));
}

const HEX2: string[] = Array.from({ length: 256 }, (_, i) => i.toString(16).padStart(2, '0'));

/** Formats 6 bytes at offset as 'aa:bb:cc:dd:ee:ff' (lowercase, as tshark prints eth.src). */
export function formatMacAddress(bytes: Uint8Array, offset = 0): string {
  return `${HEX2[bytes[offset]!]}:${HEX2[bytes[offset + 1]!]}:${HEX2[bytes[offset + 2]!]}:${HEX2[bytes[offset + 3]!]}:${HEX2[bytes[offset + 4]!]}:${HEX2[bytes[offset + 5]!]}`;
}

/** Reads 6 bytes at offset as a 48-bit number (exact in a double). */
export function readMac48(bytes: Uint8Array, offset = 0): number {
  return (((bytes[offset]! << 8) | bytes[offset + 1]!) * 0x100000000) + (((bytes[offset + 2]! << 24) | (bytes[offset + 3]! << 16) | (bytes[offset + 4]! << 8) | bytes[offset + 5]!) >>> 0);
}

/** Writes a 48-bit number as 6 bytes at offset. */
export function writeMac48(bytes: Uint8Array, offset: number, mac: number): void {
  const hi = Math.floor(mac / 0x100000000) & 0xffff;
  const lo = mac >>> 0;
  bytes[offset] = hi >>> 8;
  bytes[offset + 1] = hi & 0xff;
  bytes[offset + 2] = lo >>> 24;
  bytes[offset + 3] = (lo >>> 16) & 0xff;
  bytes[offset + 4] = (lo >>> 8) & 0xff;
  bytes[offset + 5] = lo & 0xff;
}

/** Parses an IPv4 or IPv6 address string into its bytes (4 or 16). */
export function parseIpAddressBytes(s: string): Uint8Array {
  return s.includes(':') ? parseIpv6Address(s) : ipv4AddressBytes(parseIpv4Address(s));
}

/** Formats 4 or 16 address bytes as text. */
export function formatIpAddressBytes(bytes: Uint8Array): string {
  if (bytes.length === 4) return formatIpv4Address(readIpv4Address(bytes, 0));
  if (bytes.length === 16) return formatIpv6Address(bytes, 0);
  throw new NetworkError('INVALID_ARGUMENT', `an IP address has 4 or 16 bytes, got ${bytes.length}`, { actual: bytes.length });
}
