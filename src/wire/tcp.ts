// TCP (RFC 9293): every header field and flag (incl. ECE/CWR of RFC 3168 and AE of RFC 9768), options
// MSS, window scale, SACK-permitted, SACK (RFC 2018), timestamps (RFC 7323), NOP/EOL, unknown kinds kept;
// the guide's TcpFlags, TcpSegment and TcpState.
import { NetworkError } from '../errors.js';
import { foldChecksum, onesComplementSum } from './checksum.js';
import { ipPseudoHeaderSum, type IpEndpoints } from './udp.js';
import { invalid, needRoom, rd16, rd32, span, truncated, uint, wr16, wr32 } from './wire-util.js';

/** The TCP header length without options. */
export const TCP_MIN_HEADER_LENGTH = 20;
/** With the largest data offset (15 words). */
export const TCP_MAX_HEADER_LENGTH = 60;

/** Flag bits of the 12-bit flags field (RFC 9293 §3.1; AE was the NS bit of RFC 3540). */
export const TCP_FIN = 0x001;
export const TCP_SYN = 0x002;
export const TCP_RST = 0x004;
export const TCP_PSH = 0x008;
export const TCP_ACK = 0x010;
export const TCP_URG = 0x020;
export const TCP_ECE = 0x040;
export const TCP_CWR = 0x080;
export const TCP_AE = 0x100;

/** TCP option kinds (IANA "TCP Option Kind Numbers"). */
export enum TcpOptionKind {
  Eol = 0,
  Nop = 1,
  Mss = 2,
  WindowScale = 3,
  SackPermitted = 4,
  Sack = 5,
  Timestamps = 8,
}

/** RFC 9293 §3.1 options: EOL ends the list, NOP is one byte, the rest kind-length-value with length ≥ 2. */
function checkTcpOptions(bytes: Uint8Array, start: number, end: number): void {
  let p = start;
  while (p < end) {
    const k = bytes[p]!;
    if (k === 0) return;
    if (k === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) throw truncated('tcp', 'option_len', p, 2, end - p);
    const l = bytes[p + 1]!;
    if (l < 2) throw invalid('tcp', 'option_len', p + 1, '>= 2', l);
    if (p + l > end) throw invalid('tcp', 'option_len', p + 1, `<= ${end - p}`, l);
    p += l;
  }
}

/** Zero-copy view of a TCP segment at `offset`. Options are found by walking in place (no allocation). */
export class TcpView {
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

