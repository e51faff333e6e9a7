// Shared-memory layout between ParallelPacketEngine and its workers (both sides import this).
import type { MessagePort } from 'node:worker_threads';
import type { Backend } from '../backend.js';
import type { FlowLinkType } from './flow-key.js';

/**
 * Per-worker control block: 384 bytes (6 cache lines) laid out like a ring header so the ring wait helpers
 * work on it. The worker writes PROCESSED and STATE; the main thread sleeps on DONE_EPOCH.
 */
export const CTL_WORDS = 96;
export const CTL_BYTES = CTL_WORDS * 4;
/** Set when the worker loop has ended (drained, aborted or failed): the ring-header CLOSED word. */
export const CTL_EXITED = 4;
/** Packets the worker has finished (wrapping 32-bit count), on its own line. */
export const CTL_PROCESSED = 16;
/** 0 starting, 1 running, 2 exited, 3 failed. */
export const CTL_STATE = 32;
/** The engine the worker compiled the filter with, as an index into FILTER_ENGINES (written once, before RUNNING). */
export const CTL_FILTER_ENGINE = 33;
/** Names of CTL_FILTER_ENGINE's values: 0 = no filter; 'native' only when the x86-64 code really runs. */
export const FILTER_ENGINES = [null, 'interpreter', 'js', 'native', 'other'] as const;
export const CTL_MAIN_WAITERS = 48;
export const CTL_DONE_EPOCH = 64;
/** Word of the global block (after the per-worker blocks): 1 = stop now, leave queued packets. */
export const CTL_ABORT = 0;
/** Word of the global block: set by a worker that failed (so the others leave a zero-copy barrier). */
export const CTL_FAILED = 1;

/**
 * A zero-copy job block. There are JOB_SLOTS of them, so the copying path can queue the next chunk's job
 * behind the running one (workers go from one to the next without sleeping); a ring item JOB_ITEM | slot
 * names the block. Laid out like a ring header so the wait helpers work on it; word 4 (CLOSED) stays 0.
 */
export const JOB_WORDS = 112;
export const JOB_SLOTS = 2;
export const JOB_BATCH_ID = 0;
export const JOB_COUNT = 1;
export const JOB_TAG = 2;
/** Chunks of HASH_CHUNK packets hashed so far (the barrier between the two phases: all of them). */
export const JOB_HASHED = 16;
/** The next chunk to claim for hashing (workers take chunks as they come, so a late one holds nobody up). */
export const JOB_CLAIM = 96;
/** Packets per hashing chunk; the per-batch tuples lane ends with one owner word per chunk. */
export const HASH_CHUNK = 2048;

/** Bytes of a batch's tuples lane: a packed tuple per packet (flow-key.ts packTuple), then chunk owners. */
export function tuplesLaneBytes(capacity: number): number {
  return (capacity + Math.ceil(capacity / HASH_CHUNK)) * 4;
}
/** Workers that have finished their share. */
export const JOB_DONE = 32;
export const JOB_MAIN_WAITERS = 48;
export const JOB_HASH_WAITERS = 49;
export const JOB_DONE_EPOCH = 64;
export const JOB_HASH_EPOCH = 80;
/** A ring item with this bit set is a zero-copy job (low bits: its job slot), not a pool index (< 2^24). */
export const JOB_ITEM = 0x80000000;

export const STATE_RUNNING = 1;
export const STATE_EXITED = 2;
export const STATE_FAILED = 3;

/** Per-worker statistics: Float64 slots, 16 per worker (two cache lines). Written only by that worker. */
export const STAT_SLOTS = 16;
export const STAT_PACKETS = 0;
export const STAT_BYTES = 1;
export const STAT_NON_IP = 2;
export const STAT_FILTERED = 3;
export const STAT_STAGE_DROPPED = 4;
export const STAT_FLOW_OVERFLOW = 5;
export const STAT_ACCEPTED = 6;

/** A user stage as the worker receives it: a module specifier (file URL or package name) and its options. */
export interface EngineStageSpec {
  module: string;
  options?: unknown;
}

/**
 * An eBPF filter as the worker receives it: assembly text or instruction bytes; r0 = 0 drops. Without
 * `engine`, the worker's default (program.defaultEngine(): the native x86-64 JIT on the native backend).
 */
export interface EngineFilterSpec {
  source: string | Uint8Array;
  engine?: string;
}

/** The one message each worker gets, at start (SharedArrayBuffers are shared, not copied). */
export interface EngineWorkerInit {
  worker: number;
  workers: number;
  pool: SharedArrayBuffer;
  ring: SharedArrayBuffer;
  /** SPSC ring on which the worker hands finished pool indices back to the dispatcher. */
  returns: SharedArrayBuffer;
  ctl: SharedArrayBuffer;
  stats: SharedArrayBuffer;
  flows: SharedArrayBuffer;
  tags: SharedArrayBuffer;
  link: FlowLinkType;
  stages: EngineStageSpec[];
  filter: EngineFilterSpec | null;
  /** The creating thread's backend: the worker selects it too (so a filter without `engine` follows it). */
  backend: Backend;
  burst: number;
  spin: number;
  /** The zero-copy job blocks (JOB_SLOTS × JOB_WORDS Int32). */
  job: SharedArrayBuffer;
  /** RSS key, so a worker can hash its slice of a zero-copy batch exactly as the dispatcher would. */
  rssKey: Uint8Array;
  /** Port on which the engine announces registered batches ({ id, buffer }); read with receiveMessageOnPort. */
  port: MessagePort;
}

/** What a worker returns when its loop ends. */
export interface EngineWorkerSummary {
  worker: number;
  processed: number;
  aborted: boolean;
}
