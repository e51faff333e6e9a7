import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { availableBackends, withBackend } from '../../src/backend.js';
import { PacketBatch } from '../../src/batch.js';
import { isNetworkError } from '../../src/errors.js';
import { GroContext, GsoContext, gsoBatch, type GroPacket } from '../../src/offload/index.js';
import { GroEngineTs } from '../../src/offload/gro-engine.js';
import { TCP_ACK, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH } from '../../src/wire/tcp.js';
import { backends, useBackend } from '../helpers/backends.js';
import { checksumsValid, payloadBytes, srhData, tcpFrame, tcpStream, udpFrame } from './frames.js';
import type { Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';
import { groRun, hex } from './run.js';

const tcpSegmentArb = fc.record({
  v6: fc.boolean(),
  vlan: fc.option(fc.integer({ min: 0, max: 4095 }), { nil: undefined }),
  // A deeper tag stack (QinQ) instead of the single tag, and IPv6 extension headers GSO walks and GRO skips.
  vlans: fc.option(fc.array(fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8, 0x9100), id: fc.integer({ min: 0, max: 4095 }) }), { minLength: 2, maxLength: 8 }), { nil: undefined }),
  ext: fc.subarray(['hopByHop', 'routing', 'destination'] as const),
  len: fc.integer({ min: 1, max: 4000 }),
  mss: fc.integer({ min: 1, max: 3000 }),
  seq: fc.integer({ min: 0, max: 0xffffffff }),
  ack: fc.integer({ min: 0, max: 0xffffffff }),
  id: fc.integer({ min: 0, max: 0xffff }),
  df: fc.boolean(),
  window: fc.integer({ min: 0, max: 0xffff }),
  extra: fc.subarray([TCP_PSH, TCP_FIN, TCP_CWR, TCP_ECE]),
  ts: fc.option(fc.integer({ min: 0, max: 0xffffffff }), { nil: undefined }),
  seed: fc.integer({ min: 1, max: 1000 }),
});

/** One extension header of each kind GSO walks (hop-by-hop first, as RFC 8200 §4.1 orders them). */
function extOf(kind: 'hopByHop' | 'routing' | 'destination'): Ipv6ExtensionRepr {
  if (kind === 'routing') return { type: 'routing', routingType: 4, segmentsLeft: 0, data: srhData('2001:db8::2', '2001:db8::9') };
  return { type: kind, options: kind === 'hopByHop' ? new Uint8Array(6) : Uint8Array.of(1, 12, ...new Uint8Array(12)) };
}

