/**
 * The eBPF instruction set of RFC 9669 ("BPF Instruction Set Architecture"), plus the legacy packet loads.
 *
 * A program is a `BpfInsn[]` with ONE ENTRY PER 8-BYTE SLOT, exactly as RFC 9669 counts the pc: the 64-bit
 * immediate load (LDDW, opcode 0x18) takes two entries; the second has opcode 0 and carries the high 32 bits
 * of the immediate in its `imm`. Jump offsets are in slots, relative to the slot after the jump.
 *
 * Wire format (RFC 9669 §3): little-endian, `opcode:8 | dst:4 (low nibble) | src:4 (high nibble) | off:16 | imm:32`.
 *
 * This module is pure data: constants, encode/decode and a field validator ({@link bpfInsnProblem}) that the
 * verifier, the engines and the disassembler share. It throws NetworkError (code INVALID_ARGUMENT for bad
 * arguments, PARSE_ERROR for undecodable bytes) and never anything else.
 */
import { NetworkError } from '../errors.js';

/** One 8-byte instruction slot. `off` is a signed 16-bit value, `imm` a signed 32-bit value. */
export interface BpfInsn {
  opcode: number;
  dst: number;
  src: number;
  off: number;
  imm: number;
}

// ---- Instruction classes (RFC 9669 §3.1: the low 3 bits of the opcode) ----
export const BPF_LD = 0x00;
export const BPF_LDX = 0x01;
export const BPF_ST = 0x02;
export const BPF_STX = 0x03;
export const BPF_ALU = 0x04;
export const BPF_JMP = 0x05;
export const BPF_JMP32 = 0x06;
export const BPF_ALU64 = 0x07;

// ---- Source bit for arithmetic and jumps (§3.2): K = use imm, X = use src register ----
export const BPF_K = 0x00;
export const BPF_X = 0x08;
/** For the END op in class ALU the source bit selects the target byte order (§4.2). */
export const BPF_TO_LE = 0x00;
export const BPF_TO_BE = 0x08;

// ---- Arithmetic operations (§4.1; the high 4 bits of the opcode) ----
export const BPF_ADD = 0x00;
export const BPF_SUB = 0x10;
export const BPF_MUL = 0x20;
export const BPF_DIV = 0x30;
export const BPF_OR = 0x40;
export const BPF_AND = 0x50;
export const BPF_LSH = 0x60;
export const BPF_RSH = 0x70;
export const BPF_NEG = 0x80;
export const BPF_MOD = 0x90;
export const BPF_XOR = 0xa0;
export const BPF_MOV = 0xb0;
export const BPF_ARSH = 0xc0;
export const BPF_END = 0xd0;

// ---- Jump operations (§4.3) ----
export const BPF_JA = 0x00;
export const BPF_JEQ = 0x10;
export const BPF_JGT = 0x20;
export const BPF_JGE = 0x30;
export const BPF_JSET = 0x40;
export const BPF_JNE = 0x50;
export const BPF_JSGT = 0x60;
export const BPF_JSGE = 0x70;
export const BPF_CALL = 0x80;
export const BPF_EXIT = 0x90;
export const BPF_JLT = 0xa0;
export const BPF_JLE = 0xb0;
export const BPF_JSLT = 0xc0;
export const BPF_JSLE = 0xd0;

// ---- Load/store sizes (§5.1) ----
export const BPF_W = 0x00;
export const BPF_H = 0x08;
export const BPF_B = 0x10;
export const BPF_DW = 0x18;

// ---- Load/store modes (§5.1) ----
export const BPF_IMM = 0x00;
/** Legacy packet access (§5.5), kept for classic-BPF translations. */
export const BPF_ABS = 0x20;
export const BPF_IND = 0x40;
export const BPF_MEM = 0x60;
/** Sign-extending load (§5.2). */
export const BPF_MEMSX = 0x80;
export const BPF_ATOMIC = 0xc0;

// ---- Atomic operations: the imm of a STX|ATOMIC instruction (§5.3) ----
export const BPF_ATOMIC_ADD = 0x00;
export const BPF_ATOMIC_OR = 0x40;
export const BPF_ATOMIC_AND = 0x50;
export const BPF_ATOMIC_XOR = 0xa0;
/** Modifier: also return the old value in the src register. */
export const BPF_FETCH = 0x01;
export const BPF_XCHG = 0xe0 | BPF_FETCH;
export const BPF_CMPXCHG = 0xf0 | BPF_FETCH;

