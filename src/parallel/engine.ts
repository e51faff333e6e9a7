// ParallelPacketEngine: the guide's multi-core packet processor, on piscina worker threads over shared memory.
//
// Pool path (send(), trySend(), and processBatch under backpressure 'drop'):
//   main thread (dispatcher)                         worker k (one piscina task for the engine's life)
//   copy packet into a PacketPool buffer  ─┐
//   RSS hash → indirection table → k       ├─ index ─►  SpscRing k ─► parse → eBPF filter → stages → flows
//   (one copy at ingress, like NIC DMA)   ─┘                          index back through return ring k
//                                         ◄── completion count + stats + flow table, all in shared memory
// Zero-copy path (a batch from createBatch(), attached by the workers once): one job item per worker; the
// workers claim chunks of the batch and hash them, meet at a barrier, then each processes the packets whose
// hash maps to it, in place. processBatch of any other input under 'block' copies it chunk by chunk into two
// engine-owned staging batches and runs each as such a job (the caller copies, the workers do the rest).
//
// Only 32-bit indices cross threads; nothing is posted per packet. The dispatcher never blocks the event
// loop: when the pool or a ring is full it either awaits (Atomics.waitAsync) or drops, by policy, and counts.
import { existsSync } from 'node:fs';
import { dirname, join, resolve as resolvePath, isAbsolute } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { MessageChannel, type MessagePort } from 'node:worker_threads';
import { Piscina } from 'piscina';
import { getBackend } from '../backend.js';
import { PacketBatch, type PacketBatchOptions } from '../batch.js';
import { NetworkError, isNetworkError } from '../errors.js';
import { BpfProgram } from '../ebpf/index.js';
import { compileFilter } from '../filter/index.js';
import { PacketPool } from '../ring/pool.js';
import { blockUntilAsync, nextPowerOfTwo } from '../ring/ring-header.js';
import { SpscRing } from '../ring/spsc.js';
import { frameRssHash, rssIndirectionTable, RSS_RETA_SIZE } from './distributor.js';
import {
  CTL_ABORT,
  CTL_BYTES,
  CTL_DONE_EPOCH,
  CTL_EXITED,
  CTL_FILTER_ENGINE,
  CTL_MAIN_WAITERS,
  CTL_STATE,
  FILTER_ENGINES,
  JOB_BATCH_ID,
  JOB_COUNT,
  JOB_DONE,
  JOB_DONE_EPOCH,
  JOB_CLAIM,
  JOB_HASHED,
  JOB_ITEM,
  JOB_MAIN_WAITERS,
  JOB_TAG,
  JOB_SLOTS,
  JOB_WORDS,
  CTL_PROCESSED,
  CTL_WORDS,
  STAT_ACCEPTED,
  STAT_BYTES,
  STAT_FILTERED,
  STAT_FLOW_OVERFLOW,
  STAT_NON_IP,
  STAT_PACKETS,
  STAT_SLOTS,
  STAT_STAGE_DROPPED,
  type EngineFilterSpec,
  type EngineStageSpec,
  type EngineWorkerInit,
  type EngineWorkerSummary,
  tuplesLaneBytes,
} from './engine-layout.js';
import type { FlowLinkType } from './flow-key.js';
import { FlowTable, type FlowStat } from './flow-table.js';
import { RSS_DEFAULT_KEY, RSS_SYMMETRIC_KEY, toeplitzHasher, type ToeplitzHasher } from './rss.js';

/** What to do when the pool or a worker's ring is full: wait for room, or drop the packet (counted). */
export type BackpressurePolicy = 'block' | 'drop';

/** A user stage: the path or URL of a JavaScript module (see the README), with options for its init(). */
export type EngineStage = string | URL | { module: string | URL; options?: unknown };

/** Options of a ParallelPacketEngine. */
export interface ParallelEngineOptions {
  /** Bytes per pool buffer (default 2048; longer packets are truncated, their wire length still counted). */
  bufSize?: number;
  /** Slots of each worker's ring (power of two; default: enough for every pool buffer). */
  ringCapacity?: number;
  /** Flow-table entries per worker (power of two, default 65536); new flows beyond it are counted as overflow. */
  maxFlowsPerWorker?: number;
  /** RSS key (default RSS_DEFAULT_KEY). */
  rssKey?: Uint8Array;
  /** Use RSS_SYMMETRIC_KEY so both directions of a flow go to one worker (overrides rssKey). */
  symmetric?: boolean;
  /** Link layer of the frames (default 'ethernet'). */
  link?: FlowLinkType;
  /** User stages, run in order in every worker after parsing (and the filter). */
  stages?: EngineStage[];
  /**
   * eBPF filter run in every worker before the stages: eBPF assembly text, instruction bytes, or
   * `{ expression: 'tcp dst port 80' }` (a pcap-filter expression compiled by src/filter). r0 = 0 drops.
   * It is verified here (errors throw from the constructor) and compiled again inside each worker, by `engine`
   * when named, else by the default of the backend selected when the engine was created (the native x86-64
   * JIT on 'native', the JavaScript JIT on 'ts'); results and stats() report which one runs (filterEngine).
   */
  filter?: string | Uint8Array | EngineFilterSpec | { expression: string; engine?: string };
  /** Full pool/ring behaviour for processBatch/send (default 'block'). */
  backpressure?: BackpressurePolicy;
  /** Indices a worker takes per ring pop (default 256). */
  burst?: number;
  /** Probes an idle worker spins before it sleeps in Atomics.wait (default 256: batches take milliseconds, so a ~50 µs wake-up costs little, while spinning steals the core from a busy thread whenever threads outnumber cores). */
  spin?: number;
}

