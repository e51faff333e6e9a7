// The ParallelPacketEngine worker (a piscina task that runs until the engine closes). It attaches once to the
// shared packet pool and its own SPSC ring, then loops: pop a burst of pool indices → parse → optional eBPF
// filter → user stages → flow statistics → release the buffers → publish the completion count. A ring item
// with JOB_ITEM set instead runs a zero-copy job over a registered batch (see runJob). Packets are never
// copied or posted: only 32-bit indices cross threads.
import { receiveMessageOnPort } from 'node:worker_threads';
import { availableBackends, getBackend, setBackend } from '../backend.js';
import { PacketBatch } from '../batch.js';
import { PacketPool } from '../ring/pool.js';
import { SpscRing } from '../ring/spsc.js';
import { blockUntil, wakeIfWaiting } from '../ring/ring-header.js';
import {
  CTL_ABORT,
  CTL_BYTES,
  CTL_FAILED,
  JOB_BATCH_ID,
  JOB_COUNT,
  JOB_DONE,
  JOB_DONE_EPOCH,
  JOB_HASHED,
  HASH_CHUNK,
  JOB_CLAIM,
  JOB_HASH_EPOCH,
  JOB_HASH_WAITERS,
  JOB_ITEM,
  JOB_MAIN_WAITERS,
  JOB_TAG,
  JOB_SLOTS,
  JOB_WORDS,
  CTL_DONE_EPOCH,
  CTL_EXITED,
  CTL_MAIN_WAITERS,
  CTL_PROCESSED,
  CTL_FILTER_ENGINE,
  CTL_STATE,
  CTL_WORDS,
  FILTER_ENGINES,
  STATE_EXITED,
  STATE_FAILED,
  STATE_RUNNING,
  STAT_ACCEPTED,
  STAT_BYTES,
  STAT_FILTERED,
  STAT_FLOW_OVERFLOW,
  STAT_NON_IP,
  STAT_PACKETS,
  STAT_SLOTS,
  STAT_STAGE_DROPPED,
  type EngineFilterSpec,
  type EngineWorkerInit,
  type EngineWorkerSummary,
} from './engine-layout.js';
import { rssIndirectionTable, RSS_RETA_SIZE } from './distributor.js';
import { locateFlowTuple, packTuple, unpackTuple, TUPLE_ADDR, TUPLE_PORTS, TUPLE_PROTOCOL, TUPLE_UNPACKED, type FlowLinkType } from './flow-key.js';
import { ToeplitzHasher } from './rss.js';
import { FlowTable } from './flow-table.js';

/** Probes a worker spins at the zero-copy barrier before it sleeps (tens of µs, about the skew between workers). */
const BARRIER_SPIN = 4096;

/** Packets per processBurst call inside a zero-copy job (the ring path pops `burst` at a time). */
const JOB_BURST = 2048;

/** What a user stage receives with each packet (one object reused for every packet: do not keep it). */
export interface StagePacketInfo {
  /** This worker's number (0-based). */
  worker: number;
  /** Pool index of the buffer (stable while the stage runs). */
  index: number;
  /** Length on the wire (the view may be shorter if the packet exceeded the pool's buffer size). */
  wireLength: number;
  /** 4, 6, or 0 for non-IP frames. */
  ipVersion: number;
  /** IP protocol / IPv6 upper-layer header, when IP. */
  protocol: number;
  /** The RSS hash the dispatcher computed. */
  hash: number;
}

/** The shape of a stage module: a default-exported function, and optionally an init hook. */
export interface PacketStageModule {
  default: (packet: Uint8Array, info: StagePacketInfo) => boolean | void;
  init?: (options: unknown, context: { worker: number; workers: number }) => void | Promise<void>;
}

type Verdicts = (data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, n: number, out: Uint32Array) => void;

/** A compiled filter and the engine that really runs it (a 'native' program may run on its JS fallback). */
interface WorkerFilter {
  run: Verdicts;
  engine: string;
}

