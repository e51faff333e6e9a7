// UDP (RFC 768): header, pseudo-header checksum over IPv4 and IPv6 (RFC 8200 §8.1), the zero-checksum rule.
import { NetworkError } from '../errors.js';
import { foldChecksum, ipv4PseudoHeaderSum, ipv6PseudoHeaderSum, onesComplementSum } from './checksum.js';
import { parseIpAddressBytes } from './address.js';
import { invalid, needRoom, rd16, span, truncated, uint, wr16 } from './wire-util.js';

/** The UDP header length. */
export const UDP_HEADER_LENGTH = 8;

/**
 * Pseudo-header sum for addresses given as text (IPv4 or IPv6, picked by the form of `src`), folded.
 * Allocates (parses text); views offer allocation-free `pseudoHeaderSum()`.
 */
export function ipPseudoHeaderSum(src: string, dst: string, protocol: number, length: number): number {
  const s = parseIpAddressBytes(src);
  const d = parseIpAddressBytes(dst);
  if (s.length !== d.length) throw new NetworkError('INVALID_ARGUMENT', `pseudo header: ${src} and ${dst} are not the same IP version`, { field: 'ip.addr' });
  return s.length === 4 ? ipv4PseudoHeaderSum(s, d, protocol, length) : ipv6PseudoHeaderSum(s, d, protocol, length);
}

/** Zero-copy view of a UDP datagram at `offset`. */
export class UdpView {
  bytes: Uint8Array;
  offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }

  reset(bytes: Uint8Array, offset = 0): this {
    this.bytes = bytes;
    this.offset = offset;
    return this;
  }

  /** Validates: 8-byte header, length field ≥ 8 and within the bytes. Returns the length field. */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('udp', bytes, offset, length);
    if (len < UDP_HEADER_LENGTH) throw truncated('udp', 'header', offset, UDP_HEADER_LENGTH, len);
    const ul = rd16(bytes, offset + 4);
    if (ul < UDP_HEADER_LENGTH) throw invalid('udp', 'length', offset + 4, '>= 8', ul);
    if (ul > len) throw truncated('udp', 'payload', offset + 8, ul - 8, len - 8);
    return ul;
  }

  get srcPort(): number {
    return rd16(this.bytes, this.offset);
  }
  set srcPort(v: number) {
    wr16(this.bytes, this.offset, v);
  }
  get dstPort(): number {
    return rd16(this.bytes, this.offset + 2);
  }
  set dstPort(v: number) {
    wr16(this.bytes, this.offset + 2, v);
  }
  /** The length field (header + payload). */
  get length(): number {
    return rd16(this.bytes, this.offset + 4);
  }
  set length(v: number) {
    wr16(this.bytes, this.offset + 4, v);
  }
  get checksum(): number {
    return rd16(this.bytes, this.offset + 6);
  }
  set checksum(v: number) {
    wr16(this.bytes, this.offset + 6, v);
  }
  get payloadOffset(): number {
    return this.offset + UDP_HEADER_LENGTH;
  }
  get payloadLength(): number {
    return this.length - UDP_HEADER_LENGTH;
  }
  /** The checksum the datagram should carry given a pseudo-header sum (0 computed becomes 0xffff). */
  computeChecksum(pseudoSum: number): number {
    const len = this.length;
    const sum = onesComplementSum(this.bytes, pseudoSum, this.offset, len);
    const c = ~foldChecksum(sum + (~this.checksum & 0xffff)) & 0xffff;
    // RFC 768: a computed zero is sent as all ones, zero meaning "no checksum".
    return c === 0 ? 0xffff : c;
  }
  /**
   * Verifies against a pseudo-header sum. A zero checksum means "none" over IPv4 (RFC 768) and is invalid
   * over IPv6 (RFC 8200 §8.1).
   */
  verifyChecksum(pseudoSum: number, ipVersion: 4 | 6 = 4): boolean {
    if (this.checksum === 0) return ipVersion === 4;
    return onesComplementSum(this.bytes, pseudoSum, this.offset, this.length) === 0xffff;
  }
  /** Writes the checksum (the payload must be in place). */
  fillChecksum(pseudoSum: number): void {
    this.checksum = 0;
    const c = ~onesComplementSum(this.bytes, pseudoSum, this.offset, this.length) & 0xffff;
    this.checksum = c === 0 ? 0xffff : c;
  }
}

/** A UDP header as plain data. */
export interface UdpRepr {
  srcPort: number;
  dstPort: number;
  /** Payload length (the length field minus 8). */
  payloadLength: number;
  /** The checksum as found (parse) — emit computes it when given addresses. */
  checksum: number;
}

