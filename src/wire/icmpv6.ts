// ICMPv6 (RFC 4443): echo, errors with the quoted packet; Neighbor Discovery (RFC 4861 §4.3-4.4)
// solicitation and advertisement with link-layer address options. Checksum over the IPv6 pseudo-header.
import { foldChecksum, onesComplementSum } from './checksum.js';
import { formatIpv6Address, formatMacAddress, parseIpv6Address, parseMacAddress } from './address.js';
import { ipPseudoHeaderSum, type IpEndpoints } from './udp.js';
import { invalid, needRoom, rd16, rd32, span, truncated, uint, wr16, wr32 } from './wire-util.js';

/** ICMPv6 message types the codec names. */
export enum Icmpv6Type {
  DestinationUnreachable = 1,
  PacketTooBig = 2,
  TimeExceeded = 3,
  ParameterProblem = 4,
  EchoRequest = 128,
  EchoReply = 129,
  RouterSolicitation = 133,
  RouterAdvertisement = 134,
  NeighborSolicitation = 135,
  NeighborAdvertisement = 136,
}

/** ICMPv6 header (type, code, checksum, 4 bytes). */
export const ICMPV6_HEADER_LENGTH = 8;
/** NS/NA: header + 16-byte target. */
export const ICMPV6_ND_LENGTH = 24;

/** Zero-copy view of an ICMPv6 message at `offset` of `length` bytes (the IPv6 upper-layer length). */
export class Icmpv6View {
  bytes: Uint8Array;
  offset: number;
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

  /**
   * Validates: 8-byte header; NS/NA need the 24-byte body and well-formed options (RFC 4861 §4.6: length
   * in 8-octet units, never 0). Returns the fixed length (8 or 24).
   */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('icmpv6', bytes, offset, length);
    if (len < ICMPV6_HEADER_LENGTH) throw truncated('icmpv6', 'header', offset, ICMPV6_HEADER_LENGTH, len);
    const t = bytes[offset]!;
    if (t === 135 || t === 136) {
      if (len < ICMPV6_ND_LENGTH) throw truncated('icmpv6', 'nd.target', offset + 8, 16, len - 8);
      let p = offset + ICMPV6_ND_LENGTH;
      const end = offset + len;
      while (p < end) {
        if (p + 2 > end) throw truncated('icmpv6', 'opt', p, 2, end - p);
        const l = bytes[p + 1]! * 8;
        if (l === 0) throw invalid('icmpv6', 'opt.length', p + 1, '>= 1', 0);
        if (p + l > end) throw truncated('icmpv6', 'opt', p, l, end - p);
        p += l;
      }
      return ICMPV6_ND_LENGTH;
    }
    return ICMPV6_HEADER_LENGTH;
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
  get identifier(): number {
    return rd16(this.bytes, this.offset + 4);
  }
  set identifier(v: number) {
    wr16(this.bytes, this.offset + 4, v);
  }
  get sequence(): number {
    return rd16(this.bytes, this.offset + 6);
  }
  set sequence(v: number) {
    wr16(this.bytes, this.offset + 6, v);
  }
  /** Packet Too Big MTU / Parameter Problem pointer (bytes 4-7). */
  get mtu(): number {
    return rd32(this.bytes, this.offset + 4);
  }
  set mtu(v: number) {
    wr32(this.bytes, this.offset + 4, v);
  }
  /** NA flags: Router, Solicited, Override (RFC 4861 §4.4). */
  get routerFlag(): boolean {
    return (this.bytes[this.offset + 4]! & 0x80) !== 0;
  }
  get solicitedFlag(): boolean {
    return (this.bytes[this.offset + 4]! & 0x40) !== 0;
  }
  get overrideFlag(): boolean {
    return (this.bytes[this.offset + 4]! & 0x20) !== 0;
  }
  /** Absolute offset of the NS/NA target address. */
  get targetOffset(): number {
    return this.offset + 8;
  }
  get isError(): boolean {
    return this.type < 128;
  }
  /** Absolute offset of the first option of `type` in an NS/NA, or -1. */
  findNdOption(type: number): number {
    let p = this.offset + ICMPV6_ND_LENGTH;
    const end = this.offset + this.length;
    while (p + 2 <= end) {
      const l = this.bytes[p + 1]! * 8;
      if (l === 0 || p + l > end) return -1;
      if (this.bytes[p] === type) return p;
      p += l;
    }
    return -1;
  }
  computeChecksum(pseudoSum: number): number {
    const sum = onesComplementSum(this.bytes, pseudoSum, this.offset, this.length);
    return ~foldChecksum(sum + (~this.checksum & 0xffff)) & 0xffff;
  }
  verifyChecksum(pseudoSum: number): boolean {
    return onesComplementSum(this.bytes, pseudoSum, this.offset, this.length) === 0xffff;
  }
  fillChecksum(pseudoSum: number): void {
    this.checksum = 0;
    this.checksum = ~onesComplementSum(this.bytes, pseudoSum, this.offset, this.length) & 0xffff;
  }
}

/** An ICMPv6 message as plain data. Link-layer addresses are MAC text. */
export type Icmpv6Repr =
  | { kind: 'echoRequest' | 'echoReply'; identifier: number; sequence: number; data: Uint8Array }
  | { kind: 'neighborSolicitation'; target: string; sourceLinkAddress?: string }
  | { kind: 'neighborAdvertisement'; router: boolean; solicited: boolean; override: boolean; target: string; targetLinkAddress?: string }
  | { kind: 'destinationUnreachable' | 'timeExceeded'; code: number; quoted: Uint8Array }
  | { kind: 'packetTooBig'; mtu: number; quoted: Uint8Array }
  | { kind: 'other'; type: number; code: number; rest: number; data: Uint8Array };

