// Internal: the output side of the batch paths (not re-exported). Appends packets to a PacketBatch with
// the same room rule native/offload.cc uses, then publishes the new count at once.
import type { PacketBatch } from '../batch.js';
import { writeMeta, type GroSink } from './gro-engine.js';

/** Sink into an output PacketBatch (same room rule as native/offload.cc: used + bytes + n·(align−1) ≤ capacity). */
export class BatchSink implements GroSink {
  count: number;
  used: number;
  private readonly b: PacketBatch;
  private readonly meta: Int32Array | null;
  private readonly am: number;

  constructor(b: PacketBatch, meta: Int32Array | null) {
    this.b = b;
    this.meta = meta;
    this.count = b.length;
    this.used = b.bytesUsed;
    this.am = b.align - 1;
  }

  fits(packets: number, bytes: number): boolean {
    return this.count + packets <= this.b.capacity && this.used + bytes + packets * this.am <= this.b.byteCapacity;
  }

  reserve(len: number): number {
    const start = (this.used + this.am) & ~this.am;
    this.b.offsets[this.count] = start;
    this.b.lengths[this.count] = len;
    this.used = start + len;
    this.count++;
    return start;
  }

  get buf(): Uint8Array {
    return this.b.data;
  }

  emit(src: Uint8Array, off: number, len: number, flags: number, gsoType: number, gsoSize: number, segments: number, hdrLen: number, csumStart: number, csumOffset: number): void {
    const i = this.count;
    const start = this.reserve(len);
    if (len > 64) this.b.data.set(src.subarray(off, off + len), start);
    else for (let k = 0; k < len; k++) this.b.data[start + k] = src[off + k]!;
    if (this.meta) writeMeta(this.meta, i, flags, gsoType, gsoSize, segments, hdrLen, csumStart, csumOffset);
  }

  /** Publishes the new count and bytes used to the batch. */
  commit(): void {
    this.b.setFill(this.count, this.used);
  }
}

