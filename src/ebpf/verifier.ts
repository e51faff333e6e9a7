/**
 * The eBPF verifier: static checks in the spirit of Linux kernel/bpf/verifier.c, shared by every engine.
 *
 * 1. Structure (linear pass): known opcodes with reserved fields zero (isa.ts bpfInsnProblem), jump and call
 *    targets inside the program, inside their function and never on the second slot of an LDDW, r10 never
 *    written, no function that can fall off its end, no kfunc / kernel-variable forms.
 * 2. Control flow: every reachable instruction has a path to `exit` (Linux check_cfg rejects the rest).
 * 3. Abstract interpretation, path-sensitive like Linux do_check: a DFS over paths with, per register, a type
 *    (uninitialised, scalar with unsigned and signed ranges, pointer to the input/packet, the end of the
 *    input, the stack of a frame, a map value, a map handle, a possibly-NULL map value, a code address) and,
 *    per stack byte, whether it was written (plus spilled registers on 8-byte slots). It rejects reads of
 *    uninitialised registers or stack bytes, dereferences of non-pointers, stack accesses outside 512 bytes,
 *    arithmetic on pointers other than ± scalar, possibly-NULL map value dereferences, helper calls with
 *    unknown ids or bad map arguments, and call depth > 8.
 *    Loops: states are checkpointed at jump targets; a path that comes back to a checkpoint of its own with a
 *    state the checkpoint covers may loop forever and is rejected ("loop not proven bounded"), as is a
 *    program whose exploration exceeds `maxInsnsProcessed` (default 250k; Linux: 1M). Loops whose counters are known
 *    (e.g. `for (i = 0; i < 8; i++)`) are explored iteration by iteration and accepted. With a run-time
 *    `budget` the caller takes on termination: such loops are then widened and accepted.
 *
 * Memory safety does not rest on this alone: every engine checks each load and store at run time. What the
 * verifier proved is reported in {@link BpfVerifierResult.access} so a JIT may drop checks it does not need.
 */
import { NetworkError } from '../errors.js';
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_JMP,
  BPF_JMP32,
  BPF_LD,
  BPF_LDDW_OPCODE,
  BPF_LDX,
  BPF_MAX_CALL_DEPTH,
  BPF_MEMSX,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_ST,
  BPF_STACK_SIZE,
  BPF_STX,
  BPF_X,
  BPF_XCHG,
  bpfBranchOffset,
  bpfInsnProblem,
  bpfSizeBytes,
  isBpfBranch,
  type BpfInsn,
} from './isa.js';

/** What the verifier needs to know about each map (index = the fd/idx `lddw` uses). */
export interface BpfVerifierMap {
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries?: number;
  readonly readOnly?: boolean;
}

/** Options of {@link verifyProgram}. */
export interface BpfVerifyOptions {
  /** The program's maps by index. */
  maps?: readonly BpfVerifierMap[];
  /** Helper ids `call N` may use (default: 1, 2, 3, 5, 6, 7). */
  helpers?: ReadonlySet<number> | readonly number[] | ((id: number) => boolean);
  /**
   * A run-time instruction budget the caller enforces. When set, loops the verifier cannot bound are
   * accepted (termination is then the budget's job); every other check still applies.
   */
  budget?: number;
  /**
   * Complexity limit: instructions the abstract interpretation may process (default 250,000; Linux allows
   * 1,000,000 but runs natively — here a loop that never settles costs ~10 µs per instruction to refute).
   */
  maxInsnsProcessed?: number;
  /** Formats an instruction for error messages (default: a compact built-in form). */
  disassemble?: (insns: readonly BpfInsn[], pc: number) => string;
}

/** Per-pc facts about loads/stores in {@link BpfVerifierResult.access}. */
export const BPF_ACCESS_NONE = 0;
/** Every execution of this access was proved in bounds: a JIT may skip the run-time check. */
export const BPF_ACCESS_PROVED = 1;
/** The access needs the run-time check (input offset not proved below the length, variable offsets …). */
export const BPF_ACCESS_CHECKED = 2;

/** What the verifier found. */
export interface BpfVerifierResult {
  /** Instructions the abstract interpretation processed. */
  insnsProcessed: number;
  /** Per pc: BPF_ACCESS_NONE / _PROVED / _CHECKED for memory instructions. */
  access: Uint8Array;
  /** Per pc: 1 if reachable. */
  reachable: Uint8Array;
  /** Start pc of every function (0 first). */
  functions: number[];
  /** Deepest stack use (bytes below r10) of any frame. */
  maxStackDepth: number;
  /** Deepest call nesting seen (1 = no local calls). */
  maxCallDepth: number;
  /** True if the program contains a backward jump. */
  hasLoops: boolean;
  /** True if a loop was accepted only because of the run-time budget. */
  reliesOnBudget: boolean;
}

const DEFAULT_HELPERS = new Set([1, 2, 3, 5, 6, 7]);
/** Helpers whose memory effects the verifier models (1–3 maps, 5 time, 6 trace_printk reads, 7 random). */
const BUILTIN_HELPERS = DEFAULT_HELPERS;
const U64_MAX = (1n << 64n) - 1n;
const U32_MAX = 0xffffffffn;
const S64_MIN = -(1n << 63n);
const S64_MAX = (1n << 63n) - 1n;
const RECORDS_PER_PC = 16;

// ---- instruction text ------------------------------------------------------------------------

const ALU_NAMES = ['add', 'sub', 'mul', 'div', 'or', 'and', 'lsh', 'rsh', 'neg', 'mod', 'xor', 'mov', 'arsh', 'end'];
const JMP_NAMES = ['ja', 'jeq', 'jgt', 'jge', 'jset', 'jne', 'jsgt', 'jsge', 'call', 'exit', 'jlt', 'jle', 'jslt', 'jsle'];
const SIZE_NAMES: Record<number, string> = { 0: 'w', 8: 'h', 16: 'b', 24: 'dw' };

/** A compact assembly-like rendering of the instruction at `pc` (used in verifier messages). */
export function bpfVerifierInsnText(insns: readonly BpfInsn[], pc: number): string {
  const i = insns[pc];
  if (!i) return '(none)';
  const cls = i.opcode & 7;
  const op = i.opcode >> 4;
  const x = (i.opcode & BPF_X) !== 0;
  const mem = (r: number, off: number) => `[%r${r}${off < 0 ? '-' : '+'}${Math.abs(off)}]`;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const name = (ALU_NAMES[op] ?? `alu${op}`) + (cls === BPF_ALU ? '32' : '');
      if (op === 8) return `${name} %r${i.dst}`;
      if (op === 13) return `${cls === BPF_ALU64 ? 'bswap' : x ? 'be' : 'le'}${i.imm} %r${i.dst}`;
      return `${name} %r${i.dst}, ${x ? `%r${i.src}` : i.imm}`;
    }
    case BPF_JMP:
    case BPF_JMP32: {
      const name = (JMP_NAMES[op] ?? `jmp${op}`) + (cls === BPF_JMP32 ? '32' : '');
      if (op === 9) return 'exit';
      if (op === 8) return x ? `callx %r${i.dst}` : i.src === BPF_PSEUDO_CALL ? `call local ${i.imm >= 0 ? '+' : ''}${i.imm}` : `call ${i.imm}`;
      const off = bpfBranchOffset(i);
      const t = `${off >= 0 ? '+' : ''}${off}`;
      if (op === 0) return `${name} ${t}`;
      return `${name} %r${i.dst}, ${x ? `%r${i.src}` : i.imm}, ${t}`;
    }
    case BPF_LD: {
      if (i.opcode === BPF_LDDW_OPCODE) {
        const hi = insns[pc + 1]?.imm ?? 0;
        const v = (BigInt(hi >>> 0) << 32n) | BigInt(i.imm >>> 0);
        return i.src === 0 ? `lddw %r${i.dst}, 0x${v.toString(16)}` : `lddw %r${i.dst}, src${i.src} ${i.imm}, ${hi}`;
      }
      const s = SIZE_NAMES[i.opcode & 0x18] ?? '?';
      return (i.opcode & 0xe0) === 0x40 ? `ldind${s} %r${i.src}, ${i.imm}` : `ldabs${s} ${i.imm}`;
    }
    case BPF_LDX:
      return `ldx${(i.opcode & 0xe0) === BPF_MEMSX ? 's' : ''}${SIZE_NAMES[i.opcode & 0x18]} %r${i.dst}, ${mem(i.src, i.off)}`;
    case BPF_ST:
      return `st${SIZE_NAMES[i.opcode & 0x18]} ${mem(i.dst, i.off)}, ${i.imm}`;
    default:
      if ((i.opcode & 0xe0) === BPF_ATOMIC) return `lock(0x${(i.imm >>> 0).toString(16)})${SIZE_NAMES[i.opcode & 0x18]} ${mem(i.dst, i.off)}, %r${i.src}`;
      return `stx${SIZE_NAMES[i.opcode & 0x18]} ${mem(i.dst, i.off)}, %r${i.src}`;
  }
}

