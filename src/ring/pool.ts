// The guide's PacketPool: `count` fixed-size buffers in one SharedArrayBuffer slab, handed out by index
// through a lock-free free-index ring (MpmcRing), so any thread that attached can acquire and release.
// Each buffer has a state word = generation << 16 | reference count; releasing a buffer whose count is 0,
// or whose generation moved on since it was acquired, is a double release and throws DOUBLE_FREE.
import { NetworkError } from '../errors.js';
import { MpmcRing, mpmcRingByteLength } from './mpmc.js';
import { nextPowerOfTwo, roundUp, type RingWaitResult } from './ring-header.js';

const P_MAGIC = 0;
const P_COUNT = 1;
const P_BUF_SIZE = 2;
const P_STRIDE = 3;
const P_STATE_OFF = 4;
const P_LENGTHS_OFF = 5;
const P_META_OFF = 6;
const P_RING_OFF = 7;
const P_SLAB_OFF = 8;
const POOL_MAGIC = 0x504f4f4c; // 'POOL'
const HEADER = 64;
const RC_MASK = 0xffff;
const GEN_MASK = 0x7fff;

/** One buffer handed out by a PacketPool: its index, a view of its bytes, and the generation it was acquired in. */
export interface PoolBuffer {
  readonly index: number;
  readonly view: Uint8Array;
  readonly generation: number;
}

function poolLayout(count: number, bufSize: number) {
  const stride = roundUp(bufSize, 64);
  let off = HEADER;
  const state = off;
  off = roundUp(off + count * 4, 64);
  const lengths = off;
  off = roundUp(off + count * 4, 64);
  const meta = off;
  off = roundUp(off + count * 4, 64);
  const ring = off;
  off = roundUp(off + mpmcRingByteLength(nextPowerOfTwo(count)), 64);
  const slab = off;
  return { stride, state, lengths, meta, ring, slab, total: slab + count * stride };
}

/**
 * `count` buffers of `bufSize` bytes in one SharedArrayBuffer. `acquire()` → `{ index, view }`,
 * `release(buffer)`; `retain()` adds a reference (release frees at zero); `PacketPool.attach(pool.sharedBuffer)`
 * opens the same pool in a worker. Per-buffer `lengths` and `meta` lanes travel with the index.
 */
export class PacketPool {
  readonly sharedBuffer: SharedArrayBuffer;
  readonly count: number;
  readonly bufSize: number;
  /** Distance between buffers in `slab` (bufSize rounded up to a 64-byte line). */
  readonly stride: number;
  /** All buffers: buffer i starts at i × stride. */
  readonly slab: Uint8Array;
  /** Per-buffer byte count in use (written by whoever fills the buffer). */
  readonly lengths: Uint32Array;
  /** Per-buffer free word for the user (the parallel engine keeps the RSS hash here). */
  readonly meta: Uint32Array;
  /** The free-index ring. */
  readonly freeRing: MpmcRing;
  private readonly state: Int32Array;
  private readonly views: (Uint8Array | undefined)[] = [];
  private readonly scratch = new Uint32Array(256);

  constructor(count: number, bufSize: number, attachTo?: SharedArrayBuffer) {
    let buffer: SharedArrayBuffer;
    if (attachTo) {
      if (!(attachTo instanceof SharedArrayBuffer) || attachTo.byteLength < HEADER) {
        throw new NetworkError('INVALID_ARGUMENT', 'PacketPool.attach needs the SharedArrayBuffer of a PacketPool', { field: 'buffer' });
      }
      const hdr = new Int32Array(attachTo, 0, HEADER / 4);
      if (Atomics.load(hdr, P_MAGIC) !== POOL_MAGIC) throw new NetworkError('INVALID_ARGUMENT', 'buffer does not hold a PacketPool', { field: 'buffer' });
      count = hdr[P_COUNT]!;
      bufSize = hdr[P_BUF_SIZE]!;
      buffer = attachTo;
    } else {
      if (!Number.isInteger(count) || count < 1 || count > 1 << 24) {
        throw new NetworkError('INVALID_ARGUMENT', `PacketPool count must be an integer in 1..2^24, got ${count}`, { field: 'count', actual: count });
      }
      if (!Number.isInteger(bufSize) || bufSize < 1 || bufSize > 1 << 24) {
        throw new NetworkError('INVALID_ARGUMENT', `PacketPool bufSize must be an integer in 1..2^24, got ${bufSize}`, { field: 'bufSize', actual: bufSize });
      }
      const l = poolLayout(count, bufSize);
      if (l.total > 2 ** 31) throw new NetworkError('INVALID_ARGUMENT', `PacketPool of ${l.total} bytes is too large`, { field: 'count' });
      buffer = new SharedArrayBuffer(l.total);
    }
    const l = poolLayout(count, bufSize);
    this.sharedBuffer = buffer;
    this.count = count;
    this.bufSize = bufSize;
    this.stride = l.stride;
    this.state = new Int32Array(buffer, l.state, count);
    this.lengths = new Uint32Array(buffer, l.lengths, count);
    this.meta = new Uint32Array(buffer, l.meta, count);
    this.slab = new Uint8Array(buffer, l.slab, count * l.stride);
    if (attachTo) {
      this.freeRing = MpmcRing.attach(buffer, l.ring);
    } else {
      this.freeRing = new MpmcRing(nextPowerOfTwo(count), { buffer, byteOffset: l.ring });
      for (let i = 0; i < count; i++) this.freeRing.tryPush(i);
      const hdr = new Int32Array(buffer, 0, HEADER / 4);
      hdr.set([0, count, bufSize, l.stride, l.state, l.lengths, l.meta, l.ring, l.slab]);
      Atomics.store(hdr, P_MAGIC, POOL_MAGIC);
    }
  }