async function compileFilter(spec: EngineFilterSpec): Promise<WorkerFilter> {
  // Loaded only when a filter is configured, so workers without one never load the eBPF module. Importing
  // it also registers the x86-64 JIT ('native') in this worker's own module graph.
  const { BpfProgram, X64CompiledProgram } = await import('../ebpf/index.js');
  const program = typeof spec.source === 'string' ? BpfProgram.fromAssembly(spec.source) : BpfProgram.fromBytes(spec.source);
  program.verify();
  // No engine named: the program's default, which follows this worker's backend (set from the engine's).
  const compiled = program.compile(spec.engine ?? program.defaultEngine());
  const engine = compiled instanceof X64CompiledProgram && compiled.fallbackReason !== null ? 'js' : compiled.engine;
  // runBatch reads data/offsets/lengths/length of the batch it is given: here, the burst's view of the pool.
  const view: { data: Uint8Array; offsets: Uint32Array; lengths: Uint32Array; length: number; verdicts: null } = {
    data: new Uint8Array(0),
    offsets: new Uint32Array(0),
    lengths: new Uint32Array(0),
    length: 0,
    verdicts: null,
  };
  const run: Verdicts = (data, offsets, lengths, n, out) => {
    view.data = data;
    view.offsets = offsets;
    view.lengths = lengths;
    view.length = n;
    compiled.runBatch(view as unknown as Parameters<typeof compiled.runBatch>[0], out);
  };
  return { run, engine };
}

