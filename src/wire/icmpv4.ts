// ICMPv4 (RFC 792): echo request/reply, destination unreachable (RFC 1191 next-hop MTU), time exceeded,
// with the quoted IP header + 8 bytes of the offending datagram.
import { foldChecksum, onesComplementSum } from './checksum.js';
import { Ipv4View, parseIpv4Repr, type Ipv4Repr } from './ipv4.js';
import { needRoom, rd16, span, truncated, uint, wr16 } from './wire-util.js';

/** ICMPv4 message types the codec names. */
export enum Icmpv4Type {
  EchoReply = 0,
  DestinationUnreachable = 3,
  Redirect = 5,
  EchoRequest = 8,
  TimeExceeded = 11,
  ParameterProblem = 12,
}

/** The ICMP header length (type, code, checksum, 4 bytes rest-of-header). */
export const ICMPV4_HEADER_LENGTH = 8;

/** True for the error types that quote the offending datagram (RFC 792). */
export function isIcmpv4Error(type: number): boolean {
  return type === 3 || type === 4 || type === 5 || type === 11 || type === 12;
}

/** Zero-copy view of an ICMPv4 message at `offset`. The checksum covers the whole message. */
export class Icmpv4View {
  bytes: Uint8Array;
  offset: number;
  /** Message length (ICMP has no length field: the IP payload length). */
  length: number;

  constructor(bytes: Uint8Array, offset = 0, length = bytes.length - offset) {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
  }

  reset(bytes: Uint8Array, offset = 0, length = bytes.length - offset): this {
    this.bytes = bytes;
    this.offset = offset;
    this.length = length;
    return this;
  }

  /** Validates: the 8-byte header is present. Returns 8. The quoted header is checked by quotedIpv4Repr(). */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('icmp', bytes, offset, length);
    if (len < ICMPV4_HEADER_LENGTH) throw truncated('icmp', 'header', offset, ICMPV4_HEADER_LENGTH, len);
    return ICMPV4_HEADER_LENGTH;
  }

  get type(): number {
    return this.bytes[this.offset]!;
  }
  set type(v: number) {
    this.bytes[this.offset] = v;
  }
  get code(): number {
    return this.bytes[this.offset + 1]!;
  }
  set code(v: number) {
    this.bytes[this.offset + 1] = v;
  }
  get checksum(): number {
    return rd16(this.bytes, this.offset + 2);
  }
  set checksum(v: number) {
    wr16(this.bytes, this.offset + 2, v);
  }
  /** Echo identifier (bytes 4-5). */
  get identifier(): number {
    return rd16(this.bytes, this.offset + 4);
  }
  set identifier(v: number) {
    wr16(this.bytes, this.offset + 4, v);
  }
  /** Echo sequence number (bytes 6-7). */
  get sequence(): number {
    return rd16(this.bytes, this.offset + 6);
  }
  set sequence(v: number) {
    wr16(this.bytes, this.offset + 6, v);
  }
  /** RFC 1191 §4: next-hop MTU of "fragmentation needed" (type 3 code 4). */
  get nextHopMtu(): number {
    return rd16(this.bytes, this.offset + 6);
  }
  set nextHopMtu(v: number) {
    wr16(this.bytes, this.offset + 6, v);
  }
  /** Absolute offset of the data (echo payload or the quoted datagram). */
  get dataOffset(): number {
    return this.offset + ICMPV4_HEADER_LENGTH;
  }
  get dataLength(): number {
    return this.length - ICMPV4_HEADER_LENGTH;
  }
  get isError(): boolean {
    return isIcmpv4Error(this.type);
  }
  computeChecksum(): number {
    const sum = onesComplementSum(this.bytes, 0, this.offset, this.length);
    return ~foldChecksum(sum + (~this.checksum & 0xffff)) & 0xffff;
  }
  verifyChecksum(): boolean {
    return onesComplementSum(this.bytes, 0, this.offset, this.length) === 0xffff;
  }
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = ~onesComplementSum(this.bytes, 0, this.offset, this.length) & 0xffff;
  }
}

