// The guide's PacketDistributor: flows to workers by hash, the way a NIC spreads them over receive queues:
// Toeplitz hash of the flow tuple, then an indirection table (RETA, 128 entries as on most NICs, entry i →
// queue i mod n) picks the queue. Every packet of a flow gets the same hash, hence the same queue.
import { NetworkError } from '../errors.js';
import { locateFlowTuple, TUPLE_ADDR, TUPLE_PORTS, type FlowLinkType } from './flow-key.js';
import { RSS_DEFAULT_KEY, toeplitzHasher, type ToeplitzHasher } from './rss.js';

/** Entries of the indirection table (Linux ethtool -x shows 128 on most NICs). */
export const RSS_RETA_SIZE = 128;

/** The default indirection table for n queues: entry i → i mod n. */
export function rssIndirectionTable(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 1 || n > 128) throw new NetworkError('INVALID_ARGUMENT', `queue count must be 1..128, got ${n}`, { field: 'workers', actual: n });
  return Uint8Array.from({ length: RSS_RETA_SIZE }, (_, i) => i % n);
}

/**
 * RSS hash of the frame data[off, off+len): the 4-tuple for TCP/UDP/SCTP, the 2-tuple for other IP packets
 * and fragments, 0 for non-IP frames (as a NIC does). `tuple` is scratch (Int32Array(4)).
 */
export function frameRssHash(hasher: ToeplitzHasher, data: Uint8Array, off: number, len: number, tuple: Int32Array, link: FlowLinkType = 'ethernet'): number {
  const v = locateFlowTuple(data, off, len, tuple, link);
  if (v === 0) return 0;
  return hasher.hashTuple(data, tuple[TUPLE_ADDR]!, v === 4 ? 4 : 16, tuple[TUPLE_PORTS]!);
}

/** Anything with bytes: a Uint8Array, or a guide object such as EthernetFrame with serialize(). */
export type DistributableFrame = Uint8Array | { serialize(): Uint8Array };

/** Options of a PacketDistributor. */
export interface PacketDistributorOptions {
  /** RSS key (default RSS_DEFAULT_KEY; RSS_SYMMETRIC_KEY keeps both directions on one queue). */
  key?: Uint8Array;
  link?: FlowLinkType;
}

/** Splits frames into one queue per worker by RSS hash: `new PacketDistributor(8).distribute(frames)`. */
export class PacketDistributor<T extends DistributableFrame = Uint8Array> {
  readonly workers: number;
  readonly reta: Uint8Array;
  private readonly hasher: ToeplitzHasher;
  private readonly link: FlowLinkType;
  private readonly tuple = new Int32Array(4);

  constructor(workers: number, options: PacketDistributorOptions = {}) {
    this.reta = rssIndirectionTable(workers);
    this.workers = workers;
    this.hasher = toeplitzHasher(options.key ?? RSS_DEFAULT_KEY);
    this.link = options.link ?? 'ethernet';
  }

  /** RSS hash of one frame. */
  hashOf(frame: T): number {
    const b = frame instanceof Uint8Array ? frame : frame.serialize();
    return frameRssHash(this.hasher, b, 0, b.length, this.tuple, this.link);
  }

  /** The queue a frame goes to. */
  workerFor(frame: T): number {
    return this.reta[this.hashOf(frame) & (RSS_RETA_SIZE - 1)]!;
  }

  /** One queue per worker, frames in their original order within each queue. */
  distribute(frames: Iterable<T>): T[][] {
    const queues: T[][] = Array.from({ length: this.workers }, () => []);
    for (const f of frames) queues[this.workerFor(f)]!.push(f);
    return queues;
  }
}
