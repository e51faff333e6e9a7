// Per-worker flow statistics in shared memory: an open-addressing hash table (linear probing) in one
// SharedArrayBuffer that only its worker writes and the main thread reads. The worker writes an entry's key
// words before its first word (an SC store), so a reader never sees a half-written key; counts are exact
// once the main thread has synchronised with the worker's completion counter.
import { NetworkError } from '../errors.js';
import { formatIpv4Address, formatIpv6Address } from '../wire/address.js';
import { TUPLE_ADDR, TUPLE_PORTS, TUPLE_PROTOCOL, TUPLE_VERSION } from './flow-key.js';

/** One flow (a directed 5-tuple: version, protocol, addresses, ports) and what was counted for it. */
export interface FlowStat {
  /** `proto src:port > dst:port` — see flowKeyString. */
  key: string;
  ipVersion: 4 | 6;
  protocol: number;
  src: string;
  dst: string;
  srcPort: number;
  dstPort: number;
  packets: number;
  bytes: number;
  /** The worker whose table holds it. */
  worker: number;
}

/** The canonical text key of a flow: `6 10.0.0.1:1234 > 10.0.0.2:80` (IPv6 addresses in brackets). */
export function flowKeyString(ipVersion: number, protocol: number, src: string, dst: string, srcPort: number, dstPort: number): string {
  const a = ipVersion === 6 ? `[${src}]` : src;
  const b = ipVersion === 6 ? `[${dst}]` : dst;
  return `${protocol} ${a}:${srcPort} > ${b}:${dstPort}`;
}

const KEY_WORDS = 10;
const ENTRY_WORDS = 12;
const E_EPOCH = 10;
const HEADER_BYTES = 64;
const T_CAPACITY = 0;
const T_USED = 1;
const C_PACKETS = 0;
const C_BYTES = 1;
const C_BATCH_PACKETS = 2;
const C_BATCH_BYTES = 3;

function rd32(d: Uint8Array, o: number): number {
  return (d[o]! << 24) | (d[o + 1]! << 16) | (d[o + 2]! << 8) | d[o + 3]!;
}

/**
 * A worker's flow table. `capacity` is a power of two; it holds up to 3/4 × capacity flows, and packets of
 * new flows beyond that are counted in `overflow`.
 */
export class FlowTable {
  readonly sharedBuffer: SharedArrayBuffer;
  readonly capacity: number;
  private readonly header: Int32Array;
  private readonly keys: Int32Array;
  private readonly counters: Float64Array;
  private readonly mask: number;
  private readonly limit: number;
  private readonly scratch = new Int32Array(KEY_WORDS);
  /** Packets whose flow found no free entry (this thread's view; the worker publishes it in its stats). */
  overflow = 0;

  constructor(capacity: number, attachTo?: SharedArrayBuffer) {
    if (attachTo) {
      capacity = new Int32Array(attachTo, 0, 16)[T_CAPACITY]!;
    } else if (!(Number.isInteger(capacity) && capacity >= 2 && capacity <= 1 << 24 && (capacity & (capacity - 1)) === 0)) {
      throw new NetworkError('INVALID_ARGUMENT', `flow table capacity must be a power of two in 2..2^24, got ${capacity}`, { field: 'maxFlows', actual: capacity });
    }
    const buffer = attachTo ?? new SharedArrayBuffer(HEADER_BYTES + capacity * 8 * 4 + capacity * ENTRY_WORDS * 4);
    this.sharedBuffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.limit = capacity - (capacity >>> 2);
    this.header = new Int32Array(buffer, 0, 16);
    this.counters = new Float64Array(buffer, HEADER_BYTES, capacity * 4);
    this.keys = new Int32Array(buffer, HEADER_BYTES + capacity * 32, capacity * ENTRY_WORDS);
    if (!attachTo) this.header[T_CAPACITY] = capacity;
  }

  static attach(buffer: SharedArrayBuffer): FlowTable {
    return new FlowTable(0, buffer);
  }

  /** Flows in the table. */
  get size(): number {
    return Atomics.load(this.header, T_USED);
  }

