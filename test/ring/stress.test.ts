// Two-thread stress runs over the compiled rings (dist/; `npm test` builds first). The suite runs 10^6
// items per ring to stay fast on 2 cores; scripts/stress-rings.mjs runs the full 10^8.
import { beforeAll, describe, expect, it } from 'vitest';
// @ts-expect-error -- plain ESM helper without types
import { assertBuilt, mpmcStress, poolStress, ringBufferStress, spscStress } from './stress-run.mjs';

interface MpmcResult { pushed: number; received: number; reordered: number; duplicates: number; marked: number }

describe('ring stress across threads', () => {
  beforeAll(() => assertBuilt());

  it('SpscRing: 10^6 items, nothing lost, duplicated or reordered', async () => {
    const r = (await spscStress(1_000_000, { capacity: 1024 })) as { cons: { received: number; errors: number; extra: number } };
    expect(r.cons).toMatchObject({ received: 1_000_000, errors: 0, extra: 0 });
  });

  it('MpmcRing: 2 producers × 2 consumers, 10^6 items, per-producer order kept, each item exactly once', async () => {
    const r = (await mpmcStress(500_000, { producers: 2, consumers: 2, capacity: 1024 })) as MpmcResult;
    expect(r).toMatchObject({ pushed: 1_000_000, received: 1_000_000, reordered: 0, duplicates: 0, marked: 1_000_000 });
  });

  it('MpmcRing: 3 producers × 1 consumer through a tiny ring (constant full/empty races)', async () => {
    const r = (await mpmcStress(30_000, { producers: 3, consumers: 1, capacity: 8, chunk: 5 })) as MpmcResult;
    expect(r).toMatchObject({ pushed: 90_000, received: 90_000, reordered: 0, duplicates: 0, marked: 90_000 });
  });

  it('RingBuffer: 3·10^4 variable-length records (4–259 B) through a 4 KiB ring, byte-exact and in order', async () => {
    const r = (await ringBufferStress(30_000, { capacity: 4096 })) as { cons: { received: number; errors: number; extra: number } };
    expect(r.cons).toEqual({ received: 30_000, errors: 0, extra: -1 });
  });

  it('PacketPool: two threads acquiring/releasing never share a buffer', async () => {
    const r = (await poolStress(50_000, { threads: 2, count: 16 })) as { results: { acquired: number; twice: number; corrupted: number }[]; available: number };
    for (const t of r.results) expect(t).toMatchObject({ twice: 0, corrupted: 0 });
    expect(r.results.reduce((a, t) => a + t.acquired, 0)).toBeGreaterThan(50_000);
    expect(r.available).toBe(16);
  });
});
