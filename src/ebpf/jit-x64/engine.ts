// The 'native' eBPF engine: x86-64 code from translate.ts, run by native/jit.c. Registered into program.ts's
// engine registry on import. Without the addon (or off x86-64 Linux) the code is still produced
// (`nativeCode()`), and runs fall back to the eBPF → JavaScript JIT, with the reason in `fallbackReason`.
import { checkBatchLanes, type PacketBatch } from '../../batch.js';
import { NetworkError, fromNative, isNetworkError } from '../../errors.js';
import { nativeAddon } from '../../native.js';
import {
  BpfProgramExit,
  BpfRuntimeEnv,
  getBpfHelper,
  type BpfHelperEntry,
} from '../helpers.js';
import { BPF_DEFAULT_BUDGET, bpfBadCallx, bpfBudgetExceeded, bpfCallDepthExceeded, bpfFellOff, type BpfRunOptions } from '../interpreter.js';
import '../maps.js'; // registers the map helpers 1–3 so their built-in entries can be recognised below
import { BpfMemory, bpfOutOfBounds, BPF_REGION_FIRST_MAP, BPF_REGION_INPUT, BPF_REGION_STACK, BPF_STACK_BYTES } from '../memory.js';
import { registerBpfEngine, type BpfCompiledProgram, type BpfProgram } from '../program.js';
import { bpfPrandomState } from '../prandom.js';
import { BPF_ACCESS_PROVED, verifyProgram } from '../verifier.js';
import { JIT_HELPER_SLOTS, JIT_STATUS } from './layout.js';
import { translateBpfToX64, type X64Translation } from './translate.js';

/** Helpers with a C implementation in native/jit.c (id → kind), used when the program has not overridden them. */
const NATIVE_HELPER_IDS = [1, 2, 3, 5, 7] as const;
const builtinHelpers = new Map<number, BpfHelperEntry | undefined>(NATIVE_HELPER_IDS.map((id) => [id, getBpfHelper(id)]));

/** Options of the native compilation. */
export interface X64JitCompileOptions {
  /**
   * 'verifier' (default): drop the checks of accesses the verifier proved in bounds (when it accepts the
   * program); 'none': keep a run-time check on every access except the translator's own trivial proofs;
   * 'all-checked': check every access, even stack slots through r10.
   */
  proofs?: 'verifier' | 'none' | 'all-checked';
}

/** Whether native JIT code can run in this process. */
export function x64JitAvailable(): boolean {
  return nativeAddon !== null && typeof nativeAddon.bpfJitCreate === 'function' && process.arch === 'x64' && process.platform === 'linux';
}

function unavailableReason(): string {
  if (process.arch !== 'x64' || process.platform !== 'linux') return `the x86-64 JIT needs x86-64 Linux (this is ${process.platform}-${process.arch})`;
  if (!nativeAddon) return 'the native addon is not loaded';
  return 'the native addon has no JIT shim (rebuild it)';
}

/** A program compiled to x86-64. */
export class X64CompiledProgram implements BpfCompiledProgram {
  readonly engine = 'native';
  /** The machine code and its map, or null when the program is beyond the native JIT (see fallbackReason). */
  readonly translation: X64Translation | null;
  /** Why runs use the JavaScript JIT instead of the machine code, or null when they do not. */
  readonly fallbackReason: string | null;
  /** Whether the verifier accepted the program (its proofs then removed run-time checks). */
  readonly verified: boolean;
  private handle: object | null = null;
  // Shared memory cannot be detached, so the shim resolves these addresses once instead of on every run.
  private readonly out = new BigUint64Array(new SharedArrayBuffer(64));
  private readonly stackBuffer: SharedArrayBuffer;
  private readonly stack: Uint8Array;
  private readonly memory: BpfMemory;
  private readonly env: BpfRuntimeEnv;
  private fallback: BpfCompiledProgram | null = null;
  private current: { data: Uint8Array; start: number; len: number; batch: PacketBatch | null } = { data: new Uint8Array(0), start: 0, len: 0, batch: null };
  private regionsCache: BigUint64Array | null = null;

