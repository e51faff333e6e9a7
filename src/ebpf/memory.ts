/**
 * The memory model the TypeScript engines (interpreter, JS JIT) share — see /work/tasks/ebpf-contract.md.
 *
 * A virtual 64-bit address is `region id << 32 | offset`. A register holding an address therefore keeps the
 * region id in its high word and the offset in its low word, which is exactly how the engines store registers
 * (two int32 halves), so address arithmetic costs nothing extra.
 *
 *   region 0            null
 *   region 1            the input memory / packet (r1 at start; r2 = its length)
 *   region 2            the stack: BPF_MAX_CALL_DEPTH frames of 512 bytes; frame f has r10 = 512 × (f + 1)
 *   region 3 + i        the value storage of map i of the program (`program.mapList[i]`), including the
 *                       global-data maps (.data/.rodata/.bss) the ELF loader creates
 *   BPF_REGION_MAP_HANDLE  high word of a map handle (`lddw src=1|5`): low word = map index; not loadable
 *   BPF_REGION_CODE     high word of a code address (`lddw src=4`): low word = pc; only callx accepts it
 *
 * Every load and store is checked: the region exists, `start ≤ offset` and `offset + size ≤ end`, and the
 * region is writable for a store. A violation throws NetworkError OUT_OF_BOUNDS with detail
 * { pc, address, size }. The input region has a start/end window so a whole PacketBatch can be region 1
 * with one packet visible at a time (no subarray per packet).
 */
import { NetworkError } from '../errors.js';
import { BPF_MAX_CALL_DEPTH, BPF_STACK_SIZE } from './isa.js';

export const BPF_REGION_NULL = 0;
export const BPF_REGION_INPUT = 1;
export const BPF_REGION_STACK = 2;
export const BPF_REGION_FIRST_MAP = 3;
/** High word of a map handle (lddw src 1 or 5). Helpers 1–3 take it in r1. */
export const BPF_REGION_MAP_HANDLE = 0xfffffffe;
/** High word of a code address (lddw src 4); the low word is the target pc. */
export const BPF_REGION_CODE = 0xffffffff;
/** Bytes of the stack region (all frames). */
export const BPF_STACK_BYTES = BPF_STACK_SIZE * BPF_MAX_CALL_DEPTH;

/** One addressable region. Bytes outside [start, end) are not addressable even if `bytes` holds them. */
export interface BpfRegion {
  readonly id: number;
  readonly name: string;
  bytes: Uint8Array;
  view: DataView;
  start: number;
  end: number;
  writable: boolean;
}

/** A virtual address from a region id and an offset. */
export function bpfAddress(region: number, offset: number): bigint {
  return (BigInt(region >>> 0) << 32n) | BigInt(offset >>> 0);
}

/** The error every engine throws for a bad access. */
export function bpfOutOfBounds(pc: number, hi: number, lo: number, size: number, write: boolean): NetworkError {
  const address = bpfAddress(hi, lo);
  return new NetworkError(
    'OUT_OF_BOUNDS',
    `eBPF ${write ? 'store' : 'load'} of ${size} bytes at 0x${address.toString(16)} (pc ${pc}) is outside the program's memory`,
    { pc, address, size, write },
  );
}

/** What a map must offer to be addressable (its value storage becomes a region). */
export interface BpfRegionSource {
  readonly name: string;
  readonly values: Uint8Array;
  /** Read-only to programs (e.g. `.rodata`). */
  readonly readOnly?: boolean;
}

/**
 * The regions of one engine instance. Not thread-safe and not re-entrant: one run at a time (helpers that run
 * another program must use another engine instance).
 */
export class BpfMemory {
  /** Indexed by region id; holes are undefined. */
  readonly regions: (BpfRegion | undefined)[] = [];
  readonly stack: Uint8Array;
  /** High word of the last 8-byte {@link load} (slow path result, avoids allocating). */
  hi = 0;