/** Per-worker counts (for one batch in a processBatch result, or cumulative from stats()). */
export interface WorkerPacketStats {
  worker: number;
  /** Packets the worker finished (accepted, filtered or dropped by a stage). */
  packets: number;
  /** Their wire bytes. */
  bytes: number;
  /** Packets that passed the filter and every stage. */
  accepted: number;
  /** Packets the eBPF filter dropped. */
  filtered: number;
  /** Packets a user stage dropped. */
  stageDropped: number;
  /** Accepted packets that were not IPv4/IPv6 (no flow). */
  nonIp: number;
}

/** What processBatch resolves to. */
export interface ParallelBatchResult {
  /** Packets of the batch the workers finished. */
  packets: number;
  /** Their wire bytes. */
  bytes: number;
  /** Packets dropped by backpressure (policy 'drop'); packets + dropped = batch size. */
  dropped: number;
  perWorker: WorkerPacketStats[];
  /** The batch's flows, with the batch's counts. */
  flows: FlowStat[];
  /** Wall time from submit to the last completion. */
  seconds: number;
  /** The eBPF engine the workers ran the filter on ('native' = x86-64 JIT, 'js', 'interpreter'); null without a filter. */
  filterEngine: string | null;
}

/** Cumulative counters of an engine. */
export interface ParallelEngineStats {
  submitted: number;
  processed: number;
  dropped: number;
  /** Packets that entered a ring but were not processed (only after close({ drain: false }) or a failure). */
  abandoned: number;
  flowOverflow: number;
  perWorker: WorkerPacketStats[];
  /** As in ParallelBatchResult; also null while the workers are still starting. */
  filterEngine: string | null;
}

/**
 * Packets the dispatcher stages per worker before pushing them as one burst: each push may wake a sleeping
 * worker (a futex call, microseconds), so bursts keep wake-ups rare relative to packets.
 */
const STAGE = 256;

/** Packets and data bytes of each of the copying path's two staging batches (a chunk ends when either fills). */
const STAGING_PACKETS = 16384;
const STAGING_BYTES = 4 << 20;

function defaultWorkerUrl(): URL {
  const here = fileURLToPath(import.meta.url);
  if (here.endsWith('.js')) return pathToFileURL(join(dirname(here), 'worker.js'));
  // Running from the TypeScript sources (e.g. under vitest): workers load the compiled copy in dist/.
  return pathToFileURL(join(dirname(here), '..', '..', 'dist', 'src', 'parallel', 'worker.js'));
}

function stageSpec(s: EngineStage): EngineStageSpec {
  const m = typeof s === 'string' || s instanceof URL ? s : s.module;
  const options = typeof s === 'string' || s instanceof URL ? undefined : s.options;
  let module: string;
  if (m instanceof URL) module = m.href;
  else if (m.startsWith('file:') || m.startsWith('data:')) module = m;
  else if (isAbsolute(m) || m.startsWith('.')) module = pathToFileURL(resolvePath(m)).href;
  else module = m; // a package specifier, resolved from the worker
  return { module, options };
}

/**
 * Packets processed by `workers` worker threads over shared memory, distributed by RSS so every packet of a
 * flow is handled by the same worker. `bufferBytes` sizes the shared packet pool.
 */
export class ParallelPacketEngine {
  readonly workers: number;
  private readonly pool: PacketPool;
  readonly backpressure: BackpressurePolicy;
  private readonly piscina: Piscina;
  private readonly rings: SpscRing[];
  private readonly ctl: Int32Array[];
  private readonly global: Int32Array;
  private readonly statWords: Float64Array;
  private readonly flowTables: FlowTable[];
  private readonly tags: Uint32Array;
  private readonly hasher: ToeplitzHasher;
  private readonly reta: Uint8Array;
  private readonly link: FlowLinkType;
  private readonly tuple = new Int32Array(4);
  private readonly tasks: Promise<EngineWorkerSummary | null>[];
  /** Packets pushed into ring k (wrapping 32-bit, compared with the worker's PROCESSED). */
  private readonly submitted: Int32Array;
  private submittedTotal = 0;
  private droppedTotal = 0;
  private failure: NetworkError | null = null;
  private closing: Promise<ParallelEngineStats> | null = null;
  private aborting = false;
  private pushedBytes = 0;
  private chain: Promise<unknown> = Promise.resolve();
  private epoch = 0;
  // The engine owns every pool buffer: free indices live in this stack (dispatcher-only), and workers hand
  // finished ones back through their own SPSC return ring, so no per-packet atomic operation is needed.
  private readonly free: Uint32Array;
  private freeLen = 0;
  private readonly returns: SpscRing[];
  // Per-worker staging of indices, pushed to the ring in bursts.
  private readonly staged: Uint32Array[];
  private readonly stagedLen: Int32Array;
  private busyMs = 0;
  /** The zero-copy job blocks (JOB_SLOTS); the copying path alternates between them. */
  private readonly jobs: Int32Array[];
  /** The copying path's two staging batches (see ingestStaged), made on first use. */
  private staging: { batch: PacketBatch; id: number; wire: Uint32Array }[] | null = null;
  private readonly ports: MessagePort[] = [];
  private readonly registered = new WeakMap<ArrayBufferLike, number>();
  private nextBatchId = 1;
  private readonly slabWords: Int32Array;
  private wordSrc: Int32Array | null = null;
  private wordSrcBuffer: ArrayBufferLike | null = null;
  private activeSince = -1;
  private readonly hasFilter: boolean;

