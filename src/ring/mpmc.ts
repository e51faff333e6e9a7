// Bounded lock-free multi-producer/multi-consumer ring (Dmitry Vyukov's bounded MPMC queue): every cell
// carries a sequence number, so a producer claims position p with one CAS on the enqueue index when cell
// p's sequence equals p, and publishes by setting it to p+1; a consumer claims when it equals p+1 and frees
// the cell for the next lap by setting it to p+capacity. A thread stalled between claim and publish delays
// only that one cell, never the others (unlike a ring with shared tail commits, e.g. DPDK MP/MC).
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
  KIND_MPMC,
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
import { notSlotRing, type RingOptions } from './spsc.js';

type AttachOptions = RingOptions & { [ATTACH]?: true };

// H_TAIL is the enqueue position (producers CAS it), H_HEAD the dequeue position (consumers CAS it).
const ENQ = H_TAIL;
const DEQ = H_HEAD;

function layout(capacity: number, slotBytes: number): { seqOff: number; slotOff: number; stride: number; total: number } {
  if (slotBytes === 0) {
    // Index rings interleave [sequence, value] so a claim and its value share a cache line.
    return { seqOff: RING_HEADER_BYTES, slotOff: RING_HEADER_BYTES, stride: 4, total: RING_HEADER_BYTES + capacity * 8 };
  }
  const stride = roundUp(slotBytes, 8);
  const slotOff = roundUp(RING_HEADER_BYTES + capacity * 4, 64);
  return { seqOff: RING_HEADER_BYTES, slotOff, stride, total: slotOff + capacity * stride };
}

/** Bytes an MpmcRing of this shape occupies. */
export function mpmcRingByteLength(capacity: number, slotBytes = 0): number {
  checkCapacity(capacity);
  if (!Number.isInteger(slotBytes) || slotBytes < 0 || slotBytes > 1 << 20) {
    throw new NetworkError('INVALID_ARGUMENT', `slotBytes must be an integer in 0..2^20, got ${slotBytes}`, { field: 'slotBytes' });
  }
  return layout(capacity, slotBytes).total;
}

/**
 * A bounded lock-free multi-producer/multi-consumer ring of 32-bit values or fixed-size slots, on a
 * SharedArrayBuffer that any number of threads `attach` to. FIFO per producer: items one producer pushes
 * are popped in the order it pushed them (consumers may interleave them with other producers' items).
 */
export class MpmcRing {
  readonly sharedBuffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly capacity: number;
  readonly slotBytes: number;
  readonly slotStride: number;
  /** The slot region (slot rings). */
  readonly slotData: Uint8Array;
  spin: number;
  private readonly h: Int32Array;
  private readonly mask: number;
  /** Index rings: [seq, value] pairs. Slot rings: one sequence per cell. */
  private readonly cells: Int32Array;
  private readonly seqShift: number;

  constructor(capacity: number, options: RingOptions = {}) {
    const attaching = (options as AttachOptions)[ATTACH] === true;
    const off = options.byteOffset ?? 0;
    let buffer: SharedArrayBuffer;
    let h: Int32Array;
    let slotBytes: number;
    if (attaching) {
      buffer = options.buffer!;
      h = readHeader(buffer, off, KIND_MPMC, 'MpmcRing');
      capacity = h[H_CAPACITY]!;
      slotBytes = h[H_SLOT_BYTES]!;
    } else {
      slotBytes = options.slotBytes ?? 0;
      const len = mpmcRingByteLength(capacity, slotBytes);
      buffer = options.buffer ?? new SharedArrayBuffer(len);
      if (off % 64 !== 0 || buffer.byteLength < off + len) {
        throw new NetworkError('INVALID_ARGUMENT', `the ring needs ${len} bytes at a 64-byte aligned offset`, { field: 'byteOffset', actual: off });
      }
      h = new Int32Array(buffer, off, RING_HEADER_BYTES / 4);
    }
    const l = layout(capacity, slotBytes);
    this.sharedBuffer = buffer;
    this.byteOffset = off;
    this.h = h;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.slotBytes = slotBytes;
    this.slotStride = l.stride;
    this.spin = options.spin ?? DEFAULT_SPIN;
    this.seqShift = slotBytes === 0 ? 1 : 0;
    this.cells = new Int32Array(buffer, off + l.seqOff, slotBytes === 0 ? capacity * 2 : capacity);
    this.slotData = new Uint8Array(buffer, off + l.slotOff, slotBytes === 0 ? 0 : capacity * l.stride);
    if (!attaching) {
      // Cell i starts free for position i.
      for (let i = 0; i < capacity; i++) this.cells[i << this.seqShift] = i;
      initHeader(h, KIND_MPMC, capacity, slotBytes, l.seqOff);
    }
  }

  /** Opens, in this thread, a ring created elsewhere. */
  static attach(buffer: SharedArrayBuffer, byteOffset = 0): MpmcRing {
    return new MpmcRing(0, { buffer, byteOffset, [ATTACH]: true } as AttachOptions);
  }

