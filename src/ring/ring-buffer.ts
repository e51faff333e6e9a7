// The guide's RingBuffer: a single-producer/single-consumer byte stream of variable-length records on a
// SharedArrayBuffer. Each record is a 32-bit length followed by its bytes, padded to 4 bytes, so the length
// word never straddles the wrap; the bytes may, and are copied in two parts (as in the Linux kfifo).
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
  H_SPACE_EPOCH,
  H_TAIL,
  KIND_BYTES,
  RING_ATTACH as ATTACH,
  RING_HEADER_BYTES,
  blockUntil,
  blockUntilAsync,
  checkCapacity,
  closedError,
  initHeader,
  readHeader,
  timeoutError,
  wakeAll,
  wakeIfWaiting,
  type RingWaitResult,
} from './ring-header.js';

interface RingBufferInternal {
  [ATTACH]?: { buffer: SharedArrayBuffer; byteOffset: number };
}

/**
 * A lock-free byte ring of `capacity` bytes (a power of two, ≥ 8) carrying variable-length records from one
 * producer thread to one consumer thread. `RingBuffer.attach(ring.sharedBuffer)` opens it in the other thread.
 * A record of n bytes takes 4 + n rounded up to 4 bytes; the largest record is capacity − 4 bytes.
 */
export class RingBuffer {
  readonly sharedBuffer: SharedArrayBuffer;
  readonly byteOffset: number;
  readonly capacity: number;
  spin = DEFAULT_SPIN;
  private readonly h: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly words: Uint32Array;
  private readonly mask: number;
  private headCache: number;
  private tailCache: number;

  constructor(capacity: number, internal?: RingBufferInternal) {
    const at = internal?.[ATTACH];
    let buffer: SharedArrayBuffer;
    let off = 0;
    let h: Int32Array;
    if (at) {
      buffer = at.buffer;
      off = at.byteOffset;
      h = readHeader(buffer, off, KIND_BYTES, 'RingBuffer');
      capacity = h[H_CAPACITY]!;
    } else {
      if (!(capacity >= 8)) {
        throw new NetworkError('INVALID_ARGUMENT', `RingBuffer capacity must be a power of two ≥ 8, got ${capacity}`, { field: 'capacity', actual: capacity });
      }
      checkCapacity(capacity);
      buffer = new SharedArrayBuffer(RING_HEADER_BYTES + capacity);
      h = new Int32Array(buffer, 0, RING_HEADER_BYTES / 4);
      initHeader(h, KIND_BYTES, capacity, 0, RING_HEADER_BYTES);
    }
    this.sharedBuffer = buffer;
    this.byteOffset = off;
    this.h = h;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.bytes = new Uint8Array(buffer, off + h[H_DATA_OFFSET]!, capacity);
    this.words = new Uint32Array(buffer, off + h[H_DATA_OFFSET]!, capacity / 4);
    this.headCache = Atomics.load(h, H_HEAD);
    this.tailCache = Atomics.load(h, H_TAIL);
  }

  /** Opens, in this thread, a RingBuffer created elsewhere. */
  static attach(buffer: SharedArrayBuffer, byteOffset = 0): RingBuffer {
    return new RingBuffer(0, { [ATTACH]: { buffer, byteOffset } });
  }

  /** Bytes in use now (records with their length words and padding). */
  get used(): number {
    return (Atomics.load(this.h, H_TAIL) - Atomics.load(this.h, H_HEAD)) | 0;
  }

  get closed(): boolean {
    return Atomics.load(this.h, H_CLOSED) !== 0;
  }

  /** Closes the ring: writes fail with CLOSED, reads drain what is left, sleepers wake. */
  close(): void {
    Atomics.store(this.h, H_CLOSED, 1);
    wakeAll(this.h);
  }

  private static need(n: number): number {
    return 4 + ((n + 3) & ~3);
  }

  /** Appends one record; false when there is no room now. Records larger than capacity − 4 throw BUFFER_FULL. */
  tryWrite(data: Uint8Array): boolean {
    const n = data.length;
    const need = RingBuffer.need(n);
    if (need > this.capacity) {
      throw new NetworkError('BUFFER_FULL', `record of ${n} bytes can never fit a ${this.capacity}-byte RingBuffer`, {
        field: 'capacity',
        expected: this.capacity - 4,
        actual: n,
      });
    }
    if (this.closed) throw closedError('RingBuffer');
    const h = this.h;
    const t = h[H_TAIL]!; // own index: a plain load (only this side writes it)
    if (this.capacity - ((t - this.headCache) | 0) < need) {
      this.headCache = Atomics.load(h, H_HEAD);
      if (this.capacity - ((t - this.headCache) | 0) < need) return false;
    }
    const mask = this.mask;
    this.words[(t & mask) >>> 2] = n;
    const start = (t + 4) & mask;
    const first = this.capacity - start;
    if (n <= first) {
      this.bytes.set(data, start);
    } else {
      this.bytes.set(data.subarray(0, first), start);
      this.bytes.set(data.subarray(first), 0);
    }
    Atomics.store(h, H_TAIL, (t + need) | 0);
    wakeIfWaiting(h, H_CONS_WAITERS, H_DATA_EPOCH);
    return true;
  }

