import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RingBuffer } from '../../src/ring/index.js';

describe('RingBuffer (guide byte stream)', () => {
  it('writes and reads variable-length records in order, across the wrap', () => {
    const ring = new RingBuffer(64);
    const buf = new Uint8Array(64);
    for (let round = 0; round < 50; round++) {
      const a = Uint8Array.from({ length: (round * 7) % 23 }, (_, i) => (i + round) & 0xff);
      const b = Uint8Array.from({ length: (round * 5) % 19 }, (_, i) => (i * 3 + round) & 0xff);
      ring.write(a);
      ring.write(b);
      expect(ring.read(buf)).toBe(a.length);
      expect(buf.subarray(0, a.length)).toEqual(a);
      expect(ring.read(buf)).toBe(b.length);
      expect(buf.subarray(0, b.length)).toEqual(b);
      expect(ring.read(buf)).toBe(-1);
    }
  });

  it('BUFFER_FULL when full or too big; a short read buffer leaves the record in place', () => {
    const ring = new RingBuffer(32);
    expect(() => ring.write(new Uint8Array(29))).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }));
    ring.write(new Uint8Array(20));
    expect(ring.tryWrite(new Uint8Array(8))).toBe(false);
    expect(() => ring.write(new Uint8Array(8))).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }));
    expect(ring.tryWrite(new Uint8Array(4))).toBe(true);
    expect(() => ring.read(new Uint8Array(10))).toThrow(expect.objectContaining({ code: 'BUFFER_FULL', detail: expect.objectContaining({ needed: 20 }) }));
    expect(ring.peekLength()).toBe(20);
    expect(ring.readRecord()?.length).toBe(20);
    expect(ring.readRecord()?.length).toBe(4);
    expect(ring.readRecord()).toBeNull();
    expect(() => new RingBuffer(4)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });

  it('RingBuffer.attach(ring.sharedBuffer) opens the same ring; close drains then fails', async () => {
    const ring = new RingBuffer(1 << 10);
    const other = RingBuffer.attach(ring.sharedBuffer);
    ring.write(Uint8Array.of(1, 2, 3));
    const buf = new Uint8Array(8);
    expect(other.read(buf)).toBe(3);
    const pending = other.readAsync(buf, 5000);
    setTimeout(() => ring.write(Uint8Array.of(9)), 5);
    expect(await pending).toBe(1);
    ring.write(Uint8Array.of(7));
    ring.close();
    expect(() => ring.write(Uint8Array.of(1))).toThrow(expect.objectContaining({ code: 'CLOSED' }));
    expect(other.readBlocking(buf, 10)).toBe(1);
    expect(() => other.readBlocking(buf, 10)).toThrow(expect.objectContaining({ code: 'CLOSED' }));
  });

  it('matches a queue model for random records', () => {
    fc.assert(
      fc.property(fc.array(fc.oneof(fc.uint8Array({ maxLength: 40 }), fc.constant(null)), { maxLength: 60 }), (ops) => {
        const ring = new RingBuffer(128);
        const model: Uint8Array[] = [];
        const buf = new Uint8Array(128);
        for (const op of ops) {
          if (op) {
            if (ring.tryWrite(op)) model.push(op);
            else expect(ring.used + 4 + ((op.length + 3) & ~3)).toBeGreaterThan(128);
          } else {
            const n = ring.read(buf);
            const m = model.shift();
            if (!m) expect(n).toBe(-1);
            else expect(buf.slice(0, n)).toEqual(m);
          }
        }
      }),
      { numRuns: 200 },
    );
  });
});
