// IPv4 (RFC 791): header with options, DF/MF, fragment offset, header checksum; the guide's Ipv4Packet.
import { NetworkError } from '../errors.js';
import { foldChecksum, onesComplementSum } from './checksum.js';
import { formatIpv4Address, parseIpv4Address, readIpv4Address, writeIpv4Address } from './address.js';
import { invalid, needRoom, rd16, span, truncated, uint, wr16 } from './wire-util.js';

/** IP protocol numbers (IANA "Assigned Internet Protocol Numbers") used by the codecs. */
export enum IpProtocol {
  HopByHop = 0,
  Icmp = 1,
  Igmp = 2,
  Ipv4 = 4,
  Tcp = 6,
  Udp = 17,
  Ipv6 = 41,
  Ipv6Route = 43,
  Ipv6Frag = 44,
  Gre = 47,
  Esp = 50,
  Ah = 51,
  Icmpv6 = 58,
  Ipv6NoNext = 59,
  Ipv6Opts = 60,
  Sctp = 132,
}

/** Smallest IPv4 header (IHL 5). */
export const IPV4_MIN_HEADER_LENGTH = 20;
/** Largest IPv4 header (IHL 15). */
export const IPV4_MAX_HEADER_LENGTH = 60;

/** RFC 791 §3.1 option list: EOL ends it, NOP is one byte, others are type-length-value with length ≥ 2. */
function checkIpv4Options(bytes: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end) {
    const t = bytes[p]!;
    if (t === 0) return;
    if (t === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) throw truncated('ip', 'opt.len', p, 2, end - p);
    const l = bytes[p + 1]!;
    if (l < 2) throw invalid('ip', 'opt.len', p + 1, '>= 2', l);
    if (p + l > end) throw invalid('ip', 'opt.len', p + 1, `<= ${end - p}`, l);
    p += l;
  }
}

function checkIpv4Header(bytes: Uint8Array, offset: number, len: number): number {
  if (len < IPV4_MIN_HEADER_LENGTH) throw truncated('ip', 'header', offset, IPV4_MIN_HEADER_LENGTH, len);
  const vihl = bytes[offset]!;
  if (vihl >>> 4 !== 4) throw invalid('ip', 'version', offset, 4, vihl >>> 4);
  const hl = (vihl & 0xf) * 4;
  if (hl < IPV4_MIN_HEADER_LENGTH) throw invalid('ip', 'hdr_len', offset, '>= 20', hl);
  if (len < hl) throw truncated('ip', 'options', offset + 20, hl - 20, len - 20);
  const total = rd16(bytes, offset + 2);
  if (total < hl) throw invalid('ip', 'len', offset + 2, `>= ${hl}`, total);
  if (hl > IPV4_MIN_HEADER_LENGTH) checkIpv4Options(bytes, offset + 20, offset + hl);
  return hl;
}

/** Zero-copy view of an IPv4 header at `offset`; addresses read as uint32. */
export class Ipv4View {
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

  /**
   * Validates the header alone (version, IHL, options, total length ≥ IHL) — for quoted headers in ICMP
   * errors, whose payload is cut short. Returns the header length.
   */
  static checkHeader(bytes: Uint8Array, offset = 0, length?: number): number {
    return checkIpv4Header(bytes, offset, span('ip', bytes, offset, length));
  }

