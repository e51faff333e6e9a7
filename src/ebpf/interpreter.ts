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
  isBpfBranch,
  type BpfInsn,
} from './isa.js';
import { BpfProgramExit, BpfRuntimeEnv, callBpfHelper, type BpfHelperTable, type BpfMapLike } from './helpers.js';
import { BPF_REGION_CODE, BPF_REGION_FIRST_MAP, BPF_REGION_INPUT, BPF_REGION_MAP_HANDLE, BpfMemory } from './memory.js';
import { INTERP_WORDS, Op, interpDecode, interpResetMask } from './interp-decode.js';

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
  // INTERP_WORDS words per slot, see interp-decode.ts.
  private readonly code: Int32Array;
  // r0..r10: low words at [r], high words at [r + 16].
  private readonly regs = new Int32Array(32);
  // Registers zeroed before each run.
  private readonly resetRegs: Int32Array;
  // Saved r6..r9 (lo, hi), r10 lo and return slot per frame.
  private readonly frames = new Int32Array(BPF_MAX_CALL_DEPTH * 10);
  private readonly stackView: DataView;
  // Set by anything that may write the stack (stores, atomics, helpers); run() zeroes the stack only then.
  private stackDirty = false;
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
    const mask = interpResetMask(this.prepared);
    const regs: number[] = [];
    for (let r = 0; r < 10; r++) if (mask & (1 << r)) regs.push(r);
    this.resetRegs = Int32Array.from(regs);
    this.memory = new BpfMemory(program.mapList);
    this.env = new BpfRuntimeEnv(this.memory, program.mapList);
    this.stackView = this.memory.regions[2]!.view;
  }

  /** Runs over `bytes` (region 1); r1 = its address, r2 = its length. Returns r0. */
  run(bytes: Uint8Array, options?: BpfRunOptions): bigint {
    this.env.traceSink = options?.onTrace;
    if (this.stackDirty) {
      // Every run starts on a zeroed stack; only a run that may have written it leaves work to do.
      this.memory.stack.fill(0);
      this.stackDirty = false;
    }
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
    this.env.traceSink = options?.onTrace;
    this.exec(data, offsets, lengths, count, verdicts, options?.budget ?? BPF_DEFAULT_BUDGET);
    return verdicts;
  }

  /**
   * The interpreter loop over packets [0, count) of a window list into `data`: r1 = the packet (region 1),
   * r2 = its length, r10 = top of frame 0; r0's low word per packet into `verdicts`, the last high word in
   * `lastHi`. Region 1 of `memory` is brought up to date only before slow paths (BpfMemory, helpers).
   */
  private exec(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint32Array, budget: number): void {
    const K = this.code;
    const R = this.regs;
    const { memory, frames, resetRegs, stackView } = this;
    const { funcStart, funcLen } = this.prepared;
    const n = K.length / INTERP_WORDS - 1;
    const stack = memory.stack;
    const STACK = stack.length;
    const nReset = resetRegs.length;
    const dataLen = data.length;
    // Imported bindings are read through cells in optimised code; locals are free.
    const STACK_SIZE = BPF_STACK_SIZE;
    const REGION_INPUT = BPF_REGION_INPUT;
    const MAX_DEPTH = BPF_MAX_CALL_DEPTH;
    let hiOut = 0;
    for (let k = 0; k < count; k++) {
      const ps = offsets[k]!;
      const pe = ps + lengths[k]!;
      if (pe > dataLen) {
        throw new NetworkError('INVALID_ARGUMENT', `packet ${k} (${ps}..${pe}) lies outside the batch data (${dataLen} bytes)`, {
          field: 'offsets',
          expected: dataLen,
          actual: pe,
        });
      }
      for (let j = 0; j < nReset; j++) {
        const r = resetRegs[j]!;
        R[r] = 0;
        R[r + 16] = 0;
      }
      R[1] = ps;
      R[17] = REGION_INPUT;
      R[2] = pe - ps;
      R[18] = 0;
      R[10] = STACK_SIZE;
      R[26] = 2;
      let pc = 0;
      let depth = 0;
      let left = budget;
      let res = 0;
      run: for (;;) {
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
              R[0] = K[pc + 2]!;
              R[16] = K[pc + 3]!;
            }
            if (depth === 0) {
              res = R[0]!;
              hiOut = R[16]!;
              break run;
            }
            depth--;
            {
              const f = depth * 10;
              R[6] = frames[f]!;
              R[22] = frames[f + 1]!;
              R[7] = frames[f + 2]!;
              R[23] = frames[f + 3]!;
              R[8] = frames[f + 4]!;
              R[24] = frames[f + 5]!;
              R[9] = frames[f + 6]!;
              R[25] = frames[f + 7]!;
              R[10] = frames[f + 8]!;
              pc = frames[f + 9]!;
            }
            break;
          case Op.JA:
            pc = K[pc + 3]!;
            break;
          case Op.JBACK: {
            const opc = K[pc + 1]!;
            if ((opc & 0xf0) === 0 || this.cond(opc, d, s, K[pc + 2]!)) {
              const t = K[pc + 3]!;
              left -= ((pc - t) >> 2) + 1;
              if (left < 0) throw bpfBudgetExceeded(pc >> 2, budget);
              pc = t;
            } else pc += 4;
            break;
          }
          case Op.CALL_LOCAL: {
            left -= K[pc + 1]!;
            if (left < 0) throw bpfBudgetExceeded(pc >> 2, budget);
            if (depth + 1 >= MAX_DEPTH) throw bpfCallDepthExceeded(pc >> 2);
            this.pushFrame(depth, pc + 4);
            depth++;
            R[10] = (R[10]! + STACK_SIZE) | 0;
            pc = K[pc + 3]!;
            break;
          }
          case Op.CALL_HELPER:
            memory.setInput(data, ps, pe);
            this.stackDirty = true;
            if (this.callHelper(K[pc + 2]!, pc >> 2)) {
              res = R[0]!;
              hiOut = R[16]!;
              break run;
            }
            pc += 4;
            break;
          case Op.CALLX: {
            const th = R[d + 16]!;
            const tl = R[d]!;
            if (th === (BPF_REGION_CODE | 0) && tl >= 0 && tl < n && funcStart[tl] === tl) {
              left -= funcLen[tl]!;
              if (left < 0) throw bpfBudgetExceeded(pc >> 2, budget);
              if (depth + 1 >= MAX_DEPTH) throw bpfCallDepthExceeded(pc >> 2);
              this.pushFrame(depth, pc + 4);
              depth++;
              R[10] = (R[10]! + STACK_SIZE) | 0;
              pc = tl * INTERP_WORDS;
            } else if (th === 0 && tl >= 0) {
              // A plain number: a helper id (the conformance suite's reading of callx).
              memory.setInput(data, ps, pe);
              this.stackDirty = true;
              if (this.callHelper(tl, pc >> 2)) {
                res = R[0]!;
                hiOut = R[16]!;
                break run;
              }
              pc += 4;
            } else throw bpfBadCallx(pc >> 2, th, tl);
            break;
          }
          case Op.LDDW: {
            const imm = K[pc + 2]!;
            const next = K[pc + 1]!;
            switch (s) {
              case 0: R[d] = imm; R[d + 16] = next; break;
              case 1: case 5: R[d] = imm; R[d + 16] = BPF_REGION_MAP_HANDLE; break;
              case 2: case 6: R[d] = next; R[d + 16] = BPF_REGION_FIRST_MAP + imm; break;
              default: R[d] = (pc >> 2) + 1 + imm; R[d + 16] = BPF_REGION_CODE; break; // src 4: code address pc + 1 + imm
            }
            pc += 8;
            break;
          }
          case Op.ALU_SLOW:
            this.aluSlow(K[pc + 1]!, d, s, K[pc + 3]!, K[pc + 2]!);
            pc += 4;
            break;
          // ---------------- legacy packet loads (big-endian): out of range ends the program with 0 ----------------
          case Op.LDABS_B: case Op.LDABS_H: case Op.LDABS_W:
          case Op.LDIND_B: case Op.LDIND_H: case Op.LDIND_W: {
            const o = (w & 0xff) - Op.LDABS_B;
            const size = o === 0 || o === 3 ? 1 : o === 1 || o === 4 ? 2 : 4;
            const rel = (o >= 3 ? (R[s]! + K[pc + 2]!) | 0 : K[pc + 2]!) >>> 0;
            if (rel + size > pe - ps) {
              res = 0;
              hiOut = 0;
              break run;
            }
            const a = ps + rel;
            R[0] = size === 1 ? data[a]! : size === 2 ? (data[a]! << 8) | data[a + 1]! : (data[a]! << 24) | (data[a + 1]! << 16) | (data[a + 2]! << 8) | data[a + 3]!;
            R[16] = 0;
            pc += 4;
            break;
          }
          // ---------------- loads: packet and stack inline, other regions through BpfMemory ----------------
          case Op.LDXB: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a < pe) v = data[a]!;
            else if (sh === 2 && l >= 0 && a >= 0 && a < STACK) v = stack[a]!;
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 1, pc >> 2);
            }
            R[d] = v;
            R[d + 16] = 0;
            pc += 4;
            break;
          }
          case Op.LDXH: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a + 2 <= pe) v = data[a]! | (data[a + 1]! << 8);
            else if (sh === 2 && l >= 0 && a >= 0 && a + 2 <= STACK) v = stackView.getUint16(a, true);
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 2, pc >> 2);
            }
            R[d] = v;
            R[d + 16] = 0;
            pc += 4;
            break;
          }
          case Op.LDXW: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a + 4 <= pe) v = data[a]! | (data[a + 1]! << 8) | (data[a + 2]! << 16) | (data[a + 3]! << 24);
            else if (sh === 2 && l >= 0 && a >= 0 && a + 4 <= STACK) v = stackView.getInt32(a, true);
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 4, pc >> 2);
            }
            R[d] = v;
            R[d + 16] = 0;
            pc += 4;
            break;
          }
          case Op.LDXDW: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let vl: number;
            let vh: number;
            if (sh === 2 && l >= 0 && a >= 0 && a + 8 <= STACK) {
              vl = stackView.getInt32(a, true);
              vh = stackView.getInt32(a + 4, true);
            } else if (sh === 1 && l >= 0 && a >= ps && a + 8 <= pe) {
              vl = data[a]! | (data[a + 1]! << 8) | (data[a + 2]! << 16) | (data[a + 3]! << 24);
              vh = data[a + 4]! | (data[a + 5]! << 8) | (data[a + 6]! << 16) | (data[a + 7]! << 24);
            } else {
              memory.setInput(data, ps, pe);
              vl = memory.load(sh, (l >>> 0) + K[pc + 1]!, 8, pc >> 2);
              vh = memory.hi;
            }
            R[d] = vl;
            R[d + 16] = vh;
            pc += 4;
            break;
          }
          case Op.LDXSX: {
            // MEMSX: sign-extend to 64 bits
            const size = K[pc + 2]!;
            memory.setInput(data, ps, pe);
            let v = memory.load(R[s + 16]!, (R[s]! >>> 0) + K[pc + 1]!, size, pc >> 2);
            v = size === 1 ? (v << 24) >> 24 : size === 2 ? (v << 16) >> 16 : v | 0;
            R[d] = v;
            R[d + 16] = v >> 31;
            pc += 4;
            break;
          }
          // ---------------- stores: stack inline, other regions through BpfMemory ----------------
          case Op.ST: case Op.STX: {
            const sh = R[d + 16]!;
            const l = R[d]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            const size = K[pc + 2]!;
            const isSt = (w & 0xff) === Op.ST;
            const vl = isSt ? K[pc + 3]! : R[s]!;
            const vh = isSt ? vl >> 31 : R[s + 16]!;
            this.stackDirty = true;
            if (sh === 2 && l >= 0 && a >= 0 && a + size <= STACK) {
              if (size === 1) stack[a] = vl;
              else if (size === 2) stackView.setUint16(a, vl & 0xffff, true);
              else {
                stackView.setInt32(a, vl, true);
                if (size === 8) stackView.setInt32(a + 4, vh, true);
              }
            } else {
              memory.setInput(data, ps, pe);
              memory.store(sh, (l >>> 0) + K[pc + 1]!, size, vl, vh, pc >> 2);
            }
            pc += 4;
            break;
          }
          case Op.ATOMIC: {
            const op = K[pc + 2]!;
            memory.setInput(data, ps, pe);
            this.stackDirty = true;
            const size = K[pc + 3] === 8 ? 8 : 4;
            const ol = memory.atomic(R[d + 16]!, (R[d]! >>> 0) + K[pc + 1]!, size, op, R[s]!, R[s + 16]!, R[0]!, R[16]!, pc >> 2);
            if (op === 0xf1) {
              R[0] = ol;
              R[16] = memory.hi;
            } else if (op & 1) {
              R[s] = ol;
              R[s + 16] = memory.hi;
            }
            pc += 4;
            break;
          }
          // ---------------- ALU (32-bit): result zero-extended ----------------
          case Op.ADD32_K: R[d] = (R[d]! + K[pc + 2]!) | 0; R[d + 16] = 0; pc += 4; break;
          case Op.ADD32_X: R[d] = (R[d]! + R[s]!) | 0; R[d + 16] = 0; pc += 4; break;
          case Op.SUB32_K: R[d] = (R[d]! - K[pc + 2]!) | 0; R[d + 16] = 0; pc += 4; break;
          case Op.SUB32_X: R[d] = (R[d]! - R[s]!) | 0; R[d + 16] = 0; pc += 4; break;
          case Op.MUL32_K: R[d] = Math.imul(R[d]!, K[pc + 2]!); R[d + 16] = 0; pc += 4; break;
          case Op.MUL32_X: R[d] = Math.imul(R[d]!, R[s]!); R[d + 16] = 0; pc += 4; break;
          case Op.OR32_K: R[d] = R[d]! | K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.OR32_X: R[d] = R[d]! | R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.AND32_K: R[d] = R[d]! & K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.AND32_X: R[d] = R[d]! & R[s]!; R[d + 16] = 0; pc += 4; break;
          // JS masks shift counts to 5 bits, as RFC 9669 does for 32-bit shifts
          case Op.LSH32_K: R[d] = R[d]! << K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.LSH32_X: R[d] = R[d]! << R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.RSH32_K: R[d] = R[d]! >>> K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.RSH32_X: R[d] = R[d]! >>> R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.NEG32: R[d] = -R[d]! | 0; R[d + 16] = 0; pc += 4; break;
          case Op.XOR32_K: R[d] = R[d]! ^ K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.XOR32_X: R[d] = R[d]! ^ R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.MOV32_K: R[d] = K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.MOV32_X: R[d] = R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.ARSH32_K: R[d] = R[d]! >> K[pc + 2]!; R[d + 16] = 0; pc += 4; break;
          case Op.ARSH32_X: R[d] = R[d]! >> R[s]!; R[d + 16] = 0; pc += 4; break;
          case Op.BE16: { const v = R[d]!; R[d] = ((v & 0xff) << 8) | ((v >>> 8) & 0xff); R[d + 16] = 0; pc += 4; break; }
          case Op.BE32: { const v = R[d]!; R[d] = (v << 24) | ((v & 0xff00) << 8) | ((v >>> 8) & 0xff00) | (v >>> 24); R[d + 16] = 0; pc += 4; break; }
          case Op.LE16: R[d] = R[d]! & 0xffff; R[d + 16] = 0; pc += 4; break;
          case Op.LE32: R[d + 16] = 0; pc += 4; break;
          case Op.NOP: pc += 4; break;
          // ---------------- ALU64 ----------------
          case Op.ADD64_K: case Op.ADD64_X: {
            const x = (w & 0xff) === Op.ADD64_X;
            const bl = x ? R[s]! : K[pc + 2]!;
            const bh = x ? R[s + 16]! : bl >> 31;
            const al = R[d]!;
            const t = (al + bl) | 0;
            R[d] = t;
            R[d + 16] = (R[d + 16]! + bh + (t >>> 0 < al >>> 0 ? 1 : 0)) | 0; // carry
            pc += 4;
            break;
          }
          case Op.SUB64_K: case Op.SUB64_X: {
            const x = (w & 0xff) === Op.SUB64_X;
            const bl = x ? R[s]! : K[pc + 2]!;
            const bh = x ? R[s + 16]! : bl >> 31;
            const al = R[d]!;
            R[d] = (al - bl) | 0;
            R[d + 16] = (R[d + 16]! - bh - (al >>> 0 < bl >>> 0 ? 1 : 0)) | 0; // borrow
            pc += 4;
            break;
          }
          case Op.OR64_K: { const m = K[pc + 2]!; R[d] = R[d]! | m; R[d + 16] = R[d + 16]! | (m >> 31); pc += 4; break; }
          case Op.OR64_X: R[d] = R[d]! | R[s]!; R[d + 16] = R[d + 16]! | R[s + 16]!; pc += 4; break;
          case Op.AND64_K: { const m = K[pc + 2]!; R[d] = R[d]! & m; R[d + 16] = R[d + 16]! & (m >> 31); pc += 4; break; }
          case Op.AND64_X: R[d] = R[d]! & R[s]!; R[d + 16] = R[d + 16]! & R[s + 16]!; pc += 4; break;
          case Op.XOR64_K: { const m = K[pc + 2]!; R[d] = R[d]! ^ m; R[d + 16] = R[d + 16]! ^ (m >> 31); pc += 4; break; }
          case Op.XOR64_X: R[d] = R[d]! ^ R[s]!; R[d + 16] = R[d + 16]! ^ R[s + 16]!; pc += 4; break;
          case Op.MOV64_K: { const m = K[pc + 2]!; R[d] = m; R[d + 16] = m >> 31; pc += 4; break; }
          case Op.MOV64_X: R[d] = R[s]!; R[d + 16] = R[s + 16]!; pc += 4; break;
          case Op.NEG64: {
            const l = R[d]!;
            R[d] = -l;
            R[d + 16] = ~R[d + 16]! + (l === 0 ? 1 : 0);
            pc += 4;
            break;
          }
          case Op.LSH64_K: R[d] = bpfLsh64(R[d]!, R[d + 16]!, K[pc + 2]!); R[d + 16] = bpfArith.hi; pc += 4; break;
          case Op.RSH64_K: R[d] = bpfRsh64(R[d]!, R[d + 16]!, K[pc + 2]!); R[d + 16] = bpfArith.hi; pc += 4; break;
          case Op.ARSH64_K: R[d] = bpfArsh64(R[d]!, R[d + 16]!, K[pc + 2]!); R[d + 16] = bpfArith.hi; pc += 4; break;
          // ---------------- forward conditional jumps (backward ones are JBACK) ----------------
          case Op.JEQ_K: { const bl = K[pc + 2]!, bh = bl >> 31; pc = R[d] === bl && R[d + 16] === bh ? K[pc + 3]! : pc + 4; break; }
          case Op.JEQ_X: { const bl = R[s]!, bh = R[s + 16]!; pc = R[d] === bl && R[d + 16] === bh ? K[pc + 3]! : pc + 4; break; }
          case Op.JNE_K: { const bl = K[pc + 2]!, bh = bl >> 31; pc = R[d] !== bl || R[d + 16] !== bh ? K[pc + 3]! : pc + 4; break; }
          case Op.JNE_X: { const bl = R[s]!, bh = R[s + 16]!; pc = R[d] !== bl || R[d + 16] !== bh ? K[pc + 3]! : pc + 4; break; }
          case Op.JSET_K: { const bl = K[pc + 2]!, bh = bl >> 31; pc = (R[d]! & bl) !== 0 || (R[d + 16]! & bh) !== 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.JSET_X: { const bl = R[s]!, bh = R[s + 16]!; pc = (R[d]! & bl) !== 0 || (R[d + 16]! & bh) !== 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.JGT_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JGT_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JGE_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JGE_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah >>> 0 > bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JLT_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JLT_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JLE_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JLE_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah >>> 0 < bh >>> 0) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSGT_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah > bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSGT_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 > bl >>> 0 : ah > bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSGE_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah > bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSGE_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 >= bl >>> 0 : ah > bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSLT_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah < bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSLT_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 < bl >>> 0 : ah < bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSLE_K: { const bl = K[pc + 2]!, bh = bl >> 31, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah < bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.JSLE_X: { const bl = R[s]!, bh = R[s + 16]!, ah = R[d + 16]!; pc = (ah === bh ? R[d]! >>> 0 <= bl >>> 0 : ah < bh) ? K[pc + 3]! : pc + 4; break; }
          case Op.J32EQ_K: { const b = K[pc + 2]!; pc = R[d] === b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32EQ_X: { const b = R[s]!; pc = R[d] === b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32NE_K: { const b = K[pc + 2]!; pc = R[d] !== b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32NE_X: { const b = R[s]!; pc = R[d] !== b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SET_K: { const b = K[pc + 2]!; pc = (R[d]! & b) !== 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SET_X: { const b = R[s]!; pc = (R[d]! & b) !== 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32GT_K: { const b = K[pc + 2]!; pc = R[d]! >>> 0 > b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32GT_X: { const b = R[s]!; pc = R[d]! >>> 0 > b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32GE_K: { const b = K[pc + 2]!; pc = R[d]! >>> 0 >= b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32GE_X: { const b = R[s]!; pc = R[d]! >>> 0 >= b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32LT_K: { const b = K[pc + 2]!; pc = R[d]! >>> 0 < b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32LT_X: { const b = R[s]!; pc = R[d]! >>> 0 < b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32LE_K: { const b = K[pc + 2]!; pc = R[d]! >>> 0 <= b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32LE_X: { const b = R[s]!; pc = R[d]! >>> 0 <= b >>> 0 ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SGT_K: { const b = K[pc + 2]!; pc = R[d]! > b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SGT_X: { const b = R[s]!; pc = R[d]! > b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SGE_K: { const b = K[pc + 2]!; pc = R[d]! >= b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SGE_X: { const b = R[s]!; pc = R[d]! >= b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SLT_K: { const b = K[pc + 2]!; pc = R[d]! < b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SLT_X: { const b = R[s]!; pc = R[d]! < b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SLE_K: { const b = K[pc + 2]!; pc = R[d]! <= b ? K[pc + 3]! : pc + 4; break; }
          case Op.J32SLE_X: { const b = R[s]!; pc = R[d]! <= b ? K[pc + 3]! : pc + 4; break; }
          // ---------------- superinstructions (interp-decode.ts): every register write of the sequence ----------------
          case Op.LDXB_JEQ: case Op.LDXB_JNE: case Op.LDXB_JSET: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a < pe) v = data[a]!;
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 1, pc >> 2);
            }
            R[d] = v;
            R[d + 16] = 0;
            const o = (w & 0xff) - Op.LDXB_JEQ;
            const m = K[pc + 2]!;
            pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc + 3]! : pc + 8;
            break;
          }
          case Op.LDXH_JEQ: case Op.LDXH_JNE: case Op.LDXH_JSET: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a + 2 <= pe) v = data[a]! | (data[a + 1]! << 8);
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 2, pc >> 2);
            }
            R[d] = v;
            R[d + 16] = 0;
            const o = (w & 0xff) - Op.LDXH_JEQ;
            const m = K[pc + 2]!;
            pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc + 3]! : pc + 8;
            break;
          }
          case Op.LDXHBE_JEQ: case Op.LDXHBE_JNE: case Op.LDXHBE_JSET: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a + 2 <= pe) v = (data[a]! << 8) | data[a + 1]!;
            else {
              memory.setInput(data, ps, pe);
              const le = memory.load(sh, (l >>> 0) + K[pc + 1]!, 2, pc >> 2);
              v = ((le & 0xff) << 8) | (le >>> 8);
            }
            R[d] = v;
            R[d + 16] = 0;
            const o = (w & 0xff) - Op.LDXHBE_JEQ;
            const m = K[pc + 2]!;
            pc = (o === 0 ? v === m : o === 1 ? v !== m : (v & m) !== 0) ? K[pc + 3]! : pc + 12;
            break;
          }
          case Op.LDXHBE: {
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a + 2 <= pe) v = (data[a]! << 8) | data[a + 1]!;
            else {
              memory.setInput(data, ps, pe);
              const le = memory.load(sh, (l >>> 0) + K[pc + 1]!, 2, pc >> 2);
              v = ((le & 0xff) << 8) | (le >>> 8);
            }
            R[d] = v;
            R[d + 16] = 0;
            pc += 8;
            break;
          }
          case Op.LDXB_MSH: {
            // ldxb d, [s + off]; and d, 0xf; lsh d, 2 — the IPv4 header length in bytes
            const sh = R[s + 16]!;
            const l = R[s]!;
            const a = (l + K[pc + 1]!) | 0; // == the unsigned address when l >= 0 and it lies in [0, 2^31)
            let v: number;
            if (sh === 1 && l >= 0 && a >= ps && a < pe) v = data[a]!;
            else {
              memory.setInput(data, ps, pe);
              v = memory.load(sh, (l >>> 0) + K[pc + 1]!, 1, pc >> 2);
            }
            R[d] = (v & 0xf) << 2;
            R[d + 16] = 0;
            pc += 12;
            break;
          }
          case Op.LEA64: {
            // mov d, s; add d, imm
            const m = K[pc + 2]!;
            const sl = R[s]!;
            const t = (sl + m) | 0;
            const h = (R[s + 16]! + (m >> 31) + (t >>> 0 < sl >>> 0 ? 1 : 0)) | 0;
            R[d] = t;
            R[d + 16] = h;
            pc += 8;
            break;
          }
          case Op.LEA32: R[d] = (R[s]! + K[pc + 2]!) | 0; R[d + 16] = 0; pc += 8; break;
          default:
            throw rejected(pc >> 2, this.program.insns[pc >> 2], `unknown internal opcode ${w & 0xff}`);
        }
      }
      verdicts[k] = res;
    }
    this.lastHi = hiOut;
  }

  /** Saves r6..r9, r10 and the return slot of frame `depth`. */
  private pushFrame(depth: number, ret: number): void {
    const R = this.regs;
    const f = depth * 10;
    const frames = this.frames;
    frames[f] = R[6]!;
    frames[f + 1] = R[22]!;
    frames[f + 2] = R[7]!;
    frames[f + 3] = R[23]!;
    frames[f + 4] = R[8]!;
    frames[f + 5] = R[24]!;
    frames[f + 6] = R[9]!;
    frames[f + 7] = R[25]!;
    frames[f + 8] = R[10]!;
    frames[f + 9] = ret;
  }

  /** A conditional jump's condition (JMP or JMP32 `opcode`), for the generic backward jump. */
  private cond(opcode: number, d: number, s: number, imm: number): boolean {
    const R = this.regs;
    const x = (opcode & 8) !== 0;
    const al = R[d]!;
    let ah = R[d + 16]!;
    const bl = x ? R[s]! : imm;
    let bh = x ? R[s + 16]! : imm >> 31;
    if ((opcode & 7) === 6) {
      // JMP32: compare the low words; sign-extended for the signed comparisons, zero high words otherwise
      const signed = (opcode & 0xf0) >= 0x60 && (opcode & 0xf0) !== 0xa0 && (opcode & 0xf0) !== 0xb0;
      ah = signed ? al >> 31 : 0;
      bh = signed ? bl >> 31 : 0;
    }
    switch (opcode & 0xf0) {
      case 0x10: return al === bl && ah === bh;
      case 0x50: return al !== bl || ah !== bh;
      case 0x40: return (al & bl) !== 0 || (ah & bh) !== 0;
      case 0x20: return bpfGtU64(al, ah, bl, bh);
      case 0x30: return !bpfGtU64(bl, bh, al, ah);
      case 0xa0: return bpfGtU64(bl, bh, al, ah);
      case 0xb0: return !bpfGtU64(al, ah, bl, bh);
      case 0x60: return bpfGtS64(al, ah, bl, bh);
      case 0x70: return !bpfGtS64(bl, bh, al, ah);
      case 0xc0: return bpfGtS64(bl, bh, al, ah);
      case 0xd0: return !bpfGtS64(al, ah, bl, bh);
      default:
        throw rejected(-1, undefined, `unknown jump 0x${opcode.toString(16)}`);
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