  constructor(workers: number, bufferBytes: number, options: ParallelEngineOptions = {}) {
    if (!Number.isInteger(workers) || workers < 1 || workers > 64) {
      throw new NetworkError('INVALID_ARGUMENT', `workers must be an integer in 1..64, got ${workers}`, { field: 'workers', actual: workers });
    }
    const bufSize = options.bufSize ?? 2048;
    const stride = Math.ceil(bufSize / 64) * 64;
    const count = Math.floor(bufferBytes / stride);
    if (!(count >= 2)) {
      throw new NetworkError('INVALID_ARGUMENT', `bufferBytes ${bufferBytes} holds fewer than 2 buffers of ${bufSize} bytes`, { field: 'bufferBytes', actual: bufferBytes });
    }
    this.workers = workers;
    this.backpressure = options.backpressure ?? 'block';
    if (this.backpressure !== 'block' && this.backpressure !== 'drop') {
      throw new NetworkError('INVALID_ARGUMENT', `backpressure must be 'block' or 'drop'`, { field: 'backpressure', actual: String(this.backpressure) });
    }
    this.link = options.link ?? 'ethernet';
    this.hasher = toeplitzHasher(options.symmetric ? RSS_SYMMETRIC_KEY : (options.rssKey ?? RSS_DEFAULT_KEY));
    this.reta = rssIndirectionTable(workers);
    this.pool = new PacketPool(count, bufSize);
    const ringCapacity = options.ringCapacity ?? nextPowerOfTwo(count);
    const ctlBuf = new SharedArrayBuffer(workers * CTL_BYTES + 64);
    const statsBuf = new SharedArrayBuffer(workers * STAT_SLOTS * 8);
    const tagsBuf = new SharedArrayBuffer(count * 4);
    this.ctl = Array.from({ length: workers }, (_, w) => new Int32Array(ctlBuf, w * CTL_BYTES, CTL_WORDS));
    this.global = new Int32Array(ctlBuf, workers * CTL_BYTES, 16);
    this.statWords = new Float64Array(statsBuf);
    this.tags = new Uint32Array(tagsBuf);
    this.rings = Array.from({ length: workers }, () => new SpscRing(ringCapacity, { spin: 256 }));
    this.returns = Array.from({ length: workers }, () => new SpscRing(nextPowerOfTwo(count), { spin: 256 }));
    this.free = new Uint32Array(count);
    this.freeLen = this.pool.acquireBulk(this.free, 0, count);
    this.slabWords = new Int32Array(this.pool.sharedBuffer, this.pool.slab.byteOffset, this.pool.slab.byteLength >>> 2);
    this.flowTables = Array.from({ length: workers }, () => new FlowTable(options.maxFlowsPerWorker ?? 65536));
    this.submitted = new Int32Array(workers);
    this.staged = Array.from({ length: workers }, () => new Uint32Array(STAGE));
    this.stagedLen = new Int32Array(workers);

    const filter = ParallelPacketEngine.prepareFilter(options.filter, this.link);
    this.hasFilter = filter !== null;
    const backend = getBackend();
    const stages = (options.stages ?? []).map(stageSpec);
    const workerUrl = defaultWorkerUrl();
    if (!existsSync(fileURLToPath(workerUrl))) {
      throw new NetworkError('UNSUPPORTED', `worker file ${fileURLToPath(workerUrl)} is missing: build first (npx tsc -p .)`, { field: 'worker' });
    }
    this.piscina = new Piscina({
      filename: workerUrl.href,
      minThreads: workers,
      maxThreads: workers,
      concurrentTasksPerWorker: 1,
      idleTimeout: Infinity,
    });
    const jobBuf = new SharedArrayBuffer(JOB_SLOTS * JOB_WORDS * 4);
    this.jobs = Array.from({ length: JOB_SLOTS }, (_, k) => new Int32Array(jobBuf, k * JOB_WORDS * 4, JOB_WORDS));
    const rssKey = this.hasher.key.slice();
    this.tasks = this.rings.map((ring, w) => {
      const { port1, port2 } = new MessageChannel();
      port1.unref();
      this.ports.push(port1);
      const init: EngineWorkerInit = {
        job: jobBuf,
        rssKey,
        port: port2,
        worker: w,
        workers,
        pool: this.pool.sharedBuffer,
        ring: ring.sharedBuffer,
        returns: this.returns[w]!.sharedBuffer,
        spin: options.spin ?? 256,
        ctl: ctlBuf,
        stats: statsBuf,
        flows: this.flowTables[w]!.sharedBuffer,
        tags: tagsBuf,
        link: this.link,
        stages,
        filter,
        backend,
        burst: options.burst ?? 256,
      };
      return (this.piscina.run(init, { transferList: [port2] }) as Promise<EngineWorkerSummary>).catch((e: unknown) => {
        this.workerFailed(w, e);
        return null;
      });
    });
  }

  /** Verifies the filter on this thread (so a bad program fails the constructor) and turns it into bytes/text. */
  private static prepareFilter(f: ParallelEngineOptions['filter'], link: FlowLinkType): EngineFilterSpec | null {
    if (f === undefined) return null;
    if (typeof f === 'string' || f instanceof Uint8Array) f = { source: f };
    if ('expression' in f) {
      // LINKTYPE_ETHERNET = 1, LINKTYPE_RAW = 101 (libpcap's link-layer header types).
      const program = compileFilter(f.expression, { linktype: link === 'raw' ? 101 : 1 });
      return { source: program.encode(), engine: f.engine };
    }
    const program = typeof f.source === 'string' ? BpfProgram.fromAssembly(f.source) : BpfProgram.fromBytes(f.source);
    program.verify();
    return { source: f.source, engine: f.engine };
  }

