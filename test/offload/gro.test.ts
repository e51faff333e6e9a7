import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/batch.js';
import {
  GroContext,
  LroContext,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  createOffloadMetaLane,
  offloadMetaAt,
  type GroPacket,
} from '../../src/offload/index.js';
import { TCP_ACK, TCP_CWR, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG } from '../../src/wire/tcp.js';
import { backends, useBackend } from '../helpers/backends.js';
import { checksumsValid, payloadBytes, srhData, tcpFrame, tcpStream, udpFrame, type VlanSpec } from './frames.js';
import type { Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';
import { groRun, hex, type GroMode } from './run.js';

const be16 = (f: Uint8Array, p: number) => (f[p]! << 8) | f[p + 1]!;
const be32 = (f: Uint8Array, p: number) => ((f[p]! << 24) | (f[p + 1]! << 16) | (f[p + 2]! << 8) | f[p + 3]!) >>> 0;
const seqOf = (f: Uint8Array) => be32(f, 14 + 20 + 4);
const flagsOf = (f: Uint8Array) => f[14 + 20 + 13]!;
const payloadLen = (p: GroPacket) => p.frame.length - p.gso.hdrLen;

/** The payload bytes of a stream, concatenated (what a merged packet must carry). */
function concatPayloads(frames: Uint8Array[], hdr: number): Uint8Array {
  const parts = frames.map((f) => f.subarray(hdr));
  const out = new Uint8Array(parts.reduce((a, p) => a + p.length, 0));
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

const modes: GroMode[] = ['batch', 'single'];

describe.each(backends)('GRO (%s backend)', (backend) => {
  useBackend(backend);

  describe.each(modes)('%s path', (mode) => {
    const run = (frames: Uint8Array[], ctx = new GroContext()) => groRun(ctx, frames, mode, { batchSize: 7 });

    it('merges an in-order IPv4 stream into one packet with correct lengths, checksums and GSO metadata', () => {
      const stream = tcpStream(10, 1448, {}, 1000);
      const out = run(stream);
      expect(out).toHaveLength(1);
      const p = out[0]!;
      expect(p.gso).toEqual({ flags: 0, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1448, segments: 10, hdrLen: 54, csumStart: 34, csumOffset: 16 });
      expect(be16(p.frame, 16)).toBe(p.frame.length - 14);
      expect(checksumsValid(p.frame)).toBe(true);
      expect(hex(p.frame.subarray(54))).toBe(hex(concatPayloads(stream, 54)));
      // The first header stays (seq, IP ID), with the last segment's PSH OR-ed in.
      expect(seqOf(p.frame)).toBe(1000);
      expect(be16(p.frame, 18)).toBe(100);
      expect(flagsOf(p.frame)).toBe(TCP_ACK | TCP_PSH);
    });

    it('merges IPv6 and VLAN-tagged streams', () => {
      const v6 = run(tcpStream(4, 500, { v6: true }));
      expect(v6).toHaveLength(1);
      expect(v6[0]!.gso.gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV6);
      expect(v6[0]!.gso.csumStart).toBe(54);
      expect(be16(v6[0]!.frame, 18)).toBe(v6[0]!.frame.length - 54);
      expect(checksumsValid(v6[0]!.frame)).toBe(true);
      const vl = run(tcpStream(4, 500, { vlan: 42 }));
      expect(vl).toHaveLength(1);
      expect(vl[0]!.gso.csumStart).toBe(38);
      expect(vl[0]!.gso.segments).toBe(4);
      expect(checksumsValid(vl[0]!.frame)).toBe(true);
    });

    it('passes a single held segment up byte for byte', () => {
      const f = tcpFrame({ payload: payloadBytes(300) });
      const out = run([f]);
      expect(out).toHaveLength(1);
      expect(hex(out[0]!.frame)).toBe(hex(f));
      expect(out[0]!.gso.gsoType).toBe(VIRTIO_NET_HDR_GSO_NONE);
      expect(out[0]!.gso.segments).toBe(1);
    });

    it('does not merge out-of-order segments and keeps each flow in order', () => {
      const s = tcpStream(3, 100);
      const out = run([s[0]!, s[2]!, s[1]!]);
      expect(out.map((p) => seqOf(p.frame))).toEqual([1000, 1200, 1100]);
      expect(out.every((p) => p.gso.segments === 1)).toBe(true);
    });

    it('does not merge a retransmission', () => {
      const s = tcpStream(3, 100);
      const out = run([s[0]!, s[1]!, s[1]!, s[2]!]);
      expect(out.map((p) => p.gso.segments)).toEqual([2, 2]);
      expect(out.map((p) => seqOf(p.frame))).toEqual([1000, 1100]);
    });

    it('merges only identical TCP options (timestamps included) and ACK numbers', () => {
      const ts = (v: number) => [{ type: 'nop' as const }, { type: 'nop' as const }, { type: 'timestamps' as const, value: v, echo: 9 }];
      const same = [0, 1, 2].map((i) => tcpFrame({ seq: 1000 + i * 100, id: 100 + i, options: ts(5), payload: payloadBytes(100, i) }));
      const a = run(same);
      expect(a).toHaveLength(1);
      expect(a[0]!.gso.hdrLen).toBe(66);
      expect(checksumsValid(a[0]!.frame)).toBe(true);
      const diff = [0, 1].map((i) => tcpFrame({ seq: 1000 + i * 100, id: 100 + i, options: ts(5 + i), payload: payloadBytes(100, i) }));
      expect(run(diff)).toHaveLength(2);
      const noOpt = [tcpFrame({ seq: 1000, id: 100, options: ts(5), payload: payloadBytes(100) }), tcpFrame({ seq: 1100, id: 101, payload: payloadBytes(100) })];
      expect(run(noOpt)).toHaveLength(2);
      const ack = [tcpFrame({ seq: 1000, id: 100, ack: 1, payload: payloadBytes(100) }), tcpFrame({ seq: 1100, id: 101, ack: 2, payload: payloadBytes(100) })];
      expect(run(ack)).toHaveLength(2);
    });

    it('PSH and FIN are merged and end the packet', () => {
      for (const fl of [TCP_PSH, TCP_FIN]) {
        const s = [0, 1, 2, 3].map((i) => tcpFrame({ seq: 1000 + i * 100, id: 100 + i, flags: TCP_ACK | (i === 1 ? fl : 0), payload: payloadBytes(100, i) }));
        const out = run(s);
        expect(out.map((p) => p.gso.segments)).toEqual([2, 2]);
        expect(flagsOf(out[0]!.frame)).toBe(TCP_ACK | fl);
        expect(flagsOf(out[1]!.frame)).toBe(TCP_ACK);
      }
    });

    it('RST, SYN and URG end the merge and pass unmerged', () => {
      for (const fl of [TCP_RST, TCP_SYN, TCP_URG]) {
        const s = [0, 1, 2].map((i) => tcpFrame({ seq: 1000 + i * 100, id: 100 + i, flags: TCP_ACK | (i === 2 ? fl : 0), payload: payloadBytes(100, i) }));
        const out = run(s);
        expect(out.map((p) => p.gso.segments)).toEqual([2, 1]);
        expect(hex(out[1]!.frame)).toBe(hex(s[2]!));
      }
    });

    it('CWR ends a merge and starts a new one marked ECN', () => {
      const s = [0, 1, 2, 3].map((i) => tcpFrame({ seq: 1000 + i * 100, id: 100 + i, flags: TCP_ACK | (i === 2 ? TCP_CWR : 0), payload: payloadBytes(100, i) }));
      const out = run(s);
      expect(out.map((p) => p.gso.segments)).toEqual([2, 2]);
      expect(out[1]!.gso.gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV4 | VIRTIO_NET_HDR_GSO_ECN);
      expect(out[0]!.gso.gsoType).toBe(VIRTIO_NET_HDR_GSO_TCPV4);
    });

    it('a pure ACK flushes the held flow first and passes', () => {
      const s = tcpStream(3, 100);
      const ack = tcpFrame({ seq: 1300, id: 103, payload: new Uint8Array(0) });
      const out = run([s[0]!, s[1]!, ack]);
      expect(out.map((p) => p.gso.segments)).toEqual([2, 1]);
      expect(hex(out[1]!.frame)).toBe(hex(ack));
    });

    it('a shorter segment ends the merge; a longer one starts a new packet', () => {
      const sizes = [100, 100, 60, 100, 200, 200];
      let seq = 1000;
      const s = sizes.map((n, i) => {
        const f = tcpFrame({ seq, id: 100 + i, payload: payloadBytes(n, i) });
        seq += n;
        return f;
      });
      const out = run(s);
      expect(out.map((p) => [p.gso.segments, payloadLen(p)])).toEqual([[3, 260], [1, 100], [2, 400]]);
    });

    it('IP IDs: incrementing merges, fixed merges only with DF, anything else does not', () => {
      const mk = (ids: number[], df: boolean) => ids.map((id, i) => tcpFrame({ seq: 1000 + i * 100, id, df, payload: payloadBytes(100, i) }));
      expect(run(mk([7, 8, 9, 10], false))).toHaveLength(1);
      expect(run(mk([0xffff, 0, 1], true))).toHaveLength(1);
      expect(run(mk([5, 5, 5, 5], true))).toHaveLength(1);
      expect(run(mk([5, 5, 5], false)).map((p) => p.gso.segments)).toEqual([1, 1, 1]);
      expect(run(mk([5, 9, 13], true)).map((p) => p.gso.segments)).toEqual([1, 1, 1]);
      // Once incrementing, a repeated ID breaks the pattern (and vice versa).
      expect(run(mk([5, 6, 6], true)).map((p) => p.gso.segments)).toEqual([2, 1]);
      expect(run(mk([5, 5, 6], true)).map((p) => p.gso.segments)).toEqual([2, 1]);
    });

    it('different TTL, TOS or DF end the merge', () => {
      const a = tcpFrame({ seq: 1000, id: 1, payload: payloadBytes(100) });
      expect(run([a, tcpFrame({ seq: 1100, id: 2, ttl: 9, payload: payloadBytes(100) })])).toHaveLength(2);
      expect(run([a, tcpFrame({ seq: 1100, id: 2, dscp: 10, payload: payloadBytes(100) })])).toHaveLength(2);
      expect(run([a, tcpFrame({ seq: 1100, id: 2, df: false, payload: payloadBytes(100) })])).toHaveLength(2);
    });

    it('a window change or the IPv4 reserved bit ends the merge, as in Linux', () => {
      // tcp_gro_receive compares the whole flag word (offset, flags, window); inet_gro_receive flushes any
      // frag_off bit but DF, the reserved one included.
      const a = tcpFrame({ seq: 1000, id: 1, payload: payloadBytes(100) });
      const b = tcpFrame({ seq: 1100, id: 2, window: 513, payload: payloadBytes(100) });
      expect(run([a, b]).map((p) => p.gso.segments)).toEqual([1, 1]);
      const big = (seq: number, id: number, window = 512) => tcpFrame({ seq, id, window, payload: payloadBytes(1448, seq) });
      expect(run([big(1000, 1), big(2448, 2), big(3896, 3, 600)]).map((p) => p.gso.segments)).toEqual([2, 1]);
      const evil = tcpFrame({ seq: 1100, id: 2, payload: payloadBytes(100) });
      evil[14 + 6] = evil[14 + 6]! | 0x80;
      evil[24] = 0; // recompute the IPv4 header checksum after the edit
      evil[25] = 0;
      let sum = 0;
      for (let k = 14; k < 34; k += 2) sum += (evil[k]! << 8) | evil[k + 1]!;
      while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
      evil[24] = (~sum >>> 8) & 0xff;
      evil[25] = ~sum & 0xff;
      expect(run([a, evil]).map((p) => p.gso.segments)).toEqual([1, 1]);
      expect(checksumsValid(evil)).toBe(true);
    });

    it('IPv4 options and fragments are not merged; options flush their own flow first', () => {
      const s = tcpStream(2, 100);
      const opt = tcpFrame({ seq: 1200, id: 102, ipOptions: Uint8Array.of(1, 1, 1, 0), payload: payloadBytes(100) });
      const out = run([s[0]!, s[1]!, opt]);
      expect(out.map((p) => p.gso.segments)).toEqual([2, 1]);
      expect(hex(out[1]!.frame)).toBe(hex(opt));
      const frag = tcpFrame({ seq: 1000, id: 1, df: false, moreFragments: true, payload: payloadBytes(96) });
      const frag2 = tcpFrame({ seq: 1096, id: 2, df: false, moreFragments: true, payload: payloadBytes(96) });
      expect(run([frag, frag2]).map((p) => p.gso.segments)).toEqual([1, 1]);
    });

    it('merges behind QinQ tag stacks (802.1ad + 802.1Q, 0x9100, three tags); every tag is part of the flow', () => {
      const stacks: VlanSpec[][] = [
        [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 200 }],
        [{ tpid: 0x9100, id: 5 }, { tpid: 0x8100, id: 6 }],
        [{ tpid: 0x88a8, id: 1 }, { tpid: 0x8100, id: 2 }, { tpid: 0x8100, id: 3 }],
      ];
      for (const vlans of stacks) {
        for (const v6 of [false, true]) {
          const stream = tcpStream(5, 700, { vlans, v6 });
          const out = run(stream);
          expect(out).toHaveLength(1);
          const l2 = 14 + 4 * vlans.length;
          const hdr = l2 + (v6 ? 40 : 20) + 20;
          const p = out[0]!;
          expect(p.gso).toEqual({ flags: 0, gsoType: v6 ? VIRTIO_NET_HDR_GSO_TCPV6 : VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 700, segments: 5, hdrLen: hdr, csumStart: hdr - 20, csumOffset: 16 });
          expect(checksumsValid(p.frame)).toBe(true);
          expect(hex(p.frame.subarray(0, l2))).toBe(hex(stream[0]!.subarray(0, l2)));
          expect(hex(p.frame.subarray(hdr))).toBe(hex(concatPayloads(stream, hdr)));
        }
      }
      // Same addresses and ports, another inner tag: another flow (vlan_gro_receive compares each tag).
      const a = tcpStream(4, 300, { vlans: stacks[0] });
      const b = tcpStream(4, 300, { vlans: [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 201 }] });
      const out = run(a.flatMap((f, i) => [f, b[i]!]));
      expect(out.map((p) => p.gso.segments)).toEqual([4, 4]);
      expect(out.map((p) => hex(p.frame.subarray(0, 22)))).toEqual([hex(a[0]!.subarray(0, 22)), hex(b[0]!.subarray(0, 22))]);
      expect(out.map((p) => hex(p.frame.subarray(62)))).toEqual([hex(concatPayloads(a, 62)), hex(concatPayloads(b, 62))]);
    });

    it('IPv6: merges behind identical hop-by-hop, destination-options and routing headers, as ipv6_gro_receive does', () => {
      const hbh: Ipv6ExtensionRepr = { type: 'hopByHop', options: new Uint8Array(6) };
      const dopt: Ipv6ExtensionRepr = { type: 'destination', options: Uint8Array.of(1, 12, ...new Uint8Array(12)) };
      const rt: Ipv6ExtensionRepr = { type: 'routing', routingType: 4, segmentsLeft: 0, data: srhData('2001:db8::2', '2001:db8::7') };
      for (const extensions of [[hbh], [hbh, dopt], [hbh, rt, dopt]]) {
        const stream = tcpStream(6, 500, { v6: true, extensions });
        const l4 = 14 + (stream[0]!.length - 500 - 20 - 14);
        const out = run(stream);
        expect(out).toHaveLength(1);
        const p = out[0]!;
        expect(p.gso).toEqual({ flags: 0, gsoType: VIRTIO_NET_HDR_GSO_TCPV6, gsoSize: 500, segments: 6, hdrLen: l4 + 20, csumStart: l4, csumOffset: 16 });
        expect(be16(p.frame, 18)).toBe(p.frame.length - 54);
        expect(checksumsValid(p.frame)).toBe(true);
        expect(hex(p.frame.subarray(54, l4))).toBe(hex(stream[0]!.subarray(54, l4)));
        expect(hex(p.frame.subarray(l4 + 20))).toBe(hex(concatPayloads(stream, l4 + 20)));
      }
      // Other extension-header bytes: another flow, each merged apart (its memcmp over the headers).
      const a = tcpStream(3, 200, { v6: true, extensions: [hbh] });
      const b = tcpStream(3, 200, { v6: true, extensions: [{ type: 'hopByHop', options: Uint8Array.of(1, 4, 0, 0, 0, 0) }] });
      const c = tcpStream(3, 200, { v6: true });
      const out = run(a.flatMap((f, i) => [f, b[i]!, c[i]!]));
      expect(out.map((p) => p.gso.segments)).toEqual([3, 3, 3]);
      expect(out.map((p) => p.frame.length)).toEqual([62, 62, 54].map((h) => h + 20 + 600));
    });

    it('IPv6: a fragment header or a routing header with segments left is not merged', () => {
      const frag = [0, 1].map((i) =>
        tcpFrame({ v6: true, seq: 1000 + i * 100, payload: payloadBytes(100, i), extensions: [{ type: 'fragment', fragmentOffset: 0, moreFragments: false, identification: 9 }] }),
      );
      expect(run(frag).map((p) => hex(p.frame))).toEqual(frag.map(hex));
      // The sender summed the final destination (RFC 8200 §8.1); tcp6_gro_receive validates against the
      // header's destination, fails, and flushes.
      const rt: Ipv6ExtensionRepr = { type: 'routing', routingType: 4, segmentsLeft: 1, data: srhData('2001:db8::99', '2001:db8::2') };
      const sl = [0, 1, 2].map((i) => tcpFrame({ v6: true, seq: 1000 + i * 100, payload: payloadBytes(100, i), extensions: [rt], pseudoDst: '2001:db8::99' }));
      expect(sl.every(checksumsValid)).toBe(true);
      expect(run(sl).map((p) => hex(p.frame))).toEqual(sl.map(hex));
    });

    it('a bad IPv4 header checksum is not merged', () => {
      const s = tcpStream(3, 100);
      const bad = s[1]!.slice();
      bad[24] ^= 0xff;
      expect(run([s[0]!, bad, s[2]!]).map((p) => p.gso.segments)).toEqual([1, 1, 1]);
    });

    it('keeps the merged IP datagram within 64 KiB', () => {
      const out = run(tcpStream(60, 1448));
      for (const p of out) {
        expect(p.frame.length - 14).toBeLessThanOrEqual(65535);
        expect(checksumsValid(p.frame)).toBe(true);
      }
      expect(out[0]!.gso.segments).toBe(45);
      expect(out.reduce((a, p) => a + p.gso.segments, 0)).toBe(60);
    });

    it('many interleaved flows merge independently', () => {
      const flows = 50;
      const streams = Array.from({ length: flows }, (_, k) => tcpStream(6, 200, { srcPort: 1000 + k, seq: k * 7919 }));
      const frames: Uint8Array[] = [];
      for (let i = 0; i < 6; i++) for (let k = 0; k < flows; k++) frames.push(streams[k]![i]!);
      const out = run(frames, new GroContext({ maxFlows: 64 }));
      expect(out).toHaveLength(flows);
      for (const p of out) {
        expect(p.gso.segments).toBe(6);
        expect(checksumsValid(p.frame)).toBe(true);
      }
    });

    it('a full flow table flushes the oldest flow', () => {
      const ctx = new GroContext({ maxFlows: 4 });
      const frames = Array.from({ length: 5 }, (_, k) => tcpFrame({ srcPort: 2000 + k, payload: payloadBytes(100, k) }));
      const out = groRun(ctx, frames, mode, { flush: false });
      expect(out).toHaveLength(1);
      expect(hex(out[0]!.frame)).toBe(hex(frames[0]!));
      expect(ctx.heldFlows).toBe(4);
      expect(ctx.stats().evicted).toBe(1);
    });

    it('flushes on timeout, oldest first, and on demand', () => {
      const ctx = new GroContext({ timeoutMs: 1 });
      const a = tcpFrame({ srcPort: 1, payload: payloadBytes(100) });
      const b = tcpFrame({ srcPort: 2, payload: payloadBytes(100) });
      groRun(ctx, [a], mode, { now: 10, flush: false });
      groRun(ctx, [b], mode, { now: 10.6, flush: false });
      expect(ctx.flushTimeouts(10.5)).toHaveLength(0);
      const first = ctx.flushTimeouts(11.2);
      expect(first.map((p) => hex(p.frame))).toEqual([hex(a)]);
      expect(ctx.heldFlows).toBe(1);
      expect(ctx.flush().map((p) => hex(p.frame))).toEqual([hex(b)]);
      expect(ctx.heldFlows).toBe(0);
    });

    it('merges equal-size UDP datagrams; a shorter one ends, a longer one starts anew', () => {
      const dg = (n: number, i: number, extra: Partial<Parameters<typeof udpFrame>[0]> = {}) => udpFrame({ payload: payloadBytes(n, i), id: 7 + i, ...extra });
      const out = run([dg(1200, 0), dg(1200, 1), dg(1200, 2), dg(700, 3), dg(100, 4), dg(300, 5)]);
      expect(out.map((p) => [p.gso.segments, payloadLen(p)])).toEqual([[4, 4300], [1, 100], [1, 300]]);
      expect(out[0]!.gso).toMatchObject({ gsoType: VIRTIO_NET_HDR_GSO_UDP_L4, gsoSize: 1200, csumOffset: 6, hdrLen: 42 });
      expect(be16(out[0]!.frame, 38)).toBe(4308);
      for (const p of out) expect(checksumsValid(p.frame)).toBe(true);
      const v6 = run([0, 1, 2].map((i) => dg(500, i, { v6: true })));
      expect(v6).toHaveLength(1);
      expect(checksumsValid(v6[0]!.frame)).toBe(true);
      // IPv4 without checksums stays without; mixing with checksummed datagrams does not merge.
      const z = run([0, 1].map((i) => dg(500, i, { noChecksum: true })));
      expect(z).toHaveLength(1);
      expect(be16(z[0]!.frame, 40)).toBe(0);
      expect(run([dg(500, 0, { noChecksum: true }), dg(500, 1)])).toHaveLength(2);
      // At most 64 datagrams per aggregate (UDP_GRO_CNT_MAX).
      const many = run(Array.from({ length: 70 }, (_, i) => dg(100, i)));
      expect(many.map((p) => p.gso.segments)).toEqual([64, 6]);
    });

    it('without verification a corrupt payload stays visible as a bad merged checksum; with it, it is not merged', () => {
      const s = tcpStream(3, 100);
      const bad = s[1]!.slice();
      bad[80] ^= 0x55;
      const loose = run([s[0]!, bad, s[2]!]);
      expect(loose).toHaveLength(1);
      expect(checksumsValid(loose[0]!.frame)).toBe(false);
      const strict = run([s[0]!, bad, s[2]!], new GroContext({ verifyChecksums: true }));
      expect(strict.map((p) => p.gso.segments)).toEqual([1, 1, 1]);
      const good = run(tcpStream(3, 100), new GroContext({ verifyChecksums: true }));
      expect(good[0]!.gso.flags).toBe(VIRTIO_NET_HDR_F_DATA_VALID);
    });

    it('passes non-IP, ICMP and garbage through untouched', () => {
      const arp = new Uint8Array(60);
      arp[12] = 0x08;
      arp[13] = 0x06;
      const tiny = Uint8Array.of(1, 2, 3);
      const icmp = tcpFrame({ payload: payloadBytes(20) });
      icmp[23] = 1;
      const out = run([arp, tiny, icmp]);
      expect(out.map((p) => hex(p.frame))).toEqual([arp, tiny, icmp].map(hex));
    });

    it('LRO is off until enabled; then it merges like GRO', () => {
      const s = tcpStream(4, 300);
      const lro = new LroContext();
      expect(groRun(lro, s, mode).map((p) => hex(p.frame))).toEqual(s.map(hex));
      lro.enable();
      expect(lro.enabled).toBe(true);
      expect(groRun(lro, s, mode)).toHaveLength(1);
      lro.disable();
      expect(groRun(lro, s, mode)).toHaveLength(4);
    });
  });

  it('stops when the output batch is full and resumes without losing or reordering anything', () => {
    const streams = Array.from({ length: 8 }, (_, k) => tcpStream(5, 700, { srcPort: 3000 + k }));
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 5; i++) for (let k = 0; k < 8; k++) frames.push(streams[k]![i]!);
    const ref = groRun(new GroContext({ maxFlows: 4 }), frames, 'single').map((p) => hex(p.frame));
    const ctx = new GroContext({ maxFlows: 4 });
    const input = PacketBatch.fromArray(frames);
    const output = new PacketBatch({ capacity: 2, byteCapacity: 8000 });
    const meta = createOffloadMetaLane(2);
    const got: string[] = [];
    let start = 0;
    let rounds = 0;
    while (start < input.length) {
      const r = ctx.aggregateBatch(input, output, { start, now: 0, meta });
      for (const p of output) got.push(hex(p));
      output.clear();
      start = r.next;
      expect(++rounds).toBeLessThan(100);
    }
    while (ctx.heldFlows > 0) {
      ctx.flushBatch(output, meta);
      for (const p of output) got.push(hex(p));
      output.clear();
    }
    expect(got).toEqual(ref);
  });

  it('flows held between batch calls keep their bytes when the caller reuses the input batch', () => {
    // The native batch path leaves merged payloads of 257+ bytes in the input until a flush; whatever is
    // still held when the call returns must be in the GRO state by then.
    for (const size of [100, 256, 257, 1448]) {
      const streams = [0, 1, 2].map((k) => tcpStream(6, size, { srcPort: 6000 + k, v6: k === 2, vlan: k === 1 ? 7 : undefined }));
      const frames = streams.flat();
      const ref = groRun(new GroContext(), frames, 'single').map((p) => hex(p.frame));
      const ctx = new GroContext();
      const output = new PacketBatch({ capacity: 64, byteCapacity: 1 << 17 });
      const meta = createOffloadMetaLane(64);
      const got: string[] = [];
      const input = new PacketBatch({ capacity: 8, byteCapacity: 8 * 1600 });
      for (let i = 0; i < 6; i += 2) {
        input.clear();
        for (const s of streams) for (const f of s.slice(i, i + 2)) input.push(f);
        ctx.aggregateBatch(input, output, { now: 0, meta });
        input.data.fill(0xee); // the caller reuses its buffer
        for (const p of output) got.push(hex(p));
        output.clear();
      }
      expect(ctx.heldFlows).toBe(0);
      expect(got.sort()).toEqual([...ref].sort());
      expect(got).toHaveLength(3);
    }
  });

  it('flushTimeoutsBatch and flushBatch drain held flows into a batch with their metadata', () => {
    const ctx = new GroContext({ timeoutMs: 1 });
    const a = tcpStream(3, 400, { srcPort: 11 });
    const b = tcpStream(2, 400, { srcPort: 12 });
    const output = new PacketBatch({ capacity: 8, byteCapacity: 1 << 16 });
    const meta = createOffloadMetaLane(8);
    // Without their PSH-carrying last segments both flows stay held.
    ctx.aggregateBatch(PacketBatch.fromArray(a.slice(0, 2)), output, { now: 5, meta });
    ctx.aggregateBatch(PacketBatch.fromArray(b.slice(0, 1)), output, { now: 5.5, meta });
    expect(output.length).toBe(0);
    expect(ctx.flushTimeoutsBatch(output, 5.9, meta)).toBe(0);
    expect(ctx.flushTimeoutsBatch(output, 6.2, meta)).toBe(1);
    expect(offloadMetaAt(meta, 0)).toEqual({ flags: 0, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 400, segments: 2, hdrLen: 54, csumStart: 34, csumOffset: 16 });
    expect(checksumsValid(output.get(0))).toBe(true);
    expect(ctx.flushBatch(output, meta)).toBe(1);
    expect(hex(output.get(1))).toBe(hex(b[0]!));
    expect(offloadMetaAt(meta, 1).segments).toBe(1);
    expect(ctx.heldFlows).toBe(0);
  });

  it('the guide form aggregate(segment, srcIp, dstIp) merges bare TCP segments', () => {
    const gro = new GroContext();
    const seg = (i: number) => tcpFrame({ seq: 1000 + i * 100, payload: payloadBytes(100, i) }).subarray(34);
    const out = [0, 1, 2].flatMap((i) => gro.aggregate(seg(i), '10.0.0.1', '10.0.0.2', 0)).concat(gro.flushTimeouts(5));
    expect(out).toHaveLength(1);
    const p = out[0]!;
    expect(p.gso.segments).toBe(3);
    expect(checksumsValid(p.frame)).toBe(true);
    expect(p.frame.subarray(p.gso.hdrLen).length).toBe(300);
    expect(seqOf(p.frame)).toBe(1000);
  });

  it.skipIf(backend !== 'native')('native code rejects a tampered state instead of reading out of bounds', () => {
    const ctx = new GroContext({ maxFlows: 2 });
    groRun(ctx, [tcpFrame({ payload: payloadBytes(100) })], 'batch', { flush: false });
    const st = (ctx as unknown as { engine: { state: Int32Array } }).engine.state;
    // Point the held flow's length far past its arena slot.
    const metaBase = 16 + st[2]! + st[1]!;
    st[metaBase + 7] = 1 << 30;
    const next = tcpFrame({ seq: 1100, id: 101, payload: payloadBytes(100) });
    const input = PacketBatch.fromArray([next]);
    const output = new PacketBatch({ capacity: 8, byteCapacity: 1 << 16 });
    expect(() => ctx.aggregateBatch(input, output, { now: 0 })).toThrow(expect.objectContaining({ code: 'OUT_OF_BOUNDS' }));
  });
});