/** Checks and parses (checksum not verified: that needs the IPv6 addresses — see Icmpv6View). */
export function parseIcmpv6Repr(bytes: Uint8Array, offset = 0, length?: number): Icmpv6Repr {
  const len = span('icmpv6', bytes, offset, length);
  Icmpv6View.check(bytes, offset, len);
  const v = new Icmpv6View(bytes, offset, len);
  const t = v.type;
  const rest = bytes.slice(offset + 8, offset + len);
  if ((t === 128 || t === 129) && v.code === 0) return { kind: t === 128 ? 'echoRequest' : 'echoReply', identifier: v.identifier, sequence: v.sequence, data: rest };
  if (t === 135 || t === 136) {
    const target = formatIpv6Address(bytes, offset + 8);
    const lla = v.findNdOption(t === 135 ? 1 : 2);
    const link = lla >= 0 && bytes[lla + 1] === 1 ? formatMacAddress(bytes, lla + 2) : undefined;
    if (t === 135) return link === undefined ? { kind: 'neighborSolicitation', target } : { kind: 'neighborSolicitation', target, sourceLinkAddress: link };
    const na = { kind: 'neighborAdvertisement' as const, router: v.routerFlag, solicited: v.solicitedFlag, override: v.overrideFlag, target };
    return link === undefined ? na : { ...na, targetLinkAddress: link };
  }
  if (t === 1 || t === 3) return { kind: t === 1 ? 'destinationUnreachable' : 'timeExceeded', code: v.code, quoted: rest };
  if (t === 2) return { kind: 'packetTooBig', mtu: v.mtu, quoted: rest };
  return { kind: 'other', type: t, code: v.code, rest: v.mtu, data: rest };
}

/** Message length the repr emits. */
export function icmpv6ReprLength(repr: Icmpv6Repr): number {
  switch (repr.kind) {
    case 'neighborSolicitation':
      return ICMPV6_ND_LENGTH + (repr.sourceLinkAddress !== undefined ? 8 : 0);
    case 'neighborAdvertisement':
      return ICMPV6_ND_LENGTH + (repr.targetLinkAddress !== undefined ? 8 : 0);
    case 'destinationUnreachable':
    case 'timeExceeded':
    case 'packetTooBig':
      return ICMPV6_HEADER_LENGTH + repr.quoted.length;
    default:
      return ICMPV6_HEADER_LENGTH + repr.data.length;
  }
}

/** Writes the message at offset; with `ip` the checksum is filled (else left 0). Returns its length. */
export function emitIcmpv6Repr(repr: Icmpv6Repr, bytes: Uint8Array, offset = 0, ip?: IpEndpoints): number {
  const len = icmpv6ReprLength(repr);
  needRoom('icmpv6', bytes, offset, len);
  bytes.fill(0, offset, offset + len);
  switch (repr.kind) {
    case 'echoRequest':
    case 'echoReply':
      bytes[offset] = repr.kind === 'echoRequest' ? 128 : 129;
      wr16(bytes, offset + 4, uint('icmpv6', 'echo.identifier', repr.identifier, 0xffff));
      wr16(bytes, offset + 6, uint('icmpv6', 'echo.sequence_number', repr.sequence, 0xffff));
      bytes.set(repr.data, offset + 8);
      break;
    case 'neighborSolicitation':
    case 'neighborAdvertisement': {
      const ns = repr.kind === 'neighborSolicitation';
      bytes[offset] = ns ? 135 : 136;
      if (repr.kind === 'neighborAdvertisement') bytes[offset + 4] = (repr.router ? 0x80 : 0) | (repr.solicited ? 0x40 : 0) | (repr.override ? 0x20 : 0);
      bytes.set(parseIpv6Address(repr.target), offset + 8);
      const link = repr.kind === 'neighborSolicitation' ? repr.sourceLinkAddress : repr.targetLinkAddress;
      if (link !== undefined) {
        bytes[offset + 24] = ns ? 1 : 2;
        bytes[offset + 25] = 1;
        bytes.set(parseMacAddress(link), offset + 26);
      }
      break;
    }
    case 'destinationUnreachable':
    case 'timeExceeded':
      bytes[offset] = repr.kind === 'destinationUnreachable' ? 1 : 3;
      bytes[offset + 1] = uint('icmpv6', 'code', repr.code, 255);
      bytes.set(repr.quoted, offset + 8);
      break;
    case 'packetTooBig':
      bytes[offset] = 2;
      wr32(bytes, offset + 4, uint('icmpv6', 'mtu', repr.mtu, 0xffffffff));
      bytes.set(repr.quoted, offset + 8);
      break;
    case 'other':
      bytes[offset] = uint('icmpv6', 'type', repr.type, 255);
      bytes[offset + 1] = uint('icmpv6', 'code', repr.code, 255);
      wr32(bytes, offset + 4, uint('icmpv6', 'rest', repr.rest, 0xffffffff));
      bytes.set(repr.data, offset + 8);
      break;
  }
  if (ip) new Icmpv6View(bytes, offset, len).fillChecksum(ipPseudoHeaderSum(ip.src, ip.dst, 58, len));
  return len;
}

/** Builds the message; with `ip` the checksum is computed over the IPv6 pseudo-header. */
export function buildIcmpv6(repr: Icmpv6Repr, ip?: IpEndpoints): Uint8Array {
  const out = new Uint8Array(icmpv6ReprLength(repr));
  emitIcmpv6Repr(repr, out, 0, ip);
  return out;
}