  private workerFailed(w: number, e: unknown): void {
    if (this.failure) return;
    const unprocessed = (this.submitted[w]! - Atomics.load(this.ctl[w]!, CTL_PROCESSED)) | 0;
    const msg = e instanceof Error ? e.message : String(e);
    this.failure = new NetworkError('WORKER_FAILED', `worker ${w} failed: ${msg}`, { worker: w, unprocessed }, { cause: e });
  }

  /** Inside running work: stop on a worker failure or an aborting close. */
  private check(): void {
    if (this.failure) throw this.failure;
    if (this.aborting) throw new NetworkError('CLOSED', 'ParallelPacketEngine was closed without draining');
  }

  /** At a public call: also refuse new work once close() has been called. */
  private closedError(): NetworkError | null {
    if (this.failure) return this.failure;
    if (this.closing) return new NetworkError('CLOSED', 'ParallelPacketEngine is closed');
    return null;
  }

  // ---- ingest ----------------------------------------------------------------------------------------

  /** Takes finished buffers back from the workers' return rings. */
  private reclaim(): number {
    let got = 0;
    for (let w = 0; w < this.workers; w++) {
      const k = this.returns[w]!.popBulk(this.free, this.freeLen, this.free.length - this.freeLen);
      this.freeLen += k;
      got += k;
    }
    return got;
  }

  private takeIndex(): number {
    if (this.freeLen === 0 && this.reclaim() === 0) return -1;
    return this.free[--this.freeLen]!;
  }

  private giveBack(src: Uint32Array, start: number, n: number): void {
    for (let j = 0; j < n; j++) this.free[this.freeLen++] = src[start + j]!;
  }

  /** Waits (asynchronously) until some worker returns a buffer. */
  private async waitForBuffer(): Promise<void> {
    // Wait on the worker with the most packets in flight: it is the one that will free buffers soonest.
    let best = 0;
    let most = -1;
    for (let w = 0; w < this.workers; w++) {
      const n = (this.submitted[w]! - this.processedOf(w)) | 0;
      if (n > most) {
        most = n;
        best = w;
      }
    }
    await this.returns[best]!.waitForDataAsync(20);
  }

  /** Copies one packet into a pool buffer and stages it for its worker; returns the worker, or -1 (no buffer). */
  private place(packet: Uint8Array, off: number, len: number, tag: number): number {
    const i = this.takeIndex();
    if (i < 0) return -1;
    const pool = this.pool;
    const cap = len < pool.bufSize ? len : pool.bufSize;
    const dst = i * pool.stride;
    if (off === 0 && cap === packet.length) {
      pool.slab.set(packet, dst);
    } else if (cap <= 256 && ((packet.byteOffset + off) & 3) === 0 && packet.buffer === this.wordSrcBuffer) {
      // Small aligned packets from a PacketBatch: copy 32-bit words, no subarray allocation.
      const src = this.wordSrc!;
      const d = this.slabWords;
      const s0 = (packet.byteOffset + off) >>> 2;
      const d0 = dst >>> 2;
      const words = (cap + 3) >>> 2;
      for (let k = 0; k < words; k++) d[d0 + k] = src[s0 + k]!;
    } else {
      pool.slab.set(packet.subarray(off, off + cap), dst);
    }
    pool.lengths[i] = len;
    const hash = frameRssHash(this.hasher, pool.slab, dst, cap, this.tuple, this.link);
    pool.meta[i] = hash;
    this.tags[i] = tag;
    const w = this.reta[hash & (RSS_RETA_SIZE - 1)]!;
    const st = this.staged[w]!;
    const n = this.stagedLen[w]!;
    st[n] = i;
    this.stagedLen[w] = n + 1;
    return w;
  }

  /** Pushes worker w's staged indices; returns how many could not go in (the ring was full). */
  private pushStaged(w: number): number {
    const n = this.stagedLen[w]!;
    if (n === 0) return 0;
    const st = this.staged[w]!;
    const k = this.rings[w]!.pushBulk(st, 0, n);
    const lengths = this.pool.lengths;
    for (let j = 0; j < k; j++) this.pushedBytes += lengths[st[j]!]!;
    this.submitted[w] = (this.submitted[w]! + k) | 0;
    this.submittedTotal += k;
    if (k < n) this.staged[w]!.copyWithin(0, k, n);
    this.stagedLen[w] = n - k;
    return n - k;
  }

  /** Drops worker w's staged indices (policy 'drop'): buffers back to the pool, counted. */
  private dropStaged(w: number): number {
    const n = this.stagedLen[w]!;
    this.giveBack(this.staged[w]!, 0, n);
    this.stagedLen[w] = 0;
    this.droppedTotal += n;
    return n;
  }

  private markActive(): void {
    if (this.activeSince < 0) this.activeSince = performance.now();
  }

  /** Flushes staging for worker w, applying the backpressure policy; returns packets dropped. */
  private async flushWorker(w: number, policy: BackpressurePolicy): Promise<number> {
    while (this.pushStaged(w) > 0) {
      if (policy === 'drop') return this.dropStaged(w);
      const r = await this.rings[w]!.waitForSpaceAsync(50);
      this.check();
      if (r === 'closed') throw new NetworkError('CLOSED', 'ParallelPacketEngine is closed');
    }
    return 0;
  }

  private async flushAll(policy: BackpressurePolicy): Promise<number> {
    let dropped = 0;
    for (let w = 0; w < this.workers; w++) dropped += await this.flushWorker(w, policy);
    return dropped;
  }

