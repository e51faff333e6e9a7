// GRO and LRO: merge consecutive segments of a flow into one large packet (Linux's rules), flush on a
// timeout, on demand, or when the flow table is full. Single frames run in TypeScript; whole batches cross
// to native code in one call. Both backends share one state, so they can alternate between batches.
import { activeNative } from '../backend.js';
import type { PacketBatch } from '../batch.js';
import { NetworkError, fromNative } from '../errors.js';
import { parseIpAddressBytes } from '../wire/address.js';
import {
  C_ACTIVE,
  C_STAT_EVICTED,
  C_STAT_FLUSHED,
  C_STAT_MERGED,
  C_STAT_PASSED,
  CFG_PASSTHROUGH,
  CFG_TCP,
  CFG_UDP,
  CFG_VERIFY,
  C_CFG,
  GroEngineTs,
  createGroState,
  type GroSink,
} from './gro-engine.js';
import { BatchSink } from './batch-sink.js';
import { OFFLOAD_META_STRIDE, type VirtioNetHdr } from './virtio.js';

/** Options of a GRO/LRO context. */
export interface GroOptions {
  /** Most flows held at once; a new flow beyond it flushes the oldest (Linux holds 8 per bucket × 8). Default 64. */
  maxFlows?: number;
  /** A held flow older than this is flushed by flushTimeouts(). Milliseconds, default 1. */
  timeoutMs?: number;
  /** Merge TCP (default true). */
  tcp?: boolean;
  /** Merge equal-size UDP datagrams of a flow (UDP GRO, QUIC-style; default true). */
  udp?: boolean;
  /**
   * Verify each segment's TCP/UDP checksum before merging, as tcp4_gro_receive does; a bad one passes
   * unmerged and aggregates are marked DATA_VALID. Default false: the merged checksum is then derived from
   * the segments' own checksums (no payload read), so a corrupt input still shows as a bad checksum.
   */
  verifyChecksums?: boolean;
  /** Clock in milliseconds used when no `now` is given. Default performance.now. */
  clock?: () => number;
}

/** One packet GRO hands up: a whole Ethernet frame plus the virtio_net_hdr metadata a kernel expects. */
export interface GroPacket {
  frame: Uint8Array;
  gso: VirtioNetHdr;
}

/** Counters of a context's life so far. */
export interface GroStats {
  merged: number;
  flushed: number;
  evicted: number;
  passed: number;
  held: number;
}

/** Options of the batch entry points. */
export interface GroBatchOptions {
  /** First input packet to process (to resume after a full output). Default 0. */
  start?: number;
  /** Arrival time of the batch (milliseconds on the context's clock). */
  now?: number;
  /** Metadata lane: OFFLOAD_META_STRIDE ints per output packet, indexed like the output batch. */
  meta?: Int32Array;
}

/** What a batch call did. */
export interface GroBatchResult {
  /** Index of the first input packet not processed: input.length unless the output filled up. */
  next: number;
  /** Packets appended to the output batch. */
  produced: number;
}

/** A metadata lane for an output batch of `capacity` packets. */
export function createOffloadMetaLane(capacity: number): Int32Array {
  return new Int32Array(capacity * OFFLOAD_META_STRIDE);
}

class ArraySink implements GroSink {
  readonly out: GroPacket[] = [];
  fits(): boolean {
    return true;
  }
  emit(src: Uint8Array, off: number, len: number, flags: number, gsoType: number, gsoSize: number, segments: number, hdrLen: number, csumStart: number, csumOffset: number): void {
    this.out.push({ frame: src.slice(off, off + len), gso: { flags, gsoType, gsoSize, segments, hdrLen, csumStart, csumOffset } });
  }
}

/** An IP address as the guide passes it: bytes (4 or 16), an array of them, or text. */
export type GroIpAddress = Uint8Array | readonly number[] | string;

