// Property tests: for arbitrary reprs, emit → check → parse gives the repr back (with the documented
// normalisations: TCP option padding shows as a trailing EOL), and checksums verify.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  buildArp, buildEthernet, buildIcmpv4, buildIcmpv6, buildIpv4, buildIpv6, buildTcp, buildUdp, EthernetView, formatIpv4Address, formatIpv6Address,
  formatMacAddress, Icmpv4View, Icmpv6View, ipPseudoHeaderSum, Ipv4View, Ipv6View, parseArpRepr, parseEthernetRepr, parseIcmpv4Repr, parseIcmpv6Repr,
  parseIpv4Repr, parseIpv6Repr, parseTcpRepr, parseUdpRepr, TcpView, UdpView,
  type ArpRepr, type EthernetRepr, type Icmpv4Repr, type Icmpv6Repr, type Ipv4Repr, type Ipv6ExtensionRepr, type Ipv6Repr, type TcpOption, type TcpRepr,
} from '../../src/wire/index.js';

const RUNS = { numRuns: 200 };
const mac = fc.uint8Array({ minLength: 6, maxLength: 6 }).map((b) => formatMacAddress(b));
const ip4 = fc.integer({ min: 0, max: 0xffffffff }).map(formatIpv4Address);
const ip6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6Address(b));
const u16 = fc.integer({ min: 0, max: 0xffff });
const u32 = fc.integer({ min: 0, max: 0xffffffff });
const bytes = (max: number) => fc.uint8Array({ maxLength: max });