  /** Validates: 20-byte header, data offset ≥ 5 words and present, well-formed options. Returns the header length. */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('tcp', bytes, offset, length);
    if (len < TCP_MIN_HEADER_LENGTH) throw truncated('tcp', 'header', offset, TCP_MIN_HEADER_LENGTH, len);
    const hl = (bytes[offset + 12]! >>> 4) * 4;
    if (hl < TCP_MIN_HEADER_LENGTH) throw invalid('tcp', 'hdr_len', offset + 12, '>= 20', hl);
    if (hl > len) throw truncated('tcp', 'options', offset + 20, hl - 20, len - 20);
    checkTcpOptions(bytes, offset + 20, offset + hl);
    return hl;
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
  get seqNumber(): number {
    return rd32(this.bytes, this.offset + 4);
  }
  set seqNumber(v: number) {
    wr32(this.bytes, this.offset + 4, v);
  }
  get ackNumber(): number {
    return rd32(this.bytes, this.offset + 8);
  }
  set ackNumber(v: number) {
    wr32(this.bytes, this.offset + 8, v);
  }
  /** Header length in bytes (data offset × 4). */
  get headerLength(): number {
    return (this.bytes[this.offset + 12]! >>> 4) * 4;
  }
  set headerLength(v: number) {
    this.bytes[this.offset + 12] = (((v >>> 2) & 0xf) << 4) | (this.bytes[this.offset + 12]! & 0xf);
  }
  /** The 12 bits after the data offset: 3 reserved, AE, CWR, ECE, URG, ACK, PSH, RST, SYN, FIN. */
  get flags(): number {
    return rd16(this.bytes, this.offset + 12) & 0xfff;
  }
  set flags(v: number) {
    wr16(this.bytes, this.offset + 12, (rd16(this.bytes, this.offset + 12) & 0xf000) | (v & 0xfff));
  }
  private bit(m: number): boolean {
    return (rd16(this.bytes, this.offset + 12) & m) !== 0;
  }
  private setBit(m: number, on: boolean): void {
    const v = rd16(this.bytes, this.offset + 12);
    wr16(this.bytes, this.offset + 12, on ? v | m : v & ~m);
  }
  get fin(): boolean {
    return this.bit(TCP_FIN);
  }
  set fin(v: boolean) {
    this.setBit(TCP_FIN, v);
  }
  get syn(): boolean {
    return this.bit(TCP_SYN);
  }
  set syn(v: boolean) {
    this.setBit(TCP_SYN, v);
  }
  get rst(): boolean {
    return this.bit(TCP_RST);
  }
  set rst(v: boolean) {
    this.setBit(TCP_RST, v);
  }
  get psh(): boolean {
    return this.bit(TCP_PSH);
  }
  set psh(v: boolean) {
    this.setBit(TCP_PSH, v);
  }
  get ack(): boolean {
    return this.bit(TCP_ACK);
  }
  set ack(v: boolean) {
    this.setBit(TCP_ACK, v);
  }
  get urg(): boolean {
    return this.bit(TCP_URG);
  }
  set urg(v: boolean) {
    this.setBit(TCP_URG, v);
  }
  get ece(): boolean {
    return this.bit(TCP_ECE);
  }
  set ece(v: boolean) {
    this.setBit(TCP_ECE, v);
  }
  get cwr(): boolean {
    return this.bit(TCP_CWR);
  }
  set cwr(v: boolean) {
    this.setBit(TCP_CWR, v);
  }
  get ae(): boolean {
    return this.bit(TCP_AE);
  }
  set ae(v: boolean) {
    this.setBit(TCP_AE, v);
  }
  get window(): number {
    return rd16(this.bytes, this.offset + 14);
  }
  set window(v: number) {
    wr16(this.bytes, this.offset + 14, v);
  }
  get checksum(): number {
    return rd16(this.bytes, this.offset + 16);
  }
  set checksum(v: number) {
    wr16(this.bytes, this.offset + 16, v);
  }
  get urgentPointer(): number {
    return rd16(this.bytes, this.offset + 18);
  }
  set urgentPointer(v: number) {
    wr16(this.bytes, this.offset + 18, v);
  }
  get optionsOffset(): number {
    return this.offset + 20;
  }
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /**
   * Absolute offset of the first option of `kind` whose length is `len` (0 = any), or -1. Options with a
   * wrong length are skipped, as Linux tcp_parse_options() does.
   */
  findOption(kind: number, len = 0): number {
    const b = this.bytes;
    const end = Math.min(b.length, this.offset + this.headerLength);
    let p = this.offset + 20;
    while (p < end) {
      const k = b[p]!;
      if (k === 0) return -1;
      if (k === 1) {
        p++;
        continue;
      }
      if (p + 1 >= end) return -1;
      const l = b[p + 1]!;
      if (l < 2 || p + l > end) return -1;
      if (k === kind && (len === 0 || l === len)) return p;
      p += l;
    }
    return -1;
  }
  /** MSS option value, or -1. */
  get mss(): number {
    const p = this.findOption(2, 4);
    return p < 0 ? -1 : rd16(this.bytes, p + 2);
  }
  /** Window scale shift, or -1. */
  get windowScale(): number {
    const p = this.findOption(3, 3);
    return p < 0 ? -1 : this.bytes[p + 2]!;
  }
  get sackPermitted(): boolean {
    return this.findOption(4, 2) >= 0;
  }
  /** Timestamp TSval, or -1. */
  get tsVal(): number {
    const p = this.findOption(8, 10);
    return p < 0 ? -1 : rd32(this.bytes, p + 2);
  }
  /** Timestamp TSecr, or -1. */
  get tsEcr(): number {
    const p = this.findOption(8, 10);
    return p < 0 ? -1 : rd32(this.bytes, p + 6);
  }
  /** Number of SACK blocks (0 when no SACK option). */
  get sackBlockCount(): number {
    const p = this.findOption(5);
    return p < 0 ? 0 : (this.bytes[p + 1]! - 2) >>> 3;
  }
  /** Left edge of SACK block i. */
  sackLeft(i: number): number {
    return rd32(this.bytes, this.findOption(5) + 2 + 8 * i);
  }
  /** Right edge of SACK block i. */
  sackRight(i: number): number {
    return rd32(this.bytes, this.findOption(5) + 6 + 8 * i);
  }
  /** The checksum the segment should carry (segment = `length` bytes from offset). */
  computeChecksum(pseudoSum: number, length: number): number {
    const sum = onesComplementSum(this.bytes, pseudoSum, this.offset, length);
    return ~foldChecksum(sum + (~this.checksum & 0xffff)) & 0xffff;
  }
  /** True when the checksum over `length` bytes plus the pseudo-header sum is right. */
  verifyChecksum(pseudoSum: number, length: number): boolean {
    return onesComplementSum(this.bytes, pseudoSum, this.offset, length) === 0xffff;
  }
  /** Writes the checksum over `length` bytes (header + payload in place). */
  fillChecksum(pseudoSum: number, length: number): void {
    this.checksum = 0;
    this.checksum = ~onesComplementSum(this.bytes, pseudoSum, this.offset, length) & 0xffff;
  }
}