  constructor(private readonly program: BpfProgram, options: X64JitCompileOptions = {}) {
    const proofs = options.proofs ?? 'verifier';
    let proved: Uint8Array | undefined;
    let verified = false;
    if (proofs === 'verifier') {
      try {
        const r = verifyProgram(program.insns, { maps: program.mapList, helpers: (id) => program.helpers.has(id), budget: BPF_DEFAULT_BUDGET });
        proved = r.access;
        verified = true;
      } catch {
        // Unverified programs still run (every engine runs them), with every access checked.
      }
    }
    this.verified = verified;
    let translation: X64Translation | null = null;
    let unsupported: string | null = null;
    try {
      translation = translateBpfToX64(program.insns, program.mapList.length, {
        proveSafe: proofs !== 'all-checked',
        proved: proved ? (pc) => proved[pc] === BPF_ACCESS_PROVED : undefined,
      });
    } catch (e) {
      // Beyond the native limits (e.g. more than 62 maps): the JS JIT runs it; other rejections propagate.
      if (!isNetworkError(e, 'UNSUPPORTED')) throw e;
      unsupported = e.message;
    }
    this.translation = translation;
    // The stack sits in the middle of 128 KiB of its own so that no other region is within reach of a
    // 16-bit offset from it: an access the TypeScript engines reject cannot land in a neighbour region here.
    this.stackBuffer = new SharedArrayBuffer(65536 + BPF_STACK_BYTES + 65536);
    this.stack = new Uint8Array(this.stackBuffer, 65536, BPF_STACK_BYTES);
    this.memory = new BpfMemory(program.mapList);
    const sr = this.memory.regions[BPF_REGION_STACK]!;
    sr.bytes = this.stack;
    sr.view = new DataView(this.stackBuffer, 65536, BPF_STACK_BYTES);
    this.env = new BpfRuntimeEnv(this.memory, program.mapList);
    this.fallbackReason = unsupported ?? (x64JitAvailable() ? null : unavailableReason());
  }

  /** The x86-64 machine code. */
  nativeCode(): Uint8Array {
    if (!this.translation) throw new NetworkError('UNSUPPORTED', `no native code: ${this.fallbackReason ?? 'not translated'}`);
    return this.translation.code.slice();
  }

  private jsFallback(): BpfCompiledProgram {
    this.fallback ??= this.program.compile('js');
    return this.fallback;
  }

  private ensureHandle(): object {
    if (this.handle) return this.handle;
    const addon = nativeAddon!;
    const maps = this.program.mapList;
    const regions = [this.stack, ...maps.map((m) => m.values)];
    const writable = Uint8Array.from([1, ...maps.map((m) => (m.readOnly ? 0 : 1))]);
    const kinds = new Int32Array(JIT_HELPER_SLOTS);
    for (const id of NATIVE_HELPER_IDS) {
      const b = builtinHelpers.get(id);
      if (b !== undefined && this.program.helpers.resolve(id) === b) kinds[id] = id;
    }
    // Each map's whole shared buffer (header + table) as a Uint8Array: N-API hands out no pointer into a bare SharedArrayBuffer.
    const bufs = maps.map((m) => ((m as { buffer?: unknown }).buffer instanceof SharedArrayBuffer ? new Uint8Array((m as { buffer: SharedArrayBuffer }).buffer) : null));
    const t = this.translation!;
    // The shim holds the dispatcher weakly (it closes over `this`, which owns the handle): keep it here.
    this.jsDispatch = (id, r1, r2, r3, r4, r5, pc) => this.callJsHelper(id, r1, r2, r3, r4, r5, pc);
    // Helper 7 in C draws from the same shared state as the TypeScript helper (seedBpfPrandom seeds both).
    this.handle = addon.bpfJitCreate(t.code, t.entryOffset, regions, writable, this.out, this.jsDispatch, kinds, bufs, bpfPrandomState, t.sideEffectFree ? 1 : 0);
    return this.handle;
  }

  // Host address ↔ virtual address for helpers written in TypeScript (they read memory by virtual address).
  private toVirtual(v: bigint): bigint {
    const regs = this.regionsCache!;
    for (let i = 0; i * 2 < regs.length; i++) {
      const base = regs[2 * i]!;
      const len = regs[2 * i + 1]!;
      if (base !== 0n && v >= base && v <= base + len) {
        const off = v - base;
        if (i === 0) return (BigInt(BPF_REGION_INPUT) << 32n) | BigInt(this.current.start + Number(off));
        const region = i === 1 ? BPF_REGION_STACK : BPF_REGION_FIRST_MAP + (i - 2);
        return (BigInt(region) << 32n) | off;
      }
    }
    return v;
  }