// ---- src field of CALL (§4.3.1) ----
/** call helper by static id (imm). */
export const BPF_CALL_HELPER = 0;
/** call local function at pc + imm + 1 (BPF_PSEUDO_CALL). */
export const BPF_PSEUDO_CALL = 1;
/** call helper by BTF id (kfunc). Decoded and validated, not executed by our engines. */
export const BPF_PSEUDO_KFUNC_CALL = 2;

// ---- src field of LDDW (§5.4, Table 11) ----
/** dst = imm64. */
export const BPF_PSEUDO_IMM64 = 0;
/** dst = map_by_fd(imm): the map itself (a map handle). */
export const BPF_PSEUDO_MAP_FD = 1;
/** dst = map_val(map_by_fd(imm)) + next_imm: address in a map's value storage (global data). */
export const BPF_PSEUDO_MAP_VALUE = 2;
/** dst = var_addr(imm): address of a platform variable. */
export const BPF_PSEUDO_BTF_ID = 3;
/** dst = code_addr(imm): the address of the instruction at pc + imm + 1 (for callx). */
export const BPF_PSEUDO_FUNC = 4;
/** dst = map_by_idx(imm). */
export const BPF_PSEUDO_MAP_IDX = 5;
/** dst = map_val(map_by_idx(imm)) + next_imm. */
export const BPF_PSEUDO_MAP_IDX_VALUE = 6;

/** Registers r0..r10; r10 is the read-only frame pointer. */
export const BPF_REG_COUNT = 11;
export const BPF_REG_FP = 10;
/** Stack bytes per frame (Linux MAX_BPF_STACK). */
export const BPF_STACK_SIZE = 512;
/** Most nested frames (Linux MAX_CALL_FRAMES). */
export const BPF_MAX_CALL_DEPTH = 8;

/** The opcode of LDDW (`LD | IMM | DW`). */
export const BPF_LDDW_OPCODE = BPF_LD | BPF_IMM | BPF_DW;

/** Class bits of an opcode. */
export function bpfInsnClass(opcode: number): number {
  return opcode & 0x07;
}
/** Operation bits (ALU/JMP op) of an opcode. */
export function bpfInsnOp(opcode: number): number {
  return opcode & 0xf0;
}
/** Size bits of a load/store opcode. */
export function bpfInsnSize(opcode: number): number {
  return opcode & 0x18;
}
/** Mode bits of a load/store opcode. */
export function bpfInsnMode(opcode: number): number {
  return opcode & 0xe0;
}
/** Bytes moved by a load/store of this opcode. */
export function bpfSizeBytes(opcode: number): 1 | 2 | 4 | 8 {
  switch (opcode & 0x18) {
    case BPF_B:
      return 1;
    case BPF_H:
      return 2;
    case BPF_W:
      return 4;
    default:
      return 8;
  }
}
/** True for the first slot of a 64-bit immediate load. */
export function isLddw(insn: BpfInsn): boolean {
  return insn.opcode === BPF_LDDW_OPCODE;
}
/** True for ALU or ALU64. */
export function isBpfAlu(opcode: number): boolean {
  const c = opcode & 7;
  return c === BPF_ALU || c === BPF_ALU64;
}
/** True for JMP or JMP32. */
export function isBpfJump(opcode: number): boolean {
  const c = opcode & 7;
  return c === BPF_JMP || c === BPF_JMP32;
}
/** True when the instruction transfers control to pc + 1 + offset (conditional jumps, JA, JA32). */
export function isBpfBranch(insn: BpfInsn): boolean {
  if (!isBpfJump(insn.opcode)) return false;
  const op = insn.opcode & 0xf0;
  return op !== BPF_CALL && op !== BPF_EXIT;
}
/** Relative target of a branch in slots (JA32 keeps it in imm, every other jump in off). */
export function bpfBranchOffset(insn: BpfInsn): number {
  return insn.opcode === (BPF_JMP32 | BPF_JA) ? insn.imm : insn.off;
}
/** True for a local (bpf-to-bpf) call. */
export function isBpfLocalCall(insn: BpfInsn): boolean {
  return insn.opcode === (BPF_JMP | BPF_CALL) && insn.src === BPF_PSEUDO_CALL;
}
/** True for a helper call by static id. */
export function isBpfHelperCall(insn: BpfInsn): boolean {
  return insn.opcode === (BPF_JMP | BPF_CALL) && insn.src === BPF_CALL_HELPER;
}
/** True for `callx %rN` (JMP | CALL | X, register in dst — the Linux/LLVM convention). */
export function isBpfCallx(insn: BpfInsn): boolean {
  return insn.opcode === (BPF_JMP | BPF_CALL | BPF_X);
}
/** True for `exit`. */
export function isBpfExit(insn: BpfInsn): boolean {
  return insn.opcode === (BPF_JMP | BPF_EXIT);
}