// ---- abstract values -------------------------------------------------------------------------

const enum T {
  UNINIT,
  SCALAR,
  /** Pointer into the input (region 1); off = offset range. */
  PKT,
  /** input + length: only comparable. */
  PKT_END,
  /** Pointer into frame k's stack; off relative to that frame's r10. */
  STACK,
  /** Pointer into map k's value storage. */
  MAP_VALUE,
  MAP_VALUE_OR_NULL,
  MAP_PTR,
  /** Code address of pc k (lddw src 4). */
  FUNC,
}

/**
 * An abstract register. Scalars use umin..umax (unsigned) and smin..smax (signed) together; pointers keep
 * their offset range in smin..smax. `len` marks a scalar that IS the input length (r2 at entry): its range is
 * the state's `lenMin..lenMax` and comparisons on it teach the state about the input length.
 */
interface Reg {
  readonly t: T;
  readonly umin: bigint;
  readonly umax: bigint;
  readonly smin: bigint;
  readonly smax: bigint;
  /** frame (STACK), map index (MAP_*), target pc (FUNC). */
  readonly k: number;
  /** MAP_VALUE_OR_NULL identity (copies share it; a NULL check refines them all). */
  readonly id: number;
  readonly len: boolean;
}

const UNINIT: Reg = { t: T.UNINIT, umin: 0n, umax: 0n, smin: 0n, smax: 0n, k: 0, id: 0, len: false };

function s64(v: bigint): bigint {
  return BigInt.asIntN(64, v);
}
function u64(v: bigint): bigint {
  return BigInt.asUintN(64, v);
}
function maxB(a: bigint, b: bigint): bigint {
  return a > b ? a : b;
}
function minB(a: bigint, b: bigint): bigint {
  return a < b ? a : b;
}

/** A scalar from bounds, tightened (Linux reg_bounds_sync); null when empty (an impossible path). */
function scalar(umin: bigint, umax: bigint, smin: bigint, smax: bigint): Reg | null {
  for (let round = 0; round < 2; round++) {
    // Unsigned range inside one signed half → it is also a signed range, and back.
    if (umax <= S64_MAX) {
      smin = maxB(smin, umin);
      smax = minB(smax, umax);
    } else if (umin > S64_MAX) {
      smin = maxB(smin, umin - (1n << 64n));
      smax = minB(smax, umax - (1n << 64n));
    }
    if (smin >= 0n) {
      umin = maxB(umin, smin);
      umax = minB(umax, smax);
    } else if (smax < 0n) {
      umin = maxB(umin, smin + (1n << 64n));
      umax = minB(umax, smax + (1n << 64n));
    }
  }
  if (umin > umax || smin > smax) return null;
  return { t: T.SCALAR, umin, umax, smin, smax, k: 0, id: 0, len: false };
}
function sc(umin: bigint, umax: bigint): Reg {
  return scalar(umin, umax, S64_MIN, S64_MAX)!;
}
function scConst(v: bigint): Reg {
  const u = u64(v);
  return scalar(u, u, s64(u), s64(u))!;
}
const TOP = sc(0n, U64_MAX);
const TOP32 = sc(0n, U32_MAX);
function scSigned(smin: bigint, smax: bigint): Reg {
  return scalar(0n, U64_MAX, smin, smax)!;
}
function isConst(r: Reg): boolean {
  return r.t === T.SCALAR && r.umin === r.umax;
}
function ptr(t: T, k: number, omin: bigint, omax: bigint, id = 0): Reg {
  return { t, umin: 0n, umax: 0n, smin: omin, smax: omax, k, id, len: false };
}

/** RFC 9669 §4 ALU on concrete values (a, b unsigned 64-bit; 32-bit forms use the low halves). */
function aluConcrete(op: number, is64: boolean, a: bigint, b: bigint, off: number, imm: number, srcX: boolean): bigint {
  const bits = is64 ? 64 : 32;
  const M = is64 ? U64_MAX : U32_MAX;
  const A = a & M;
  const B = b & M;
  const sA = BigInt.asIntN(bits, A);
  const sB = BigInt.asIntN(bits, B);
  let r: bigint;
  switch (op) {
    case 0x00: r = A + B; break;
    case 0x10: r = A - B; break;
    case 0x20: r = A * B; break;
    case 0x30:
      if (off === 1) r = sB === 0n ? 0n : sA / sB;
      else r = B === 0n ? 0n : A / B;
      break;
    case 0x40: r = A | B; break;
    case 0x50: r = A & B; break;
    case 0x60: r = A << (B & BigInt(bits - 1)); break;
    case 0x70: r = A >> (B & BigInt(bits - 1)); break;
    case 0x80: r = -A; break;
    case 0x90:
      if (off === 1) r = sB === 0n ? sA : sA % sB;
      else r = B === 0n ? A : A % B;
      break;
    case 0xa0: r = A ^ B; break;
    case 0xb0:
      if (off === 0) r = B;
      else r = BigInt.asIntN(off, b);
      break;
    case 0xc0: r = sA >> (B & BigInt(bits - 1)); break;
    default: {
      // END: le (ALU, src bit 0) truncates; be (ALU, src bit 1) and bswap (ALU64) swap the low imm bits.
      const w = imm;
      const v = a & ((1n << BigInt(w)) - 1n);
      if (!is64 && !srcX) return v;
      let out = 0n;
      for (let i = 0; i < w / 8; i++) out = (out << 8n) | ((v >> BigInt(i * 8)) & 0xffn);
      return out;
    }
  }
  return r & M;
}

/** Abstract ALU on two scalars. */
function aluScalar(op: number, is64: boolean, a: Reg, b: Reg, off: number, imm: number, srcX: boolean): Reg {
  if (!is64) {
    a = trunc32(a);
    b = trunc32(b);
  }
  if ((isConst(a) && (isConst(b) || op === 0x80 || op === 0xd0)) || (op === 0xb0 && isConst(b))) {
    return scConst(aluConcrete(op, is64, a.umin, b.umin, off, imm, srcX));
  }
  let r: Reg = TOP;
  switch (op) {
    case 0x00:
      if (a.umax + b.umax <= U64_MAX) r = sc(a.umin + b.umin, a.umax + b.umax);
      else {
        const lo = a.smin + b.smin;
        const hi = a.smax + b.smax;
        if (lo >= S64_MIN && hi <= S64_MAX) r = scSigned(lo, hi);
      }
      break;
    case 0x10:
      if (a.umin >= b.umax) r = sc(a.umin - b.umax, a.umax - b.umin);
      else {
        const lo = a.smin - b.smax;
        const hi = a.smax - b.smin;
        if (lo >= S64_MIN && hi <= S64_MAX) r = scSigned(lo, hi);
      }
      break;
    case 0x20:
      if (a.umax * b.umax <= U64_MAX) r = sc(a.umin * b.umin, a.umax * b.umax);
      break;
    case 0x30:
      if (off === 0) r = b.umin > 0n ? sc(a.umin / b.umax, a.umax / b.umin) : sc(0n, a.umax);
      break;
    case 0x90:
      if (off === 0) r = b.umin > 0n ? sc(0n, minB(a.umax, b.umax - 1n)) : sc(0n, a.umax);
      break;
    case 0x50:
      r = sc(0n, minB(a.umax, b.umax));
      break;
    case 0x40:
    case 0xa0: {
      const m = maxB(a.umax, b.umax);
      let p = 1n;
      while (p <= m) p <<= 1n;
      r = sc(op === 0x40 ? maxB(a.umin, b.umin) : 0n, p - 1n);
      break;
    }
    case 0x60:
      if (isConst(b)) {
        const s = b.umin & (is64 ? 63n : 31n);
        if (a.umax << s <= U64_MAX) r = sc(a.umin << s, a.umax << s);
      }
      break;
    case 0x70:
      if (isConst(b)) {
        const s = b.umin & (is64 ? 63n : 31n);
        r = sc(a.umin >> s, a.umax >> s);
      } else if (b.umax < (is64 ? 64n : 32n)) r = sc(a.umin >> b.umax, a.umax >> b.umin);
      else r = sc(0n, a.umax);
      break;
    case 0xc0:
      if (isConst(b) && is64) {
        const s = b.umin & 63n;
        r = scSigned(a.smin >> s, a.smax >> s);
      }
      break;
    case 0xb0:
      if (off === 0) r = b;
      else if (off === 8) r = scSigned(-128n, 127n);
      else if (off === 16) r = scSigned(-32768n, 32767n);
      else r = scSigned(-(1n << 31n), (1n << 31n) - 1n);
      if (!is64 && off !== 0) r = TOP32;
      break;
    case 0xd0:
      r = imm === 64 ? TOP : sc(0n, (1n << BigInt(imm)) - 1n);
      break;
    default:
      break;
  }
  if (!is64 && r.umax > U32_MAX) r = TOP32;
  return r;
}

