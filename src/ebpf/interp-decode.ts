/**
 * The interpreter's pre-decoder: eBPF slots → a dense internal opcode space in one Int32Array, four words a
 * slot, so the dispatch loop (interpreter.ts) does one table switch per executed (super)instruction and no
 * decoding. Used only by the interpreter.
 *
 * Word 0 = internal op | dst << 8 | src << 12; words 1–3 per op (see {@link Op}). Jump targets are stored
 * pre-multiplied by 4 (slot index into the code array).
 *
 * Specialisations chosen here, all exact:
 * - forward conditional jumps get one op per condition, width and operand kind (no budget test: only taken
 *   backward jumps charge the budget); backward jumps go through one generic op that charges it;
 * - superinstructions for frequent sequences of packet filters: load + (byte swap) + compare-and-branch,
 *   `ldxb; and 0xf; lsh 2` (the IPv4 header length, cBPF's MSH), `mov; add imm`, `mov r0, imm; exit`,
 *   two moves in a row.
 *   A fused op performs every register write of the sequence it replaces; the slots inside it keep their
 *   own decoding, so jumps into the middle of a sequence run as before;
 * - a `ja` forward to an `exit` is an `exit`.
 *
 * It also computes which registers the entry function may read before writing them ({@link interpResetMask}):
 * only those must be zeroed before each run, the others are provably overwritten first.
 */
import {
  BPF_LDDW_OPCODE,
  BPF_PSEUDO_CALL,
  bpfBranchOffset,
  isBpfBranch,
  type BpfInsn,
} from './isa.js';
import type { BpfPreparedCode } from './interpreter.js';

/** Internal opcodes. Words: w1, w2, w3 as noted (d = dst, s = src of word 0). */
export const enum Op {
  /** Off the end of the program (the sentinel slot; LDDW second slots, never reached). */
  FELL = 0,
  EXIT = 1,
  /** Forward ja: w3 = target. */
  JA = 2,
  /** Any taken-backward-capable jump (ja, ja32, conditional): w1 = eBPF opcode, w2 = imm, w3 = target. */
  JBACK = 3,
  /** Local call: w1 = callee length (budget charge), w3 = target. */
  CALL_LOCAL = 4,
  CALLX = 6,
  /** w1 = next slot's imm, w2 = imm (s = pseudo source). */
  LDDW = 7,
  /**
   * Run by the interpreter's step() as the original instruction: helper calls, atomics, sign-extending loads,
   * div/mod, 64-bit mul, shifts by register, movsx, 64-bit byte swaps.
   */
  SLOW = 8,
  /** Legacy packet loads: w2 = imm. */
  LDABS_B = 9,
  LDABS_H = 10,
  LDABS_W = 11,
  LDIND_B = 12,
  LDIND_H = 13,
  LDIND_W = 14,
  /** ldx: w1 = off. */
  LDXB = 15,
  LDXH = 16,
  LDXW = 17,
  LDXDW = 18,
  /** st (imm) / stx: w1 = off, w2 = size, w3 = imm (st). */
  ST = 20,
  STX = 21,
  // ALU32: w2 = imm
  ADD32_K = 23, ADD32_X = 24, SUB32_K = 25, SUB32_X = 26, MUL32_K = 27, MUL32_X = 28,
  OR32_K = 29, OR32_X = 30, AND32_K = 31, AND32_X = 32, LSH32_K = 33, LSH32_X = 34,
  RSH32_K = 35, RSH32_X = 36, NEG32 = 37, XOR32_K = 38, XOR32_X = 39, MOV32_K = 40, MOV32_X = 41,
  ARSH32_K = 42, ARSH32_X = 43,
  /** be16 / bswap16, be32 / bswap32, le16, le32 (truncate), le64 (no-op). */
  BE16 = 44, BE32 = 45, LE16 = 46, LE32 = 47, NOP = 48,
  // ALU64: w2 = imm
  ADD64_K = 49, ADD64_X = 50, SUB64_K = 51, SUB64_X = 52, OR64_K = 53, OR64_X = 54,
  AND64_K = 55, AND64_X = 56, XOR64_K = 57, XOR64_X = 58, MOV64_K = 59, MOV64_X = 60, NEG64 = 61,
  /** 64-bit shifts by a constant: w2 = count & 63. */
  LSH64_K = 62, RSH64_K = 63, ARSH64_K = 64,
  // forward conditional jumps, 64-bit then 32-bit: w2 = imm, w3 = target
  JEQ_K = 65, JEQ_X = 66, JNE_K = 67, JNE_X = 68, JSET_K = 69, JSET_X = 70, JGT_K = 71, JGT_X = 72,
  JGE_K = 73, JGE_X = 74, JLT_K = 75, JLT_X = 76, JLE_K = 77, JLE_X = 78, JSGT_K = 79, JSGT_X = 80,
  JSGE_K = 81, JSGE_X = 82, JSLT_K = 83, JSLT_X = 84, JSLE_K = 85, JSLE_X = 86,
  J32EQ_K = 87, J32EQ_X = 88, J32NE_K = 89, J32NE_X = 90, J32SET_K = 91, J32SET_X = 92, J32GT_K = 93,
  J32GT_X = 94, J32GE_K = 95, J32GE_X = 96, J32LT_K = 97, J32LT_X = 98, J32LE_K = 99, J32LE_X = 100,
  J32SGT_K = 101, J32SGT_X = 102, J32SGE_K = 103, J32SGE_X = 104, J32SLT_K = 105, J32SLT_X = 106,
  J32SLE_K = 107, J32SLE_X = 108,
  // superinstructions: load (d ← [s + w1]) + compare d with w2 + forward jump to w3
  LDXB_JEQ = 109, LDXB_JNE = 110, LDXB_JSET = 111,
  LDXH_JEQ = 112, LDXH_JNE = 113, LDXH_JSET = 114,
  /** ldxh; be16 (same register); compare. */
  LDXHBE_JEQ = 115, LDXHBE_JNE = 116, LDXHBE_JSET = 117,
  /** ldxh; be16: w1 = off. */
  LDXHBE = 118,
  /** ldxb d, [s + w1]; and d, 0xf; lsh d, 2. */
  LDXB_MSH = 120,
  /** mov d, s; add d, w2 (64-bit / 32-bit). */
  LEA64 = 121, LEA32 = 122,
  /** mov r0, imm; exit (or ja to exit): w2 = r0 low word, w3 = r0 high word. */
  RET_K = 123,
  /**
   * Two register moves (mov / mov32, register or immediate; e.g. the classic-BPF prologue): the first as a
   * plain op (d, s, w1 = imm), the second in w3 = d2 | s2 << 4 | kind1 << 8 | kind2 << 10 with w2 = its imm.
   * kind: 0 mov64 reg, 1 mov64 imm, 2 mov32 reg, 3 mov32 imm.
   */
  MOV2 = 124,
}

