// Classic BPF → eBPF, the way Linux's bpf_convert_filter (net/core/filter.c) does it: A lives in r0, X in
// r7, M[k] on the stack below r10, packet loads are the legacy LD_ABS/LD_IND (out of range: the program
// returns 0), all arithmetic and comparisons are 32-bit, and a division by X = 0 returns 0.
import { NetworkError } from '../errors.js';
import {
  BPF_ABS, BPF_ALU, BPF_ALU64, BPF_AND, BPF_B, BPF_DIV, BPF_EXIT, BPF_H, BPF_IND, BPF_JA, BPF_JEQ,
  BPF_JGE, BPF_JGT, BPF_JLE, BPF_JLT, BPF_JMP, BPF_JMP32, BPF_JNE, BPF_JSET, BPF_K, BPF_LD, BPF_LDX, BPF_LSH, BPF_MEM, BPF_MOD, BPF_MOV,
  BPF_NEG, BPF_STX, BPF_W, BPF_X, bpfInsn, type BpfInsn,
} from '../ebpf/isa.js';
import type { ClassicInsn } from './classic.js';

const R0 = 0; // A
const R7 = 7; // X
const R8 = 8; // A saved around LDX MSH
const R9 = 9; // packet length (r2 at entry)
const R10 = 10;
const SIZE: Record<number, number> = { 0x00: BPF_W, 0x08: BPF_H, 0x10: BPF_B };
/** The negation of a classic comparison as one eBPF jump (jset has none). */
const INVERSE: Record<number, number> = { [BPF_JEQ]: BPF_JNE, [BPF_JGT]: BPF_JLE, [BPF_JGE]: BPF_JLT };

function memOff(k: number): number {
  if (!(k >= 0 && k < 16)) throw new NetworkError('INVALID_PACKET', `classic BPF scratch index ${k} out of 0..15`, { actual: k });
  return -64 + 4 * k;
}