/** One TCP option as plain data; kinds the codec does not know (or with a wrong length) stay `unknown`. */
export type TcpOption =
  | { type: 'eol' }
  | { type: 'nop' }
  | { type: 'mss'; value: number }
  | { type: 'windowScale'; shift: number }
  | { type: 'sackPermitted' }
  | { type: 'sack'; blocks: Array<[number, number]> }
  | { type: 'timestamps'; value: number; echo: number }
  | { type: 'unknown'; kind: number; data: Uint8Array };

/** Decodes the option list of a checked header (bytes [start, end)). EOL ends the list. */
export function parseTcpOptions(bytes: Uint8Array, start: number, end: number): TcpOption[] {
  checkTcpOptions(bytes, start, end);
  const out: TcpOption[] = [];
  let p = start;
  while (p < end) {
    const k = bytes[p]!;
    if (k === 0) {
      out.push({ type: 'eol' });
      break;
    }
    if (k === 1) {
      out.push({ type: 'nop' });
      p++;
      continue;
    }
    const l = bytes[p + 1]!;
    if (k === 2 && l === 4) out.push({ type: 'mss', value: rd16(bytes, p + 2) });
    else if (k === 3 && l === 3) out.push({ type: 'windowScale', shift: bytes[p + 2]! });
    else if (k === 4 && l === 2) out.push({ type: 'sackPermitted' });
    else if (k === 5 && l >= 10 && (l - 2) % 8 === 0) {
      const blocks: Array<[number, number]> = [];
      for (let q = p + 2; q < p + l; q += 8) blocks.push([rd32(bytes, q), rd32(bytes, q + 4)]);
      out.push({ type: 'sack', blocks });
    } else if (k === 8 && l === 10) out.push({ type: 'timestamps', value: rd32(bytes, p + 2), echo: rd32(bytes, p + 6) });
    else out.push({ type: 'unknown', kind: k, data: bytes.slice(p + 2, p + l) });
    p += l;
  }
  return out;
}

function optionLength(o: TcpOption): number {
  switch (o.type) {
    case 'eol':
    case 'nop':
      return 1;
    case 'mss':
      return 4;
    case 'windowScale':
      return 3;
    case 'sackPermitted':
      return 2;
    case 'sack':
      return 2 + 8 * o.blocks.length;
    case 'timestamps':
      return 10;
    case 'unknown':
      return 2 + o.data.length;
  }
}

/** Bytes the options take, unpadded. */
export function tcpOptionsLength(options: readonly TcpOption[]): number {
  let n = 0;
  for (const o of options) n += optionLength(o);
  return n;
}

