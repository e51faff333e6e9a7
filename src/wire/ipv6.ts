// IPv6 (RFC 8200): fixed header and extension-header walking (hop-by-hop, routing, fragment, destination
// options, AH), without allocating.
import { NetworkError } from '../errors.js';
import { foldChecksum } from './checksum.js';
import { formatIpv6Address, parseIpv6Address } from './address.js';
import { invalid, needRoom, rd16, rd32, span, truncated, uint, wr16, wr32 } from './wire-util.js';

/** The fixed IPv6 header length. */
export const IPV6_HEADER_LENGTH = 40;
/** Most extension headers walked before the packet is called invalid (a bound against hostile chains). */
export const IPV6_MAX_EXTENSIONS = 16;

/** True for the next-header values RFC 8200 §4 chains as extension headers (plus AH, RFC 4302). */
export function isIpv6ExtensionHeader(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 51;
}

/** Length in bytes of the extension header at p of type nh (bytes must hold p..p+2). */
function extLength(bytes: Uint8Array, p: number, nh: number): number {
  if (nh === 44) return 8; // RFC 8200 §4.5: the fragment header is always 8 bytes
  if (nh === 51) return (bytes[p + 1]! + 2) * 4; // RFC 4302 §2.2: AH length in 4-octet units minus 2
  return (bytes[p + 1]! + 1) * 8; // RFC 8200 §4.3: Hdr Ext Len in 8-octet units, not counting the first 8
}

function checkIpv6Chain(bytes: Uint8Array, offset: number, len: number): number {
  if (len < IPV6_HEADER_LENGTH) throw truncated('ipv6', 'header', offset, IPV6_HEADER_LENGTH, len);
  const ver = bytes[offset]! >>> 4;
  if (ver !== 6) throw invalid('ipv6', 'version', offset, 6, ver);
  const plen = rd16(bytes, offset + 4);
  const end = offset + Math.min(len, IPV6_HEADER_LENGTH + plen);
  let nh = bytes[offset + 6]!;
  let p = offset + IPV6_HEADER_LENGTH;
  let n = 0;
  while (isIpv6ExtensionHeader(nh)) {
    if (nh === 0 && n > 0) throw invalid('ipv6', 'hopopts', p, 'hop-by-hop first (RFC 8200 §4.1)', `at position ${n}`);
    if (++n > IPV6_MAX_EXTENSIONS) throw invalid('ipv6', 'ext_headers', p, `at most ${IPV6_MAX_EXTENSIONS}`, n);
    if (p + 2 > end) throw truncated('ipv6', 'ext_header', p, 2, end - p);
    const l = extLength(bytes, p, nh);
    if (p + l > end) throw truncated('ipv6', 'ext_header', p, l, end - p);
    nh = bytes[p]!;
    p += l;
  }
  return p - offset;
}

/** Zero-copy view of an IPv6 packet at `offset`. Extension-header walks loop over the bytes in place. */
export class Ipv6View {
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
   * Validates the fixed header and the extension-header chain inside the bytes present (for quoted
   * headers whose payload is cut). Returns the offset of the upper-layer header relative to `offset`.
   */
  static checkHeader(bytes: Uint8Array, offset = 0, length?: number): number {
    return checkIpv6Chain(bytes, offset, span('ipv6', bytes, offset, length));
  }