  /**
   * Validates untrusted input: checkHeader plus the whole datagram (total length) present. Bytes beyond
   * the total length (Ethernet padding) are allowed. Returns the header length.
   */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('ip', bytes, offset, length);
    const hl = checkIpv4Header(bytes, offset, len);
    const total = rd16(bytes, offset + 2);
    if (total > len) throw truncated('ip', 'payload', offset + hl, total - hl, len - hl);
    return hl;
  }

  get version(): number {
    return this.bytes[this.offset]! >>> 4;
  }
  /** Header length in bytes (IHL × 4). */
  get headerLength(): number {
    return (this.bytes[this.offset]! & 0xf) * 4;
  }
  set headerLength(v: number) {
    this.bytes[this.offset] = 0x40 | ((v >>> 2) & 0xf);
  }
  /** The whole TOS byte (DSCP << 2 | ECN). */
  get tos(): number {
    return this.bytes[this.offset + 1]!;
  }
  set tos(v: number) {
    this.bytes[this.offset + 1] = v;
  }
  get dscp(): number {
    return this.bytes[this.offset + 1]! >>> 2;
  }
  set dscp(v: number) {
    this.bytes[this.offset + 1] = ((v & 0x3f) << 2) | (this.bytes[this.offset + 1]! & 3);
  }
  get ecn(): number {
    return this.bytes[this.offset + 1]! & 3;
  }
  set ecn(v: number) {
    this.bytes[this.offset + 1] = (this.bytes[this.offset + 1]! & 0xfc) | (v & 3);
  }
  get totalLength(): number {
    return rd16(this.bytes, this.offset + 2);
  }
  set totalLength(v: number) {
    wr16(this.bytes, this.offset + 2, v);
  }
  get identification(): number {
    return rd16(this.bytes, this.offset + 4);
  }
  set identification(v: number) {
    wr16(this.bytes, this.offset + 4, v);
  }
  /** The 3 flag bits (reserved, DF, MF) as a number 0..7. */
  get flags(): number {
    return this.bytes[this.offset + 6]! >>> 5;
  }
  set flags(v: number) {
    this.bytes[this.offset + 6] = ((v & 7) << 5) | (this.bytes[this.offset + 6]! & 0x1f);
  }
  /** RFC 791 bit 0, must be zero (RFC 3514's "evil bit"). */
  get reservedFlag(): boolean {
    return (this.bytes[this.offset + 6]! & 0x80) !== 0;
  }
  set reservedFlag(v: boolean) {
    this.bytes[this.offset + 6] = v ? this.bytes[this.offset + 6]! | 0x80 : this.bytes[this.offset + 6]! & 0x7f;
  }
  get dontFragment(): boolean {
    return (this.bytes[this.offset + 6]! & 0x40) !== 0;
  }
  set dontFragment(v: boolean) {
    this.bytes[this.offset + 6] = v ? this.bytes[this.offset + 6]! | 0x40 : this.bytes[this.offset + 6]! & 0xbf;
  }
  get moreFragments(): boolean {
    return (this.bytes[this.offset + 6]! & 0x20) !== 0;
  }
  set moreFragments(v: boolean) {
    this.bytes[this.offset + 6] = v ? this.bytes[this.offset + 6]! | 0x20 : this.bytes[this.offset + 6]! & 0xdf;
  }
  /** Fragment offset in 8-byte units (the raw 13-bit field). */
  get fragmentOffsetUnits(): number {
    return rd16(this.bytes, this.offset + 6) & 0x1fff;
  }
  set fragmentOffsetUnits(v: number) {
    wr16(this.bytes, this.offset + 6, (rd16(this.bytes, this.offset + 6) & 0xe000) | (v & 0x1fff));
  }
  /** Fragment offset in bytes. */
  get fragmentOffset(): number {
    return (rd16(this.bytes, this.offset + 6) & 0x1fff) * 8;
  }
  set fragmentOffset(v: number) {
    this.fragmentOffsetUnits = v >>> 3;
  }
  /** True for any fragment (MF set or a non-zero offset). */
  get isFragment(): boolean {
    return (rd16(this.bytes, this.offset + 6) & 0x3fff) !== 0;
  }
  get ttl(): number {
    return this.bytes[this.offset + 8]!;
  }
  set ttl(v: number) {
    this.bytes[this.offset + 8] = v;
  }
  get protocol(): number {
    return this.bytes[this.offset + 9]!;
  }
  set protocol(v: number) {
    this.bytes[this.offset + 9] = v;
  }
  get checksum(): number {
    return rd16(this.bytes, this.offset + 10);
  }
  set checksum(v: number) {
    wr16(this.bytes, this.offset + 10, v);
  }
  /** Source address as a uint32. */
  get src(): number {
    return readIpv4Address(this.bytes, this.offset + 12);
  }
  set src(v: number) {
    writeIpv4Address(this.bytes, this.offset + 12, v);
  }
  get dst(): number {
    return readIpv4Address(this.bytes, this.offset + 16);
  }
  set dst(v: number) {
    writeIpv4Address(this.bytes, this.offset + 16, v);
  }
  /** Absolute offset of the options (they run to offset + headerLength). */
  get optionsOffset(): number {
    return this.offset + 20;
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /** Total length minus header length (the transport segment's length). */
  get payloadLength(): number {
    return this.totalLength - this.headerLength;
  }
  /** RFC 1071 header checksum over the header as it stands, field zeroed. */
  computeChecksum(): number {
    const hl = this.headerLength;
    const stored = this.checksum;
    const sum = onesComplementSum(this.bytes, 0, this.offset, hl);
    // Subtract the stored field in ones' complement arithmetic instead of zeroing it (no write).
    return ~foldChecksum(sum + (~stored & 0xffff)) & 0xffff;
  }
  /** True when the header checksum is right. */
  verifyChecksum(): boolean {
    return onesComplementSum(this.bytes, 0, this.offset, this.headerLength) === 0xffff;
  }
  /** Writes the right header checksum. */
  fillChecksum(): void {
    this.checksum = 0;
    this.checksum = ~onesComplementSum(this.bytes, 0, this.offset, this.headerLength) & 0xffff;
  }
  /** RFC 793/768 pseudo-header sum for an upper-layer length (TCP/UDP checksums), folded; no allocation. */
  pseudoHeaderSum(upperLength = this.payloadLength, protocol = this.protocol): number {
    const b = this.bytes;
    const o = this.offset;
    return foldChecksum(rd16(b, o + 12) + rd16(b, o + 14) + rd16(b, o + 16) + rd16(b, o + 18) + protocol + (upperLength & 0xffff));
  }
}