function addrBytes(a: GroIpAddress, what: string): Uint8Array {
  const b = typeof a === 'string' ? parseIpAddressBytes(a) : a instanceof Uint8Array ? a : Uint8Array.from(a);
  if (b.length !== 4 && b.length !== 16) throw new NetworkError('INVALID_ARGUMENT', `${what} must be 4 or 16 bytes, got ${b.length}`, { field: what, actual: b.length });
  return b;
}

function checkMeta(meta: Int32Array | undefined, output: PacketBatch): void {
  if (meta && meta.length < output.capacity * OFFLOAD_META_STRIDE) {
    throw new NetworkError('OUT_OF_BOUNDS', `metadata lane holds ${meta.length / OFFLOAD_META_STRIDE | 0} entries, output batch ${output.capacity}`, { expected: output.capacity * OFFLOAD_META_STRIDE, actual: meta.length });
  }
}

/**
 * Generic receive offload. `aggregate(frame)` returns the packets this frame completed (maybe none);
 * `flush()` and `flushTimeouts(now?)` return the rest. Frames are whole Ethernet frames (up to 8 stacked
 * VLAN tags, all part of the flow); the merged frame carries correct lengths and checksums.
 */
export class GroContext {
  /** Held-flow timeout in milliseconds. */
  timeoutMs: number;
  private readonly engine: GroEngineTs;
  private readonly clock: () => number;
  private scratchMeta: Int32Array | null = null;
  private readonly res = new Float64Array(2);
  private readonly oneOff = new Uint32Array(1);
  private readonly oneLen = new Uint32Array(1);

  constructor(options: GroOptions = {}) {
    const maxFlows = options.maxFlows ?? 64;
    if (!Number.isInteger(maxFlows) || maxFlows < 1 || maxFlows > 65536) {
      throw new NetworkError('INVALID_ARGUMENT', `maxFlows must be an integer in 1..65536, got ${maxFlows}`, { field: 'maxFlows', actual: maxFlows });
    }
    const timeoutMs = options.timeoutMs ?? 1;
    if (!(timeoutMs >= 0)) throw new NetworkError('INVALID_ARGUMENT', `timeoutMs must be ≥ 0, got ${timeoutMs}`, { field: 'timeoutMs' });
    this.timeoutMs = timeoutMs;
    this.clock = options.clock ?? (() => performance.now());
    const cfg = (options.tcp === false ? 0 : CFG_TCP) | (options.udp === false ? 0 : CFG_UDP) | (options.verifyChecksums ? CFG_VERIFY : 0);
    const s = createGroState(maxFlows, cfg);
    this.engine = new GroEngineTs(s.state, s.times, s.arena);
  }

  /** Flows held now. */
  get heldFlows(): number {
    return this.engine.state[C_ACTIVE]!;
  }

  /** Counters: segments merged, packets flushed, flows evicted by a full table, packets passed unmerged. */
  stats(): GroStats {
    const st = this.engine.state;
    return { merged: st[C_STAT_MERGED]!, flushed: st[C_STAT_FLUSHED]!, evicted: st[C_STAT_EVICTED]!, passed: st[C_STAT_PASSED]!, held: st[C_ACTIVE]! };
  }

  protected setPassthrough(on: boolean): void {
    const st = this.engine.state;
    st[C_CFG] = on ? st[C_CFG]! | CFG_PASSTHROUGH : st[C_CFG]! & ~CFG_PASSTHROUGH;
  }