  /** Feeds packets in, applying the policy; returns how many were dropped. */
  private async ingest(packets: Uint8Array[] | PacketBatch, tag: number, policy: BackpressurePolicy): Promise<number> {
    this.markActive();
    let dropped = 0;
    const isArray = Array.isArray(packets);
    const batch = isArray ? null : (packets as PacketBatch);
    const arr = isArray ? (packets as Uint8Array[]) : null;
    if (batch) {
      // Word view over the batch's buffer for the aligned small-packet copy in place().
      this.wordSrcBuffer = batch.data.buffer;
      this.wordSrc = new Int32Array(batch.data.buffer, 0, batch.data.buffer.byteLength >>> 2);
    }
    const n = isArray ? arr!.length : batch!.length;
    for (let p = 0; p < n; p++) {
      let data: Uint8Array;
      let off: number;
      let len: number;
      if (arr) {
        data = arr[p]!;
        off = 0;
        len = data.length;
      } else {
        data = batch!.data;
        off = batch!.offsets[p]!;
        len = batch!.lengths[p]!;
      }
      let w = this.place(data, off, len, tag);
      while (w < 0) {
        // Pool exhausted: hand over what is staged so workers can free buffers, then wait or drop.
        dropped += await this.flushAll(policy);
        w = this.place(data, off, len, tag);
        if (w >= 0) break;
        if (policy === 'drop') {
          dropped++;
          this.droppedTotal++;
          break;
        }
        await this.waitForBuffer();
        this.check();
      }
      // Hand a full burst over synchronously; only a full ring takes the (awaiting) slow path.
      if (w >= 0 && this.stagedLen[w] === STAGE && this.pushStaged(w) > 0) dropped += await this.flushWorker(w, policy);
    }
    dropped += await this.flushAll(policy);
    return dropped;
  }

  private processedOf(w: number): number {
    return Atomics.load(this.ctl[w]!, CTL_PROCESSED);
  }

  /** Resolves when every packet submitted so far has been processed. */
  private async waitDrained(targets: Int32Array): Promise<void> {
    for (let w = 0; w < this.workers; w++) {
      const ctl = this.ctl[w]!;
      const target = targets[w]!;
      const ready = () => ((Atomics.load(ctl, CTL_PROCESSED) - target) | 0) >= 0;
      while (!ready()) {
        if (this.failure) throw this.failure;
        const r = await blockUntilAsync(ctl, ready, CTL_MAIN_WAITERS, CTL_DONE_EPOCH, 50);
        if (r === 'closed' && !ready()) {
          // The worker loop ended without finishing our packets: it failed (the task rejection names the
          // cause; give it a moment to arrive) or the engine was closed without draining.
          await Promise.race([this.tasks[w], new Promise((res) => setTimeout(res, 100))]);
          if (this.failure) throw this.failure;
          throw new NetworkError('CLOSED', `ParallelPacketEngine closed before worker ${w} finished`, {
            worker: w,
            unprocessed: (target - Atomics.load(ctl, CTL_PROCESSED)) | 0,
          });
        }
      }
    }
  }

  private snapshotStats(): Float64Array {
    return this.statWords.slice();
  }

  /** A new batch tag (never 0: tag 0 marks packets sent without a batch). */
  private nextTag(): number {
    return (this.epoch = (this.epoch + 1) >>> 0 || 1);
  }

  /**
   * A finished batch's result from the workers' counters since `before`. Without `bytes`, the bytes are what the
   * workers counted (every packet's, filtered and stage-dropped ones too): no pass over the batch here.
   */
  private batchResult(before: Float64Array, tag: number, t0: number, packets: number, dropped: number, bytes?: number): ParallelBatchResult {
    const perWorker = this.perWorker(before);
    let total = bytes ?? 0;
    if (bytes === undefined) for (const s of perWorker) total += s.bytes;
    return {
      packets,
      bytes: total,
      dropped,
      perWorker,
      flows: this.flowsOf(tag),
      seconds: (performance.now() - t0) / 1000,
      filterEngine: this.filterEngine(),
    };
  }

  /** Every worker's flows (of batch `tag`, or all) in one array. */
  private flowsOf(tag: number | undefined): FlowStat[] {
    const out: FlowStat[] = [];
    for (let w = 0; w < this.workers; w++) this.flowTables[w]!.snapshot(w, tag, out);
    return out;
  }

  private perWorker(before?: Float64Array): WorkerPacketStats[] {
    const s = this.statWords;
    return Array.from({ length: this.workers }, (_, w) => {
      const b = w * STAT_SLOTS;
      const d = (k: number) => s[b + k]! - (before ? before[b + k]! : 0);
      return {
        worker: w,
        packets: d(STAT_PACKETS),
        bytes: d(STAT_BYTES),
        accepted: d(STAT_ACCEPTED),
        filtered: d(STAT_FILTERED),
        stageDropped: d(STAT_STAGE_DROPPED),
        nonIp: d(STAT_NON_IP),
      };
    });
  }

  private settleBusy(): void {
    if (this.activeSince >= 0 && this.outstanding() === 0) {
      this.busyMs += performance.now() - this.activeSince;
      this.activeSince = -1;
    }
  }

  private outstanding(): number {
    let n = 0;
    for (let w = 0; w < this.workers; w++) n += (this.submitted[w]! - this.processedOf(w)) | 0;
    for (let w = 0; w < this.workers; w++) n += this.stagedLen[w]!;
    return n;
  }

  // ---- public API ------------------------------------------------------------------------------------

