// Worker body for the two-thread ring stress runs (test/ring/*.test.ts and scripts/stress-rings.mjs).
// Loads the compiled rings from dist/ (build first: `npx tsc -p .`).
import { workerData, parentPort } from 'node:worker_threads';

const { distRing, role, kind, ring: ringBuf, count, producer, producers, chunk, done, seen, pool: poolBuf, owners, tid, rounds } = workerData;
const { SpscRing, MpmcRing, PacketPool, RingBuffer } = await import(distRing);

function producerLoop(ring, base) {
  const buf = new Uint32Array(chunk);
  let next = 0;
  while (next < count) {
    const n = Math.min(chunk, count - next);
    for (let i = 0; i < n; i++) buf[i] = base + next + i;
    let off = 0;
    while (off < n) {
      const k = ring.pushBulk(buf, off, n - off);
      off += k;
      if (k === 0) ring.waitForSpace(50);
    }
    next += n;
  }
  return { pushed: next };
}

function spscConsumer(ring) {
  const buf = new Uint32Array(chunk);
  let expected = 0;
  let errors = 0;
  let firstError = null;
  while (expected < count) {
    const n = ring.popBulk(buf, 0, chunk);
    if (n === 0) {
      ring.waitForData(50);
      continue;
    }
    for (let i = 0; i < n; i++) {
      if (buf[i] !== expected) {
        errors++;
        if (!firstError) firstError = { at: expected, got: buf[i] };
        expected = buf[i];
      }
      expected++;
    }
  }
  // Nothing may follow the last item.
  const extra = ring.popBulk(buf, 0, chunk);
  return { received: expected, errors, firstError, extra };
}

// MPMC consumer: per producer the values it sees must increase (FIFO per producer), and every value is
// marked once in a shared bitmap (a second mark is a duplicate; an unmarked bit after the run is a loss).
function mpmcConsumer(ring) {
  const SHIFT = 28;
  const buf = new Uint32Array(chunk);
  const last = new Array(producers).fill(-1);
  const seenBits = new Int32Array(seen);
  const doneFlag = new Int32Array(done);
  let received = 0;
  let reordered = 0;
  let duplicates = 0;
  for (;;) {
    const n = ring.popBulk(buf, 0, chunk);
    if (n === 0) {
      if (Atomics.load(doneFlag, 0) === producers && ring.size === 0) break;
      ring.waitForData(20);
      continue;
    }
    received += n;
    for (let i = 0; i < n; i++) {
      const v = buf[i];
      const p = v >>> SHIFT;
      const s = v & ((1 << SHIFT) - 1);
      if (s <= last[p]) reordered++;
      last[p] = s;
      const bit = p * count + s;
      const old = Atomics.or(seenBits, bit >>> 5, 1 << (bit & 31));
      if (old & (1 << (bit & 31))) duplicates++;
    }
  }
  return { received, reordered, duplicates };
}

// Pool stress: acquire, claim ownership in a shared owners array (CAS 0 → tid must succeed, else the pool
// handed one buffer to two holders), scribble, check, clear, release.
function poolLoop(pool) {
  const own = new Int32Array(owners);
  let twice = 0;
  let corrupted = 0;
  let acquired = 0;
  const held = [];
  for (let r = 0; r < rounds; r++) {
    const want = 1 + (r % 7);
    for (let j = 0; j < want; j++) {
      const i = pool.acquireIndex();
      if (i < 0) break;
      acquired++;
      if (Atomics.compareExchange(own, i, 0, tid) !== 0) twice++;
      pool.slab[pool.offsetOf(i)] = tid;
      held.push(i);
    }
    while (held.length > 0) {
      const i = held.pop();
      if (pool.slab[pool.offsetOf(i)] !== tid || Atomics.load(own, i) !== tid) corrupted++;
      Atomics.store(own, i, 0);
      pool.release(i);
    }
  }
  return { acquired, twice, corrupted };
}

// RingBuffer: records of varying length (4..259 bytes): a 32-bit sequence number, then bytes derived from it.
function recordLength(seq) {
  return 4 + ((seq * 37) % 256);
}
function bytesProducer(rb) {
  const buf = new Uint8Array(260);
  const dv = new DataView(buf.buffer);
  for (let seq = 0; seq < count; seq++) {
    const n = recordLength(seq);
    dv.setUint32(0, seq);
    for (let j = 4; j < n; j++) buf[j] = (seq + j) & 0xff;
    rb.writeBlocking(buf.subarray(0, n));
  }
  return { pushed: count };
}
function bytesConsumer(rb) {
  const buf = new Uint8Array(260);
  const dv = new DataView(buf.buffer);
  let errors = 0;
  for (let seq = 0; seq < count; seq++) {
    const n = rb.readBlocking(buf);
    let ok = n === recordLength(seq) && dv.getUint32(0) === seq;
    for (let j = 4; ok && j < n; j++) ok = buf[j] === ((seq + j) & 0xff);
    if (!ok) errors++;
  }
  return { received: count, errors, extra: rb.read(buf) };
}

let result;
if (role === 'bytes-producer') {
  result = bytesProducer(RingBuffer.attach(ringBuf));
} else if (role === 'bytes-consumer') {
  result = bytesConsumer(RingBuffer.attach(ringBuf));
} else if (role === 'producer') {
  const ring = kind === 'spsc' ? SpscRing.attach(ringBuf) : MpmcRing.attach(ringBuf);
  result = producerLoop(ring, kind === 'spsc' ? 0 : producer << 28);
  if (done) {
    Atomics.add(new Int32Array(done), 0, 1);
  }
} else if (role === 'consumer') {
  const ring = kind === 'spsc' ? SpscRing.attach(ringBuf) : MpmcRing.attach(ringBuf);
  result = kind === 'spsc' ? spscConsumer(ring) : mpmcConsumer(ring);
} else {
  result = poolLoop(PacketPool.attach(poolBuf));
}
parentPort.postMessage(result);