  /** Items in the ring now, claimed-but-unpublished ones included (a snapshot). */
  get size(): number {
    const n = (Atomics.load(this.h, ENQ) - Atomics.load(this.h, DEQ)) | 0;
    return n < 0 ? 0 : n > this.capacity ? this.capacity : n;
  }

  get closed(): boolean {
    return Atomics.load(this.h, H_CLOSED) !== 0;
  }

  /** Marks the ring closed and wakes every sleeper; items already in it can still be popped. */
  close(): void {
    Atomics.store(this.h, H_CLOSED, 1);
    wakeAll(this.h);
  }

  /**
   * Claims up to n consecutive free cells with one CAS; returns the first position and sets `claimed`.
   * Only cells already seen free are claimed, so the claim never waits on another thread.
   */
  private claimEnq(n: number): number {
    const h = this.h;
    const cells = this.cells;
    const sh = this.seqShift;
    const mask = this.mask;
    let pos = Atomics.load(h, ENQ);
    for (;;) {
      let k = 0;
      while (k < n) {
        const p = (pos + k) | 0;
        if (Atomics.load(cells, (p & mask) << sh) !== p) break;
        k++;
      }
      if (k === 0) {
        const seq = Atomics.load(cells, (pos & mask) << sh);
        if (((seq - pos) | 0) < 0) return -1; // full: the cell still holds last lap's item
        pos = Atomics.load(h, ENQ); // stale: another producer moved on
        continue;
      }
      const seen = Atomics.compareExchange(h, ENQ, pos, (pos + k) | 0);
      if (seen === pos) {
        this.claimed = k;
        return pos;
      }
      pos = seen;
    }
  }

  private claimDeq(n: number): number {
    const h = this.h;
    const cells = this.cells;
    const sh = this.seqShift;
    const mask = this.mask;
    let pos = Atomics.load(h, DEQ);
    for (;;) {
      let k = 0;
      while (k < n) {
        const p = (pos + k) | 0;
        if (Atomics.load(cells, (p & mask) << sh) !== ((p + 1) | 0)) break;
        k++;
      }
      if (k === 0) {
        const seq = Atomics.load(cells, (pos & mask) << sh);
        if (((seq - ((pos + 1) | 0)) | 0) < 0) return -1; // empty (or the producer has not published yet)
        pos = Atomics.load(h, DEQ);
        continue;
      }
      const seen = Atomics.compareExchange(h, DEQ, pos, (pos + k) | 0);
      if (seen === pos) {
        this.claimed = k;
        return pos;
      }
      pos = seen;
    }
  }

  private claimed = 0;

  /** Pushes one value (index rings); false when full. */
  tryPush(value: number): boolean {
    const pos = this.claimEnq(1);
    if (pos === -1) return false;
    const i = (pos & this.mask) << 1;
    this.cells[i + 1] = value;
    Atomics.store(this.cells, i, (pos + 1) | 0);
    this.claimed = 0;
    wakeIfWaiting(this.h, H_CONS_WAITERS, H_DATA_EPOCH);
    return true;
  }

