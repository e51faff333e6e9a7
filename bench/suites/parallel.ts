// ParallelPacketEngine throughput at 64 B: parse + flow statistics with 1 and 2 workers (+ an eBPF filter),
// through the copying dispatcher (Uint8Array[] / any PacketBatch) and zero-copy (a batch from createBatch()),
// and, to explain the scaling, the two halves of the per-packet work measured alone on one thread: the
// dispatcher's (RSS hash + copy into the pool) and a worker's (parse + flow-table update).
import { PacketBatch } from '../../src/batch.js';
import { FlowTable, ParallelPacketEngine, frameRssHash, locateFlowTuple, toeplitzHasher } from '../../src/parallel/index.js';
import { PacketPool } from '../../src/ring/index.js';
import { defineSuite, type BenchCase } from '../harness.js';

const PACKETS = 1 << 16;
const FLOWS = 1024;

/** 64-byte UDP/IPv4 frames of FLOWS flows, round robin, back to back in one batch (as a capture delivers them). */
function makeBatch(): PacketBatch {
  const b = new PacketBatch({ capacity: PACKETS, byteCapacity: PACKETS * 64 });
  for (let i = 0; i < PACKETS; i++) {
    const f = i % FLOWS;
    const { view: p } = b.reserve(64);
    p.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2, 0x08, 0x00, 0x45, 0, 0, 50, 0, 0, 0x40, 0, 64, 17], 0);
    p.set([10, 1, f >> 8, f & 0xff, 192, 168, 0, 1, (f * 7) >> 8, (f * 7) & 0xff, 0, 53, 0, 30], 26);
  }
  return b;
}

const engines: ParallelPacketEngine[] = [];
let sink = 0;

export default defineSuite({
  name: 'parallel',
  description: `ParallelPacketEngine, 64-byte frames, ${FLOWS} flows, 1 op = processBatch of ${PACKETS} packets`,
  cases(): BenchCase[] {
    const batch = makeBatch();
    const cases: BenchCase[] = [];
    const mk = (workers: number, filter?: { expression: string }) => {
      const e = new ParallelPacketEngine(workers, 32 << 20, { bufSize: 128, filter });
      engines.push(e);
      return () => e.processBatch(batch).then((r) => {
        sink ^= r.packets;
      });
    };
    cases.push({
      name: 'engine: parse + flow stats, 64 B',
      unit: 'packets',
      perOp: PACKETS,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mk(1) },
        { name: '2 workers', fnAsync: mk(2) },
      ],
    });
    const mkZero = (workers: number, filter?: { expression: string }) => {
      const e = new ParallelPacketEngine(workers, 1 << 20, { bufSize: 128, filter });
      engines.push(e);
      const zb = e.createBatch({ capacity: PACKETS, byteCapacity: PACKETS * 64 });
      for (const p of batch) zb.push(p);
      return () => e.processBatch(zb).then((r) => {
        sink ^= r.packets;
      });
    };
    cases.push({
      name: 'engine zero-copy (createBatch): parse + flow stats, 64 B',
      unit: 'packets',
      perOp: PACKETS,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mkZero(1) },
        { name: '2 workers', fnAsync: mkZero(2) },
      ],
    });
    cases.push({
      name: 'engine zero-copy: + eBPF filter "udp" (JS JIT), 64 B',
      unit: 'packets',
      perOp: PACKETS,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mkZero(1, { expression: 'udp' }) },
        { name: '2 workers', fnAsync: mkZero(2, { expression: 'udp' }) },
      ],
    });
    cases.push({
      name: 'engine: + eBPF filter "udp" (JS JIT), 64 B',
      unit: 'packets',
      perOp: PACKETS,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mk(1, { expression: 'udp' }) },
        { name: '2 workers', fnAsync: mk(2, { expression: 'udp' }) },
      ],
    });

    // The dispatcher's share, alone: RSS hash and a 64-byte copy into a pool buffer per packet.
    const pool = new PacketPool(PACKETS, 128);
    const hasher = toeplitzHasher();
    const tuple = new Int32Array(4);
    cases.push({
      name: 'dispatcher work alone (RSS hash + copy into pool), one thread',
      unit: 'packets',
      perOp: PACKETS,
      variants: [
        {
          name: 'ts',
          fn: () => {
            // The same 32-bit word copy the engine's dispatcher uses for small aligned packets.
            const slab = pool.slab;
            const dst = new Int32Array(slab.buffer, slab.byteOffset, slab.byteLength >>> 2);
            const src = new Int32Array(batch.data.buffer, batch.data.byteOffset, batch.data.byteLength >>> 2);
            for (let i = 0; i < PACKETS; i++) {
              const s0 = batch.offsets[i]! >>> 2;
              const d0 = i * 32;
              for (let k = 0; k < 16; k++) dst[d0 + k] = src[s0 + k]!;
              sink ^= frameRssHash(hasher, slab, i * 128, 64, tuple);
            }
          },
        },
      ],
    });
    // A worker's share, alone: locate the tuple and update the flow table.
    const table = new FlowTable(4096);
    cases.push({
      name: 'worker work alone (parse + flow-table update), one thread',
      unit: 'packets',
      perOp: PACKETS,
      variants: [
        {
          name: 'ts',
          fn: () => {
            const data = batch.data;
            for (let i = 0; i < PACKETS; i++) {
              const off = batch.offsets[i]!;
              if (locateFlowTuple(data, off, 64, tuple) !== 0) table.record(data, tuple, i % FLOWS, 64, 1);
            }
          },
        },
      ],
    });
    return cases;
  },
  async teardown() {
    await Promise.all(engines.splice(0).map((e) => e.close()));
    if (sink === 0.5) console.log(sink);
  },
});
