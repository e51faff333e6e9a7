// ARP (RFC 826) over any hardware/protocol pair; the repr covers Ethernet + IPv4, the common case.
import { NetworkError } from '../errors.js';
import { formatIpv4Address, formatMacAddress, parseIpv4Address, parseMacAddress, readIpv4Address, readMac48, writeIpv4Address, writeMac48 } from './address.js';
import { needRoom, rd16, span, truncated, uint, wr16 } from './wire-util.js';

/** ARP operation codes (RFC 826, RFC 903 for RARP). */
export enum ArpOperation {
  Request = 1,
  Reply = 2,
  RarpRequest = 3,
  RarpReply = 4,
}

/** Fixed part of an ARP packet before the addresses. */
export const ARP_FIXED_LENGTH = 8;
/** An Ethernet/IPv4 ARP packet: 8 + 2 × (6 + 4). */
export const ARP_ETHERNET_IPV4_LENGTH = 28;

/** Zero-copy view of an ARP packet. Address getters assume Ethernet/IPv4 sizes (check `hlen`/`plen`). */
export class ArpView {
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

  /** Validates: the fixed part and both address pairs (sizes from hlen/plen) must be present; returns the length. */
  static check(bytes: Uint8Array, offset = 0, length?: number): number {
    const len = span('arp', bytes, offset, length);
    if (len < ARP_FIXED_LENGTH) throw truncated('arp', 'header', offset, ARP_FIXED_LENGTH, len);
    const need = ARP_FIXED_LENGTH + 2 * (bytes[offset + 4]! + bytes[offset + 5]!);
    if (len < need) throw truncated('arp', 'addresses', offset, need, len);
    return need;
  }

  get hardwareType(): number {
    return rd16(this.bytes, this.offset);
  }
  set hardwareType(v: number) {
    wr16(this.bytes, this.offset, v);
  }
  get protocolType(): number {
    return rd16(this.bytes, this.offset + 2);
  }
  set protocolType(v: number) {
    wr16(this.bytes, this.offset + 2, v);
  }
  get hardwareLength(): number {
    return this.bytes[this.offset + 4]!;
  }
  set hardwareLength(v: number) {
    this.bytes[this.offset + 4] = v;
  }
  get protocolLength(): number {
    return this.bytes[this.offset + 5]!;
  }
  set protocolLength(v: number) {
    this.bytes[this.offset + 5] = v;
  }
  get operation(): number {
    return rd16(this.bytes, this.offset + 6);
  }
  set operation(v: number) {
    wr16(this.bytes, this.offset + 6, v);
  }
  /** Offsets of the four address fields (any hlen/plen). */
  get senderHardwareOffset(): number {
    return this.offset + 8;
  }
  get senderProtocolOffset(): number {
    return this.offset + 8 + this.hardwareLength;
  }
  get targetHardwareOffset(): number {
    return this.offset + 8 + this.hardwareLength + this.protocolLength;
  }
  get targetProtocolOffset(): number {
    return this.offset + 8 + 2 * this.hardwareLength + this.protocolLength;
  }
  /** True for hardware 1 (Ethernet), protocol 0x0800, hlen 6, plen 4. */
  get isEthernetIpv4(): boolean {
    return this.hardwareType === 1 && this.protocolType === 0x0800 && this.hardwareLength === 6 && this.protocolLength === 4;
  }
  /** Ethernet/IPv4 only: sender MAC as a 48-bit number. */
  get senderMac(): number {
    return readMac48(this.bytes, this.offset + 8);
  }
  set senderMac(v: number) {
    writeMac48(this.bytes, this.offset + 8, v);
  }
  get senderIp(): number {
    return readIpv4Address(this.bytes, this.offset + 14);
  }
  set senderIp(v: number) {
    writeIpv4Address(this.bytes, this.offset + 14, v);
  }
  get targetMac(): number {
    return readMac48(this.bytes, this.offset + 18);
  }
  set targetMac(v: number) {
    writeMac48(this.bytes, this.offset + 18, v);
  }
  get targetIp(): number {
    return readIpv4Address(this.bytes, this.offset + 24);
  }
  set targetIp(v: number) {
    writeIpv4Address(this.bytes, this.offset + 24, v);
  }
}

/** An Ethernet/IPv4 ARP packet as plain data. */
export interface ArpRepr {
  operation: number;
  senderMac: string;
  senderIp: string;
  targetMac: string;
  targetIp: string;
}

/** Checks and parses; an ARP for other hardware/protocol types is UNSUPPORTED. */
export function parseArpRepr(bytes: Uint8Array, offset = 0, length?: number): ArpRepr {
  ArpView.check(bytes, offset, length);
  const v = new ArpView(bytes, offset);
  if (!v.isEthernetIpv4) {
    throw new NetworkError('UNSUPPORTED', `arp: only Ethernet/IPv4 ARP has a repr (htype ${v.hardwareType}, ptype 0x${v.protocolType.toString(16)}, hlen ${v.hardwareLength}, plen ${v.protocolLength})`, { offset, field: 'arp.hw.type', actual: v.hardwareType });
  }
  return {
    operation: v.operation,
    senderMac: formatMacAddress(bytes, offset + 8),
    senderIp: formatIpv4Address(v.senderIp),
    targetMac: formatMacAddress(bytes, offset + 18),
    targetIp: formatIpv4Address(v.targetIp),
  };
}

/** Writes an Ethernet/IPv4 ARP packet (28 bytes) at offset; returns 28. */
export function emitArpRepr(repr: ArpRepr, bytes: Uint8Array, offset = 0): number {
  needRoom('arp', bytes, offset, ARP_ETHERNET_IPV4_LENGTH);
  wr16(bytes, offset, 1);
  wr16(bytes, offset + 2, 0x0800);
  bytes[offset + 4] = 6;
  bytes[offset + 5] = 4;
  wr16(bytes, offset + 6, uint('arp', 'opcode', repr.operation, 0xffff));
  bytes.set(parseMacAddress(repr.senderMac), offset + 8);
  writeIpv4Address(bytes, offset + 14, parseIpv4Address(repr.senderIp));
  bytes.set(parseMacAddress(repr.targetMac), offset + 18);
  writeIpv4Address(bytes, offset + 24, parseIpv4Address(repr.targetIp));
  return ARP_ETHERNET_IPV4_LENGTH;
}

/** Builds an Ethernet/IPv4 ARP packet. */
export function buildArp(repr: ArpRepr): Uint8Array {
  const out = new Uint8Array(ARP_ETHERNET_IPV4_LENGTH);
  emitArpRepr(repr, out, 0);
  return out;
}
