// Drivers for the ring stress runs: each spawns worker threads over one shared ring and collects their
// sequence checks. Used by the test suite (10^6 items) and scripts/stress-rings.mjs (10^8).
import { Worker } from 'node:worker_threads';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { existsSync } from 'node:fs';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const distRingPath = join(root, 'dist', 'src', 'ring', 'index.js');
export const distRing = pathToFileURL(distRingPath).href;

export function assertBuilt() {
  if (!existsSync(distRingPath)) throw new Error(`${distRingPath} missing: run \`npx tsc -p .\` first`);
}

function run(data) {
  return new Promise((resolve, reject) => {
    const w = new Worker(join(here, 'stress-worker.mjs'), { workerData: { distRing, chunk: 256, ...data } });
    let result;
    w.once('message', (m) => (result = m));
    w.once('error', reject);
    w.once('exit', (code) => (code === 0 && result ? resolve(result) : reject(new Error(`stress worker exited with ${code}`))));
  });
}

export async function spscStress(count, { capacity = 4096, chunk = 256 } = {}) {
  const { SpscRing } = await import(distRing);
  const ring = new SpscRing(capacity);
  const t0 = performance.now();
  const [prod, cons] = await Promise.all([
    run({ role: 'producer', kind: 'spsc', ring: ring.sharedBuffer, count, chunk }),
    run({ role: 'consumer', kind: 'spsc', ring: ring.sharedBuffer, count, chunk }),
  ]);
  return { prod, cons, seconds: (performance.now() - t0) / 1000 };
}

export async function mpmcStress(perProducer, { producers = 2, consumers = 2, capacity = 4096, chunk = 64 } = {}) {
  const { MpmcRing } = await import(distRing);
  if (perProducer >= 1 << 28) throw new Error('perProducer must be < 2^28');
  const ring = new MpmcRing(capacity);
  const done = new SharedArrayBuffer(4);
  const seen = new SharedArrayBuffer(Math.ceil((producers * perProducer) / 32) * 4 + 4);
  const t0 = performance.now();
  const jobs = [];
  for (let p = 0; p < producers; p++) jobs.push(run({ role: 'producer', kind: 'mpmc', ring: ring.sharedBuffer, count: perProducer, producer: p, producers, done, chunk }));
  for (let c = 0; c < consumers; c++) jobs.push(run({ role: 'consumer', kind: 'mpmc', ring: ring.sharedBuffer, count: perProducer, producers, done, seen, chunk }));
  const results = await Promise.all(jobs);
  const seconds = (performance.now() - t0) / 1000;
  const bits = new Int32Array(seen);
  let marked = 0;
  for (let i = 0; i < bits.length; i++) {
    let x = bits[i] >>> 0;
    while (x) {
      x &= x - 1;
      marked++;
    }
  }
  const cons = results.slice(producers);
  return {
    pushed: results.slice(0, producers).reduce((a, r) => a + r.pushed, 0),
    received: cons.reduce((a, r) => a + r.received, 0),
    reordered: cons.reduce((a, r) => a + r.reordered, 0),
    duplicates: cons.reduce((a, r) => a + r.duplicates, 0),
    marked,
    seconds,
  };
}

export async function poolStress(rounds, { threads = 2, count = 64, bufSize = 256 } = {}) {
  const { PacketPool } = await import(distRing);
  const pool = new PacketPool(count, bufSize);
  const owners = new SharedArrayBuffer(count * 4);
  const results = await Promise.all(Array.from({ length: threads }, (_, t) => run({ role: 'pool', pool: pool.sharedBuffer, owners, tid: t + 1, rounds })));
  return { results, available: pool.available, count };
}

export async function ringBufferStress(count, { capacity = 4096 } = {}) {
  const { RingBuffer } = await import(distRing);
  const rb = new RingBuffer(capacity);
  const t0 = performance.now();
  const [prod, cons] = await Promise.all([
    run({ role: 'bytes-producer', ring: rb.sharedBuffer, count }),
    run({ role: 'bytes-consumer', ring: rb.sharedBuffer, count }),
  ]);
  return { prod, cons, seconds: (performance.now() - t0) / 1000 };
}