/** Writes options at p; returns the end offset (unpadded). */
export function emitTcpOptions(options: readonly TcpOption[], bytes: Uint8Array, p: number): number {
  for (const o of options) {
    switch (o.type) {
      case 'eol':
        bytes[p++] = 0;
        break;
      case 'nop':
        bytes[p++] = 1;
        break;
      case 'mss':
        bytes[p] = 2;
        bytes[p + 1] = 4;
        wr16(bytes, p + 2, uint('tcp', 'options.mss_val', o.value, 0xffff));
        p += 4;
        break;
      case 'windowScale':
        bytes[p] = 3;
        bytes[p + 1] = 3;
        bytes[p + 2] = uint('tcp', 'options.wscale.shift', o.shift, 255);
        p += 3;
        break;
      case 'sackPermitted':
        bytes[p] = 4;
        bytes[p + 1] = 2;
        p += 2;
        break;
      case 'sack':
        if (o.blocks.length < 1 || o.blocks.length > 4) throw new NetworkError('INVALID_ARGUMENT', `tcp: a SACK option carries 1-4 blocks, got ${o.blocks.length}`, { field: 'tcp.options.sack', actual: o.blocks.length });
        bytes[p] = 5;
        bytes[p + 1] = 2 + 8 * o.blocks.length;
        for (let i = 0; i < o.blocks.length; i++) {
          wr32(bytes, p + 2 + 8 * i, uint('tcp', 'options.sack_le', o.blocks[i]![0], 0xffffffff));
          wr32(bytes, p + 6 + 8 * i, uint('tcp', 'options.sack_re', o.blocks[i]![1], 0xffffffff));
        }
        p += 2 + 8 * o.blocks.length;
        break;
      case 'timestamps':
        bytes[p] = 8;
        bytes[p + 1] = 10;
        wr32(bytes, p + 2, uint('tcp', 'options.timestamp.tsval', o.value, 0xffffffff));
        wr32(bytes, p + 6, uint('tcp', 'options.timestamp.tsecr', o.echo, 0xffffffff));
        p += 10;
        break;
      case 'unknown':
        if (o.data.length > 253) throw new NetworkError('INVALID_ARGUMENT', `tcp: option ${o.kind} data too long`, { field: 'tcp.option_len', actual: o.data.length });
        bytes[p] = uint('tcp', 'option_kind', o.kind, 255);
        bytes[p + 1] = 2 + o.data.length;
        bytes.set(o.data, p + 2);
        p += 2 + o.data.length;
        break;
    }
  }
  return p;
}

/** A TCP header as plain data. */
export interface TcpRepr {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  /** 12-bit flags (TCP_SYN | TCP_ACK …). */
  flags: number;
  window: number;
  urgentPointer: number;
  options: TcpOption[];
  /** The checksum as found (parse); emit computes it when given addresses. */
  checksum: number;
  payloadLength: number;
}

/** What emit needs: ports; everything else defaults to 0 / no options. */
export type TcpReprInput = Pick<TcpRepr, 'srcPort' | 'dstPort'> & Partial<TcpRepr>;

/** Checks and parses; `payloadLength` is `length` (default: all bytes after offset) minus the header. */
export function parseTcpRepr(bytes: Uint8Array, offset = 0, length?: number): TcpRepr {
  const len = span('tcp', bytes, offset, length);
  const hl = TcpView.check(bytes, offset, len);
  const v = new TcpView(bytes, offset);
  return {
    srcPort: v.srcPort,
    dstPort: v.dstPort,
    seq: v.seqNumber,
    ack: v.ackNumber,
    flags: v.flags,
    window: v.window,
    urgentPointer: v.urgentPointer,
    options: parseTcpOptions(bytes, offset + 20, offset + hl),
    checksum: v.checksum,
    payloadLength: len - hl,
  };
}

/** Header length the repr emits (options padded to 4 bytes). */
export function tcpReprHeaderLength(repr: TcpReprInput): number {
  return TCP_MIN_HEADER_LENGTH + ((tcpOptionsLength(repr.options ?? []) + 3) & ~3);
}