/** True when a program may write memory itself: a store, an atomic, a helper or local call, or callx. Programs
 * without any (packet filters) cannot dirty the stack, so engines skip zeroing it between runs. */
export function bpfMayWriteMemory(insns: readonly BpfInsn[]): boolean {
  return insns.some((i) => {
    const cls = i.opcode & 7;
    return cls === BPF_ST || cls === BPF_STX || i.opcode === (BPF_JMP | BPF_CALL) || i.opcode === (BPF_JMP | BPF_CALL | BPF_X);
  });
}

/** Makes an instruction, normalising off to int16 and imm to int32 (so 0xffffffff becomes -1). */
export function bpfInsn(opcode: number, dst = 0, src = 0, off = 0, imm = 0): BpfInsn {
  return { opcode: opcode & 0xff, dst: dst & 0xf, src: src & 0xf, off: (off << 16) >> 16, imm: imm | 0 };
}

/** The two slots of `lddw dst, imm64` (src selects a pseudo form, see BPF_PSEUDO_*). */
export function bpfLddw(dst: number, value: bigint, src = 0): [BpfInsn, BpfInsn] {
  const v = BigInt.asUintN(64, value);
  return [
    bpfInsn(BPF_LDDW_OPCODE, dst, src, 0, Number(v & 0xffffffffn)),
    bpfInsn(0, 0, 0, 0, Number(v >> 32n)),
  ];
}

/** The 64-bit immediate of the LDDW at insns[pc] (low word from slot pc, high word from slot pc + 1). */
export function bpfLddwValue(insns: readonly BpfInsn[], pc: number): bigint {
  const lo = insns[pc];
  const hi = insns[pc + 1];
  if (!lo || !hi) throw new NetworkError('INVALID_ARGUMENT', `lddw at pc ${pc} has no second slot`, { pc });
  return (BigInt(hi.imm >>> 0) << 32n) | BigInt(lo.imm >>> 0);
}

/** Encodes slots to little-endian bytes (8 per slot). Fields out of range throw INVALID_ARGUMENT. */
export function encodeInsns(insns: readonly BpfInsn[]): Uint8Array {
  const out = new Uint8Array(insns.length * 8);
  const dv = new DataView(out.buffer);
  for (let i = 0; i < insns.length; i++) {
    const insn = insns[i]!;
    checkField(insn.opcode, 0, 0xff, 'opcode', i);
    checkField(insn.dst, 0, 15, 'dst', i);
    checkField(insn.src, 0, 15, 'src', i);
    checkField(insn.off, -0x8000, 0xffff, 'off', i);
    checkField(insn.imm, -0x80000000, 0xffffffff, 'imm', i);
    const o = i * 8;
    dv.setUint8(o, insn.opcode);
    dv.setUint8(o + 1, (insn.src << 4) | insn.dst);
    dv.setUint16(o + 2, insn.off & 0xffff, true);
    dv.setUint32(o + 4, insn.imm >>> 0, true);
  }
  return out;
}

function checkField(v: number, min: number, max: number, field: string, pc: number): void {
  if (!Number.isInteger(v) || v < min || v > max) {
    throw new NetworkError('INVALID_ARGUMENT', `instruction ${pc}: ${field} ${v} out of range`, { pc, field, actual: v });
  }
}

/** Decodes little-endian bytecode; a length that is not a multiple of 8 throws PARSE_ERROR. */
export function decodeInsns(bytes: Uint8Array): BpfInsn[] {
  if (bytes.length % 8 !== 0) {
    throw new NetworkError('PARSE_ERROR', `eBPF bytecode length ${bytes.length} is not a multiple of 8`, {
      field: 'length',
      actual: bytes.length,
      expected: 'multiple of 8',
    });
  }
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: BpfInsn[] = new Array<BpfInsn>(bytes.length / 8);
  for (let i = 0; i < out.length; i++) {
    const o = i * 8;
    const regs = dv.getUint8(o + 1);
    out[i] = {
      opcode: dv.getUint8(o),
      dst: regs & 0xf,
      src: regs >> 4,
      off: dv.getInt16(o + 2, true),
      imm: dv.getInt32(o + 4, true),
    };
  }
  return out;
}