/** The low 32 bits of a scalar, zero-extended. */
function trunc32(r: Reg): Reg {
  if (r.umax <= U32_MAX) return r;
  if (isConst(r)) return scConst(r.umin & U32_MAX);
  return TOP32;
}

// ---- state --------------------------------------------------------------------------------

const STACK_SLOTS = BPF_STACK_SIZE / 8;

/** One frame's stack: which bytes were written and which 8-byte slots hold a spilled register. */
class StackState {
  constructor(
    public init: Uint8Array,
    public spill: (Reg | undefined)[],
    public owned: boolean,
  ) {}
  static empty(): StackState {
    return new StackState(new Uint8Array(BPF_STACK_SIZE), new Array<Reg | undefined>(STACK_SLOTS).fill(undefined), true);
  }
  share(): StackState {
    this.owned = false;
    return new StackState(this.init, this.spill, false);
  }
  own(): void {
    if (!this.owned) {
      this.init = this.init.slice();
      this.spill = this.spill.slice();
      this.owned = true;
    }
  }
}

interface Frame {
  regs: Reg[];
  stack: StackState;
  /** pc to continue at after this frame's exit (-1 for the main frame). */
  ret: number;
  /** The call instruction's pc (for depth errors). */
  callPc: number;
  /** Deepest byte used below r10. */
  depth: number;
}

class VState {
  constructor(
    public frames: Frame[],
    public lenMin: bigint,
    public lenMax: bigint,
  ) {}
  clone(): VState {
    return new VState(
      this.frames.map((f) => ({ regs: f.regs.slice(), stack: f.stack.share(), ret: f.ret, callPc: f.callPc, depth: f.depth })),
      this.lenMin,
      this.lenMax,
    );
  }
  get cur(): Frame {
    return this.frames[this.frames.length - 1]!;
  }
}

interface Checkpoint {
  pc: number;
  state: VState;
  parent: Checkpoint | null;
  /** Live paths below this checkpoint; 0 = fully explored. */
  branches: number;
  depth: number;
}

/** Correspondence of NULL-check ids between two states (allocated only when needed). */
interface IdMap {
  m: Map<number, number> | null;
}

interface Work {
  pc: number;
  st: VState;
  parent: Checkpoint;
}

// ---- the verifier -------------------------------------------------------------------------

/** Condition on the taken and on the fall-through edge of each conditional jump op. */
const BRANCH_CONDS: Record<number, [string, string]> = {
  0x10: ['==', '!='],
  0x50: ['!=', '=='],
  0x20: ['u>', 'u<='],
  0x30: ['u>=', 'u<'],
  0xa0: ['u<', 'u>='],
  0xb0: ['u<=', 'u>'],
  0x60: ['s>', 's<='],
  0x70: ['s>=', 's<'],
  0xc0: ['s<', 's>='],
  0xd0: ['s<=', 's>'],
  0x40: ['&', '!&'],
};

class Rejection {
  constructor(
    readonly pc: number,
    readonly reason: string,
  ) {}
}

function helperSet(h: BpfVerifyOptions['helpers']): (id: number) => boolean {
  if (h === undefined) return (id) => DEFAULT_HELPERS.has(id);
  if (typeof h === 'function') return h;
  const s = h instanceof Set ? h : new Set(h as readonly number[]);
  return (id) => s.has(id);
}

/**
 * Verifies a program; returns what was proved or throws NetworkError VERIFIER_REJECTED with detail
 * { pc, insn (text), reason }. Never throws anything else for any input.
 */
export function verifyProgram(insns: readonly BpfInsn[], options: BpfVerifyOptions = {}): BpfVerifierResult {
  const text = options.disassemble ?? bpfVerifierInsnText;
  try {
    return new Verifier(insns, options).run();
  } catch (e) {
    if (e instanceof Rejection) {
      let insn: string;
      try {
        insn = text(insns, e.pc);
      } catch {
        insn = bpfVerifierInsnText(insns, e.pc);
      }
      return rejectWith(e.pc, insn, e.reason);
    }
    if (e instanceof NetworkError) throw e;
    // A bug of ours must not become a crash of the caller: report it as a rejection naming the cause.
    return rejectWith(-1, '', `internal verifier error: ${e instanceof Error ? e.message : String(e)}`);
  }
}

function rejectWith(pc: number, insn: string, reason: string): never {
  throw new NetworkError('VERIFIER_REJECTED', `eBPF verifier rejected pc ${pc}${insn ? ` (${insn})` : ''}: ${reason}`, {
    pc,
    insn,
    reason,
  });
}

class Verifier {
  private readonly n: number;
  private readonly second: Uint8Array;
  private readonly funcOf: Int32Array;
  private readonly funcStarts: number[] = [];
  private readonly prune: Uint8Array;
  /** Targets of backward jumps: where budget-mode widening happens. */
  private readonly loopHead: Uint8Array;
  private readonly access: Uint8Array;
  private readonly reachable: Uint8Array;
  private readonly helperKnown: (id: number) => boolean;
  private readonly maps: readonly BpfVerifierMap[];
  private readonly limit: number;
  private readonly budgetMode: boolean;
  private readonly explored = new Map<number, Checkpoint[]>();
  private processed = 0;
  private nextId = 1;
  private maxDepth = 0;
  private maxCall = 1;
  private hasLoops = false;
  private reliesOnBudget = false;

  constructor(
    private readonly insns: readonly BpfInsn[],
    options: BpfVerifyOptions,
  ) {
    this.n = insns.length;
    this.second = new Uint8Array(this.n);
    this.funcOf = new Int32Array(this.n);
    this.prune = new Uint8Array(this.n);
    this.loopHead = new Uint8Array(this.n);
    this.access = new Uint8Array(this.n);
    this.reachable = new Uint8Array(this.n);
    this.helperKnown = helperSet(options.helpers);
    this.maps = options.maps ?? [];
    this.limit = options.maxInsnsProcessed ?? 250_000;
    this.budgetMode = options.budget !== undefined && options.budget > 0;
  }

  run(): BpfVerifierResult {
    this.structure();
    this.cfg();
    this.explore();
    return {
      insnsProcessed: this.processed,
      access: this.access,
      reachable: this.reachable,
      functions: this.funcStarts.slice(),
      maxStackDepth: this.maxDepth,
      maxCallDepth: this.maxCall,
      hasLoops: this.hasLoops,
      reliesOnBudget: this.reliesOnBudget,
    };
  }

  // ---- 1. structure ----

