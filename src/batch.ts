import { NetworkError } from './errors.js';

/** Options for a new PacketBatch. */
export interface PacketBatchOptions {
  /** Most packets the batch holds. Default 1024. */
  capacity?: number;
  /** Bytes of packet data it holds. Default capacity × 2048. */
  byteCapacity?: number;
  /** Back it with a SharedArrayBuffer so workers see it without a copy. */
  shared?: boolean;
  /** Optional per-packet lanes. */
  timestamps?: boolean;
  flowHashes?: boolean;
  verdicts?: boolean;
  /** Each packet starts on a multiple of this (a power of two ≤ 64). Default 8: aligned word loads. */
  align?: number;
}

// Header words (Int32) at the start of the buffer; a worker that attaches reads the layout from here.
const H_COUNT = 0;
const H_USED = 1;
const H_CAPACITY = 2;
const H_BYTE_CAPACITY = 3;
const H_LANES = 4;
const H_ALIGN = 5;
const H_MAGIC = 6;
const HEADER_BYTES = 64;
const MAGIC = 0x42415443; // 'BATC'
const LANE_TS = 1;
const LANE_HASH = 2;
const LANE_VERDICT = 4;

function roundUp(n: number, a: number): number {
  return Math.ceil(n / a) * a;
}

function layout(capacity: number, byteCapacity: number, lanes: number) {
  let off = HEADER_BYTES;
  const offsets = off;
  off += capacity * 4;
  const lengths = off;
  off += capacity * 4;
  off = roundUp(off, 8);
  const timestamps = lanes & LANE_TS ? off : -1;
  if (lanes & LANE_TS) off += capacity * 8;
  const flowHashes = lanes & LANE_HASH ? off : -1;
  if (lanes & LANE_HASH) off += capacity * 4;
  const verdicts = lanes & LANE_VERDICT ? off : -1;
  if (lanes & LANE_VERDICT) off += capacity * 4;
  off = roundUp(off, 64);
  const data = off;
  return { offsets, lengths, timestamps, flowHashes, verdicts, data, total: data + byteCapacity };
}

/**
 * Many packets in one (Shared)ArrayBuffer: packet bytes back to back plus Uint32Array offsets and lengths
 * (and optional timestamp, flow-hash and verdict lanes). It is the unit that crosses to native code in one
 * call and to worker threads with no copy (`PacketBatch.attach(batch.buffer)` reopens it elsewhere).
 */
export class PacketBatch implements Iterable<Uint8Array> {
  /** The whole backing store: header, lanes and data. */
  readonly buffer: ArrayBuffer | SharedArrayBuffer;
  /** The packet-data region; offsets index into it. */
  readonly data: Uint8Array;
  readonly offsets: Uint32Array;
  readonly lengths: Uint32Array;
  /** Capture time of each packet in nanoseconds, when the lane exists. */
  readonly timestamps: BigUint64Array | null;
  readonly flowHashes: Uint32Array | null;
  readonly verdicts: Uint32Array | null;
  readonly capacity: number;
  readonly byteCapacity: number;
  readonly align: number;
  private readonly header: Int32Array;

  constructor(options: PacketBatchOptions = {}) {
    const capacity = options.capacity ?? 1024;
    const byteCapacity = options.byteCapacity ?? capacity * 2048;
    const align = options.align ?? 8;
    if (!Number.isInteger(capacity) || capacity < 1 || capacity > 0x4000000) {
      throw new NetworkError('INVALID_ARGUMENT', `capacity must be an integer in 1..2^26, got ${capacity}`, { field: 'capacity' });
    }
    if (!Number.isInteger(byteCapacity) || byteCapacity < 0 || byteCapacity > 0xffff_ffff) {
      throw new NetworkError('INVALID_ARGUMENT', `byteCapacity must be an integer in 0..2^32-1, got ${byteCapacity}`, { field: 'byteCapacity' });
    }
    if (!Number.isInteger(align) || align < 1 || align > 64 || (align & (align - 1)) !== 0) {
      throw new NetworkError('INVALID_ARGUMENT', `align must be a power of two in 1..64, got ${align}`, { field: 'align' });
    }
    const lanes = (options.timestamps ? LANE_TS : 0) | (options.flowHashes ? LANE_HASH : 0) | (options.verdicts ? LANE_VERDICT : 0);
    const l = layout(capacity, byteCapacity, lanes);
    const buffer = options.shared ? new SharedArrayBuffer(l.total) : new ArrayBuffer(l.total);
    const header = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    header[H_CAPACITY] = capacity;
    header[H_BYTE_CAPACITY] = byteCapacity | 0;
    header[H_LANES] = lanes;
    header[H_ALIGN] = align;
    header[H_MAGIC] = MAGIC;
    this.buffer = buffer;
    this.header = header;
    this.capacity = capacity;
    this.byteCapacity = byteCapacity;
    this.align = align;
    this.offsets = new Uint32Array(buffer, l.offsets, capacity);
    this.lengths = new Uint32Array(buffer, l.lengths, capacity);
    this.timestamps = l.timestamps >= 0 ? new BigUint64Array(buffer, l.timestamps, capacity) : null;
    this.flowHashes = l.flowHashes >= 0 ? new Uint32Array(buffer, l.flowHashes, capacity) : null;
    this.verdicts = l.verdicts >= 0 ? new Uint32Array(buffer, l.verdicts, capacity) : null;
    this.data = new Uint8Array(buffer, l.data, byteCapacity);
  }

