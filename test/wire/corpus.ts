// A varied set of frames built with the wire builders: every protocol, VLAN stacks, IPv6 extension headers,
// ICMP errors with quoted headers, TCP options, and some malformed frames. Shared by the tshark differential
// test and the fuzz tests (as seeds for mutation). Ports 40000+ keep tshark's port-based dissectors away.
import {
  buildArp, buildEthernet, buildIcmpv4, buildIcmpv6, buildIpv4, buildIpv6, buildTcp, buildUdp,
  TCP_ACK, TCP_AE, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
  type EthernetRepr, type Ipv6ExtensionRepr, type TcpOption, type VlanTagRepr,
} from '../../src/wire/index.js';

export interface CorpusFrame {
  name: string;
  linktype: number;
  frame: Uint8Array;
  /** Length on the wire when the frame was cut by a snap length. */
  originalLength?: number;
}

const MAC_A = '00:11:22:33:44:55';
const MAC_B = '02:aa:bb:cc:dd:01';
const V4 = { src: '192.168.1.10', dst: '10.0.0.1' };
const V4R = { src: '10.0.0.1', dst: '192.168.1.10' };
const V6 = { src: '2001:db8::10', dst: '2001:db8:0:1::1' };

function pattern(n: number, seed = 0x5a): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (seed + i * 37) & 0xff;
  return b;
}

function eth(payload: Uint8Array, etherType: number, vlans: VlanTagRepr[] = [], dst = MAC_B, src = MAC_A): Uint8Array {
  const r: EthernetRepr = { dst, src, etherType, vlans };
  return buildEthernet(r, payload);
}

// Every TCP frame gets its own source port: one stream each, so tshark's TCP analysis (retransmission …)
// never changes how it dissects a frame.
let nextPort = 41000;

function tcp4(flags: number, opts: TcpOption[], payload: Uint8Array, extra: { seq?: number; ack?: number; window?: number; urg?: number; sp?: number; dp?: number } = {}, ip = V4): Uint8Array {
  const t = buildTcp({ srcPort: extra.sp ?? nextPort++, dstPort: extra.dp ?? 40002, seq: extra.seq ?? 0x10203040, ack: extra.ack ?? 0, flags, window: extra.window ?? 64240, urgentPointer: extra.urg ?? 0, options: opts }, payload, ip);
  return buildIpv4({ ...ip, protocol: 6, dontFragment: true, identification: 0x4d2 }, t);
}

function udp4(payload: Uint8Array, checksum = true, sp = 40003, dp = 40004): Uint8Array {
  return buildIpv4({ ...V4, protocol: 17, identification: 7 }, buildUdp({ srcPort: sp, dstPort: dp }, payload, checksum ? V4 : undefined));
}

function udp6(payload: Uint8Array, extensions: Ipv6ExtensionRepr[] = [], addrs = V6): Uint8Array {
  return buildIpv6({ ...addrs, nextHeader: 17, extensions, flowLabel: 0xbeef, trafficClass: 0x28, hopLimit: 63 }, buildUdp({ srcPort: 40005, dstPort: 40006 }, payload, addrs));
}