/** The quoted IPv4 header of an error message, as a repr (header checks only: the datagram is cut). */
export function quotedIpv4Repr(bytes: Uint8Array, offset: number, length: number): Ipv4Repr {
  const hl = Ipv4View.checkHeader(bytes, offset, length);
  // The quote holds the header and ≥ 8 bytes, not the whole datagram: parse the header from a copy whose
  // total length is set to what is present, then restore the real payload length.
  const copy = bytes.slice(offset, offset + length);
  const realTotal = rd16(copy, 2);
  wr16(copy, 2, Math.min(realTotal, length));
  const r = parseIpv4Repr(copy, 0, length);
  r.payloadLength = realTotal - hl;
  return r;
}

/** An ICMPv4 message as plain data. */
export type Icmpv4Repr =
  | { kind: 'echoRequest' | 'echoReply'; identifier: number; sequence: number; data: Uint8Array }
  | { kind: 'destinationUnreachable'; code: number; nextHopMtu: number; quoted: Uint8Array }
  | { kind: 'timeExceeded'; code: number; quoted: Uint8Array }
  | { kind: 'other'; type: number; code: number; rest: number; data: Uint8Array };

/** Checks and parses a message of `length` bytes (default: all after offset). */
export function parseIcmpv4Repr(bytes: Uint8Array, offset = 0, length?: number): Icmpv4Repr {
  const len = span('icmp', bytes, offset, length);
  Icmpv4View.check(bytes, offset, len);
  const v = new Icmpv4View(bytes, offset, len);
  const data = bytes.slice(offset + 8, offset + len);
  const t = v.type;
  if ((t === 0 || t === 8) && v.code === 0) return { kind: t === 8 ? 'echoRequest' : 'echoReply', identifier: v.identifier, sequence: v.sequence, data };
  if (t === 3) return { kind: 'destinationUnreachable', code: v.code, nextHopMtu: v.nextHopMtu, quoted: data };
  if (t === 11) return { kind: 'timeExceeded', code: v.code, quoted: data };
  return { kind: 'other', type: t, code: v.code, rest: ((rd16(bytes, offset + 4) << 16) | rd16(bytes, offset + 6)) >>> 0, data };
}

/** Message length the repr emits. */
export function icmpv4ReprLength(repr: Icmpv4Repr): number {
  return ICMPV4_HEADER_LENGTH + ('quoted' in repr ? repr.quoted.length : repr.data.length);
}

/** Writes the whole message (checksum filled) at offset; returns its length. */
export function emitIcmpv4Repr(repr: Icmpv4Repr, bytes: Uint8Array, offset = 0): number {
  const len = icmpv4ReprLength(repr);
  needRoom('icmp', bytes, offset, len);
  bytes.fill(0, offset, offset + 8);
  switch (repr.kind) {
    case 'echoRequest':
    case 'echoReply':
      bytes[offset] = repr.kind === 'echoRequest' ? 8 : 0;
      wr16(bytes, offset + 4, uint('icmp', 'ident', repr.identifier, 0xffff));
      wr16(bytes, offset + 6, uint('icmp', 'seq', repr.sequence, 0xffff));
      bytes.set(repr.data, offset + 8);
      break;
    case 'destinationUnreachable':
      bytes[offset] = 3;
      bytes[offset + 1] = uint('icmp', 'code', repr.code, 255);
      wr16(bytes, offset + 6, uint('icmp', 'mtu', repr.nextHopMtu, 0xffff));
      bytes.set(repr.quoted, offset + 8);
      break;
    case 'timeExceeded':
      bytes[offset] = 11;
      bytes[offset + 1] = uint('icmp', 'code', repr.code, 255);
      bytes.set(repr.quoted, offset + 8);
      break;
    case 'other':
      bytes[offset] = uint('icmp', 'type', repr.type, 255);
      bytes[offset + 1] = uint('icmp', 'code', repr.code, 255);
      wr16(bytes, offset + 4, uint('icmp', 'rest', repr.rest, 0xffffffff) >>> 16);
      wr16(bytes, offset + 6, repr.rest & 0xffff);
      bytes.set(repr.data, offset + 8);
      break;
  }
  new Icmpv4View(bytes, offset, len).fillChecksum();
  return len;
}

/** Builds the message. For errors, `quoted` is the offending datagram's header + ≥ 8 bytes (RFC 792). */
export function buildIcmpv4(repr: Icmpv4Repr): Uint8Array {
  const out = new Uint8Array(icmpv4ReprLength(repr));
  emitIcmpv4Repr(repr, out, 0);
  return out;
}