  /** Reopens a batch made elsewhere (e.g. in another thread) over the same buffer, without copying. */
  static attach(buffer: ArrayBuffer | SharedArrayBuffer): PacketBatch {
    if (buffer.byteLength < HEADER_BYTES) throw new NetworkError('INVALID_ARGUMENT', 'buffer too small to hold a PacketBatch');
    const h = new Int32Array(buffer, 0, HEADER_BYTES / 4);
    if (h[H_MAGIC] !== MAGIC) throw new NetworkError('INVALID_ARGUMENT', 'buffer does not hold a PacketBatch');
    const capacity = h[H_CAPACITY]!;
    const byteCapacity = h[H_BYTE_CAPACITY]! >>> 0;
    const lanes = h[H_LANES]!;
    const l = layout(capacity, byteCapacity, lanes);
    if (l.total > buffer.byteLength) throw new NetworkError('INVALID_ARGUMENT', 'PacketBatch header does not fit its buffer');
    const b = Object.create(PacketBatch.prototype) as PacketBatch;
    const w = b as unknown as Record<string, unknown>;
    w.buffer = buffer;
    w.header = h;
    w.capacity = capacity;
    w.byteCapacity = byteCapacity;
    w.align = h[H_ALIGN]!;
    w.offsets = new Uint32Array(buffer, l.offsets, capacity);
    w.lengths = new Uint32Array(buffer, l.lengths, capacity);
    w.timestamps = l.timestamps >= 0 ? new BigUint64Array(buffer, l.timestamps, capacity) : null;
    w.flowHashes = l.flowHashes >= 0 ? new Uint32Array(buffer, l.flowHashes, capacity) : null;
    w.verdicts = l.verdicts >= 0 ? new Uint32Array(buffer, l.verdicts, capacity) : null;
    w.data = new Uint8Array(buffer, l.data, byteCapacity);
    return b;
  }

  /** A batch holding copies of the given packets, sized to fit them. */
  static fromArray(packets: readonly Uint8Array[], options: PacketBatchOptions = {}): PacketBatch {
    const align = options.align ?? 8;
    let bytes = 0;
    for (const p of packets) bytes += roundUp(p.length, align);
    const b = new PacketBatch({
      ...options,
      capacity: Math.max(options.capacity ?? 0, packets.length, 1),
      byteCapacity: Math.max(options.byteCapacity ?? 0, bytes),
      align,
    });
    for (const p of packets) b.push(p);
    return b;
  }

  /** Number of packets in the batch. */
  get length(): number {
    const n = this.header[H_COUNT];
    // A transferred (detached) ArrayBuffer reads as undefined: a typed error instead of a batch that looks empty.
    if (n === undefined) throw new NetworkError('INVALID_ARGUMENT', 'the PacketBatch buffer is detached (transferred)', { field: 'buffer' });
    return n;
  }

  /** Bytes of the data region in use (including alignment padding). */
  get bytesUsed(): number {
    return this.header[H_USED]! >>> 0;
  }

  /** Whether the buffer is a SharedArrayBuffer. */
  get shared(): boolean {
    return typeof SharedArrayBuffer !== 'undefined' && this.buffer instanceof SharedArrayBuffer;
  }

  /**
   * Reserves room for one packet of `length` bytes and returns its index and a view to fill in place,
   * or null when the batch is full.
   */
  tryReserve(length: number): { index: number; view: Uint8Array } | null {
    const count = this.header[H_COUNT]!;
    const used = this.header[H_USED]! >>> 0;
    const start = roundUp(used, this.align);
    if (count >= this.capacity || start + length > this.byteCapacity || !(length >= 0)) return null;
    this.offsets[count] = start;
    this.lengths[count] = length;
    this.header[H_USED] = start + length;
    this.header[H_COUNT] = count + 1;
    return { index: count, view: this.data.subarray(start, start + length) };
  }

  /** Like tryReserve, but throws BUFFER_FULL when there is no room. */
  reserve(length: number): { index: number; view: Uint8Array } {
    const r = this.tryReserve(length);
    if (!r) throw this.fullError(length);
    return r;
  }