/** An IPv4 header as plain data. `fragmentOffset` is in bytes (a multiple of 8). */
export interface Ipv4Repr {
  src: string;
  dst: string;
  protocol: number;
  ttl: number;
  dscp: number;
  ecn: number;
  identification: number;
  dontFragment: boolean;
  moreFragments: boolean;
  fragmentOffset: number;
  /** Raw option bytes (padded to a multiple of 4 on emit with EOL). */
  options: Uint8Array;
  payloadLength: number;
}

/** What emit needs: src, dst, protocol; the rest defaults (TTL 64, no options, zeros). */
export type Ipv4ReprInput = Pick<Ipv4Repr, 'src' | 'dst' | 'protocol'> & Partial<Ipv4Repr>;

/** Checks and parses the datagram at offset. */
export function parseIpv4Repr(bytes: Uint8Array, offset = 0, length?: number): Ipv4Repr {
  const hl = Ipv4View.check(bytes, offset, length);
  const v = new Ipv4View(bytes, offset);
  return {
    src: formatIpv4Address(v.src),
    dst: formatIpv4Address(v.dst),
    protocol: v.protocol,
    ttl: v.ttl,
    dscp: v.dscp,
    ecn: v.ecn,
    identification: v.identification,
    dontFragment: v.dontFragment,
    moreFragments: v.moreFragments,
    fragmentOffset: v.fragmentOffset,
    options: bytes.slice(offset + 20, offset + hl),
    payloadLength: v.totalLength - hl,
  };
}

/** Header length the repr emits (20 + options rounded up to 4). */
export function ipv4ReprHeaderLength(repr: Ipv4ReprInput): number {
  const ol = repr.options?.length ?? 0;
  return IPV4_MIN_HEADER_LENGTH + ((ol + 3) & ~3);
}

/** Writes the header (checksum filled) at offset; returns its length. */
export function emitIpv4Repr(repr: Ipv4ReprInput, bytes: Uint8Array, offset = 0): number {
  const hl = ipv4ReprHeaderLength(repr);
  if (hl > IPV4_MAX_HEADER_LENGTH) throw new NetworkError('INVALID_ARGUMENT', `ip: options make a ${hl}-byte header (max 60)`, { field: 'ip.options', expected: 40, actual: repr.options?.length ?? 0 });
  needRoom('ip', bytes, offset, hl);
  const payloadLength = repr.payloadLength ?? 0;
  const total = uint('ip', 'len', hl + payloadLength, 0xffff);
  const fo = uint('ip', 'frag_offset', repr.fragmentOffset ?? 0, 0x1fff * 8);
  if (fo % 8 !== 0) throw new NetworkError('INVALID_ARGUMENT', `ip: fragment offset ${fo} is not a multiple of 8`, { field: 'ip.frag_offset', actual: fo });
  bytes[offset] = 0x40 | (hl >>> 2);
  bytes[offset + 1] = (uint('ip', 'dscp', repr.dscp ?? 0, 63) << 2) | uint('ip', 'ecn', repr.ecn ?? 0, 3);
  wr16(bytes, offset + 2, total);
  wr16(bytes, offset + 4, uint('ip', 'id', repr.identification ?? 0, 0xffff));
  wr16(bytes, offset + 6, (repr.dontFragment ? 0x4000 : 0) | (repr.moreFragments ? 0x2000 : 0) | (fo >>> 3));
  bytes[offset + 8] = uint('ip', 'ttl', repr.ttl ?? 64, 255);
  bytes[offset + 9] = uint('ip', 'proto', repr.protocol, 255);
  wr16(bytes, offset + 10, 0);
  writeIpv4Address(bytes, offset + 12, parseIpv4Address(repr.src));
  writeIpv4Address(bytes, offset + 16, parseIpv4Address(repr.dst));
  bytes.fill(0, offset + 20, offset + hl);
  if (repr.options) bytes.set(repr.options, offset + 20);
  new Ipv4View(bytes, offset).fillChecksum();
  return hl;
}