  private toHost(v: bigint): bigint {
    const hi = Number(v >> 32n);
    const lo = Number(v & 0xffffffffn);
    const regs = this.regionsCache!;
    let i = -1;
    let off = lo;
    if (hi === BPF_REGION_INPUT) {
      i = 0;
      off = lo - this.current.start;
    } else if (hi === BPF_REGION_STACK) i = 1;
    else if (hi >= BPF_REGION_FIRST_MAP && hi - BPF_REGION_FIRST_MAP + 2 < regs.length / 2) i = hi - BPF_REGION_FIRST_MAP + 2;
    if (i < 0 || off < 0 || BigInt(off) > regs[2 * i + 1]!) return v;
    return regs[2 * i]! + BigInt(off);
  }

  private callJsHelper(id: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number): bigint | [bigint] {
    const h = this.program.helpers.resolve(id);
    if (h === undefined) {
      throw new NetworkError('UNSUPPORTED', `eBPF program calls unknown helper ${id} at pc ${pc}`, { pc, helper: id });
    }
    const regs = nativeAddon!.bpfJitRegions(this.handle!);
    // The last pair is [index of the packet being run, 0].
    this.regionsCache = regs.subarray(0, regs.length - 2);
    const cur = this.current;
    if (cur.batch) {
      const idx = Number(regs[regs.length - 2]);
      cur.start = cur.batch.offsets[idx]!;
      cur.len = cur.batch.lengths[idx]!;
      this.memory.setInput(cur.data, cur.start, cur.start + cur.len);
    }
    else this.memory.setInput(cur.data, 0, cur.len);
    this.env.pc = pc;
    try {
      const r0 = h.fn(this.toVirtual(r1), this.toVirtual(r2), this.toVirtual(r3), this.toVirtual(r4), this.toVirtual(r5), this.env);
      // Results stay numbers: a value like 0x1_0000_0005 is as likely a scalar as a virtual address. Only
      // map_lookup_elem returns a pointer by definition (it runs in C unless the map has no shared buffer).
      const v = BigInt.asUintN(64, r0);
      return id === 1 ? this.toHost(v) : v;
    } catch (e) {
      if (e instanceof BpfProgramExit) return [e.r0];
      this.helperError = e;
      throw e;
    }
  }

  private jsDispatch: ((id: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number) => bigint | [bigint]) | null = null;
  private helperError: unknown = undefined;
  private running = false;

  /** Calls the addon: a helper's own exception passes through as it is, the addon's argument errors become NetworkError. */
  private callNative<T>(fn: () => T): T {
    this.enterNative();
    try {
      return fn();
    } catch (e) {
      return this.nativeFailed(e);
    } finally {
      this.leaveNative();
    }
  }

  // callNative's three steps, also used inline by runBatch so a batch call allocates no closure.
  private enterNative(): void {
    if (this.running) {
      throw new NetworkError('INVALID_ARGUMENT', 'this native eBPF program is already running (a helper ran it again); compile another instance', {});
    }
    this.running = true;
    this.helperError = undefined;
  }

  private nativeFailed(e: unknown): never {
    if (e === this.helperError) throw e;
    return fromNative(() => {
      throw e;
    });
  }

  private leaveNative(): void {
    this.running = false;
    this.helperError = undefined;
  }

  private throwError(index: number): never {
    const o = Array.from(this.out);
    const status = Number(o[1]!);
    const pc = Number(o[2]!);
    const size = Number(o[4]! & 0xffn);
    const write = (o[4]! & 0x100n) !== 0n;
    const addr = o[3]!;
    switch (status) {
      case JIT_STATUS.OOB: {
        const region = Number(o[7]!);
        let hi = 0;
        let lo = Number(addr & 0xffffffffn);
        if (region === 1) {
          hi = BPF_REGION_INPUT;
          lo += this.current.batch ? this.current.batch.offsets[index]! : 0;
        } else if (region === 2) hi = BPF_REGION_STACK;
        else if (region >= 3) hi = BPF_REGION_FIRST_MAP + region - 3;
        else hi = Number(addr >> 32n);
        throw bpfOutOfBounds(pc, hi, lo, size, write);
      }
      case JIT_STATUS.BUDGET:
        throw bpfBudgetExceeded(pc, this.lastBudget);
      case JIT_STATUS.DEPTH:
        throw bpfCallDepthExceeded(pc);
      case JIT_STATUS.CALLX:
        throw bpfBadCallx(pc, Number(addr >> 32n) | 0, Number(addr & 0xffffffffn) | 0);
      case JIT_STATUS.FELL_OFF:
        throw bpfFellOff(pc);
      default:
        throw new NetworkError('UNSUPPORTED', `native eBPF run failed at pc ${pc} (status ${status})`, { pc, status });
    }
  }

