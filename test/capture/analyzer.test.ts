import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { PacketAnalyzer, PcapLinkType, readCaptureSync, summarizePacket } from '../../src/capture/index.js';
import { PacketBatch } from '../../src/batch.js';
import { EthernetFrame, MacAddress, EtherType } from '../../src/wire/ethernet.js';
import { TCP_ACK, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN } from '../../src/wire/tcp.js';
import { arpFrame, ascii, clientHello, dnsQuery, pingFrame, quicInitial, tcpFrame, udpFrame, vlanUdpFrame } from './helpers/frames.js';

const C = '10.0.0.1';
const S = '10.0.0.2';

function at(data: Uint8Array, t: number, linktype = 1) {
  return { data, tsSec: 1_700_000_000 + Math.floor(t), tsNsec: Math.round((t % 1) * 1e9), linktype };
}

/** A whole TCP connection: handshake, request, response, close from both sides. */
function connection(a: PacketAnalyzer, c: string, s: string, cp: number, sp: number, t0: number, request: Uint8Array) {
  a.analyzePacket(at(tcpFrame(c, s, cp, sp, TCP_SYN), t0));
  a.analyzePacket(at(tcpFrame(s, c, sp, cp, TCP_SYN | TCP_ACK), t0 + 0.001));
  a.analyzePacket(at(tcpFrame(c, s, cp, sp, TCP_ACK), t0 + 0.002));
  a.analyzePacket(at(tcpFrame(c, s, cp, sp, TCP_ACK | TCP_PSH, request), t0 + 0.003));
  a.analyzePacket(at(tcpFrame(s, c, sp, cp, TCP_ACK | TCP_PSH, ascii('HTTP/1.1 200 OK\r\n\r\n')), t0 + 0.004));
  a.analyzePacket(at(tcpFrame(c, s, cp, sp, TCP_ACK | TCP_FIN), t0 + 0.005));
  a.analyzePacket(at(tcpFrame(s, c, sp, cp, TCP_ACK | TCP_FIN), t0 + 0.006));
  a.analyzePacket(at(tcpFrame(c, s, cp, sp, TCP_ACK), t0 + 0.007));
}

