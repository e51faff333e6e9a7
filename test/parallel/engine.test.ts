// ParallelPacketEngine end to end: real worker threads (piscina) over the compiled dist/ (npm test builds
// first). The suite pushes 10^6 packets; scripts/stress-rings.mjs runs the 10^7-packet version.
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketBatch } from '../../src/batch.js';
import { isNetworkError } from '../../src/errors.js';
import { ParallelPacketEngine, flowKeyString, frameRssHash, toeplitzHasher, type FlowStat } from '../../src/parallel/index.js';
import { readCaptureSync } from '../../src/capture/index.js';
import { trackedEngines, synthFlowKey } from '../helpers/engines.js';
import { itWithTools } from '../helpers/tools.js';
// @ts-expect-error -- plain ESM helper without types
import { arpFrame, frameFor, headerLength, makeFlows, reverseFlow, trafficPlan, writeFrame } from './synth.mjs';

interface Flow { v: 4 | 6; proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number; vlan: number; ext: boolean }

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}`, import.meta.url));
const keyOf = (f: Flow) => synthFlowKey(f);
const lenOf = (f: Flow, k: number) => Math.max(64, headerLength(f)) + (k % 3) * 37;

const engine = trackedEngines();

describe('ParallelPacketEngine', () => {
  it('10^6 packets over 2 workers: per-flow counts equal the construction, each flow on one worker', async () => {
    const flows = makeFlows(3000, 11) as Flow[];
    const plan = trafficPlan(flows, 1_000_000, 5) as { order: Int32Array; counts: Float64Array };
    const e = engine(2, 8 << 20, { bufSize: 256 });
    const seenOn = new Map<string, number>();
    const got = new Map<string, { packets: number; bytes: number }>();
    let arp = 0;
    const chunk = 100_000;
    for (let start = 0; start < plan.order.length; start += chunk) {
      const batch = new PacketBatch({ capacity: chunk, byteCapacity: chunk * 256 });
      for (let i = start; i < start + chunk; i++) {
        const k = plan.order[i]!;
        if (k < 0) {
          batch.push(arpFrame());
          arp++;
          continue;
        }
        const f = flows[k]!;
        const len = lenOf(f, k);
        const r = batch.reserve(len);
        writeFrame(f, r.view, 0, len, i);
      }
      const res = await e.processBatch(batch);
      expect(res.packets).toBe(chunk);
      expect(res.dropped).toBe(0);
      expect(res.perWorker.reduce((a, w) => a + w.packets, 0)).toBe(chunk);
      for (const fl of res.flows) {
        const prev = seenOn.get(fl.key);
        if (prev !== undefined) expect(fl.worker).toBe(prev);
        seenOn.set(fl.key, fl.worker);
        const g = got.get(fl.key) ?? { packets: 0, bytes: 0 };
        g.packets += fl.packets;
        g.bytes += fl.bytes;
        got.set(fl.key, g);
      }
      // Within one batch a flow appears once (on one worker).
      expect(new Set(res.flows.map((f) => f.key)).size).toBe(res.flows.length);
    }
    const expected = new Map<string, { packets: number; bytes: number }>();
    flows.forEach((f, k) => {
      const c = plan.counts[k]!;
      if (c > 0) expected.set(keyOf(f), { packets: c, bytes: c * lenOf(f, k) });
    });
    expect(got.size).toBe(expected.size);
    for (const [key, v] of expected) expect(got.get(key), key).toEqual(v);
    // Cumulative view and stats agree.
    const all = e.flows();
    expect(all.reduce((a, f) => a + f.packets, 0)).toBe(1_000_000 - arp);
    const s = e.stats();
    expect(s.processed).toBe(1_000_000);
    expect(s.perWorker.reduce((a, w) => a + w.nonIp, 0)).toBe(arp);
    expect(s.perWorker.every((w) => w.packets > 100_000)).toBe(true); // both workers got a real share
    const tp = e.calculateThroughput();
    expect(tp.packets).toBe(1_000_000);
    expect(tp.pps).toBeGreaterThan(0);
    expect(tp.mbps).toBeCloseTo((tp.bytes * 8) / tp.seconds / 1e6, 6);
  });

  it('zero-copy batches (createBatch): same flows and counts as the copying path, reusable, workers split by RSS', async () => {
    const flows = makeFlows(500, 17) as Flow[];
    const plan = trafficPlan(flows, 50_000, 3) as { order: Int32Array; counts: Float64Array };
    const e = engine(2, 4 << 20, { bufSize: 256 });
    const zb = e.createBatch({ capacity: 50_000, byteCapacity: 50_000 * 256 });
    expect(zb.shared).toBe(true);
    const fill = (b: PacketBatch) => {
      b.clear();
      for (let i = 0; i < plan.order.length; i++) {
        const k = plan.order[i]!;
        if (k < 0) b.push(arpFrame());
        else writeFrame(flows[k]!, b.reserve(lenOf(flows[k]!, k)).view, 0, lenOf(flows[k]!, k), i);
      }
    };
    fill(zb);
    const plain = new PacketBatch({ capacity: 50_000, byteCapacity: 50_000 * 256 });
    fill(plain);
    const z = await e.processBatch(zb);
    const c = await e.processBatch(plain);
    const norm = (r: { flows: FlowStat[] }) => r.flows.map((f) => `${f.key} ${f.packets} ${f.bytes} ${f.worker}`).sort();
    expect(norm(z)).toEqual(norm(c));
    expect(z.packets).toBe(50_000);
    expect(z.bytes).toBe(c.bytes);
    expect(z.perWorker.map((w) => w.packets)).toEqual(c.perWorker.map((w) => w.packets));
    flows.forEach((f, k) => {
      const got = z.flows.find((x) => x.key === keyOf(f));
      if (plan.counts[k]! > 0) expect(got?.packets).toBe(plan.counts[k]);
    });
    // Reuse: clear, refill with half the packets, run again; and streaming sends interleave correctly.
    zb.clear();
    for (let i = 0; i < 1000; i++) zb.push(frameFor(flows[0]!, 64, i));
    const sent = e.send(Array.from({ length: 500 }, () => frameFor(flows[1]!)));
    const again = await e.processBatch(zb);
    await sent;
    await e.flush();
    expect(again.packets).toBe(1000);
    expect(again.flows.map((f) => [f.key, f.packets])).toEqual([[keyOf(flows[0]!), 1000]]);
    expect(e.stats().processed).toBe(50_000 + 50_000 + 1000 + 500);
  });

  it('zero-copy with one worker (one fused pass) and two (hash, barrier, count) agree; the hash lane is the RSS hash', async () => {
    const flows = makeFlows(300, 23) as Flow[];
    const plan = trafficPlan(flows, 20_000, 4) as { order: Int32Array; counts: Float64Array };
    const results: string[][] = [];
    const lanes: Uint32Array[] = [];
    // A filter that keeps everything takes the ordered burst path instead of the plain loops.
    const all = 'mov %r0, 1\nexit';
    for (const [workers, filter] of [[1, undefined], [2, undefined], [1, all], [2, all]] as const) {
      const e = engine(workers, 1 << 20, { filter });
      const zb = e.createBatch({ capacity: 20_000, byteCapacity: 20_000 * 256 });
      for (let i = 0; i < plan.order.length; i++) {
        const k = plan.order[i]!;
        if (k < 0) zb.push(arpFrame());
        else writeFrame(flows[k]!, zb.reserve(lenOf(flows[k]!, k)).view, 0, lenOf(flows[k]!, k), i);
      }
      const r = await e.processBatch(zb);
      expect(r.packets).toBe(20_000);
      results.push(r.flows.map((f) => `${f.key} ${f.packets} ${f.bytes}`).sort());
      lanes.push(zb.flowHashes!.slice(0, zb.length));
    }
    for (const r of results) expect(r).toEqual(results[0]);
    for (const l of lanes) expect(l).toEqual(lanes[0]);
    const hasher = toeplitzHasher();
    const tuple = new Int32Array(4);
    const ref = new PacketBatch({ capacity: 20_000, byteCapacity: 20_000 * 256 });
    for (let i = 0; i < plan.order.length; i++) {
      const k = plan.order[i]!;
      if (k < 0) ref.push(arpFrame());
      else writeFrame(flows[k]!, ref.reserve(lenOf(flows[k]!, k)).view, 0, lenOf(flows[k]!, k), i);
    }
    expect(lanes[0]).toEqual(Uint32Array.from({ length: ref.length }, (_, i) => frameRssHash(hasher, ref.data, ref.offsets[i]!, ref.lengths[i]!, tuple)));
    // And the counts are the construction's.
    const packetsOf = new Map(results[0]!.map((x) => [x.split(' ').slice(0, -2).join(' '), Number(x.split(' ').at(-2))]));
    flows.forEach((f, k) => {
      if (plan.counts[k]! > 0) expect(packetsOf.get(keyOf(f))).toBe(plan.counts[k]);
    });
  });

  it("the copying path: staging (policy 'block') and the pool ('drop', room for all) give the same results", async () => {
    const flows = makeFlows(200, 29) as Flow[];
    const n = 40_000; // more than one staging chunk (16384 packets)
    const one = new Uint8Array(n * 128);
    const views: Uint8Array[] = [];
    const separate: Uint8Array[] = [];
    let at = 0;
    for (let i = 0; i < n; i++) {
      const f = flows[i % flows.length]!;
      // Mostly 64..140 B, some 300 B (over bufSize 256: cut, wire length still counted).
      const len = i % 97 === 0 ? 300 : Math.max(64, headerLength(f)) + (i % 5) * 19;
      if (at + len > one.length) break;
      writeFrame(f, one, at, len, i);
      // Views of one buffer, back to back (runs), with a gap now and then; some packets in arrays of their own.
      views.push(one.subarray(at, at + len));
      separate.push(i % 3 === 0 ? one.slice(at, at + len) : one.subarray(at, at + len));
      at += len + (i % 11 === 0 ? 13 : 0);
    }
    const batch = PacketBatch.fromArray(views, { capacity: n, byteCapacity: n * 320 });
    const norm = (r: { flows: FlowStat[] }) => r.flows.map((f) => `${f.key} ${f.packets} ${f.bytes} ${f.worker}`).sort();
    const staged = engine(2, 1 << 20, { bufSize: 256 });
    const pool = engine(2, n * 256 + (1 << 16), { bufSize: 256, backpressure: 'drop' });
    const a = await staged.processBatch(views);
    const b = await staged.processBatch(separate);
    const c = await staged.processBatch(batch);
    const d = await pool.processBatch(views);
    expect(d.dropped).toBe(0);
    for (const r of [a, b, c]) {
      expect(r.packets).toBe(views.length);
      expect(r.bytes).toBe(views.reduce((x, v) => x + v.length, 0));
      expect(norm(r)).toEqual(norm(d));
      expect(r.perWorker).toEqual(d.perWorker);
    }
    expect(staged.stats()).toMatchObject({ submitted: 3 * views.length, processed: 3 * views.length, dropped: 0 });
  });

  it('staging copy, property: any mix of views into shared buffers, arrays of their own and a PacketBatch gives the pool path\'s results', async () => {
    const flows = makeFlows(60, 41) as Flow[];
    const staged = engine(2, 1 << 20, { bufSize: 128 });
    const pool = engine(2, 8 << 20, { bufSize: 128, backpressure: 'drop' });
    const norm = (r: { flows: FlowStat[] }) => r.flows.map((f) => `${f.key} ${f.packets} ${f.bytes} ${f.worker}`).sort();
    // Each packet: flow, length (some over bufSize, some shorter than their headers), where it lives (0/1: one
    // of two shared buffers, back to back or after a gap; 2: an array of its own).
    const packet = fc.record({ flow: fc.nat(flows.length - 1), len: fc.oneof(fc.integer({ min: 0, max: 200 }), fc.constant(300)), home: fc.nat(2), gap: fc.nat(9) });
    await fc.assert(
      fc.asyncProperty(fc.array(packet, { minLength: 1, maxLength: 3000 }), async (spec) => {
        const bufs = [new Uint8Array(spec.length * 320), new Uint8Array(spec.length * 320)];
        const at = [0, 0];
        const views = spec.map(({ flow, len, home, gap }) => {
          const f = flows[flow]!;
          const frame = new Uint8Array(Math.max(len, headerLength(f)));
          writeFrame(f, frame, 0, frame.length);
          const view = frame.subarray(0, len);
          if (home === 2) return view.slice();
          const h = home as 0 | 1;
          at[h] += gap < 7 ? 0 : gap;
          bufs[h]!.set(view, at[h]);
          const v = bufs[h]!.subarray(at[h], at[h] + len);
          at[h] += len;
          return v;
        });
        const batch = PacketBatch.fromArray(views, { capacity: views.length, byteCapacity: views.length * 320 });
        const want = await pool.processBatch(views);
        expect(want.dropped).toBe(0);
        for (const r of [await staged.processBatch(views), await staged.processBatch(batch)]) {
          expect(r.packets).toBe(views.length);
          expect(r.bytes).toBe(want.bytes);
          expect(norm(r)).toEqual(norm(want));
          expect(r.perWorker).toEqual(want.perWorker);
        }
      }),
      { numRuns: 15, seed: 6061 },
    );
  });

  it("link 'raw' (bare IP frames): the same flows as the Ethernet frames they came from, on both paths", async () => {
    const flows = (makeFlows(200, 43) as Flow[]).filter((f) => f.vlan < 0);
    const frames = flows.map((f, i) => frameFor(f, 64 + (i % 7) * 10) as Uint8Array);
    const raw = frames.map((b) => b.slice(14));
    const eth = engine(2, 1 << 20);
    const ip = engine(2, 1 << 20, { link: 'raw' });
    const want = (await eth.processBatch(frames)).flows.map((f) => `${f.key} ${f.packets} ${f.worker}`).sort();
    expect(want.length).toBe(flows.length);
    const zb = ip.createBatch({ capacity: raw.length, byteCapacity: raw.length * 128 });
    for (const r of raw) zb.push(r);
    for (const input of [raw, zb]) {
      const got = await ip.processBatch(input);
      expect(got.flows.map((f) => `${f.key} ${f.packets} ${f.worker}`).sort()).toEqual(want);
      expect(got.perWorker.reduce((a, w) => a + w.nonIp, 0)).toBe(0);
    }
  });

  it('a hostile PacketBatch (offsets and lengths past its data) never fails a worker on either path', async () => {
    const flows = makeFlows(20, 5) as Flow[];
    const b = PacketBatch.fromArray(flows.map((f) => frameFor(f)), { capacity: 64, byteCapacity: 64 * 128 });
    const data = b.data.length;
    b.offsets[3] = data - 10; // runs past the end
    b.lengths[4] = 100_000; // longer than the data
    b.offsets[5] = data + 4096; // starts past the end
    for (const backpressure of ['block', 'drop'] as const) {
      const e = engine(2, 1 << 20, { bufSize: 128, backpressure });
      const r = await e.processBatch(b);
      expect(r.packets + r.dropped).toBe(b.length);
      expect(e.error).toBeNull();
    }
  });

  it('Uint8Array[] input; the symmetric key puts both directions of every flow on one worker', async () => {
    const flows = (makeFlows(400, 3) as Flow[]).filter((f) => f.proto === 6 || f.proto === 17);
    const packets = flows.flatMap((f) => [frameFor(f), frameFor(reverseFlow(f))]);
    const e = engine(2, 1 << 20, { symmetric: true });
    const res = await e.processBatch(packets);
    const byKey = new Map(res.flows.map((f) => [f.key, f]));
    let split = 0;
    for (const f of flows) {
      const a = byKey.get(keyOf(f))!;
      const b = byKey.get(keyOf(reverseFlow(f)))!;
      expect(a.packets).toBe(1);
      expect(b.packets).toBe(1);
      if (a.worker !== b.worker) split++;
    }
    expect(split).toBe(0);
    // Without the symmetric key, some flows' directions do split (the default key is not symmetric).
    const d = engine(2, 1 << 20);
    const r2 = await d.processBatch(packets);
    const by2 = new Map(r2.flows.map((f) => [f.key, f.worker]));
    expect(flows.some((f) => by2.get(keyOf(f)) !== by2.get(keyOf(reverseFlow(f))))).toBe(true);
  });

  it('runs user stages from module paths (init options reach the worker); dropped packets are counted', async () => {
    const flows = makeFlows(200, 9) as Flow[];
    const packets = flows.map((f) => frameFor(f));
    const udp = flows.filter((f) => f.proto === 17).length;
    const e = engine(2, 1 << 20, { stages: [{ module: fixture('drop-protocol.mjs'), options: { protocol: 17 } }] });
    const res = await e.processBatch(packets);
    expect(res.packets).toBe(flows.length);
    expect(res.perWorker.reduce((a, w) => a + w.stageDropped, 0)).toBe(udp);
    expect(res.perWorker.reduce((a, w) => a + w.accepted, 0)).toBe(flows.length - udp);
    expect(res.flows.some((f: FlowStat) => f.protocol === 17)).toBe(false);
    expect(res.flows.length).toBe(flows.length - udp);
  });

  it('a worker that throws rejects processBatch with WORKER_FAILED, and later calls too; close still resolves', async () => {
    const flows = makeFlows(50, 2) as Flow[];
    const packets = flows.map((f) => frameFor(f));
    const bad = frameFor(flows[7]!);
    bad[bad.length - 1] = 0xee;
    packets.splice(25, 0, bad);
    const e = engine(2, 1 << 20, { stages: [fixture('throw-on-marker.mjs')] });
    const err = await e.processBatch(packets).then(
      () => null,
      (x: unknown) => x,
    );
    expect(isNetworkError(err, 'WORKER_FAILED')).toBe(true);
    expect((err as Error).message).toMatch(/marker packet reached the stage/);
    expect(e.error?.detail.worker).toBeTypeOf('number');
    await expect(e.processBatch(packets)).rejects.toSatisfy((x: unknown) => isNetworkError(x, 'WORKER_FAILED'));
    expect(() => e.createBatch()).toThrow(expect.objectContaining({ code: 'WORKER_FAILED' }));
    expect(() => e.trySend(packets[0]!)).toThrow(expect.objectContaining({ code: 'WORKER_FAILED' }));
    const s = await e.close();
    expect(s.processed + s.abandoned).toBeLessThanOrEqual(s.submitted);
  });

  it("full pool/ring, policy 'drop': what does not fit is dropped and counted, the rest processed", async () => {
    const flows = makeFlows(64, 4) as Flow[];
    const packets = Array.from({ length: 2000 }, (_, i) => frameFor(flows[i % 64]!));
    // 8 buffers of 256 B and a 50 µs stage: the dispatcher outruns the workers.
    const e = engine(2, 8 * 256, { bufSize: 256, ringCapacity: 4, backpressure: 'drop', stages: [fixture('slow.mjs')] });
    const res = await e.processBatch(packets);
    expect(res.dropped).toBeGreaterThan(0);
    expect(res.packets + res.dropped).toBe(2000);
    expect(res.perWorker.reduce((a, w) => a + w.packets, 0)).toBe(res.packets);
    expect(res.flows.reduce((a, f) => a + f.packets, 0)).toBe(res.packets);
    expect(e.stats().dropped).toBe(res.dropped);
  });

  it("full pool/ring, policy 'block': the dispatcher waits and nothing is dropped", async () => {
    const flows = makeFlows(64, 4) as Flow[];
    const packets = Array.from({ length: 1000 }, (_, i) => frameFor(flows[i % 64]!));
    const e = engine(2, 8 * 256, { bufSize: 256, ringCapacity: 4, stages: [fixture('slow.mjs')] });
    const res = await e.processBatch(packets);
    expect(res.dropped).toBe(0);
    expect(res.packets).toBe(1000);
    expect(res.flows.reduce((a, f) => a + f.packets, 0)).toBe(1000);
    // processBatch copies through staging batches; send() goes through the 8-buffer pool and must wait too.
    expect(await e.send(packets)).toBe(1000);
    await e.flush();
    expect(e.stats()).toMatchObject({ submitted: 2000, processed: 2000, dropped: 0 });
    expect(e.flows().reduce((a, f) => a + f.packets, 0)).toBe(2000);
    // trySend never waits: with the pool full it says no, and does not count a drop.
    const e2 = engine(1, 4 * 256, { bufSize: 256, stages: [fixture('slow.mjs')] });
    let refused = 0;
    for (let i = 0; i < 50; i++) if (!e2.trySend(packets[i]!)) refused++;
    expect(refused).toBeGreaterThan(0);
    await e2.flush();
    expect(e2.stats()).toMatchObject({ processed: 50 - refused, dropped: 0, submitted: 50 - refused });
  });

  it('shutdown mid-stream: drain finishes every accepted packet; abort stops and counts the abandoned ones', async () => {
    const flows = makeFlows(32, 8) as Flow[];
    const packets = Array.from({ length: 400 }, (_, i) => frameFor(flows[i % 32]!));
    const a = engine(2, 1 << 20, { stages: [fixture('slow.mjs')] });
    expect(await a.send(packets)).toBe(400);
    const sa = await a.close();
    expect(sa).toMatchObject({ submitted: 400, processed: 400, abandoned: 0, dropped: 0 });
    await expect(a.send(packets[0]!)).rejects.toSatisfy((x: unknown) => isNetworkError(x, 'CLOSED'));

    const b = engine(2, 1 << 20, { stages: [fixture('slow.mjs')] });
    await b.send(packets);
    const pending = b.flush().then(
      () => 'resolved',
      (x: unknown) => (isNetworkError(x, 'CLOSED') ? 'closed' : String(x)),
    );
    const sb = await b.close({ drain: false });
    expect(sb.submitted).toBe(400);
    expect(sb.abandoned).toBeGreaterThan(0);
    expect(sb.processed + sb.abandoned).toBe(400);
    expect(await pending).toBe('closed');
  });

  it('eBPF filter stage: assembly text and a pcap-filter expression drop the same packets in every worker', async () => {
    const flows = makeFlows(300, 31) as Flow[];
    const packets = [...flows.map((f) => frameFor(f)), arpFrame()];
    const keep = flows.filter((f) => f.v === 4 && f.vlan < 0); // untagged IPv4: EtherType 0x0800 at byte 12
    const asm = `
      mov %r0, 0
      jlt %r2, 14, +3
      ldxh %r3, [%r1+12]
      jne %r3, 0x8, +1
      mov %r0, 1
      exit`;
    for (const filter of [asm, { expression: 'ip' }]) {
      const e = engine(2, 1 << 20, { filter });
      const res = await e.processBatch(packets);
      expect(res.packets).toBe(packets.length);
      expect(res.perWorker.reduce((a, w) => a + w.filtered, 0)).toBe(packets.length - keep.length);
      expect(new Set(res.flows.map((f) => f.key))).toEqual(new Set(keep.map(keyOf)));
    }
    // A program the verifier rejects fails the constructor, before any worker starts.
    expect(() => new ParallelPacketEngine(1, 1 << 20, { filter: 'ldxw %r0, [%r9+0]\nexit' })).toThrow();
  });

  it('a stage that throws inside a zero-copy batch also reaches the caller', async () => {
    const flows = makeFlows(50, 2) as Flow[];
    const e = engine(2, 1 << 20, { stages: [fixture('throw-on-marker.mjs')] });
    const zb = e.createBatch({ capacity: 100, byteCapacity: 100 * 128 });
    for (const f of flows) zb.push(frameFor(f));
    expect((await e.processBatch(zb)).packets).toBe(50);
    const bad = frameFor(flows[3]!);
    bad[bad.length - 1] = 0xee;
    zb.push(bad);
    await expect(e.processBatch(zb)).rejects.toSatisfy((x: unknown) => isNetworkError(x, 'WORKER_FAILED'));
    await e.close();
  });

  it('hostile input: random, empty and oversized frames never fail a worker; wire lengths are counted', async () => {
    const rnd = fc.sample(fc.uint8Array({ minLength: 0, maxLength: 300 }), { numRuns: 3000, seed: 42 });
    // Plant IPv4/IPv6 EtherTypes and version nibbles in some, so the parser walks real-looking garbage.
    rnd.forEach((b, i) => {
      if (b.length > 20 && i % 2) {
        b[12] = i % 4 === 1 ? 0x08 : 0x86;
        b[13] = i % 4 === 1 ? 0x00 : 0xdd;
        b[14] = i % 4 === 1 ? 0x40 | (b[14]! & 15) : 0x60;
      }
    });
    const flows = makeFlows(10, 6) as Flow[];
    const big = flows.map((f) => frameFor(f, 1500));
    const e = engine(2, 1 << 20, { bufSize: 128 });
    const res = await e.processBatch([...rnd, ...big, new Uint8Array(0)]);
    expect(res.packets).toBe(rnd.length + big.length + 1);
    expect(res.bytes).toBe(rnd.reduce((a, b) => a + b.length, 0) + 1500 * big.length);
    for (const f of flows) expect(res.flows.find((x) => x.key === keyOf(f))).toMatchObject({ packets: 1, bytes: 1500 });
    expect(e.error).toBeNull();
  });

  it('rejects bad arguments', () => {
    expect(() => new ParallelPacketEngine(0, 1 << 20)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new ParallelPacketEngine(1, 100)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new ParallelPacketEngine(1, 1 << 20, { backpressure: 'spill' as 'drop' })).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  itWithTools(['tshark'], 'a real capture: per-flow counts equal tshark’s single-threaded analysis', async () => {
    const path = fileURLToPath(new URL('../fixtures/lo-traffic.pcap', import.meta.url));
    const frames = readCaptureSync(readFileSync(path)).map((p) => p.data);
    const out = spawnSync('tshark', ['-r', path, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=f', '-e', 'ip.src', '-e', 'ip.dst', '-e', 'ipv6.src', '-e', 'ipv6.dst', '-e', 'ip.proto', '-e', 'ipv6.nxt', '-e', 'tcp.srcport', '-e', 'tcp.dstport', '-e', 'udp.srcport', '-e', 'udp.dstport', '-e', 'frame.len'], { encoding: 'utf8' });
    expect(out.status).toBe(0);
    const expected = new Map<string, { packets: number; bytes: number }>();
    for (const line of out.stdout.trim().split('\n')) {
      const [s4, d4, s6, d6, p4, p6, ts, td, us, ud, len] = line.split('\t');
      const v = s4 ? 4 : s6 ? 6 : 0;
      if (!v) continue;
      const proto = Number(p4 || p6);
      // Ports only for a TCP/UDP packet itself (tshark also shows those quoted inside ICMP errors).
      const sp = proto === 6 ? ts : proto === 17 ? us : '0';
      const dp = proto === 6 ? td : proto === 17 ? ud : '0';
      const key = flowKeyString(v, proto, (s4 || s6)!, (d4 || d6)!, Number(sp), Number(dp));
      const g = expected.get(key) ?? { packets: 0, bytes: 0 };
      g.packets += 1000;
      g.bytes += 1000 * Number(len);
      expected.set(key, g);
    }
    // The capture 1000 times over (≈ 4·10^4 packets). occurrence=f: the outer header of ICMP errors.
    const packets: Uint8Array[] = [];
    for (let i = 0; i < 1000; i++) packets.push(...frames);
    const e = engine(2, 4 << 20);
    const res = await e.processBatch(packets);
    const got = new Map(res.flows.map((f) => [f.key, { packets: f.packets, bytes: f.bytes }]));
    expect(got).toEqual(expected);
  });
});