  /**
   * Feeds one frame; returns the packets it completed. The guide's form `aggregate(tcpSegment, srcIp, dstIp)`
   * takes a bare TCP segment and its addresses; its packets come back as frames with a synthetic Ethernet +
   * IP header (`frame.subarray(gso.csumStart)` is the TCP segment).
   */
  aggregate(frame: Uint8Array, now?: number): GroPacket[];
  aggregate(segment: Uint8Array, srcIp: GroIpAddress, dstIp: GroIpAddress, now?: number): GroPacket[];
  aggregate(frame: Uint8Array, a?: number | GroIpAddress, b?: GroIpAddress, c?: number): GroPacket[] {
    if (!(frame instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', 'aggregate() takes a Uint8Array', { field: 'frame' });
    let f = frame;
    let now: number | undefined;
    if (a === undefined || typeof a === 'number') {
      now = a;
    } else {
      if (b === undefined) throw new NetworkError('INVALID_ARGUMENT', 'aggregate(segment, srcIp, dstIp) needs both addresses', { field: 'dstIp' });
      f = synthesizeFrame(frame, addrBytes(a, 'srcIp'), addrBytes(b, 'dstIp'));
      now = c;
    }
    const sink = new ArraySink();
    this.oneLen[0] = f.length;
    this.engine.process(f, this.oneOff, this.oneLen, 0, 1, now ?? this.clock(), sink);
    return sink.out;
  }

  /** Flushes every held flow, oldest first. */
  flush(): GroPacket[] {
    const sink = new ArraySink();
    this.engine.flushWhile(sink, Infinity);
    return sink.out;
  }

  /** Flushes the flows held for at least timeoutMs at `now` (default: the clock). */
  flushTimeouts(now?: number): GroPacket[] {
    const sink = new ArraySink();
    this.engine.flushWhile(sink, (now ?? this.clock()) - this.timeoutMs);
    return sink.out;
  }

  /**
   * Runs a whole input batch through GRO, appending completed packets to `output` (one native call when
   * the native backend is active). Stops early only when the output is full: resume with `start: next`.
   */
  aggregateBatch(input: PacketBatch, output: PacketBatch, options: GroBatchOptions = {}): GroBatchResult {
    const start = options.start ?? 0;
    const n = input.length;
    if (!Number.isInteger(start) || start < 0 || start > n) throw new NetworkError('OUT_OF_BOUNDS', `start ${start} outside 0..${n}`, { field: 'start', actual: start });
    checkMeta(options.meta, output);
    const now = options.now ?? this.clock();
    const before = output.length;
    const native = activeNative();
    if (native) {
      const meta = options.meta ?? this.scratch(output.capacity);
      const e = this.engine;
      const res = this.res;
      const next = fromNative(() =>
        native.groBatch(e.state, e.times, e.arena, input.data, input.offsets, input.lengths, start, n, now, output.data, output.offsets, output.lengths, before, output.bytesUsed, output.capacity, output.align, meta, res),
      );
      output.setFill(res[0]!, res[1]!);
      return { next, produced: res[0]! - before };
    }
    for (let i = start; i < n; i++) {
      const off = input.offsets[i]!;
      if (off + input.lengths[i]! > input.data.length) throw new NetworkError('OUT_OF_BOUNDS', `packet ${i} lies outside the batch data`, { index: i, offset: off });
    }
    const sink = new BatchSink(output, options.meta ?? null);
    const next = this.engine.process(input.data, input.offsets, input.lengths, start, n, now, sink);
    sink.commit();
    return { next, produced: sink.count - before };
  }

  /** Flushes held flows (oldest first) into a batch while it has room; returns how many. */
  flushBatch(output: PacketBatch, meta?: Int32Array): number {
    return this.flushInto(output, meta, Infinity);
  }

  /** Flushes timed-out flows into a batch while it has room; returns how many. */
  flushTimeoutsBatch(output: PacketBatch, now?: number, meta?: Int32Array): number {
    return this.flushInto(output, meta, (now ?? this.clock()) - this.timeoutMs);
  }

  private flushInto(output: PacketBatch, meta: Int32Array | undefined, olderThan: number): number {
    checkMeta(meta, output);
    const native = activeNative();
    if (native) {
      const e = this.engine;
      const res = this.res;
      const m = meta ?? this.scratch(output.capacity);
      const k = fromNative(() =>
        native.groFlush(e.state, e.times, e.arena, olderThan, output.data, output.offsets, output.lengths, output.length, output.bytesUsed, output.capacity, output.align, m, res),
      );
      output.setFill(res[0]!, res[1]!);
      return k;
    }
    const sink = new BatchSink(output, meta ?? null);
    const k = this.engine.flushWhile(sink, olderThan);
    sink.commit();
    return k;
  }

  private scratch(capacity: number): Int32Array {
    if (!this.scratchMeta || this.scratchMeta.length < capacity * OFFLOAD_META_STRIDE) this.scratchMeta = createOffloadMetaLane(capacity);
    return this.scratchMeta;
  }
}

/** GRO over a whole batch: `ctx.aggregateBatch(input, output, options)` as a function. */
export function groBatch(ctx: GroContext, input: PacketBatch, output: PacketBatch, options?: GroBatchOptions): GroBatchResult {
  return ctx.aggregateBatch(input, output, options);
}

/**
 * Large receive offload: the GRO engine behind an on/off switch, off until enable() (as in the guide).
 * Disabled, every frame passes straight through. It keeps GRO's rules rather than a NIC's looser LRO ones,
 * so what it builds can still be re-segmented exactly (Linux turns real LRO off when forwarding for that reason).
 */
export class LroContext extends GroContext {
  private on = false;

  constructor(options: GroOptions = {}) {
    super(options);
    this.setPassthrough(true);
  }

  /** Whether merging is on. */
  get enabled(): boolean {
    return this.on;
  }

  enable(): void {
    this.on = true;
    this.setPassthrough(false);
  }

  /** Turns merging off; flows already held stay until flushed. */
  disable(): void {
    this.on = false;
    this.setPassthrough(true);
  }
}

// The guide's aggregate(segment, srcIp, dstIp): wrap the bare TCP segment in Ethernet + IP so the one engine
// handles it. DF with a fixed ID 0 is what Linux calls an atomic datagram, which GRO merges.
function synthesizeFrame(seg: Uint8Array, src: Uint8Array, dst: Uint8Array): Uint8Array {
  if (src.length !== dst.length) throw new NetworkError('INVALID_ARGUMENT', 'srcIp and dstIp must both be IPv4 or both IPv6', { field: 'dstIp' });
  const v4 = src.length === 4;
  const ipLen = v4 ? 20 : 40;
  if (seg.length + (v4 ? ipLen : 0) > 65535) throw new NetworkError('INVALID_PACKET', `segment of ${seg.length} bytes does not fit an IP datagram`, { actual: seg.length });
  const f = new Uint8Array(14 + ipLen + seg.length);
  f[0] = 0x02;
  f[5] = 0x02;
  f[6] = 0x02;
  f[11] = 0x01;
  f[12] = v4 ? 0x08 : 0x86;
  f[13] = v4 ? 0x00 : 0xdd;
  const ip = 14;
  if (v4) {
    const tot = 20 + seg.length;
    f[ip] = 0x45;
    f[ip + 2] = tot >>> 8;
    f[ip + 3] = tot & 0xff;
    f[ip + 6] = 0x40;
    f[ip + 8] = 64;
    f[ip + 9] = 6;
    f.set(src, ip + 12);
    f.set(dst, ip + 16);
    let s = 0;
    for (let k = 0; k < 20; k += 2) s += (f[ip + k]! << 8) | f[ip + k + 1]!;
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    const c = ~s & 0xffff;
    f[ip + 10] = c >>> 8;
    f[ip + 11] = c & 0xff;
  } else {
    f[ip] = 0x60;
    f[ip + 4] = seg.length >>> 8;
    f[ip + 5] = seg.length & 0xff;
    f[ip + 6] = 6;
    f[ip + 7] = 64;
    f.set(src, ip + 8);
    f.set(dst, ip + 24);
  }
  f.set(seg, 14 + ipLen);
  return f;
}