  /** Appends one record, or throws BUFFER_FULL (the guide's error) when there is no room. */
  write(data: Uint8Array): void {
    if (!this.tryWrite(data)) {
      throw new NetworkError('BUFFER_FULL', `RingBuffer full: ${this.used}/${this.capacity} bytes used, record needs ${RingBuffer.need(data.length)}`, {
        used: this.used,
        capacity: this.capacity,
        needed: RingBuffer.need(data.length),
      });
    }
  }

  /** Appends one record, waiting (spin, then Atomics.wait) for room; TIMEOUT / CLOSED otherwise. */
  writeBlocking(data: Uint8Array, timeoutMs = Infinity): void {
    for (;;) {
      if (this.tryWrite(data)) return;
      const need = RingBuffer.need(data.length);
      const r = blockUntil(this.h, () => this.capacity - this.used >= need, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs, this.spin);
      if (r === 'closed') throw closedError('RingBuffer');
      if (r === 'timed-out') throw timeoutError('RingBuffer.writeBlocking', timeoutMs);
    }
  }

  /** writeBlocking for the main thread (Atomics.waitAsync). */
  async writeAsync(data: Uint8Array, timeoutMs = Infinity): Promise<void> {
    for (;;) {
      if (this.tryWrite(data)) return;
      const need = RingBuffer.need(data.length);
      const r = await blockUntilAsync(this.h, () => this.capacity - this.used >= need, H_PROD_WAITERS, H_SPACE_EPOCH, timeoutMs);
      if (r === 'closed') throw closedError('RingBuffer');
      if (r === 'timed-out') throw timeoutError('RingBuffer.writeAsync', timeoutMs);
    }
  }

  /** Length of the next record, or -1 when the ring is empty. */
  peekLength(): number {
    const hd = this.h[H_HEAD]!;
    if (((this.tailCache - hd) | 0) < 4) {
      this.tailCache = Atomics.load(this.h, H_TAIL);
      if (((this.tailCache - hd) | 0) < 4) return -1;
    }
    return this.words[(hd & this.mask) >>> 2]!;
  }

  /**
   * Copies the next record into buf and returns its length, or -1 when empty. A buf shorter than the record
   * throws BUFFER_FULL (detail.needed) and leaves the record in place.
   */
  read(buf: Uint8Array): number {
    const n = this.peekLength();
    if (n < 0) return -1;
    if (n > buf.length) {
      throw new NetworkError('BUFFER_FULL', `read buffer of ${buf.length} bytes is smaller than the ${n}-byte record`, {
        field: 'buf',
        needed: n,
        actual: buf.length,
      });
    }
    const h = this.h;
    const hd = h[H_HEAD]!;
    const start = (hd + 4) & this.mask;
    const first = this.capacity - start;
    if (n <= first) {
      buf.set(this.bytes.subarray(start, start + n));
    } else {
      buf.set(this.bytes.subarray(start, this.capacity));
      buf.set(this.bytes.subarray(0, n - first), first);
    }
    Atomics.store(h, H_HEAD, (hd + RingBuffer.need(n)) | 0);
    wakeIfWaiting(h, H_PROD_WAITERS, H_SPACE_EPOCH);
    return n;
  }

  /** The next record as a new array, or null when empty. */
  readRecord(): Uint8Array | null {
    const n = this.peekLength();
    if (n < 0) return null;
    const out = new Uint8Array(n);
    this.read(out);
    return out;
  }

  private readonly hasRecord = (): boolean => this.peekLength() >= 0;

  /** Waits for a record (spin, then Atomics.wait). */
  waitForData(timeoutMs = Infinity): RingWaitResult {
    return blockUntil(this.h, this.hasRecord, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs, this.spin);
  }

  /** read() that waits for a record; throws CLOSED once closed and drained, TIMEOUT after timeoutMs. */
  readBlocking(buf: Uint8Array, timeoutMs = Infinity): number {
    for (;;) {
      const n = this.read(buf);
      if (n >= 0) return n;
      const r = this.waitForData(timeoutMs);
      if (r === 'closed' && !this.hasRecord()) throw closedError('RingBuffer');
      if (r === 'timed-out') throw timeoutError('RingBuffer.readBlocking', timeoutMs);
    }
  }

  /** readBlocking for the main thread. */
  async readAsync(buf: Uint8Array, timeoutMs = Infinity): Promise<number> {
    for (;;) {
      const n = this.read(buf);
      if (n >= 0) return n;
      const r = await blockUntilAsync(this.h, this.hasRecord, H_CONS_WAITERS, H_DATA_EPOCH, timeoutMs);
      if (r === 'closed' && !this.hasRecord()) throw closedError('RingBuffer');
      if (r === 'timed-out') throw timeoutError('RingBuffer.readAsync', timeoutMs);
    }
  }
}