describe('round trips', () => {
  it('Ethernet with 0-3 tags', () => {
    const tag = fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), id: fc.integer({ min: 0, max: 4095 }) });
    const repr = fc.record({ dst: mac, src: mac, etherType: fc.integer({ min: 0x0600, max: 0xffff }).filter((t) => t !== 0x8100 && t !== 0x88a8 && t !== 0x9100), vlans: fc.array(tag, { maxLength: 3 }) });
    fc.assert(
      fc.property(repr, bytes(20), (r: EthernetRepr, payload) => {
        const f = buildEthernet(r, payload);
        expect(EthernetView.check(f)).toBe(14 + 4 * r.vlans.length);
        expect(parseEthernetRepr(f)).toEqual(r);
        expect(new EthernetView(f).payloadOffset).toBe(f.length - payload.length);
      }),
      RUNS,
    );
  });

  it('ARP', () => {
    fc.assert(
      fc.property(fc.record({ operation: u16, senderMac: mac, senderIp: ip4, targetMac: mac, targetIp: ip4 }), (r: ArpRepr) => {
        expect(parseArpRepr(buildArp(r))).toEqual(r);
      }),
      RUNS,
    );
  });

  it('IPv4 (options of NOPs in whole words), checksum verifies', () => {
    const repr = fc.record({
      src: ip4, dst: ip4, protocol: fc.integer({ min: 0, max: 255 }), ttl: fc.integer({ min: 0, max: 255 }), dscp: fc.integer({ min: 0, max: 63 }),
      ecn: fc.integer({ min: 0, max: 3 }), identification: u16, dontFragment: fc.boolean(), moreFragments: fc.boolean(),
      fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8), options: fc.integer({ min: 0, max: 10 }).map((w) => new Uint8Array(4 * w).fill(1)),
      payloadLength: fc.constant(0),
    });
    fc.assert(
      fc.property(repr, bytes(40), (r: Ipv4Repr, payload) => {
        const p = buildIpv4(r, payload);
        expect(Ipv4View.check(p)).toBe(20 + r.options.length);
        expect(new Ipv4View(p).verifyChecksum()).toBe(true);
        expect(parseIpv4Repr(p)).toEqual({ ...r, payloadLength: payload.length });
      }),
      RUNS,
    );
  });

  it('IPv6 with extension headers', () => {
    // PadN-filled option areas of 6 + 8k bytes keep the header a multiple of 8 with no padding added.
    const padn = fc.integer({ min: 0, max: 2 }).map((k) => {
      const o = new Uint8Array(6 + 8 * k);
      o[0] = 1;
      o[1] = 4 + 8 * k;
      return o;
    });
    const ext: fc.Arbitrary<Ipv6ExtensionRepr> = fc.oneof(
      padn.map((options) => ({ type: 'destination' as const, options })),
      fc.record({ routingType: fc.integer({ min: 0, max: 255 }), segmentsLeft: fc.integer({ min: 0, max: 255 }), data: fc.integer({ min: 0, max: 2 }).map((k) => new Uint8Array(4 + 8 * k)) }).map((x) => ({ type: 'routing' as const, ...x })),
      fc.record({ fragmentOffset: fc.integer({ min: 0, max: 0x1fff }).map((x) => x * 8), moreFragments: fc.boolean(), identification: u32 }).map((x) => ({ type: 'fragment' as const, ...x })),
    );
    const repr = fc.record({
      src: ip6, dst: ip6, nextHeader: fc.constantFrom(6, 17, 58, 59, 132), hopLimit: fc.integer({ min: 0, max: 255 }), trafficClass: fc.integer({ min: 0, max: 255 }),
      flowLabel: fc.integer({ min: 0, max: 0xfffff }), hbh: fc.option(padn, { nil: undefined }), extensions: fc.array(ext, { maxLength: 4 }), payloadLength: fc.constant(0),
    });
    fc.assert(
      fc.property(repr, bytes(30), ({ hbh, ...r }, payload) => {
        const full: Ipv6Repr = { ...r, extensions: hbh ? [{ type: 'hopByHop', options: hbh }, ...r.extensions] : r.extensions };
        const p = buildIpv6(full, payload);
        const upper = Ipv6View.check(p);
        const v = new Ipv6View(p);
        expect(v.upperOffset).toBe(upper);
        expect(v.upperProtocol).toBe(r.nextHeader);
        expect(v.upperLength).toBe(payload.length);
        expect(parseIpv6Repr(p)).toEqual({ ...full, payloadLength: payload.length });
      }),
      RUNS,
    );
  });

  it('UDP over IPv4 and IPv6: checksum verifies, zero never sent', () => {
    fc.assert(
      fc.property(u16, u16, bytes(64), fc.boolean(), ip4, ip4, ip6, ip6, (sp, dp, payload, v6, a4, b4, a6, b6) => {
        const ip = v6 ? { src: a6, dst: b6 } : { src: a4, dst: b4 };
        const u = buildUdp({ srcPort: sp, dstPort: dp }, payload, ip);
        expect(UdpView.check(u)).toBe(8 + payload.length);
        const v = new UdpView(u);
        expect(v.checksum).not.toBe(0);
        expect(v.verifyChecksum(ipPseudoHeaderSum(ip.src, ip.dst, 17, u.length), v6 ? 6 : 4)).toBe(true);
        expect(parseUdpRepr(u)).toEqual({ srcPort: sp, dstPort: dp, payloadLength: payload.length, checksum: v.checksum });
      }),
      RUNS,
    );
  });

  it('TCP with arbitrary options (padding shows as one trailing EOL)', () => {
    const opt: fc.Arbitrary<TcpOption> = fc.oneof(
      fc.constant({ type: 'nop' as const }),
      u16.map((value) => ({ type: 'mss' as const, value })),
      fc.integer({ min: 0, max: 255 }).map((shift) => ({ type: 'windowScale' as const, shift })),
      fc.constant({ type: 'sackPermitted' as const }),
      fc.array(fc.tuple(u32, u32), { minLength: 1, maxLength: 3 }).map((blocks) => ({ type: 'sack' as const, blocks })),
      fc.tuple(u32, u32).map(([value, echo]) => ({ type: 'timestamps' as const, value, echo })),
      fc.record({ kind: fc.integer({ min: 6, max: 255 }).filter((k) => k !== 8), data: fc.uint8Array({ maxLength: 6 }) }).map((x) => ({ type: 'unknown' as const, ...x })),
    );
    const opts = fc.array(opt, { maxLength: 6 }).filter((o) => {
      let n = 0;
      for (const x of o) n += x.type === 'nop' ? 1 : x.type === 'mss' ? 4 : x.type === 'windowScale' ? 3 : x.type === 'sackPermitted' ? 2 : x.type === 'sack' ? 2 + 8 * x.blocks.length : x.type === 'timestamps' ? 10 : 2 + (x.type === 'unknown' ? x.data.length : 0);
      return n <= 40;
    });
    const repr = fc.record({ srcPort: u16, dstPort: u16, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0xfff }), window: u16, urgentPointer: u16, options: opts });
    fc.assert(
      fc.property(repr, bytes(50), ip4, ip4, (r, payload, a, b) => {
        const seg = buildTcp(r, payload, { src: a, dst: b });
        const hl = TcpView.check(seg);
        const v = new TcpView(seg);
        expect(v.verifyChecksum(ipPseudoHeaderSum(a, b, 6, seg.length), seg.length)).toBe(true);
        const back = parseTcpRepr(seg);
        expect(hl).toBe(seg.length - payload.length);
        const unpadded = back.options.length > r.options.length ? back.options.slice(0, r.options.length) : back.options;
        expect(unpadded).toEqual(r.options);
        if (back.options.length > r.options.length) expect(back.options.slice(r.options.length)).toEqual([{ type: 'eol' }]);
        const want: Omit<TcpRepr, 'options'> = { srcPort: r.srcPort, dstPort: r.dstPort, seq: r.seq, ack: r.ack, flags: r.flags, window: r.window, urgentPointer: r.urgentPointer, checksum: v.checksum, payloadLength: payload.length };
        const { options: _o, ...rest } = back;
        expect(rest).toEqual(want);
      }),
      RUNS,
    );
  });

  it('ICMPv4 and ICMPv6', () => {
    const r4: fc.Arbitrary<Icmpv4Repr> = fc.oneof(
      fc.record({ kind: fc.constantFrom('echoRequest' as const, 'echoReply' as const), identifier: u16, sequence: u16, data: bytes(30) }),
      fc.record({ kind: fc.constant('destinationUnreachable' as const), code: fc.integer({ min: 0, max: 15 }), nextHopMtu: u16, quoted: bytes(40) }),
      fc.record({ kind: fc.constant('timeExceeded' as const), code: fc.integer({ min: 0, max: 1 }), quoted: bytes(40) }),
    );
    fc.assert(
      fc.property(r4, (r) => {
        const m = buildIcmpv4(r);
        expect(new Icmpv4View(m).verifyChecksum()).toBe(true);
        expect(parseIcmpv4Repr(m)).toEqual(r);
      }),
      RUNS,
    );
    const r6: fc.Arbitrary<Icmpv6Repr> = fc.oneof(
      fc.record({ kind: fc.constantFrom('echoRequest' as const, 'echoReply' as const), identifier: u16, sequence: u16, data: bytes(30) }),
      fc.record({ kind: fc.constant('neighborSolicitation' as const), target: ip6, sourceLinkAddress: mac }),
      fc.record({ kind: fc.constant('neighborAdvertisement' as const), router: fc.boolean(), solicited: fc.boolean(), override: fc.boolean(), target: ip6, targetLinkAddress: mac }),
      fc.record({ kind: fc.constant('packetTooBig' as const), mtu: u32, quoted: bytes(40) }),
    );
    fc.assert(
      fc.property(r6, ip6, ip6, (r, a, b) => {
        const m = buildIcmpv6(r, { src: a, dst: b });
        expect(new Icmpv6View(m).verifyChecksum(ipPseudoHeaderSum(a, b, 58, m.length))).toBe(true);
        expect(parseIcmpv6Repr(m)).toEqual(r);
      }),
      RUNS,
    );
  });
});