  /**
   * A PacketBatch in shared memory that the workers know: fill it (e.g. straight from a capture) and pass it
   * to processBatch, and it is processed in place — no copy, no dispatcher: each worker hashes a slice of
   * the batch, then processes the packets whose RSS hash maps to it. Reuse it for the next batch (clear()).
   */
  createBatch(options: Omit<PacketBatchOptions, 'shared' | 'flowHashes'> = {}): PacketBatch {
    const refused = this.closedError();
    if (refused) throw refused;
    const batch = new PacketBatch({ ...options, shared: true, flowHashes: true });
    const id = this.nextBatchId++;
    // Announced once per batch; workers read it synchronously (receiveMessageOnPort) on first use.
    // With it goes a lane the workers use between their two phases (flow-key.ts, packTuple).
    const tuples = new SharedArrayBuffer(tuplesLaneBytes(batch.capacity));
    for (const p of this.ports) p.postMessage({ id, buffer: batch.buffer, tuples });
    this.registered.set(batch.buffer, id);
    return batch;
  }

  /** The zero-copy path of processBatch for a batch from createBatch(). */
  private async runJob(batch: PacketBatch, id: number, tag: number): Promise<void> {
    // Finish what is in flight first, so the job's per-worker counts are its own.
    await this.flushAll('block');
    await this.waitDrained(this.submitted.slice());
    const n = batch.length;
    if (n === 0) return;
    this.markActive();
    await this.postJob(0, id, n, tag);
    await this.awaitJob(0);
    this.settleBusy();
  }

  /** Queues job `slot` (packets [0, n) of registered batch `id`) behind whatever each worker's ring holds. */
  private async postJob(slot: number, id: number, n: number, tag: number): Promise<void> {
    const job = this.jobs[slot]!;
    job[JOB_BATCH_ID] = id;
    job[JOB_COUNT] = n;
    job[JOB_TAG] = tag | 0;
    Atomics.store(job, JOB_HASHED, 0);
    Atomics.store(job, JOB_CLAIM, 0);
    Atomics.store(job, JOB_DONE, 0);
    for (let w = 0; w < this.workers; w++) {
      while (!this.rings[w]!.tryPush((JOB_ITEM | slot) >>> 0)) {
        await this.rings[w]!.waitForSpaceAsync(50);
        this.check();
      }
    }
    this.submittedTotal += n;
  }

  /** Resolves when every worker has finished job `slot` (sleeping in Atomics.waitAsync meanwhile). */
  private async awaitJob(slot: number): Promise<void> {
    const job = this.jobs[slot]!;
    const W = this.workers;
    const ready = () => Atomics.load(job, JOB_DONE) >= W;
    while (!ready()) {
      this.check();
      for (let w = 0; w < W; w++) {
        if (Atomics.load(this.ctl[w]!, CTL_EXITED) !== 0 && !ready()) {
          await Promise.race([this.tasks[w], new Promise((res) => setTimeout(res, 100))]);
          this.check();
          throw new NetworkError('CLOSED', `ParallelPacketEngine closed before worker ${w} finished the batch`, { worker: w });
        }
      }
      await blockUntilAsync(job, ready, JOB_MAIN_WAITERS, JOB_DONE_EPOCH, 50);
    }
  }

  /** The copying path's staging batches: shared, announced to the workers like createBatch() ones. */
  private stagingBatches(): { batch: PacketBatch; id: number; wire: Uint32Array }[] {
    if (this.staging) return this.staging;
    this.staging = Array.from({ length: JOB_SLOTS }, () => {
      // Room for at least one packet of bufSize, whatever bufSize is (else a chunk could never take one).
      const byteCapacity = Math.max(STAGING_BYTES, Math.ceil(this.pool.bufSize / 8) * 8);
      const batch = new PacketBatch({ capacity: STAGING_PACKETS, byteCapacity, shared: true, flowHashes: true });
      const wire = new Uint32Array(new SharedArrayBuffer(STAGING_PACKETS * 4));
      const id = this.nextBatchId++;
      const tuples = new SharedArrayBuffer(tuplesLaneBytes(STAGING_PACKETS));
      for (const p of this.ports) p.postMessage({ id, buffer: batch.buffer, wire: wire.buffer, tuples });
      return { batch, id, wire };
    });
    return this.staging;
  }

  /**
   * The copying path under policy 'block': copies the packets, chunk by chunk, into two shared staging
   * batches and runs each chunk as a zero-copy job, the next chunk queued behind the running one. The
   * calling thread only copies (one copy at ingress, as before); hashing, worker selection and processing
   * happen in the workers, so the caller is idle while they run instead of being a third busy thread.
   */
  private async ingestStaged(packets: Uint8Array[] | PacketBatch, tag: number): Promise<void> {
    const st = this.stagingBatches();
    const n = packets.length;
    this.markActive();
    const queued: number[] = [];
    let slot = 0;
    for (let p = 0; p < n; ) {
      // Slot `slot` is free once its previous job is done; the other slot's job keeps the workers busy.
      if (queued.length === JOB_SLOTS) await this.awaitJob(queued.shift()!);
      const s = st[slot]!;
      const k = this.fillStaging(s.batch, s.wire, packets, p);
      await this.postJob(slot, s.id, k, tag);
      queued.push(slot);
      p += k;
      slot = (slot + 1) % JOB_SLOTS;
    }
    for (const q of queued) await this.awaitJob(q);
  }

