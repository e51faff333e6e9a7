#!/usr/bin/env node
// Full-size stress runs of issue 6 (too slow for every `npm test` on 2 cores, so the suite runs 10^6):
//   SpscRing: 10^8 items, one producer thread → one consumer thread, every item checked in sequence.
//   MpmcRing: 10^8 items, 2 producers × 2 consumers; per-producer order and exactly-once via a shared bitmap.
//   RingBuffer: 10^7 variable-length records between two threads, byte-exact and in order.
//   PacketPool: two threads acquire/release; no buffer is ever held by two threads.
//   ParallelPacketEngine: 10^7 synthetic packets, 2 workers; per-flow counts equal the construction and
//   every flow stays on one worker — through the copying dispatcher and with zero-copy batches.
// Usage: npx tsc -p . && node scripts/stress-rings.mjs [--items N] [--packets N] [--only spsc,mpmc,bytes,pool,engine,engine-zero-copy]
import { pathToFileURL, fileURLToPath } from 'node:url';
import { dirname, join } from 'node:path';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const args = process.argv.slice(2);
const opt = (name, dflt) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
};
const items = Number(opt('items', 1e8));
const packets = Number(opt('packets', 1e7));
const only = new Set(opt('only', 'spsc,mpmc,bytes,pool,engine,engine-zero-copy').split(','));
const { assertBuilt, spscStress, mpmcStress, poolStress, ringBufferStress } = await import(pathToFileURL(join(root, 'test/ring/stress-run.mjs')).href);
assertBuilt();
let failed = false;
const report = (name, ok, detail) => {
  if (!ok) failed = true;
  console.log(`${ok ? 'PASS' : 'FAIL'}  ${name}  ${JSON.stringify(detail)}`);
};

if (only.has('spsc')) {
  const r = await spscStress(items, { capacity: 4096, chunk: 256 });
  report(`SpscRing ${items.toExponential()} items`, r.cons.received === items && r.cons.errors === 0 && r.cons.extra === 0, {
    ...r.cons,
    seconds: +r.seconds.toFixed(2),
    itemsPerSecond: Math.round(items / r.seconds),
  });
}
if (only.has('mpmc')) {
  const per = Math.floor(items / 2);
  const r = await mpmcStress(per, { producers: 2, consumers: 2, capacity: 4096, chunk: 128 });
  report(
    `MpmcRing ${(per * 2).toExponential()} items, 2 producers × 2 consumers`,
    r.pushed === per * 2 && r.received === per * 2 && r.reordered === 0 && r.duplicates === 0 && r.marked === per * 2,
    { ...r, seconds: +r.seconds.toFixed(2), itemsPerSecond: Math.round((per * 2) / r.seconds) },
  );
}
if (only.has('bytes')) {
  const n = Math.floor(items / 10);
  const r = await ringBufferStress(n, { capacity: 1 << 16 });
  report(`RingBuffer ${n.toExponential()} variable-length records`, r.cons.received === n && r.cons.errors === 0 && r.cons.extra === -1, {
    ...r.cons,
    seconds: +r.seconds.toFixed(2),
  });
}
if (only.has('pool')) {
  const r = await poolStress(Math.max(1, Math.floor(items / 400)), { threads: 2, count: 64 });
  report('PacketPool, 2 threads', r.results.every((t) => t.twice === 0 && t.corrupted === 0) && r.available === r.count, r);
}
for (const zeroCopy of [false, true]) {
  if (!only.has(zeroCopy ? 'engine-zero-copy' : 'engine')) continue;
  const dist = (p) => import(pathToFileURL(join(root, 'dist/src', p)).href);
  const { ParallelPacketEngine, flowKeyString } = await dist('parallel/index.js');
  const { PacketBatch } = await dist('batch.js');
  const { formatIpAddressBytes } = await dist('wire/address.js');
  const { makeFlows, trafficPlan, writeFrame, headerLength, arpFrame } = await import(pathToFileURL(join(root, 'test/parallel/synth.mjs')).href);
  const flows = makeFlows(20000, 99);
  const plan = trafficPlan(flows, packets, 42);
  const lenOf = (f, k) => Math.max(64, headerLength(f)) + (k % 3) * 37;
  const engine = new ParallelPacketEngine(2, 32 << 20, { bufSize: 256 });
  const zb = zeroCopy ? engine.createBatch({ capacity: 250000, byteCapacity: 250000 * 256 }) : null;
  const got = new Map();
  const seenOn = new Map();
  let moved = 0;
  const chunk = 250000;
  const t0 = performance.now();
  for (let start = 0; start < packets; start += chunk) {
    const end = Math.min(packets, start + chunk);
    const batch = zb ?? new PacketBatch({ capacity: end - start, byteCapacity: (end - start) * 256 });
    batch.clear();
    for (let i = start; i < end; i++) {
      const k = plan.order[i];
      if (k < 0) {
        batch.push(arpFrame());
        continue;
      }
      const len = lenOf(flows[k], k);
      writeFrame(flows[k], batch.reserve(len).view, 0, len, i);
    }
    const r = await engine.processBatch(batch);
    for (const fl of r.flows) {
      const w = seenOn.get(fl.key);
      if (w !== undefined && w !== fl.worker) moved++;
      seenOn.set(fl.key, fl.worker);
      const g = got.get(fl.key) ?? { packets: 0, bytes: 0 };
      g.packets += fl.packets;
      g.bytes += fl.bytes;
      got.set(fl.key, g);
    }
  }
  const seconds = (performance.now() - t0) / 1000;
  let mismatches = 0;
  let expectedFlows = 0;
  flows.forEach((f, k) => {
    const c = plan.counts[k];
    if (c === 0) return;
    expectedFlows++;
    const key = flowKeyString(f.v, f.proto, formatIpAddressBytes(f.src), formatIpAddressBytes(f.dst), f.sport, f.dport);
    const g = got.get(key);
    if (!g || g.packets !== c || g.bytes !== c * lenOf(f, k)) mismatches++;
  });
  const stats = await engine.close();
  report(
    `ParallelPacketEngine ${packets.toExponential()} packets, 2 workers${zeroCopy ? ', zero-copy batches' : ''}`,
    mismatches === 0 && got.size === expectedFlows && moved === 0 && stats.processed === packets && stats.dropped === 0,
    { flows: got.size, expectedFlows, mismatches, flowsThatChangedWorker: moved, processed: stats.processed, perWorker: stats.perWorker.map((w) => w.packets), seconds: +seconds.toFixed(2) },
  );
}
process.exit(failed ? 1 : 0);