  /**
   * Validates untrusted input: checkHeader plus the whole payload (payload length) present; trailing bytes
   * (padding) are allowed. Returns the upper-layer header offset relative to `offset`.
   */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('ipv6', bytes, offset, length);
    if (len >= IPV6_HEADER_LENGTH && bytes[offset]! >>> 4 === 6) {
      const plen = rd16(bytes, offset + 4);
      if (IPV6_HEADER_LENGTH + plen > len) throw truncated('ipv6', 'payload', offset + IPV6_HEADER_LENGTH, plen, len - IPV6_HEADER_LENGTH);
    }
    return checkIpv6Chain(bytes, offset, len);
  }

  get version(): number {
    return this.bytes[this.offset]! >>> 4;
  }
  get trafficClass(): number {
    return ((this.bytes[this.offset]! & 0xf) << 4) | (this.bytes[this.offset + 1]! >>> 4);
  }
  set trafficClass(v: number) {
    this.bytes[this.offset] = 0x60 | ((v >>> 4) & 0xf);
    this.bytes[this.offset + 1] = ((v & 0xf) << 4) | (this.bytes[this.offset + 1]! & 0xf);
  }
  get dscp(): number {
    return this.trafficClass >>> 2;
  }
  get ecn(): number {
    return this.trafficClass & 3;
  }
  get flowLabel(): number {
    return rd32(this.bytes, this.offset) & 0xfffff;
  }
  set flowLabel(v: number) {
    wr32(this.bytes, this.offset, ((rd32(this.bytes, this.offset) & 0xfff00000) | (v & 0xfffff)) >>> 0);
  }
  get payloadLength(): number {
    return rd16(this.bytes, this.offset + 4);
  }
  set payloadLength(v: number) {
    wr16(this.bytes, this.offset + 4, v);
  }
  /** The first Next Header (may be an extension header). */
  get nextHeader(): number {
    return this.bytes[this.offset + 6]!;
  }
  set nextHeader(v: number) {
    this.bytes[this.offset + 6] = v;
  }
  get hopLimit(): number {
    return this.bytes[this.offset + 7]!;
  }
  set hopLimit(v: number) {
    this.bytes[this.offset + 7] = v;
  }
  /** Absolute offsets of the 16-byte addresses. */
  get srcOffset(): number {
    return this.offset + 8;
  }
  get dstOffset(): number {
    return this.offset + 24;
  }
  /** Source/destination as subarrays (these allocate a view object; the offsets above do not). */
  srcBytes(): Uint8Array {
    return this.bytes.subarray(this.offset + 8, this.offset + 24);
  }
  dstBytes(): Uint8Array {
    return this.bytes.subarray(this.offset + 24, this.offset + 40);
  }
  /** Text forms (RFC 5952). */
  srcString(): string {
    return formatIpv6Address(this.bytes, this.offset + 8);
  }
  dstString(): string {
    return formatIpv6Address(this.bytes, this.offset + 24);
  }
  setSrc(addr: Uint8Array): void {
    this.bytes.set(addr.subarray(0, 16), this.offset + 8);
  }
  setDst(addr: Uint8Array): void {
    this.bytes.set(addr.subarray(0, 16), this.offset + 24);
  }

  /** Walks the chain: the upper-layer protocol (or 59 No Next Header / 50 ESP). Assumes check() passed. */
  get upperProtocol(): number {
    let nh = this.bytes[this.offset + 6]!;
    let p = this.offset + IPV6_HEADER_LENGTH;
    for (let n = 0; n < IPV6_MAX_EXTENSIONS && isIpv6ExtensionHeader(nh) && p + 2 <= this.bytes.length; n++) {
      const l = extLength(this.bytes, p, nh);
      nh = this.bytes[p]!;
      p += l;
    }
    return nh;
  }
  /** Absolute offset of the upper-layer header. Assumes check() passed. */
  get upperOffset(): number {
    let nh = this.bytes[this.offset + 6]!;
    let p = this.offset + IPV6_HEADER_LENGTH;
    for (let n = 0; n < IPV6_MAX_EXTENSIONS && isIpv6ExtensionHeader(nh) && p + 2 <= this.bytes.length; n++) {
      const l = extLength(this.bytes, p, nh);
      nh = this.bytes[p]!;
      p += l;
    }
    return p;
  }
  /** Upper-layer length: payload length minus the extension headers. */
  get upperLength(): number {
    return this.offset + IPV6_HEADER_LENGTH + this.payloadLength - this.upperOffset;
  }
  /** Absolute offset of the Fragment header, or -1. */
  get fragmentHeaderOffset(): number {
    let nh = this.bytes[this.offset + 6]!;
    let p = this.offset + IPV6_HEADER_LENGTH;
    for (let n = 0; n < IPV6_MAX_EXTENSIONS && isIpv6ExtensionHeader(nh) && p + 2 <= this.bytes.length; n++) {
      if (nh === 44) return p;
      const l = extLength(this.bytes, p, nh);
      nh = this.bytes[p]!;
      p += l;
    }
    return -1;
  }
  /** RFC 8200 §8.1 pseudo-header sum (src, dst, upper length, next header), folded; no allocation. */
  pseudoHeaderSum(upperLength = this.upperLength, nextHeader = this.upperProtocol): number {
    const b = this.bytes;
    let s = 0;
    for (let i = this.offset + 8; i < this.offset + 40; i += 2) s += (b[i]! << 8) | b[i + 1]!;
    return foldChecksum(s + (upperLength >>> 16) + (upperLength & 0xffff) + nextHeader);
  }
}