  /**
   * Counts one packet of `wireBytes` for the flow located in `tuple` (see locateFlowTuple), under batch tag
   * `epoch`. Returns false when the table is full and the flow is new (counted in `overflow`).
   */
  record(data: Uint8Array, tuple: Int32Array, hash: number, wireBytes: number, epoch: number): boolean {
    const k = this.scratch;
    const version = tuple[TUPLE_VERSION]!;
    const a = tuple[TUPLE_ADDR]!;
    const ports = tuple[TUPLE_PORTS]!;
    k[0] = 0x10000 | (version << 8) | tuple[TUPLE_PROTOCOL]!;
    k[1] = ports >= 0 ? rd32(data, ports) : 0;
    if (version === 4) {
      k[2] = rd32(data, a);
      k[3] = 0;
      k[4] = 0;
      k[5] = 0;
      k[6] = rd32(data, a + 4);
      k[7] = 0;
      k[8] = 0;
      k[9] = 0;
    } else {
      for (let i = 0; i < 4; i++) {
        k[2 + i] = rd32(data, a + i * 4);
        k[6 + i] = rd32(data, a + 16 + i * 4);
      }
    }
    const keys = this.keys;
    const m = Math.imul(hash ^ k[1]!, 0x9e3779b1);
    let slot = (m ^ (m >>> 15)) & this.mask;
    for (let probes = 0; probes < this.capacity; probes++) {
      const base = slot * ENTRY_WORDS;
      const w0 = keys[base]!;
      if (w0 === 0) {
        // Fill at most 3/4 of the table so probe chains stay short (a full table would make every miss scan it all).
        if (Atomics.load(this.header, T_USED) >= this.limit) break;
        for (let i = 1; i < KEY_WORDS; i++) keys[base + i] = k[i]!;
        keys[base + E_EPOCH] = epoch;
        const c = slot * 4;
        this.counters[c + C_PACKETS] = 1;
        this.counters[c + C_BYTES] = wireBytes;
        this.counters[c + C_BATCH_PACKETS] = 1;
        this.counters[c + C_BATCH_BYTES] = wireBytes;
        Atomics.store(keys, base, k[0]!);
        Atomics.add(this.header, T_USED, 1);
        return true;
      }
      if (
        w0 === k[0] && keys[base + 1] === k[1] && keys[base + 2] === k[2] && keys[base + 6] === k[6] &&
        keys[base + 3] === k[3] && keys[base + 4] === k[4] && keys[base + 5] === k[5] &&
        keys[base + 7] === k[7] && keys[base + 8] === k[8] && keys[base + 9] === k[9]
      ) {
        const c = slot * 4;
        this.counters[c + C_PACKETS]! += 1;
        this.counters[c + C_BYTES]! += wireBytes;
        if (keys[base + E_EPOCH] !== epoch) {
          keys[base + E_EPOCH] = epoch;
          this.counters[c + C_BATCH_PACKETS] = 1;
          this.counters[c + C_BATCH_BYTES] = wireBytes;
        } else {
          this.counters[c + C_BATCH_PACKETS]! += 1;
          this.counters[c + C_BATCH_BYTES]! += wireBytes;
        }
        return true;
      }
      slot = (slot + 1) & this.mask;
    }
    this.overflow++;
    return false;
  }

  /**
   * The flows in the table: all of them with totals (epoch undefined), or those seen under batch tag `epoch`
   * with that batch's counts.
   */
  snapshot(worker: number, epoch?: number): FlowStat[] {
    const out: FlowStat[] = [];
    const keys = this.keys;
    const bytes = new Uint8Array(32);
    const dv = new DataView(bytes.buffer);
    for (let slot = 0; slot < this.capacity; slot++) {
      const base = slot * ENTRY_WORDS;
      const w0 = Atomics.load(keys, base);
      if (w0 === 0) continue;
      if (epoch !== undefined && keys[base + E_EPOCH] !== epoch) continue;
      const version = ((w0 >> 8) & 0xff) as 4 | 6;
      const protocol = w0 & 0xff;
      const ports = keys[base + 1]!;
      let src: string;
      let dst: string;
      if (version === 4) {
        src = formatIpv4Address(keys[base + 2]! >>> 0);
        dst = formatIpv4Address(keys[base + 6]! >>> 0);
      } else {
        for (let i = 0; i < 8; i++) dv.setInt32(i * 4, keys[base + 2 + i]!);
        src = formatIpv6Address(bytes, 0);
        dst = formatIpv6Address(bytes, 16);
      }
      const srcPort = ports >>> 16;
      const dstPort = ports & 0xffff;
      const c = slot * 4;
      out.push({
        key: flowKeyString(version, protocol, src, dst, srcPort, dstPort),
        ipVersion: version,
        protocol,
        src,
        dst,
        srcPort,
        dstPort,
        packets: this.counters[c + (epoch === undefined ? C_PACKETS : C_BATCH_PACKETS)]!,
        bytes: this.counters[c + (epoch === undefined ? C_BYTES : C_BATCH_BYTES)]!,
        worker,
      });
    }
    return out;
  }
}
