import { describe, expect, it } from 'vitest';
import { PacketDistributor, PacketPipeline, RSS_SYMMETRIC_KEY, rssIndirectionTable } from '../../src/parallel/index.js';
import { EthernetFrame } from '../../src/wire/index.js';
// @ts-expect-error -- plain ESM helper without types
import { arpFrame, frameFor, makeFlows, reverseFlow } from './synth.mjs';

describe('PacketPipeline (guide)', () => {
  it('runs stages in order, stops at the first drop, counts per stage', () => {
    const order: string[] = [];
    const p = new PacketPipeline<Uint8Array>()
      .addStage((f) => (order.push('size'), f.length >= 64), 'size')
      .addStage((f) => (order.push('ipv4'), f[12] === 0x08 && f[13] === 0x00), 'ipv4');
    expect(p.process(new Uint8Array(10))).toBe(false);
    expect(order).toEqual(['size']);
    const ip = new Uint8Array(64);
    ip[12] = 0x08;
    expect(p.process(ip)).toBe(true);
    expect(p.processAll([ip, new Uint8Array(70), ip])).toEqual([ip, ip]);
    expect(p.passed).toBe(3);
    expect(p.stageStats()).toEqual([
      { name: 'size', seen: 5, dropped: 1 },
      { name: 'ipv4', seen: 4, dropped: 1 },
    ]);
  });

  it('works over guide frames: addStage(f => f.totalSize() >= 64)', () => {
    const frames = makeFlows(5, 1).map((f: unknown) => EthernetFrame.parse(frameFor(f, 80)));
    const p = new PacketPipeline<EthernetFrame>().addStage((f) => f.totalSize() >= 64);
    expect(p.processAll(frames).length).toBe(5);
  });
});

describe('PacketDistributor (guide)', () => {
  it('one queue per worker; every packet of a flow in the same queue, in order', () => {
    const flows = makeFlows(200, 13);
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 2000; i++) frames.push(frameFor(flows[i % 200], 64, i));
    frames.push(arpFrame());
    const d = new PacketDistributor(4);
    const queues = d.distribute(frames);
    expect(queues.length).toBe(4);
    expect(queues.reduce((a, q) => a + q.length, 0)).toBe(frames.length);
    const where = new Map<number, number>();
    queues.forEach((q, w) =>
      q.forEach((f) => {
        const i = frames.indexOf(f);
        if (i === 2000) return; // the ARP frame
        const flow = i % 200;
        if (where.has(flow)) expect(where.get(flow)).toBe(w);
        where.set(flow, w);
      }),
    );
    for (const q of queues) {
      const idx = q.map((f) => frames.indexOf(f));
      expect(idx).toEqual([...idx].sort((a, b) => a - b));
      expect(q.length).toBeGreaterThan(200); // the hash spreads flows over all queues
    }
    expect(d.workerFor(arpFrame())).toBe(0); // non-IP hashes to 0, like a NIC
  });

  it('symmetric key: both directions in one queue; accepts objects with serialize()', () => {
    const d = new PacketDistributor<{ serialize(): Uint8Array }>(8, { key: RSS_SYMMETRIC_KEY });
    for (const f of makeFlows(100, 17)) {
      const a = frameFor(f);
      const b = frameFor(reverseFlow(f));
      expect(d.workerFor({ serialize: () => a })).toBe(d.workerFor({ serialize: () => b }));
    }
    expect(rssIndirectionTable(3).slice(0, 6)).toEqual(Uint8Array.of(0, 1, 2, 0, 1, 2));
    expect(() => new PacketDistributor(0)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