/** The MOV2 kind of a plain move, or -1. */
function movKind(i: BpfInsn): number {
  if (i.opcode === 0xbf && i.off === 0) return 0;
  if (i.opcode === 0xb7) return 1;
  if (i.opcode === 0xbc && i.off === 0) return 2;
  if (i.opcode === 0xb4) return 3;
  return -1;
}

/** Words per slot. */
export const INTERP_WORDS = 4;

/**
 * The interpreter keeps registers, call frames and code in ONE Int32Array: V8 re-checks a typed array's map
 * and reloads its length and data pointer at every access in the dispatch loop, so one array instead of
 * three saves those loads in every handler.
 */
export const enum Layout {
  /** r's low word at r, its high word at r | 16 (r0..r10). */
  REGS = 0,
  /** Saved r6..r9 (lo, hi), r10 lo and the return position: 10 words per frame, BPF_MAX_CALL_DEPTH frames. */
  FRAMES = 32,
  /** Slot pc's words at CODE + 4 pc. */
  CODE = 112,
}

const BIT = (r: number): number => 1 << r;
/** r0..r9 (r10 is set before every run). */
const ALL_REGS = 0x3ff;

/** Registers an instruction reads and writes (bit masks over r0..r10), for {@link interpResetMask}. */
function usesDefs(insn: BpfInsn): [number, number] {
  const { opcode, dst, src } = insn;
  const cls = opcode & 7;
  const x = (opcode & 8) !== 0;
  const d = BIT(dst);
  const s = BIT(src);
  switch (cls) {
    case 4: // ALU
    case 7: {
      // ALU64
      const o = opcode & 0xf0;
      if (o === 0xb0) return [x ? s : 0, d]; // mov / movsx
      if (o === 0xd0 || o === 0x80) return [d, d]; // end / neg
      return [d | (x ? s : 0), d];
    }
    case 5: // JMP
    case 6: {
      // JMP32
      const o = opcode & 0xf0;
      if (o === 0x00) return [0, 0]; // ja
      if (o === 0x90) return [BIT(0), 0]; // exit
      if (o === 0x80) {
        // helper call: reads r1..r5, sets r0; a local call or callx may read anything (callee's view).
        if (!x && src !== BPF_PSEUDO_CALL) return [0x3e, BIT(0)];
        return [ALL_REGS | d, 0];
      }
      return [d | (x ? s : 0), 0];
    }
    case 0: // LD: lddw, or legacy packet loads (set r0; IND reads src)
      if (opcode === BPF_LDDW_OPCODE) return [0, d];
      return [(opcode & 0xe0) === 0x40 ? s : 0, BIT(0)];
    case 1: // LDX
      return [s, d];
    case 2: // ST
      return [d, 0];
    default:
      // STX, atomics (a fetch writes src, cmpxchg reads and writes r0: counted as reads only)
      return [d | s | ((opcode & 0xe0) === 0xc0 ? BIT(0) : 0), 0];
  }
}

