import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/batch.js';
import {
  GsoContext,
  TsoContext,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  decodeVirtioNetHdr,
  encodeVirtioNetHdr,
  gsoBatch,
  gsoVirtioHeader,
} from '../../src/offload/index.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH } from '../../src/wire/tcp.js';
import { backends, useBackend } from '../helpers/backends.js';
import { checksumsValid, homeAddressData, payloadBytes, srhData, tcpFrame, udpFrame, type VlanSpec } from './frames.js';
import type { Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';
import { hex } from './run.js';

const be16 = (f: Uint8Array, p: number) => (f[p]! << 8) | f[p + 1]!;
const be32 = (f: Uint8Array, p: number) => ((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0;

describe.each(backends)('GSO (%s backend)', (backend) => {
  useBackend(backend);

  it('splits a TCP/IPv4 segment: seq advances, IDs increment, PSH/FIN last, CWR first, checksums correct', () => {
    const payload = payloadBytes(5000, 4);
    const big = tcpFrame({ seq: 0xfffffc00, id: 0xfffe, flags: TCP_ACK | TCP_PSH | TCP_FIN | TCP_CWR | TCP_ECE, payload });
    const segs = new GsoContext(1448).segment(big);
    expect(segs.map((s) => s.length - 54)).toEqual([1448, 1448, 1448, 656]);
    segs.forEach((s, i) => {
      expect(checksumsValid(s)).toBe(true);
      expect(be16(s, 16)).toBe(s.length - 14);
      expect(be16(s, 18)).toBe((0xfffe + i) & 0xffff);
      expect(be32(s, 38)).toBe((0xfffffc00 + i * 1448) >>> 0);
      const f = s[47]!;
      expect(f & (TCP_PSH | TCP_FIN)).toBe(i === 3 ? TCP_PSH | TCP_FIN : 0);
      expect(f & TCP_CWR).toBe(i === 0 ? TCP_CWR : 0);
      expect(f & (TCP_ACK | TCP_ECE)).toBe(TCP_ACK | TCP_ECE);
      expect(hex(s.subarray(54))).toBe(hex(payload.subarray(i * 1448, i * 1448 + s.length - 54)));
    });
  });

  it('splits TCP/IPv6 and VLAN-tagged frames, with options copied to every segment', () => {
    const ts = [{ type: 'nop' as const }, { type: 'nop' as const }, { type: 'timestamps' as const, value: 1, echo: 2 }];
    const v6 = new GsoContext(1000).segment(tcpFrame({ v6: true, options: ts, payload: payloadBytes(2500) }));
    expect(v6.map((s) => s.length - 86)).toEqual([1000, 1000, 500]);
    for (const s of v6) {
      expect(checksumsValid(s)).toBe(true);
      expect(be16(s, 18)).toBe(s.length - 54);
    }
    const vl = new GsoContext(999).segment(tcpFrame({ vlan: 7, payload: payloadBytes(2000) }));
    expect(vl.map((s) => s.length - 58)).toEqual([999, 999, 2]);
    for (const s of vl) expect(checksumsValid(s)).toBe(true);
  });

  it('splits behind QinQ tag stacks, copying the whole stack to every segment', () => {
    const stacks: VlanSpec[][] = [
      [{ tpid: 0x88a8, id: 10 }, { tpid: 0x8100, id: 20 }],
      [{ tpid: 0x9100, id: 1 }, { tpid: 0x8100, id: 2 }, { tpid: 0x8100, id: 3 }],
    ];
    for (const vlans of stacks) {
      const l2 = 14 + 4 * vlans.length;
      const tcp = tcpFrame({ vlans, payload: payloadBytes(3000, 2) });
      const segs = new GsoContext(1000).segment(tcp);
      expect(segs.map((f) => f.length - l2 - 40)).toEqual([1000, 1000, 1000]);
      for (const f of segs) {
        expect(hex(f.subarray(0, l2))).toBe(hex(tcp.subarray(0, l2)));
        expect(be16(f, l2 + 2)).toBe(f.length - l2);
        expect(checksumsValid(f)).toBe(true);
      }
      const udp = new GsoContext(700).segment(udpFrame({ v6: true, vlans, payload: payloadBytes(2000, 3) }));
      expect(udp.map((f) => f.length - l2 - 48)).toEqual([700, 700, 600]);
      for (const f of udp) expect(checksumsValid(f)).toBe(true);
    }
  });

  it('splits IPv6 behind hop-by-hop, routing and destination options (ipv6_gso_segment), copying them to every segment', () => {
    const exts: Ipv6ExtensionRepr[] = [
      { type: 'hopByHop', options: new Uint8Array(6) },
      { type: 'routing', routingType: 4, segmentsLeft: 0, data: srhData('2001:db8::2', '2001:db8::5') },
      { type: 'destination', options: Uint8Array.of(1, 4, 0, 0, 0, 0) },
    ];
    const payload = payloadBytes(4000, 6);
    const big = tcpFrame({ v6: true, seq: 77, flags: TCP_ACK | TCP_PSH, extensions: exts, payload });
    const l4 = big.length - 4000 - 20;
    const segs = new GsoContext(1448).segment(big);
    expect(segs.map((f) => f.length - l4 - 20)).toEqual([1448, 1448, 1104]);
    segs.forEach((f, i) => {
      expect(hex(f.subarray(54, l4))).toBe(hex(big.subarray(54, l4)));
      expect(be16(f, 18)).toBe(f.length - 54);
      expect(be32(f, l4 + 4)).toBe(77 + i * 1448);
      expect(f[l4 + 13]! & TCP_PSH).toBe(i === 2 ? TCP_PSH : 0);
      expect(checksumsValid(f)).toBe(true);
      expect(hex(f.subarray(l4 + 20))).toBe(hex(payload.subarray(i * 1448, i * 1448 + f.length - l4 - 20)));
    });
    const udp = new GsoContext(1000).segment(udpFrame({ v6: true, extensions: exts, payload: payloadBytes(2500, 7) }));
    expect(udp).toHaveLength(3);
    for (const f of udp) expect(checksumsValid(f)).toBe(true);
  });

  it('a routing header with segments left: the checksums cover its final destination (RFC 8200 §8.1)', () => {
    const cases: Ipv6ExtensionRepr[] = [
      { type: 'routing', routingType: 4, segmentsLeft: 2, data: srhData('2001:db8::99', '2001:db8::3', '2001:db8::2') },
      { type: 'routing', routingType: 2, segmentsLeft: 1, data: homeAddressData('2001:db8::77') },
    ];
    for (const rt of cases) {
      const final = rt.type === 'routing' && rt.routingType === 2 ? '2001:db8::77' : '2001:db8::99';
      const big = tcpFrame({ v6: true, extensions: [rt], pseudoDst: final, payload: payloadBytes(3000, 8) });
      expect(checksumsValid(big)).toBe(true);
      const segs = new GsoContext(1200).segment(big);
      expect(segs).toHaveLength(3);
      for (const f of segs) expect(checksumsValid(f)).toBe(true);
    }
  });

  it('IPv6 fragment headers, unknown routing types with segments left and broken extension headers are refused when they need splitting', () => {
    const frag = tcpFrame({ v6: true, extensions: [{ type: 'fragment', fragmentOffset: 0, moreFragments: true, identification: 5 }], payload: payloadBytes(3000) });
    expect(() => new GsoContext(500).segment(frag)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    expect(new GsoContext(5000).segment(frag).map(hex)).toEqual([hex(frag)]);
    const rpl = tcpFrame({ v6: true, extensions: [{ type: 'routing', routingType: 3, segmentsLeft: 1, data: new Uint8Array(20) }], payload: payloadBytes(3000) });
    expect(() => new GsoContext(500).segment(rpl)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    const broken = tcpFrame({ v6: true, extensions: [{ type: 'hopByHop', options: new Uint8Array(6) }], payload: payloadBytes(1500) });
    broken[55] = 250; // hop-by-hop length (251 × 8 bytes) beyond the 1528-byte payload
    expect(() => new GsoContext(500).segment(broken)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
  });

  it('fixedId keeps the IPv4 ID', () => {
    const segs = new GsoContext(500, { fixedId: true }).segment(tcpFrame({ id: 77, payload: payloadBytes(1200) }));
    expect(segs.map((s) => be16(s, 18))).toEqual([77, 77, 77]);
  });

  it('UDP GSO splits a payload into gso_size datagrams', () => {
    const payload = payloadBytes(3000, 9);
    const segs = new GsoContext(1200).segment(udpFrame({ payload, id: 10 }));
    expect(segs.map((s) => s.length - 42)).toEqual([1200, 1200, 600]);
    segs.forEach((s, i) => {
      expect(checksumsValid(s)).toBe(true);
      expect(be16(s, 38)).toBe(s.length - 34);
      expect(be16(s, 18)).toBe(10 + i);
    });
    const v6 = new GsoContext(1000).segment(udpFrame({ v6: true, payload }));
    expect(v6).toHaveLength(3);
    for (const s of v6) expect(checksumsValid(s)).toBe(true);
    const noCk = new GsoContext(1000).segment(udpFrame({ payload, noChecksum: true }));
    for (const s of noCk) expect(be16(s, 40)).toBe(0);
    // With UDP off, datagrams pass whole.
    const big = udpFrame({ payload });
    expect(new GsoContext(1000, { udp: false }).segment(big).map(hex)).toEqual([hex(big)]);
  });

  it('passes frames that need no split (small, non-IP, other protocols) unchanged', () => {
    const small = tcpFrame({ payload: payloadBytes(100) });
    expect(new GsoContext(100).segment(small).map(hex)).toEqual([hex(small)]);
    const arp = new Uint8Array(60);
    arp[12] = 0x08;
    arp[13] = 0x06;
    expect(new GsoContext(10).segment(arp).map(hex)).toEqual([hex(arp)]);
  });

  it('rejects malformed or unsupported frames that need splitting', () => {
    const big = tcpFrame({ payload: payloadBytes(3000) });
    const trunc = big.slice(0, 1000); // IP total length says more than the frame holds
    expect(() => new GsoContext(500).segment(trunc)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
    const frag = tcpFrame({ df: false, moreFragments: true, payload: payloadBytes(3000) });
    expect(() => new GsoContext(500).segment(frag)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
    const badOff = big.slice();
    badOff[46] = 0x10; // data offset 1 word
    expect(() => new GsoContext(500).segment(badOff)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
    expect(() => new GsoContext(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('gsoBatch splits a whole batch, stops when the output is full, and reports errors after earlier packets', () => {
    const frames = [0, 1, 2].map((i) => tcpFrame({ srcPort: 100 + i, payload: payloadBytes(4000, i) }));
    const input = PacketBatch.fromArray(frames);
    const all = new PacketBatch({ capacity: 64, byteCapacity: 1 << 16 });
    expect(gsoBatch(input, all, 1448)).toEqual({ next: 3, produced: 9 });
    const expected = frames.flatMap((f) => new GsoContext(1448).segment(f)).map(hex);
    expect(all.toArray().map(hex)).toEqual(expected);
    // A small output takes whole frames' worth of segments only.
    const small = new PacketBatch({ capacity: 4, byteCapacity: 1 << 16 });
    expect(gsoBatch(input, small, 1448)).toEqual({ next: 1, produced: 3 });
    expect(gsoBatch(input, small, 1448, { start: 1 })).toEqual({ next: 1, produced: 0 });
    const withBad = PacketBatch.fromArray([frames[0]!, frames[1]!.slice(0, 500), frames[2]!]);
    const out = new PacketBatch({ capacity: 64, byteCapacity: 1 << 16 });
    expect(() => gsoBatch(withBad, out, 1448)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET', detail: expect.objectContaining({ index: 1 }) }));
    expect(out.length).toBe(3);
  });

  it('TSO is off until enabled', () => {
    const big = tcpFrame({ payload: payloadBytes(3000) });
    const tso = new TsoContext(1460);
    expect(tso.segment(big).map(hex)).toEqual([hex(big)]);
    tso.enable();
    expect(tso.enabled).toBe(true);
    expect(tso.segment(big)).toHaveLength(3);
    tso.disable();
    expect(tso.segment(big)).toHaveLength(1);
  });
});

describe('virtio_net_hdr for a kernel', () => {
  it('describes a large TCP/IPv4 frame and leaves the pseudo-header sum in the checksum field', () => {
    const big = tcpFrame({ flags: TCP_ACK | TCP_CWR, payload: payloadBytes(3000) });
    const h = gsoVirtioHeader(big, 1448);
    expect(h).toEqual({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN, gsoSize: 1448, hdrLen: 54, csumStart: 34, csumOffset: 16, segments: 3 });
    // CHECKSUM_PARTIAL: the field holds the folded pseudo-header sum; summing the segment over it then completes it.
    let s = 0;
    for (let k = 26; k < 34; k += 2) s += be16(big, k);
    s += 6 + (big.length - 34);
    while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
    expect(be16(big, 50)).toBe(s);
    expect(gsoVirtioHeader(tcpFrame({ v6: true, payload: payloadBytes(3000) }), 1448).gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV6);
    expect(gsoVirtioHeader(udpFrame({ payload: payloadBytes(3000) }), 1200).gsoType).toBe(VIRTIO_NET_HDR_GSO_UDP_L4);
    expect(gsoVirtioHeader(tcpFrame({ payload: payloadBytes(100) }), 1448).gsoType).toBe(VIRTIO_NET_HDR_GSO_NONE);
    // csum_start lies behind a tag stack and IPv6 extension headers.
    const deep = tcpFrame({ v6: true, vlans: [{ tpid: 0x88a8, id: 1 }, { tpid: 0x8100, id: 2 }], extensions: [{ type: 'hopByHop', options: new Uint8Array(6) }], payload: payloadBytes(3000) });
    expect(gsoVirtioHeader(deep, 1448)).toEqual({ flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 1448, hdrLen: 90, csumStart: 70, csumOffset: 16, segments: 3 });
  });

  it('encodes and decodes the little-endian struct', () => {
    const h = { flags: 1, gsoType: 4, gsoSize: 1440, hdrLen: 74, csumStart: 54, csumOffset: 16, segments: 0 };
    const b = new Uint8Array(12);
    expect(encodeVirtioNetHdr(h, b, 0, true)).toBe(12);
    expect(hex(b)).toBe('01044a00a0053600100001' + '00');
    expect(decodeVirtioNetHdr(b)).toEqual(h);
    expect(() => decodeVirtioNetHdr(b, 5)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });
});