  private structure(): void {
    const { insns, n } = this;
    if (!Array.isArray(insns)) throw new Rejection(0, 'program is not an instruction array');
    if (n === 0) throw new Rejection(0, 'empty program');
    if (n > 1_000_000) throw new Rejection(0, `program of ${n} instructions is too long (limit 1,000,000)`);
    const isStart = new Uint8Array(n);
    isStart[0] = 1;
    for (let pc = 0; pc < n; pc++) {
      const insn = insns[pc];
      if (!insn || typeof insn !== 'object') throw new Rejection(pc, 'not an instruction');
      for (const [f, lo, hi] of [['opcode', 0, 255], ['dst', 0, 15], ['src', 0, 15], ['off', -32768, 32767], ['imm', -0x80000000, 0x7fffffff]] as const) {
        const v = insn[f];
        if (typeof v !== 'number' || !Number.isInteger(v) || v < lo || v > hi) throw new Rejection(pc, `field ${f} ${String(v)} out of range`);
      }
      const problem = bpfInsnProblem(insns, pc);
      if (problem !== null) throw new Rejection(pc, problem);
      if (insn.opcode === BPF_LDDW_OPCODE) {
        if (insn.src === BPF_PSEUDO_BTF_ID) throw new Rejection(pc, 'lddw of a kernel variable (src 3) is not supported');
        if (insn.dst === 10) throw new Rejection(pc, 'r10 is read-only');
        if (insn.src === BPF_PSEUDO_FUNC) {
          const t = pc + 1 + insn.imm;
          if (t < 0 || t >= n) throw new Rejection(pc, `code address ${t} is outside the program`);
          isStart[t] = 1;
        }
        if (this.mapSrc(insn.src) && (insn.imm < 0 || insn.imm >= this.maps.length)) {
          throw new Rejection(pc, `map ${insn.imm} does not exist (the program has ${this.maps.length} maps)`);
        }
        this.second[pc + 1] = 1;
        pc++;
        continue;
      }
      if (this.writesR10(insn)) throw new Rejection(pc, 'r10 (frame pointer) is read-only');
      if (insn.opcode === (BPF_JMP | 0x80) && insn.src === BPF_PSEUDO_KFUNC_CALL) throw new Rejection(pc, 'kfunc calls (call by BTF id) are not supported');
      if (insn.opcode === (BPF_JMP | 0x80) && insn.src === BPF_PSEUDO_CALL) {
        const t = pc + 1 + insn.imm;
        if (t < 0 || t >= n) throw new Rejection(pc, `call target ${t} is outside the program`);
        isStart[t] = 1;
      }
    }
    for (let pc = 0; pc < n; pc++) {
      if (this.second[pc]) continue;
      const insn = insns[pc]!;
      let t = -1;
      if (isBpfBranch(insn)) t = pc + 1 + bpfBranchOffset(insn);
      else if (insn.opcode === (BPF_JMP | 0x80) && insn.src === BPF_PSEUDO_CALL) t = pc + 1 + insn.imm;
      else if (insn.opcode === BPF_LDDW_OPCODE && insn.src === BPF_PSEUDO_FUNC) t = pc + 1 + insn.imm;
      else continue;
      if (t < 0 || t >= n) throw new Rejection(pc, `jump target ${t} is outside the program (0..${n - 1})`);
      if (this.second[t]) throw new Rejection(pc, `jump target ${t} is the second slot of lddw`);
      if (t <= pc && isBpfBranch(insn)) this.hasLoops = true;
    }
    let cur = 0;
    for (let pc = 0; pc < n; pc++) {
      if (isStart[pc]) {
        cur = pc;
        this.funcStarts.push(pc);
      }
      this.funcOf[pc] = cur;
    }
    // Each function must end in exit or ja (Linux check_subprogs: "last insn is not an exit or jmp").
    for (let i = 0; i < this.funcStarts.length; i++) {
      const end = (this.funcStarts[i + 1] ?? n) - 1;
      const lastPc = this.second[end] ? end - 1 : end;
      const last = insns[lastPc]!;
      const isJa = (last.opcode === (BPF_JMP | 0x00)) || last.opcode === (BPF_JMP32 | 0x00);
      if (last.opcode !== (BPF_JMP | 0x90) && !isJa) {
        throw new Rejection(lastPc, `execution can fall off the end of the ${i === 0 ? 'program' : 'function'} (last instruction is not exit or ja)`);
      }
    }
    for (let pc = 0; pc < n; pc++) {
      if (this.second[pc]) continue;
      const insn = insns[pc]!;
      if (!isBpfBranch(insn)) continue;
      const t = pc + 1 + bpfBranchOffset(insn);
      if (this.funcOf[t] !== this.funcOf[pc]) throw new Rejection(pc, `jump to ${t} leaves its function`);
      this.prune[t] = 1;
      if (t <= pc) this.loopHead[t] = 1;
      if ((insn.opcode & 0xf0) !== 0) this.prune[pc + 1] = 1;
    }
    for (const s of this.funcStarts) this.prune[s] = 1;
  }

  private mapSrc(src: number): boolean {
    return src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX_VALUE;
  }

  private writesR10(insn: BpfInsn): boolean {
    const cls = insn.opcode & 7;
    if (cls === BPF_ALU || cls === BPF_ALU64 || cls === BPF_LDX) return insn.dst === 10;
    if (cls === BPF_STX && (insn.opcode & 0xe0) === BPF_ATOMIC) {
      if (insn.imm === BPF_CMPXCHG) return false; // writes r0
      return (insn.imm & BPF_FETCH) !== 0 && insn.src === 10;
    }
    return false;
  }

  // ---- 2. control flow: every reachable instruction must be able to reach an exit ----

  private succ(pc: number): number[] {
    const insn = this.insns[pc]!;
    const cls = insn.opcode & 7;
    if (insn.opcode === BPF_LDDW_OPCODE) return [pc + 2];
    if (cls === BPF_JMP || cls === BPF_JMP32) {
      const op = insn.opcode & 0xf0;
      if (op === 0x90) return [];
      if (op === 0x80) return [pc + 1];
      const t = pc + 1 + bpfBranchOffset(insn);
      if (op === 0x00) return [t];
      return [pc + 1, t];
    }
    return [pc + 1];
  }

  private cfg(): void {
    const n = this.n;
    const reach = this.reachable;
    const stack = [0];
    reach[0] = 1;
    while (stack.length > 0) {
      const pc = stack.pop()!;
      const insn = this.insns[pc]!;
      const next = this.succ(pc);
      if (insn.opcode === (BPF_JMP | 0x80) && insn.src === BPF_PSEUDO_CALL) next.push(pc + 1 + insn.imm);
      if (insn.opcode === BPF_LDDW_OPCODE && insn.src === BPF_PSEUDO_FUNC) next.push(pc + 1 + insn.imm);
      for (const t of next) {
        if (t >= 0 && t < n && !reach[t]) {
          reach[t] = 1;
          stack.push(t);
        }
      }
    }
    // Reverse reachability from the exits (calls are assumed to return).
    const preds: number[][] = Array.from({ length: n }, () => []);
    for (let pc = 0; pc < n; pc++) {
      if (this.second[pc]) continue;
      for (const t of this.succ(pc)) if (t < n) preds[t]!.push(pc);
    }
    const toExit = new Uint8Array(n);
    const work: number[] = [];
    for (let pc = 0; pc < n; pc++) {
      if (!this.second[pc] && this.insns[pc]!.opcode === (BPF_JMP | 0x90)) {
        toExit[pc] = 1;
        work.push(pc);
      }
    }
    while (work.length > 0) {
      const pc = work.pop()!;
      for (const p of preds[pc]!) {
        if (!toExit[p]) {
          toExit[p] = 1;
          work.push(p);
        }
      }
    }
    for (let pc = 0; pc < n; pc++) {
      if (reach[pc] && !this.second[pc] && !toExit[pc]) throw new Rejection(pc, 'infinite loop: no path from here reaches exit');
    }
  }

  // ---- 3. abstract interpretation ----

  private explore(): void {
    const regs: Reg[] = new Array<Reg>(11).fill(UNINIT);
    regs[1] = ptr(T.PKT, 0, 0n, 0n);
    regs[2] = { ...sc(0n, U32_MAX), len: true };
    regs[10] = ptr(T.STACK, 0, 0n, 0n);
    const init = new VState([{ regs, stack: StackState.empty(), ret: -1, callPc: -1, depth: 0 }], 0n, U32_MAX);
    const root: Checkpoint = { pc: -1, state: init, parent: null, branches: 1, depth: 0 };
    const work: Work[] = [{ pc: 0, st: init, parent: root }];
    while (work.length > 0) {
      const w = work.pop()!;
      this.path(w, work);
    }
  }

  private finish(cp: Checkpoint | null): void {
    while (cp) {
      cp.branches--;
      if (cp.branches > 0) return;
      cp = cp.parent;
    }
  }

  /** Follows one path until it ends (exit of the main frame, a pruned state or an impossible branch). */
  private path(w: Work, work: Work[]): void {
    let { pc, st, parent } = w;
    for (;;) {
      if (++this.processed > this.limit) {
        throw new Rejection(
          pc,
          this.hasLoops
            ? `loop not proven bounded: exploration exceeded ${this.limit} instructions${this.budgetMode ? '' : ' (a run-time budget lets the caller accept it)'}`
            : `program too complex: exploration exceeded ${this.limit} instructions`,
        );
      }
      if (this.prune[pc]) {
        const r = this.checkpoint(pc, st, parent);
        if (r === null) {
          this.finish(parent);
          return;
        }
        parent = r.cp;
        st = r.st;
      }
      this.reachable[pc] = 1;
      const insn = this.insns[pc]!;
      const cls = insn.opcode & 7;
      if (cls === BPF_JMP || cls === BPF_JMP32) {
        const op = insn.opcode & 0xf0;
        if (op === 0x90) {
          const f = st.cur;
          if (f.regs[0]!.t === T.UNINIT) throw new Rejection(pc, 'r0 is not initialised at exit');
          if (st.frames.length === 1) {
            this.finish(parent);
            return;
          }
          pc = this.ret(pc, st);
          continue;
        }
        if (op === 0x80) {
          pc = this.call(pc, insn, st);
          continue;
        }
        const t = pc + 1 + bpfBranchOffset(insn);
        if (op === 0x00) {
          pc = t;
          continue;
        }
        const [taken, fall] = this.branch(pc, insn, st);
        if (taken && fall) {
          parent.branches++;
          work.push({ pc: t, st: taken, parent });
          st = fall;
          pc++;
        } else if (taken) {
          st = taken;
          pc = t;
        } else if (fall) {
          st = fall;
          pc++;
        } else {
          this.finish(parent);
          return;
        }
        continue;
      }
      pc = this.step(pc, insn, st);
    }
  }