/**
 * Registers (mask over r0..r9) that the program may read before it writes them in a run, by a forward
 * "definitely written" data flow over the entry function (intersection at joins). Calls count as reading every
 * register, so whatever a callee may see is covered. r1, r2 and r10 are set before each run anyway.
 */
export function interpResetMask(prepared: BpfPreparedCode): number {
  const { insns, lddwSecond } = prepared;
  const n = insns.length;
  const written = new Int32Array(n).fill(-1); // -1: not reached yet
  written[0] = BIT(1) | BIT(2) | BIT(10);
  let reset = 0;
  let changed = true;
  while (changed) {
    changed = false;
    for (let pc = 0; pc < n; pc++) {
      const inSet = written[pc]!;
      if (inSet === -1 || lddwSecond[pc]) continue;
      const insn = insns[pc]!;
      const [uses, defs] = usesDefs(insn);
      reset |= uses & ~inSet;
      const out = inSet | defs;
      const flow = (t: number): void => {
        if (t < 0 || t >= n) return;
        const cur = written[t]!;
        const next = cur === -1 ? out : cur & out;
        if (next !== cur) {
          written[t] = next;
          if (t <= pc) changed = true; // a back edge: sweep again
        }
      };
      const cls = insn.opcode & 7;
      const o = insn.opcode & 0xf0;
      if ((cls === 5 || cls === 6) && o === 0x90) continue; // exit
      if (isBpfBranch(insn)) {
        flow(pc + 1 + bpfBranchOffset(insn));
        if (o === 0x00) continue; // ja: no fall-through
      }
      flow(pc + (insn.opcode === BPF_LDDW_OPCODE ? 2 : 1));
    }
  }
  return reset & ALL_REGS & ~(BIT(1) | BIT(2));
}

const COND = [0x10, 0x50, 0x40, 0x20, 0x30, 0xa0, 0xb0, 0x60, 0x70, 0xc0, 0xd0];
/** Internal op of a forward conditional jump (64-bit K form; +1 for X, +22 for JMP32). */
const COND_OP = new Map<number, number>(COND.map((c, i) => [c, Op.JEQ_K + 2 * i]));

const isExitInsn = (i: BpfInsn | undefined): boolean => i !== undefined && i.opcode === 0x95;

