// One pass over a frame's headers into a reusable, allocation-free summary: the addresses, protocol,
// ports and TCP flags that the filter, the analyzer and `elysia-net read` need. Built on the wire views;
// malformed layers are recorded in `malformed`, never thrown.
import { isNetworkError } from '../errors.js';
import { Ipv4View } from '../wire/ipv4.js';
import { Ipv6View } from '../wire/ipv6.js';
import { TcpView } from '../wire/tcp.js';
import { UdpView } from '../wire/udp.js';
import { Icmpv4View } from '../wire/icmpv4.js';
import { Icmpv6View } from '../wire/icmpv6.js';
import { ArpView } from '../wire/arp.js';
import { formatIpv4Address, formatIpv6Address } from '../wire/address.js';
import { locateNetworkLayer, type LinkLayerResult } from './link.js';

/** The transport (or network) kind a summary ends at. */
export type PacketKind = 'tcp' | 'udp' | 'icmp' | 'icmpv6' | 'arp' | 'other';

/** Decoded header fields of one frame; reuse one instance across packets (summarizePacket overwrites it). */
export class PacketSummary {
  data: Uint8Array = new Uint8Array(0);
  linktype = 1;
  /** False when the link layer could not be decoded (unknown link type or cut header). */
  linkOk = false;
  linkHeaderLength = 0;
  /** EtherType of the network layer (0 unknown). */
  etherType = 0;
  networkOffset = 0;
  /** 4, 6, or 0 when the frame carries no (valid) IP header. */
  ipVersion = 0;
  /** IPv4 addresses as uint32 (valid when ipVersion is 4). */
  src4 = 0;
  dst4 = 0;
  /** Offsets of the IPv6 addresses in data (valid when ipVersion is 6). */
  src6 = 0;
  dst6 = 0;
  ttl = 0;
  /** IP protocol / IPv6 upper-layer next header (-1 when none). */
  protocol = -1;
  /** IPv4 fragment (offset > 0: no transport header), or an IPv6 non-first fragment. */
  laterFragment = false;
  transportOffset = 0;
  /** Transport bytes present in data (bounded by the IP length). */
  transportLength = 0;
  kind: PacketKind = 'other';
  srcPort = 0;
  dstPort = 0;
  /** TCP flags field (12 bits). */
  tcpFlags = 0;
  tcpSeq = 0;
  tcpAck = 0;
  tcpWindow = 0;
  icmpType = -1;
  icmpCode = -1;
  arpOperation = 0;
  /** Application payload (after TCP/UDP header) in data. */
  payloadOffset = 0;
  payloadLength = 0;
  /** Which layer was malformed or cut ('ip', 'tcp' …), else null. */
  malformed: string | null = null;

  /** Source address as text (IPv4 dotted quad or RFC 5952 IPv6), or '' without IP. */
  srcAddress(): string {
    if (this.ipVersion === 4) return formatIpv4Address(this.src4);
    if (this.ipVersion === 6) return formatIpv6Address(this.data, this.src6);
    return '';
  }

  dstAddress(): string {
    if (this.ipVersion === 4) return formatIpv4Address(this.dst4);
    if (this.ipVersion === 6) return formatIpv6Address(this.data, this.dst6);
    return '';
  }
}

const link: LinkLayerResult = { offset: 0, etherType: 0, headerLength: 0 };

function malformedLayer(e: unknown, layer: string): string {
  // A wire error names its field ('tcp.options'); keep the protocol part.
  if (isNetworkError(e) && typeof e.detail.field === 'string') return e.detail.field.split('.')[0] ?? layer;
  return layer;
}

function transport(s: PacketSummary, data: Uint8Array, off: number, len: number, proto: number): void {
  s.protocol = proto;
  s.transportOffset = off;
  s.transportLength = len;
  switch (proto) {
    case 6: {
      s.kind = 'tcp';
      let hl: number;
      try {
        // Data offset 5 (no options, the usual case) needs only a length test; otherwise the full check.
        hl = len >= 20 && data[off + 12]! >>> 4 === 5 ? 20 : TcpView.check(data, off, len);
      } catch (e) {
        s.malformed = malformedLayer(e, 'tcp');
        if (len >= 4) {
          s.srcPort = (data[off]! << 8) | data[off + 1]!;
          s.dstPort = (data[off + 2]! << 8) | data[off + 3]!;
        }
        if (len >= 14) s.tcpFlags = ((data[off + 12]! & 1) << 8) | data[off + 13]!;
        return;
      }
      const t = tcpView.reset(data, off);
      s.srcPort = t.srcPort;
      s.dstPort = t.dstPort;
      s.tcpFlags = t.flags;
      s.tcpSeq = t.seqNumber;
      s.tcpAck = t.ackNumber;
      s.tcpWindow = t.window;
      s.payloadOffset = off + hl;
      s.payloadLength = len - hl;
      return;
    }
    case 17: {
      s.kind = 'udp';
      if (len < 8) {
        s.malformed = 'udp';
        if (len >= 4) {
          s.srcPort = (data[off]! << 8) | data[off + 1]!;
          s.dstPort = (data[off + 2]! << 8) | data[off + 3]!;
        }
        return;
      }
      const u = udpView.reset(data, off);
      s.srcPort = u.srcPort;
      s.dstPort = u.dstPort;
      let ul = u.length;
      // A length field beyond the bytes: the datagram was cut by the snap length (or lies); use what is there.
      if (ul < 8) {
        s.malformed = 'udp';
        ul = len;
      } else if (ul > len) ul = len;
      s.payloadOffset = off + 8;
      s.payloadLength = ul - 8;
      return;
    }
    case 1:
      s.kind = 'icmp';
      if (len >= 4) {
        const v = icmp4View.reset(data, off);
        s.icmpType = v.type;
        s.icmpCode = v.code;
      } else s.malformed = 'icmp';
      s.payloadOffset = off;
      s.payloadLength = len;
      return;
    case 58:
      s.kind = 'icmpv6';
      if (len >= 4) {
        const v = icmp6View.reset(data, off);
        s.icmpType = v.type;
        s.icmpCode = v.code;
      } else s.malformed = 'icmpv6';
      s.payloadOffset = off;
      s.payloadLength = len;
      return;
    default:
      s.kind = 'other';
  }
}

