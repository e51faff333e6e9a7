// ParallelPacketEngine throughput at 64 B: parse + flow statistics with 1 and 2 workers (+ an eBPF filter on
// the native x86-64 JIT and on the JS JIT),
// through the copying path (a PacketBatch not made by the engine: copied into staging batches, then processed
// like a zero-copy batch) and zero-copy (a batch from createBatch()), and, to explain the scaling, pieces of
// the per-packet work measured alone on one thread.
//
// Trustworthy numbers: every engine is warmed up (WARMUP batches, so the workers' code is optimised before
// the first sample) and one op is BATCHES_PER_OP processBatch calls of PACKETS packets (the batch size stays
// 65536; more packets per op only steadies the samples). Batches within an op run back to back, as a capture
// loop would submit them.
import { PacketBatch } from '../../src/batch.js';
import { FlowTable, ParallelPacketEngine, frameRssHash, locateFlowTuple, toeplitzHasher } from '../../src/parallel/index.js';
import { x64JitAvailable } from '../../src/ebpf/index.js';
import { PacketPool } from '../../src/ring/index.js';
import { defineSuite, type BenchCase } from '../harness.js';

const PACKETS = 1 << 16;
const FLOWS = 1024;
const BATCHES_PER_OP = 4;
const WARMUP = 24;

/** 64-byte UDP/IPv4 frames of FLOWS flows, round robin, back to back in one batch (as a capture delivers them). */
export function makeBatch(): PacketBatch {
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

/** A row's label names the filter's JIT: make sure the workers really run that one. */
function checkEngine(e: ParallelPacketEngine, filter?: { engine: string }): void {
  const ran = e.stats().filterEngine;
  if (filter && ran !== filter.engine) throw new Error(`bench: the workers run the filter on '${ran}', not '${filter.engine}'`);
}
let sink = 0;

/** One op: BATCHES_PER_OP batches through the engine, each awaited (its flows and counts are the result). */
async function run(e: ParallelPacketEngine, b: PacketBatch): Promise<void> {
  for (let k = 0; k < BATCHES_PER_OP; k++) {
    const r = await e.processBatch(b);
    sink ^= r.packets + r.flows.length;
  }
}

export default defineSuite({
  name: 'parallel',
  description: `ParallelPacketEngine, 64-byte frames, ${FLOWS} flows, 1 op = ${BATCHES_PER_OP} × processBatch of ${PACKETS} packets (after ${WARMUP} warm-up batches)`,
  async cases(): Promise<BenchCase[]> {
    const batch = makeBatch();
    const cases: BenchCase[] = [];
    const warm: (() => Promise<void>)[] = [];
    const mk = (workers: number, filter?: { expression: string; engine: string }) => {
      const e = new ParallelPacketEngine(workers, 32 << 20, { bufSize: 128, filter });
      engines.push(e);
      warm.push(async () => {
        for (let k = 0; k < WARMUP; k++) await e.processBatch(batch);
        checkEngine(e, filter);
      });
      return () => run(e, batch);
    };
    cases.push({
      name: 'engine (copying a PacketBatch): parse + flow stats, 64 B',
      unit: 'packets',
      perOp: PACKETS * BATCHES_PER_OP,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mk(1) },
        { name: '2 workers', fnAsync: mk(2) },
      ],
    });
    const mkZero = (workers: number, filter?: { expression: string; engine: string }) => {
      const e = new ParallelPacketEngine(workers, 1 << 20, { bufSize: 128, filter });
      engines.push(e);
      const zb = e.createBatch({ capacity: PACKETS, byteCapacity: PACKETS * 64 });
      for (const p of batch) zb.push(p);
      warm.push(async () => {
        for (let k = 0; k < WARMUP; k++) await e.processBatch(zb);
        checkEngine(e, filter);
      });
      return () => run(e, zb);
    };
    cases.push({
      name: 'engine zero-copy (createBatch): parse + flow stats, 64 B',
      unit: 'packets',
      perOp: PACKETS * BATCHES_PER_OP,
      baseline: '1 worker',
      variants: [
        { name: '1 worker', fnAsync: mkZero(1) },
        { name: '2 workers', fnAsync: mkZero(2) },
      ],
    });
    // The filter stage on each JIT, named explicitly (without `engine` the workers follow the backend: the
    // native JIT when the addon is loaded). The native rows exist only where the x86-64 JIT can run.
    const jits: { engine: 'native' | 'js'; label: string }[] = [
      ...(x64JitAvailable() ? [{ engine: 'native' as const, label: 'native x86-64 JIT' }] : []),
      { engine: 'js', label: 'JS JIT' },
    ];
    for (const [path, make] of [['engine zero-copy', mkZero], ['engine (copying)', mk]] as const) {
      for (const { engine, label } of jits) {
        cases.push({
          name: `${path}: + eBPF filter "udp" (${label}), 64 B`,
          unit: 'packets',
          perOp: PACKETS * BATCHES_PER_OP,
          baseline: '1 worker',
          variants: [
            { name: '1 worker', fnAsync: make(1, { expression: 'udp', engine }) },
            { name: '2 workers', fnAsync: make(2, { expression: 'udp', engine }) },
          ],
        });
      }
    }

    // Warm every engine before the first sample (they run one after another: the machine has 2 cores).
    for (const w of warm) await w();

    // The pool path's dispatcher (send() and policy 'drop'), alone: RSS hash and a 64-byte copy into a pool
    // buffer per packet. processBatch under 'block' no longer does this on the calling thread.
    const pool = new PacketPool(PACKETS, 128);
    const hasher = toeplitzHasher();
    const tuple = new Int32Array(4);
    cases.push({
      name: 'pool-path dispatcher work alone (RSS hash + copy into pool), one thread',
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
    // A worker's share of a zero-copy batch, alone: the RSS hash of each packet (phase 1, split over the
    // workers), then locating the tuple and updating the flow table (phase 2, each worker its own packets).
    const hashes = new Uint32Array(PACKETS);
    cases.push({
      name: 'worker work alone (RSS hash of each packet), one thread',
      unit: 'packets',
      perOp: PACKETS,
      variants: [
        {
          name: 'ts',
          fn: () => {
            const data = batch.data;
            for (let i = 0; i < PACKETS; i++) hashes[i] = frameRssHash(hasher, data, batch.offsets[i]!, 64, tuple);
            sink ^= hashes[PACKETS - 1]!;
          },
        },
      ],
    });
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
