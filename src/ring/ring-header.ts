// The header every ring in src/ring shares, and the spin-then-sleep waiting built on it.
//
// Layout (Int32 words, 64-byte cache lines of 16 words each) so that the producer-written index, the
// consumer-written index and the rarely written wait words never share a line (false sharing would make
// every push invalidate the consumer's cached line, the way DPDK's rte_ring keeps prod/cons apart):
//   line 0  [0..15]  MAGIC, KIND, CAPACITY, SLOT_BYTES, CLOSED, DATA_OFFSET
//   line 1  [16]     HEAD / dequeue position (written by the consumer side)
//   line 2  [32]     TAIL / enqueue position (written by the producer side)
//   line 3  [48..49] CONS_WAITERS, PROD_WAITERS (written only by a thread about to sleep)
//   line 4  [64]     DATA_EPOCH   (futex word consumers sleep on; bumped when data arrives and someone sleeps)
//   line 5  [80]     SPACE_EPOCH  (futex word producers sleep on)
import { NetworkError } from '../errors.js';

export const H_MAGIC = 0;
export const H_KIND = 1;
export const H_CAPACITY = 2;
export const H_SLOT_BYTES = 3;
export const H_CLOSED = 4;
export const H_DATA_OFFSET = 5;
export const H_HEAD = 16;
export const H_TAIL = 32;
export const H_CONS_WAITERS = 48;
export const H_PROD_WAITERS = 49;
export const H_DATA_EPOCH = 64;
export const H_SPACE_EPOCH = 80;
export const RING_HEADER_BYTES = 384;
export const RING_MAGIC = 0x52494e47; // 'RING'

/** Marks the internal constructor call `attach` makes. */
export const RING_ATTACH: unique symbol = Symbol('elysia-net.ring.attach');

export const KIND_SPSC = 1;
export const KIND_MPMC = 2;
export const KIND_BYTES = 3;

/** How a wait ended: data/space became available, the deadline passed, or the ring was closed. */
export type RingWaitResult = 'ok' | 'timed-out' | 'closed';

/** Spins this many probes before sleeping: a futex wake costs ~50 µs here, a spinning hand-off ~65 ns. */
export const DEFAULT_SPIN = 4096;

type WaitAsyncResult = { async: false; value: 'not-equal' | 'timed-out' } | { async: true; value: Promise<'ok' | 'timed-out'> };
type WaitAsyncFn = (a: Int32Array, index: number, value: number, timeout?: number) => WaitAsyncResult;
const waitAsyncFn: WaitAsyncFn | undefined = (Atomics as unknown as { waitAsync?: WaitAsyncFn }).waitAsync;

export function isPowerOfTwo(n: number): boolean {
  return Number.isInteger(n) && n > 0 && (n & (n - 1)) === 0;
}

