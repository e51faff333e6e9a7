// fast-check fuzzing of both file readers: random, mutated and truncated inputs only ever raise
// NetworkError, never hang, and a cut file gives back every complete packet before TRUNCATED.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readFileSync } from 'node:fs';
import { Readable } from 'node:stream';
import { CaptureBufferReader, encodeCapture, openCapture } from '../../src/capture/index.js';
import { NetworkError, isNetworkError } from '../../src/errors.js';

const fixtures = ['lo-traffic.pcap', 'lo-traffic.pcapng', 'any-sll2-ns.pcap'].map((n) => new Uint8Array(readFileSync(new URL(`../fixtures/${n}`, import.meta.url))));

/** Reads everything; returns the packet count and the error (null at a clean end). */
function drainSync(bytes: Uint8Array): { n: number; err: unknown } {
  let n = 0;
  try {
    const r = new CaptureBufferReader(bytes);
    for (let p = r.next(); p; p = r.next()) {
      // Every packet is a view inside the input.
      if (p.data.buffer !== bytes.buffer || p.data.byteOffset + p.data.length > bytes.byteOffset + bytes.length) throw new Error('packet outside input');
      n++;
    }
    return { n, err: null };
  } catch (e) {
    return { n, err: e };
  }
}

async function drainAsync(bytes: Uint8Array, chunkSize: number): Promise<{ n: number; err: unknown }> {
  let n = 0;
  try {
    const r = await openCapture(Readable.from([bytes.subarray(0, 5), bytes.subarray(5)]), { chunkSize });
    for await (const b of r.batches()) n += b.length;
    return { n, err: null };
  } catch (e) {
    return { n, err: e };
  }
}

const onlyNetworkErrors = (err: unknown) => err === null || err instanceof NetworkError;

const headerPrefix = fc.constantFrom(
  Uint8Array.of(0xd4, 0xc3, 0xb2, 0xa1, 2, 0, 4, 0),
  Uint8Array.of(0xa1, 0xb2, 0x3c, 0x4d, 0, 2, 0, 4),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0),
  Uint8Array.of(0x0a, 0x0d, 0x0d, 0x0a, 0, 0, 0, 0x1c, 0x1a, 0x2b, 0x3c, 0x4d, 0, 1),
);

describe('capture readers under fuzzing', () => {
  it('random bytes after a valid magic: only NetworkError', () => {
    fc.assert(
      fc.property(headerPrefix, fc.uint8Array({ maxLength: 600 }), (head, tail) => {
        const bytes = new Uint8Array(head.length + tail.length);
        bytes.set(head);
        bytes.set(tail, head.length);
        expect(onlyNetworkErrors(drainSync(bytes).err)).toBe(true);
      }),
      { numRuns: 600 },
    );
  });

  it('mutated real captures: only NetworkError, sync and streaming agree', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...fixtures),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        async (file, edits) => {
          const bytes = file.slice();
          for (const [at, v] of edits) bytes[at % bytes.length] = v;
          const s = drainSync(bytes);
          expect(onlyNetworkErrors(s.err)).toBe(true);
          const a = await drainAsync(bytes, 4096);
          expect(onlyNetworkErrors(a.err)).toBe(true);
          expect(a.n).toBe(s.n);
          expect((a.err as NetworkError | null)?.code).toBe((s.err as NetworkError | null)?.code);
        },
      ),
      { numRuns: 150 },
    );
  });

  it('length fields set to extremes: only NetworkError, no huge allocation, no hang', () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...fixtures),
        fc.nat(),
        fc.constantFrom(0, 1, 3, 11, 12, 0x7fffffff, 0xffffffff, 0x04000000, 0x03fffff0),
        (file, at, value) => {
          const bytes = file.slice();
          const off = (at % (bytes.length >> 2)) << 2;
          new DataView(bytes.buffer).setUint32(off, value >>> 0, true);
          expect(onlyNetworkErrors(drainSync(bytes).err)).toBe(true);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('any prefix of a valid file: the complete packets, then TRUNCATED (or a clean end on a boundary)', async () => {
    const packetArb = fc.record({ data: fc.uint8Array({ maxLength: 200 }), tsSec: fc.integer({ min: 0, max: 2 ** 32 - 1 }), tsNsec: fc.integer({ min: 0, max: 999_999_999 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(packetArb, { maxLength: 8 }), fc.constantFrom('pcap' as const, 'pcapng' as const), fc.boolean(), fc.double({ min: 0, max: 1, noNaN: true }), async (pkts, format, nanosecond, frac) => {
        const file = encodeCapture(pkts, { format, nanosecond });
        const r = new CaptureBufferReader(file);
        const ends = [encodeCapture([], { format, nanosecond }).length];
        while (r.next()) ends.push(r.offset);
        const cut = Math.floor(frac * file.length);
        const complete = ends.slice(1).filter((e) => e <= cut).length;
        const s = drainSync(file.subarray(0, cut));
        expect(s.n).toBe(complete);
        if (!ends.includes(cut) && !(format === 'pcapng' && cut === 28 + 16)) expect(isNetworkError(s.err, 'TRUNCATED')).toBe(true);
        const a = await drainAsync(file.subarray(0, cut), 4096);
        expect(a.n).toBe(complete);
        expect((a.err as NetworkError | null)?.code).toBe((s.err as NetworkError | null)?.code);
      }),
      { numRuns: Number(process.env.FUZZ_RUNS ?? 200), seed: process.env.FUZZ_SEED ? Number(process.env.FUZZ_SEED) : undefined },
    );
  });
});
