import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketPool } from '../../src/ring/index.js';

describe('PacketPool', () => {
  it('acquire → { index, view }, release, exhaustion', () => {
    const pool = new PacketPool(3, 1500);
    expect(pool.stride).toBe(1536);
    const a = pool.acquire();
    const b = pool.acquire();
    const c = pool.acquire();
    expect(new Set([a.index, b.index, c.index]).size).toBe(3);
    expect(a.view.length).toBe(1500);
    expect(pool.tryAcquire()).toBeNull();
    expect(() => pool.acquire()).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }));
    a.view[0] = 0xab;
    pool.release(a);
    const d = pool.acquire();
    expect(d.index).toBe(a.index);
    expect(d.view[0]).toBe(0xab); // same memory, no copy
    expect(pool.inUse).toBe(3);
  });

  it('detects a double release, including a stale release after the buffer was handed out again', () => {
    const pool = new PacketPool(2, 64);
    const a = pool.acquire();
    pool.release(a);
    expect(() => pool.release(a)).toThrow(expect.objectContaining({ code: 'DOUBLE_FREE' }));
    expect(() => pool.release(a.index)).toThrow(expect.objectContaining({ code: 'DOUBLE_FREE' }));
    const again = pool.acquire();
    const other = pool.acquire();
    const reused = again.index === a.index ? again : other;
    // The old handle's generation no longer matches: detected, and the new owner's reference is intact.
    expect(() => pool.release(a)).toThrow(expect.objectContaining({ code: 'DOUBLE_FREE' }));
    expect(pool.refCount(reused.index)).toBe(1);
    expect(() => pool.release(99)).toThrow(expect.objectContaining({ code: 'OUT_OF_BOUNDS' }));
  });

  it('reference counts: the buffer is freed when the last reference goes', () => {
    const pool = new PacketPool(1, 64);
    const a = pool.acquire();
    expect(pool.retain(a)).toBe(2);
    pool.release(a);
    expect(pool.tryAcquire()).toBeNull();
    pool.release(a);
    expect(pool.refCount(a.index)).toBe(0);
    expect(() => pool.retain(a.index)).toThrow(expect.objectContaining({ code: 'DOUBLE_FREE' }));
    expect(pool.tryAcquire()).not.toBeNull();
  });

  it('attach shares buffers, lengths and meta; bulk calls', async () => {
    const pool = new PacketPool(8, 128);
    const other = PacketPool.attach(pool.sharedBuffer);
    const idx = new Uint32Array(8);
    expect(pool.acquireBulk(idx, 0, 5)).toBe(5);
    pool.view(idx[0]!)[3] = 77;
    pool.lengths[idx[0]!] = 60;
    expect(other.view(idx[0]!)[3]).toBe(77);
    expect(other.lengths[idx[0]!]).toBe(60);
    other.releaseBulk(idx, 0, 5);
    expect(pool.available).toBe(8);
    expect(() => other.releaseBulk(idx, 0, 1)).toThrow(expect.objectContaining({ code: 'DOUBLE_FREE' }));
    const all = Array.from({ length: 8 }, () => pool.acquire());
    const waiting = pool.acquireAsync(5000);
    setTimeout(() => pool.release(all[3]!), 5);
    expect((await waiting).index).toBe(all[3]!.index);
    expect(() => pool.acquireBlocking(5)).toThrow(expect.objectContaining({ code: 'TIMEOUT' }));
  });

  it('never hands one buffer out twice (random single-thread model)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: -4, max: 4 }), { maxLength: 100 }), (ops) => {
        const pool = new PacketPool(5, 32);
        const held: number[] = [];
        for (const op of ops) {
          if (op > 0) {
            const i = pool.acquireIndex();
            if (held.length === 5) expect(i).toBe(-1);
            else {
              expect(held).not.toContain(i);
              held.push(i);
            }
          } else if (held.length > 0) {
            pool.release(held.splice(Math.abs(op) % held.length, 1)[0]!);
          }
          expect(pool.inUse).toBe(held.length);
        }
      }),
      { numRuns: 200 },
    );
  });
});