  /**
   * Copies packets from position p on into staging batch b (packets cut to bufSize, their wire lengths in
   * `wire`) until it is full; returns how many. A PacketBatch goes through copyRuns as it is; a Uint8Array[]
   * in spans of views into one buffer, described as offset/length lanes over that buffer (its only own step).
   */
  private fillStaging(b: PacketBatch, wire: Uint32Array, packets: Uint8Array[] | PacketBatch, p: number): number {
    const n = Math.min(packets.length - p, b.capacity);
    this.copyUsed = 0;
    if (!Array.isArray(packets)) {
      const src = packets as PacketBatch;
      return this.copyRuns(b, wire, 0, src.data.buffer, src.data.byteOffset, src.data.length, src.offsets, src.lengths, p, n);
    }
    const offs = (this.spanOffsets ??= new Uint32Array(b.capacity));
    const lens = (this.spanLengths ??= new Uint32Array(b.capacity));
    // Views in [k, k + m) lie in `buf` (read .buffer once per view: on small arrays it is not free).
    let k = 0;
    let m = 0;
    let buf: ArrayBufferLike | null = null;
    for (let i = 0; i < n; i++) {
      const v = packets[p + i]!;
      const vb = v.buffer;
      if (vb !== buf && m > 0) {
        const got = this.copyRuns(b, wire, k, buf!, 0, buf!.byteLength, offs, lens, 0, m);
        k += got;
        if (got < m) return k;
        m = 0;
      }
      buf = vb;
      offs[m] = v.byteOffset;
      lens[m] = v.length;
      m++;
    }
    if (m > 0) k += this.copyRuns(b, wire, k, buf!, 0, buf!.byteLength, offs, lens, 0, m);
    return k;
  }

  /** Bytes of the staging batch used so far by the chunk being filled (copyRuns' state between calls). */
  private copyUsed = 0;
  private spanOffsets: Uint32Array | null = null;
  private spanLengths: Uint32Array | null = null;

  /**
   * Copies packets [p, p + n) of a source into staging batch b from position k0 on; returns how many fit. The
   * source: offset/length lanes into a data region of `srcLen` bytes from byte `base` of `buffer`. Packets that follow each other in `data` move as one run
   * with one copy: a TypedArray.set per 64-byte packet costs more than the bytes (~35 ns against ~5 ns for
   * its share of a long copy).
   */
  private copyRuns(
    b: PacketBatch, wire: Uint32Array, k0: number, buffer: ArrayBufferLike, base: number, srcLen: number,
    srcOffsets: Uint32Array, srcLengths: Uint32Array, p: number, n: number,
  ): number {
    const bufSize = this.pool.bufSize;
    const dst = b.data;
    const offsets = b.offsets;
    const lengths = b.lengths;
    const room = b.byteCapacity;
    // The open run: bytes [runStart, runEnd) of the region land at dst[runDst].
    let runStart = 0;
    let runEnd = 0;
    let runDst = 0;
    let used = this.copyUsed;
    let j = 0;
    for (; j < n; j++) {
      const off = srcOffsets[p + j]!;
      const len = srcLengths[p + j]!;
      let cap = len < bufSize ? len : bufSize;
      // Never read outside the source's data region (as subarray would clamp): copy what is there.
      const start = off < srcLen ? off : srcLen;
      if (cap > srcLen - start) cap = srcLen - start;
      const at = runDst + (start - runStart);
      const k = k0 + j;
      // Extend the run when this packet follows the last one (at most 7 bytes of padding between).
      if (start >= runEnd && start - runEnd < 8 && runEnd > runStart && at + cap <= room) {
        offsets[k] = at;
        runEnd = start + cap;
        used = (at + cap + 7) & ~7;
      } else {
        if (runEnd > runStart) dst.set(new Uint8Array(buffer, base + runStart, runEnd - runStart), runDst);
        runEnd = runStart;
        if (used + cap > room) break;
        runStart = start;
        runEnd = start + cap;
        runDst = used;
        offsets[k] = used;
        used = (used + cap + 7) & ~7;
      }
      lengths[k] = cap;
      wire[k] = len;
    }
    if (runEnd > runStart) dst.set(new Uint8Array(buffer, base + runStart, runEnd - runStart), runDst);
    this.copyUsed = used;
    return j;
  }