/** Pre-decodes a prepared program (see module doc) into the {@link Layout}; one extra sentinel slot ({@link Op.FELL}) ends the code. */
export function interpDecode(prepared: BpfPreparedCode): Int32Array {
  const { insns, funcStart, funcLen, lddwSecond } = prepared;
  const n = insns.length;
  const K = new Int32Array(Layout.CODE + (n + 1) * INTERP_WORDS);
  // The slot at `pc` when it is an instruction of the function of `from` (fused sequences stay in one).
  const at = (pc: number, from: number): BpfInsn | undefined =>
    pc < n && !lddwSecond[pc] && funcStart[pc] === funcStart[from] ? insns[pc] : undefined;
  // Slots that act as `exit`: exit itself, or a forward ja (chain) ending on one.
  const exitLike = new Uint8Array(n + 1);
  for (let pc = n - 1; pc >= 0; pc--) {
    const i = insns[pc]!;
    if (lddwSecond[pc]) continue;
    if (isExitInsn(i)) exitLike[pc] = 1;
    else if (i.opcode === 0x05 && i.off >= 0) exitLike[pc] = exitLike[pc + 1 + i.off]!;
    else if (i.opcode === 0x06 && i.imm >= 0) exitLike[pc] = exitLike[pc + 1 + i.imm]!;
  }
  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const insn = insns[pc]!;
    const [op, w1, w2, w3] = decodeOne(insn, pc);
    const b = Layout.CODE + pc * INTERP_WORDS;
    K[b] = op | (insn.dst << 8) | (insn.src << 12);
    K[b + 1] = w1;
    K[b + 2] = w2;
    K[b + 3] = w3;
    const fused = fuse(pc);
    if (fused !== null) {
      K[b] = fused[0] | (insn.dst << 8) | (insn.src << 12);
      K[b + 1] = fused[1];
      K[b + 2] = fused[2];
      K[b + 3] = fused[3];
    }
  }
  return K;

  function decodeOne(insn: BpfInsn, pc: number): [number, number, number, number] {
    const { opcode, src, off, imm } = insn;
    const cls = opcode & 7;
    const o = opcode & 0xf0;
    const x = (opcode & 8) !== 0;
    switch (cls) {
      case 4: {
        if (o === 0xd0) {
          // end: be (0xdc) swaps, le (0xd4) truncates; both zero the high word below 64
          if (opcode === 0xdc) return imm === 16 ? [Op.BE16, 0, 0, 0] : imm === 32 ? [Op.BE32, 0, 0, 0] : [Op.SLOW, 0, 0, 0];
          return imm === 16 ? [Op.LE16, 0, 0, 0] : imm === 32 ? [Op.LE32, 0, 0, 0] : [Op.NOP, 0, 0, 0];
        }
        if (o === 0xb0 && x && off !== 0) return [Op.SLOW, 0, 0, 0]; // movsx32
        const simple: Record<number, number> = {
          0x00: Op.ADD32_K, 0x10: Op.SUB32_K, 0x20: Op.MUL32_K, 0x40: Op.OR32_K, 0x50: Op.AND32_K, 0x60: Op.LSH32_K,
          0x70: Op.RSH32_K, 0xa0: Op.XOR32_K, 0xb0: Op.MOV32_K, 0xc0: Op.ARSH32_K,
        };
        if (o === 0x80) return [Op.NEG32, 0, 0, 0];
        const k = simple[o];
        if (k !== undefined) return [k + (x ? 1 : 0), 0, imm, 0];
        return [Op.SLOW, 0, 0, 0]; // div / mod
      }
      case 7: {
        if (o === 0xd0) {
          // bswap (ALU64 END): unconditional swap
          return imm === 16 ? [Op.BE16, 0, 0, 0] : imm === 32 ? [Op.BE32, 0, 0, 0] : [Op.SLOW, 0, 0, 0];
        }
        if (o === 0xb0 && x && off !== 0) return [Op.SLOW, 0, 0, 0]; // movsx64
        const simple: Record<number, number> = {
          0x00: Op.ADD64_K, 0x10: Op.SUB64_K, 0x40: Op.OR64_K, 0x50: Op.AND64_K, 0xa0: Op.XOR64_K, 0xb0: Op.MOV64_K,
        };
        if (o === 0x80) return [Op.NEG64, 0, 0, 0];
        const k = simple[o];
        if (k !== undefined) return [k + (x ? 1 : 0), 0, imm, 0];
        if (!x && o === 0x60) return [Op.LSH64_K, 0, imm & 63, 0];
        if (!x && o === 0x70) return [Op.RSH64_K, 0, imm & 63, 0];
        if (!x && o === 0xc0) return [Op.ARSH64_K, 0, imm & 63, 0];
        return [Op.SLOW, 0, 0, 0]; // mul / div / mod / shifts by register
      }
      case 5:
      case 6: {
        if (o === 0x90) return [Op.EXIT, 0, 0, 0];
        if (o === 0x80) {
          if (x) return [Op.CALLX, 0, 0, 0];
          if (src === BPF_PSEUDO_CALL) {
            const t = pc + 1 + imm;
            return [Op.CALL_LOCAL, funcLen[funcStart[t]!]!, 0, t * INTERP_WORDS + Layout.CODE];
          }
          return [Op.SLOW, 0, 0, 0]; // helper call
        }
        const target = pc + 1 + bpfBranchOffset(insn);
        if (target <= pc) return [Op.JBACK, opcode, imm, target * INTERP_WORDS + Layout.CODE];
        if (o === 0x00) return exitLike[target] ? [Op.EXIT, 0, 0, 0] : [Op.JA, 0, 0, target * INTERP_WORDS + Layout.CODE];
        const base = COND_OP.get(o)!;
        return [base + (x ? 1 : 0) + (cls === 6 ? 22 : 0), 0, imm, target * INTERP_WORDS + Layout.CODE];
      }
      case 0: {
        if (opcode === BPF_LDDW_OPCODE) return [Op.LDDW, insns[pc + 1]!.imm, imm, 0];
        const size = opcode & 0x18; // W 0x00, H 0x08, B 0x10
        const base = (opcode & 0xe0) === 0x40 ? Op.LDIND_B : Op.LDABS_B;
        return [base + (size === 0x10 ? 0 : size === 0x08 ? 1 : 2), 0, imm, 0];
      }
      case 1: {
        const size = opcode & 0x18;
        if ((opcode & 0xe0) === 0x80) return [Op.SLOW, 0, 0, 0]; // sign-extending loads
        return [size === 0x10 ? Op.LDXB : size === 0x08 ? Op.LDXH : size === 0x00 ? Op.LDXW : Op.LDXDW, off, 0, 0];
      }
      default: {
        const size = (opcode & 0x18) === 0x18 ? 8 : (opcode & 0x18) === 0x00 ? 4 : (opcode & 0x18) === 0x08 ? 2 : 1;
        if (cls === 2) return [Op.ST, off, size, imm];
        if ((opcode & 0xe0) === 0xc0) return [Op.SLOW, 0, 0, 0]; // atomics
        return [Op.STX, off, size, 0];
      }
    }
  }

  /** A superinstruction starting at pc, or null. */
  function fuse(pc: number): [number, number, number, number] | null {
    const a = insns[pc]!;
    const b = at(pc + 1, pc);
    if (b === undefined) return null;
    const c = at(pc + 2, pc);
    const d = a.dst;
    // mov r0, imm; exit (or a forward ja to an exit)
    if ((a.opcode === 0xb7 || a.opcode === 0xb4) && d === 0 && exitLike[pc + 1]) {
      return [Op.RET_K, 0, a.imm, a.opcode === 0xb7 ? a.imm >> 31 : 0];
    }
    // mov d, s; add d, imm (same width, plain mov)
    if ((a.opcode === 0xbf || a.opcode === 0xbc) && a.off === 0 && b.opcode === (a.opcode === 0xbf ? 0x07 : 0x04) && b.dst === d) {
      return [a.opcode === 0xbf ? Op.LEA64 : Op.LEA32, 0, b.imm, 0];
    }
    // two moves
    const k1 = movKind(a);
    const k2 = movKind(b);
    if (k1 >= 0 && k2 >= 0) return [Op.MOV2, a.imm, b.imm, b.dst | (b.src << 4) | (k1 << 8) | (k2 << 10)];
    if (a.opcode !== 0x71 && a.opcode !== 0x69) return null;
    // ldxb d; and d, 0xf; lsh d, 2 (either width: the value is below 256, its high word 0 throughout)
    if (a.opcode === 0x71 && c !== undefined && (b.opcode === 0x57 || b.opcode === 0x54) && b.dst === d && b.imm === 0xf &&
        (c.opcode === 0x67 || c.opcode === 0x64) && c.dst === d && c.imm === 2) {
      return [Op.LDXB_MSH, a.off, 0, 0];
    }
    let swap = false;
    let j = b;
    let len = 2;
    if (a.opcode === 0x69 && b.opcode === 0xdc && b.imm === 16 && b.dst === d) {
      swap = true;
      if (c === undefined) return [Op.LDXHBE, a.off, 0, 0];
      j = c;
      len = 3;
    }
    const cmp = fusedCompare(j, d);
    if (cmp === null) return swap ? [Op.LDXHBE, a.off, 0, 0] : null;
    const base = swap ? Op.LDXHBE_JEQ : a.opcode === 0x71 ? Op.LDXB_JEQ : Op.LDXH_JEQ;
    return [base + cmp, a.off, j.imm, (pc + len + j.off) * INTERP_WORDS + Layout.CODE];
  }

  /**
   * 0/1/2 for a forward jeq/jne/jset of register `d` against an immediate at `jpc` whose result on a value with
   * a zero high word is the plain 32-bit comparison; null otherwise. (64-bit eq/ne against a negative imm
   * compare with a high word of all ones: not fused.)
   */
  function fusedCompare(j: BpfInsn, d: number): number | null {
    if (j.dst !== d || j.off < 0) return null;
    const o = j.opcode;
    if (o === 0x16 || (o === 0x15 && j.imm >= 0)) return 0;
    if (o === 0x56 || (o === 0x55 && j.imm >= 0)) return 1;
    if (o === 0x46 || o === 0x45) return 2;
    return null;
  }
}