/** Builds header + payload; `payloadLength` comes from the payload. */
export function buildIpv4(repr: Ipv4ReprInput, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hl = ipv4ReprHeaderLength(repr);
  const out = new Uint8Array(hl + payload.length);
  emitIpv4Repr({ ...repr, payloadLength: payload.length }, out, 0);
  out.set(payload, hl);
  return out;
}

function toIpv4(a: string | number | ArrayLike<number>): number {
  if (typeof a === 'string') return parseIpv4Address(a);
  if (typeof a === 'number') return uint('ip', 'addr', a, 0xffffffff);
  if (a.length !== 4) throw new NetworkError('INVALID_ARGUMENT', `an IPv4 address has 4 bytes, got ${a.length}`, { expected: 4, actual: a.length });
  return ((a[0]! << 24) | (a[1]! << 16) | (a[2]! << 8) | a[3]!) >>> 0;
}

/**
 * The guide's owned IPv4 packet: `new Ipv4Packet(src, dst, IpProtocol.Tcp, payload)`,
 * `packet.headerChecksum = packet.calculateChecksum()`, `serialize()`, `Ipv4Packet.parse(bytes)`.
 * Addresses may be given as '10.0.0.1', a uint32, or 4 bytes; they are kept as strings.
 */
export class Ipv4Packet {
  version = 4;
  dscp = 0;
  ecn = 0;
  identification = 0;
  dontFragment = false;
  moreFragments = false;
  /** In bytes (a multiple of 8). */
  fragmentOffset = 0;
  ttl = 64;
  protocol: IpProtocol | number;
  /** The value serialize() writes; the constructor sets it right, recompute after changing fields. */
  headerChecksum = 0;
  src: string;
  dst: string;
  options: Uint8Array = new Uint8Array(0);
  payload: Uint8Array;

  constructor(src: string | number | ArrayLike<number>, dst: string | number | ArrayLike<number>, protocol: IpProtocol | number, payload: Uint8Array = new Uint8Array(0)) {
    this.src = formatIpv4Address(toIpv4(src));
    this.dst = formatIpv4Address(toIpv4(dst));
    this.protocol = uint('ip', 'proto', protocol, 255);
    this.payload = payload;
    this.headerChecksum = this.calculateChecksum();
  }

  /** Header length in bytes. */
  get headerLength(): number {
    return ipv4ReprHeaderLength(this.toRepr());
  }
  /** Header + payload. */
  get totalLength(): number {
    return this.headerLength + this.payload.length;
  }
  totalSize(): number {
    return this.totalLength;
  }

  toRepr(): Ipv4Repr {
    return {
      src: this.src, dst: this.dst, protocol: this.protocol, ttl: this.ttl, dscp: this.dscp, ecn: this.ecn,
      identification: this.identification, dontFragment: this.dontFragment, moreFragments: this.moreFragments,
      fragmentOffset: this.fragmentOffset, options: this.options, payloadLength: this.payload.length,
    };
  }

  /** RFC 791 header checksum of the current fields (does not store it). */
  calculateChecksum(): number {
    const hdr = new Uint8Array(ipv4ReprHeaderLength(this.toRepr()));
    emitIpv4Repr(this.toRepr(), hdr, 0);
    return new Ipv4View(hdr, 0).checksum;
  }

  /** True when `headerChecksum` matches the fields. */
  verifyChecksum(): boolean {
    return this.headerChecksum === this.calculateChecksum();
  }

  /** Header (with `headerChecksum` as stored) + payload. */
  serialize(): Uint8Array {
    const out = buildIpv4(this.toRepr(), this.payload);
    wr16(out, 10, this.headerChecksum);
    return out;
  }

  /** Parses untrusted bytes; the stored checksum is kept as found (see verifyChecksum()). */
  static parse(bytes: Uint8Array, offset = 0, length?: number): Ipv4Packet {
    const r = parseIpv4Repr(bytes, offset, length);
    const hl = 20 + r.options.length;
    const p = new Ipv4Packet(r.src, r.dst, r.protocol, bytes.slice(offset + hl, offset + hl + r.payloadLength));
    p.ttl = r.ttl;
    p.dscp = r.dscp;
    p.ecn = r.ecn;
    p.identification = r.identification;
    p.dontFragment = r.dontFragment;
    p.moreFragments = r.moreFragments;
    p.fragmentOffset = r.fragmentOffset;
    p.options = r.options;
    p.headerChecksum = rd16(bytes, offset + 10);
    return p;
  }
}