/** Writes the header at offset (checksum as given, default 0); returns its length. */
export function emitTcpRepr(repr: TcpReprInput, bytes: Uint8Array, offset = 0): number {
  const hl = tcpReprHeaderLength(repr);
  if (hl > TCP_MAX_HEADER_LENGTH) throw new NetworkError('INVALID_ARGUMENT', `tcp: options make a ${hl}-byte header (max 60)`, { field: 'tcp.options', expected: 40, actual: hl - 20 });
  needRoom('tcp', bytes, offset, hl);
  wr16(bytes, offset, uint('tcp', 'srcport', repr.srcPort, 0xffff));
  wr16(bytes, offset + 2, uint('tcp', 'dstport', repr.dstPort, 0xffff));
  wr32(bytes, offset + 4, uint('tcp', 'seq', repr.seq ?? 0, 0xffffffff));
  wr32(bytes, offset + 8, uint('tcp', 'ack', repr.ack ?? 0, 0xffffffff));
  wr16(bytes, offset + 12, ((hl >>> 2) << 12) | uint('tcp', 'flags', repr.flags ?? 0, 0xfff));
  wr16(bytes, offset + 14, uint('tcp', 'window_size_value', repr.window ?? 0, 0xffff));
  wr16(bytes, offset + 16, uint('tcp', 'checksum', repr.checksum ?? 0, 0xffff));
  wr16(bytes, offset + 18, uint('tcp', 'urgent_pointer', repr.urgentPointer ?? 0, 0xffff));
  const end = emitTcpOptions(repr.options ?? [], bytes, offset + 20);
  bytes.fill(0, end, offset + hl); // RFC 9293 §3.1: pad with zeros (EOL)
  return hl;
}

/** Builds header + payload; with `ip` (IPv4 or IPv6 text addresses) the checksum is computed. */
export function buildTcp(repr: TcpReprInput, payload: Uint8Array = new Uint8Array(0), ip?: IpEndpoints): Uint8Array {
  const hl = tcpReprHeaderLength(repr);
  const out = new Uint8Array(hl + payload.length);
  emitTcpRepr(repr, out, 0);
  out.set(payload, hl);
  if (ip) new TcpView(out).fillChecksum(ipPseudoHeaderSum(ip.src, ip.dst, 6, out.length), out.length);
  return out;
}

/** The guide's TCP flags: `const f = new TcpFlags(); f.syn = true`. */
export class TcpFlags {
  fin = false;
  syn = false;
  rst = false;
  psh = false;
  ack = false;
  urg = false;
  ece = false;
  cwr = false;
  /** AE (formerly NS, RFC 3540). */
  ae = false;

  /** From the 12-bit flags field. */
  static fromBits(bits: number): TcpFlags {
    const f = new TcpFlags();
    f.fin = (bits & TCP_FIN) !== 0;
    f.syn = (bits & TCP_SYN) !== 0;
    f.rst = (bits & TCP_RST) !== 0;
    f.psh = (bits & TCP_PSH) !== 0;
    f.ack = (bits & TCP_ACK) !== 0;
    f.urg = (bits & TCP_URG) !== 0;
    f.ece = (bits & TCP_ECE) !== 0;
    f.cwr = (bits & TCP_CWR) !== 0;
    f.ae = (bits & TCP_AE) !== 0;
    return f;
  }

  /** As the flags field bits. */
  toBits(): number {
    return (this.fin ? TCP_FIN : 0) | (this.syn ? TCP_SYN : 0) | (this.rst ? TCP_RST : 0) | (this.psh ? TCP_PSH : 0) | (this.ack ? TCP_ACK : 0) |
      (this.urg ? TCP_URG : 0) | (this.ece ? TCP_ECE : 0) | (this.cwr ? TCP_CWR : 0) | (this.ae ? TCP_AE : 0);
  }

  /** The flag byte (without AE), as the guide's `to_byte()`. */
  toByte(): number {
    return this.toBits() & 0xff;
  }

  /** tcpdump-style letters: 'S', 'S.', 'F.', 'R', 'P.' … ('.' = ACK, 'E' = ECE, 'W' = CWR). */
  toString(): string {
    let s = '';
    if (this.fin) s += 'F';
    if (this.syn) s += 'S';
    if (this.rst) s += 'R';
    if (this.psh) s += 'P';
    if (this.urg) s += 'U';
    if (this.ece) s += 'E';
    if (this.cwr) s += 'W';
    if (this.ack) s += '.';
    return s === '' ? 'none' : s;
  }
}

