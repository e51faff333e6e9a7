// The engine's eBPF filter stage on both backends: the workers compile the filter with the backend's default
// engine (the native x86-64 JIT on 'native', the JavaScript JIT on 'ts'), report which one runs, and accept
// exactly the packets the same program accepts single-threaded on this thread.
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/batch.js';
import { x64JitAvailable } from '../../src/ebpf/index.js';
import { compileFilter } from '../../src/filter/index.js';
import { type FlowStat } from '../../src/parallel/index.js';
import { trackedEngines, synthFlowKey } from '../helpers/engines.js';
import { backends, useBackend } from '../helpers/backends.js';
// @ts-expect-error -- plain ESM helper without types
import { arpFrame, headerLength, makeFlows, writeFrame } from './synth.mjs';

interface Flow { v: 4 | 6; proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number; vlan: number; ext: boolean }

const keyOf = (f: Flow) => synthFlowKey(f);

const engine = trackedEngines();

/**
 * Traffic where the verdict differs packet by packet: every packet of the first part is a flow of its own
 * (sport = 1024 + i), so the flows the engine reports are exactly the packets it accepted; the second part
 * repeats 40 flows with lengths that straddle the filter's length test, plus ARP frames (non-IP).
 */
function traffic(): { batch: PacketBatch; keys: (string | null)[] } {
  const base = makeFlows(40, 23) as Flow[];
  const n = 3000;
  const batch = new PacketBatch({ capacity: n + 2000, byteCapacity: (n + 2000) * 256 });
  const keys: (string | null)[] = [];
  for (let i = 0; i < n + 2000; i++) {
    if (i % 97 === 5) {
      batch.push(arpFrame());
      keys.push(null);
      continue;
    }
    let f = base[i % base.length]!;
    if (i < n) f = { ...f, sport: f.proto === 6 || f.proto === 17 ? 1024 + i : 0, dport: f.proto === 6 || f.proto === 17 ? f.dport : 0, src: f.src.slice() };
    // ICMP flows have no ports: give each its own source address instead.
    if (i < n && f.sport === 0) {
      f.src[f.src.length - 1] = i & 0xff;
      f.src[f.src.length - 2] = (i >> 8) & 0xff;
    }
    const len = Math.max(64, headerLength(f)) + ((i * 37) % 200);
    writeFrame(f, batch.reserve(len).view, 0, len, i);
    keys.push(keyOf(f));
  }
  return { batch, keys };
}

/** Per-flow accepted packets and bytes, as single-threaded eBPF verdicts make them. */
function expectedFlows(batch: PacketBatch, keys: (string | null)[], verdicts: Uint32Array): Map<string, { packets: number; bytes: number }> {
  const m = new Map<string, { packets: number; bytes: number }>();
  for (let i = 0; i < batch.length; i++) {
    const k = keys[i];
    if (verdicts[i] === 0 || k === null || k === undefined) continue;
    const g = m.get(k) ?? { packets: 0, bytes: 0 };
    g.packets++;
    g.bytes += batch.lengths[i]!;
    m.set(k, g);
  }
  return m;
}

const flowMap = (flows: FlowStat[]) => {
  const m = new Map<string, { packets: number; bytes: number }>();
  for (const f of flows) {
    const g = m.get(f.key) ?? { packets: 0, bytes: 0 };
    g.packets += f.packets;
    g.bytes += f.bytes;
    m.set(f.key, g);
  }
  return m;
};

describe.each(backends)('ParallelPacketEngine filter on the %s backend', (backend) => {
  useBackend(backend);
  const expression = 'greater 150 and (tcp or ip6)';
  const defaultEngine = backend === 'native' && x64JitAvailable() ? 'native' : 'js';

  it(`workers run the backend's default engine (${defaultEngine}) and accept what the program accepts on this thread`, async () => {
    const { batch, keys } = traffic();
    const program = compileFilter(expression, { linktype: 1 });
    const single = program.compile();
    expect(single.engine).toBe(defaultEngine === 'native' ? 'native' : 'js');
    const verdicts = single.runBatch(batch, new Uint32Array(batch.length));
    const rejected = verdicts.reduce((a, v) => a + (v === 0 ? 1 : 0), 0);
    expect(rejected).toBeGreaterThan(500); // the filter really splits the traffic
    expect(rejected).toBeLessThan(batch.length - 500);
    const expected = expectedFlows(batch, keys, verdicts);
    for (const workers of [1, 2]) {
      const e = engine(workers, 4 << 20, { bufSize: 512, filter: { expression } });
      const zb = e.createBatch({ capacity: batch.length, byteCapacity: batch.data.length });
      for (const p of batch) zb.push(p);
      // The copying path (staging batches), the zero-copy path, and the pool path (send + flush).
      const copied = await e.processBatch(batch);
      const zero = await e.processBatch(zb);
      for (const r of [copied, zero]) {
        expect(r.filterEngine).toBe(defaultEngine);
        expect(r.packets).toBe(batch.length);
        expect(r.perWorker.reduce((a, w) => a + w.filtered, 0)).toBe(rejected);
        expect(flowMap(r.flows)).toEqual(expected);
      }
      const before = e.flows();
      await e.send(batch);
      await e.flush();
      const sent = flowMap(e.flows());
      for (const [k, v] of expected) {
        const b = before.filter((f) => f.key === k).reduce((a, f) => a + f.packets, 0);
        expect(sent.get(k)!.packets - b, k).toBe(v.packets);
      }
      const s = e.stats();
      expect(s.filterEngine).toBe(defaultEngine);
      expect(s.perWorker.reduce((a, w) => a + w.filtered, 0)).toBe(3 * rejected);
    }
  });

  it('a named engine is used as named, with the same verdicts', async () => {
    const { batch, keys } = traffic();
    const program = compileFilter(expression, { linktype: 1 });
    const expected = expectedFlows(batch, keys, program.compile('interpreter').runBatch(batch, new Uint32Array(batch.length)));
    for (const named of ['interpreter', 'js']) {
      const e = engine(2, 4 << 20, { bufSize: 512, filter: { expression, engine: named } });
      const r = await e.processBatch(batch);
      expect(r.filterEngine).toBe(named);
      expect(flowMap(r.flows)).toEqual(expected);
    }
    const none = engine(1, 1 << 20);
    expect((await none.processBatch([arpFrame()])).filterEngine).toBeNull();
    expect(none.stats().filterEngine).toBeNull();
  });
});