  /** Opens, in this thread, a pool created elsewhere. */
  static attach(buffer: SharedArrayBuffer): PacketPool {
    return new PacketPool(0, 0, buffer);
  }

  /** Free buffers now (a snapshot). */
  get available(): number {
    return this.freeRing.size;
  }

  /** Buffers handed out now (a snapshot). */
  get inUse(): number {
    return this.count - this.freeRing.size;
  }

  /** The whole buffer i as a view (cached per thread; no copy). */
  view(index: number): Uint8Array {
    this.checkIndex(index);
    let v = this.views[index];
    if (!v) {
      v = this.slab.subarray(index * this.stride, index * this.stride + this.bufSize);
      this.views[index] = v;
    }
    return v;
  }

  /** Byte offset of buffer i in `slab`. */
  offsetOf(index: number): number {
    return index * this.stride;
  }

  private checkIndex(index: number): void {
    if (!(Number.isInteger(index) && index >= 0 && index < this.count)) {
      throw new NetworkError('OUT_OF_BOUNDS', `pool index ${index} out of range 0..${this.count - 1}`, { field: 'index', actual: index });
    }
  }

  /** Takes ownership of a popped index: refcount 0 → 1 and a new generation. */
  private own(index: number): number {
    const st = this.state;
    for (;;) {
      const w = Atomics.load(st, index);
      if ((w & RC_MASK) !== 0) {
        // The free ring handed out a buffer that is still referenced: the invariant the pool exists for.
        throw new NetworkError('DOUBLE_FREE', `pool buffer ${index} came off the free ring while still referenced`, { index, refCount: w & RC_MASK });
      }
      const gen = ((w >>> 16) + 1) & GEN_MASK;
      if (Atomics.compareExchange(st, index, w, (gen << 16) | 1) === w) return gen;
    }
  }

  /** Acquires a buffer index, or -1 when none is free (no allocation: the hot-path form). */
  acquireIndex(): number {
    const i = this.freeRing.tryPop();
    if (i < 0) return -1;
    this.own(i);
    this.lengths[i] = 0;
    return i;
  }

  /** Acquires up to max indices into dst[start…]; returns how many. */
  acquireBulk(dst: Uint32Array | number[], start = 0, max = dst.length - start): number {
    const n = this.freeRing.popBulk(dst, start, max);
    for (let j = 0; j < n; j++) {
      const i = dst[start + j]!;
      this.own(i);
      this.lengths[i] = 0;
    }
    return n;
  }

  /** Acquires a buffer, or null when the pool is exhausted. */
  tryAcquire(): PoolBuffer | null {
    const i = this.freeRing.tryPop();
    if (i < 0) return null;
    const generation = this.own(i);
    this.lengths[i] = 0;
    return { index: i, view: this.view(i), generation };
  }

  /** Acquires a buffer; throws BUFFER_FULL when the pool is exhausted. */
  acquire(): PoolBuffer {
    const b = this.tryAcquire();
    if (!b) throw new NetworkError('BUFFER_FULL', `PacketPool exhausted: all ${this.count} buffers in use`, { count: this.count });
    return b;
  }