/** One extension header as plain data. Options areas are raw TLVs (RFC 8200 §4.2); emit pads with PadN. */
export type Ipv6ExtensionRepr =
  | { type: 'hopByHop'; options: Uint8Array }
  | { type: 'destination'; options: Uint8Array }
  | { type: 'routing'; routingType: number; segmentsLeft: number; data: Uint8Array }
  | { type: 'fragment'; fragmentOffset: number; moreFragments: boolean; identification: number };

/** An IPv6 packet header chain as plain data; `nextHeader` is the upper-layer protocol. */
export interface Ipv6Repr {
  src: string;
  dst: string;
  nextHeader: number;
  hopLimit: number;
  trafficClass: number;
  flowLabel: number;
  extensions: Ipv6ExtensionRepr[];
  /** Upper-layer length (payload length minus extension headers). */
  payloadLength: number;
}

/** What emit needs: src, dst, nextHeader; the rest defaults (hop limit 64, no extensions). */
export type Ipv6ReprInput = Pick<Ipv6Repr, 'src' | 'dst' | 'nextHeader'> & Partial<Ipv6Repr>;

const EXT_NUMBER = { hopByHop: 0, routing: 43, fragment: 44, destination: 60 } as const;

/** Checks and parses; AH is UNSUPPORTED in the repr (the view walks it). */
export function parseIpv6Repr(bytes: Uint8Array, offset = 0, length?: number): Ipv6Repr {
  const upper = Ipv6View.check(bytes, offset, length);
  const v = new Ipv6View(bytes, offset);
  const extensions: Ipv6ExtensionRepr[] = [];
  let nh = v.nextHeader;
  let p = offset + IPV6_HEADER_LENGTH;
  while (isIpv6ExtensionHeader(nh)) {
    const l = extLength(bytes, p, nh);
    if (nh === 0 || nh === 60) extensions.push({ type: nh === 0 ? 'hopByHop' : 'destination', options: bytes.slice(p + 2, p + l) });
    else if (nh === 43) extensions.push({ type: 'routing', routingType: bytes[p + 2]!, segmentsLeft: bytes[p + 3]!, data: bytes.slice(p + 4, p + l) });
    else if (nh === 44) {
      const fo = rd16(bytes, p + 2);
      extensions.push({ type: 'fragment', fragmentOffset: fo & 0xfff8, moreFragments: (fo & 1) !== 0, identification: rd32(bytes, p + 4) });
    } else throw new NetworkError('UNSUPPORTED', 'ipv6: the repr does not carry AH headers', { offset: p, field: 'ipv6.nxt', actual: nh });
    nh = bytes[p]!;
    p += l;
  }
  return {
    src: formatIpv6Address(bytes, offset + 8),
    dst: formatIpv6Address(bytes, offset + 24),
    nextHeader: nh,
    hopLimit: v.hopLimit,
    trafficClass: v.trafficClass,
    flowLabel: v.flowLabel,
    extensions,
    payloadLength: v.payloadLength - (upper - IPV6_HEADER_LENGTH),
  };
}