  /** Pushes up to count values from src[start…] (one CAS); returns how many went in. */
  pushBulk(src: ArrayLike<number>, start = 0, count = src.length - start): number {
    if (count <= 0) return 0;
    if (this.slotBytes !== 0) throw new NetworkError('UNSUPPORTED', 'pushBulk needs an index ring (slotBytes 0)');
    const pos = this.claimEnq(count);
    if (pos === -1) return 0;
    const k = this.claimed;
    this.claimed = 0;
    const cells = this.cells;
    const mask = this.mask;
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const i = (p & mask) << 1;
      cells[i + 1] = src[start + j]!;
      Atomics.store(cells, i, (p + 1) | 0);
    }
    wakeIfWaiting(this.h, H_CONS_WAITERS, H_DATA_EPOCH);
    return k;
  }

  /** Pops one value, or -1 when empty. */
  tryPop(): number {
    const pos = this.claimDeq(1);
    if (pos === -1) return -1;
    this.claimed = 0;
    const i = (pos & this.mask) << 1;
    const v = this.cells[i + 1]! >>> 0;
    Atomics.store(this.cells, i, (pos + this.capacity) | 0);
    wakeIfWaiting(this.h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return v;
  }

  /** Pops up to max values into dst[start…] (one CAS); returns how many. */
  popBulk(dst: { [i: number]: number; length: number }, start = 0, max = dst.length - start): number {
    if (max <= 0) return 0;
    if (this.slotBytes !== 0) throw new NetworkError('UNSUPPORTED', 'popBulk needs an index ring (slotBytes 0)');
    const pos = this.claimDeq(max);
    if (pos === -1) return 0;
    const k = this.claimed;
    this.claimed = 0;
    const cells = this.cells;
    const mask = this.mask;
    const cap = this.capacity;
    for (let j = 0; j < k; j++) {
      const p = (pos + j) | 0;
      const i = (p & mask) << 1;
      dst[start + j] = cells[i + 1]! >>> 0;
      Atomics.store(cells, i, (p + cap) | 0);
    }
    wakeIfWaiting(this.h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return k;
  }

  /** Copies src (≤ slotBytes) into a slot; false when full (slot rings). */
  tryPushSlot(src: Uint8Array): boolean {
    if (this.slotBytes === 0) throw notSlotRing();
    if (src.length > this.slotBytes) {
      throw new NetworkError('BUFFER_FULL', `item of ${src.length} bytes does not fit a ${this.slotBytes}-byte slot`, { expected: this.slotBytes, actual: src.length });
    }
    const pos = this.claimEnq(1);
    if (pos === -1) return false;
    this.claimed = 0;
    const c = pos & this.mask;
    this.slotData.set(src, c * this.slotStride);
    Atomics.store(this.cells, c, (pos + 1) | 0);
    wakeIfWaiting(this.h, H_CONS_WAITERS, H_DATA_EPOCH);
    return true;
  }

  /** Copies the oldest slot into dst (min(dst.length, slotBytes) bytes); false when empty. */
  tryPopSlot(dst: Uint8Array): boolean {
    if (this.slotBytes === 0) throw notSlotRing();
    const pos = this.claimDeq(1);
    if (pos === -1) return false;
    this.claimed = 0;
    const c = pos & this.mask;
    const off = c * this.slotStride;
    const n = dst.length < this.slotBytes ? dst.length : this.slotBytes;
    dst.set(this.slotData.subarray(off, off + n));
    Atomics.store(this.cells, c, (pos + this.capacity) | 0);
    wakeIfWaiting(this.h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return true;
  }

  // ---- waiting -------------------------------------------------------------------------------------

  private readonly hasData = (): boolean => {
    const pos = Atomics.load(this.h, DEQ);
    return Atomics.load(this.cells, (pos & this.mask) << this.seqShift) === ((pos + 1) | 0);
  };

  private readonly hasSpace = (): boolean => {
    const pos = Atomics.load(this.h, ENQ);
    return Atomics.load(this.cells, (pos & this.mask) << this.seqShift) === pos;
  };

  /** Blocks (spin, then Atomics.wait) until an item looks available, the ring closes, or the timeout. */
  waitForData(timeoutMs = Infinity): RingWaitResult {
    return blockUntil(this.h, this.hasData, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs, this.spin);
  }

  /** Blocks until a cell looks free, the ring closes, or the timeout passes. */
  waitForSpace(timeoutMs = Infinity): RingWaitResult {
    return blockUntil(this.h, this.hasSpace, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs, this.spin);
  }

  waitForDataAsync(timeoutMs = Infinity): Promise<RingWaitResult> {
    return blockUntilAsync(this.h, this.hasData, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs);
  }

  waitForSpaceAsync(timeoutMs = Infinity): Promise<RingWaitResult> {
    return blockUntilAsync(this.h, this.hasSpace, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs);
  }

  /** Pushes, waiting for space; CLOSED / TIMEOUT as for SpscRing.push. */
  push(value: number, timeoutMs = Infinity): void {
    for (;;) {
      if (this.closed) throw closedError('MpmcRing');
      if (this.tryPush(value)) return;
      const r = this.waitForSpace(timeoutMs);
      if (r === 'closed') throw closedError('MpmcRing');
      if (r === 'timed-out') throw timeoutError('MpmcRing.push', timeoutMs);
    }
  }

  /** Pops, waiting for data; CLOSED once closed and drained, TIMEOUT after timeoutMs. */
  pop(timeoutMs = Infinity): number {
    for (;;) {
      const v = this.tryPop();
      if (v >= 0) return v;
      const r = this.waitForData(timeoutMs);
      if (r === 'closed' && this.size === 0) throw closedError('MpmcRing');
      if (r === 'timed-out') throw timeoutError('MpmcRing.pop', timeoutMs);
    }
  }

  async pushAsync(value: number, timeoutMs = Infinity): Promise<void> {
    for (;;) {
      if (this.closed) throw closedError('MpmcRing');
      if (this.tryPush(value)) return;
      const r = await this.waitForSpaceAsync(timeoutMs);
      if (r === 'closed') throw closedError('MpmcRing');
      if (r === 'timed-out') throw timeoutError('MpmcRing.pushAsync', timeoutMs);
    }
  }

  async popAsync(timeoutMs = Infinity): Promise<number> {
    for (;;) {
      const v = this.tryPop();
      if (v >= 0) return v;
      const r = await this.waitForDataAsync(timeoutMs);
      if (r === 'closed' && this.size === 0) throw closedError('MpmcRing');
      if (r === 'timed-out') throw timeoutError('MpmcRing.popAsync', timeoutMs);
    }
  }
}