  /** Acquires a buffer, waiting (spin, then Atomics.wait) up to timeoutMs for one to be released. */
  acquireBlocking(timeoutMs = Infinity): PoolBuffer {
    for (;;) {
      const b = this.tryAcquire();
      if (b) return b;
      const r: RingWaitResult = this.freeRing.waitForData(timeoutMs);
      if (r === 'timed-out') throw new NetworkError('TIMEOUT', `PacketPool: no buffer freed within ${timeoutMs} ms`, { timeoutMs });
      if (r === 'closed') throw new NetworkError('CLOSED', 'PacketPool is closed');
    }
  }

  /** acquireBlocking for the main thread (Atomics.waitAsync). */
  async acquireAsync(timeoutMs = Infinity): Promise<PoolBuffer> {
    for (;;) {
      const b = this.tryAcquire();
      if (b) return b;
      const r = await this.freeRing.waitForDataAsync(timeoutMs);
      if (r === 'timed-out') throw new NetworkError('TIMEOUT', `PacketPool: no buffer freed within ${timeoutMs} ms`, { timeoutMs });
      if (r === 'closed') throw new NetworkError('CLOSED', 'PacketPool is closed');
    }
  }

  /** Adds a reference to a buffer in use; returns the new count. */
  retain(buffer: PoolBuffer | number): number {
    const index = typeof buffer === 'number' ? buffer : buffer.index;
    this.checkIndex(index);
    const st = this.state;
    for (;;) {
      const w = Atomics.load(st, index);
      const rc = w & RC_MASK;
      if (rc === 0 || (typeof buffer !== 'number' && (w >>> 16) !== buffer.generation)) {
        throw new NetworkError('DOUBLE_FREE', `retain of pool buffer ${index}, which is not in use (already released)`, { index, refCount: rc });
      }
      if (rc === RC_MASK) throw new NetworkError('INVALID_ARGUMENT', `pool buffer ${index}: reference count overflow`, { index });
      if (Atomics.compareExchange(st, index, w, w + 1) === w) return rc + 1;
    }
  }

  /** References held on buffer i now (0 = free). */
  refCount(index: number): number {
    this.checkIndex(index);
    return Atomics.load(this.state, index) & RC_MASK;
  }

  /** Drops a reference; at zero the buffer returns to the free ring. Returns true when it was freed. */
  private drop(index: number, generation: number): boolean {
    this.checkIndex(index);
    const st = this.state;
    for (;;) {
      const w = Atomics.load(st, index);
      const rc = w & RC_MASK;
      if (rc === 0 || (generation >= 0 && (w >>> 16) !== generation)) {
        throw new NetworkError('DOUBLE_FREE', `double release of pool buffer ${index}`, {
          index,
          refCount: rc,
          expected: generation >= 0 ? generation : 'refCount > 0',
          actual: w >>> 16,
        });
      }
      if (Atomics.compareExchange(st, index, w, w - 1) === w) return rc === 1;
    }
  }

  /**
   * Releases one reference. Given the PoolBuffer from acquire, a release after the buffer was freed (even if
   * it has been handed out again since) is detected by its generation; given a bare index, only a release of
   * a free buffer is detected.
   */
  release(buffer: PoolBuffer | number): void {
    const index = typeof buffer === 'number' ? buffer : buffer.index;
    if (this.drop(index, typeof buffer === 'number' ? -1 : buffer.generation)) this.freeIndex(index);
  }

  /** Releases count indices from src[start…]; returns to the free ring in bulk. */
  releaseBulk(src: ArrayLike<number>, start = 0, count = src.length - start): void {
    const scratch = this.scratch;
    let k = 0;
    for (let j = 0; j < count; j++) {
      const i = src[start + j]!;
      if (this.drop(i, -1)) {
        scratch[k++] = i;
        if (k === scratch.length) {
          this.pushFree(scratch, k);
          k = 0;
        }
      }
    }
    if (k > 0) this.pushFree(scratch, k);
  }

  private freeIndex(index: number): void {
    // The ring holds nextPowerOfTwo(count) ≥ count cells, so a freed index always fits; a stalled
    // consumer mid-pop can hold a cell briefly, hence the retry.
    while (!this.freeRing.tryPush(index)) {
      // spin: the stalled consumer finishes its pop within a few instructions
    }
  }

  private pushFree(src: Uint32Array, n: number): void {
    let done = 0;
    while (done < n) done += this.freeRing.pushBulk(src, done, n - done);
  }
}
