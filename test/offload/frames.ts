// Frame builders for the offload tests, on top of the wire engineer's builders (src/wire).
import { EthernetView, buildEthernet } from '../../src/wire/ethernet.js';
import { parseIpv6Address } from '../../src/wire/address.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { Ipv6View, buildIpv6, parseIpv6Repr, type Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';
import { buildTcp, TCP_ACK, type TcpOption } from '../../src/wire/tcp.js';
import { buildUdp } from '../../src/wire/udp.js';

export interface VlanSpec {
  tpid: number;
  id: number;
}

export interface TcpFrameSpec {
  v6?: boolean;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  seq?: number;
  ack?: number;
  flags?: number;
  window?: number;
  options?: TcpOption[];
  payload: Uint8Array;
  id?: number;
  df?: boolean;
  ttl?: number;
  dscp?: number;
  vlan?: number;
  /** A whole tag stack, outermost first (overrides vlan). */
  vlans?: VlanSpec[];
  ipOptions?: Uint8Array;
  moreFragments?: boolean;
  fragmentOffset?: number;
  extensions?: Ipv6ExtensionRepr[];
  flowLabel?: number;
  macSrc?: string;
  /** Destination the checksum's pseudo-header uses (a routing header's final destination); default dst. */
  pseudoDst?: string;
}

