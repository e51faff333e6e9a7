// Single-producer/single-consumer ring on a SharedArrayBuffer (a Lamport queue with cached indices, as in
// DPDK's rte_ring SP/SC mode and the Linux kfifo): the producer owns TAIL, the consumer owns HEAD, each on its
// own 64-byte line, and each side caches the other's index so the common case touches no shared line.
import { NetworkError } from '../errors.js';
import {
  DEFAULT_SPIN,
  H_CAPACITY,
  H_CLOSED,
  H_CONS_WAITERS,
  H_DATA_EPOCH,
  H_DATA_OFFSET,
  H_HEAD,
  H_PROD_WAITERS,
  H_SLOT_BYTES,
  H_SPACE_EPOCH,
  H_TAIL,
  KIND_SPSC,
  RING_ATTACH as ATTACH,
  RING_HEADER_BYTES,
  blockUntil,
  blockUntilAsync,
  checkCapacity,
  closedError,
  initHeader,
  readHeader,
  roundUp,
  timeoutError,
  wakeAll,
  wakeIfWaiting,
  type RingWaitResult,
} from './ring-header.js';

/** Options of a new SpscRing / MpmcRing. */
export interface RingOptions {
  /** 0 (default): the ring carries unsigned 32-bit values (indices). > 0: fixed-size slots of this many bytes. */
  slotBytes?: number;
  /** Place the ring inside an existing SharedArrayBuffer (at a 64-byte aligned offset) instead of a new one. */
  buffer?: SharedArrayBuffer;
  byteOffset?: number;
  /** Probes before a blocking call sleeps in Atomics.wait (default 4096). */
  spin?: number;
}

/** Internal: the constructor form `attach` uses (reads the shape from the header instead of writing it). */
type AttachOptions = RingOptions & { [ATTACH]?: true };

function checkSlotBytes(slotBytes: number): void {
  if (!Number.isInteger(slotBytes) || slotBytes < 0 || slotBytes > 1 << 20) {
    throw new NetworkError('INVALID_ARGUMENT', `slotBytes must be an integer in 0..2^20, got ${slotBytes}`, { field: 'slotBytes', actual: slotBytes });
  }
}

export function notSlotRing(): NetworkError {
  return new NetworkError('UNSUPPORTED', 'slot calls need a ring made with slotBytes > 0', { field: 'slotBytes' });
}

/** Bytes a ring of this shape occupies (header + data), for placing rings inside a larger buffer. */
export function spscRingByteLength(capacity: number, slotBytes = 0): number {
  checkCapacity(capacity);
  checkSlotBytes(slotBytes);
  return RING_HEADER_BYTES + capacity * (slotBytes === 0 ? 4 : roundUp(slotBytes, 8));
}

/**
 * A bounded single-producer/single-consumer ring of 32-bit values or fixed-size byte slots. One thread
 * pushes, one thread pops; `SpscRing.attach(ring.sharedBuffer)` opens it in the other thread.
 * Non-blocking `try*` calls, bulk calls, blocking calls that spin then `Atomics.wait`, and `*Async` calls
 * (Atomics.waitAsync) for a main thread that must not block.
 */
export class SpscRing {
  readonly sharedBuffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly capacity: number;
  /** 0 for an index ring, else the slot size in bytes. */
  readonly slotBytes: number;
  /** Distance between slots in `slotData` (slotBytes rounded up to 8). */
  readonly slotStride: number;
  /** The slot region (slot rings): slot i starts at i × slotStride. */
  readonly slotData: Uint8Array;
  spin: number;
  private readonly h: Int32Array;
  private readonly mask: number;
  private readonly values: Uint32Array;
  // Each side's cached copy of the other side's index; stale values are only ever conservative. A side reads
  // its OWN index with a plain load: only it writes that word, so program order makes the value current, and
  // it saves an Atomics call (a builtin call of ~15-20 ns in this V8, not inlined).
  private headCache = 0;
  private tailCache = 0;