  /**
   * Processes a batch and resolves when every packet of it is done, with the batch's counts, per-worker
   * counts and flows. Batches run one after another (calls queue). Under policy 'drop', packets that found
   * the pool or their ring full are counted in `dropped`. A batch from createBatch() is processed in place.
   */
  processBatch(packets: Uint8Array[] | PacketBatch): Promise<ParallelBatchResult> {
    const refused = this.closedError();
    if (refused) return Promise.reject(refused);
    const run = async (): Promise<ParallelBatchResult> => {
      this.check();
      const zid = packets instanceof PacketBatch ? this.registered.get(packets.buffer) : undefined;
      if (zid !== undefined) {
        const t0 = performance.now();
        const tag = this.nextTag();
        const before = this.snapshotStats();
        await this.runJob(packets as PacketBatch, zid, tag);
        return this.batchResult(before, tag, t0, packets.length, 0);
      }
      if (this.backpressure === 'block') {
        // Copy into staging batches and run them as zero-copy jobs (policy 'drop' needs the pool path: a
        // dispatcher that never waits for the workers, dropping what does not fit).
        const t0 = performance.now();
        const tag = this.nextTag();
        await this.flushAll('block');
        await this.waitDrained(this.submitted.slice());
        const before = this.snapshotStats();
        await this.ingestStaged(packets, tag);
        this.settleBusy();
        return this.batchResult(before, tag, t0, packets.length, 0);
      }
      const t0 = performance.now();
      const tag = this.nextTag();
      const before = this.snapshotStats();
      const bytes0 = this.pushedBytes;
      const dropped = await this.ingest(packets, tag, this.backpressure);
      const bytes = this.pushedBytes - bytes0;
      await this.waitDrained(this.submitted.slice());
      this.settleBusy();
      return this.batchResult(before, tag, t0, packets.length - dropped, dropped, bytes);
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Streaming: submits packets without waiting for them to be processed. Under 'block' it waits (without
   * blocking the event loop) for room; under 'drop' it drops what does not fit. Resolves to the number
   * accepted. Packets may sit in a staging burst until the next send/flush.
   */
  send(packets: Uint8Array | Uint8Array[] | PacketBatch): Promise<number> {
    const list = packets instanceof Uint8Array ? [packets] : packets;
    const refused = this.closedError();
    if (refused) return Promise.reject(refused);
    const run = async (): Promise<number> => {
      this.check();
      const total = list.length;
      const dropped = await this.ingest(list, 0, this.backpressure);
      return total - dropped;
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /**
   * Non-waiting submit of one packet: true when it went into its worker's ring, false when the pool or that
   * ring is full (not counted as dropped: the caller decides). Throws after a failure or close.
   */
  trySend(packet: Uint8Array): boolean {
    const refused = this.closedError();
    if (refused) throw refused;
    this.markActive();
    const w = this.place(packet, 0, packet.length, 0);
    if (w < 0) return false;
    if (this.pushStaged(w) > 0) {
      // Our packet is the last staged one; anything before it belongs to a send() in progress.
      const n = this.stagedLen[w]!;
      this.giveBack(this.staged[w]!, n - 1, 1);
      this.stagedLen[w] = n - 1;
      return false;
    }
    return true;
  }

  /** Resolves when every packet sent so far has been processed. */
  flush(): Promise<void> {
    const refused = this.closedError();
    if (refused) return Promise.reject(refused);
    const run = async (): Promise<void> => {
      this.check();
      await this.flushAll('block');
      await this.waitDrained(this.submitted.slice());
      this.settleBusy();
    };
    const p = this.chain.then(run, run);
    this.chain = p.catch(() => undefined);
    return p;
  }

  /** Packets per second and megabits per second over the time packets were in flight (all batches so far). */
  calculateThroughput(): { pps: number; mbps: number; packets: number; bytes: number; seconds: number } {
    let packets = 0;
    let bytes = 0;
    for (let w = 0; w < this.workers; w++) {
      packets += this.statWords[w * STAT_SLOTS + STAT_PACKETS]!;
      bytes += this.statWords[w * STAT_SLOTS + STAT_BYTES]!;
    }
    const ms = this.busyMs + (this.activeSince >= 0 ? performance.now() - this.activeSince : 0);
    const seconds = ms / 1000;
    return { pps: seconds > 0 ? packets / seconds : 0, mbps: seconds > 0 ? (bytes * 8) / seconds / 1e6 : 0, packets, bytes, seconds };
  }

  /** All flows seen so far with their total counts (exact after flush()/processBatch). */
  flows(): FlowStat[] {
    return this.flowsOf(undefined);
  }

  /** Cumulative counters. */
  stats(): ParallelEngineStats {
    let processed = 0;
    let abandoned = 0;
    let flowOverflow = 0;
    for (let w = 0; w < this.workers; w++) {
      processed += this.statWords[w * STAT_SLOTS + STAT_PACKETS]!;
      flowOverflow += this.statWords[w * STAT_SLOTS + STAT_FLOW_OVERFLOW]!;
      if (Atomics.load(this.ctl[w]!, CTL_EXITED) !== 0) abandoned += (this.submitted[w]! - this.processedOf(w)) | 0;
    }
    return { submitted: this.submittedTotal, processed, dropped: this.droppedTotal, abandoned, flowOverflow, perWorker: this.perWorker(), filterEngine: this.filterEngine() };
  }

  /**
   * The filter's engine as the workers report it once they run (names joined by '+' if workers differ,
   * which only a worker that could not load the addon would cause).
   */
  private filterEngine(): string | null {
    if (!this.hasFilter) return null;
    const names = new Set<string>();
    for (let w = 0; w < this.workers; w++) {
      if (Atomics.load(this.ctl[w]!, CTL_STATE) === 0) return null;
      const name = FILTER_ENGINES[this.ctl[w]![CTL_FILTER_ENGINE]!];
      if (name) names.add(name);
    }
    return names.size === 0 ? null : [...names].join('+');
  }

  /** Buffers in the shared pool (bufferBytes / bufSize rounded up to 64). */
  get bufferCount(): number {
    return this.pool.count;
  }

  /** The error that stopped a worker, if any. */
  get error(): NetworkError | null {
    return this.failure;
  }

  /**
   * Shuts down. drain (default true): waits for queued batches and sends, lets workers finish every packet
   * already submitted, then stops them. drain false: workers stop after their current burst; packets still
   * in rings are abandoned (counted in the returned stats, and pending processBatch calls reject with CLOSED).
   * Resolves once every worker thread has exited. A worker failure does not make close() reject.
   */
  close(options: { drain?: boolean } = {}): Promise<ParallelEngineStats> {
    if (this.closing) return this.closing;
    const drain = options.drain ?? true;
    const pending = this.chain;
    const run = async (): Promise<ParallelEngineStats> => {
      if (drain && !this.failure) {
        await pending;
        try {
          await this.flushAll('block');
        } catch (e) {
          if (!isNetworkError(e)) throw e;
        }
      } else {
        this.aborting = true;
        Atomics.store(this.global, CTL_ABORT, 1);
      }
      for (const r of this.rings) r.close();
      await Promise.all(this.tasks);
      for (const p of this.ports) p.close();
      this.settleBusy();
      await this.piscina.destroy();
      const s = this.stats();
      for (let w = 0; w < this.workers; w++) s.abandoned += this.stagedLen[w]!;
      return s;
    };
    this.closing = run();
    return this.closing;
  }
}
