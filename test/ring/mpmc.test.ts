import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { MpmcRing } from '../../src/ring/index.js';

describe('MpmcRing', () => {
  it('is FIFO with full/empty detection over many laps (sequence numbers wrap correctly)', () => {
    const r = new MpmcRing(4);
    expect(r.tryPop()).toBe(-1);
    let next = 0;
    let expected = 0;
    for (let lap = 0; lap < 1000; lap++) {
      while (r.tryPush(next)) next++;
      expect(r.size).toBe(4);
      for (let k = 0; k < 3; k++) expect(r.tryPop()).toBe(expected++);
    }
    expect(next - expected).toBe(1);
  });

  it('bulk calls claim only what is free / published', () => {
    const r = new MpmcRing(8);
    expect(r.pushBulk([1, 2, 3, 4, 5, 6, 7, 8, 9, 10])).toBe(8);
    const out = new Uint32Array(5);
    expect(r.popBulk(out)).toBe(5);
    expect(Array.from(out)).toEqual([1, 2, 3, 4, 5]);
    expect(r.pushBulk([0xffffffff, 11])).toBe(2);
    const rest = new Uint32Array(10);
    expect(r.popBulk(rest)).toBe(5);
    expect(Array.from(rest.subarray(0, 5))).toEqual([6, 7, 8, 0xffffffff, 11]);
  });

  it('attach shares the ring; slot mode copies fixed-size slots', () => {
    const a = new MpmcRing(8, { slotBytes: 24 });
    const b = MpmcRing.attach(a.sharedBuffer);
    expect(b.slotBytes).toBe(24);
    expect(a.tryPushSlot(Uint8Array.of(1, 2, 3))).toBe(true);
    const out = new Uint8Array(3);
    expect(b.tryPopSlot(out)).toBe(true);
    expect(Array.from(out)).toEqual([1, 2, 3]);
    expect(b.tryPopSlot(out)).toBe(false);
    expect(() => a.pushBulk([1])).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('blocking pop times out; close wakes and drains', async () => {
    const r = new MpmcRing(2, { spin: 10 });
    expect(() => r.pop(5)).toThrow(expect.objectContaining({ code: 'TIMEOUT' }));
    r.push(5);
    const w = r.waitForSpaceAsync(5000);
    r.push(6);
    r.close();
    expect(await w).not.toBe('timed-out');
    expect(r.pop()).toBe(5);
    expect(await r.popAsync()).toBe(6);
    expect(() => r.pop()).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('matches a queue model under random bulk operations', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 10 })), { maxLength: 80 }), (ops) => {
        const r = new MpmcRing(8);
        const model: number[] = [];
        let next = 0;
        const out = new Uint32Array(10);
        for (const [push, n] of ops) {
          if (push) {
            const src = Array.from({ length: n }, (_, i) => next + i);
            const k = r.pushBulk(src);
            expect(k).toBe(Math.min(n, 8 - model.length));
            model.push(...src.slice(0, k));
            next += k;
          } else {
            const k = r.popBulk(out, 0, n);
            expect(Array.from(out.subarray(0, k))).toEqual(model.splice(0, k));
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