/** What emit needs. */
export type UdpReprInput = Pick<UdpRepr, 'srcPort' | 'dstPort'> & Partial<UdpRepr>;

/** Checks and parses. */
export function parseUdpRepr(bytes: Uint8Array, offset = 0, length?: number): UdpRepr {
  const ul = UdpView.check(bytes, offset, length);
  return { srcPort: rd16(bytes, offset), dstPort: rd16(bytes, offset + 2), payloadLength: ul - 8, checksum: rd16(bytes, offset + 6) };
}

/** Writes the 8-byte header (checksum as given, default 0); returns 8. */
export function emitUdpRepr(repr: UdpReprInput, bytes: Uint8Array, offset = 0): number {
  needRoom('udp', bytes, offset, UDP_HEADER_LENGTH);
  wr16(bytes, offset, uint('udp', 'srcport', repr.srcPort, 0xffff));
  wr16(bytes, offset + 2, uint('udp', 'dstport', repr.dstPort, 0xffff));
  wr16(bytes, offset + 4, uint('udp', 'length', UDP_HEADER_LENGTH + (repr.payloadLength ?? 0), 0xffff));
  wr16(bytes, offset + 6, uint('udp', 'checksum', repr.checksum ?? 0, 0xffff));
  return UDP_HEADER_LENGTH;
}

/** IP endpoints for a pseudo-header checksum. */
export interface IpEndpoints {
  src: string;
  dst: string;
}

/**
 * Builds header + payload. With `ip` the checksum is computed (IPv4 or IPv6 by address form); without it
 * the checksum is 0 ("none", valid over IPv4 only).
 */
export function buildUdp(repr: UdpReprInput, payload: Uint8Array = new Uint8Array(0), ip?: IpEndpoints): Uint8Array {
  const out = new Uint8Array(UDP_HEADER_LENGTH + payload.length);
  emitUdpRepr({ ...repr, payloadLength: payload.length, checksum: 0 }, out, 0);
  out.set(payload, UDP_HEADER_LENGTH);
  if (ip) new UdpView(out).fillChecksum(ipPseudoHeaderSum(ip.src, ip.dst, 17, out.length));
  else if (repr.checksum !== undefined) wr16(out, 6, repr.checksum);
  return out;
}

/**
 * The guide's owned UDP datagram: `new UdpDatagram(srcPort, dstPort, payload)`, `serialize(src?, dst?)`
 * (checksum computed when the IP addresses are given), `UdpDatagram.parse(bytes)`.
 */
export class UdpDatagram {
  srcPort: number;
  dstPort: number;
  payload: Uint8Array;
  /** As parsed, or as computed by the last serialize() with addresses. */
  checksum = 0;

  constructor(srcPort: number, dstPort: number, payload: Uint8Array = new Uint8Array(0)) {
    this.srcPort = uint('udp', 'srcport', srcPort, 0xffff);
    this.dstPort = uint('udp', 'dstport', dstPort, 0xffff);
    this.payload = payload;
  }

  /** The length field: 8 + payload. */
  get length(): number {
    return UDP_HEADER_LENGTH + this.payload.length;
  }
  totalSize(): number {
    return this.length;
  }

  /** Header + payload; with `src`/`dst` (IPv4 or IPv6 text) the checksum is computed and stored. */
  serialize(src?: string, dst?: string): Uint8Array {
    const out = buildUdp({ srcPort: this.srcPort, dstPort: this.dstPort }, this.payload, src !== undefined && dst !== undefined ? { src, dst } : undefined);
    this.checksum = rd16(out, 6);
    return out;
  }

  /** True when the stored checksum is right for these addresses (0 = none is right over IPv4). */
  verifyChecksum(src: string, dst: string): boolean {
    const out = buildUdp({ srcPort: this.srcPort, dstPort: this.dstPort, checksum: this.checksum }, this.payload);
    return new UdpView(out).verifyChecksum(ipPseudoHeaderSum(src, dst, 17, out.length), src.includes(':') ? 6 : 4);
  }

  /** Parses untrusted bytes (the payload is copied, bytes past the length field ignored). */
  static parse(bytes: Uint8Array, offset = 0, length?: number): UdpDatagram {
    const r = parseUdpRepr(bytes, offset, length);
    const d = new UdpDatagram(r.srcPort, r.dstPort, bytes.slice(offset + 8, offset + 8 + r.payloadLength));
    d.checksum = r.checksum;
    return d;
  }
}