  /**
   * At a prune point: ends the path when a fully explored checkpoint covers this state; rejects (or with a
   * budget, widens/ends) when a checkpoint of this very path covers it — the path may loop forever.
   */
  private checkpoint(pc: number, st: VState, parent: Checkpoint): { cp: Checkpoint; st: VState } | null {
    let list = this.explored.get(pc);
    if (!list) {
      list = [];
      this.explored.set(pc, list);
    }
    for (const old of list) {
      // covers() fails fast on the first differing register; test it before walking the path.
      if (!this.covers(old.state, st)) continue;
      if (old.branches === 0) return null;
      if (this.isAncestor(old, parent)) {
        if (!this.budgetMode) throw new Rejection(pc, 'loop not proven bounded: the state repeats at this loop head (set a run-time budget to accept it)');
        this.reliesOnBudget = true;
        return null;
      }
    }
    if (this.budgetMode && this.loopHead[pc]) {
      // Widening: scalars that changed since the last visit of this loop head become unknown.
      let a: Checkpoint | null = parent;
      while (a && a.pc !== pc) a = a.parent;
      if (a) {
        st = this.widen(a.state, st);
        this.reliesOnBudget = true;
      }
    }
    if (list.length >= RECORDS_PER_PC) {
      const i = list.findIndex((c) => c.branches === 0);
      if (i < 0) return { cp: parent, st };
      list.splice(i, 1);
    }
    const cp: Checkpoint = { pc, state: st.clone(), parent, branches: 1, depth: parent.depth + 1 };
    list.push(cp);
    return { cp, st };
  }

  private isAncestor(a: Checkpoint, from: Checkpoint | null): boolean {
    let c = from;
    while (c && c.depth > a.depth) c = c.parent;
    return c === a;
  }

  /** old covers cur: every concrete state cur describes, old describes too (Linux states_equal/regsafe). */
  private covers(old: VState, cur: VState): boolean {
    if (old.frames.length !== cur.frames.length) return false;
    if (cur.lenMin < old.lenMin || cur.lenMax > old.lenMax) return false;
    const ids: IdMap = { m: null };
    for (let f = 0; f < old.frames.length; f++) {
      const a = old.frames[f]!;
      const b = cur.frames[f]!;
      if (a.ret !== b.ret) return false;
      for (let r = 0; r < 11; r++) if (!this.regCovers(a.regs[r]!, b.regs[r]!, ids)) return false;
      const sa = a.stack;
      const sb = b.stack;
      if (sa.init !== sb.init) for (let i = 0; i < BPF_STACK_SIZE; i++) if (sa.init[i] && !sb.init[i]) return false;
      if (sa.spill !== sb.spill) {
        for (let s = 0; s < STACK_SLOTS; s++) {
          const x = sa.spill[s];
          const y = sb.spill[s];
          if (x === y) continue;
          if (x === undefined) {
            if (y !== undefined && y.t !== T.SCALAR) return false;
            continue;
          }
          if (y === undefined) {
            if (x.t !== T.SCALAR || x.umin !== 0n || x.umax !== U64_MAX) return false;
            continue;
          }
          if (!this.regCovers(x, y, ids)) return false;
        }
      }
    }
    return true;
  }

  private regCovers(a: Reg, b: Reg, ids: IdMap): boolean {
    if (a === b || a.t === T.UNINIT) return true;
    if (a.t !== b.t) return false;
    if (a.len !== b.len) return false;
    if (a.t === T.SCALAR) return b.umin >= a.umin && b.umax <= a.umax && b.smin >= a.smin && b.smax <= a.smax;
    if (a.k !== b.k) return false;
    if (b.smin < a.smin || b.smax > a.smax) return false;
    if (a.t === T.MAP_VALUE_OR_NULL) {
      ids.m ??= new Map();
      const m = ids.m.get(a.id);
      if (m === undefined) ids.m.set(a.id, b.id);
      else if (m !== b.id) return false;
    }
    return true;
  }

  private widen(old: VState, cur: VState): VState {
    const out = cur.clone();
    if (old.frames.length !== out.frames.length) return out;
    const w = (a: Reg, b: Reg): Reg => {
      if (a.t !== b.t) return UNINIT;
      if (b.t === T.SCALAR) {
        if (b.len) return b;
        return a.umin === b.umin && a.umax === b.umax && a.smin === b.smin && a.smax === b.smax ? b : TOP;
      }
      if (a.k !== b.k) return UNINIT;
      if (a.smin === b.smin && a.smax === b.smax) return b;
      if (b.t === T.PKT) {
        // Jump to the edges of the input's window (any offset the run-time checks can still police).
        return { ...b, smin: b.smin < a.smin ? -(1n << 31n) + 1n : b.smin, smax: b.smax > a.smax ? (1n << 32n) - 1n : b.smax };
      }
      return { ...b, smin: S64_MIN, smax: S64_MAX };
    };
    for (let f = 0; f < out.frames.length; f++) {
      const a = old.frames[f]!;
      const b = out.frames[f]!;
      for (let r = 0; r < 10; r++) b.regs[r] = w(a.regs[r]!, b.regs[r]!);
      b.stack.own();
      for (let s = 0; s < STACK_SLOTS; s++) {
        const x = a.stack.spill[s];
        const y = b.stack.spill[s];
        if (y !== undefined && x !== undefined) b.stack.spill[s] = w(x, y);
        else if (y !== undefined) b.stack.spill[s] = y.t === T.SCALAR ? undefined : y;
      }
    }
    out.lenMin = minB(old.lenMin, cur.lenMin);
    return out;
  }

  // ---- registers ----

  private read(pc: number, st: VState, r: number): Reg {
    const v = st.cur.regs[r]!;
    if (v.t === T.UNINIT) throw new Rejection(pc, `r${r} is read before it is initialised`);
    return v;
  }

  private rangeOf(st: VState, v: Reg): Reg {
    return v.len ? sc(st.lenMin, st.lenMax) : v;
  }

  private set(st: VState, r: number, v: Reg): void {
    st.cur.regs[r] = v;
  }

  // ---- instructions other than jumps ----

  private step(pc: number, insn: BpfInsn, st: VState): number {
    const cls = insn.opcode & 7;
    switch (cls) {
      case BPF_ALU:
      case BPF_ALU64:
        this.alu(pc, insn, st, cls === BPF_ALU64);
        return pc + 1;
      case BPF_LD:
        if (insn.opcode === BPF_LDDW_OPCODE) {
          this.lddw(pc, insn, st);
          return pc + 2;
        }
        {
          // Legacy LD_ABS/LD_IND (RFC 9669 §5.5): r0 = packet bytes (big-endian); out of range ends the
          // program with 0. Linux clobbers r1–r5 (check_ld_abs); so do we, so programs stay portable.
          if ((insn.opcode & 0xe0) === 0x40) {
            const s = this.read(pc, st, insn.src);
            if (s.t !== T.SCALAR) throw new Rejection(pc, `r${insn.src} of an indirect packet load must be a scalar`);
          }
          const size = bpfSizeBytes(insn.opcode);
          this.set(st, 0, sc(0n, (1n << BigInt(size * 8)) - 1n));
          for (let r = 1; r <= 5; r++) this.set(st, r, UNINIT);
          this.access[pc] = BPF_ACCESS_CHECKED;
          return pc + 1;
        }
      case BPF_LDX: {
        const base = this.read(pc, st, insn.src);
        const size = bpfSizeBytes(insn.opcode);
        const v = this.mem(pc, st, base, insn.src, insn.off, size, 'load', null);
        if ((insn.opcode & 0xe0) === BPF_MEMSX && v.t === T.SCALAR) {
          const lim = 1n << BigInt(size * 8 - 1);
          this.set(st, insn.dst, isConst(v) ? scConst(BigInt.asIntN(size * 8, v.umin)) : scSigned(-lim, lim - 1n));
        } else this.set(st, insn.dst, v);
        return pc + 1;
      }
      case BPF_ST: {
        const base = this.read(pc, st, insn.dst);
        this.mem(pc, st, base, insn.dst, insn.off, bpfSizeBytes(insn.opcode), 'store', scConst(BigInt(insn.imm)));
        return pc + 1;
      }
      default: {
        const base = this.read(pc, st, insn.dst);
        const val = this.read(pc, st, insn.src);
        const size = bpfSizeBytes(insn.opcode);
        if ((insn.opcode & 0xe0) === BPF_ATOMIC) {
          if (val.t !== T.SCALAR) throw new Rejection(pc, `atomic operation with a pointer in r${insn.src} is not allowed`);
          if (insn.imm === BPF_CMPXCHG) this.read(pc, st, 0);
          const old = this.mem(pc, st, base, insn.dst, insn.off, size, 'atomic', val);
          const res = old.t === T.SCALAR ? (size === 4 ? TOP32 : TOP) : TOP;
          if (insn.imm === BPF_CMPXCHG) this.set(st, 0, res);
          else if (insn.imm === BPF_XCHG || (insn.imm & BPF_FETCH) !== 0) this.set(st, insn.src, res);
          return pc + 1;
        }
        this.mem(pc, st, base, insn.dst, insn.off, size, 'store', val);
        return pc + 1;
      }
    }
  }

