import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Worker } from 'node:worker_threads';
import { PacketBatch } from '../src/batch.js';
import { NetworkError } from '../src/errors.js';

describe('PacketBatch', () => {
  it('pushes, gets views without copying, iterates and clears', () => {
    const b = new PacketBatch({ capacity: 4, byteCapacity: 64, timestamps: true, flowHashes: true, verdicts: true });
    expect(b.push(Uint8Array.of(1, 2, 3), 5n)).toBe(0);
    expect(b.push(Uint8Array.of(4, 5))).toBe(1);
    expect(b.length).toBe(2);
    expect(Array.from(b.get(0))).toEqual([1, 2, 3]);
    expect(b.offsets[1]! % 8).toBe(0);
    expect(b.timestamps![0]).toBe(5n);
    b.get(1)[0] = 9; // a view: writing through it changes the batch
    expect(Array.from(b.get(1))).toEqual([9, 5]);
    expect([...b].map((p) => p.length)).toEqual([3, 2]);
    b.clear();
    expect(b.length).toBe(0);
    expect(b.bytesUsed).toBe(0);
  });

  it('throws BUFFER_FULL when packets or bytes run out, and OUT_OF_BOUNDS for bad indices', () => {
    const b = new PacketBatch({ capacity: 2, byteCapacity: 16 });
    b.push(new Uint8Array(8));
    expect(() => b.push(new Uint8Array(9))).toThrow(expect.objectContaining({ code: 'BUFFER_FULL' }));
    b.push(new Uint8Array(8));
    expect(b.tryPush(new Uint8Array(0))).toBe(-1);
    expect(() => b.get(2)).toThrow(NetworkError);
    expect(() => b.get(-1)).toThrow(NetworkError);
    expect(() => new PacketBatch({ align: 3 })).toThrow(NetworkError);
  });

  it('fromArray round-trips any packets (fast-check)', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 200 }), { maxLength: 50 }), (pkts) => {
        const b = PacketBatch.fromArray(pkts);
        expect(b.toArray()).toEqual(pkts);
      }),
    );
  });

  it('attach reopens a shared batch in a worker thread without copying', async () => {
    const b = new PacketBatch({ capacity: 8, byteCapacity: 256, shared: true, verdicts: true });
    b.push(Uint8Array.of(10, 20, 30));
    b.push(Uint8Array.of(40));
    expect(b.shared).toBe(true);
    const url = new URL('../dist/src/batch.js', import.meta.url).href;
    const worker = new Worker(
      `const { workerData, parentPort } = require('node:worker_threads');
       import(workerData.url).then(({ PacketBatch }) => {
         const b = PacketBatch.attach(workerData.buffer);
         for (let i = 0; i < b.length; i++) b.verdicts[i] = b.get(i).reduce((a, x) => a + x, 0);
         b.get(0)[0] = 99;
         parentPort.postMessage(b.length);
       });`,
      { eval: true, workerData: { url, buffer: b.buffer } },
    );
    const n = await new Promise((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(n).toBe(2);
    expect(Array.from(b.verdicts!.subarray(0, 2))).toEqual([60, 40]);
    expect(b.get(0)[0]).toBe(99);
    expect(() => PacketBatch.attach(new ArrayBuffer(64))).toThrow(NetworkError);
  });

  it('a batch whose buffer was transferred away is a typed error, not an empty batch', () => {
    const b = PacketBatch.fromArray([Uint8Array.of(1, 2), Uint8Array.of(3)]);
    expect(b.length).toBe(2);
    structuredClone(b.buffer, { transfer: [b.buffer as ArrayBuffer] });
    expect(() => b.length).toThrowError(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