describe('PacketAnalyzer', () => {
  it('counts packets and bytes per protocol (the guide getStats())', () => {
    const a = new PacketAnalyzer();
    const frames = [tcpFrame(C, S, 1, 80, TCP_SYN), udpFrame(C, S, 5, 6, ascii('x')), udpFrame('fe80::1', 'fe80::2', 5, 6), pingFrame(C, S, 1), arpFrame(), vlanUdpFrame(C, S, 7, 8, 100)];
    for (const f of frames) a.analyzePacket(f);
    const s = a.getStats();
    const len = (i: number) => frames[i]!.length;
    expect(s).toMatchObject({
      packets: 6, bytes: frames.reduce((x, f) => x + f.length, 0),
      tcpPackets: 1, tcpBytes: len(0), udpPackets: 3, udpBytes: len(1) + len(2) + len(5), icmpPackets: 1, icmpBytes: len(3),
      arpPackets: 1, arpBytes: len(4), ipv4Packets: 4, ipv6Packets: 1, ipv6Bytes: len(2), ethPackets: 6, otherPackets: 0, malformedPackets: 0,
    });
  });

  it('accepts CapturePackets, { data } objects, EthernetFrames and raw bytes; timestamps are kept', () => {
    const a = new PacketAnalyzer();
    a.analyzePacket(new EthernetFrame(MacAddress.BROADCAST, '02:00:00:00:00:01', EtherType.Arp, arpFrame().subarray(14)));
    a.analyzePacket({ data: udpFrame(C, S, 1, 2).subarray(14), linktype: PcapLinkType.RAW, timestamp: 1_700_000_000_500_000_000n });
    a.analyzePacket(arpFrame());
    expect(a.getStats()).toMatchObject({ arpPackets: 2, udpPackets: 1, ethPackets: 2 });
    const c = a.getConversations('udp')[0]!;
    expect(c.firstTimestamp).toBe(1_700_000_000_500_000_000n);
    expect(() => a.analyzePacket(42 as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('tracks bidirectional conversations: A is the first sender, per-direction counts, flags and state', () => {
    const a = new PacketAnalyzer();
    connection(a, C, S, 40000, 80, 0, ascii('GET / HTTP/1.1\r\nHost: example.test\r\n\r\n'));
    const [c] = a.getConversations('tcp');
    expect(c).toMatchObject({ addressA: C, portA: 40000, addressB: S, portB: 80, packetsAtoB: 5, packetsBtoA: 3, state: 'CLOSED', application: 'http', applicationDetail: 'example.test' });
    expect(c!.tcpFlagsAtoB).toBe(TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN);
    expect(c!.tcpFlagsBtoA).toBe(TCP_SYN | TCP_ACK | TCP_PSH | TCP_FIN);
    expect(c!.duration).toBeCloseTo(0.007, 6);
    expect(c!.bytesAtoB + c!.bytesBtoA).toBe(c!.bytes);
  });

  it('computes a duration across a second boundary exactly as tshark does (normalised before dividing)', () => {
    const a = new PacketAnalyzer();
    const frame = udpFrame(C, S, 5000, 53, ascii('x'));
    a.analyzePacket({ data: frame, tsSec: 1_700_000_001, tsNsec: 999_500_000, linktype: 1 });
    a.analyzePacket({ data: frame, tsSec: 1_700_000_002, tsNsec: 1_000_000, linktype: 1 });
    const [c] = a.getConversations('udp');
    // 1 + (0.001 - 0.9995) is not the double 0.0015; tshark prints %.4f of nsecs / 1e9 = 0.0015.
    expect(c!.duration).toBe(1_500_000 / 1e9);
  });

  it('estimates TCP states along the handshake, on a reset and for flows seen mid-stream', () => {
    const states = (frames: [Uint8Array][]) => {
      const a = new PacketAnalyzer();
      const seen: string[] = [];
      for (const [f] of frames) {
        a.analyzePacket(f);
        seen.push(a.getConversations('tcp')[0]!.state);
      }
      return seen;
    };
    expect(states([[tcpFrame(C, S, 1, 2, TCP_SYN)], [tcpFrame(S, C, 2, 1, TCP_SYN | TCP_ACK)], [tcpFrame(C, S, 1, 2, TCP_ACK)], [tcpFrame(S, C, 2, 1, TCP_FIN | TCP_ACK)], [tcpFrame(C, S, 1, 2, TCP_FIN | TCP_ACK)]]))
      .toEqual(['SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSING', 'CLOSED']);
    expect(states([[tcpFrame(C, S, 1, 2, TCP_SYN)], [tcpFrame(S, C, 2, 1, TCP_RST | TCP_ACK)]])).toEqual(['SYN_SENT', 'RESET']);
    expect(states([[tcpFrame(C, S, 1, 2, TCP_ACK, ascii('data'))]])).toEqual(['MIDSTREAM']);
  });

  it('gives top flows by bytes or packets', () => {
    const a = new PacketAnalyzer();
    for (let i = 0; i < 5; i++) a.analyzePacket(udpFrame(C, S, 1000, 53, new Uint8Array(10)));
    a.analyzePacket(udpFrame(C, S, 1001, 53, new Uint8Array(1000)));
    for (let i = 0; i < 3; i++) a.analyzePacket(udpFrame(S, C, 53, 1002, new Uint8Array(100)));
    expect(a.getTopFlows(2).map((c) => c.portA)).toEqual([1001, 53]);
    expect(a.getTopFlows(3, 'packets').map((c) => c.packets)).toEqual([5, 3, 1]);
    expect(a.getTopFlows(1, 'packets')[0]).toMatchObject({ addressA: C, portA: 1000, addressB: S, portB: 53 });
    expect(() => a.getTopFlows(1, 'nope' as 'bytes')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('keeps flows apart under load and grows its table (IPv4 and IPv6 keys)', () => {
    const a = new PacketAnalyzer();
    for (let i = 0; i < 1500; i++) {
      a.analyzePacket(udpFrame(`10.${i >> 8}.${i & 255}.1`, S, 1000 + (i % 7), 53));
      a.analyzePacket(udpFrame(S, `10.${i >> 8}.${i & 255}.1`, 53, 1000 + (i % 7)));
      if (i % 3 === 0) a.analyzePacket(udpFrame(`2001:db8::${i.toString(16)}`, '2001:db8::1', 9, 10));
    }
    expect(a.conversationCount).toBe(2000);
    const v4 = a.getConversations('udp').filter((c) => c.ipVersion === 4);
    expect(v4.every((c) => c.packetsAtoB === 1 && c.packetsBtoA === 1)).toBe(true);
  });

  it('stops tracking new flows at maxFlows but keeps counting protocols', () => {
    const a = new PacketAnalyzer({ maxFlows: 2 });
    for (let i = 0; i < 5; i++) a.analyzePacket(udpFrame(C, S, 1000 + i, 53));
    expect(a.conversationCount).toBe(2);
    expect(a.untrackedPackets).toBe(3);
    expect(a.getStats().udpPackets).toBe(5);
  });

  it('DPI: HTTP request line and Host, TLS SNI and ALPN, DNS name and type, QUIC version and connection IDs', () => {
    const a = new PacketAnalyzer();
    a.analyzePacket(tcpFrame(C, S, 40000, 80, TCP_ACK | TCP_PSH, ascii('POST /api/v1?x=1 HTTP/1.0\r\nUser-Agent: t\r\nHOST:  api.example.test \r\n\r\nbody')));
    a.analyzePacket(tcpFrame(C, S, 40001, 443, TCP_ACK | TCP_PSH, clientHello('secure.example.test', ['h2', 'http/1.1'])));
    a.analyzePacket(udpFrame(C, S, 5000, 53, dnsQuery(0xbeef, 'www.example.test', 28)));
    a.analyzePacket(udpFrame(S, C, 53, 5000, dnsQuery(0xbeef, 'www.example.test', 28, true)));
    a.analyzePacket(udpFrame(C, S, 5001, 4433, quicInitial([1, 2, 3, 4, 5, 6, 7, 8], [9, 9])));
    const f = a.getDpiFindings();
    expect(f.map((x) => x.kind)).toEqual(['http', 'tls', 'dns', 'dns', 'quic']);
    expect(f[0]).toMatchObject({ method: 'POST', uri: '/api/v1?x=1', version: 'HTTP/1.0', host: 'api.example.test', userAgent: 't', conversation: 'tcp 10.0.0.1:40000 <-> 10.0.0.2:80' });
    expect(f[1]).toMatchObject({ sni: 'secure.example.test', alpn: ['h2', 'http/1.1'], supportedVersions: [0x0304] });
    expect(f[2]).toMatchObject({ id: 0xbeef, name: 'www.example.test', type: 28, typeName: 'AAAA', response: false });
    expect(f[3]).toMatchObject({ response: true });
    expect(f[4]).toMatchObject({ version: 1, packetTypeName: 'Initial', dcidHex: '0102030405060708', scidHex: '0909' });
    expect(a.getStats()).toMatchObject({ httpPackets: 1, tlsPackets: 1, dnsPackets: 2, quicPackets: 1 });
    expect(a.getConversations().map((c) => c.application)).toEqual(['http', 'tls', 'dns', 'quic']);
    expect(a.getDpiFindings('dns')).toHaveLength(2);
  });

  it('builds the protocol hierarchy link → network → transport → application', () => {
    const a = new PacketAnalyzer();
    a.analyzePacket(udpFrame(C, S, 5000, 53, dnsQuery(1, 'a.b', 1)));
    a.analyzePacket(tcpFrame(C, S, 1, 2, TCP_SYN));
    a.analyzePacket(arpFrame());
    const h = a.getProtocolHierarchy();
    expect(h).toHaveLength(1);
    expect(h[0]).toMatchObject({ protocol: 'eth', packets: 3 });
    const ip = h[0]!.children.find((n) => n.protocol === 'ip')!;
    expect(ip.children.map((n) => [n.protocol, n.packets])).toEqual([['tcp', 1], ['udp', 1]]);
    expect(ip.children[1]!.children.map((n) => n.protocol)).toEqual(['dns']);
    expect(h[0]!.children.find((n) => n.protocol === 'arp')!.packets).toBe(1);
    a.reset();
    expect(a.getProtocolHierarchy()).toEqual([]);
    expect(a.getStats().packets).toBe(0);
    expect(a.conversationCount).toBe(0);
  });

  it('analyzeBatch: the packets of a PacketBatch with their timestamp lane give the same result as one by one', () => {
    const pkts = readCaptureSync(readFileSync(new URL('../fixtures/lo-traffic.pcap', import.meta.url)));
    const batch = new PacketBatch({ capacity: 64, byteCapacity: 64 * 2048, timestamps: true });
    for (const p of pkts) batch.push(p.data, p.timestamp);
    const a = new PacketAnalyzer();
    a.analyzeBatch(batch);
    const b = new PacketAnalyzer();
    for (const p of pkts) b.analyzePacket(p);
    expect(a.getStats()).toEqual(b.getStats());
    expect(a.getConversations()).toEqual(b.getConversations());
  });

  it('counts cut and malformed headers instead of throwing', () => {
    const a = new PacketAnalyzer();
    const f = tcpFrame(C, S, 1, 2, TCP_SYN);
    a.analyzePacket(f.subarray(0, 20)); // IPv4 header cut
    a.analyzePacket(f.subarray(0, 40)); // TCP header cut (snap length)
    a.analyzePacket(new Uint8Array(5)); // not even Ethernet
    const s = a.getStats();
    expect(s.packets).toBe(3);
    expect(s.malformedPackets).toBe(3);
    expect(s.tcpPackets).toBe(1);
    expect(s.ipv4Packets).toBe(1);
  });

  it('hostile bytes never throw out of analyzePacket, whatever the link type', () => {
    const base = [tcpFrame(C, S, 1, 80, TCP_ACK, ascii('GET / HTTP/1.1\r\nHost: x\r\n\r\n')), udpFrame(C, S, 1, 53, dnsQuery(1, 'a.b.c', 1)), tcpFrame(C, S, 1, 443, TCP_ACK, clientHello('s', ['h2'])), udpFrame(C, S, 1, 443, quicInitial([1], [2]))];
    const a = new PacketAnalyzer();
    fc.assert(
      fc.property(
        fc.oneof(fc.uint8Array({ maxLength: 200 }), fc.tuple(fc.constantFrom(...base), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([f, edits]) => {
          const b = f.slice();
          for (const [i, v] of edits) b[i % b.length] = v;
          return b;
        })),
        fc.constantFrom(0, 1, 101, 108, 113, 228, 229, 276, 999),
        (data, linktype) => {
          a.analyzePacket({ data, linktype, tsSec: 1, tsNsec: 0 });
          summarizePacket(data, linktype);
        },
      ),
      { numRuns: 1500 },
    );
    expect(a.getStats().packets).toBe(1500);
  });

  it('agrees with the fixtures: tcpdump file and its SLL2 twin give the same conversations', () => {
    const conv = (name: string) => {
      const a = new PacketAnalyzer();
      for (const p of readCaptureSync(readFileSync(new URL(`../fixtures/${name}`, import.meta.url)))) a.analyzePacket(p);
      return a.getConversations().map((c) => `${c.key} ${c.packetsAtoB}/${c.packetsBtoA} ${c.state} ${c.application ?? ''}`);
    };
    expect(conv('any-sll2-ns.pcap')).toEqual(conv('lo-traffic.pcap'));
  });
});