/**
 * The guide's owned TCP segment: `new TcpSegment(12345, 80, 1000, 0, flags, 65535, payload)`,
 * `serialize(src?, dst?)` (checksum computed when IP addresses are given), `TcpSegment.parse(bytes)`.
 */
export class TcpSegment {
  srcPort: number;
  dstPort: number;
  seq: number;
  ack: number;
  flags: TcpFlags;
  window: number;
  payload: Uint8Array;
  urgentPointer = 0;
  options: TcpOption[] = [];
  /** As parsed, or as computed by the last serialize() with addresses. */
  checksum = 0;

  constructor(srcPort: number, dstPort: number, seq: number, ack: number, flags: TcpFlags | number, window: number, payload: Uint8Array = new Uint8Array(0)) {
    this.srcPort = uint('tcp', 'srcport', srcPort, 0xffff);
    this.dstPort = uint('tcp', 'dstport', dstPort, 0xffff);
    this.seq = uint('tcp', 'seq', seq, 0xffffffff);
    this.ack = uint('tcp', 'ack', ack, 0xffffffff);
    this.flags = typeof flags === 'number' ? TcpFlags.fromBits(flags) : flags;
    this.window = uint('tcp', 'window', window, 0xffff);
    this.payload = payload;
  }

  /** Header length (20 + padded options). */
  get headerLength(): number {
    return tcpReprHeaderLength({ srcPort: 0, dstPort: 0, options: this.options });
  }
  /** Data offset in 32-bit words. */
  get dataOffset(): number {
    return this.headerLength >>> 2;
  }
  totalSize(): number {
    return this.headerLength + this.payload.length;
  }

  toRepr(): TcpRepr {
    return {
      srcPort: this.srcPort, dstPort: this.dstPort, seq: this.seq, ack: this.ack, flags: this.flags.toBits(), window: this.window,
      urgentPointer: this.urgentPointer, options: this.options, checksum: this.checksum, payloadLength: this.payload.length,
    };
  }

  /** Header + payload; with `src`/`dst` (IPv4 or IPv6 text) the checksum is computed and stored. */
  serialize(src?: string, dst?: string): Uint8Array {
    const withIp = src !== undefined && dst !== undefined;
    const out = buildTcp({ ...this.toRepr(), checksum: withIp ? 0 : this.checksum }, this.payload, withIp ? { src, dst } : undefined);
    this.checksum = rd16(out, 16);
    return out;
  }

  /** True when the stored checksum is right for these addresses. */
  verifyChecksum(src: string, dst: string): boolean {
    const out = buildTcp(this.toRepr(), this.payload);
    return new TcpView(out).verifyChecksum(ipPseudoHeaderSum(src, dst, 6, out.length), out.length);
  }

  /** Parses untrusted bytes: everything after the header (to `length`) is payload (copied). */
  static parse(bytes: Uint8Array, offset = 0, length?: number): TcpSegment {
    const r = parseTcpRepr(bytes, offset, length);
    const hl = (bytes[offset + 12]! >>> 4) * 4;
    const s = new TcpSegment(r.srcPort, r.dstPort, r.seq, r.ack, r.flags, r.window, bytes.slice(offset + hl, offset + hl + r.payloadLength));
    s.urgentPointer = r.urgentPointer;
    s.options = r.options;
    s.checksum = r.checksum;
    return s;
  }
}

/** TCP connection states (RFC 9293 §3.3.2). */
export enum TcpState {
  Closed = 'CLOSED',
  Listen = 'LISTEN',
  SynSent = 'SYN_SENT',
  SynReceived = 'SYN_RECEIVED',
  Established = 'ESTABLISHED',
  FinWait1 = 'FIN_WAIT_1',
  FinWait2 = 'FIN_WAIT_2',
  CloseWait = 'CLOSE_WAIT',
  Closing = 'CLOSING',
  LastAck = 'LAST_ACK',
  TimeWait = 'TIME_WAIT',
}