function extReprLength(e: Ipv6ExtensionRepr): number {
  if (e.type === 'fragment') return 8;
  const body = e.type === 'routing' ? 4 + e.data.length : 2 + e.options.length;
  return (body + 7) & ~7;
}

/** Fixed header plus extension headers the repr emits. */
export function ipv6ReprHeaderLength(repr: Ipv6ReprInput): number {
  let l = IPV6_HEADER_LENGTH;
  for (const e of repr.extensions ?? []) l += extReprLength(e);
  return l;
}

/** Writes the header chain at offset; returns its length. */
export function emitIpv6Repr(repr: Ipv6ReprInput, bytes: Uint8Array, offset = 0): number {
  const hl = ipv6ReprHeaderLength(repr);
  needRoom('ipv6', bytes, offset, hl);
  const exts = repr.extensions ?? [];
  const plen = uint('ipv6', 'plen', hl - IPV6_HEADER_LENGTH + (repr.payloadLength ?? 0), 0xffff);
  const tc = uint('ipv6', 'tclass', repr.trafficClass ?? 0, 255);
  wr32(bytes, offset, ((6 << 28) | (tc << 20) | uint('ipv6', 'flow', repr.flowLabel ?? 0, 0xfffff)) >>> 0);
  wr16(bytes, offset + 4, plen);
  bytes[offset + 6] = exts.length > 0 ? EXT_NUMBER[exts[0]!.type] : uint('ipv6', 'nxt', repr.nextHeader, 255);
  bytes[offset + 7] = uint('ipv6', 'hlim', repr.hopLimit ?? 64, 255);
  bytes.set(parseIpv6Address(repr.src), offset + 8);
  bytes.set(parseIpv6Address(repr.dst), offset + 24);
  let p = offset + IPV6_HEADER_LENGTH;
  for (let i = 0; i < exts.length; i++) {
    const e = exts[i]!;
    const l = extReprLength(e);
    const next = i + 1 < exts.length ? EXT_NUMBER[exts[i + 1]!.type] : repr.nextHeader;
    bytes.fill(0, p, p + l);
    bytes[p] = next;
    if (e.type === 'fragment') {
      const fo = uint('ipv6', 'fragment.offset', e.fragmentOffset, 0xfff8);
      if (fo % 8 !== 0) throw new NetworkError('INVALID_ARGUMENT', `ipv6: fragment offset ${fo} is not a multiple of 8`, { field: 'ipv6.fragment.offset', actual: fo });
      wr16(bytes, p + 2, fo | (e.moreFragments ? 1 : 0));
      wr32(bytes, p + 4, uint('ipv6', 'fragment.id', e.identification, 0xffffffff));
    } else {
      bytes[p + 1] = l / 8 - 1;
      let q: number;
      if (e.type === 'routing') {
        bytes[p + 2] = uint('ipv6', 'routing.type', e.routingType, 255);
        bytes[p + 3] = uint('ipv6', 'routing.segleft', e.segmentsLeft, 255);
        bytes.set(e.data, p + 4);
        q = p + l; // routing data is type-specific, not TLVs: zero fill

      } else {
        bytes.set(e.options, p + 2);
        q = p + 2 + e.options.length;
      }
      // RFC 8200 §4.2: pad the options area to a multiple of 8 with Pad1 (one byte) or PadN.
      const pad = p + l - q;
      if (pad === 1) bytes[q] = 0;
      else if (pad > 1) {
        bytes[q] = 1;
        bytes[q + 1] = pad - 2;
      }
    }
    p += l;
  }
  return hl;
}

/** Builds the header chain + payload; `payloadLength` comes from the payload. */
export function buildIpv6(repr: Ipv6ReprInput, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hl = ipv6ReprHeaderLength(repr);
  const out = new Uint8Array(hl + payload.length);
  emitIpv6Repr({ ...repr, payloadLength: payload.length }, out, 0);
  out.set(payload, hl);
  return out;
}