/** Runs one worker until its ring is closed and drained (or the engine aborts). */
export default async function runEngineWorker(init: EngineWorkerInit): Promise<EngineWorkerSummary> {
  const w = init.worker;
  const ctl = new Int32Array(init.ctl, w * CTL_BYTES, CTL_WORDS);
  const global = new Int32Array(init.ctl, init.workers * CTL_BYTES, 16);
  const stats = new Float64Array(init.stats, w * STAT_SLOTS * 8, STAT_SLOTS);
  let processed = 0;
  let aborted = false;
  try {
    const pool = PacketPool.attach(init.pool);
    const ring = SpscRing.attach(init.ring);
    ring.spin = init.spin;
    const returns = SpscRing.attach(init.returns);
    const flows = FlowTable.attach(init.flows);
    const tags = new Uint32Array(init.tags);
    const jobs = Array.from({ length: JOB_SLOTS }, (_, k) => new Int32Array(init.job, k * JOB_WORDS * 4, JOB_WORDS));
    const hasher = new ToeplitzHasher(init.rssKey);
    const reta = rssIndirectionTable(init.workers);
    // Registered batches; `wire` (the copying path's staging batches) holds wire lengths when a packet was
    // truncated to the pool's bufSize, else the batch's lengths serve for both.
    // `tuples` carries, from the worker that hashed a packet to the one that counts it, where its flow tuple
    // lies (see packTuple), so the second one need not parse it again.
    const batches = new Map<number, { batch: PacketBatch; wire: Uint32Array; tuples: Uint32Array; owners: Int32Array }>();
    // A worker is a fresh module graph whose backend comes from ELYSIA_NET_BACKEND: select the engine
    // creator's instead (it may have called setBackend), so stages and the filter run what the caller runs.
    if (init.backend !== getBackend() && availableBackends().includes(init.backend)) setBackend(init.backend);
    const stageFns: PacketStageModule['default'][] = [];
    for (const s of init.stages) {
      const mod = (await import(s.module)) as Partial<PacketStageModule>;
      if (typeof mod.default !== 'function') throw new Error(`stage module ${s.module} has no default-exported function`);
      await mod.init?.(s.options, { worker: w, workers: init.workers });
      stageFns.push(mod.default);
    }
    const compiledFilter = init.filter ? await compileFilter(init.filter) : null;
    const filter = compiledFilter ? compiledFilter.run : null;
    const fe = FILTER_ENGINES.indexOf((compiledFilter?.engine ?? null) as (typeof FILTER_ENGINES)[number]);
    ctl[CTL_FILTER_ENGINE] = compiledFilter === null ? 0 : fe > 0 ? fe : FILTER_ENGINES.length - 1;
    // The SC store publishes CTL_FILTER_ENGINE with the state.
    Atomics.store(ctl, CTL_STATE, STATE_RUNNING);

    // The literal, not init.link: a string that came through postMessage is a fresh copy, so every
    // `link === 'ethernet'` in locateFlowTuple would compare characters (~40 instructions per packet).
    const link: FlowLinkType = init.link === 'raw' ? 'raw' : 'ethernet';
    const burst = init.burst;
    const idx = new Uint32Array(burst);
    // A zero-copy job's packets are all there: it groups them in longer bursts, so the filter's per-call cost
    // (the native JIT's entry resolves four typed arrays and binds its regions) is paid per JOB_BURST packets.
    const jobBurst = Math.max(burst, JOB_BURST);
    // One burst, whatever its source: byte offset and captured length in `data`, wire length, RSS hash,
    // batch tag and index (pool index or batch position) of each packet.
    const offs = new Uint32Array(jobBurst);
    const caps = new Uint32Array(jobBurst);
    const wiresB = new Uint32Array(jobBurst);
    const hashesB = new Uint32Array(jobBurst);
    const tagsB = new Uint32Array(jobBurst);
    const ids = new Uint32Array(jobBurst);
    // Packed flow tuples (packTuple) of the burst when the hashing step already located them, else 3 (parse).
    const tuplesB = new Uint32Array(jobBurst);
    const verdicts = new Uint32Array(jobBurst);
    const tuple = new Int32Array(4);
    const info: StagePacketInfo = { worker: w, index: 0, wireLength: 0, ipVersion: 0, protocol: 0, hash: 0 };
    const nStages = stageFns.length;

    /** parse → filter → stages → flow statistics over one burst; publishes the counters. */
    const processBurst = (data: Uint8Array, n: number): void => {
      if (filter) filter(data, offs, caps, n, verdicts);
      let packets = 0;
      let bytes = 0;
      let nonIp = 0;
      let filtered = 0;
      let stageDropped = 0;
      let accepted = 0;
      for (let j = 0; j < n; j++) {
        const off = offs[j]!;
        const cap = caps[j]!;
        const wire = wiresB[j]!;
        packets++;
        bytes += wire;
        if (filter && verdicts[j] === 0) {
          filtered++;
          continue;
        }
        const v = unpackTuple(tuplesB[j]!, tuple, off) || locateFlowTuple(data, off, cap, tuple, link);
        if (nStages > 0) {
          info.index = ids[j]!;
          info.wireLength = wire;
          info.ipVersion = v;
          info.protocol = v === 0 ? 0 : tuple[TUPLE_PROTOCOL]!;
          info.hash = hashesB[j]!;
          const view = data.subarray(off, off + cap);
          let keep = true;
          for (let s = 0; s < nStages; s++) {
            if (stageFns[s]!(view, info) === false) {
              keep = false;
              break;
            }
          }
          if (!keep) {
            stageDropped++;
            continue;
          }
        }
        accepted++;
        if (v === 0) nonIp++;
        else flows.record(data, tuple, hashesB[j]!, wire, tagsB[j]!);
      }
      publish(packets, bytes, nonIp, filtered, stageDropped, accepted);
    };

    /** Adds one burst's (or job's) counts to this worker's shared stats (published by the next SC store). */
    const publish = (packets: number, bytes: number, nonIp: number, filtered: number, stageDropped: number, accepted: number): void => {
      stats[STAT_PACKETS]! += packets;
      stats[STAT_BYTES]! += bytes;
      stats[STAT_NON_IP]! += nonIp;
      stats[STAT_FILTERED]! += filtered;
      stats[STAT_STAGE_DROPPED]! += stageDropped;
      stats[STAT_ACCEPTED]! += accepted;
      stats[STAT_FLOW_OVERFLOW] = flows.overflow;
    };

    /** A batch the engine registered: read announcements until it is there (they precede the job). */
    const batchOf = (id: number): { batch: PacketBatch; wire: Uint32Array; tuples: Uint32Array; owners: Int32Array } => {
      let b = batches.get(id);
      while (!b) {
        const m = receiveMessageOnPort(init.port) as { message: { id: number; buffer: SharedArrayBuffer; wire?: SharedArrayBuffer; tuples: SharedArrayBuffer } } | undefined;
        if (!m) throw new Error(`zero-copy batch ${id} was never announced to worker ${w}`);
        const batch = PacketBatch.attach(m.message.buffer);
        batches.set(m.message.id, {
          batch,
          wire: m.message.wire ? new Uint32Array(m.message.wire) : batch.lengths,
          tuples: new Uint32Array(m.message.tuples, 0, batch.capacity),
          owners: new Int32Array(m.message.tuples, batch.capacity * 4, Math.ceil(batch.capacity / HASH_CHUNK)),
        });
        b = batches.get(id);
      }
      return b;
    };

    // Counts of the plain (no filter, no stage) job loops below.
    let jobPackets = 0;
    let jobBytes = 0;
    let jobNonIp = 0;

    /**
     * Plain job, phase 1: hashes packets [lo, hi) into the hash lane and counts at once those that map to this
     * worker (located once); the others' located tuples go to the tuples lane. Flow statistics are sums, so
     * counting them before earlier chunks' packets changes no result; with stages or a filter the order is
     * kept instead (see runJob).
     */
    const hashAndCount = (data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, wires: Uint32Array, hashes: Uint32Array, tuples: Uint32Array, lo: number, hi: number, tag: number): void => {
      for (let i = lo; i < hi; i++) {
        const off = offsets[i]!;
        const v = locateFlowTuple(data, off, lengths[i]!, tuple, link);
        const h = v === 0 ? 0 : hasher.hashTuple(data, tuple[TUPLE_ADDR]!, v === 4 ? 4 : 16, tuple[TUPLE_PORTS]!);
        hashes[i] = h;
        if (reta[h & (RSS_RETA_SIZE - 1)] !== w) {
          tuples[i] = packTuple(v, tuple, off);
          continue;
        }
        const wire = wires[i]!;
        jobPackets++;
        jobBytes += wire;
        if (v === 0) jobNonIp++;
        else flows.record(data, tuple, h, wire, tag);
      }
    };

    /** The RSS hash of one packet (as frameRssHash), its located tuple packed into tuples[i] on the way. */
    const hashAndPack = (data: Uint8Array, off: number, len: number, tuples: Uint32Array, i: number): number => {
      const v = locateFlowTuple(data, off, len, tuple, link);
      tuples[i] = packTuple(v, tuple, off);
      return v === 0 ? 0 : hasher.hashTuple(data, tuple[TUPLE_ADDR]!, v === 4 ? 4 : 16, tuple[TUPLE_PORTS]!);
    };

    /** Plain job, phase 2: counts the packets of [lo, hi) (hashed by another worker) that map to this one. */
    const countOwn = (data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, wires: Uint32Array, hashes: Uint32Array, tuples: Uint32Array, lo: number, hi: number, tag: number): void => {
      for (let i = lo; i < hi; i++) {
        const h = hashes[i]!;
        if (reta[h & (RSS_RETA_SIZE - 1)] !== w) continue;
        const wire = wires[i]!;
        jobPackets++;
        jobBytes += wire;
        const v = unpackTuple(tuples[i]!, tuple, offsets[i]!) || locateFlowTuple(data, offsets[i]!, lengths[i]!, tuple, link);
        if (v === 0) jobNonIp++;
        else flows.record(data, tuple, h, wire, tag);
      }
    };

    /**
     * A zero-copy job over a registered PacketBatch: (1) claim chunks of the batch and hash them into its
     * flow-hash lane (and their located tuples into the tuples lane), (2) wait until every chunk is hashed,
     * (3) process the packets whose hash maps to this worker, in batch order. Nothing is copied and no thread
     * dispatches. Without a filter or stages, (1) already counts its chunks' packets that map here, and (3)
     * takes this worker's packets from the other chunks.
     */
    const runJob = (job: Int32Array): void => {
      const { batch, wire: wires, tuples, owners } = batchOf(job[JOB_BATCH_ID]!);
      const n = job[JOB_COUNT]!;
      const tag = job[JOB_TAG]! >>> 0;
      const data = batch.data;
      const offsets = batch.offsets;
      const lengths = batch.lengths;
      const hashes = batch.flowHashes!;
      const W = init.workers;
      const plain = filter === null && nStages === 0;
      const chunks = Math.ceil(n / HASH_CHUNK);
      jobPackets = 0;
      jobBytes = 0;
      jobNonIp = 0;
      // One worker with a filter or stages hashes each packet as it joins a burst below (one pass, in order).
      const hashInBursts = W === 1 && !plain;
      if (!hashInBursts) {
        // Phase 1: claim chunks and hash them until none is left (a worker that starts late, or loses its
        // core for a while, takes fewer: nobody waits for a fixed share of it).
        for (;;) {
          const c = Atomics.add(job, JOB_CLAIM, 1);
          if (c >= chunks) break;
          const a = c * HASH_CHUNK;
          const b = Math.min(n, a + HASH_CHUNK);
          if (plain) hashAndCount(data, offsets, lengths, wires, hashes, tuples, a, b, tag);
          else for (let i = a; i < b; i++) hashes[i] = hashAndPack(data, offsets[i]!, lengths[i]!, tuples, i);
          owners[c] = w;
          // The SC add publishes this chunk's hashes, tuples and owner to the workers that pass the barrier.
          if (Atomics.add(job, JOB_HASHED, 1) + 1 === chunks) wakeIfWaiting(job, JOB_HASH_WAITERS, JOB_HASH_EPOCH);
        }
        const all = () => Atomics.load(job, JOB_HASHED) >= chunks;
        while (!all()) {
          if (Atomics.load(global, CTL_ABORT) !== 0 || Atomics.load(global, CTL_FAILED) !== 0) throw new Error('engine stopped during a zero-copy batch');
          // Spin longer here than an idle worker does: the other workers are hashing their last chunk right
          // now, and sleeping would add a ~50 µs wake-up to every job.
          blockUntil(job, all, JOB_HASH_WAITERS, JOB_HASH_EPOCH, 50, Math.max(init.spin, BARRIER_SPIN));
        }
      }
      if (plain) {
        // Phase 2: this worker's packets in the chunks other workers hashed.
        for (let c = 0; c < chunks; c++) {
          if (owners[c] !== w) countOwn(data, offsets, lengths, wires, hashes, tuples, c * HASH_CHUNK, Math.min(n, (c + 1) * HASH_CHUNK), tag);
        }
        publish(jobPackets, jobBytes, jobNonIp, 0, 0, jobPackets);
        processed += jobPackets;
        flows.publishBatch(tag);
        Atomics.add(job, JOB_DONE, 1);
        wakeIfWaiting(job, JOB_MAIN_WAITERS, JOB_DONE_EPOCH);
        return;
      }
      let k = 0;
      for (let i = 0; i < n; i++) {
        let h: number;
        if (hashInBursts) hashes[i] = h = hashAndPack(data, offsets[i]!, lengths[i]!, tuples, i);
        else if (reta[(h = hashes[i]!) & (RSS_RETA_SIZE - 1)] !== w) continue;
        offs[k] = offsets[i]!;
        caps[k] = lengths[i]!;
        wiresB[k] = wires[i]!;
        hashesB[k] = h;
        tuplesB[k] = tuples[i]!;
        tagsB[k] = tag;
        ids[k] = i;
        if (++k === jobBurst) {
          processBurst(data, k);
          processed += k;
          k = 0;
        }
      }
      if (k > 0) {
        processBurst(data, k);
        processed += k;
      }
      // The batch's flows in one sequential lane for the main thread's result (the SC add publishes it).
      flows.publishBatch(tag);
      Atomics.add(job, JOB_DONE, 1);
      wakeIfWaiting(job, JOB_MAIN_WAITERS, JOB_DONE_EPOCH);
    };

    const slab = pool.slab;
    const lengths = pool.lengths;
    const hashes = pool.meta;
    const stride = pool.stride;
    const bufSize = pool.bufSize;
    // Items popped after a job item wait at the front of idx for the next round.
    let carry = 0;
    for (;;) {
      if (Atomics.load(global, CTL_ABORT) !== 0) {
        aborted = ring.size > 0 || carry > 0;
        break;
      }
      let n = carry + ring.popBulk(idx, carry, burst - carry);
      carry = 0;
      if (n === 0) {
        if (ring.closed && ring.size === 0) break;
        ring.waitForData(50);
        continue;
      }
      // A job item ends the burst: the pool indices before it go first, the job after them (order kept).
      let jobAt = -1;
      for (let j = 0; j < n; j++) {
        if (idx[j]! >= JOB_ITEM) {
          jobAt = j;
          break;
        }
      }
      const items = n;
      if (jobAt >= 0) n = jobAt;
      for (let j = 0; j < n; j++) {
        const i = idx[j]!;
        const wire = lengths[i]!;
        offs[j] = i * stride;
        caps[j] = wire < bufSize ? wire : bufSize;
        wiresB[j] = wire;
        hashesB[j] = hashes[i]!;
        tuplesB[j] = TUPLE_UNPACKED;
        tagsB[j] = tags[i]!;
        ids[j] = i;
      }
      if (n > 0) {
        processBurst(slab, n);
        // Hand the buffers back (the return ring holds every pool index, so this never waits for long).
        for (let done = 0; done < n; ) {
          const k = returns.pushBulk(idx, done, n - done);
          done += k;
          if (k === 0) returns.waitForSpace(10);
        }
        processed += n;
        // The SC add publishes the stats above to a main thread that loads PROCESSED.
        Atomics.add(ctl, CTL_PROCESSED, n);
        wakeIfWaiting(ctl, CTL_MAIN_WAITERS, CTL_DONE_EPOCH);
      }
      if (jobAt >= 0) {
        runJob(jobs[idx[jobAt]! & (JOB_SLOTS - 1)]!);
        carry = items - jobAt - 1;
        idx.copyWithin(0, jobAt + 1, items);
      }
    }
    Atomics.store(ctl, CTL_STATE, STATE_EXITED);
    return { worker: w, processed, aborted };
  } catch (e) {
    Atomics.store(ctl, CTL_STATE, STATE_FAILED);
    Atomics.store(global, CTL_FAILED, 1);
    throw e;
  } finally {
    Atomics.store(ctl, CTL_EXITED, 1);
    Atomics.add(ctl, CTL_DONE_EPOCH, 1);
    Atomics.notify(ctl, CTL_DONE_EPOCH);
  }
}