  /** Copies a packet in; returns its index, or -1 when there is no room. */
  tryPush(packet: Uint8Array, timestampNs?: bigint): number {
    const r = this.tryReserve(packet.length);
    if (!r) return -1;
    r.view.set(packet);
    if (timestampNs !== undefined && this.timestamps) this.timestamps[r.index] = timestampNs;
    return r.index;
  }

  /** Copies a packet in; returns its index; throws BUFFER_FULL when there is no room. */
  push(packet: Uint8Array, timestampNs?: bigint): number {
    const i = this.tryPush(packet, timestampNs);
    if (i < 0) throw this.fullError(packet.length);
    return i;
  }

  /** Packet i as a view into the batch (no copy). */
  get(index: number): Uint8Array {
    if (!(index >= 0 && index < this.header[H_COUNT]!)) {
      throw new NetworkError('OUT_OF_BOUNDS', `packet index ${index} out of range 0..${this.length - 1}`, { field: 'index', actual: index });
    }
    const off = this.offsets[index]!;
    return this.data.subarray(off, off + this.lengths[index]!);
  }

  /**
   * Publishes packets written directly into `offsets`/`lengths`/`data` (by native code or a batch
   * engine): the batch now holds `count` packets using `bytesUsed` bytes. Every new packet must lie inside
   * the data region; the check runs over the packets added since the last fill.
   */
  setFill(count: number, bytesUsed: number): void {
    if (!Number.isInteger(count) || count < 0 || count > this.capacity) {
      throw new NetworkError('OUT_OF_BOUNDS', `packet count ${count} outside 0..${this.capacity}`, { field: 'count', actual: count });
    }
    if (!Number.isInteger(bytesUsed) || bytesUsed < 0 || bytesUsed > this.byteCapacity) {
      throw new NetworkError('OUT_OF_BOUNDS', `bytes used ${bytesUsed} outside 0..${this.byteCapacity}`, { field: 'bytesUsed', actual: bytesUsed });
    }
    for (let i = Math.min(this.length, count); i < count; i++) {
      if (this.offsets[i]! + this.lengths[i]! > bytesUsed) {
        throw new NetworkError('OUT_OF_BOUNDS', `packet ${i} ends past the ${bytesUsed} bytes in use`, { index: i, offset: this.offsets[i]! });
      }
    }
    this.header[H_USED] = bytesUsed;
    this.header[H_COUNT] = count;
  }

  /** Empties the batch (the memory is reused). */
  clear(): void {
    this.header[H_COUNT] = 0;
    this.header[H_USED] = 0;
  }

  *[Symbol.iterator](): Iterator<Uint8Array> {
    const n = this.length;
    for (let i = 0; i < n; i++) yield this.get(i);
  }

  /** Copies the packets out as separate arrays. */
  toArray(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (const p of this) out.push(p.slice());
    return out;
  }

  private fullError(length: number): NetworkError {
    return new NetworkError('BUFFER_FULL', `PacketBatch full: ${this.length}/${this.capacity} packets, ${this.bytesUsed}/${this.byteCapacity} bytes, needed ${length} more`, {
      count: this.length,
      capacity: this.capacity,
      bytesUsed: this.bytesUsed,
      byteCapacity: this.byteCapacity,
      needed: length,
    });
  }
}

/** The error of a batch run that meets packet `index` lying outside the data (same for every engine). */
export function batchLaneOutside(index: number, start: number, end: number, dataLength: number): NetworkError {
  return new NetworkError('OUT_OF_BOUNDS', `packet ${index} (${start}..${end}) lies outside the batch data (${dataLength} bytes)`, {
    field: 'offsets',
    index,
    expected: dataLength,
    actual: end,
  });
}

/** Throws unless lanes 0..count-1 exist (a detached buffer has none). */
export function checkBatchLaneCount(offsets: Uint32Array, lengths: Uint32Array, count: number): void {
  if (offsets.length < count || lengths.length < count) {
    throw new NetworkError('OUT_OF_BOUNDS', `the lanes hold ${Math.min(offsets.length, lengths.length)} packets, the run wants ${count} (detached?)`, {
      field: 'offsets',
      expected: count,
    });
  }
}

/**
 * Throws unless lanes 0..count-1 exist and every packet lies inside `data`: what the native eBPF shim checks before a
 * batch run, so the TypeScript engines fail the same way (OUT_OF_BOUNDS, before any verdict is written) on a lane
 * pointing past the data or a detached buffer.
 */
export function checkBatchLanes(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number): void {
  checkBatchLaneCount(offsets, lengths, count);
  const dataLen = data.length;
  let bad = false;
  for (let k = 0; k < count; k++) bad ||= offsets[k]! + lengths[k]! > dataLen;
  if (!bad) return;
  let k = 0;
  while (offsets[k]! + lengths[k]! <= dataLen) k++;
  throw batchLaneOutside(k, offsets[k]!, offsets[k]! + lengths[k]!, dataLen);
}
