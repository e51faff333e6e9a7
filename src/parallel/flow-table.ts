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

/** The immutable part of a FlowStat, cached per slot by the reading thread. */
type FlowName = Pick<FlowStat, 'key' | 'ipVersion' | 'protocol' | 'src' | 'dst' | 'srcPort' | 'dstPort'>;

const KEY_WORDS = 10;
const ENTRY_WORDS = 12;
const E_EPOCH = 10;
const HEADER_BYTES = 64;
const T_CAPACITY = 0;
const T_USED = 1;
/** The batch tag the touched list belongs to, and its length (written by the worker, read after a batch). */
const T_LIST_EPOCH = 2;
const T_LIST_LEN = 3;
/** The batch tag whose flows publishBatch() wrote to the results lane, and how many (worker-written). */
const T_RESULT_EPOCH = 4;
const T_RESULT_LEN = 5;
/** Float64 words per results-lane entry: slot, batch packets, batch bytes. */
const RESULT_WORDS = 3;
const C_PACKETS = 0;
const C_BYTES = 1;
const C_BATCH_PACKETS = 2;
const C_BATCH_BYTES = 3;

/** A flow's statistics from its formatted name and counts (fields spelled out: one object shape for V8). */
function flowStat(name: FlowName, packets: number, bytes: number, worker: number): FlowStat {
  const { key, ipVersion, protocol, src, dst, srcPort, dstPort } = name;
  return { key, ipVersion, protocol, src, dst, srcPort, dstPort, packets, bytes, worker };
}

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
  /**
   * Slots whose flow was first seen under the current batch tag, in order: snapshot(worker, tag) reads these
   * instead of scanning every slot (a 65536-slot scan costs ~1 ms on the main thread, serial after each batch).
   */
  private readonly touched: Int32Array;
  /**
   * The last published batch's flows, sorted by slot, with their batch counts (publishBatch): one sequential
   * read for the reading thread instead of two or three cache lines per flow that another core just wrote.
   */
  private readonly results: Float64Array;
  /** Formatted keys of occupied slots, filled by snapshot() on the reading thread. */
  private names: (FlowName | undefined)[] | null = null;
  /** Packets whose flow found no free entry (this thread's view; the worker publishes it in its stats). */
  overflow = 0;

  constructor(capacity: number, attachTo?: SharedArrayBuffer) {
    if (attachTo) {
      capacity = new Int32Array(attachTo, 0, 16)[T_CAPACITY]!;
    } else if (!(Number.isInteger(capacity) && capacity >= 2 && capacity <= 1 << 24 && (capacity & (capacity - 1)) === 0)) {
      throw new NetworkError('INVALID_ARGUMENT', `flow table capacity must be a power of two in 2..2^24, got ${capacity}`, { field: 'maxFlows', actual: capacity });
    }
    const limit = capacity - (capacity >>> 2);
    const resultsAt = HEADER_BYTES + capacity * 32 + capacity * ENTRY_WORDS * 4 + Math.ceil(capacity / 2) * 8;
    const buffer = attachTo ?? new SharedArrayBuffer(resultsAt + limit * RESULT_WORDS * 8);
    this.sharedBuffer = buffer;
    this.capacity = capacity;
    this.mask = capacity - 1;
    this.limit = limit;
    this.header = new Int32Array(buffer, 0, 16);
    this.counters = new Float64Array(buffer, HEADER_BYTES, capacity * 4);
    this.keys = new Int32Array(buffer, HEADER_BYTES + capacity * 32, capacity * ENTRY_WORDS);
    this.touched = new Int32Array(buffer, HEADER_BYTES + capacity * 32 + capacity * ENTRY_WORDS * 4, capacity);
    this.results = new Float64Array(buffer, resultsAt, limit * RESULT_WORDS);
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
   * `epoch` (0: no batch, only the totals count). Returns false when the table is full and the flow is new
   * (counted in `overflow`).
   */
  record(data: Uint8Array, tuple: Int32Array, hash: number, wireBytes: number, epoch: number): boolean {
    const version = tuple[TUPLE_VERSION]!;
    const a = tuple[TUPLE_ADDR]!;
    const ports = tuple[TUPLE_PORTS]!;
    const k0 = 0x10000 | (version << 8) | tuple[TUPLE_PROTOCOL]!;
    const k1 = ports >= 0 ? (data[ports]! << 24) | (data[ports + 1]! << 16) | (data[ports + 2]! << 8) | data[ports + 3]! : 0;
    if (version === 4) {
      // The per-packet path, written out in one method (calls here cost more than the work: ~33 → ~15 ns).
      // Words 3–5 and 7–9 of an IPv4 key are 0, and word 0 tells the version apart, so 4 words compare.
      const src = (data[a]! << 24) | (data[a + 1]! << 16) | (data[a + 2]! << 8) | data[a + 3]!;
      const dst = (data[a + 4]! << 24) | (data[a + 5]! << 16) | (data[a + 6]! << 8) | data[a + 7]!;
      const keys = this.keys;
      const mask = this.mask;
      const m = Math.imul(hash ^ k1, 0x9e3779b1);
      let slot = (m ^ (m >>> 15)) & mask;
      for (let probes = 0; probes < this.capacity; probes++, slot = (slot + 1) & mask) {
        const base = slot * ENTRY_WORDS;
        const w0 = keys[base]!;
        if (w0 === k0 && keys[base + 1] === k1 && keys[base + 2] === src && keys[base + 6] === dst) {
          const c = slot * 4;
          const counters = this.counters;
          counters[c + C_PACKETS]! += 1;
          counters[c + C_BYTES]! += wireBytes;
          if (epoch === 0) return true;
          if (keys[base + E_EPOCH] !== epoch) {
            keys[base + E_EPOCH] = epoch;
            counters[c + C_BATCH_PACKETS] = 1;
            counters[c + C_BATCH_BYTES] = wireBytes;
            this.touch(slot, epoch);
          } else {
            counters[c + C_BATCH_PACKETS]! += 1;
            counters[c + C_BATCH_BYTES]! += wireBytes;
          }
          return true;
        }
        if (w0 === 0) {
          if (!this.claim(slot, epoch, wireBytes)) break;
          keys[base + 1] = k1;
          keys[base + 2] = src;
          keys[base + 6] = dst;
          Atomics.store(keys, base, k0);
          return true;
        }
      }
      this.overflow++;
      return false;
    }
    return this.record6(data, a, k0, k1, hash, wireBytes, epoch);
  }

  /** The IPv6 form of record (10 key words). */
  private record6(data: Uint8Array, a: number, k0: number, k1: number, hash: number, wireBytes: number, epoch: number): boolean {
    const k = this.scratch;
    k[0] = k0;
    k[1] = k1;
    for (let i = 0; i < 4; i++) {
      k[2 + i] = rd32(data, a + i * 4);
      k[6 + i] = rd32(data, a + 16 + i * 4);
    }
    const keys = this.keys;
    for (let slot = this.home(hash, k1), probes = 0; probes < this.capacity; probes++, slot = (slot + 1) & this.mask) {
      const base = slot * ENTRY_WORDS;
      const w0 = keys[base]!;
      if (w0 === 0) {
        if (!this.claim(slot, epoch, wireBytes)) break;
        for (let i = 1; i < KEY_WORDS; i++) keys[base + i] = k[i]!;
        Atomics.store(keys, base, k0);
        return true;
      }
      if (
        w0 === k0 && keys[base + 1] === k1 && keys[base + 2] === k[2] && keys[base + 6] === k[6] &&
        keys[base + 3] === k[3] && keys[base + 4] === k[4] && keys[base + 5] === k[5] &&
        keys[base + 7] === k[7] && keys[base + 8] === k[8] && keys[base + 9] === k[9]
      ) {
        this.count(slot, wireBytes, epoch);
        return true;
      }
    }
    this.overflow++;
    return false;
  }

  private home(hash: number, k1: number): number {
    const m = Math.imul(hash ^ k1, 0x9e3779b1);
    return (m ^ (m >>> 15)) & this.mask;
  }

  /** Counters of a new entry at `slot`, or false when the table is full (the caller writes the key, word 0 last). */
  private claim(slot: number, epoch: number, wireBytes: number): boolean {
    // Fill at most 3/4 of the table so probe chains stay short (a full table would make every miss scan it all).
    if (this.header[T_USED]! >= this.limit) return false;
    const c = slot * 4;
    this.counters[c + C_PACKETS] = 1;
    this.counters[c + C_BYTES] = wireBytes;
    this.keys[slot * ENTRY_WORDS + E_EPOCH] = epoch;
    if (epoch !== 0) {
      this.counters[c + C_BATCH_PACKETS] = 1;
      this.counters[c + C_BATCH_BYTES] = wireBytes;
      this.touch(slot, epoch);
    } else {
      this.counters[c + C_BATCH_PACKETS] = 0;
      this.counters[c + C_BATCH_BYTES] = 0;
    }
    // Only this table's worker writes T_USED; the SC store publishes the count to readers of size.
    Atomics.store(this.header, T_USED, this.header[T_USED]! + 1);
    return true;
  }

  private count(slot: number, wireBytes: number, epoch: number): void {
    const c = slot * 4;
    const counters = this.counters;
    counters[c + C_PACKETS]! += 1;
    counters[c + C_BYTES]! += wireBytes;
    if (epoch === 0) return;
    const e = slot * ENTRY_WORDS + E_EPOCH;
    if (this.keys[e] !== epoch) {
      this.keys[e] = epoch;
      counters[c + C_BATCH_PACKETS] = 1;
      counters[c + C_BATCH_BYTES] = wireBytes;
      this.touch(slot, epoch);
    } else {
      counters[c + C_BATCH_PACKETS]! += 1;
      counters[c + C_BATCH_BYTES]! += wireBytes;
    }
  }

  /** Appends a slot to the touched list of batch tag `epoch` (a new tag starts a new list). */
  private touch(slot: number, epoch: number): void {
    const h = this.header;
    let n = h[T_LIST_LEN]!;
    if (h[T_LIST_EPOCH] !== epoch) {
      h[T_LIST_EPOCH] = epoch;
      n = 0;
    }
    // A slot joins a tag's list once (its epoch word then equals the tag), so n stays below capacity.
    this.touched[n] = slot;
    h[T_LIST_LEN] = n + 1;
  }

  /**
   * Worker side, when its share of batch `epoch` is done: sorts the batch's touched list and copies the
   * batch counts of those flows to the results lane (published by the caller's next SC store).
   */
  publishBatch(epoch: number): void {
    const h = this.header;
    let n = 0;
    if (epoch !== 0 && h[T_LIST_EPOCH] === epoch) {
      n = h[T_LIST_LEN]!;
      // In place: later packets of the same tag append after n, and any order of the list is valid.
      const slots = this.touched.subarray(0, n).sort();
      const r = this.results;
      const c = this.counters;
      for (let j = 0; j < n; j++) {
        const slot = slots[j]!;
        r[j * RESULT_WORDS] = slot;
        r[j * RESULT_WORDS + 1] = c[slot * 4 + C_BATCH_PACKETS]!;
        r[j * RESULT_WORDS + 2] = c[slot * 4 + C_BATCH_BYTES]!;
      }
    }
    h[T_RESULT_LEN] = n;
    h[T_RESULT_EPOCH] = epoch;
  }

  /**
   * The flows in the table: all of them with totals (epoch undefined), or those seen under batch tag `epoch`
   * with that batch's counts. Appended to `out` (one array for every worker's table: no flatMap copy).
   */
  snapshot(worker: number, epoch?: number, out: FlowStat[] = []): FlowStat[] {
    const keys = this.keys;
    // The batch's own flows come from its touched list (sorted, so the order is the same as a full scan's).
    // A table whose list belongs to another tag recorded nothing under this one (batches run one after the
    // other and their tags only grow), so it has no flows for it: no scan of every slot.
    const listed = epoch !== undefined && epoch !== 0;
    if (listed && this.header[T_RESULT_EPOCH] === epoch) return this.published(worker, out);
    if (listed && this.header[T_LIST_EPOCH] !== epoch) return out;
    const slots = listed ? this.touched.slice(0, this.header[T_LIST_LEN]!).sort() : null;
    const n = slots ? slots.length : this.capacity;
    const packetsAt = epoch === undefined ? C_PACKETS : C_BATCH_PACKETS;
    const bytesAt = epoch === undefined ? C_BYTES : C_BATCH_BYTES;
    // Preallocated to full length: a sparse array written at high indices would fall back to a dictionary.
    const names = (this.names ??= new Array<FlowName | undefined>(this.capacity).fill(undefined));
    for (let j = 0; j < n; j++) {
      const slot = slots ? slots[j]! : j;
      const base = slot * ENTRY_WORDS;
      const w0 = Atomics.load(keys, base);
      if (w0 === 0) continue;
      if (epoch !== undefined && keys[base + E_EPOCH] !== epoch) continue;
      const name = names[slot] ?? this.nameOf(names, slot, w0);
      const c = slot * 4;
      out.push(flowStat(name, this.counters[c + packetsAt]!, this.counters[c + bytesAt]!, worker));
    }
    return out;
  }

  /** snapshot() of the batch publishBatch() last wrote. */
  private published(worker: number, out: FlowStat[]): FlowStat[] {
    const r = this.results;
    const n = this.header[T_RESULT_LEN]!;
    const names = (this.names ??= new Array<FlowName | undefined>(this.capacity).fill(undefined));
    for (let j = 0; j < n; j++) {
      const slot = r[j * RESULT_WORDS]!;
      const name = names[slot] ?? this.nameOf(names, slot, Atomics.load(this.keys, slot * ENTRY_WORDS));
      out.push(flowStat(name, r[j * RESULT_WORDS + 1]!, r[j * RESULT_WORDS + 2]!, worker));
    }
    return out;
  }

  /** The formatted key of an occupied slot; cached, because a slot's key never changes once written. */
  private nameOf(names: (FlowName | undefined)[], slot: number, w0: number): FlowName {
    const keys = this.keys;
    const base = slot * ENTRY_WORDS;
    const ipVersion = ((w0 >> 8) & 0xff) as 4 | 6;
    const protocol = w0 & 0xff;
    const ports = keys[base + 1]!;
    let src: string;
    let dst: string;
    if (ipVersion === 4) {
      src = formatIpv4Address(keys[base + 2]! >>> 0);
      dst = formatIpv4Address(keys[base + 6]! >>> 0);
    } else {
      const bytes = new Uint8Array(32);
      const dv = new DataView(bytes.buffer);
      for (let i = 0; i < 8; i++) dv.setInt32(i * 4, keys[base + 2 + i]!);
      src = formatIpv6Address(bytes, 0);
      dst = formatIpv6Address(bytes, 16);
    }
    const srcPort = ports >>> 16;
    const dstPort = ports & 0xffff;
    const name: FlowName = { key: flowKeyString(ipVersion, protocol, src, dst, srcPort, dstPort), ipVersion, protocol, src, dst, srcPort, dstPort };
    names[slot] = name;
    return name;
  }
}
