// Ethernet II (IEEE 802.3 §3.2.6 type field) with IEEE 802.1Q C-tags and 802.1ad S-tags (QinQ).
import { NetworkError } from '../errors.js';
import { formatMacAddress, parseMacAddress, readMac48, writeMac48 } from './address.js';
import { invalid, needRoom, rd16, span, truncated, uint, wr16 } from './wire-util.js';

/** EtherType values (IEEE registry) the codecs know. Any other 16-bit value is allowed where one is taken. */
export enum EtherType {
  Ipv4 = 0x0800,
  Arp = 0x0806,
  Vlan = 0x8100,
  Ipv6 = 0x86dd,
  QinQ = 0x88a8,
  /** Pre-standard double tagging some switches still send. */
  QinQ9100 = 0x9100,
  Mpls = 0x8847,
  Lldp = 0x88cc,
}

/** Ethernet II header length without tags. */
export const ETHERNET_HEADER_LENGTH = 14;
/** Length of one 802.1Q/802.1ad tag. */
export const VLAN_TAG_LENGTH = 4;
/** Most stacked tags a view walks before calling the frame invalid (real networks use ≤ 2). */
export const MAX_VLAN_TAGS = 8;

/** True for the TPIDs of an 802.1Q / 802.1ad tag. */
export function isVlanTpid(t: number): boolean {
  return t === 0x8100 || t === 0x88a8 || t === 0x9100;
}

/**
 * Zero-copy view of an Ethernet II frame at `offset` of `bytes`. Addresses read as 48-bit numbers (no
 * allocation); tags are indexed from the outermost (0).
 */
export class EthernetView {
  bytes: Uint8Array;
  offset: number;

  constructor(bytes: Uint8Array, offset = 0) {
    this.bytes = bytes;
    this.offset = offset;
  }

  /** Points the view at another frame (reuse one view across a batch). */
  reset(bytes: Uint8Array, offset = 0): this {
    this.bytes = bytes;
    this.offset = offset;
    return this;
  }

  /**
   * Validates untrusted bytes: the 14-byte header and every VLAN tag must be present. Returns the header
   * length including tags.
   */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('eth', bytes, offset, length);
    if (len < ETHERNET_HEADER_LENGTH) throw truncated('eth', 'header', offset, ETHERNET_HEADER_LENGTH, len);
    let hl = ETHERNET_HEADER_LENGTH;
    let tags = 0;
    while (isVlanTpid(rd16(bytes, offset + hl - 2))) {
      if (++tags > MAX_VLAN_TAGS) throw invalid('vlan', 'tags', offset + hl - 2, `at most ${MAX_VLAN_TAGS}`, tags);
      if (len < hl + VLAN_TAG_LENGTH) throw truncated('vlan', 'tag', offset + hl, VLAN_TAG_LENGTH, len - hl);
      hl += VLAN_TAG_LENGTH;
    }
    return hl;
  }

  /** Destination address as a 48-bit number. */
  get dst(): number {
    return readMac48(this.bytes, this.offset);
  }
  set dst(v: number) {
    writeMac48(this.bytes, this.offset, v);
  }
  /** Source address as a 48-bit number. */
  get src(): number {
    return readMac48(this.bytes, this.offset + 6);
  }
  set src(v: number) {
    writeMac48(this.bytes, this.offset + 6, v);
  }
  /** The type field right after the addresses (a TPID when the frame is tagged). */
  get etherType(): number {
    return rd16(this.bytes, this.offset + 12);
  }
  set etherType(v: number) {
    wr16(this.bytes, this.offset + 12, v);
  }
  /** Number of stacked 802.1Q/802.1ad tags (bounded by MAX_VLAN_TAGS). */
  get vlanCount(): number {
    let n = 0;
    let p = this.offset + 12;
    while (n < MAX_VLAN_TAGS && p + 6 <= this.bytes.length && isVlanTpid(rd16(this.bytes, p))) {
      n++;
      p += 4;
    }
    return n;
  }
  /** The TPID of tag i. */
  vlanTpid(i: number): number {
    return rd16(this.bytes, this.offset + 12 + 4 * i);
  }
  /** The 16-bit TCI of tag i (PCP 3 | DEI 1 | VID 12). */
  vlanTci(i: number): number {
    return rd16(this.bytes, this.offset + 14 + 4 * i);
  }
  setVlanTci(i: number, tci: number): void {
    wr16(this.bytes, this.offset + 14 + 4 * i, tci);
  }
  vlanId(i: number): number {
    return this.vlanTci(i) & 0x0fff;
  }
  vlanPcp(i: number): number {
    return this.vlanTci(i) >>> 13;
  }
  vlanDei(i: number): boolean {
    return (this.vlanTci(i) & 0x1000) !== 0;
  }
  /** The EtherType after all tags: what the payload is. */
  get innerEtherType(): number {
    return rd16(this.bytes, this.offset + 12 + 4 * this.vlanCount);
  }
  /** Header length including tags. */
  get headerLength(): number {
    return ETHERNET_HEADER_LENGTH + 4 * this.vlanCount;
  }
  /** Absolute offset of the payload in `bytes`. */
  get payloadOffset(): number {
    return this.offset + this.headerLength;
  }
  /** True when the destination is ff:ff:ff:ff:ff:ff. */
  get isBroadcast(): boolean {
    const b = this.bytes;
    const o = this.offset;
    return (b[o]! & b[o + 1]! & b[o + 2]! & b[o + 3]! & b[o + 4]! & b[o + 5]!) === 0xff;
  }
  /** True when the destination's I/G bit is set (IEEE 802 §8.2). */
  get isMulticast(): boolean {
    return (this.bytes[this.offset]! & 1) !== 0;
  }
}