  constructor(capacity: number, options: RingOptions = {}) {
    const attaching = (options as AttachOptions)[ATTACH] === true;
    const off = options.byteOffset ?? 0;
    let buffer: SharedArrayBuffer;
    let h: Int32Array;
    let slotBytes: number;
    if (attaching) {
      buffer = options.buffer!;
      h = readHeader(buffer, off, KIND_SPSC, 'SpscRing');
      capacity = h[H_CAPACITY]!;
      slotBytes = h[H_SLOT_BYTES]!;
    } else {
      slotBytes = options.slotBytes ?? 0;
      const len = spscRingByteLength(capacity, slotBytes);
      buffer = options.buffer ?? new SharedArrayBuffer(len);
      if (off % 64 !== 0 || buffer.byteLength < off + len) {
        throw new NetworkError('INVALID_ARGUMENT', `the ring needs ${len} bytes at a 64-byte aligned offset`, { field: 'byteOffset', actual: off });
      }
      h = new Int32Array(buffer, off, RING_HEADER_BYTES / 4);
      initHeader(h, KIND_SPSC, capacity, slotBytes, RING_HEADER_BYTES);
    }
    this.sharedBuffer = buffer;
    this.byteOffset = off;
    this.h = h;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.slotBytes = slotBytes;
    this.slotStride = slotBytes === 0 ? 4 : roundUp(slotBytes, 8);
    this.spin = options.spin ?? DEFAULT_SPIN;
    const dataOff = off + h[H_DATA_OFFSET]!;
    this.values = new Uint32Array(buffer, dataOff, slotBytes === 0 ? capacity : 0);
    this.slotData = new Uint8Array(buffer, dataOff, slotBytes === 0 ? 0 : capacity * this.slotStride);
    this.headCache = Atomics.load(h, H_HEAD);
    this.tailCache = Atomics.load(h, H_TAIL);
  }

  /** Opens, in this thread, a ring created elsewhere. */
  static attach(buffer: SharedArrayBuffer, byteOffset = 0): SpscRing {
    return new SpscRing(0, { buffer, byteOffset, [ATTACH]: true } as AttachOptions);
  }

  /** Items in the ring now (a snapshot; exact only when neither side is moving). */
  get size(): number {
    return (Atomics.load(this.h, H_TAIL) - Atomics.load(this.h, H_HEAD)) | 0;
  }

  get closed(): boolean {
    return Atomics.load(this.h, H_CLOSED) !== 0;
  }

  /** Marks the ring closed and wakes every sleeper; items already in it can still be popped. */
  close(): void {
    Atomics.store(this.h, H_CLOSED, 1);
    wakeAll(this.h);
  }

  // ---- producer side -------------------------------------------------------------------------------

  /** Free slots as the producer sees them (refreshes the cached head only when needed). */
  private freeFor(n: number, tail: number): number {
    let free = this.capacity - ((tail - this.headCache) | 0);
    if (free < n) {
      this.headCache = Atomics.load(this.h, H_HEAD);
      free = this.capacity - ((tail - this.headCache) | 0);
    }
    return free;
  }

  /** Pushes one value (index rings); false when the ring is full. */
  tryPush(value: number): boolean {
    const h = this.h;
    const t = h[H_TAIL]!;
    if (this.freeFor(1, t) < 1) return false;
    this.values[t & this.mask] = value;
    // The SC store publishes the value: a consumer that loads the new TAIL sees the slot write.
    Atomics.store(h, H_TAIL, (t + 1) | 0);
    wakeIfWaiting(h, H_CONS_WAITERS, H_DATA_EPOCH);
    return true;
  }

  /** Pushes up to `count` values from src[start…]; returns how many went in (one publish for all). */
  pushBulk(src: ArrayLike<number>, start = 0, count = src.length - start): number {
    const h = this.h;
    const t = h[H_TAIL]!;
    const free = this.freeFor(count, t);
    const n = count < free ? count : free;
    if (n <= 0) return 0;
    const mask = this.mask;
    const values = this.values;
    for (let i = 0; i < n; i++) values[(t + i) & mask] = src[start + i]!;
    Atomics.store(h, H_TAIL, (t + n) | 0);
    wakeIfWaiting(h, H_CONS_WAITERS, H_DATA_EPOCH);
    return n;
  }

  /** Copies `src` (at most slotBytes long) into the next slot; false when full (slot rings). */
  tryPushSlot(src: Uint8Array): boolean {
    const off = this.tryClaimSlot();
    if (off < 0) return false;
    if (src.length > this.slotBytes) throw this.slotTooBig(src.length);
    this.slotData.set(src, off);
    this.publishSlot();
    return true;
  }