/** Decodes one instruction from its 64-bit little-endian value (the `-- raw` form of the conformance suite). */
export function decodeInsnU64(value: bigint): BpfInsn {
  const v = BigInt.asUintN(64, value);
  const bytes = new Uint8Array(8);
  new DataView(bytes.buffer).setBigUint64(0, v, true);
  return decodeInsns(bytes)[0]!;
}

/** The 64-bit value of one instruction (inverse of {@link decodeInsnU64}). */
export function encodeInsnU64(insn: BpfInsn): bigint {
  return new DataView(encodeInsns([insn]).buffer).getBigUint64(0, true);
}

const ALU_OPS = new Set([
  BPF_ADD, BPF_SUB, BPF_MUL, BPF_DIV, BPF_OR, BPF_AND, BPF_LSH, BPF_RSH, BPF_NEG, BPF_MOD, BPF_XOR, BPF_MOV, BPF_ARSH,
  BPF_END,
]);
const COND_JUMPS = new Set([
  BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET, BPF_JNE, BPF_JSGT, BPF_JSGE, BPF_JLT, BPF_JLE, BPF_JSLT, BPF_JSLE,
]);
const ATOMIC_OPS = new Set([
  BPF_ATOMIC_ADD, BPF_ATOMIC_OR, BPF_ATOMIC_AND, BPF_ATOMIC_XOR,
  BPF_ATOMIC_ADD | BPF_FETCH, BPF_ATOMIC_OR | BPF_FETCH, BPF_ATOMIC_AND | BPF_FETCH, BPF_ATOMIC_XOR | BPF_FETCH,
  BPF_XCHG, BPF_CMPXCHG,
]);

/**
 * Checks the fields of the instruction at `pc` against RFC 9669: a known opcode, registers ≤ r10, and every
 * field the opcode does not use equal to zero (RFC 9669 §3: unused fields are reserved and must be zero).
 * For LDDW it also checks the second slot. Returns the reason, or null when the instruction is well formed.
 * It says nothing about control flow (jump ranges, r10 writes): that is the verifier's business.
 * `pc` must not point at the second slot of an LDDW (callers skip it).
 */
