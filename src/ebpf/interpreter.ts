/**
 * The eBPF interpreter: exact RFC 9669 semantics over (lo, hi) int32 register halves, checked memory
 * (memory.ts), helpers (helpers.ts), bpf-to-bpf calls with per-frame stacks (depth ≤ 8) and a run-time
 * instruction budget. It is the reference the JS JIT is fuzzed against.
 *
 * Budget: every taken backward jump charges the length of the loop it closes (jump pc − target + 1) and every
 * local call charges the length of the callee, so the budget bounds the instructions a run can execute
 * (straight-line code between charges is already bounded by the program length). The JS JIT charges the
 * same way, so both engines stop the same programs.
 */
import { checkBatchLanes } from '../batch.js';
import { NetworkError } from '../errors.js';
import {
  bpfArith,
  bpfArsh64,
  bpfBswap32,
  bpfDiv32,
  bpfDiv64,
  bpfGtS64,
  bpfGtU64,
  bpfLsh64,
  bpfMod32,
  bpfMod64,
  bpfMul64,
  bpfRsh64,
  bpfSdiv32,
  bpfSdiv64,
  bpfSmod32,
  bpfSmod64,
} from './arith.js';
import {
  BPF_LDDW_OPCODE,
  BPF_MAX_CALL_DEPTH,
  BPF_PSEUDO_BTF_ID,
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_KFUNC_CALL,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  BPF_STACK_SIZE,
  bpfBranchOffset,
  bpfInsnProblem,
  bpfMayWriteMemory,
  isBpfBranch,
  type BpfInsn,
} from './isa.js';
import { BpfProgramExit, BpfRuntimeEnv, callBpfHelper, type BpfHelperTable, type BpfMapLike } from './helpers.js';
import { BPF_REGION_CODE, BPF_REGION_FIRST_MAP, BPF_REGION_INPUT, BPF_REGION_MAP_HANDLE, BpfMemory } from './memory.js';
import { INTERP_WORDS, Layout, Op, interpDecode, interpResetMask } from './interp-decode.js';

/** What an engine needs of a program (BpfProgram implements it). */
export interface BpfExecutable {
  readonly insns: readonly BpfInsn[];
  /** Maps by index (= the fd/idx lddw uses); map i is region 3 + i. */
  readonly mapList: readonly BpfMapLike[];
  readonly helpers: BpfHelperTable;
}

/** Options of one run. */
export interface BpfRunOptions {
  /** Instruction budget (see module doc). Default {@link BPF_DEFAULT_BUDGET}. */
  budget?: number;
  /** trace_printk sink for this run. */
  onTrace?: (message: string) => void;
}

/** Default run-time instruction budget. */
export const BPF_DEFAULT_BUDGET = 10_000_000;

/** Static facts every engine needs: structure checked, functions found, LDDW values resolved. */
export interface BpfPreparedCode {
  readonly insns: readonly BpfInsn[];
  /** First pc of the function containing each pc. */
  readonly funcStart: Int32Array;
  /** Length in slots of the function starting at a pc (0 elsewhere). */
  readonly funcLen: Int32Array;
  /** True when some jump goes backwards. */
  readonly hasBackEdges: boolean;
  /** Second slots of LDDW. */
  readonly lddwSecond: Uint8Array;
}

function rejected(pc: number, insn: BpfInsn | undefined, reason: string): NetworkError {
  return new NetworkError('VERIFIER_REJECTED', `eBPF program rejected at pc ${pc}: ${reason}`, { pc, insn, reason });
}

/**
 * Checks what every engine relies on, independently of the verifier: well-formed instructions, jump and call
 * targets inside the program and not on an LDDW second slot, pseudo-sources the engines support, map indexes
 * that exist. Throws VERIFIER_REJECTED { pc, insn, reason }.
 */
export function prepareBpfCode(insns: readonly BpfInsn[], mapCount: number): BpfPreparedCode {
  const n = insns.length;
  if (n === 0) throw rejected(0, undefined, 'empty program');
  if (n > 1_000_000) throw rejected(0, undefined, `program of ${n} instructions is too long`);
  const lddwSecond = new Uint8Array(n);
  const isStart = new Uint8Array(n);
  isStart[0] = 1;
  let hasBackEdges = false;
  for (let pc = 0; pc < n; pc++) {
    const insn = insns[pc]!;
    const problem = bpfInsnProblem(insns, pc);
    if (problem !== null) throw rejected(pc, insn, problem);
    if (insn.opcode === BPF_LDDW_OPCODE) {
      lddwSecond[pc + 1] = 1;
      const src = insn.src;
      if (src === BPF_PSEUDO_BTF_ID) throw rejected(pc, insn, 'lddw of a kernel variable (src 3) is not supported');
      if (src === BPF_PSEUDO_MAP_FD || src === BPF_PSEUDO_MAP_IDX || src === BPF_PSEUDO_MAP_VALUE || src === BPF_PSEUDO_MAP_IDX_VALUE) {
        if (insn.imm < 0 || insn.imm >= mapCount) throw rejected(pc, insn, `map ${insn.imm} does not exist`);
      }
      pc++;
    }
  }
  for (let pc = 0; pc < n; pc++) {
    const insn = insns[pc]!;
    if (lddwSecond[pc]) continue;
    let target = -1;
    if (isBpfBranch(insn)) {
      target = pc + 1 + bpfBranchOffset(insn);
      if (target <= pc) hasBackEdges = true;
    } else if (insn.opcode === 0x85 && insn.src === BPF_PSEUDO_CALL) {
      target = pc + 1 + insn.imm;
      if (target >= 0 && target < n) isStart[target] = 1;
    } else if (insn.opcode === 0x85 && insn.src === BPF_PSEUDO_KFUNC_CALL) {
      throw rejected(pc, insn, 'kfunc calls (src 2) are not supported');
    } else if (insn.opcode === BPF_LDDW_OPCODE && insn.src === BPF_PSEUDO_FUNC) {
      target = pc + 1 + insn.imm;
      if (target >= 0 && target < n) isStart[target] = 1;
    } else continue;
    if (target < 0 || target >= n) throw rejected(pc, insn, `target ${target} is outside the program`);
    if (lddwSecond[target]) throw rejected(pc, insn, `target ${target} is the second slot of lddw`);
  }
  const funcStart = new Int32Array(n);
  const funcLen = new Int32Array(n);
  let cur = 0;
  for (let pc = 0; pc < n; pc++) {
    if (isStart[pc]) cur = pc;
    funcStart[pc] = cur;
    funcLen[cur]!++;
  }
  // A jump may not leave its function (Linux: "jump out of range" across subprog boundaries).
  for (let pc = 0; pc < n; pc++) {
    const insn = insns[pc]!;
    if (lddwSecond[pc] || !isBpfBranch(insn)) continue;
    const target = pc + 1 + bpfBranchOffset(insn);
    if (funcStart[target] !== funcStart[pc]) throw rejected(pc, insn, `jump to ${target} leaves its function`);
  }
  return { insns, funcStart, funcLen, hasBackEdges, lddwSecond };
}