  constructor(maps: readonly BpfRegionSource[] = []) {
    const empty = new Uint8Array(0);
    this.regions[BPF_REGION_NULL] = undefined;
    this.regions[BPF_REGION_INPUT] = { id: 1, name: 'input', bytes: empty, view: new DataView(empty.buffer), start: 0, end: 0, writable: true };
    this.stack = new Uint8Array(BPF_STACK_BYTES);
    this.regions[BPF_REGION_STACK] = {
      id: 2,
      name: 'stack',
      bytes: this.stack,
      view: new DataView(this.stack.buffer),
      start: 0,
      end: BPF_STACK_BYTES,
      writable: true,
    };
    maps.forEach((m, i) => {
      const id = BPF_REGION_FIRST_MAP + i;
      this.regions[id] = {
        id,
        name: m.name,
        bytes: m.values,
        view: new DataView(m.values.buffer, m.values.byteOffset, m.values.byteLength),
        start: 0,
        end: m.values.length,
        writable: m.readOnly !== true,
      };
    });
  }

  /** The input region (region 1). */
  get input(): BpfRegion {
    return this.regions[BPF_REGION_INPUT]!;
  }

  /** Makes `bytes[start, end)` the input region; r1 must then be `1 << 32 | start`. */
  setInput(bytes: Uint8Array, start = 0, end = bytes.length): void {
    const r = this.regions[BPF_REGION_INPUT]!;
    if (r.bytes !== bytes) {
      r.bytes = bytes;
      r.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    }
    r.start = start;
    r.end = end;
  }

  /**
   * Resolves an access of `size` bytes at (hi, lo) where lo may have left [0, 2^32) after adding an offset
   * (carry into the region id, as real 64-bit arithmetic would). Returns the region, with the normalised
   * offset in `this.offset`, or throws OUT_OF_BOUNDS.
   */
  offset = 0;
  check(hi: number, lo: number, size: number, write: boolean, pc: number): BpfRegion {
    let h = hi >>> 0;
    let l = lo;
    if (l < 0) {
      l += 0x100000000;
      h = (h - 1) >>> 0;
    } else if (l > 0xffffffff) {
      l -= 0x100000000;
      h = (h + 1) >>> 0;
    }
    const r = h < this.regions.length ? this.regions[h] : undefined;
    if (r === undefined || l < r.start || l + size > r.end || (write && !r.writable)) {
      throw bpfOutOfBounds(pc, h, l, size, write);
    }
    this.offset = l;
    return r;
  }

  /**
   * Checked little-endian load. Sizes 1/2/4 return the unsigned value; size 8 returns the low word as int32
   * and leaves the high word in `this.hi`.
   */
  load(hi: number, lo: number, size: number, pc: number): number {
    const r = this.check(hi, lo, size, false, pc);
    const o = this.offset;
    switch (size) {
      case 1:
        return r.bytes[o]!;
      case 2:
        return r.view.getUint16(o, true);
      case 4:
        return r.view.getUint32(o, true);
      default:
        this.hi = r.view.getInt32(o + 4, true);
        return r.view.getInt32(o, true);
    }
  }

  /** Checked little-endian store of the low `size` bytes of (vhi:vlo). */
  store(hi: number, lo: number, size: number, vlo: number, vhi: number, pc: number): void {
    const r = this.check(hi, lo, size, true, pc);
    const o = this.offset;
    switch (size) {
      case 1:
        r.bytes[o] = vlo;
        return;
      case 2:
        r.view.setUint16(o, vlo & 0xffff, true);
        return;
      case 4:
        r.view.setInt32(o, vlo, true);
        return;
      default:
        r.view.setInt32(o, vlo, true);
        r.view.setInt32(o + 4, vhi, true);
    }
  }

