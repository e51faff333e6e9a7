import { PacketBatch } from '../../src/batch.js';
import { checksumBatch, internetChecksum } from '../../src/wire/checksum.js';
import { nativeAddon } from '../../src/native.js';
import { backendVariants, defineSuite, type BenchCase } from '../harness.js';

function bytes(n: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 131 + 7) & 0xff;
  return b;
}

let sink = 0;

export default defineSuite({
  name: 'checksum',
  description: 'RFC 1071 Internet checksum',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [];
    for (const size of [64, 1500, 65536]) {
      const buf = bytes(size);
      cases.push({
        name: `checksum ${size} B`,
        unit: 'bytes',
        perOp: size,
        variants: backendVariants(() => () => {
          sink ^= internetChecksum(buf);
        }),
      });
    }
    if (nativeAddon) {
      // The cost of the AVX2 path against the addon's own scalar loop.
      const buf = bytes(65536);
      const addon = nativeAddon;
      cases.push({
        name: 'checksum 65536 B, native scalar vs AVX2',
        unit: 'bytes',
        perOp: 65536,
        baseline: 'scalar',
        variants: [
          { name: 'avx2', setup: () => addon.checksumForceScalar(false), fn: () => { sink ^= addon.checksumSum(buf, 0, buf.length, 0); } },
          { name: 'scalar', setup: () => addon.checksumForceScalar(true), fn: () => { sink ^= addon.checksumSum(buf, 0, buf.length, 0); } },
        ],
      });
    }
    const batch = new PacketBatch({ capacity: 1024, byteCapacity: 1024 * 64 });
    const pkt = bytes(64);
    for (let i = 0; i < 1024; i++) batch.push(pkt);
    const out = new Uint16Array(1024);
    cases.push({
      name: 'checksumBatch 1024 × 64 B',
      unit: 'packets',
      perOp: 1024,
      variants: backendVariants(() => () => {
        checksumBatch(batch, out);
      }),
    });
    return cases;
  },
  teardown() {
    nativeAddon?.checksumForceScalar(false);
    if (sink === 0.5) console.log(sink);
  },
});
