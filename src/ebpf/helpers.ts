/**
 * Helper functions by Linux number (include/uapi/linux/bpf.h, `__BPF_FUNC_MAPPER`).
 *
 * A helper receives r1..r5 as unsigned 64-bit bigints and an environment ({@link BpfHelperEnv}) giving checked
 * access to the program's memory and maps; it returns the new r0. Lookup order for `call N`: the program's own
 * helpers (`program.registerHelper`), then the global registry ({@link registerBpfHelper}). Built in here:
 * 5 ktime_get_ns, 6 trace_printk (to a callback), 7 get_prandom_u32. Map helpers 1–3 are registered by
 * maps.ts (ebpf-extras) into this same registry.
 *
 * A helper ends the whole program early with `env.exit(r0)` (it throws a {@link BpfProgramExit} signal the
 * engines catch); this is how the conformance suite's "unwind" helper is built.
 */
import { NetworkError } from '../errors.js';
import { BPF_REGION_FIRST_MAP, BPF_REGION_MAP_HANDLE, type BpfMemory } from './memory.js';
import { prandomU32, seedPrandom } from './prandom.js';

/**
 * What the engines need from a map (implemented by maps.ts). `values` is the map's value storage, which is
 * the map's memory region: a lookup returns `region << 32 | offset-in-values`.
 */
export interface BpfMapLike {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly values: Uint8Array;
  /** Read-only to programs (e.g. `.rodata`). */
  readonly readOnly?: boolean;
  /** Offset of the value for the key at `key[keyOff…]` in `values`, or -1 when absent. */
  lookupValueOffset(key: Uint8Array, keyOff?: number): number;
  /** Linux semantics: 0 on success or a negative errno (flags BPF_ANY 0, BPF_NOEXIST 1, BPF_EXIST 2). */
  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags?: number): number;
  /** 0 on success or a negative errno (-ENOENT = -2). */
  deleteElem(key: Uint8Array, keyOff?: number): number;
}

/** The environment a helper runs in. */
export interface BpfHelperEnv {
  /** Checked memory of the running engine. */
  readonly memory: BpfMemory;
  /** The program's maps, indexed by map index (= fd used by lddw src 1/2/5/6). */
  readonly maps: readonly BpfMapLike[];
  /** pc of the call instruction (for error detail). */
  readonly pc: number;
  /** Copies `len` readable bytes at a virtual address; OUT_OF_BOUNDS otherwise. */
  read(address: bigint, len: number): Uint8Array;
  /** Writes bytes at a virtual address; OUT_OF_BOUNDS when not writable. */
  write(address: bigint, bytes: Uint8Array): void;
  /** The map a handle (r1 of helpers 1–3) designates, or undefined. */
  mapByHandle(handle: bigint): BpfMapLike | undefined;
  /** Index of a map in `maps` (−1 when not there). */
  mapIndex(map: BpfMapLike): number;
  /** The virtual address of `offset` in a map's value storage. */
  mapValueAddress(map: BpfMapLike, offset: number): bigint;
  /** Sends a line to the trace sink (trace_printk). */
  trace(message: string): void;
  /** Ends the program now with this r0. */
  exit(r0: bigint): never;
}

/** A helper: r1..r5 unsigned 64-bit, returns r0 (taken modulo 2^64). */
export type BpfHelperFn = (r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: BpfHelperEnv) => bigint;

/** A registered helper. */
export interface BpfHelperEntry {
  readonly id: number;
  readonly name: string;
  readonly fn: BpfHelperFn;
}

/** The signal `env.exit(r0)` throws; engines catch it and return `r0`. Not an Error: no stack to capture. */
export class BpfProgramExit {
  constructor(readonly r0: bigint) {}
}

// Linux helper numbers (include/uapi/linux/bpf.h).
export const BPF_FUNC_MAP_LOOKUP_ELEM = 1;
export const BPF_FUNC_MAP_UPDATE_ELEM = 2;
export const BPF_FUNC_MAP_DELETE_ELEM = 3;
export const BPF_FUNC_KTIME_GET_NS = 5;
export const BPF_FUNC_TRACE_PRINTK = 6;
export const BPF_FUNC_GET_PRANDOM_U32 = 7;

const globalHelpers = new Map<number, BpfHelperEntry>();

function checkHelperId(id: number): void {
  if (!Number.isInteger(id) || id < 0 || id > 0x7fffffff) {
    throw new NetworkError('INVALID_ARGUMENT', `helper id ${id} must be an integer in [0, 2^31)`, { field: 'id', actual: id });
  }
}

/** Registers (or replaces) a helper for every program. */
export function registerBpfHelper(id: number, fn: BpfHelperFn, name = `helper_${id}`): void {
  checkHelperId(id);
  globalHelpers.set(id, { id, name, fn });
}

/** Removes a global helper; true if it existed. */
export function unregisterBpfHelper(id: number): boolean {
  return globalHelpers.delete(id);
}

/** The global helper with this id, if any. */
export function getBpfHelper(id: number): BpfHelperEntry | undefined {
  return globalHelpers.get(id);
}

/** Ids of all global helpers, ascending. */
export function bpfHelperIds(): number[] {
  return [...globalHelpers.keys()].sort((a, b) => a - b);
}

/** A helper table: program-local helpers over the global registry. */
export class BpfHelperTable {
  private readonly local = new Map<number, BpfHelperEntry>();

  /** Registers a helper for this table only (overrides a global one with the same id). */
  register(id: number, fn: BpfHelperFn, name = `helper_${id}`): void {
    checkHelperId(id);
    this.local.set(id, { id, name, fn });
  }

  unregister(id: number): boolean {
    return this.local.delete(id);
  }