/** Translates classic BPF (validated: forward jumps in range, known opcodes) into eBPF instruction slots. */
export function classicToEbpf(prog: readonly ClassicInsn[]): BpfInsn[] {
  if (prog.length === 0 || prog.length > 4096) {
    throw new NetworkError('INVALID_PACKET', `classic BPF program must have 1..4096 instructions, has ${prog.length}`);
  }
  // Each classic instruction becomes a block; jumps are patched once every block's start is known.
  const blocks: BpfInsn[][] = [];
  const fixups: Array<{ block: number; at: number; target: number; field: 'off' }> = [];
  const exitZero: Array<{ block: number; at: number }> = [];
  prog.forEach((c, pc) => {
    const out: BpfInsn[] = [];
    const { code, k } = c;
    const cls = code & 0x07;
    const jumpTo = (target: number): void => {
      if (target <= pc || target >= prog.length) {
        throw new NetworkError('INVALID_PACKET', `classic BPF jump at ${pc} to ${target} is out of range`, { pc, actual: target });
      }
      fixups.push({ block: pc, at: out.length - 1, target, field: 'off' });
    };
    switch (cls) {
      case 0x00: {
        const mode = code & 0xe0;
        const size = SIZE[code & 0x18];
        if (mode === 0x20 && size !== undefined) out.push(bpfInsn(BPF_LD | BPF_ABS | size, 0, 0, 0, k));
        else if (mode === 0x40 && size !== undefined) out.push(bpfInsn(BPF_LD | BPF_IND | size, 0, R7, 0, k));
        else if (mode === 0x80) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_X, R0, R9));
        else if (mode === 0x00 && (code & 0x18) === 0) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, k));
        else if (mode === 0x60 && (code & 0x18) === 0) out.push(bpfInsn(BPF_LDX | BPF_MEM | BPF_W, R0, R10, memOff(k)));
        else throw badOpcode(code, pc);
        break;
      }
      case 0x01: {
        const mode = code & 0xe0;
        if (mode === 0xa0 && (code & 0x18) === 0x10) {
          // X = 4 * (pkt[k] & 0xf): the load goes through r0, so A is kept in r8 meanwhile.
          out.push(bpfInsn(BPF_ALU64 | BPF_MOV | BPF_X, R8, R0));
          out.push(bpfInsn(BPF_LD | BPF_ABS | BPF_B, 0, 0, 0, k));
          out.push(bpfInsn(BPF_ALU | BPF_AND | BPF_K, R0, 0, 0, 0xf));
          out.push(bpfInsn(BPF_ALU | BPF_LSH | BPF_K, R0, 0, 0, 2));
          out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_X, R7, R0));
          out.push(bpfInsn(BPF_ALU64 | BPF_MOV | BPF_X, R0, R8));
        } else if (mode === 0x00 && (code & 0x18) === 0) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_K, R7, 0, 0, k));
        else if (mode === 0x60 && (code & 0x18) === 0) out.push(bpfInsn(BPF_LDX | BPF_MEM | BPF_W, R7, R10, memOff(k)));
        else if (mode === 0x80 && (code & 0x18) === 0) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_X, R7, R9));
        else throw badOpcode(code, pc);
        break;
      }
      case 0x02:
      case 0x03:
        if (code !== 0x02 && code !== 0x03) throw badOpcode(code, pc);
        out.push(bpfInsn(BPF_STX | BPF_MEM | BPF_W, R10, cls === 0x02 ? R0 : R7, memOff(k)));
        break;
      case 0x04: {
        const op = code & 0xf0;
        const x = (code & 0x08) !== 0;
        if (op === BPF_NEG) {
          out.push(bpfInsn(BPF_ALU | BPF_NEG, R0));
          break;
        }
        if (![0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x90, 0xa0].includes(op)) throw badOpcode(code, pc);
        if (x && (op === BPF_DIV || op === BPF_MOD)) {
          // cBPF: dividing by X = 0 ends the filter with 0 (eBPF would give 0 / keep A instead).
          out.push(bpfInsn(BPF_JMP32 | BPF_JEQ | BPF_K, R7, 0, 0, 0));
          exitZero.push({ block: pc, at: out.length - 1 });
        }
        if (!x && (op === BPF_DIV || op === BPF_MOD) && k === 0) {
          throw new NetworkError('INVALID_PACKET', `classic BPF division by constant zero at ${pc}`, { pc });
        }
        out.push(x ? bpfInsn(BPF_ALU | op | BPF_X, R0, R7) : bpfInsn(BPF_ALU | op | BPF_K, R0, 0, 0, k));
        break;
      }
      case 0x05: {
        const op = code & 0xf0;
        if (op === BPF_JA && (code & 0x08) === 0) {
          out.push(bpfInsn(BPF_JMP | BPF_JA));
          jumpTo(pc + 1 + k);
          break;
        }
        if (![BPF_JEQ, BPF_JGT, BPF_JGE, BPF_JSET].includes(op)) throw badOpcode(code, pc);
        const x = (code & 0x08) !== 0;
        const cond = (): BpfInsn => (x ? bpfInsn(BPF_JMP32 | op | BPF_X, R0, R7) : bpfInsn(BPF_JMP32 | op | BPF_K, R0, 0, 0, k));
        // 32-bit compares (JMP32): a 64-bit compare would sign-extend k ≥ 2^31.
        const inverse = INVERSE[op];
        if (c.jt === 0 && inverse !== undefined) {
          // Fall through when true: jump to jf on the inverse condition.
          out.push(x ? bpfInsn(BPF_JMP32 | inverse | BPF_X, R0, R7) : bpfInsn(BPF_JMP32 | inverse | BPF_K, R0, 0, 0, k));
          jumpTo(pc + 1 + c.jf);
        } else if (c.jt === 0) {
          // jset has no inverse: jump on true to the next block, otherwise to jf.
          out.push(cond());
          fixups.push({ block: pc, at: out.length - 1, target: pc + 1, field: 'off' });
          out.push(bpfInsn(BPF_JMP | BPF_JA));
          jumpTo(pc + 1 + c.jf);
        } else {
          out.push(cond());
          jumpTo(pc + 1 + c.jt);
          if (c.jf !== 0) {
            out.push(bpfInsn(BPF_JMP | BPF_JA));
            jumpTo(pc + 1 + c.jf);
          }
        }
        break;
      }
      case 0x06: {
        const src = code & 0x18;
        if (src === 0x00) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, k));
        else if (src !== 0x10) throw badOpcode(code, pc);
        out.push(bpfInsn(BPF_JMP | BPF_EXIT));
        break;
      }
      case 0x07:
        if (code === 0x07) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_X, R7, R0));
        else if (code === 0x87) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_X, R0, R7));
        else throw badOpcode(code, pc);
        break;
    }
    blocks.push(out);
  });
  const last = prog[prog.length - 1]!;
  if ((last.code & 0x07) !== 0x06 && (last.code & 0x07) !== 0x05) {
    throw new NetworkError('INVALID_PACKET', 'classic BPF program must end in ret or a jump', { pc: prog.length - 1 });
  }
  // Layout: prologue (r9 = length), the blocks, then a shared "return 0" tail.
  const prologue = [bpfInsn(BPF_ALU64 | BPF_MOV | BPF_X, R9, 2)];
  const start: number[] = [];
  let pos = prologue.length;
  for (const b of blocks) {
    start.push(pos);
    pos += b.length;
  }
  const zeroTail = pos;
  const out: BpfInsn[] = [...prologue];
  for (const f of fixups) {
    const insn = blocks[f.block]![f.at]!;
    const from = start[f.block]! + f.at + 1;
    blocks[f.block]![f.at] = { ...insn, off: start[f.target]! - from };
  }
  for (const z of exitZero) {
    const insn = blocks[z.block]![z.at]!;
    blocks[z.block]![z.at] = { ...insn, off: zeroTail - (start[z.block]! + z.at + 1) };
  }
  for (const b of blocks) out.push(...b);
  if (exitZero.length) out.push(bpfInsn(BPF_ALU | BPF_MOV | BPF_K, R0, 0, 0, 0), bpfInsn(BPF_JMP | BPF_EXIT));
  for (const i of out) {
    if (i.off > 32767 || i.off < -32768) throw new NetworkError('UNSUPPORTED', 'classic BPF program too long for 16-bit eBPF jump offsets');
  }
  return out;
}

function badOpcode(code: number, pc: number): NetworkError {
  return new NetworkError('INVALID_PACKET', `unknown classic BPF opcode 0x${code.toString(16)} at ${pc}`, { pc, actual: code });
}

