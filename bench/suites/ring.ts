// Rings across two threads: the main thread produces, a worker thread consumes (compiled rings from dist/).
// Index hand-off (single and bulk), 64-byte slot copies, the guide's RingBuffer with 64-byte records, and
// PacketPool acquire/release pairs. One op = 2^20 items handed over and consumed.
import { Worker } from 'node:worker_threads';
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { MpmcRing, PacketPool, RingBuffer, SpscRing } from '../../src/ring/index.js';
import { defineSuite, type BenchCase } from '../harness.js';

const ITEMS = 1 << 18;
const here = dirname(fileURLToPath(import.meta.url));
const ringModule = pathToFileURL(join(here, '..', '..', 'src', 'ring', 'index.js')).href;

// The consumer: pops until told to stop, publishing how many items it has taken (ctl[0]).
const consumerSource = `
const { workerData } = require('node:worker_threads');
import(workerData.ringModule).then(({ SpscRing, MpmcRing, RingBuffer }) => {
  const { kind, buffer, ctl: ctlBuf } = workerData;
  const ctl = new Int32Array(ctlBuf);
  const buf = new Uint32Array(256);
  const rec = new Uint8Array(64);
  let taken = 0;
  if (kind === 'spsc-single' || kind === 'spsc-bulk') {
    const r = SpscRing.attach(buffer);
    const bulk = kind === 'spsc-bulk';
    let sum = 0;
    while (Atomics.load(ctl, 1) === 0) {
      if (bulk) {
        const n = r.popBulk(buf, 0, 256);
        if (n === 0) { r.waitForData(100); continue; }
        for (let i = 0; i < n; i++) sum += buf[i];
        taken += n;
      } else {
        const v = r.tryPop();
        if (v < 0) { r.waitForData(100); continue; }
        sum += v;
        taken++;
      }
      Atomics.store(ctl, 0, taken);
    }
    ctl[2] = sum;
  } else if (kind === 'mpmc-bulk') {
    const r = MpmcRing.attach(buffer);
    while (Atomics.load(ctl, 1) === 0) {
      const n = r.popBulk(buf, 0, 256);
      if (n === 0) { r.waitForData(100); continue; }
      taken += n;
      Atomics.store(ctl, 0, taken);
    }
  } else if (kind === 'spsc-slot') {
    const r = SpscRing.attach(buffer);
    while (Atomics.load(ctl, 1) === 0) {
      if (!r.tryPopSlot(rec)) { r.waitForData(100); continue; }
      taken++;
      if ((taken & 63) === 0) Atomics.store(ctl, 0, taken);
    }
  } else if (kind === 'spsc-slots-bulk') {
    const r = SpscRing.attach(buffer);
    const block = new Uint8Array(64 * 64);
    while (Atomics.load(ctl, 1) === 0) {
      const n = r.popSlots(block, 64);
      if (n === 0) { r.waitForData(100); continue; }
      taken += n;
      Atomics.store(ctl, 0, taken);
    }
  } else if (kind === 'bytes') {
    const r = RingBuffer.attach(buffer);
    while (Atomics.load(ctl, 1) === 0) {
      if (r.read(rec) < 0) { r.waitForData(100); continue; }
      taken++;
      if ((taken & 63) === 0) Atomics.store(ctl, 0, taken);
    }
  }
});
`;

interface Consumer {
  ctl: Int32Array;
  worker: Worker;
  ring: { close(): void };
}

const consumers: Consumer[] = [];

// Idle consumers sleep in Atomics.wait (waitForData), so they do not steal the core other cases measure on.
function startConsumer(kind: string, ring: { sharedBuffer: SharedArrayBuffer; close(): void }): Consumer {
  const buffer = ring.sharedBuffer;
  const ctl = new Int32Array(new SharedArrayBuffer(16));
  const worker = new Worker(consumerSource, { eval: true, workerData: { kind, buffer, ctl: ctl.buffer, ringModule } });
  worker.unref();
  const c = { ctl, worker, ring };
  consumers.push(c);
  return c;
}

/** Spins until the consumer has taken `target` items in total. */
function awaitTaken(c: Consumer, target: number): void {
  while (Atomics.load(c.ctl, 0) < target);
}

let sink = 0;