export function payloadBytes(n: number, seed = 1): Uint8Array {
  const b = new Uint8Array(n);
  let x = seed * 2654435761;
  for (let i = 0; i < n; i++) {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

function l2(spec: { v6?: boolean; vlan?: number; vlans?: VlanSpec[]; macSrc?: string }, payload: Uint8Array): Uint8Array {
  const tags = spec.vlans ?? (spec.vlan !== undefined ? [{ tpid: 0x8100, id: spec.vlan }] : []);
  return buildEthernet(
    {
      dst: '02:00:00:00:00:02',
      src: spec.macSrc ?? '02:00:00:00:00:01',
      etherType: spec.v6 ? 0x86dd : 0x0800,
      vlans: tags.map((t) => ({ tpid: t.tpid, pcp: 0, dei: false, id: t.id })),
    },
    payload,
  );
}

export function tcpFrame(s: TcpFrameSpec): Uint8Array {
  const src = s.src ?? (s.v6 ? '2001:db8::1' : '10.0.0.1');
  const dst = s.dst ?? (s.v6 ? '2001:db8::2' : '10.0.0.2');
  const seg = buildTcp(
    { srcPort: s.srcPort ?? 40000, dstPort: s.dstPort ?? 80, seq: s.seq ?? 1000, ack: s.ack ?? 5000, flags: s.flags ?? TCP_ACK, window: s.window ?? 512, options: s.options ?? [] },
    s.payload,
    { src, dst: s.pseudoDst ?? dst },
  );
  const ip = s.v6
    ? buildIpv6({ src, dst, nextHeader: 6, flowLabel: s.flowLabel ?? 0, trafficClass: s.dscp ?? 0, hopLimit: s.ttl ?? 64, extensions: s.extensions ?? [] }, seg)
    : buildIpv4(
        {
          src, dst, protocol: 6, identification: s.id ?? 100, dontFragment: s.df ?? true, ttl: s.ttl ?? 64, dscp: s.dscp ?? 0,
          options: s.ipOptions, moreFragments: s.moreFragments ?? false, fragmentOffset: s.fragmentOffset ?? 0,
        },
        seg,
      );
  return l2(s, ip);
}

export interface UdpFrameSpec {
  v6?: boolean;
  src?: string;
  dst?: string;
  srcPort?: number;
  dstPort?: number;
  payload: Uint8Array;
  id?: number;
  df?: boolean;
  noChecksum?: boolean;
  vlan?: number;
  vlans?: VlanSpec[];
  extensions?: Ipv6ExtensionRepr[];
  /** Destination the checksum's pseudo-header uses (a routing header's final destination); default dst. */
  pseudoDst?: string;
}

export function udpFrame(s: UdpFrameSpec): Uint8Array {
  const src = s.src ?? (s.v6 ? '2001:db8::1' : '10.0.0.1');
  const dst = s.dst ?? (s.v6 ? '2001:db8::2' : '10.0.0.2');
  const dg = buildUdp({ srcPort: s.srcPort ?? 5000, dstPort: s.dstPort ?? 443 }, s.payload, s.noChecksum ? undefined : { src, dst: s.pseudoDst ?? dst });
  const ip = s.v6
    ? buildIpv6({ src, dst, nextHeader: 17, extensions: s.extensions ?? [] }, dg)
    : buildIpv4({ src, dst, protocol: 17, identification: s.id ?? 7, dontFragment: s.df ?? false }, dg);
  return l2(s, ip);
}

/** A TCP stream of `count` segments of `size` bytes as a sender's TSO would cut it (IDs +1, PSH on the last). */
export function tcpStream(count: number, size: number, base: Partial<TcpFrameSpec> = {}, lastSize = size): Uint8Array[] {
  const out: Uint8Array[] = [];
  let seq = base.seq ?? 1000;
  for (let i = 0; i < count; i++) {
    const n = i === count - 1 ? lastSize : size;
    const flags = (base.flags ?? TCP_ACK) | (i === count - 1 ? 0x08 : 0);
    out.push(tcpFrame({ ...base, seq, id: ((base.id ?? 100) + i) & 0xffff, flags, payload: payloadBytes(n, seq) }));
    seq = (seq + n) >>> 0;
  }
  return out;
}

/**
 * Whether a frame's IPv4 header checksum and TCP/UDP checksum verify: any VLAN tag stack, IPv6 extension
 * headers walked (Ipv6View.check), the pseudo-header destination taken from a routing header with segments
 * left (RFC 8200 §8.1: type 2 home address, type 4 Segment List[0]).
 */
export function checksumsValid(f: Uint8Array): boolean {
  const l2len = EthernetView.check(f);
  const et = (f[l2len - 2]! << 8) | f[l2len - 1]!;
  const sum = (p: number, n: number, init = 0) => {
    let s = init;
    for (let i = 0; i < n; i += 2) s += (f[p + i]! << 8) | (i + 1 < n ? f[p + i + 1]! : 0);
    while (s > 0xffff) s = (s & 0xffff) + Math.floor(s / 0x10000);
    return s;
  };
  let l4: number;
  let l4len: number;
  let pseudo: number;
  let proto: number;
  if (et === 0x0800) {
    const ihl = (f[l2len]! & 15) * 4;
    if (sum(l2len, ihl) !== 0xffff) return false;
    l4 = l2len + ihl;
    l4len = ((f[l2len + 2]! << 8) | f[l2len + 3]!) - ihl;
    proto = f[l2len + 9]!;
    pseudo = sum(l2len + 12, 8) + proto + l4len;
  } else {
    l4 = l2len + Ipv6View.check(f, l2len);
    l4len = l2len + 40 + ((f[l2len + 4]! << 8) | f[l2len + 5]!) - l4;
    const repr = parseIpv6Repr(f, l2len);
    proto = repr.nextHeader;
    let dst = l2len + 24;
    let p = l2len + 40;
    for (const e of repr.extensions) {
      if (e.type === 'routing' && e.segmentsLeft > 0) dst = p + 8;
      p += e.type === 'fragment' ? 8 : (f[p + 1]! + 1) * 8;
    }
    pseudo = sum(l2len + 8, 16) + sum(dst, 16) + proto + l4len;
  }
  if (proto === 17 && et === 0x0800 && f[l4 + 6] === 0 && f[l4 + 7] === 0) return true;
  return sum(l4, l4len, pseudo) === 0xffff;
}

/** A routing header's data after its first 4 bytes for SRH (type 4, RFC 8754 §2): Last Entry, Flags, Tag, Segment List[0..]. */
export function srhData(...segments: string[]): Uint8Array {
  const d = new Uint8Array(4 + 16 * segments.length);
  d[0] = segments.length - 1;
  segments.forEach((s, i) => d.set(parseIpv6Address(s), 4 + 16 * i));
  return d;
}

/** Type 2 routing data (RFC 6275 §6.4): 4 reserved bytes and the home address. */
export function homeAddressData(addr: string): Uint8Array {
  const d = new Uint8Array(20);
  d.set(parseIpv6Address(addr), 4);
  return d;
}