/** Throws the budget error. */
export function bpfBudgetExceeded(pc: number, budget: number): NetworkError {
  return new NetworkError('BUDGET_EXCEEDED', `eBPF program exceeded its budget of ${budget} instructions (pc ${pc})`, {
    pc,
    budget,
  });
}

/** Throws the call depth error. */
export function bpfCallDepthExceeded(pc: number): NetworkError {
  return new NetworkError('BUDGET_EXCEEDED', `eBPF call at pc ${pc} exceeds the call depth of ${BPF_MAX_CALL_DEPTH}`, {
    pc,
    depth: BPF_MAX_CALL_DEPTH,
  });
}

/** The error for running off the end of a function. */
export function bpfFellOff(pc: number): NetworkError {
  return new NetworkError('VERIFIER_REJECTED', `eBPF execution fell off the end of the program after pc ${pc}`, {
    pc,
    reason: 'no exit',
  });
}

/** The error for a callx to something that is neither a helper id nor a code address. */
export function bpfBadCallx(pc: number, hi: number, lo: number): NetworkError {
  return new NetworkError('OUT_OF_BOUNDS', `eBPF callx at pc ${pc} to 0x${((BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0)).toString(16)}`, {
    pc,
    address: (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0),
    size: 0,
  });
}

/**
 * One interpreter instance bound to one program: predecoded code (interp-decode.ts), its own registers, stack
 * and memory. Not re-entrant; make one per thread/concurrent use.
 *
 * The batch loop lives inside {@link exec}: per packet it sets r1, r2, r10 and zeroes only the registers the
 * program may read before writing them (interpResetMask), then dispatches one switch per (super)instruction.
 */
export class BpfInterpreterEngine {
  readonly prepared: BpfPreparedCode;
  readonly memory: BpfMemory;
  readonly env: BpfRuntimeEnv;
  // Registers, frames and code in one array (Layout in interp-decode.ts).
  private readonly code: Int32Array;
  // The same array: r's low word at [r], its high word at [r | 16].
  private readonly regs: Int32Array;
  // Registers zeroed before each run.
  private readonly resetRegs: Int32Array;
  private readonly stackView: DataView;
  // The program has stores, atomics or helper calls, so a run may leave the stack written: run() zeroes it
  // before each run only then (programs without them, e.g. packet filters, never dirty it).
  private readonly mayWriteStack: boolean;
  // Some instruction may leave r1's or r2's high word or r10 changed at the end of a run (a write to them,
  // or a local call): they are then set again before every packet, else once per exec.
  private readonly fixedMayChange: boolean;
  // High word of the last packet's r0.
  private lastHi = 0;
  // run()'s one-packet window list.
  private readonly oneOffset = new Uint32Array(1);
  private readonly oneLength = new Uint32Array(1);
  private readonly oneVerdict = new Uint32Array(1);
  // run()'s last result (a bigint allocation saved when a filter returns the same verdict again).
  private lastLo = 0;
  private lastHiOut = 0;
  private lastBig = 0n;

  constructor(private readonly program: BpfExecutable) {
    this.prepared = prepareBpfCode(program.insns, program.mapList.length);
    this.code = interpDecode(this.prepared);
    this.regs = this.code;
    const mask = interpResetMask(this.prepared);
    const regs: number[] = [];
    for (let r = 0; r < 10; r++) if (mask & (1 << r)) regs.push(r);
    this.resetRegs = Int32Array.from(regs);
    this.memory = new BpfMemory(program.mapList);
    this.env = new BpfRuntimeEnv(this.memory, program.mapList);
    this.stackView = this.memory.regions[2]!.view;
    this.fixedMayChange = program.insns.some((i, pc) => {
      if (this.prepared.lddwSecond[pc]) return false;
      const cls = i.opcode & 7;
      const fixed = (r: number): boolean => r === 1 || r === 2 || r === 10;
      if (cls === 4 || cls === 7 || cls === 1) return fixed(i.dst);
      if (cls === 0) return i.opcode === BPF_LDDW_OPCODE && fixed(i.dst); // LD_ABS/IND write r0 only
      if (cls === 3 && (i.opcode & 0xe0) === 0xc0) return fixed(i.src); // an atomic fetch writes src
      // local calls move r10 (a run ended inside the callee by an LD_ABS miss or env.exit leaves it moved)
      return i.opcode === 0x8d || (i.opcode === 0x85 && i.src === BPF_PSEUDO_CALL);
    });
    this.mayWriteStack = bpfMayWriteMemory(program.insns);
  }