export default defineSuite({
  name: 'ring',
  description: 'SAB rings across two threads (main produces, a worker consumes); 1 op = 2^18 items',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [];

    {
      const single = new SpscRing(4096);
      const bulk = new SpscRing(4096);
      const cs = startConsumer('spsc-single', single);
      const cb = startConsumer('spsc-bulk', bulk);
      const src = Uint32Array.from({ length: 256 }, (_, i) => i);
      let sentS = 0;
      let sentB = 0;
      cases.push({
        name: 'SpscRing index hand-off',
        unit: 'items',
        perOp: ITEMS,
        baseline: 'tryPush/tryPop',
        variants: [
          {
            name: 'bulk 256',
            fn: () => {
              let left = ITEMS;
              while (left > 0) left -= bulk.pushBulk(src, 0, left < 256 ? left : 256);
              sentB += ITEMS;
              awaitTaken(cb, sentB);
            },
          },
          {
            name: 'tryPush/tryPop',
            fn: () => {
              for (let i = 0; i < ITEMS; ) if (single.tryPush(i)) i++;
              sentS += ITEMS;
              awaitTaken(cs, sentS);
            },
          },
        ],
      });
    }

    {
      const ring = new SpscRing(1024, { slotBytes: 64 });
      const c = startConsumer('spsc-slot', ring);
      const bulkRing = new SpscRing(1024, { slotBytes: 64 });
      const cb = startConsumer('spsc-slots-bulk', bulkRing);
      const item = Uint8Array.from({ length: 64 }, (_, i) => i);
      const block = new Uint8Array(64 * 64).fill(7);
      let sent = 0;
      let sentB = 0;
      cases.push({
        name: 'SpscRing 64-byte slot copy in and out',
        unit: 'items',
        perOp: ITEMS,
        baseline: 'tryPushSlot/tryPopSlot',
        variants: [
          {
            name: 'pushSlots/popSlots 64',
            fn: () => {
              let left = ITEMS;
              while (left > 0) left -= bulkRing.pushSlots(block, left < 64 ? left : 64);
              sentB += ITEMS;
              awaitTaken(cb, sentB);
            },
          },
          {
            name: 'tryPushSlot/tryPopSlot',
            fn: () => {
              for (let i = 0; i < ITEMS; ) if (ring.tryPushSlot(item)) i++;
              sent += ITEMS;
              awaitTaken(c, sent);
            },
          },
        ],
      });
    }

    {
      const ring = new RingBuffer(1 << 16);
      const c = startConsumer('bytes', ring);
      const rec = new Uint8Array(64);
      let sent = 0;
      cases.push({
        name: 'RingBuffer 64-byte records (guide write/read)',
        unit: 'items',
        perOp: ITEMS,
        variants: [
          {
            name: 'tryWrite/read',
            fn: () => {
              for (let i = 0; i < ITEMS; ) if (ring.tryWrite(rec)) i++;
              sent += ITEMS;
              awaitTaken(c, sent);
            },
          },
        ],
      });
    }

    {
      const ring = new MpmcRing(4096);
      const c = startConsumer('mpmc-bulk', ring);
      const src = Uint32Array.from({ length: 256 }, (_, i) => i);
      let sent = 0;
      cases.push({
        name: 'MpmcRing index hand-off (1 producer, 1 consumer)',
        unit: 'items',
        perOp: ITEMS,
        variants: [
          {
            name: 'bulk 256',
            fn: () => {
              let left = ITEMS;
              while (left > 0) left -= ring.pushBulk(src, 0, left < 256 ? left : 256);
              sent += ITEMS;
              awaitTaken(c, sent);
            },
          },
        ],
      });
    }

    {
      const pool = new PacketPool(4096, 2048);
      const idx = new Uint32Array(64);
      cases.push({
        name: 'PacketPool acquire/release pairs (one thread)',
        unit: 'ops',
        perOp: 1024,
        baseline: 'acquire()/release(buf)',
        variants: [
          {
            name: 'acquireIndex/release(index)',
            fn: () => {
              for (let i = 0; i < 1024; i++) {
                const k = pool.acquireIndex();
                pool.release(k);
                sink ^= k;
              }
            },
          },
          {
            name: 'bulk 64',
            fn: () => {
              for (let i = 0; i < 1024; i += 64) {
                const n = pool.acquireBulk(idx, 0, 64);
                pool.releaseBulk(idx, 0, n);
              }
            },
          },
          {
            name: 'acquire()/release(buf)',
            fn: () => {
              for (let i = 0; i < 1024; i++) {
                const b = pool.acquire();
                pool.release(b);
              }
            },
          },
        ],
      });
    }
    return cases;
  },
  async teardown() {
    for (const c of consumers.splice(0)) {
      Atomics.store(c.ctl, 1, 1);
      c.ring.close();
      await c.worker.terminate();
    }
    if (sink === 0.5) console.log(sink);
  },
});
