// GRO merging interleaved TCP streams (64-byte and 1448-byte payloads; 1, 64 and 1024 flows) and GSO of
// 64 KiB segments into MSS 1448, both backends side by side (native = one N-API call per batch).
import { PacketBatch } from '../../src/batch.js';
import { GroContext, createOffloadMetaLane, gsoBatch } from '../../src/offload/index.js';
import { backendVariants, defineSuite, type BenchCase } from '../harness.js';

function tcpFrame(flow: number, seq: number, id: number, payload: number, psh: boolean): Uint8Array {
  const f = new Uint8Array(54 + payload);
  f.set([2, 0, 0, 0, 0, 2, 2, 0, 0, 0, 0, 1, 0x08, 0x00], 0);
  const ip = 14;
  const tot = 40 + payload;
  f.set([0x45, 0, tot >>> 8, tot & 0xff, id >>> 8, id & 0xff, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2], ip);
  let s = 0;
  for (let k = 0; k < 20; k += 2) s += (f[ip + k]! << 8) | f[ip + k + 1]!;
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  f[ip + 10] = ~s >>> 8 & 0xff;
  f[ip + 11] = ~s & 0xff;
  const t = 34;
  const sport = 10000 + flow;
  f.set([sport >>> 8, sport & 0xff, 0, 80, seq >>> 24, (seq >>> 16) & 0xff, (seq >>> 8) & 0xff, seq & 0xff, 0, 0, 0, 1, 0x50, psh ? 0x18 : 0x10, 0x10, 0], t);
  for (let k = 0; k < payload; k++) f[54 + k] = (k * 31 + flow) & 0xff;
  s = 10 + 1 + 10 + 2 + 6 + (20 + payload); // pseudo-header: addresses, protocol, TCP length
  for (let k = 0; k < 20 + payload; k += 2) s += (f[t + k]! << 8) | (t + k + 1 < f.length ? f[t + k + 1]! : 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  f[t + 16] = ~s >>> 8 & 0xff;
  f[t + 17] = ~s & 0xff;
  return f;
}

/** n segments spread round-robin over `flows` flows, each flow an in-order stream. */
function interleaved(n: number, flows: number, payload: number): PacketBatch {
  const per = n / flows;
  const frames: Uint8Array[] = [];
  for (let i = 0; i < per; i++) {
    for (let f = 0; f < flows; f++) frames.push(tcpFrame(f, 1000 + i * payload, i & 0xffff, payload, i === per - 1));
  }
  return PacketBatch.fromArray(frames);
}

export default defineSuite({
  name: 'offload',
  description: 'GRO (Linux rules) and GSO over PacketBatches',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [];
    for (const payload of [64, 1448]) {
      for (const flows of [1, 64, 1024]) {
        // 1024 packets per batch (16 per flow for 1024 flows): big enough to merge, small enough that a
        // batch of 1448-byte segments stays in cache as NIC-fed data would.
        const N = Math.max(1024, flows * 16);
        const input = interleaved(N, flows, payload);
        const output = new PacketBatch({ capacity: N, byteCapacity: input.bytesUsed + N * 64 });
        const meta = createOffloadMetaLane(N);
        cases.push({
          name: `GRO ${payload} B payload, ${flows} flow${flows > 1 ? 's' : ''}`,
          unit: 'packets',
          perOp: N,
          variants: backendVariants(() => {
            const gro = new GroContext({ maxFlows: Math.max(64, flows) });
            return () => {
              output.clear();
              gro.aggregateBatch(input, output, { now: 0, meta });
              gro.flushBatch(output, meta);
            };
          }),
        });
      }
    }
    const K = 16;
    const bigs: Uint8Array[] = [];
    for (let i = 0; i < K; i++) bigs.push(tcpFrame(i, 1000, 1, 65495, true));
    const gin = PacketBatch.fromArray(bigs);
    const gout = new PacketBatch({ capacity: K * 64, byteCapacity: K * 70000 });
    cases.push({
      name: `GSO 64 KiB → MSS 1448 (${K} per batch)`,
      unit: 'bytes',
      perOp: gin.bytesUsed,
      variants: backendVariants(() => () => {
        gout.clear();
        gsoBatch(gin, gout, 1448);
      }),
    });
    return cases;
  },
});