  /** The helper `call id` runs, local first. */
  resolve(id: number): BpfHelperEntry | undefined {
    return this.local.get(id) ?? globalHelpers.get(id);
  }

  /** True if `call id` would find a helper. */
  has(id: number): boolean {
    return this.resolve(id) !== undefined;
  }

  /** Ids known to this table (local and global), ascending. */
  ids(): number[] {
    return [...new Set([...this.local.keys(), ...globalHelpers.keys()])].sort((a, b) => a - b);
  }
}

/** Receives trace_printk output. */
export type BpfTraceSink = (message: string) => void;

let defaultTraceSink: BpfTraceSink = () => {};

/** Sets where trace_printk output goes when a run gives no `onTrace` (default: dropped). */
export function setBpfTraceSink(sink: BpfTraceSink): void {
  defaultTraceSink = sink;
}

/** The environment the engines hand to helpers. One per engine instance; `pc` is updated per call. */
export class BpfRuntimeEnv implements BpfHelperEnv {
  pc = -1;
  traceSink: BpfTraceSink | undefined;

  constructor(
    readonly memory: BpfMemory,
    readonly maps: readonly BpfMapLike[],
  ) {}

  read(address: bigint, len: number): Uint8Array {
    return this.memory.read(address, len, this.pc);
  }

  write(address: bigint, bytes: Uint8Array): void {
    this.memory.write(address, bytes, this.pc);
  }

  mapByHandle(handle: bigint): BpfMapLike | undefined {
    const h = BigInt.asUintN(64, handle);
    if (h >> 32n !== BigInt(BPF_REGION_MAP_HANDLE)) return undefined;
    return this.maps[Number(h & 0xffffffffn)];
  }

  mapIndex(map: BpfMapLike): number {
    return this.maps.indexOf(map);
  }

  mapValueAddress(map: BpfMapLike, offset: number): bigint {
    const i = this.maps.indexOf(map);
    if (i < 0) throw new NetworkError('INVALID_ARGUMENT', `map ${map.name} is not one of the program's maps`, { pc: this.pc });
    return (BigInt(BPF_REGION_FIRST_MAP + i) << 32n) | BigInt(offset >>> 0);
  }

  trace(message: string): void {
    (this.traceSink ?? defaultTraceSink)(message);
  }

  exit(r0: bigint): never {
    throw new BpfProgramExit(BigInt.asUintN(64, r0));
  }
}

/** Runs helper `id` with the engine's environment; unknown helper → VERIFIER_REJECTED-free runtime error. */
export function callBpfHelper(
  table: BpfHelperTable,
  env: BpfRuntimeEnv,
  id: number,
  pc: number,
  r1: bigint,
  r2: bigint,
  r3: bigint,
  r4: bigint,
  r5: bigint,
): bigint {
  const h = table.resolve(id);
  if (h === undefined) {
    throw new NetworkError('UNSUPPORTED', `eBPF program calls unknown helper ${id} at pc ${pc}`, { pc, helper: id });
  }
  env.pc = pc;
  return BigInt.asUintN(64, h.fn(r1, r2, r3, r4, r5, env));
}

// ---- built-in helpers ----

// get_prandom_u32: xorshift128+ seeded from Math.random (prandom.ts; its state is shared with the native JIT).
/**
 * Re-seeds get_prandom_u32 (helper 7) so a sequence of runs is reproducible, e.g. to compare engines on
 * programs that call it: seed, run on engine A, seed again, run on engine B.
 */
export function seedBpfPrandom(seed: number): void {
  seedPrandom(seed);
}

/**
 * trace_printk(fmt, fmt_size, a, b, c): Linux accepts %d %i %u %x %X %ld %lu %lx %lld %llu %llx %c %s %p %%
 * with at most 3 arguments (kernel/trace/bpf_trace.c). Returns the number of bytes "written".
 */
function tracePrintk(r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, env: BpfHelperEnv): bigint {
  const size = Number(BigInt.asUintN(32, r2));
  if (size === 0 || size > 4096) return BigInt.asUintN(64, -22n); // -EINVAL
  const raw = env.read(r1, size);
  const nul = raw.indexOf(0);
  const fmt = new TextDecoder().decode(nul >= 0 ? raw.subarray(0, nul) : raw);
  const args = [r3, r4, r5];
  let argi = 0;
  const out = fmt.replace(/%(l{0,2})([diuxXcsp%])/g, (_m, l: string, conv: string) => {
    if (conv === '%') return '%';
    const a = args[argi++] ?? 0n;
    const bits = l.length === 0 ? 32 : 64;
    switch (conv) {
      case 'd':
      case 'i':
        return BigInt.asIntN(bits, a).toString();
      case 'u':
        return BigInt.asUintN(bits, a).toString();
      case 'x':
        return BigInt.asUintN(bits, a).toString(16);
      case 'X':
        return BigInt.asUintN(bits, a).toString(16).toUpperCase();
      case 'c':
        return String.fromCharCode(Number(a & 0xffn));
      case 'p':
        return '0x' + BigInt.asUintN(64, a).toString(16);
      default: {
        // %s: a NUL-terminated string in program memory, read byte by byte within bounds.
        let s = '';
        for (let i = 0; i < 256; i++) {
          const b = env.read(a + BigInt(i), 1)[0]!;
          if (b === 0) break;
          s += String.fromCharCode(b);
        }
        return s;
      }
    }
  });
  env.trace(out);
  return BigInt(out.length);
}

registerBpfHelper(BPF_FUNC_KTIME_GET_NS, () => process.hrtime.bigint(), 'ktime_get_ns');
registerBpfHelper(BPF_FUNC_TRACE_PRINTK, tracePrintk, 'trace_printk');
registerBpfHelper(BPF_FUNC_GET_PRANDOM_U32, () => BigInt(prandomU32()), 'get_prandom_u32');