  private lddw(pc: number, insn: BpfInsn, st: VState): void {
    const hi = this.insns[pc + 1]!.imm;
    switch (insn.src) {
      case 0:
        this.set(st, insn.dst, scConst((BigInt(hi >>> 0) << 32n) | BigInt(insn.imm >>> 0)));
        return;
      case BPF_PSEUDO_MAP_FD:
      case BPF_PSEUDO_MAP_IDX:
        this.set(st, insn.dst, ptr(T.MAP_PTR, insn.imm, 0n, 0n));
        return;
      case BPF_PSEUDO_MAP_VALUE:
      case BPF_PSEUDO_MAP_IDX_VALUE: {
        const m = this.maps[insn.imm]!;
        const off = BigInt(hi >>> 0);
        if (off >= BigInt(m.valueSize)) throw new Rejection(pc, `offset ${off} is outside the ${m.valueSize}-byte value of map ${m.name}`);
        this.set(st, insn.dst, ptr(T.MAP_VALUE, insn.imm, off, off));
        return;
      }
      case BPF_PSEUDO_FUNC:
        this.set(st, insn.dst, ptr(T.FUNC, pc + 1 + insn.imm, 0n, 0n));
        return;
      default:
        throw new Rejection(pc, `lddw with pseudo source ${insn.src} is not supported`);
    }
  }