  /**
   * An atomic read-modify-write (RFC 9669 §5.3) of 4 or 8 bytes at (hi, lo): `op` is the instruction's imm
   * (ADD/OR/AND/XOR, optionally | FETCH, XCHG, CMPXCHG), (sl, sh) the src register, (r0l, r0h) r0 for
   * CMPXCHG (its low word for the 32-bit form). Returns the old value's low word, its high word in `this.hi`
   * (0 for the 32-bit form). On a SharedArrayBuffer (maps shared with workers) an aligned access uses
   * `Atomics`, so concurrent programs never lose an update; otherwise it is a plain load and store.
   */
  atomic(hi: number, lo: number, size: 4 | 8, op: number, sl: number, sh: number, r0l: number, r0h: number, pc: number): number {
    const r = this.check(hi, lo, size, true, pc);
    const o = this.offset;
    const abs = r.bytes.byteOffset + o;
    if (typeof SharedArrayBuffer !== 'undefined' && r.bytes.buffer instanceof SharedArrayBuffer && abs % size === 0) {
      const buf = r.bytes.buffer;
      if (size === 4) {
        const a = new Int32Array(buf, abs, 1);
        let old: number;
        switch (op & ~1) {
          case 0x00: old = Atomics.add(a, 0, sl); break;
          case 0x40: old = Atomics.or(a, 0, sl); break;
          case 0x50: old = Atomics.and(a, 0, sl); break;
          case 0xa0: old = Atomics.xor(a, 0, sl); break;
          case 0xe0: old = Atomics.exchange(a, 0, sl); break;
          default: old = Atomics.compareExchange(a, 0, r0l | 0, sl); break;
        }
        this.hi = 0;
        return old | 0;
      }
      const a = new BigInt64Array(buf, abs, 1);
      const v = (BigInt(sh | 0) << 32n) | BigInt(sl >>> 0);
      let old: bigint;
      switch (op & ~1) {
        case 0x00: old = Atomics.add(a, 0, v); break;
        case 0x40: old = Atomics.or(a, 0, v); break;
        case 0x50: old = Atomics.and(a, 0, v); break;
        case 0xa0: old = Atomics.xor(a, 0, v); break;
        case 0xe0: old = Atomics.exchange(a, 0, v); break;
        default: old = Atomics.compareExchange(a, 0, (BigInt(r0h | 0) << 32n) | BigInt(r0l >>> 0), v); break;
      }
      this.hi = Number(BigInt.asIntN(64, old) >> 32n) | 0;
      return Number(BigInt.asUintN(32, old)) | 0;
    }
    const ol = r.view.getInt32(o, true);
    const oh = size === 8 ? r.view.getInt32(o + 4, true) : 0;
    if (size === 4) sh = 0;
    let nl = ol;
    let nh = oh;
    switch (op & ~1) {
      case 0x00: {
        const t = (ol >>> 0) + (sl >>> 0);
        nl = t | 0;
        nh = (oh + sh + (t > 0xffffffff ? 1 : 0)) | 0;
        break;
      }
      case 0x40: nl = ol | sl; nh = oh | sh; break;
      case 0x50: nl = ol & sl; nh = oh & sh; break;
      case 0xa0: nl = ol ^ sl; nh = oh ^ sh; break;
      case 0xe0: nl = sl; nh = sh; break;
      default:
        // cmpxchg: compare with r0 (only its low word for the 32-bit form)
        if (size === 8 ? (r0l | 0) === ol && (r0h | 0) === oh : (r0l | 0) === ol) {
          nl = sl;
          nh = sh;
        }
    }
    r.view.setInt32(o, nl, true);
    if (size === 8) r.view.setInt32(o + 4, nh, true);
    this.hi = oh;
    return ol;
  }

  /** Copies `len` bytes at a virtual address (for helpers); OUT_OF_BOUNDS if any byte is not readable. */
  read(address: bigint, len: number, pc = -1): Uint8Array {
    const a = BigInt.asUintN(64, address);
    const r = this.check(Number(a >> 32n) | 0, Number(a & 0xffffffffn), len, false, pc);
    return r.bytes.slice(this.offset, this.offset + len);
  }

  /** A live view of `len` bytes at a virtual address (no copy); `write` demands a writable region. */
  view(address: bigint, len: number, write: boolean, pc = -1): Uint8Array {
    const a = BigInt.asUintN(64, address);
    const r = this.check(Number(a >> 32n) | 0, Number(a & 0xffffffffn), len, write, pc);
    return r.bytes.subarray(this.offset, this.offset + len);
  }

  /** Writes bytes at a virtual address (for helpers). */
  write(address: bigint, data: Uint8Array, pc = -1): void {
    this.view(address, data.length, true, pc).set(data);
  }
}