describe.each(backends)('offload properties (%s backend)', (backend) => {
  useBackend(backend);

  it('GRO(GSO(x)) == x for any TCP segment and MSS', () => {
    fc.assert(
      fc.property(tcpSegmentArb, (a) => {
        const x = tcpFrame({
          v6: a.v6, vlan: a.vlan, vlans: a.vlans, extensions: a.v6 ? a.ext.map(extOf) : [], seq: a.seq, ack: a.ack, id: a.id, df: a.df, window: a.window,
          flags: a.extra.reduce((f, b) => f | b, TCP_ACK),
          options: a.ts === undefined ? [] : [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: a.ts, echo: 1 }],
          payload: payloadBytes(a.len, a.seed),
        });
        const segs = new GsoContext(a.mss).segment(x);
        expect(segs).toHaveLength(Math.ceil(a.len / a.mss));
        const out = groRun(new GroContext(), segs, 'batch', { batchSize: 256 });
        expect(out).toHaveLength(1);
        expect(hex(out[0]!.frame)).toBe(hex(x));
        expect(out[0]!.gso.segments).toBe(segs.length);
        expect(out[0]!.gso.gsoSize).toBe(segs.length > 1 ? a.mss : 0);
      }),
      { numRuns: 40 },
    );
  });

  it('GRO(GSO(x)) == x for UDP datagrams and gso_size', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.integer({ min: 1, max: 8000 }), fc.integer({ min: 200, max: 1500 }), fc.integer({ min: 0, max: 0xffff }), (v6, len, gso, id) => {
        fc.pre(Math.ceil(len / gso) <= 64);
        const x = udpFrame({ v6, id, payload: payloadBytes(len, id + 1) });
        const out = groRun(new GroContext(), new GsoContext(gso).segment(x), 'batch');
        expect(out.map((p) => hex(p.frame))).toEqual([hex(x)]);
      }),
      { numRuns: 30 },
    );
  });

  it('GSO(GRO(stream)) reproduces the stream byte for byte', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 40 }),
        fc.integer({ min: 1, max: 1448 }),
        fc.integer({ min: 1, max: 1448 }),
        fc.boolean(),
        fc.integer({ min: 0, max: 0xffffffff }),
        fc.boolean(),
        (count, size, last, v6, seq, deep) => {
          const lastSize = Math.min(last, size);
          fc.pre(count * size <= 60000);
          // deep: a QinQ stack, and for IPv6 hop-by-hop + routing + destination options headers.
          const more = deep ? { vlans: [{ tpid: 0x88a8, id: 3 }, { tpid: 0x8100, id: 4 }], extensions: v6 ? [extOf('hopByHop'), extOf('routing'), extOf('destination')] : [] } : {};
          const stream = tcpStream(count, size, { v6, seq, ...more }, lastSize);
          const merged = groRun(new GroContext(), stream, 'batch', { batchSize: 16 });
          expect(merged).toHaveLength(1);
          const again = new GsoContext(merged[0]!.gso.gsoSize || size).segment(merged[0]!.frame);
          expect(again.map(hex)).toEqual(stream.map(hex));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('GSO(GRO(...)) restores interleaved flows and UDP streams', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 12 }), fc.integer({ min: 1, max: 10 }), fc.integer({ min: 16, max: 1400 }), (flows, count, size) => {
        const streams = Array.from({ length: flows }, (_, k) => tcpStream(count, size, { srcPort: 1000 + k }));
        const udp = Array.from({ length: Math.min(count, 64) }, (_, i) => udpFrame({ id: 50 + i, payload: payloadBytes(size, i + 1) }));
        const frames: Uint8Array[] = [];
        for (let i = 0; i < count; i++) {
          for (const s of streams) frames.push(s[i]!);
          if (udp[i]) frames.push(udp[i]!);
        }
        const merged = groRun(new GroContext({ maxFlows: 16 }), frames, 'batch', { batchSize: 33 });
        const byFlow = new Map<string, string[]>();
        for (const p of merged) {
          const segs = new GsoContext(p.gso.gsoSize || size).segment(p.frame);
          const key = hex(p.frame.subarray(26, 38));
          byFlow.set(key, [...(byFlow.get(key) ?? []), ...segs.map(hex)]);
        }
        for (const s of [...streams, udp]) {
          const key = hex(s[0]!.subarray(26, 38));
          expect(byFlow.get(key)).toEqual(s.map(hex));
        }
      }),
      { numRuns: 25 },
    );
  });

  it('GRO gives the same bytes whatever the input alignment (word and byte paths of the TypeScript engine)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 8 }), fc.constantFrom(1, 2, 3, 5, 64, 100, 1448), fc.boolean(), (flows, count, size, v6) => {
        const frames: Uint8Array[] = [];
        const streams = Array.from({ length: flows }, (_, k) => tcpStream(count, size, { v6, srcPort: 300 + k, vlan: k & 1 ? 9 : undefined }));
        for (let i = 0; i < count; i++) for (const st of streams) frames.push(st[i]!);
        const collect = (input: PacketBatch) => {
          const ctx = new GroContext();
          const out = new PacketBatch({ capacity: 4096, byteCapacity: 1 << 20 });
          ctx.aggregateBatch(input, out, { now: 0 });
          ctx.flushBatch(out);
          return out.toArray().map(hex);
        };
        const aligned = collect(PacketBatch.fromArray(frames));
        // align 1: packets start at any byte; single frames at an odd byteOffset.
        expect(collect(PacketBatch.fromArray(frames, { align: 1 }))).toEqual(aligned);
        const ctx = new GroContext();
        const single = frames.flatMap((f) => {
          const b = new Uint8Array(f.length + 3);
          b.set(f, 3);
          return ctx.aggregate(b.subarray(3), 0);
        });
        expect([...single, ...ctx.flush()].map((p) => hex(p.frame))).toEqual(aligned);
      }),
      { numRuns: 30 },
    );
  });

  it('hostile bytes: GRO passes them or merges them, GSO segments them or throws a NetworkError; nothing else', () => {
    const seeds = [
      tcpFrame({ payload: payloadBytes(3000) }),
      tcpFrame({ v6: true, vlan: 3, payload: payloadBytes(2000) }),
      udpFrame({ payload: payloadBytes(2500) }),
      // A tag stack and an extension-header chain for the walks to trip over.
      tcpFrame({ v6: true, vlans: [{ tpid: 0x88a8, id: 1 }, { tpid: 0x8100, id: 2 }], extensions: [extOf('hopByHop'), extOf('routing'), extOf('destination')], payload: payloadBytes(2000) }),
    ];
    fc.assert(
      fc.property(
        fc.oneof(
          fc.uint8Array({ maxLength: 200 }),
          fc.record({ i: fc.integer({ min: 0, max: seeds.length - 1 }), at: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }), cut: fc.nat() }).map((e) => {
            const f = seeds[e.i]!.slice();
            // Headers only: the first 60 bytes, or 150 for the deep seed (tags, IPv6, 64 bytes of extensions, TCP).
            for (const [p, v] of e.at) f[p % (e.i === 3 ? 150 : 60)] = v;
            return f.subarray(0, Math.max(0, f.length - (e.cut % 40)));
          }),
        ),
        fc.integer({ min: 1, max: 1500 }),
        (frame, mss) => {
          try {
            new GsoContext(mss).segment(frame);
          } catch (e) {
            expect(isNetworkError(e)).toBe(true);
          }
          const gro = new GroContext();
          const out = [...gro.aggregate(frame, 0), ...gro.flush()];
          expect(out.length).toBe(1);
          expect(hex(out[0]!.frame)).toBe(hex(frame));
        },
      ),
      { numRuns: 120 },
    );
  });

  it('with checksum verification every aggregate verifies, whatever bytes arrive (fuzz)', () => {
    const base = tcpStream(6, 300);
    fc.assert(
      fc.property(
        fc.array(fc.record({ i: fc.integer({ min: 0, max: 5 }), at: fc.nat(), xor: fc.integer({ min: 0, max: 255 }), cut: fc.nat() }), { minLength: 1, maxLength: 30 }),
        (edits) => {
          const frames = edits.map((e) => {
            const f = base[e.i]!.slice();
            f[e.at % f.length] ^= e.xor;
            return e.cut % 5 === 0 ? f.subarray(0, e.cut % f.length) : f;
          });
          const out: GroPacket[] = groRun(new GroContext({ verifyChecksums: true, maxFlows: 2 }), frames, 'batch', { batchSize: 5 });
          for (const p of out) if (p.gso.segments > 1) expect(checksumsValid(p.frame)).toBe(true);
          // Every input byte count is accounted for: merged packets carry their segments' payloads.
          expect(out.reduce((a, p) => a + p.gso.segments, 0)).toBe(frames.length);
        },
      ),
      { numRuns: 80 },
    );
  });
});