  private alu(pc: number, insn: BpfInsn, st: VState, is64: boolean): void {
    const op = insn.opcode & 0xf0;
    const x = (insn.opcode & BPF_X) !== 0;
    const d = insn.dst;
    if (op === 0xb0) {
      // mov / movsx: the destination is not read.
      const srcV = x ? this.read(pc, st, insn.src) : scConst(is64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0));
      if (srcV.t !== T.SCALAR) {
        if (is64 && insn.off === 0) this.set(st, d, srcV);
        else this.set(st, d, is64 ? TOP : TOP32); // Linux: a pointer moved to 32 bits is just a number.
        return;
      }
      if (is64 && insn.off === 0) {
        this.set(st, d, srcV);
        return;
      }
      this.set(st, d, aluScalar(op, is64, TOP, this.rangeOf(st, srcV), insn.off, insn.imm, x));
      return;
    }
    const a = this.read(pc, st, d);
    const b = op === 0x80 || op === 0xd0 ? scConst(0n) : x ? this.read(pc, st, insn.src) : scConst(is64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0));
    if (a.t === T.SCALAR && b.t === T.SCALAR) {
      this.set(st, d, aluScalar(op, is64, this.rangeOf(st, a), this.rangeOf(st, b), insn.off, insn.imm, x));
      return;
    }
    // Pointer arithmetic (Linux adjust_ptr_min_max_vals): only 64-bit add/sub of a scalar, or sub of two
    // pointers into the same place.
    const name = (ALU_NAMES[op >> 4] ?? 'op') + (is64 ? '' : '32');
    if (!is64) throw new Rejection(pc, `32-bit pointer arithmetic (${name}) is prohibited`);
    if (op !== 0x00 && op !== 0x10) throw new Rejection(pc, `pointer arithmetic with ${name} is prohibited`);
    for (const p of [a, b]) {
      if (p.t === T.MAP_VALUE_OR_NULL) throw new Rejection(pc, 'arithmetic on a possibly-NULL map value pointer: compare it with 0 first');
      if (p.t === T.MAP_PTR || p.t === T.FUNC) throw new Rejection(pc, 'arithmetic on a map handle or code address is prohibited');
      if (p.t === T.PKT_END) throw new Rejection(pc, 'arithmetic on the end-of-input pointer is prohibited');
    }
    if (op === 0x10 && a.t !== T.SCALAR && b.t !== T.SCALAR) {
      if (a.t !== b.t || a.k !== b.k) throw new Rejection(pc, 'subtraction of pointers into different regions');
      const lo = a.smin - b.smax;
      const hi = a.smax - b.smin;
      this.set(st, d, lo === hi ? scConst(lo) : scSigned(maxB(lo, S64_MIN), minB(hi, S64_MAX)));
      return;
    }
    if (a.t !== T.SCALAR && b.t !== T.SCALAR) throw new Rejection(pc, 'addition of two pointers is prohibited');
    if (op === 0x10 && a.t === T.SCALAR) throw new Rejection(pc, 'subtracting a pointer from a scalar is prohibited');
    const p = a.t === T.SCALAR ? b : a;
    const s = a.t === T.SCALAR ? a : b;
    if (op === 0x00 && p.t === T.PKT && s.len && p.smin === 0n && p.smax === 0n) {
      this.set(st, d, ptr(T.PKT_END, 0, 0n, 0n));
      return;
    }
    const sr = this.rangeOf(st, s);
    let lo: bigint;
    let hi: bigint;
    if (op === 0x00) {
      lo = p.smin + sr.smin;
      hi = p.smax + sr.smax;
    } else {
      lo = p.smin - sr.smax;
      hi = p.smax - sr.smin;
    }
    // A pointer may not be moved so far that it could reach another region: in the TypeScript engines an
    // address is region << 32 | offset, so an offset outside (-2^31, 2^32) could alias the next region (Linux
    // likewise rejects unbounded pointer arithmetic: "math between pkt pointer and register with unbounded …").
    if (p.t === T.STACK) {
      if (lo < -(1n << 31n) || hi > 1n << 31n) throw new Rejection(pc, `stack pointer arithmetic with an unbounded offset (${lo}..${hi})`);
    } else if (lo <= -(1n << 31n) || hi >= 1n << 32n) {
      throw new Rejection(pc, `pointer arithmetic could leave the ${p.t === T.PKT ? 'input' : 'map value'} region (offset ${lo === hi ? lo : `${lo}..${hi}`})`);
    }
    this.set(st, d, ptr(p.t, p.k, lo, hi));
  }

  /**
   * Checks a load/store through `base` + off and returns the loaded value (loads and atomics). Records
   * whether the access was proved in bounds.
   */
  private mem(pc: number, st: VState, base: Reg, r: number, off: number, size: number, kind: 'load' | 'store' | 'atomic', val: Reg | null): Reg {
    const lo = base.smin + BigInt(off);
    const hi = base.smax + BigInt(off);
    const sz = BigInt(size);
    const loaded = sc(0n, size === 8 ? U64_MAX : (1n << BigInt(size * 8)) - 1n);
    let proved = false;
    switch (base.t) {
      case T.SCALAR:
        throw new Rejection(pc, `invalid memory access: r${r} holds a number, not a pointer`);
      case T.PKT_END:
        throw new Rejection(pc, `invalid memory access through the end-of-input pointer in r${r}`);
      case T.MAP_VALUE_OR_NULL:
        throw new Rejection(pc, `r${r} may be NULL (map lookup result): compare it with 0 before the access`);
      case T.MAP_PTR:
      case T.FUNC:
        throw new Rejection(pc, `invalid memory access: r${r} is a map handle or code address`);
      case T.PKT:
        if (hi + sz <= 0n) throw new Rejection(pc, `input access at negative offset ${hi}`);
        // The address itself must stay in the input's 2^32 window (a carry would reach the next region).
        if (lo < -(1n << 31n) || hi >= 1n << 32n) throw new Rejection(pc, `input access at offset ${lo === hi ? lo : `${lo}..${hi}`} is beyond any input`);
        proved = lo >= 0n && hi + sz <= st.lenMin;
        break;
      case T.MAP_VALUE: {
        const m = this.maps[base.k]!;
        const vs = BigInt(m.valueSize);
        if (hi + sz <= 0n || lo >= vs || lo + sz > vs && lo === hi) {
          throw new Rejection(pc, `map ${m.name}: access of ${size} bytes at offset ${lo === hi ? lo : `${lo}..${hi}`} is outside its ${m.valueSize}-byte value`);
        }
        if (kind !== 'load' && m.readOnly) throw new Rejection(pc, `map ${m.name} is read-only to programs`);
        proved = lo >= 0n && hi + sz <= vs;
        // As Linux (check_map_access): every possible offset must be inside the value.
        if (!proved) throw new Rejection(pc, `map ${m.name}: access of ${size} bytes at offsets ${lo}..${hi} may leave its ${m.valueSize}-byte value`);
        break;
      }
      case T.STACK:
        this.access[pc] = this.merge(this.access[pc]!, true);
        return this.stackAccess(pc, st, base.k, lo, hi, size, kind, val);
      default:
        throw new Rejection(pc, `r${r} is read before it is initialised`);
    }
    this.access[pc] = this.merge(this.access[pc]!, proved);
    return loaded;
  }

  private merge(prev: number, proved: boolean): number {
    if (!proved) return BPF_ACCESS_CHECKED;
    return prev === BPF_ACCESS_NONE ? BPF_ACCESS_PROVED : prev;
  }

  private stackAccess(pc: number, st: VState, frame: number, lo: bigint, hi: bigint, size: number, kind: 'load' | 'store' | 'atomic', val: Reg | null): Reg {
    if (lo < -BigInt(BPF_STACK_SIZE) || hi + BigInt(size) > 0n) {
      throw new Rejection(
        pc,
        `stack access of ${size} bytes at r10${lo === hi ? (lo < 0n ? lo : `+${lo}`) : ` offsets ${lo}..${hi}`} is outside the ${BPF_STACK_SIZE}-byte frame`,
      );
    }
    const f = st.frames[frame];
    if (!f) throw new Rejection(pc, 'pointer to a stack frame that has returned');
    const s = f.stack;
    const a = Number(lo) + BPF_STACK_SIZE;
    const b = Number(hi) + BPF_STACK_SIZE;
    const depth = BPF_STACK_SIZE - a;
    if (depth > f.depth) f.depth = depth;
    if (depth > this.maxDepth) this.maxDepth = depth;
    const loaded = sc(0n, size === 8 ? U64_MAX : (1n << BigInt(size * 8)) - 1n);
    if (kind !== 'store') {
      for (let i = a; i < b + size; i++) {
        if (!s.init[i]) throw new Rejection(pc, `read of uninitialised stack byte at r10${i - BPF_STACK_SIZE}`);
      }
    }
    let result = loaded;
    if (kind === 'load' && a === b && size === 8 && a % 8 === 0) {
      const sp = s.spill[a / 8];
      if (sp !== undefined) result = sp;
    } else if (kind === 'atomic') {
      for (let slot = a >> 3; slot <= (b + size - 1) >> 3; slot++) {
        const sp = s.spill[slot];
        if (sp !== undefined && sp.t !== T.SCALAR) throw new Rejection(pc, 'atomic operation on a spilled pointer');
      }
    }
    if (kind !== 'load') {
      s.own();
      for (let slot = a >> 3; slot <= (b + size - 1) >> 3; slot++) s.spill[slot] = undefined;
      if (a === b) {
        for (let i = a; i < a + size; i++) s.init[i] = 1;
        if (kind === 'store' && size === 8 && a % 8 === 0 && val !== null) s.spill[a / 8] = val;
      }
    }
    return result;
  }

  // ---- calls ----

  private call(pc: number, insn: BpfInsn, st: VState): number {
    if ((insn.opcode & BPF_X) !== 0) {
      const t = this.read(pc, st, insn.dst);
      if (t.t === T.FUNC) return this.localCall(pc, t.k, st);
      if (isConst(t) && t.umin <= 0x7fffffffn) return this.helperCall(pc, Number(t.umin), st);
      throw new Rejection(pc, `callx target r${insn.dst} is neither a known helper id nor a code address`);
    }
    if (insn.src === BPF_PSEUDO_CALL) return this.localCall(pc, pc + 1 + insn.imm, st);
    return this.helperCall(pc, insn.imm, st);
  }

  private localCall(pc: number, target: number, st: VState): number {
    if (!this.funcStarts.includes(target)) throw new Rejection(pc, `call target ${target} is not a function start`);
    if (st.frames.length >= BPF_MAX_CALL_DEPTH) throw new Rejection(pc, `call depth exceeds ${BPF_MAX_CALL_DEPTH} frames`);
    const caller = st.cur;
    const regs: Reg[] = new Array<Reg>(11).fill(UNINIT);
    for (let r = 1; r <= 5; r++) regs[r] = caller.regs[r]!;
    regs[10] = ptr(T.STACK, st.frames.length, 0n, 0n);
    st.frames.push({ regs, stack: StackState.empty(), ret: pc + 1, callPc: pc, depth: 0 });
    if (st.frames.length > this.maxCall) this.maxCall = st.frames.length;
    return target;
  }

  private ret(pc: number, st: VState): number {
    const callee = st.frames.pop()!;
    const r0 = callee.regs[0]!;
    const gone = st.frames.length;
    if (r0.t === T.STACK && r0.k >= gone) throw new Rejection(pc, 'function returns a pointer to its own stack');
    // Pointers into the returned frame that were stored in a caller's stack now dangle: forget them.
    for (const f of st.frames) {
      for (let s = 0; s < STACK_SLOTS; s++) {
        const sp = f.stack.spill[s];
        if (sp !== undefined && sp.t === T.STACK && sp.k >= gone) {
          f.stack.own();
          f.stack.spill[s] = TOP;
        }
      }
      for (let r = 0; r < 10; r++) if (f.regs[r]!.t === T.STACK && f.regs[r]!.k >= gone) f.regs[r] = UNINIT;
    }
    const caller = st.cur;
    caller.regs[0] = r0;
    for (let r = 1; r <= 5; r++) caller.regs[r] = UNINIT;
    return callee.ret;
  }

  private helperCall(pc: number, id: number, st: VState): number {
    if (!this.helperKnown(id)) throw new Rejection(pc, `unknown helper id ${id}`);
    const regs = st.cur.regs;
    let r0: Reg = TOP;
    if (id === 1 || id === 2 || id === 3) {
      const m = this.read(pc, st, 1);
      if (m.t !== T.MAP_PTR) throw new Rejection(pc, `helper ${id}: r1 must be a map (lddw map_fd), not ${this.typeName(m)}`);
      const map = this.maps[m.k]!;
      this.helperMem(pc, st, 2, map.keySize, 'key');
      if (id === 2) {
        this.helperMem(pc, st, 3, map.valueSize, 'value');
        const fl = this.read(pc, st, 4);
        if (fl.t !== T.SCALAR) throw new Rejection(pc, 'helper 2: r4 (flags) must be a number');
      }
      if (id === 1) r0 = ptr(T.MAP_VALUE_OR_NULL, m.k, 0n, 0n, this.nextId++);
    } else if (id === 6) {
      const sz = this.read(pc, st, 2);
      if (sz.t !== T.SCALAR) throw new Rejection(pc, 'helper 6: r2 (format size) must be a number');
      const n = isConst(sz) && sz.umin <= 512n ? Number(sz.umin) : 0;
      if (n > 0) this.helperMem(pc, st, 1, n, 'format');
      else this.read(pc, st, 1);
    }
    if (!BUILTIN_HELPERS.has(id)) {
      // A helper we know nothing about may write any memory it can address, the stack included: registers
      // spilled there become plain numbers (their bytes stay initialised), so no stale pointer survives.
      for (const f of st.frames) {
        if (f.stack.spill.some((x) => x !== undefined)) {
          f.stack.own();
          for (let i = 0; i < STACK_SLOTS; i++) if (f.stack.spill[i] !== undefined) f.stack.spill[i] = undefined;
        }
      }
    }
    regs[0] = r0;
    for (let r = 1; r <= 5; r++) regs[r] = UNINIT;
    return pc + 1;
  }

  /** A helper argument pointing at `size` readable bytes. */
  private helperMem(pc: number, st: VState, r: number, size: number, what: string): void {
    const p = this.read(pc, st, r);
    if (p.t === T.STACK) {
      this.stackAccess(pc, st, p.k, p.smin, p.smax, size, 'load', null);
      return;
    }
    if (p.t === T.PKT || p.t === T.MAP_VALUE) {
      this.mem(pc, st, p, r, 0, size, 'load', null);
      this.access[pc] = BPF_ACCESS_NONE;
      return;
    }
    throw new Rejection(pc, `helper argument r${r} (${what}) must point to memory, not ${this.typeName(p)}`);
  }

  private typeName(r: Reg): string {
    return ['uninitialised', 'a number', 'an input pointer', 'the end-of-input pointer', 'a stack pointer', 'a map value pointer', 'a possibly-NULL map value', 'a map handle', 'a code address'][r.t]!;
  }

  // ---- conditional jumps ----

  /** Returns the states of the taken and fall-through edges (null = impossible). */
  private branch(pc: number, insn: BpfInsn, st: VState): [VState | null, VState | null] {
    const op = insn.opcode & 0xf0;
    const is32 = (insn.opcode & 7) === BPF_JMP32;
    const x = (insn.opcode & BPF_X) !== 0;
    const a = this.read(pc, st, insn.dst);
    const b = x ? this.read(pc, st, insn.src) : scConst(is32 ? BigInt(insn.imm >>> 0) : BigInt(insn.imm));
    if (a.t === T.SCALAR && b.t === T.SCALAR) return this.scalarBranch(op, is32, insn, st, a, b, x);
    const both = (): [VState, VState] => [st.clone(), st];
    if (is32) return both();
    // NULL checks of map lookup results (Linux mark_ptr_or_null_regs).
    const nullCheck = (p: Reg, z: Reg) => p.t === T.MAP_VALUE_OR_NULL && isConst(z) && z.umin === 0n && (op === 0x10 || op === 0x50);
    if (nullCheck(a, b) || nullCheck(b, a)) {
      const p = a.t === T.MAP_VALUE_OR_NULL ? a : b;
      const eq = st.clone();
      const ne = st;
      this.markNull(eq, p.id, true);
      this.markNull(ne, p.id, false);
      return op === 0x10 ? [eq, ne] : [ne, eq];
    }
    // input pointer vs end-of-input pointer: teaches a lower bound of the input length.
    if ((a.t === T.PKT && b.t === T.PKT_END) || (a.t === T.PKT_END && b.t === T.PKT)) {
      const p = a.t === T.PKT ? a : b;
      const swapped = a.t === T.PKT_END;
      // rel(p, end) on the taken edge; not-taken gets the negation.
      const rel: Record<number, [string, string]> = {
        0x20: ['>', '<='],
        0x30: ['>=', '<'],
        0xa0: ['<', '>='],
        0xb0: ['<=', '>'],
      };
      const rr = rel[op];
      if (!rr) return both();
      const flip = (s: string) => (s === '<' ? '>' : s === '>' ? '<' : s === '<=' ? '>=' : '<=');
      const [tk, nt] = swapped ? [flip(rr[0]), flip(rr[1])] : rr;
      const preg = swapped ? insn.src : insn.dst;
      const apply = (s: VState, r: string) => {
        // p ≤ end means offset ≤ length: the length is at least the offset, the offset at most the length.
        if (r === '<=' || r === '<') {
          const strict = r === '<' ? 1n : 0n;
          s.lenMin = maxB(s.lenMin, p.smin + strict);
          const cap = s.lenMax - strict;
          if (p.smax > cap) s.cur.regs[preg] = { ...p, smax: maxB(cap, p.smin) };
        }
      };
      const t = st.clone();
      apply(t, tk);
      apply(st, nt);
      return [t, st];
    }
    return both();
  }

  private markNull(st: VState, id: number, isNull: boolean): void {
    const fix = (r: Reg): Reg => (r.t === T.MAP_VALUE_OR_NULL && r.id === id ? (isNull ? scConst(0n) : ptr(T.MAP_VALUE, r.k, r.smin, r.smax)) : r);
    for (const f of st.frames) {
      for (let r = 0; r < 11; r++) f.regs[r] = fix(f.regs[r]!);
      let touched = false;
      for (let s = 0; s < STACK_SLOTS; s++) {
        const sp = f.stack.spill[s];
        if (sp !== undefined && sp.t === T.MAP_VALUE_OR_NULL && sp.id === id) {
          if (!touched) {
            f.stack.own();
            touched = true;
          }
          f.stack.spill[s] = fix(sp);
        }
      }
    }
  }

  private scalarBranch(op: number, is32: boolean, insn: BpfInsn, st: VState, a0: Reg, b0: Reg, x: boolean): [VState | null, VState | null] {
    const a = this.rangeOf(st, a0);
    const b = this.rangeOf(st, b0);
    if (is32) {
      const fits = a.umax <= U32_MAX && b.umax <= U32_MAX;
      const signed = op === 0x60 || op === 0x70 || op === 0xc0 || op === 0xd0;
      if (!(fits && (!signed || (a.umax < 1n << 31n && b.umax < 1n << 31n)))) {
        if (isConst(a) && isConst(b)) {
          const A = a.umin & U32_MAX;
          const B = b.umin & U32_MAX;
          const taken = this.concreteCmp(op, A, B, BigInt.asIntN(32, A), BigInt.asIntN(32, B));
          return taken ? [st, null] : [null, st];
        }
        return [st.clone(), st];
      }
    }
    const res = (cond: string): [Reg, Reg] | null => this.refine(cond, a, b);
    const c = BRANCH_CONDS[op]!;
    const t = res(c[0]);
    const f = res(c[1]);
    const out: [VState | null, VState | null] = [null, null];
    const mk = (r: [Reg, Reg] | null, clone: boolean): VState | null => {
      if (r === null) return null;
      const s = clone ? st.clone() : st;
      this.assign(s, insn.dst, a0, r[0]);
      if (x) this.assign(s, insn.src, b0, r[1]);
      return s;
    };
    out[0] = mk(t, f !== null);
    out[1] = mk(f, false);
    return out;
  }

  /** Writes a refined range back into a register (and into the state's input length for `len` scalars). */
  private assign(st: VState, r: number, orig: Reg, refined: Reg): void {
    if (orig.len) {
      st.lenMin = refined.umin;
      st.lenMax = refined.umax;
      return;
    }
    st.cur.regs[r] = refined;
  }

  private concreteCmp(op: number, A: bigint, B: bigint, sA: bigint, sB: bigint): boolean {
    switch (op) {
      case 0x10: return A === B;
      case 0x50: return A !== B;
      case 0x20: return A > B;
      case 0x30: return A >= B;
      case 0xa0: return A < B;
      case 0xb0: return A <= B;
      case 0x60: return sA > sB;
      case 0x70: return sA >= sB;
      case 0xc0: return sA < sB;
      case 0xd0: return sA <= sB;
      default: return (A & B) !== 0n;
    }
  }

  /** Ranges of (a, b) given that `cond` holds, or null if it cannot. */
  private refine(cond: string, a: Reg, b: Reg): [Reg, Reg] | null {
    const mkU = (x: Reg, umin: bigint, umax: bigint) => scalar(maxB(x.umin, umin), minB(x.umax, umax), x.smin, x.smax);
    const mkS = (x: Reg, smin: bigint, smax: bigint) => scalar(x.umin, x.umax, maxB(x.smin, smin), minB(x.smax, smax));
    let na: Reg | null = a;
    let nb: Reg | null = b;
    switch (cond) {
      case '==':
        na = scalar(maxB(a.umin, b.umin), minB(a.umax, b.umax), maxB(a.smin, b.smin), minB(a.smax, b.smax));
        nb = na;
        break;
      case '!=':
        if (isConst(a) && isConst(b)) return a.umin === b.umin ? null : [a, b];
        if (isConst(b)) {
          if (a.umin === b.umin) na = mkU(a, a.umin + 1n, U64_MAX);
          else if (a.umax === b.umin) na = mkU(a, 0n, a.umax - 1n);
        } else if (isConst(a)) {
          if (b.umin === a.umin) nb = mkU(b, b.umin + 1n, U64_MAX);
          else if (b.umax === a.umin) nb = mkU(b, 0n, b.umax - 1n);
        }
        break;
      case 'u<':
        if (b.umax === 0n || a.umin === U64_MAX) return null;
        na = mkU(a, 0n, b.umax - 1n);
        nb = mkU(b, a.umin + 1n, U64_MAX);
        break;
      case 'u<=':
        na = mkU(a, 0n, b.umax);
        nb = mkU(b, a.umin, U64_MAX);
        break;
      case 'u>':
        if (a.umax === 0n || b.umin === U64_MAX) return null;
        na = mkU(a, b.umin + 1n, U64_MAX);
        nb = mkU(b, 0n, a.umax - 1n);
        break;
      case 'u>=':
        na = mkU(a, b.umin, U64_MAX);
        nb = mkU(b, 0n, a.umax);
        break;
      case 's<':
        if (b.smax === S64_MIN || a.smin === S64_MAX) return null;
        na = mkS(a, S64_MIN, b.smax - 1n);
        nb = mkS(b, a.smin + 1n, S64_MAX);
        break;
      case 's<=':
        na = mkS(a, S64_MIN, b.smax);
        nb = mkS(b, a.smin, S64_MAX);
        break;
      case 's>':
        if (a.smax === S64_MIN || b.smin === S64_MAX) return null;
        na = mkS(a, b.smin + 1n, S64_MAX);
        nb = mkS(b, S64_MIN, a.smax - 1n);
        break;
      case 's>=':
        na = mkS(a, b.smin, S64_MAX);
        nb = mkS(b, S64_MIN, a.smax);
        break;
      case '&':
        if (isConst(a) && isConst(b) && (a.umin & b.umin) === 0n) return null;
        if (a.umax === 0n || b.umax === 0n) return null;
        break;
      case '!&':
        if (isConst(a) && isConst(b) && (a.umin & b.umin) !== 0n) return null;
        break;
    }
    if (na === null || nb === null) return null;
    return [na, nb];
  }
}