export function nextPowerOfTwo(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

export function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

export function checkCapacity(capacity: number, max = 1 << 30): void {
  if (!isPowerOfTwo(capacity) || capacity > max) {
    throw new NetworkError('INVALID_ARGUMENT', `ring capacity must be a power of two in 1..${max}, got ${capacity}`, {
      field: 'capacity',
      actual: capacity,
    });
  }
}

export function initHeader(h: Int32Array, kind: number, capacity: number, slotBytes: number, dataOffset: number): void {
  h[H_KIND] = kind;
  h[H_CAPACITY] = capacity;
  h[H_SLOT_BYTES] = slotBytes;
  h[H_DATA_OFFSET] = dataOffset;
  Atomics.store(h, H_MAGIC, RING_MAGIC);
}

/** Validates a buffer handed to `attach` and returns its header words. */
export function readHeader(buffer: SharedArrayBuffer, byteOffset: number, kind: number, what: string): Int32Array {
  if (!(buffer instanceof SharedArrayBuffer)) {
    throw new NetworkError('INVALID_ARGUMENT', `${what}.attach needs a SharedArrayBuffer`, { field: 'buffer' });
  }
  if (byteOffset % 64 !== 0 || buffer.byteLength < byteOffset + RING_HEADER_BYTES) {
    throw new NetworkError('INVALID_ARGUMENT', `buffer too small to hold a ${what}`, { field: 'buffer', actual: buffer.byteLength });
  }
  const h = new Int32Array(buffer, byteOffset, RING_HEADER_BYTES / 4);
  if (Atomics.load(h, H_MAGIC) !== RING_MAGIC || h[H_KIND] !== kind) {
    throw new NetworkError('INVALID_ARGUMENT', `buffer does not hold a ${what}`, { field: 'buffer', expected: kind, actual: h[H_KIND] ?? 0 });
  }
  return h;
}

/** Wakes sleepers of one side if any registered; called after every publish (one SC load when nobody sleeps). */
export function wakeIfWaiting(h: Int32Array, waitersWord: number, epochWord: number): void {
  if (Atomics.load(h, waitersWord) !== 0) {
    Atomics.add(h, epochWord, 1);
    Atomics.notify(h, epochWord);
  }
}

/** Wakes every sleeper on both sides (close). */
export function wakeAll(h: Int32Array): void {
  Atomics.add(h, H_DATA_EPOCH, 1);
  Atomics.notify(h, H_DATA_EPOCH);
  Atomics.add(h, H_SPACE_EPOCH, 1);
  Atomics.notify(h, H_SPACE_EPOCH);
}

function now(): number {
  return performance.now();
}

/**
 * Spins, then sleeps with Atomics.wait until `ready()` holds. The sleeper registers in `waitersWord` before its
 * last check, and the other side bumps `epochWord` after publishing when it sees a registered sleeper: with
 * sequentially consistent atomics one of the two always sees the other (Dekker), so no wake-up is lost.
 */
export function blockUntil(h: Int32Array, ready: () => boolean, waitersWord: number, epochWord: number, timeoutMs: number, spin: number): RingWaitResult {
  for (let i = 0; i < spin; i++) {
    if (ready()) return 'ok';
    if (Atomics.load(h, H_CLOSED) !== 0) return ready() ? 'ok' : 'closed';
  }
  const deadline = timeoutMs === Infinity ? Infinity : now() + timeoutMs;
  for (;;) {
    Atomics.add(h, waitersWord, 1);
    const e = Atomics.load(h, epochWord);
    if (ready()) {
      Atomics.sub(h, waitersWord, 1);
      return 'ok';
    }
    if (Atomics.load(h, H_CLOSED) !== 0) {
      Atomics.sub(h, waitersWord, 1);
      return 'closed';
    }
    const left = deadline === Infinity ? Infinity : deadline - now();
    if (left <= 0) {
      Atomics.sub(h, waitersWord, 1);
      return 'timed-out';
    }
    Atomics.wait(h, epochWord, e, left);
    Atomics.sub(h, waitersWord, 1);
  }
}

/** The main-thread form of blockUntil: Atomics.waitAsync, so the event loop keeps running. */
export async function blockUntilAsync(h: Int32Array, ready: () => boolean, waitersWord: number, epochWord: number, timeoutMs: number): Promise<RingWaitResult> {
  const deadline = timeoutMs === Infinity ? Infinity : now() + timeoutMs;
  for (;;) {
    if (ready()) return 'ok';
    if (Atomics.load(h, H_CLOSED) !== 0) return ready() ? 'ok' : 'closed';
    Atomics.add(h, waitersWord, 1);
    const e = Atomics.load(h, epochWord);
    if (ready()) {
      Atomics.sub(h, waitersWord, 1);
      return 'ok';
    }
    const left = deadline === Infinity ? Infinity : deadline - now();
    if (left <= 0) {
      Atomics.sub(h, waitersWord, 1);
      return 'timed-out';
    }
    // Sleep in slices of at most 1 s so a pending waitAsync never outlives a ring nobody notifies.
    const slice = Math.min(left, 1000);
    try {
      if (waitAsyncFn) {
        const r = waitAsyncFn(h, epochWord, e, slice);
        if (r.async) await r.value;
      } else {
        await new Promise<void>((resolve) => setTimeout(resolve, Math.min(slice, 1)));
      }
    } finally {
      Atomics.sub(h, waitersWord, 1);
    }
  }
}

export function closedError(what: string): NetworkError {
  return new NetworkError('CLOSED', `${what} is closed`, {});
}

export function timeoutError(what: string, timeoutMs: number): NetworkError {
  return new NetworkError('TIMEOUT', `${what}: timed out after ${timeoutMs} ms`, { timeoutMs });
}