  private lastBudget = BPF_DEFAULT_BUDGET;
  // The typed arrays bound in the shim by bpfJitBind (runBatch's fast path), and whether binding succeeded.
  private boundData: Uint8Array | null = null;
  private boundOffsets: Uint32Array | null = null;
  private boundLengths: Uint32Array | null = null;
  private boundVerdicts: Uint32Array | null = null;
  private bound = false;

  run(memory: Uint8Array, options: BpfRunOptions = {}): bigint {
    if (this.fallbackReason !== null) return this.jsFallback().run(memory, options);
    const h = this.ensureHandle();
    const budget = options.budget ?? BPF_DEFAULT_BUDGET;
    this.lastBudget = budget;
    this.env.traceSink = options.onTrace;
    this.current = { data: memory, start: 0, len: memory.length, batch: null };
    // The shim zeroes the stack before a single run (memset beats a fill over shared memory).
    const errors = this.callNative(() => nativeAddon!.bpfJitRun(h, memory, budget));
    if (errors !== 0) this.throwError(0);
    return this.out[0]!;
  }

  runBatch(batch: PacketBatch, verdicts?: Uint32Array, options?: BpfRunOptions): Uint32Array {
    if (this.fallbackReason !== null) return this.jsFallback().runBatch(batch, verdicts, options);
    const n = batch.length;
    const v = verdicts ?? batch.verdicts ?? new Uint32Array(n);
    if (v.length < n) {
      throw new NetworkError('INVALID_ARGUMENT', `verdicts holds ${v.length} entries, the batch ${n}`, { field: 'verdicts', expected: n, actual: v.length });
    }
    const h = this.ensureHandle();
    const budget = options?.budget ?? BPF_DEFAULT_BUDGET;
    this.lastBudget = budget;
    this.env.traceSink = options?.onTrace;
    const cur = this.current;
    cur.data = batch.data;
    cur.start = 0;
    cur.len = 0;
    cur.batch = batch;
    this.enterNative();
    let errors: number;
    try {
      const { data, offsets, lengths } = batch;
      // The same typed arrays as last time: the shim still holds their addresses (it re-checks detachment itself),
      // so the call passes two numbers instead of four typed arrays to unwrap.
      if (data !== this.boundData || offsets !== this.boundOffsets || lengths !== this.boundLengths || v !== this.boundVerdicts) {
        this.boundData = null;
        const ok = nativeAddon!.bpfJitBind(h, data, offsets, lengths, v);
        this.boundData = data;
        this.boundOffsets = offsets;
        this.boundLengths = lengths;
        this.boundVerdicts = v;
        this.bound = ok;
      }
      errors = this.bound ? nativeAddon!.bpfJitRunBound(h, n, budget) : nativeAddon!.bpfJitRunBatch(h, data, offsets, lengths, n, v, budget);
    } catch (e) {
      // Rebind next time (e.g. after a detached buffer), so a failure is never cached.
      this.boundData = null;
      // The shim's lane check says only that a packet lies outside; the TypeScript engines' check names it.
      if (e instanceof RangeError && e.message.includes('outside the batch data')) checkBatchLanes(batch.data, batch.offsets, batch.lengths, n);
      return this.nativeFailed(e);
    } finally {
      this.leaveNative();
    }
    if (errors !== 0) this.throwError(Number(this.out[5]!));
    return v;
  }

  /** Unmaps the machine code now (the garbage collector would do it later). */
  dispose(): void {
    if (this.handle) nativeAddon?.bpfJitFree(this.handle);
    this.handle = null;
    this.boundData = this.boundOffsets = this.boundLengths = this.boundVerdicts = null;
  }
}

/** Compiles a program with the native JIT (also what `program.compile('native')` does). */
export function compileBpfX64(program: BpfProgram, options?: X64JitCompileOptions): X64CompiledProgram {
  return new X64CompiledProgram(program, options);
}

registerBpfEngine('native', {
  compile: (program) => new X64CompiledProgram(program),
  available: x64JitAvailable,
});