/** One 802.1Q/802.1ad tag as plain data. */
export interface VlanTagRepr {
  /** 0x8100 (C-tag), 0x88a8 (S-tag) or 0x9100. */
  tpid: number;
  pcp: number;
  dei: boolean;
  id: number;
}

/** An Ethernet header as plain data; `etherType` is the inner type (after the tags). */
export interface EthernetRepr {
  dst: string;
  src: string;
  etherType: number;
  vlans: VlanTagRepr[];
}

/** Checks and parses the header at offset into a repr. */
export function parseEthernetRepr(bytes: Uint8Array, offset = 0, length?: number): EthernetRepr {
  EthernetView.check(bytes, offset, length);
  const v = new EthernetView(bytes, offset);
  const vlans: VlanTagRepr[] = [];
  const n = v.vlanCount;
  for (let i = 0; i < n; i++) vlans.push({ tpid: v.vlanTpid(i), pcp: v.vlanPcp(i), dei: v.vlanDei(i), id: v.vlanId(i) });
  return { dst: formatMacAddress(bytes, offset), src: formatMacAddress(bytes, offset + 6), etherType: v.innerEtherType, vlans };
}

/** Header length the repr emits. */
export function ethernetReprHeaderLength(repr: EthernetRepr): number {
  return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH * repr.vlans.length;
}

/** Writes the header at offset; returns its length. */
export function emitEthernetRepr(repr: EthernetRepr, bytes: Uint8Array, offset = 0): number {
  const hl = ethernetReprHeaderLength(repr);
  needRoom('eth', bytes, offset, hl);
  bytes.set(parseMacAddress(repr.dst), offset);
  bytes.set(parseMacAddress(repr.src), offset + 6);
  let p = offset + 12;
  for (const t of repr.vlans) {
    wr16(bytes, p, uint('vlan', 'tpid', t.tpid, 0xffff));
    wr16(bytes, p + 2, (uint('vlan', 'pcp', t.pcp, 7) << 13) | (t.dei ? 0x1000 : 0) | uint('vlan', 'id', t.id, 0xfff));
    p += 4;
  }
  wr16(bytes, p, uint('eth', 'type', repr.etherType, 0xffff));
  return hl;
}

/** Builds a whole frame: header (with tags) then payload. */
export function buildEthernet(repr: EthernetRepr, payload: Uint8Array = new Uint8Array(0)): Uint8Array {
  const hl = ethernetReprHeaderLength(repr);
  const out = new Uint8Array(hl + payload.length);
  emitEthernetRepr(repr, out, 0);
  out.set(payload, hl);
  return out;
}