const ip4View = new Ipv4View(new Uint8Array(0));
const ip6View = new Ipv6View(new Uint8Array(0));
const tcpView = new TcpView(new Uint8Array(0));
const udpView = new UdpView(new Uint8Array(0));
const icmp4View = new Icmpv4View(new Uint8Array(0));
const icmp6View = new Icmpv6View(new Uint8Array(0));
const arpView = new ArpView(new Uint8Array(0));

/** Decodes the headers of `data` (a frame of `linktype`) into `out` and returns it. Never throws. */
export function summarizePacket(data: Uint8Array, linktype: number, out: PacketSummary = new PacketSummary()): PacketSummary {
  const s = out;
  s.data = data;
  s.linktype = linktype;
  s.ipVersion = 0;
  s.protocol = -1;
  s.kind = 'other';
  s.srcPort = 0;
  s.dstPort = 0;
  s.tcpFlags = 0;
  s.tcpSeq = 0;
  s.tcpAck = 0;
  s.tcpWindow = 0;
  s.icmpType = -1;
  s.icmpCode = -1;
  s.arpOperation = 0;
  s.payloadOffset = 0;
  s.payloadLength = 0;
  s.transportOffset = 0;
  s.transportLength = 0;
  s.laterFragment = false;
  s.malformed = null;
  s.ttl = 0;
  s.linkOk = locateNetworkLayer(data, linktype, link);
  if (!s.linkOk) {
    s.etherType = 0;
    s.malformed = 'link';
    return s;
  }
  s.etherType = link.etherType;
  s.linkHeaderLength = link.headerLength;
  const off = link.offset;
  s.networkOffset = off;
  const avail = data.length - off;
  if (link.etherType === 0x0800) {
    let hl: number;
    try {
      // Header only: a snap length may have cut the payload, which we still want to count. Version 4 with
      // IHL 5 and a sane total length (the usual case) needs no option walk.
      hl = avail >= 20 && data[off] === 0x45 && ((data[off + 2]! << 8) | data[off + 3]!) >= 20 ? 20 : Ipv4View.checkHeader(data, off, avail);
    } catch (e) {
      s.malformed = malformedLayer(e, 'ip');
      return s;
    }
    const v = ip4View.reset(data, off);
    s.ipVersion = 4;
    s.src4 = v.src;
    s.dst4 = v.dst;
    s.ttl = v.ttl;
    const total = v.totalLength;
    const end = Math.min(avail, total);
    if (v.fragmentOffsetUnits !== 0) {
      s.protocol = v.protocol;
      s.laterFragment = true;
      s.kind = 'other';
      return s;
    }
    transport(s, data, off + hl, end - hl, v.protocol);
    return s;
  }
  if (link.etherType === 0x86dd) {
    let ul: number;
    try {
      ul = Ipv6View.checkHeader(data, off, avail);
    } catch (e) {
      s.malformed = malformedLayer(e, 'ipv6');
      if (avail >= 40 && data[off]! >>> 4 === 6) {
        s.ipVersion = 6;
        s.src6 = off + 8;
        s.dst6 = off + 24;
      }
      return s;
    }
    const v = ip6View.reset(data, off);
    s.ipVersion = 6;
    s.src6 = off + 8;
    s.dst6 = off + 24;
    s.ttl = v.hopLimit;
    const end = Math.min(avail, 40 + v.payloadLength);
    // Walk the chain to the upper-layer protocol: the byte before its header names it.
    const upper = v.upperProtocol;
    const fh = v.fragmentHeaderOffset;
    if (fh >= 0 && fh + 4 <= data.length && (((data[fh + 2]! << 8) | data[fh + 3]!) & 0xfff8) !== 0) {
      s.protocol = upper;
      s.laterFragment = true;
      return s;
    }
    transport(s, data, off + ul, Math.max(0, end - ul), upper);
    return s;
  }
  if (link.etherType === 0x0806) {
    s.kind = 'arp';
    try {
      ArpView.check(data, off, avail);
      s.arpOperation = arpView.reset(data, off).operation;
    } catch (e) {
      s.malformed = malformedLayer(e, 'arp');
    }
    return s;
  }
  return s;
}