  /**
   * Copies up to `count` slots from `src` (slot k at k × slotBytes) with one publish; returns how many.
   * For 8-byte-multiple slot sizes the copy is one or two block copies (around the wrap).
   */
  pushSlots(src: Uint8Array, count = Math.floor(src.length / this.slotBytes)): number {
    if (this.slotBytes === 0) throw notSlotRing();
    const h = this.h;
    const t = h[H_TAIL]!;
    const free = this.freeFor(count, t);
    const n = count < free ? count : free;
    if (n <= 0) return 0;
    const sb = this.slotBytes;
    const first = t & this.mask;
    if (sb === this.slotStride) {
      const k1 = Math.min(n, this.capacity - first);
      this.slotData.set(src.subarray(0, k1 * sb), first * sb);
      if (k1 < n) this.slotData.set(src.subarray(k1 * sb, n * sb), 0);
    } else {
      for (let k = 0; k < n; k++) this.slotData.set(src.subarray(k * sb, (k + 1) * sb), ((first + k) & this.mask) * this.slotStride);
    }
    Atomics.store(h, H_TAIL, (t + n) | 0);
    wakeIfWaiting(h, H_CONS_WAITERS, H_DATA_EPOCH);
    return n;
  }

  /** Copies up to `max` slots into dst (slot k at k × slotBytes) with one release; returns how many. */
  popSlots(dst: Uint8Array, max = Math.floor(dst.length / this.slotBytes)): number {
    if (this.slotBytes === 0) throw notSlotRing();
    const h = this.h;
    const hd = h[H_HEAD]!;
    const avail = this.availFor(max, hd);
    const n = max < avail ? max : avail;
    if (n <= 0) return 0;
    const sb = this.slotBytes;
    const first = hd & this.mask;
    if (sb === this.slotStride) {
      const k1 = Math.min(n, this.capacity - first);
      dst.set(this.slotData.subarray(first * sb, (first + k1) * sb), 0);
      if (k1 < n) dst.set(this.slotData.subarray(0, (n - k1) * sb), k1 * sb);
    } else {
      for (let k = 0; k < n; k++) {
        const off = ((first + k) & this.mask) * this.slotStride;
        dst.set(this.slotData.subarray(off, off + sb), k * sb);
      }
    }
    Atomics.store(h, H_HEAD, (hd + n) | 0);
    wakeIfWaiting(h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return n;
  }

  /**
   * Zero-copy produce: the byte offset in `slotData` of the next free slot, or -1 when full. Fill it,
   * then call publishSlot().
   */
  tryClaimSlot(): number {
    if (this.slotBytes === 0) throw notSlotRing();
    const t = this.h[H_TAIL]!;
    if (this.freeFor(1, t) < 1) return -1;
    return (t & this.mask) * this.slotStride;
  }

  /** Publishes the slot returned by the last tryClaimSlot(). */
  publishSlot(): void {
    const h = this.h;
    Atomics.store(h, H_TAIL, (h[H_TAIL]! + 1) | 0);
    wakeIfWaiting(h, H_CONS_WAITERS, H_DATA_EPOCH);
  }

  // ---- consumer side -------------------------------------------------------------------------------

  private availFor(n: number, head: number): number {
    let avail = (this.tailCache - head) | 0;
    if (avail < n) {
      this.tailCache = Atomics.load(this.h, H_TAIL);
      avail = (this.tailCache - head) | 0;
    }
    return avail;
  }

  /** Pops one value, or -1 when empty (values are unsigned, so -1 is never a value). */
  tryPop(): number {
    const h = this.h;
    const hd = h[H_HEAD]!;
    if (this.availFor(1, hd) < 1) return -1;
    const v = this.values[hd & this.mask]!;
    Atomics.store(h, H_HEAD, (hd + 1) | 0);
    wakeIfWaiting(h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return v;
  }

  /** Pops up to `max` values into dst[start…]; returns how many. */
  popBulk(dst: { [i: number]: number; length: number }, start = 0, max = dst.length - start): number {
    const h = this.h;
    const hd = h[H_HEAD]!;
    const avail = this.availFor(max, hd);
    const n = max < avail ? max : avail;
    if (n <= 0) return 0;
    const mask = this.mask;
    const values = this.values;
    for (let i = 0; i < n; i++) dst[start + i] = values[(hd + i) & mask]!;
    Atomics.store(h, H_HEAD, (hd + n) | 0);
    wakeIfWaiting(h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return n;
  }

  /** Copies the next slot into dst (min(dst.length, slotBytes) bytes); false when empty (slot rings). */
  tryPopSlot(dst: Uint8Array): boolean {
    const off = this.tryPeekSlot();
    if (off < 0) return false;
    const n = dst.length < this.slotBytes ? dst.length : this.slotBytes;
    dst.set(this.slotData.subarray(off, off + n));
    this.releaseSlot();
    return true;
  }

  /** Zero-copy consume: offset in `slotData` of the oldest slot, or -1 when empty; then releaseSlot(). */
  tryPeekSlot(): number {
    if (this.slotBytes === 0) throw notSlotRing();
    const hd = this.h[H_HEAD]!;
    if (this.availFor(1, hd) < 1) return -1;
    return (hd & this.mask) * this.slotStride;
  }

  /** Frees the slot returned by the last tryPeekSlot(). */
  releaseSlot(): void {
    const h = this.h;
    Atomics.store(h, H_HEAD, (h[H_HEAD]! + 1) | 0);
    wakeIfWaiting(h, H_PROD_WAITERS, H_SPACE_EPOCH);
  }

  // ---- waiting -------------------------------------------------------------------------------------

  private readonly hasData = (): boolean => this.availFor(1, this.h[H_HEAD]!) > 0;
  private readonly hasSpace = (): boolean => this.freeFor(1, this.h[H_TAIL]!) > 0;

  /** Blocks (spin, then Atomics.wait) until an item is there, the ring closes, or the timeout passes. */
  waitForData(timeoutMs = Infinity): RingWaitResult {
    return blockUntil(this.h, this.hasData, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs, this.spin);
  }

  /** Blocks until a slot is free, the ring closes, or the timeout passes. */
  waitForSpace(timeoutMs = Infinity): RingWaitResult {
    return blockUntil(this.h, this.hasSpace, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs, this.spin);
  }

  /** waitForData without blocking the event loop (Atomics.waitAsync). */
  waitForDataAsync(timeoutMs = Infinity): Promise<RingWaitResult> {
    return blockUntilAsync(this.h, this.hasData, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs);
  }

  /** waitForSpace without blocking the event loop. */
  waitForSpaceAsync(timeoutMs = Infinity): Promise<RingWaitResult> {
    return blockUntilAsync(this.h, this.hasSpace, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs);
  }

  /** Pushes, waiting for space; throws CLOSED if the ring is closed, TIMEOUT after timeoutMs. */
  push(value: number, timeoutMs = Infinity): void {
    for (;;) {
      if (this.closed) throw closedError('SpscRing');
      if (this.tryPush(value)) return;
      const r = this.waitForSpace(timeoutMs);
      if (r === 'closed') throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.push', timeoutMs);
    }
  }

  /** Pops, waiting for data; throws CLOSED once the ring is closed and drained, TIMEOUT after timeoutMs. */
  pop(timeoutMs = Infinity): number {
    for (;;) {
      const v = this.tryPop();
      if (v >= 0) return v;
      const r = this.waitForData(timeoutMs);
      if (r === 'closed' && !this.hasData()) throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.pop', timeoutMs);
    }
  }

  /** push() for the main thread. */
  async pushAsync(value: number, timeoutMs = Infinity): Promise<void> {
    for (;;) {
      if (this.closed) throw closedError('SpscRing');
      if (this.tryPush(value)) return;
      const r = await this.waitForSpaceAsync(timeoutMs);
      if (r === 'closed') throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.pushAsync', timeoutMs);
    }
  }

  /** pop() for the main thread. */
  async popAsync(timeoutMs = Infinity): Promise<number> {
    for (;;) {
      const v = this.tryPop();
      if (v >= 0) return v;
      const r = await this.waitForDataAsync(timeoutMs);
      if (r === 'closed' && !this.hasData()) throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.popAsync', timeoutMs);
    }
  }

  /** Copies into the next slot, waiting for space (slot rings). */
  pushSlot(src: Uint8Array, timeoutMs = Infinity): void {
    for (;;) {
      if (this.closed) throw closedError('SpscRing');
      if (this.tryPushSlot(src)) return;
      const r = this.waitForSpace(timeoutMs);
      if (r === 'closed') throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.pushSlot', timeoutMs);
    }
  }

  /** Copies the next slot out, waiting for data (slot rings). */
  popSlot(dst: Uint8Array, timeoutMs = Infinity): void {
    for (;;) {
      if (this.tryPopSlot(dst)) return;
      const r = this.waitForData(timeoutMs);
      if (r === 'closed' && !this.hasData()) throw closedError('SpscRing');
      if (r === 'timed-out') throw timeoutError('SpscRing.popSlot', timeoutMs);
    }
  }

  private slotTooBig(n: number): NetworkError {
    return new NetworkError('BUFFER_FULL', `item of ${n} bytes does not fit a ${this.slotBytes}-byte slot`, {
      field: 'slotBytes',
      expected: this.slotBytes,
      actual: n,
    });
  }
}