/** A 48-bit IEEE 802 MAC address (the guide's `MacAddress`). */
export class MacAddress {
  /** ff:ff:ff:ff:ff:ff */
  static readonly BROADCAST: MacAddress = new MacAddress([0xff, 0xff, 0xff, 0xff, 0xff, 0xff]);
  /** 00:00:00:00:00:00 */
  static readonly ZERO: MacAddress = new MacAddress([0, 0, 0, 0, 0, 0]);
  /** The six bytes (a private copy). */
  readonly bytes: Uint8Array;

  constructor(bytes: ArrayLike<number>) {
    if (bytes.length !== 6) throw new NetworkError('INVALID_ARGUMENT', `a MAC address has 6 bytes, got ${bytes.length}`, { expected: 6, actual: bytes.length });
    for (let i = 0; i < 6; i++) uint('mac', `byte ${i}`, bytes[i]!, 255);
    this.bytes = Uint8Array.from(bytes);
  }

  /** Parses 'aa:bb:cc:dd:ee:ff' or 'aa-bb-…'. */
  static parse(s: string): MacAddress {
    return new MacAddress(parseMacAddress(s));
  }

  /** Reads 6 bytes at offset. */
  static fromBytes(bytes: Uint8Array, offset = 0): MacAddress {
    if (offset < 0 || offset + 6 > bytes.length) throw truncated('eth', 'address', offset, 6, bytes.length - offset);
    return new MacAddress(bytes.subarray(offset, offset + 6));
  }

  /** 'aa:bb:cc:dd:ee:ff' */
  format(): string {
    return formatMacAddress(this.bytes, 0);
  }
  toString(): string {
    return this.format();
  }
  toJSON(): string {
    return this.format();
  }
  equals(o: MacAddress): boolean {
    for (let i = 0; i < 6; i++) if (this.bytes[i] !== o.bytes[i]) return false;
    return true;
  }
  isBroadcast(): boolean {
    return this.equals(MacAddress.BROADCAST);
  }
  /** I/G bit set (group address). */
  isMulticast(): boolean {
    return (this.bytes[0]! & 1) !== 0;
  }
  /** As a 48-bit number. */
  toNumber(): number {
    return readMac48(this.bytes, 0);
  }
}

function toMac(m: MacAddress | string | ArrayLike<number>): MacAddress {
  if (m instanceof MacAddress) return m;
  if (typeof m === 'string') return MacAddress.parse(m);
  return new MacAddress(m);
}

/**
 * The guide's owned Ethernet II frame: `new EthernetFrame(dst, src, EtherType.Ipv4, payload)`, `serialize()`,
 * `totalSize()`, `EthernetFrame.parse(bytes)`. Optional VLAN tags go in `vlans` (outermost first).
 */
export class EthernetFrame {
  dst: MacAddress;
  src: MacAddress;
  etherType: EtherType | number;
  payload: Uint8Array;
  vlans: VlanTagRepr[];

  constructor(dst: MacAddress | string | ArrayLike<number>, src: MacAddress | string | ArrayLike<number>, etherType: EtherType | number, payload: Uint8Array = new Uint8Array(0), vlans: VlanTagRepr[] = []) {
    this.dst = toMac(dst);
    this.src = toMac(src);
    this.etherType = uint('eth', 'type', etherType, 0xffff);
    this.payload = payload;
    this.vlans = vlans;
  }

  /** Header (14 + 4 per tag) plus payload; no FCS, no padding (as a capture shows it). */
  totalSize(): number {
    return ETHERNET_HEADER_LENGTH + VLAN_TAG_LENGTH * this.vlans.length + this.payload.length;
  }

  /** The frame's bytes. */
  serialize(): Uint8Array {
    return buildEthernet(this.toRepr(), this.payload);
  }

  toRepr(): EthernetRepr {
    return { dst: this.dst.format(), src: this.src.format(), etherType: this.etherType, vlans: this.vlans.map((t) => ({ ...t })) };
  }

  /** Parses untrusted bytes (NetworkError on a short or malformed header); the payload is copied. */
  static parse(bytes: Uint8Array, offset = 0, length?: number): EthernetFrame {
    const len = span('eth', bytes, offset, length);
    const r = parseEthernetRepr(bytes, offset, len);
    const hl = ethernetReprHeaderLength(r);
    return new EthernetFrame(r.dst, r.src, r.etherType, bytes.slice(offset + hl, offset + len), r.vlans);
  }
}