  /** Runs over `bytes` (region 1); r1 = its address, r2 = its length. Returns r0. */
  run(bytes: Uint8Array, options?: BpfRunOptions): bigint {
    this.env.traceSink = options?.onTrace;
    // Every run starts on a zeroed stack.
    if (this.mayWriteStack) this.memory.stack.fill(0);
    this.oneLength[0] = bytes.length;
    this.exec(bytes, this.oneOffset, this.oneLength, 1, this.oneVerdict, options?.budget ?? BPF_DEFAULT_BUDGET);
    const lo = this.oneVerdict[0]! | 0;
    const hi = this.lastHi;
    if (lo !== this.lastLo || hi !== this.lastHiOut) {
      this.lastLo = lo;
      this.lastHiOut = hi;
      this.lastBig = hi === 0 ? BigInt(lo >>> 0) : (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    }
    return this.lastBig;
  }

  /** Runs once per packet of the window list; writes r0 (low 32 bits) into `verdicts`. */
  runMany(
    data: Uint8Array,
    offsets: Uint32Array,
    lengths: Uint32Array,
    count: number,
    verdicts: Uint32Array,
    options?: BpfRunOptions,
  ): Uint32Array {
    checkBatchLanes(data, offsets, lengths, count);
    this.env.traceSink = options?.onTrace;
    this.exec(data, offsets, lengths, count, verdicts, options?.budget ?? BPF_DEFAULT_BUDGET);
    return verdicts;
  }

  /**
   * The interpreter loop over packets [0, count) of a window list into `data`: r1 = the packet (region 1),
   * r2 = its length, r10 = top of frame 0; r0's low word per packet into `verdicts`, the last high word in
   * `lastHi`.
   *
   * The dispatch loop (`fast`) makes no calls: an instruction that needs one (BpfMemory for regions other
   * than packet and stack, helpers, atomics, div/mod/mul64 …) leaves it, runs as one original instruction in
   * {@link step}, and the loop resumes after it. Without calls inside, V8 keeps the typed arrays' maps,
   * lengths and base pointers out of the loop instead of reloading them for every access.
   */
  private exec(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint32Array, budget: number): void {
    const K = this.code;
    const R = K; // (the same array: see Layout)
    const { resetRegs, stackView } = this;
    const { funcStart, funcLen } = this.prepared;
    const n = (K.length - Layout.CODE) / INTERP_WORDS - 1;
    const stack = this.memory.stack;
    const STACK = stack.length;
    const nReset = resetRegs.length;
    const dataLen = data.length;
    // Imported bindings are read through cells in optimised code; locals are free.
    const STACK_SIZE = BPF_STACK_SIZE | 0;
    const MAX_DEPTH = BPF_MAX_CALL_DEPTH | 0;
    const fixedMayChange = this.fixedMayChange;
    let hiOut = 0;
    for (let k = 0; k < count; k++) {
      // Lanes inside the data: checked before the run (program.ts batchVerdicts).
      const ps = offsets[k]!;
      const pe = ps + lengths[k]!;
      for (let j = 0; j < nReset; j++) {
        const r = resetRegs[j]!;
        R[r] = 0;
        R[r | 16] = 0;
      }
      R[1] = ps;
      R[2] = pe - ps;
      if (k === 0 || fixedMayChange) {
        R[17] = 1; // BPF_REGION_INPUT
        R[18] = 0;
        R[10] = STACK_SIZE;
        R[26] = 2; // BPF_REGION_STACK
      }
      let pc = Layout.CODE as number;
      let depth = 0;
      let left = budget;
      let res = 0;
      for (;;) {
        // pc = Layout.CODE + slot * INTERP_WORDS: K[pc] is the op word, K[pc | 1..3] its operands.
        let done = false;
        fast: for (;;) {
          const w = K[pc]!;
          const d = (w >> 8) & 0xf;
          const s = (w >> 12) & 0xf;
          switch (w & 0xff) {
            case Op.FELL:
              throw bpfFellOff(n - 1);
            case Op.RET_K:
            case Op.EXIT:
              if ((w & 0xff) === Op.RET_K) {
                // mov r0, imm first
                R[0] = K[pc | 2]!;
                R[16] = K[pc | 3]!;
              }
              if (depth === 0) {
                res = R[0]!;
                hiOut = R[16]!;
                done = true;
                break fast;
              }
              depth--;
              {
                const f = Layout.FRAMES + depth * 10;
                R[6] = K[f]!;
                R[22] = K[f + 1]!;
                R[7] = K[f + 2]!;
                R[23] = K[f + 3]!;
                R[8] = K[f + 4]!;
                R[24] = K[f + 5]!;
                R[9] = K[f + 6]!;
                R[25] = K[f + 7]!;
                R[10] = K[f + 8]!;
                pc = K[f + 9]!;
              }
              break;
            case Op.JA:
              pc = K[pc | 3]!;
              break;
            case Op.JBACK: {
              // any jump that may go backwards: the condition generically, the budget charged when taken
              const opc = K[pc | 1]!;
              let taken = true;
              if ((opc & 0xf0) !== 0) {
                const x = (opc & 8) !== 0;
                const al = R[d]!;
                const bl = x ? R[s]! : K[pc | 2]!;
                let ah: number;
                let bh: number;
                if ((opc & 7) === 6) {
                  // JMP32: low words, sign-extended for the signed comparisons
                  const c = opc & 0xf0;
                  const signed = c === 0x60 || c === 0x70 || c === 0xc0 || c === 0xd0;
                  ah = signed ? al >> 31 : 0;
                  bh = signed ? bl >> 31 : 0;
                } else {
                  ah = R[d | 16]!;
                  bh = x ? R[s | 16]! : bl >> 31;
                }
                switch (opc & 0xf0) {
                  case 0x10: taken = al === bl && ah === bh; break;
                  case 0x50: taken = al !== bl || ah !== bh; break;
                  case 0x40: taken = (al & bl) !== 0 || (ah & bh) !== 0; break;
                  case 0x20: taken = ah === bh ? al >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0; break;
                  case 0x30: taken = ah === bh ? al >>> 0 >= bl >>> 0 : ah >>> 0 > bh >>> 0; break;
                  case 0xa0: taken = ah === bh ? al >>> 0 < bl >>> 0 : ah >>> 0 < bh >>> 0; break;
                  case 0xb0: taken = ah === bh ? al >>> 0 <= bl >>> 0 : ah >>> 0 < bh >>> 0; break;
                  case 0x60: taken = ah === bh ? al >>> 0 > bl >>> 0 : ah > bh; break;
                  case 0x70: taken = ah === bh ? al >>> 0 >= bl >>> 0 : ah > bh; break;
                  case 0xc0: taken = ah === bh ? al >>> 0 < bl >>> 0 : ah < bh; break;
                  default: taken = ah === bh ? al >>> 0 <= bl >>> 0 : ah < bh; break; // 0xd0 (decode admits no other)
                }
              }
              if (taken) {
                const t = K[pc | 3]!;
                left -= ((pc - t) >> 2) + 1;
                if (left < 0) throw bpfBudgetExceeded((pc - Layout.CODE) >> 2, budget);
                pc = t;
              } else pc = (pc + 4) | 0;
              break;
            }
            case Op.CALL_LOCAL:
            case Op.CALLX: {
              let target: number;
              if ((w & 0xff) === Op.CALL_LOCAL) {
                left -= K[pc | 1]!;
                if (left < 0) throw bpfBudgetExceeded((pc - Layout.CODE) >> 2, budget);
                target = K[pc | 3]!;
              } else {
                const th = R[d | 16]!;
                const tl = R[d]!;
                if (th === (BPF_REGION_CODE | 0) && tl >= 0 && tl < n && funcStart[tl] === tl) {
                  left -= funcLen[tl]!;
                  if (left < 0) throw bpfBudgetExceeded((pc - Layout.CODE) >> 2, budget);
                  target = Layout.CODE + tl * INTERP_WORDS;
                } else if (th === 0 && tl >= 0) {
                  break fast; // a plain number: a helper id (the conformance suite's reading of callx), in step()
                } else throw bpfBadCallx((pc - Layout.CODE) >> 2, th, tl);
              }
              if (depth + 1 >= MAX_DEPTH) throw bpfCallDepthExceeded((pc - Layout.CODE) >> 2);
              const f = Layout.FRAMES + depth * 10;
              K[f] = R[6]!;
              K[f + 1] = R[22]!;
              K[f + 2] = R[7]!;
              K[f + 3] = R[23]!;
              K[f + 4] = R[8]!;
              K[f + 5] = R[24]!;
              K[f + 6] = R[9]!;
              K[f + 7] = R[25]!;
              K[f + 8] = R[10]!;
              K[f + 9] = (pc + 4) | 0;
              depth++;
              R[10] = (R[10]! + STACK_SIZE) | 0;
              pc = target;
              break;
            }
            case Op.LDDW: {
              const imm = K[pc | 2]!;
              const next = K[pc | 1]!;
              switch (s) {
                case 0: R[d] = imm; R[d | 16] = next; break;
                case 1: case 5: R[d] = imm; R[d | 16] = BPF_REGION_MAP_HANDLE | 0; break;
                case 2: case 6: R[d] = next; R[d | 16] = (BPF_REGION_FIRST_MAP + imm) | 0; break;
                default: R[d] = (((pc - Layout.CODE) >> 2) + 1 + imm) | 0; R[d | 16] = BPF_REGION_CODE | 0; break; // src 4: code address pc + 1 + imm
              }
              pc = (pc + 8) | 0;
              break;
            }
            case Op.SLOW:
              break fast;
            // ---------------- legacy packet loads (big-endian): out of range ends the program with 0 ----------------
            case Op.LDABS_B: case Op.LDABS_H: case Op.LDABS_W:
            case Op.LDIND_B: case Op.LDIND_H: case Op.LDIND_W: {
              const o = (w & 0xff) - Op.LDABS_B;
              const size = o === 0 || o === 3 ? 1 : o === 1 || o === 4 ? 2 : 4;
              const rel = (o >= 3 ? (R[s]! + K[pc | 2]!) | 0 : K[pc | 2]!) >>> 0;
              if (rel + size > pe - ps) {
                res = 0;
                hiOut = 0;
                done = true;
                break fast;
              }
              const a = ps + rel;
              R[0] = size === 1 ? data[a]! : size === 2 ? (data[a]! << 8) | data[a + 1]! : (data[a]! << 24) | (data[a + 1]! << 16) | (data[a + 2]! << 8) | data[a + 3]!;
              R[16] = 0;
              pc = (pc + 4) | 0;
              break;
            }
            // ---------------- loads: packet and stack here, other regions in step() ----------------
            // a = the int32 sum; it equals the real (unsigned, carrying into the region id) address when the
            // base l is non-negative and a lies in [0, 2^31), which the range tests below demand.
            case Op.LDXB: {
              const sh = R[s | 16]!;
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (sh === 1 && l >= 0 && a >= ps && a < pe) R[d] = data[a]!;
              else if (sh === 2 && l >= 0 && a >= 0 && a < STACK) R[d] = stack[a]!;
              else break fast;
              R[d | 16] = 0;
              pc = (pc + 4) | 0;
              break;
            }
            case Op.LDXH: {
              const sh = R[s | 16]!;
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (sh === 1 && l >= 0 && a >= ps && a < pe - 1) R[d] = data[a]! | (data[a + 1]! << 8);
              else if (sh === 2 && l >= 0 && a >= 0 && a < STACK - 1) R[d] = stackView.getUint16(a, true);
              else break fast;
              R[d | 16] = 0;
              pc = (pc + 4) | 0;
              break;
            }
            case Op.LDXW: {
              const sh = R[s | 16]!;
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (sh === 1 && l >= 0 && a >= ps && a < pe - 3) R[d] = data[a]! | (data[a + 1]! << 8) | (data[a + 2]! << 16) | (data[a + 3]! << 24);
              else if (sh === 2 && l >= 0 && a >= 0 && a < STACK - 3) R[d] = stackView.getInt32(a, true);
              else break fast;
              R[d | 16] = 0;
              pc = (pc + 4) | 0;
              break;
            }
            case Op.LDXDW: {
              const sh = R[s | 16]!;
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (sh === 2 && l >= 0 && a >= 0 && a < STACK - 7) {
                R[d] = stackView.getInt32(a, true);
                R[d | 16] = stackView.getInt32(a + 4, true);
              } else if (sh === 1 && l >= 0 && a >= ps && a < pe - 7) {
                R[d] = data[a]! | (data[a + 1]! << 8) | (data[a + 2]! << 16) | (data[a + 3]! << 24);
                R[d | 16] = data[a + 4]! | (data[a + 5]! << 8) | (data[a + 6]! << 16) | (data[a + 7]! << 24);
              } else break fast;
              pc = (pc + 4) | 0;
              break;
            }
            // ---------------- stores: stack here, other regions in step() ----------------
            case Op.ST: case Op.STX: {
              const sh = R[d | 16]!;
              const l = R[d]!;
              const a = (l + K[pc | 1]!) | 0;
              const size = K[pc | 2]!;
              if (!(sh === 2 && l >= 0 && a >= 0 && a <= STACK - size)) break fast;
              const isSt = (w & 0xff) === Op.ST;
              const vl = isSt ? K[pc | 3]! : R[s]!;
              if (size === 1) stack[a] = vl;
              else if (size === 2) stackView.setUint16(a, vl & 0xffff, true);
              else {
                stackView.setInt32(a, vl, true);
                if (size === 8) stackView.setInt32(a + 4, isSt ? vl >> 31 : R[s | 16]!, true);
              }
              pc = (pc + 4) | 0;
              break;
            }
            // ---------------- ALU (32-bit): result zero-extended ----------------
            case Op.ADD32_K: R[d] = (R[d]! + K[pc | 2]!) | 0; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.ADD32_X: R[d] = (R[d]! + R[s]!) | 0; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.SUB32_K: R[d] = (R[d]! - K[pc | 2]!) | 0; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.SUB32_X: R[d] = (R[d]! - R[s]!) | 0; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.MUL32_K: R[d] = Math.imul(R[d]!, K[pc | 2]!); R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.MUL32_X: R[d] = Math.imul(R[d]!, R[s]!); R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.OR32_K: R[d] = R[d]! | K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.OR32_X: R[d] = R[d]! | R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.AND32_K: R[d] = R[d]! & K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.AND32_X: R[d] = R[d]! & R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            // JS masks shift counts to 5 bits, as RFC 9669 does for 32-bit shifts
            case Op.LSH32_K: R[d] = R[d]! << K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.LSH32_X: R[d] = R[d]! << R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.RSH32_K: R[d] = R[d]! >>> K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.RSH32_X: R[d] = R[d]! >>> R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.NEG32: R[d] = -R[d]! | 0; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.XOR32_K: R[d] = R[d]! ^ K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.XOR32_X: R[d] = R[d]! ^ R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.MOV32_K: R[d] = K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.MOV32_X: R[d] = R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.ARSH32_K: R[d] = R[d]! >> K[pc | 2]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.ARSH32_X: R[d] = R[d]! >> R[s]!; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.BE16: { const v = R[d]!; R[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff); R[d | 16] = 0; pc = (pc + 4) | 0; break; }
            case Op.BE32: { const v = R[d]!; R[d] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); R[d | 16] = 0; pc = (pc + 4) | 0; break; }
            case Op.LE16: R[d] = R[d]! & 0xffff; R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.LE32: R[d | 16] = 0; pc = (pc + 4) | 0; break;
            case Op.NOP: pc = (pc + 4) | 0; break;
            // ---------------- ALU64 ----------------
            case Op.ADD64_K: case Op.ADD64_X: {
              const x = (w & 0xff) === Op.ADD64_X;
              const bl = x ? R[s]! : K[pc | 2]!;
              const bh = x ? R[s | 16]! : bl >> 31;
              const al = R[d]!;
              const t = (al + bl) | 0;
              R[d] = t;
              R[d | 16] = (R[d | 16]! + bh + (t >>> 0 < al >>> 0 ? 1 : 0)) | 0; // carry
              pc = (pc + 4) | 0;
              break;
            }
            case Op.SUB64_K: case Op.SUB64_X: {
              const x = (w & 0xff) === Op.SUB64_X;
              const bl = x ? R[s]! : K[pc | 2]!;
              const bh = x ? R[s | 16]! : bl >> 31;
              const al = R[d]!;
              R[d] = (al - bl) | 0;
              R[d | 16] = (R[d | 16]! - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0; // borrow
              pc = (pc + 4) | 0;
              break;
            }
            case Op.OR64_K: { const m = K[pc | 2]!; R[d] = R[d]! | m; R[d | 16] = R[d | 16]! | (m >> 31); pc = (pc + 4) | 0; break; }
            case Op.OR64_X: R[d] = R[d]! | R[s]!; R[d | 16] = R[d | 16]! | R[s | 16]!; pc = (pc + 4) | 0; break;
            case Op.AND64_K: { const m = K[pc | 2]!; R[d] = R[d]! & m; R[d | 16] = R[d | 16]! & (m >> 31); pc = (pc + 4) | 0; break; }
            case Op.AND64_X: R[d] = R[d]! & R[s]!; R[d | 16] = R[d | 16]! & R[s | 16]!; pc = (pc + 4) | 0; break;
            case Op.XOR64_K: { const m = K[pc | 2]!; R[d] = R[d]! ^ m; R[d | 16] = R[d | 16]! ^ (m >> 31); pc = (pc + 4) | 0; break; }
            case Op.XOR64_X: R[d] = R[d]! ^ R[s]!; R[d | 16] = R[d | 16]! ^ R[s | 16]!; pc = (pc + 4) | 0; break;
            case Op.MOV64_K: { const m = K[pc | 2]!; R[d] = m; R[d | 16] = m >> 31; pc = (pc + 4) | 0; break; }
            case Op.MOV64_X: R[d] = R[s]!; R[d | 16] = R[s | 16]!; pc = (pc + 4) | 0; break;
            case Op.NEG64: {
              const l = R[d]!;
              R[d] = -l | 0;
              R[d | 16] = (~R[d | 16]! + (l === 0 ? 1 : 0)) | 0;
              pc = (pc + 4) | 0;
              break;
            }
            // 64-bit shifts by a constant (w2 = count & 63, set by the decoder), as in arith.ts
            case Op.LSH64_K: {
              const c = K[pc | 2]!;
              const l = R[d]!;
              if (c >= 32) {
                R[d | 16] = l << (c - 32);
                R[d] = 0;
              } else if (c !== 0) {
                R[d | 16] = (R[d | 16]! << c) | (l >>> (32 - c));
                R[d] = l << c;
              }
              pc = (pc + 4) | 0;
              break;
            }
            case Op.RSH64_K: {
              const c = K[pc | 2]!;
              const h = R[d | 16]!;
              if (c >= 32) {
                R[d] = h >>> (c - 32);
                R[d | 16] = 0;
              } else if (c !== 0) {
                R[d] = (R[d]! >>> c) | (h << (32 - c));
                R[d | 16] = h >>> c;
              }
              pc = (pc + 4) | 0;
              break;
            }
            case Op.ARSH64_K: {
              const c = K[pc | 2]!;
              const h = R[d | 16]!;
              if (c >= 32) {
                R[d] = h >> (c - 32);
                R[d | 16] = h >> 31;
              } else if (c !== 0) {
                R[d] = (R[d]! >>> c) | (h << (32 - c));
                R[d | 16] = h >> c;
              }
              pc = (pc + 4) | 0;
              break;
            }
            // ---------------- forward conditional jumps (those that may go backwards are JBACK) ----------------
          case Op.JEQ_K: { const bl = K[pc | 2]!, bh = bl >> 31; pc = R[d] === bl && R[d | 16] === bh ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JEQ_X: { const bl = R[s]!, bh = R[s | 16]!; pc = R[d] === bl && R[d | 16] === bh ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JNE_K: { const bl = K[pc | 2]!, bh = bl >> 31; pc = R[d] !== bl || R[d | 16] !== bh ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JNE_X: { const bl = R[s]!, bh = R[s | 16]!; pc = R[d] !== bl || R[d | 16] !== bh ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSET_K: { const bl = K[pc | 2]!, bh = bl >> 31; pc = (R[d]! & bl) !== 0 || (R[d | 16]! & bh) !== 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSET_X: { const bl = R[s]!, bh = R[s | 16]!; pc = (R[d]! & bl) !== 0 || (R[d | 16]! & bh) !== 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JGT_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JGT_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JGE_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JGE_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JLT_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JLT_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JLE_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JLE_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSGT_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah > bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSGT_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah > bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSGE_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah > bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSGE_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah > bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSLT_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah < bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSLT_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah < bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSLE_K: { const bl = K[pc | 2]!, bh = bl >> 31, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah < bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.JSLE_X: { const bl = R[s]!, bh = R[s | 16]!, ah = R[d | 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah < bh) ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32EQ_K: { const b = K[pc | 2]!; pc = R[d] === b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32EQ_X: { const b = R[s]!; pc = R[d] === b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32NE_K: { const b = K[pc | 2]!; pc = R[d] !== b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32NE_X: { const b = R[s]!; pc = R[d] !== b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SET_K: { const b = K[pc | 2]!; pc = (R[d]! & b) !== 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SET_X: { const b = R[s]!; pc = (R[d]! & b) !== 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32GT_K: { const b = K[pc | 2]!; pc = R[d]! >>> 0 > b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32GT_X: { const b = R[s]!; pc = R[d]! >>> 0 > b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32GE_K: { const b = K[pc | 2]!; pc = R[d]! >>> 0 >= b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32GE_X: { const b = R[s]!; pc = R[d]! >>> 0 >= b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32LT_K: { const b = K[pc | 2]!; pc = R[d]! >>> 0 < b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32LT_X: { const b = R[s]!; pc = R[d]! >>> 0 < b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32LE_K: { const b = K[pc | 2]!; pc = R[d]! >>> 0 <= b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32LE_X: { const b = R[s]!; pc = R[d]! >>> 0 <= b >>> 0 ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SGT_K: { const b = K[pc | 2]!; pc = R[d]! > b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SGT_X: { const b = R[s]!; pc = R[d]! > b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SGE_K: { const b = K[pc | 2]!; pc = R[d]! >= b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SGE_X: { const b = R[s]!; pc = R[d]! >= b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SLT_K: { const b = K[pc | 2]!; pc = R[d]! < b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SLT_X: { const b = R[s]!; pc = R[d]! < b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SLE_K: { const b = K[pc | 2]!; pc = R[d]! <= b ? K[pc | 3]! : (pc + 4) | 0; break; }
          case Op.J32SLE_X: { const b = R[s]!; pc = R[d]! <= b ? K[pc | 3]! : (pc + 4) | 0; break; }
            // ---------------- superinstructions (interp-decode.ts): every register write of the sequence ----------------
            // Their loads read the packet here; anything else leaves for step(), which runs just the first slot.
            case Op.LDXB_JEQ: case Op.LDXB_JNE: case Op.LDXB_JSET: {
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (!(R[s | 16] === 1 && l >= 0 && a >= ps && a < pe)) break fast;
              const v = data[a]!;
              R[d] = v;
              R[d | 16] = 0;
              const o = (w & 0xff) - Op.LDXB_JEQ;
              const m = K[pc | 2]!;
              pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc | 3]! : (pc + 8) | 0;
              break;
            }
            case Op.LDXH_JEQ: case Op.LDXH_JNE: case Op.LDXH_JSET: {
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (!(R[s | 16] === 1 && l >= 0 && a >= ps && a < pe - 1)) break fast;
              const v = data[a]! | (data[a + 1]! << 8);
              R[d] = v;
              R[d | 16] = 0;
              const o = (w & 0xff) - Op.LDXH_JEQ;
              const m = K[pc | 2]!;
              pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc | 3]! : (pc + 8) | 0;
              break;
            }
            case Op.LDXHBE_JEQ: case Op.LDXHBE_JNE: case Op.LDXHBE_JSET: {
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (!(R[s | 16] === 1 && l >= 0 && a >= ps && a < pe - 1)) break fast;
              const v = (data[a]! << 8) | data[a + 1]!;
              R[d] = v;
              R[d | 16] = 0;
              const o = (w & 0xff) - Op.LDXHBE_JEQ;
              const m = K[pc | 2]!;
              pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc | 3]! : (pc + 12) | 0;
              break;
            }
            case Op.LDXHBE: {
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (!(R[s | 16] === 1 && l >= 0 && a >= ps && a < pe - 1)) break fast;
              R[d] = (data[a]! << 8) | data[a + 1]!;
              R[d | 16] = 0;
              pc = (pc + 8) | 0;
              break;
            }
            case Op.LDXB_MSH: {
              // ldxb d, [s + off]; and d, 0xf; lsh d, 2 — the IPv4 header length in bytes
              const l = R[s]!;
              const a = (l + K[pc | 1]!) | 0;
              if (!(R[s | 16] === 1 && l >= 0 && a >= ps && a < pe)) break fast;
              R[d] = (data[a]! & 0xf) << 2;
              R[d | 16] = 0;
              pc = (pc + 12) | 0;
              break;
            }
            case Op.LEA64: {
              // mov d, s; add d, imm
              const m = K[pc | 2]!;
              const sl = R[s]!;
              const t = (sl + m) | 0;
              const h = (R[s | 16]! + (m >> 31) + (t >>> 0 < sl >>> 0 ? 1 : 0)) | 0;
              R[d] = t;
              R[d | 16] = h;
              pc = (pc + 8) | 0;
              break;
            }
            case Op.LEA32: R[d] = (R[s]! + K[pc | 2]!) | 0; R[d | 16] = 0; pc = (pc + 8) | 0; break;
            case Op.MOV2: {
              // kind: 0 mov64 reg, 1 mov64 imm, 2 mov32 reg, 3 mov32 imm
              const x = K[pc | 3]!;
              const k1 = (x >> 8) & 3;
              const i1 = K[pc | 1]!;
              const l1 = k1 & 1 ? i1 : R[s]!;
              R[d | 16] = k1 === 0 ? R[s | 16]! : k1 === 1 ? i1 >> 31 : 0;
              R[d] = l1;
              const d2 = x & 0xf;
              const s2 = (x >> 4) & 0xf;
              const k2 = (x >> 10) & 3;
              const i2 = K[pc | 2]!;
              const l2 = k2 & 1 ? i2 : R[s2]!;
              R[d2 | 16] = k2 === 0 ? R[s2 | 16]! : k2 === 1 ? i2 >> 31 : 0;
              R[d2] = l2;
              pc = (pc + 8) | 0;
              break;
            }
            default:
              throw rejected((pc - Layout.CODE) >> 2, this.program.insns[(pc - Layout.CODE) >> 2], `unknown internal opcode ${w & 0xff}`);
          }
        }
        if (done) break;
        // One original instruction that needs a call (or a load/store outside packet and stack).
        const next = this.step((pc - Layout.CODE) >> 2, data, ps, pe);
        if (next < 0) {
          // a helper ended the program (env.exit)
          res = R[0]!;
          hiOut = R[16]!;
          break;
        }
        pc = Layout.CODE + next * INTERP_WORDS;
      }
      verdicts[k] = res;
    }
    this.lastHi = hiOut;
  }

  /**
   * Runs the original instruction at slot `pc` with full checks (BpfMemory) — loads and stores in any
   * region, atomics, helper calls, the rare ALU ops. Returns the next slot, or -1 when a helper ended the
   * program (r0 is final). Region 1 is set to the current packet first.
   */
  private step(pc: number, data: Uint8Array, ps: number, pe: number): number {
    const { opcode: op, dst: d, src: s, off, imm } = this.program.insns[pc]!;
    const R = this.regs;
    const memory = this.memory;
    memory.setInput(data, ps, pe);
    const size = (op & 0x18) === 0x18 ? 8 : (op & 0x18) === 0x00 ? 4 : (op & 0x18) === 0x08 ? 2 : 1;
    switch (op & 7) {
      case 1: {
        // LDX / LDX MEMSX
        let vl = memory.load(R[s | 16]!, (R[s]! >>> 0) + off, size, pc);
        let vh = size === 8 ? memory.hi : 0;
        if ((op & 0xe0) === 0x80) {
          // MEMSX: sign-extend to 64 bits
          vl = size === 1 ? (vl << 24) >> 24 : size === 2 ? (vl << 16) >> 16 : vl | 0;
          vh = vl >> 31;
        }
        R[d] = vl;
        R[d | 16] = vh;
        return pc + 1;
      }
      case 2:
        memory.store(R[d | 16]!, (R[d]! >>> 0) + off, size, imm, imm >> 31, pc);
        return pc + 1;
      case 3: {
        if ((op & 0xe0) !== 0xc0) {
          memory.store(R[d | 16]!, (R[d]! >>> 0) + off, size, R[s]!, R[s | 16]!, pc);
          return pc + 1;
        }
        const ol = memory.atomic(R[d | 16]!, (R[d]! >>> 0) + off, size === 8 ? 8 : 4, imm, R[s]!, R[s | 16]!, R[0]!, R[16]!, pc);
        if (imm === 0xf1) {
          R[0] = ol;
          R[16] = memory.hi;
        } else if (imm & 1) {
          R[s] = ol;
          R[s | 16] = memory.hi;
        }
        return pc + 1;
      }
      case 5:
        // call helper, or callx with a helper id in dst
        return this.callHelper(op === 0x8d ? R[d]! : imm, pc) ? -1 : pc + 1;
      default:
        this.aluSlow(op, d, s, off, imm);
        return pc + 1;
    }
  }

  /** The ALU operations kept out of the dispatch loop: div/mod, 64-bit mul, shifts by register, movsx, 64-bit swaps. */
  private aluSlow(op: number, d: number, s: number, off: number, imm: number): void {
    const R = this.regs;
    const dl = R[d]!;
    const dh = R[d + 16]!;
    const x = (op & 8) !== 0;
    const bl = x ? R[s]! : imm;
    const bh = x ? R[s + 16]! : imm >> 31;
    let lo: number;
    let hi = 0;
    switch (op) {
      case 0x34: case 0x3c: lo = off === 1 ? bpfSdiv32(dl, bl) : bpfDiv32(dl, bl); break;
      case 0x94: case 0x9c: lo = off === 1 ? bpfSmod32(dl, bl) : bpfMod32(dl, bl); break;
      case 0xbc: lo = off === 8 ? (bl << 24) >> 24 : off === 16 ? (bl << 16) >> 16 : bl; break; // movsx32
      case 0xbf: lo = off === 8 ? (bl << 24) >> 24 : off === 16 ? (bl << 16) >> 16 : bl; hi = lo >> 31; break; // movsx64
      case 0xdc: case 0xd7: lo = bpfBswap32(dh); hi = bpfBswap32(dl); break; // be64 / bswap64
      case 0x27: case 0x2f: lo = bpfMul64(dl, dh, bl, bh); hi = bpfArith.hi; break;
      case 0x37: case 0x3f: lo = off === 1 ? bpfSdiv64(dl, dh, bl, bh) : bpfDiv64(dl, dh, bl, bh); hi = bpfArith.hi; break;
      case 0x97: case 0x9f: lo = off === 1 ? bpfSmod64(dl, dh, bl, bh) : bpfMod64(dl, dh, bl, bh); hi = bpfArith.hi; break;
      case 0x6f: lo = bpfLsh64(dl, dh, bl); hi = bpfArith.hi; break;
      case 0x7f: lo = bpfRsh64(dl, dh, bl); hi = bpfArith.hi; break;
      case 0xcf: lo = bpfArsh64(dl, dh, bl); hi = bpfArith.hi; break;
      default:
        throw rejected(-1, undefined, `unknown ALU opcode 0x${op.toString(16)}`);
    }
    R[d] = lo;
    R[d + 16] = hi;
  }

  /** Calls a helper; r0 = its result. True when the helper ended the program (env.exit): r0 is then final. */
  private callHelper(id: number, pc: number): boolean {
    const R = this.regs;
    const big = (r: number) => (BigInt(R[r + 16]! >>> 0) << 32n) | BigInt(R[r]! >>> 0);
    let r0: bigint;
    let exited = false;
    try {
      r0 = callBpfHelper(this.program.helpers, this.env, id, pc, big(1), big(2), big(3), big(4), big(5));
    } catch (e) {
      // The exit signal stays inside this frame so the interpreter loop itself needs no try/catch.
      if (!(e instanceof BpfProgramExit)) throw e;
      r0 = e.r0;
      exited = true;
    }
    R[0] = Number(r0 & 0xffffffffn) | 0;
    R[16] = Number(r0 >> 32n) | 0;
    return exited;
  }
}