// The two backends must produce the same bytes, metadata and counters for any input, including garbage.
const both = availableBackends().includes('native');

/** Runs fn with the TypeScript engine's fast path off: only one()'s full rules decide (the reference). */
function withoutFastPath<T>(fn: () => T): T {
  GroEngineTs.fastPath = false;
  try {
    return fn();
  } finally {
    GroEngineTs.fastPath = true;
  }
}
describe.runIf(both)('TypeScript and native give identical results', () => {
  const frameArb = fc.record({
    kind: fc.constantFrom('tcp', 'tcp', 'tcp', 'udp', 'v6', 'junk', 'qinq', 'v6ext'),
    flow: fc.integer({ min: 0, max: 4 }),
    step: fc.integer({ min: 0, max: 8 }),
    size: fc.constantFrom(0, 1, 100, 100, 100, 1448),
    flags: fc.constantFrom(TCP_ACK, TCP_ACK, TCP_ACK, TCP_ACK | TCP_PSH, TCP_ACK | TCP_FIN, TCP_ACK | TCP_CWR, 0x04),
    idMode: fc.constantFrom('inc', 'fixed', 'rand'),
    df: fc.boolean(),
    mutate: fc.option(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), { nil: undefined, freq: 6 }),
  });
  type FrameSpec = typeof frameArb extends fc.Arbitrary<infer T> ? T : never;
  const build = (s: FrameSpec, i: number): Uint8Array => {
    const seq = 1000 + s.step * 100;
    const id = s.idMode === 'inc' ? s.step : s.idMode === 'fixed' ? 3 : (i * 7919) & 0xffff;
    let f: Uint8Array;
    if (s.kind === 'udp') f = udpFrame({ srcPort: 7000 + s.flow, id, df: s.df, payload: payloadBytes(Math.max(1, s.size), s.step) });
    else if (s.kind === 'junk') f = payloadBytes(10 + s.size, i + 1);
    else {
      const v6 = s.kind === 'v6' || s.kind === 'v6ext';
      // qinq: two stacks for the same 5-tuple (the inner tag follows the flow parity); v6ext: hop-by-hop, and
      // for odd flows a routing header too (a different header chain, so another flow).
      const vlans = s.kind === 'qinq' ? [{ tpid: 0x88a8, id: 7 }, { tpid: 0x8100, id: s.flow & 1 }] : undefined;
      const extensions = s.kind === 'v6ext' ? (s.flow & 1 ? [extOf('hopByHop'), extOf('routing')] : [extOf('hopByHop')]) : [];
      f = tcpFrame({ v6, vlans, extensions, srcPort: 4000 + (s.kind === 'qinq' || s.kind === 'v6ext' ? s.flow >> 1 : s.flow), seq, id, df: s.df, flags: s.flags, payload: payloadBytes(s.size, s.step) });
    }
    if (s.mutate) {
      f = f.slice();
      f[s.mutate[0] % f.length] ^= s.mutate[1];
    }
    return f;
  };

  it('GRO over random mixed input', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 80 }), fc.integer({ min: 1, max: 6 }), fc.integer({ min: 1, max: 20 }), fc.boolean(), (specs, maxFlows, batchSize, verifyChecksums) => {
        const frames = specs.map(build);
        const go = (b: 'ts' | 'native') =>
          withBackend(b, () => {
            const ctx = new GroContext({ maxFlows, verifyChecksums });
            const out = groRun(ctx, frames, 'batch', { batchSize, flush: false });
            const late = ctx.flushTimeouts(0.5);
            const rest = groRun(ctx, [], 'batch');
            return { out: [...out, ...late, ...rest].map((p) => [hex(p.frame), p.gso]), stats: ctx.stats() };
          });
        const ref = withoutFastPath(() => go('ts'));
        expect(go('ts')).toEqual(ref);
        expect(go('native')).toEqual(ref);
      }),
      { numRuns: 100 },
    );
  });

  it('GRO over interleaved streams (VLAN, IPv6, options, window changes, payloads around the copy/chain threshold) into a small output', () => {
    // Drives the native fast path and its chained payloads (held across calls, cut short by a full output)
    // against the TypeScript engine, which always copies.
    const streamArb = fc.record({
      v6: fc.boolean(),
      vlan: fc.option(fc.integer({ min: 1, max: 4095 }), { nil: undefined }),
      size: fc.constantFrom(1, 64, 255, 256, 257, 700, 1448),
      count: fc.integer({ min: 1, max: 12 }),
      ts: fc.boolean(),
      windowAt: fc.option(fc.nat(12), { nil: undefined }),
    });
    fc.assert(
      fc.property(fc.array(streamArb, { minLength: 1, maxLength: 5 }), fc.integer({ min: 1, max: 4 }), fc.integer({ min: 1, max: 16 }), fc.integer({ min: 1, max: 5 }), (specs, maxFlows, batchSize, outCap) => {
        const streams = specs.map((sp, k) => {
          const base = { v6: sp.v6, vlan: sp.vlan, srcPort: 100 + k, options: sp.ts ? [{ type: 'timestamps' as const, value: 7, echo: 9 }] : [] };
          const st = tcpStream(sp.count, sp.size, base);
          if (sp.windowAt !== undefined && sp.windowAt < sp.count) {
            // The same segment with another window: Linux ends the merge there.
            const i = sp.windowAt;
            const seq = 1000 + i * sp.size;
            st[i] = tcpFrame({ ...base, seq, id: 100 + i, flags: TCP_ACK | (i === sp.count - 1 ? TCP_PSH : 0), window: 9, payload: payloadBytes(sp.size, seq) });
          }
          return st;
        });
        const frames: Uint8Array[] = [];
        for (let i = 0; i < 12; i++) for (const st of streams) if (st[i]) frames.push(st[i]!);
        const go = (b: 'ts' | 'native') =>
          withBackend(b, () => {
            const ctx = new GroContext({ maxFlows });
            const got: string[] = [];
            const output = new PacketBatch({ capacity: outCap, byteCapacity: outCap * 70000 });
            for (let i = 0; i < frames.length; i += batchSize) {
              const input = PacketBatch.fromArray(frames.slice(i, i + batchSize));
              let start = 0;
              for (let guard = 0; guard < 1000 && start < input.length; guard++) {
                start = ctx.aggregateBatch(input, output, { start, now: 0 }).next;
                for (const p of output) got.push(hex(p));
                output.clear();
              }
            }
            while (ctx.heldFlows > 0) {
              ctx.flushBatch(output);
              for (const p of output) got.push(hex(p));
              output.clear();
            }
            return { got, stats: ctx.stats() };
          });
        const ref = withoutFastPath(() => go('ts'));
        expect(go('ts')).toEqual(ref);
        expect(go('native')).toEqual(ref);
      }),
      { numRuns: 60 },
    );
  });

  it('GRO state can switch backends between batches', () => {
    const frames = Array.from({ length: 10 }, (_, k) => tcpStream(6, 500, { srcPort: 9000 + k })).flat();
    const ref = withBackend('ts', () => groRun(new GroContext(), frames, 'batch').map((p) => hex(p.frame)));
    const ctx = new GroContext();
    const got: string[] = [];
    for (let i = 0; i < frames.length; i += 7) {
      withBackend(i % 2 ? 'ts' : 'native', () => got.push(...groRun(ctx, frames.slice(i, i + 7), 'batch', { flush: false }).map((p) => hex(p.frame))));
    }
    got.push(...ctx.flush().map((p) => hex(p.frame)));
    expect(got).toEqual(ref);
  });

  it('GSO over random (and broken) frames', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { minLength: 1, maxLength: 20 }), fc.integer({ min: 1, max: 2000 }), fc.integer({ min: 0, max: 3 }), (specs, mss, bigger) => {
        const frames = specs.map((s, i) => build({ ...s, size: s.size * (bigger + 1) }, i));
        const go = (b: 'ts' | 'native') =>
          withBackend(b, () => {
            const input = PacketBatch.fromArray(frames);
            const output = new PacketBatch({ capacity: 4096, byteCapacity: 1 << 20 });
            let err: unknown = null;
            try {
              gsoBatch(input, output, mss);
            } catch (e) {
              err = (e as { code?: string; detail?: unknown }).code + JSON.stringify((e as { detail?: { index?: number } }).detail?.index);
            }
            return { out: output.toArray().map(hex), err };
          });
        expect(go('native')).toEqual(go('ts'));
      }),
      { numRuns: 60 },
    );
  });
});