export function bpfInsnProblem(insns: readonly BpfInsn[], pc: number): string | null {
  const insn = insns[pc];
  if (!insn) return 'no instruction at this pc';
  const { opcode, dst, src, off, imm } = insn;
  if (dst > 10) return `invalid dst register r${dst}`;
  if (src > 10) return `invalid src register r${src}`;
  const cls = opcode & 7;
  switch (cls) {
    case BPF_ALU:
    case BPF_ALU64: {
      const op = opcode & 0xf0;
      const x = (opcode & BPF_X) !== 0;
      if (!ALU_OPS.has(op)) return `unknown ALU operation 0x${op.toString(16)}`;
      if (op === BPF_END) {
        if (cls === BPF_ALU64 && x) return 'ALU64 END with source X is reserved';
        if (src !== 0 || off !== 0) return 'byte swap uses reserved fields';
        if (imm !== 16 && imm !== 32 && imm !== 64) return `byte swap width ${imm} is not 16, 32 or 64`;
        return null;
      }
      if (op === BPF_NEG) {
        if (x || src !== 0 || off !== 0 || imm !== 0) return 'neg uses reserved fields';
        return null;
      }
      if (x ? imm !== 0 : src !== 0) return 'reserved field not zero';
      if (op === BPF_DIV || op === BPF_MOD) {
        if (off !== 0 && off !== 1) return `division offset ${off} is not 0 (unsigned) or 1 (signed)`;
        return null;
      }
      if (op === BPF_MOV && off !== 0) {
        if (!x) return 'movsx needs a source register';
        if (off !== 8 && off !== 16 && !(off === 32 && cls === BPF_ALU64)) return `movsx width ${off} is invalid`;
        return null;
      }
      if (off !== 0) return 'reserved offset not zero';
      return null;
    }
    case BPF_JMP:
    case BPF_JMP32: {
      const op = opcode & 0xf0;
      const x = (opcode & BPF_X) !== 0;
      if (op === BPF_JA) {
        if (x || src !== 0 || dst !== 0) return 'ja uses reserved fields';
        if (cls === BPF_JMP ? imm !== 0 : off !== 0) return 'ja uses reserved fields';
        return null;
      }
      if (op === BPF_CALL) {
        if (cls !== BPF_JMP) return 'call in class JMP32 is invalid';
        if (x) {
          if (src !== 0 || off !== 0 || imm !== 0) return 'callx uses reserved fields';
          return null;
        }
        if (dst !== 0) return 'call uses reserved dst';
        if (src === BPF_CALL_HELPER || src === BPF_PSEUDO_CALL) return off !== 0 ? 'call uses reserved offset' : null;
        if (src === BPF_PSEUDO_KFUNC_CALL) return null;
        return `call with unknown src ${src}`;
      }
      if (op === BPF_EXIT) {
        if (cls !== BPF_JMP) return 'exit in class JMP32 is invalid';
        if (x || dst !== 0 || src !== 0 || off !== 0 || imm !== 0) return 'exit uses reserved fields';
        return null;
      }
      if (!COND_JUMPS.has(op)) return `unknown jump operation 0x${op.toString(16)}`;
      if (x ? imm !== 0 : src !== 0) return 'reserved field not zero';
      return null;
    }
    case BPF_LD: {
      const mode = opcode & 0xe0;
      const size = opcode & 0x18;
      if (mode === BPF_IMM) {
        if (size !== BPF_DW) return `unknown load 0x${opcode.toString(16)}`;
        if (src > BPF_PSEUDO_MAP_IDX_VALUE) return `lddw with unknown pseudo source ${src}`;
        if (off !== 0) return 'lddw uses reserved offset';
        const next = insns[pc + 1];
        if (!next) return 'lddw without its second slot';
        if (next.opcode !== 0 || next.dst !== 0 || next.src !== 0 || next.off !== 0) {
          return 'second slot of lddw uses reserved fields';
        }
        return null;
      }
      if (mode === BPF_ABS || mode === BPF_IND) {
        if (size === BPF_DW) return 'legacy packet load of 8 bytes is invalid';
        if (dst !== 0 || off !== 0) return 'legacy packet load uses reserved fields';
        if (mode === BPF_ABS && src !== 0) return 'legacy packet load uses reserved fields';
        return null;
      }
      return `unknown load 0x${opcode.toString(16)}`;
    }
    case BPF_LDX: {
      const mode = opcode & 0xe0;
      if (mode === BPF_MEMSX) {
        if ((opcode & 0x18) === BPF_DW) return 'sign-extending load of 8 bytes is invalid';
      } else if (mode !== BPF_MEM) return `unknown load mode 0x${mode.toString(16)}`;
      if (imm !== 0) return 'load uses reserved imm';
      return null;
    }
    case BPF_ST: {
      if ((opcode & 0xe0) !== BPF_MEM) return `unknown store mode 0x${(opcode & 0xe0).toString(16)}`;
      if (src !== 0) return 'store immediate uses reserved src';
      return null;
    }
    case BPF_STX: {
      const mode = opcode & 0xe0;
      if (mode === BPF_MEM) return imm !== 0 ? 'store uses reserved imm' : null;
      if (mode === BPF_ATOMIC) {
        const size = opcode & 0x18;
        if (size !== BPF_W && size !== BPF_DW) return 'atomic operation must be 32 or 64 bits';
        if (!ATOMIC_OPS.has(imm)) return `unknown atomic operation 0x${(imm >>> 0).toString(16)}`;
        return null;
      }
      return `unknown store mode 0x${mode.toString(16)}`;
    }
  }
  return `unknown opcode 0x${opcode.toString(16)}`;
}

/**
 * Walks a program and returns the first malformed instruction, or null. LDDW second slots are skipped;
 * a program ending in the middle of an LDDW is reported.
 */
export function findBpfInsnProblem(insns: readonly BpfInsn[]): { pc: number; reason: string } | null {
  for (let pc = 0; pc < insns.length; pc++) {
    const reason = bpfInsnProblem(insns, pc);
    if (reason !== null) return { pc, reason };
    if (insns[pc]!.opcode === BPF_LDDW_OPCODE) pc++;
  }
  return null;
}

/** Marks which slots are the second half of an LDDW (never a valid jump target or pc). */
export function bpfLddwSecondSlots(insns: readonly BpfInsn[]): Uint8Array {
  const mark = new Uint8Array(insns.length);
  for (let pc = 0; pc < insns.length; pc++) {
    if (insns[pc]!.opcode === BPF_LDDW_OPCODE && pc + 1 < insns.length) {
      mark[pc + 1] = 1;
      pc++;
    }
  }
  return mark;
}
