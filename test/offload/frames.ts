// Frame builders for the offload tests, on top of the wire engineer's builders (src/wire).
import { buildEthernet } from '../../src/wire/ethernet.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { buildIpv6, type Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';
import { buildTcp, TCP_ACK, type TcpOption } from '../../src/wire/tcp.js';
import { buildUdp } from '../../src/wire/udp.js';

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
  ipOptions?: Uint8Array;
  moreFragments?: boolean;
  fragmentOffset?: number;
  extensions?: Ipv6ExtensionRepr[];
  flowLabel?: number;
  macSrc?: string;
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

function l2(spec: { v6?: boolean; vlan?: number; macSrc?: string }, payload: Uint8Array): Uint8Array {
  return buildEthernet(
    {
      dst: '02:00:00:00:00:02',
      src: spec.macSrc ?? '02:00:00:00:00:01',
      etherType: spec.v6 ? 0x86dd : 0x0800,
      vlans: spec.vlan !== undefined ? [{ tpid: 0x8100, pcp: 0, dei: false, id: spec.vlan }] : [],
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
    { src, dst },
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
}

export function udpFrame(s: UdpFrameSpec): Uint8Array {
  const src = s.src ?? (s.v6 ? '2001:db8::1' : '10.0.0.1');
  const dst = s.dst ?? (s.v6 ? '2001:db8::2' : '10.0.0.2');
  const dg = buildUdp({ srcPort: s.srcPort ?? 5000, dstPort: s.dstPort ?? 443 }, s.payload, s.noChecksum ? undefined : { src, dst });
  const ip = s.v6
    ? buildIpv6({ src, dst, nextHeader: 17 }, dg)
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

/** Whether a frame's IPv4 header checksum and TCP/UDP checksum verify (Ethernet without VLAN or with one tag). */
export function checksumsValid(f: Uint8Array): boolean {
  let l2len = 14;
  let et = (f[12]! << 8) | f[13]!;
  if (et === 0x8100) {
    et = (f[16]! << 8) | f[17]!;
    l2len = 18;
  }
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
    l4 = l2len + 40;
    l4len = (f[l2len + 4]! << 8) | f[l2len + 5]!;
    proto = f[l2len + 6]!;
    pseudo = sum(l2len + 8, 32) + proto + l4len;
  }
  if (proto === 17 && et === 0x0800 && f[l4 + 6] === 0 && f[l4 + 7] === 0) return true;
  return sum(l4, l4len, pseudo) === 0xffff;
}