/** Ethernet frames. */
export function ethernetCorpus(): CorpusFrame[] {
  const out: CorpusFrame[] = [];
  const add = (name: string, frame: Uint8Array): void => {
    out.push({ name, linktype: 1, frame });
  };
  const allOpts: TcpOption[] = [{ type: 'mss', value: 1460 }, { type: 'sackPermitted' }, { type: 'timestamps', value: 123456, echo: 0 }, { type: 'nop' }, { type: 'windowScale', shift: 7 }];
  add('tcp syn with options', eth(tcp4(TCP_SYN, allOpts, new Uint8Array(0)), 0x0800));
  add('tcp syn-ack ecn', eth(tcp4(TCP_SYN | TCP_ACK | TCP_ECE, [{ type: 'mss', value: 1400 }, { type: 'nop' }, { type: 'nop' }, { type: 'sackPermitted' }, { type: 'nop' }, { type: 'windowScale', shift: 14 }], new Uint8Array(0), { ack: 0x10203041 }, V4R), 0x0800));
  add('tcp ack data', eth(tcp4(TCP_ACK | TCP_PSH, [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: 1, echo: 2 }], pattern(100), { ack: 99 }), 0x0800));
  add('tcp sack blocks', eth(tcp4(TCP_ACK, [{ type: 'nop' }, { type: 'nop' }, { type: 'sack', blocks: [[1000, 2000], [3000, 4000], [0xfffffff0, 5]] }], new Uint8Array(0), { ack: 1000 }), 0x0800));
  add('tcp fin', eth(tcp4(TCP_FIN | TCP_ACK, [], new Uint8Array(0), { seq: 0xffffffff, ack: 1 }), 0x0800));
  add('tcp rst', eth(tcp4(TCP_RST, [], new Uint8Array(0), { window: 0 }), 0x0800));
  add('tcp urg', eth(tcp4(TCP_URG | TCP_ACK | TCP_PSH, [], pattern(5), { urg: 3 }), 0x0800));
  add('tcp cwr ae', eth(tcp4(TCP_CWR | TCP_AE | TCP_ACK, [], pattern(1)), 0x0800));
  add('tcp all flags', eth(tcp4(0xfff, [], new Uint8Array(0)), 0x0800));
  add('tcp unknown option + eol padding', eth(tcp4(TCP_SYN, [{ type: 'mss', value: 536 }, { type: 'unknown', kind: 99, data: Uint8Array.of(1, 2, 3) }, { type: 'eol' }], new Uint8Array(0)), 0x0800));
  add('tcp over 802.1q', eth(tcp4(TCP_ACK, [], pattern(20)), 0x0800, [{ tpid: 0x8100, pcp: 5, dei: false, id: 100 }]));
  add('tcp over qinq', eth(tcp4(TCP_ACK, [], pattern(4)), 0x0800, [{ tpid: 0x88a8, pcp: 3, dei: true, id: 4000 }, { tpid: 0x8100, pcp: 0, dei: false, id: 42 }]));
  add('udp over double 802.1ad', eth(udp4(pattern(9)), 0x0800, [{ tpid: 0x88a8, pcp: 2, dei: false, id: 77 }, { tpid: 0x88a8, pcp: 6, dei: true, id: 78 }]));
  add('udp over double 802.1q', eth(udp4(pattern(9)), 0x0800, [{ tpid: 0x8100, pcp: 1, dei: true, id: 1 }, { tpid: 0x8100, pcp: 7, dei: false, id: 4095 }]));
  add('udp v4', eth(udp4(pattern(30)), 0x0800));
  add('udp v4 zero checksum', eth(udp4(pattern(12), false), 0x0800));
  add('udp v4 empty', eth(udp4(new Uint8Array(0)), 0x0800));
  add('ipv4 dscp ecn ttl', eth(buildIpv4({ ...V4, protocol: 17, dscp: 46, ecn: 3, ttl: 1, identification: 0xffff }, buildUdp({ srcPort: 40010, dstPort: 40011 }, pattern(3), V4)), 0x0800));
  add('ipv4 options', eth(buildIpv4({ ...V4, protocol: 17, options: Uint8Array.of(1, 1, 0x07, 7, 4, 0, 0, 0, 0, 0, 0, 0) }, buildUdp({ srcPort: 40010, dstPort: 40011 }, pattern(3), V4)), 0x0800));
  add('ipv4 first fragment', eth(buildIpv4({ ...V4, protocol: 17, moreFragments: true, identification: 0x1111 }, pattern(64)), 0x0800));
  add('ipv4 middle fragment', eth(buildIpv4({ ...V4, protocol: 6, moreFragments: true, fragmentOffset: 1480, identification: 0x2222 }, pattern(48)), 0x0800));
  add('ipv4 unknown protocol', eth(buildIpv4({ ...V4, protocol: 253 }, pattern(10)), 0x0800));
  add('ipv4 reserved flag', (() => { const f = eth(udp4(pattern(2)), 0x0800); f[14 + 6]! |= 0x80; return f; })());
  add('broadcast arp request', eth(buildArp({ operation: 1, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' }), 0x0806, [], 'ff:ff:ff:ff:ff:ff'));
  add('arp reply', eth(buildArp({ operation: 2, senderMac: MAC_B, senderIp: '10.0.0.2', targetMac: MAC_A, targetIp: '10.0.0.1' }), 0x0806, [], MAC_A, MAC_B));
  add('arp padded to 60', (() => { const f = new Uint8Array(60); f.set(eth(buildArp({ operation: 1, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.3' }), 0x0806, [], 'ff:ff:ff:ff:ff:ff')); return f; })());
  add('arp padded to 64', (() => { const f = new Uint8Array(64); f.set(eth(buildArp({ operation: 2, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: MAC_B, targetIp: '10.0.0.3' }), 0x0806)); f.fill(0xee, 60); return f; })());
  add('udp padded to 60', (() => { const f = new Uint8Array(60); f.set(eth(udp4(pattern(2)), 0x0800)); return f; })());
  add('icmp echo request', eth(buildIpv4({ ...V4, protocol: 1 }, buildIcmpv4({ kind: 'echoRequest', identifier: 0x1234, sequence: 1, data: pattern(56, 0x10) })), 0x0800));
  add('icmp echo reply', eth(buildIpv4({ ...V4R, protocol: 1 }, buildIcmpv4({ kind: 'echoReply', identifier: 0x1234, sequence: 1, data: pattern(56, 0x10) })), 0x0800));
  const quotedUdp = udp4(pattern(20)).slice(0, 28);
  add('icmp port unreachable', eth(buildIpv4({ ...V4R, protocol: 1 }, buildIcmpv4({ kind: 'destinationUnreachable', code: 3, nextHopMtu: 0, quoted: quotedUdp })), 0x0800));
  const quotedTcp = tcp4(TCP_SYN, allOpts, new Uint8Array(0)).slice(0, 28);
  add('icmp frag needed', eth(buildIpv4({ ...V4R, protocol: 1 }, buildIcmpv4({ kind: 'destinationUnreachable', code: 4, nextHopMtu: 1400, quoted: quotedTcp })), 0x0800));
  add('icmp time exceeded', eth(buildIpv4({ src: '172.16.0.1', dst: V4.src, protocol: 1 }, buildIcmpv4({ kind: 'timeExceeded', code: 0, quoted: udp4(pattern(40)) })), 0x0800));
  add('icmp redirect', eth(buildIpv4({ src: '10.0.0.254', dst: V4.src, protocol: 1 }, buildIcmpv4({ kind: 'other', type: 5, code: 1, rest: 0x0a000001, data: quotedUdp })), 0x0800));
  add('icmp parameter problem', eth(buildIpv4({ src: '10.0.0.254', dst: V4.src, protocol: 1 }, buildIcmpv4({ kind: 'other', type: 12, code: 0, rest: 0x08000000, data: quotedUdp })), 0x0800));
  add('icmp timestamp request', eth(buildIpv4({ ...V4, protocol: 1 }, buildIcmpv4({ kind: 'other', type: 13, code: 0, rest: 0x00010002, data: new Uint8Array(12) })), 0x0800));
  add('icmp address mask reply', eth(buildIpv4({ ...V4R, protocol: 1 }, buildIcmpv4({ kind: 'other', type: 18, code: 0, rest: 0x00050006, data: Uint8Array.of(255, 255, 255, 0) })), 0x0800));
  add('ipip: ipv4 in ipv4', eth(buildIpv4({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 4 }, udp4(pattern(6))), 0x0800));
  add('6in4: ipv6 in ipv4', eth(buildIpv4({ src: '172.16.0.1', dst: '172.16.0.2', protocol: 41 }, udp6(pattern(6))), 0x0800));
  const gre = (flags: number, proto: number, extra: number[], payload: Uint8Array): Uint8Array => {
    const h = Uint8Array.of(flags >>> 8, flags & 0xff, proto >>> 8, proto & 0xff, ...extra);
    const g = new Uint8Array(h.length + payload.length);
    g.set(h);
    g.set(payload, h.length);
    return buildIpv4({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 47 }, g);
  };
  add('gre ipv4', eth(gre(0, 0x0800, [], udp4(pattern(5))), 0x0800));
  add('gre key+seq ipv6', eth(gre(0x3000, 0x86dd, [0, 0, 0, 42, 0, 0, 1, 0], udp6(pattern(3))), 0x0800));
  add('gre transparent ethernet', eth(gre(0x2000, 0x6558, [0, 0, 0, 7], eth(udp4(pattern(4)), 0x0800, [], '02:00:00:00:00:0a', '02:00:00:00:00:0b')), 0x0800));
  add('gre with checksum', (() => {
    const inner = udp4(pattern(6));
    const g = new Uint8Array(8 + inner.length);
    g.set([0x80, 0, 0x08, 0x00, 0, 0, 0, 0]);
    g.set(inner, 8);
    let sum = 0;
    for (let i = 0; i < g.length; i += 2) sum += (g[i]! << 8) | (g[i + 1] ?? 0);
    while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
    const ck = ~sum & 0xffff;
    g[4] = ck >>> 8;
    g[5] = ck & 0xff;
    return eth(buildIpv4({ src: '198.18.0.1', dst: '198.18.0.2', protocol: 47 }, g), 0x0800);
  })());
  const ah = (next: number, payload: Uint8Array): Uint8Array => {
    const h = Uint8Array.of(next, 4, 0, 0, 0, 0, 0x12, 0x34, 0, 0, 0, 9, ...new Array<number>(12).fill(0xab));
    const a = new Uint8Array(h.length + payload.length);
    a.set(h);
    a.set(payload, h.length);
    return a;
  };
  add('ipv4 ah udp', eth(buildIpv4({ ...V4, protocol: 51 }, ah(17, buildUdp({ srcPort: 40030, dstPort: 40031 }, pattern(4)))), 0x0800));
  add('ipv6 ah udp', eth(buildIpv6({ ...V6, nextHeader: 51 }, ah(17, buildUdp({ srcPort: 40032, dstPort: 40033 }, pattern(4), V6))), 0x86dd));
  add('ipv4 esp', eth(buildIpv4({ ...V4, protocol: 50 }, Uint8Array.of(0, 0, 0x10, 0x01, 0, 0, 0, 5, ...pattern(40))), 0x0800));
  add('icmp bad checksum', (() => { const f = eth(buildIpv4({ ...V4, protocol: 1 }, buildIcmpv4({ kind: 'echoRequest', identifier: 1, sequence: 2, data: pattern(8) })), 0x0800); f[14 + 20 + 2]! ^= 0xff; return f; })());
  add('ipv6 udp', eth(udp6(pattern(16)), 0x86dd));
  add('ipv6 ext headers', eth(udp6(pattern(7), [
    { type: 'hopByHop', options: Uint8Array.of(5, 2, 0, 0) },
    { type: 'destination', options: Uint8Array.of(1, 2, 0, 0) },
    { type: 'routing', routingType: 0, segmentsLeft: 1, data: new Uint8Array(20) },
    { type: 'fragment', fragmentOffset: 0, moreFragments: false, identification: 77 },
  ]), 0x86dd));
  add('ipv6 fragment', eth(buildIpv6({ ...V6, nextHeader: 17, extensions: [{ type: 'fragment', fragmentOffset: 1448, moreFragments: true, identification: 0xabcdef01 }] }, pattern(32)), 0x86dd));
  add('ipv6 tcp', eth(buildIpv6({ ...V6, nextHeader: 6 }, buildTcp({ srcPort: 40020, dstPort: 40021, seq: 5, ack: 6, flags: TCP_ACK | TCP_PSH, window: 512, options: [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: 9, echo: 8 }] }, pattern(33), V6)), 0x86dd));
  add('ipv6 mapped/compat addresses', eth(udp6(pattern(2), [], { src: '::ffff:10.1.2.3', dst: '::1' }), 0x86dd));
  add('ipv6 link-local multicast', eth(udp6(pattern(2), [], { src: 'fe80::211:22ff:fe33:4455', dst: 'ff02::1:2' }), 0x86dd, [], '33:33:00:01:00:02'));
  const nsAddrs = { src: 'fe80::1', dst: 'ff02::1:ff00:2' };
  add('icmpv6 neighbor solicitation', eth(buildIpv6({ ...nsAddrs, nextHeader: 58, hopLimit: 255 }, buildIcmpv6({ kind: 'neighborSolicitation', target: 'fe80::2', sourceLinkAddress: MAC_A }, nsAddrs)), 0x86dd, [], '33:33:ff:00:00:02'));
  const naAddrs = { src: 'fe80::2', dst: 'fe80::1' };
  add('icmpv6 neighbor advertisement', eth(buildIpv6({ ...naAddrs, nextHeader: 58, hopLimit: 255 }, buildIcmpv6({ kind: 'neighborAdvertisement', router: true, solicited: true, override: false, target: 'fe80::2', targetLinkAddress: MAC_B }, naAddrs)), 0x86dd));
  const rsAddrs = { src: 'fe80::1', dst: 'ff02::2' };
  add('icmpv6 router solicitation', eth(buildIpv6({ ...rsAddrs, nextHeader: 58, hopLimit: 255 }, buildIcmpv6({ kind: 'other', type: 133, code: 0, rest: 0, data: Uint8Array.of(1, 1, 0, 0x11, 0x22, 0x33, 0x44, 0x55) }, rsAddrs)), 0x86dd, [], '33:33:00:00:00:02'));
  const raAddrs = { src: 'fe80::fe', dst: 'ff02::1' };
  const raBody = new Uint8Array(8 + 32 + 8 + 8);
  raBody.set([0, 0, 0x07, 0x08, 0, 0, 0x03, 0xe8]); // reachable 1800 (bytes 4-7), retrans 1000
  raBody.set([3, 4, 64, 0xc0, 0, 0, 0x0e, 0x10, 0, 0, 0x07, 0x08, 0, 0, 0, 0, 0x20, 0x01, 0x0d, 0xb8, 0, 1], 8); // prefix 2001:db8:1::/64
  raBody.set([5, 1, 0, 0, 0, 0, 0x05, 0xdc], 40); // MTU 1500
  raBody.set([1, 1, 0x02, 0, 0, 0, 0, 0xfe], 48);
  add('icmpv6 router advertisement', eth(buildIpv6({ ...raAddrs, nextHeader: 58, hopLimit: 255 }, buildIcmpv6({ kind: 'other', type: 134, code: 0, rest: 0x40c80708, data: raBody }, raAddrs)), 0x86dd, [], '33:33:00:00:00:01'));
  add('icmpv6 echo request', eth(buildIpv6({ ...V6, nextHeader: 58 }, buildIcmpv6({ kind: 'echoRequest', identifier: 0x77, sequence: 3, data: pattern(24) }, V6)), 0x86dd));
  add('icmpv6 echo reply', eth(buildIpv6({ src: V6.dst, dst: V6.src, nextHeader: 58 }, buildIcmpv6({ kind: 'echoReply', identifier: 0x77, sequence: 3, data: pattern(24) }, { src: V6.dst, dst: V6.src })), 0x86dd));
  const q6 = udp6(pattern(8));
  add('icmpv6 port unreachable', eth(buildIpv6({ src: V6.dst, dst: V6.src, nextHeader: 58 }, buildIcmpv6({ kind: 'destinationUnreachable', code: 4, quoted: q6 }, { src: V6.dst, dst: V6.src })), 0x86dd));
  add('icmpv6 packet too big', eth(buildIpv6({ src: V6.dst, dst: V6.src, nextHeader: 58 }, buildIcmpv6({ kind: 'packetTooBig', mtu: 1280, quoted: q6 }, { src: V6.dst, dst: V6.src })), 0x86dd));
  add('icmpv6 time exceeded', eth(buildIpv6({ src: V6.dst, dst: V6.src, nextHeader: 58 }, buildIcmpv6({ kind: 'timeExceeded', code: 0, quoted: q6 }, { src: V6.dst, dst: V6.src })), 0x86dd));
  add('unknown ethertype', eth(pattern(30), 0x88b5));
  // IEEE 802.3 length frames with 802.2 LLC; SNAP carrying IPv4 (RFC 1042).
  const dot3 = (llc: number[], total: number): Uint8Array => {
    const f = new Uint8Array(total);
    f.set([0x01, 0x80, 0xc2, 0, 0, 0, 0x02, 0, 0, 0, 0, 0x01, llc.length >>> 8, llc.length & 0xff, ...llc]);
    return f;
  };
  add('802.3 llc snap ipv4', dot3([0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...buildIpv4({ ...V4, protocol: 17 }, buildUdp({ srcPort: 40050, dstPort: 40051 }, pattern(4), V4))], 60));
  add('802.1q + llc snap ipv4', (() => {
    const llc = [0xaa, 0xaa, 0x03, 0, 0, 0, 0x08, 0x00, ...buildIpv4({ ...V4, protocol: 17 }, buildUdp({ srcPort: 40052, dstPort: 40053 }, pattern(2), V4))];
    return Uint8Array.of(0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2, 0x81, 0x00, 0x20, 0x05, llc.length >>> 8, llc.length & 0xff, ...llc, 0, 0, 0, 0);
  })());
  add('802.3 llc i-frame', dot3([0x06, 0x07, 0x10, 0x22, 1, 2, 3], 60));
  add('802.3 llc short frame trailer', dot3([0x06, 0x06, 0x03, 9, 9], 59));
  add('locally administered multicast src', eth(udp4(pattern(3)), 0x0800, [], '03:00:00:00:00:01', '06:00:00:00:00:02'));
  // Malformed frames.
  const good = tcp4(TCP_ACK | TCP_PSH, [], pattern(4));
  add('malformed: ip truncated in tcp header', eth(good.slice(0, 30), 0x0800));
  add('malformed: ip version 5', (() => { const p = good.slice(); p[0] = 0x55; return eth(p, 0x0800); })());
  add('malformed: ip total length > captured', (() => { const p = good.slice(); p[2] = 0; p[3] = 200; return eth(p, 0x0800); })());
  add('malformed: tcp header length 12', (() => { const p = good.slice(); p[32] = 0x30; return eth(p, 0x0800); })());
  add('malformed: ihl 4', (() => { const p = good.slice(); p[0] = 0x44; return eth(p, 0x0800); })());
  add('malformed: ip total length < header', (() => { const p = good.slice(); p[2] = 0; p[3] = 10; return eth(p, 0x0800); })());
  add('malformed: udp length 3', (() => { const u = buildUdp({ srcPort: 40000, dstPort: 40001 }, pattern(4)); u[5] = 3; return eth(buildIpv4({ ...V4, protocol: 17 }, u), 0x0800); })());
  add('malformed: udp length > ip payload', (() => { const u = buildUdp({ srcPort: 40000, dstPort: 40001 }, pattern(4)); u[5] = 100; return eth(buildIpv4({ ...V4, protocol: 17 }, u), 0x0800); })());
  add('ipv4 total length 0 (TSO)', (() => { const p = udp4(pattern(8)); p[2] = 0; p[3] = 0; return eth(p, 0x0800); })());
  add('ipv6 payload length 0 (TSO)', (() => { const p = udp6(pattern(8)); p[4] = 0; p[5] = 0; return eth(p, 0x86dd); })());
  add('malformed: short ipv4', eth(pattern(10, 0x45), 0x0800));
  add('malformed: short ethernet', pattern(10));
  add('malformed: truncated vlan tag', eth(new Uint8Array(0), 0x8100).subarray(0, 15));
  add('malformed: tcp option overruns header', (() => { const p = tcp4(TCP_SYN, [{ type: 'mss', value: 1460 }], new Uint8Array(0)); p[20 + 21] = 40; return eth(p, 0x0800); })());
  add('malformed: ipv6 payload length > captured', (() => { const p = udp6(pattern(8)); p[4] = 1; return eth(p, 0x86dd); })());
  add('malformed: ipv6 truncated ext header', eth(udp6(pattern(7), [{ type: 'hopByHop', options: Uint8Array.of(5, 2, 0, 0) }]).slice(0, 44), 0x86dd));
  add('malformed: arp truncated', eth(buildArp({ operation: 1, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: MAC_B, targetIp: '10.0.0.2' }).slice(0, 20), 0x0806));
  return out;
}

/** Frames of the other link types. */
export function otherLinkCorpus(): CorpusFrame[] {
  const ip4 = tcp4(TCP_SYN, [{ type: 'mss', value: 1460 }], new Uint8Array(0));
  const ip6 = udp6(pattern(4));
  const out: CorpusFrame[] = [];
  out.push({ name: 'raw ipv4', linktype: 101, frame: ip4 }, { name: 'raw ipv6', linktype: 101, frame: ip6 });
  out.push({ name: 'linktype ipv4', linktype: 228, frame: ip4 }, { name: 'linktype ipv6', linktype: 229, frame: ip6 });
  const nul = (fam: Uint8Array, p: Uint8Array): Uint8Array => {
    const f = new Uint8Array(4 + p.length);
    f.set(fam);
    f.set(p, 4);
    return f;
  };
  out.push({ name: 'null LE ipv4', linktype: 0, frame: nul(Uint8Array.of(2, 0, 0, 0), ip4) });
  out.push({ name: 'null BE ipv4', linktype: 0, frame: nul(Uint8Array.of(0, 0, 0, 2), ip4) });
  out.push({ name: 'null darwin ipv6', linktype: 0, frame: nul(Uint8Array.of(30, 0, 0, 0), ip6) });
  out.push({ name: 'null freebsd ipv6', linktype: 0, frame: nul(Uint8Array.of(28, 0, 0, 0), ip6) });
  const sll = (pkttype: number, proto: number, p: Uint8Array): Uint8Array => {
    const f = new Uint8Array(16 + p.length);
    f[1] = pkttype;
    f[3] = 1;
    f[5] = 6;
    f.set([0x00, 0x11, 0x22, 0x33, 0x44, 0x55], 6);
    f[14] = proto >>> 8;
    f[15] = proto & 0xff;
    f.set(p, 16);
    return f;
  };
  out.push({ name: 'sll ipv4 outgoing', linktype: 113, frame: sll(4, 0x0800, ip4) });
  out.push({ name: 'sll ipv6 to us', linktype: 113, frame: sll(0, 0x86dd, ip6) });
  out.push({ name: 'sll arp broadcast', linktype: 113, frame: sll(1, 0x0806, buildArp({ operation: 1, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' })) });
  const sll2 = (ifindex: number, pkttype: number, proto: number, p: Uint8Array): Uint8Array => {
    const f = new Uint8Array(20 + p.length);
    f[0] = proto >>> 8;
    f[1] = proto & 0xff;
    f[7] = ifindex;
    f[9] = 1;
    f[10] = pkttype;
    f[11] = 6;
    f.set([0x00, 0x11, 0x22, 0x33, 0x44, 0x66], 12);
    f.set(p, 20);
    return f;
  };
  out.push({ name: 'sll2 ipv4', linktype: 276, frame: sll2(3, 0, 0x0800, ip4) });
  out.push({ name: 'sll2 ipv6', linktype: 276, frame: sll2(7, 4, 0x86dd, ip6) });
  out.push({ name: 'malformed: raw garbage', linktype: 101, frame: pattern(12, 0x20) });
  out.push({ name: 'malformed: sll short', linktype: 113, frame: pattern(9) });
  return out;
}

/** TCP and UDP conversations in order (handshake with window scaling, data, FIN, mid-stream, port reuse). */
export function conversationCorpus(): CorpusFrame[] {
  const C = '10.0.0.1';
  const S = '10.0.0.2';
  const mk = (fromC: boolean, sp: number, dp: number, seq: number, ack: number, flags: number, window: number, options: TcpOption[], len: number): CorpusFrame => {
    const ip = fromC ? { src: C, dst: S } : { src: S, dst: C };
    const t = buildTcp({ srcPort: sp, dstPort: dp, seq, ack, flags, window, options }, new Uint8Array(len).fill(0x41), ip);
    return { name: `tcp ${sp}->${dp} flags 0x${flags.toString(16)}`, linktype: 1, frame: eth(buildIpv4({ ...ip, protocol: 6 }, t), 0x0800) };
  };
  const u = (sp: number, dp: number, fromC: boolean): CorpusFrame => {
    const ip = fromC ? { src: C, dst: S } : { src: S, dst: C };
    return { name: `udp ${sp}->${dp}`, linktype: 1, frame: eth(buildIpv4({ ...ip, protocol: 17 }, buildUdp({ srcPort: sp, dstPort: dp }, pattern(3), ip)), 0x0800) };
  };
  const x = 1000000;
  const y = 4000000000; // the server's ISN wraps past 2^32 during the exchange
  const ws = (shift: number): TcpOption[] => [{ type: 'mss', value: 1460 }, { type: 'nop' }, { type: 'windowScale', shift }];
  return [
    mk(true, 41000, 42000, x, 0, TCP_SYN, 64240, ws(7), 0),
    mk(false, 42000, 41000, y, x + 1, TCP_SYN | TCP_ACK, 65160, ws(8), 0),
    mk(true, 41000, 42000, x + 1, y + 1, TCP_ACK, 502, [], 0),
    mk(true, 41000, 42000, x + 1, y + 1, TCP_ACK | TCP_PSH, 502, [], 100),
    mk(false, 42000, 41000, y + 1, x + 101, TCP_ACK, 255, [], 0),
    mk(false, 42000, 41000, y + 1, x + 101, TCP_ACK | TCP_PSH, 255, [], 0x12345678 % 300),
    mk(true, 43000, 44000, 555, 777, TCP_ACK | TCP_PSH, 1000, [], 10),
    mk(false, 44000, 43000, 777, 565, TCP_ACK, 2000, [], 0),
    u(50000, 50001, true),
    mk(true, 41000, 42000, x + 101, (y + 1 + (0x12345678 % 300)) >>> 0, TCP_FIN | TCP_ACK, 502, [], 0),
    mk(false, 42000, 41000, (y + 1 + (0x12345678 % 300)) >>> 0, x + 102, TCP_FIN | TCP_ACK, 255, [], 0),
    mk(true, 41000, 42000, x + 102, (y + 2 + (0x12345678 % 300)) >>> 0, TCP_ACK, 502, [], 0),
    mk(true, 45000, 46000, 1, 0, TCP_SYN, 100, [{ type: 'windowScale', shift: 3 }], 0),
    mk(false, 46000, 45000, 9, 2, TCP_SYN | TCP_ACK, 100, [], 0),
    mk(true, 45000, 46000, 2, 10, TCP_ACK, 100, [], 0),
    mk(false, 47000, 48000, 5, 0, TCP_RST, 0, [], 0),
    u(50001, 50000, false),
    u(50002, 50001, true),
    mk(true, 41000, 42000, 7777, 0, TCP_SYN, 64240, [], 0),
    mk(false, 42000, 41000, 1, 7778, TCP_SYN | TCP_ACK, 1000, ws(20), 0),
    mk(true, 41000, 42000, 7778, 2, TCP_ACK, 1000, [], 5),
  ];
}
