import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { SpscRing } from '../../src/ring/index.js';
import { isNetworkError } from '../../src/errors.js';

describe('SpscRing (index ring)', () => {
  it('keeps head and tail on separate 64-byte lines and validates capacity', () => {
    expect(() => new SpscRing(3)).toThrow(/power of two/);
    expect(() => new SpscRing(0)).toThrow();
    const r = new SpscRing(8);
    const words = new Int32Array(r.sharedBuffer, 0, 96);
    r.tryPush(1);
    // TAIL lives at word 32 (byte 128), HEAD at word 16 (byte 64): different cache lines.
    expect(words[32]).toBe(1);
    expect(words[16]).toBe(0);
    r.tryPop();
    expect(words[16]).toBe(1);
  });

  it('is FIFO, reports full and empty, and carries full 32-bit values', () => {
    const r = new SpscRing(4);
    expect(r.tryPop()).toBe(-1);
    for (const v of [0, 1, 0xffffffff, 12345]) expect(r.tryPush(v)).toBe(true);
    expect(r.tryPush(9)).toBe(false);
    expect(r.size).toBe(4);
    expect([r.tryPop(), r.tryPop(), r.tryPop(), r.tryPop()]).toEqual([0, 1, 0xffffffff, 12345]);
    expect(r.tryPop()).toBe(-1);
  });

  it('bulk push/pop take what fits and wrap around', () => {
    const r = new SpscRing(8);
    const src = Uint32Array.from({ length: 20 }, (_, i) => i);
    expect(r.pushBulk(src, 0, 5)).toBe(5);
    const out = new Uint32Array(20);
    expect(r.popBulk(out, 0, 3)).toBe(3);
    expect(r.pushBulk(src, 5, 15)).toBe(6);
    expect(r.popBulk(out, 3)).toBe(8);
    expect(Array.from(out.subarray(0, 11))).toEqual([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
  });

  it('attach opens the same ring over the shared buffer', () => {
    const a = new SpscRing(16);
    const b = SpscRing.attach(a.sharedBuffer);
    expect(b.capacity).toBe(16);
    a.tryPush(42);
    expect(b.tryPop()).toBe(42);
    expect(() => SpscRing.attach(new SharedArrayBuffer(1024))).toThrow(/does not hold/);
  });

  it('blocking calls time out and closing wakes them with CLOSED', async () => {
    const r = new SpscRing(2, { spin: 10 });
    expect(() => r.pop(5)).toThrow(expect.objectContaining({ code: 'TIMEOUT' }));
    r.push(1);
    r.push(2);
    expect(() => r.push(3, 5)).toThrow(expect.objectContaining({ code: 'TIMEOUT' }));
    const waiting = r.waitForSpaceAsync(5000);
    r.close();
    expect(await waiting).toBe('closed');
    expect(() => r.push(4)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    // Items already in a closed ring still drain, then pop reports CLOSED.
    expect(r.pop()).toBe(1);
    expect(await r.popAsync()).toBe(2);
    await expect(r.popAsync()).rejects.toSatisfy((e: unknown) => isNetworkError(e, 'CLOSED'));
  });

  it('popAsync resolves when a later push arrives', async () => {
    const r = new SpscRing(4);
    const p = r.popAsync(5000);
    setTimeout(() => r.tryPush(7), 5);
    expect(await p).toBe(7);
  });

  it('matches a queue model under random operations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.record({ push: fc.array(fc.nat(), { maxLength: 12 }) }), fc.record({ pop: fc.integer({ min: 1, max: 12 }) })), { maxLength: 60 }),
        (ops) => {
          const r = new SpscRing(8);
          const model: number[] = [];
          const out = new Uint32Array(16);
          for (const op of ops) {
            if ('push' in op) {
              const n = r.pushBulk(op.push);
              expect(n).toBe(Math.min(op.push.length, 8 - model.length));
              model.push(...op.push.slice(0, n));
            } else {
              const n = r.popBulk(out, 0, op.pop);
              expect(Array.from(out.subarray(0, n))).toEqual(model.splice(0, n));
              expect(n).toBe(Math.min(op.pop, n + model.length));
            }
            expect(r.size).toBe(model.length);
          }
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe('SpscRing (slot ring)', () => {
  it.each([64, 12])('pushSlots/popSlots move runs of %i-byte slots around the wrap', (sb) => {
    const r = new SpscRing(8, { slotBytes: sb });
    const src = Uint8Array.from({ length: 20 * sb }, (_, i) => (i * 7) & 0xff);
    const out = new Uint8Array(20 * sb);
    expect(r.pushSlots(src, 5)).toBe(5);
    expect(r.popSlots(out, 3)).toBe(3);
    expect(r.pushSlots(src.subarray(5 * sb), 10)).toBe(6); // 2 left + 6 = full, wrapping
    expect(r.popSlots(out.subarray(3 * sb))).toBe(8);
    expect(out.subarray(0, 11 * sb)).toEqual(src.subarray(0, 11 * sb));
    expect(r.popSlots(out)).toBe(0);
  });

  it('copies fixed-size slots in and out, and offers zero-copy claim/peek', () => {
    const r = new SpscRing(4, { slotBytes: 64 });
    expect(r.slotStride).toBe(64);
    const a = Uint8Array.from({ length: 64 }, (_, i) => i);
    expect(r.tryPushSlot(a)).toBe(true);
    const off = r.tryClaimSlot();
    expect(off).toBe(64);
    r.slotData.fill(9, off, off + 64);
    r.publishSlot();
    const out = new Uint8Array(64);
    expect(r.tryPopSlot(out)).toBe(true);
    expect(out).toEqual(a);
    const p = r.tryPeekSlot();
    expect(r.slotData[p]).toBe(9);
    r.releaseSlot();
    expect(r.tryPeekSlot()).toBe(-1);
    expect(() => r.tryPushSlot(new Uint8Array(65))).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }));
    expect(() => new SpscRing(4).tryClaimSlot()).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
