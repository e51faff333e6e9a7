/**
 * eBPF disassembler producing the assembler's syntax (asm.ts), so `assemble(disassemble(p))` gives back the
 * same slots for ANY decodable input: an instruction whose canonical spelling would not re-encode to the same
 * bits (reserved fields set, unknown opcodes, a lone LDDW half) is printed as `.raw 0x<64-bit value>`.
 */
import { assembleBpfInsns } from './asm.js';
import {
  BPF_LDDW_OPCODE,
  bpfBranchOffset,
  encodeInsnU64,
  isBpfBranch,
  type BpfInsn,
} from './isa.js';

/** Disassembly options. */
export interface BpfDisasmOptions {
  /** Name jump/call targets with labels `L<pc>:` instead of `+N` (default true). */
  labels?: boolean;
  /** Prefix every line with its pc (as a `#` comment, so the text still assembles). Default false. */
  pcs?: boolean;
}

const ALU_NAMES: Record<number, string> = {
  0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh',
  0x80: 'neg', 0x90: 'mod', 0xa0: 'xor', 0xb0: 'mov', 0xc0: 'arsh',
};
const JMP_NAMES: Record<number, string> = {
  0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset', 0x50: 'jne', 0x60: 'jsgt', 0x70: 'jsge', 0xa0: 'jlt',
  0xb0: 'jle', 0xc0: 'jslt', 0xd0: 'jsle',
};
const SIZE_NAMES: Record<number, string> = { 0x00: 'w', 0x08: 'h', 0x10: 'b', 0x18: 'dw' };
const ATOMIC_NAMES: Record<number, string> = { 0x00: 'add', 0x40: 'or', 0x50: 'and', 0xa0: 'xor' };

function hex(v: number | bigint): string {
  return '0x' + v.toString(16);
}
/** Immediates: small ones in decimal, others as their 32-bit hex pattern (the assembler reads both). */
function imm32(v: number): string {
  return v >= -256 && v < 256 ? String(v) : hex(v >>> 0);
}
function mem(reg: number, off: number): string {
  return off === 0 ? `[%r${reg}]` : off > 0 ? `[%r${reg}+${off}]` : `[%r${reg}-${-off}]`;
}
function rel(off: number): string {
  return off >= 0 ? `+${off}` : String(off);
}

/**
 * Text of one instruction. `target(pc)` names a jump/call target (label or null for a relative offset).
 * Returns null when the instruction has no canonical spelling (the caller prints `.raw`).
 */
function spell(insns: readonly BpfInsn[], pc: number, target: (t: number) => string | null): string | null {
  const i = insns[pc]!;
  const { opcode, dst, src, off, imm } = i;
  const cls = opcode & 7;
  const op = opcode & 0xf0;
  const x = (opcode & 8) !== 0;
  const jt = (t: number, offset: number) => target(t) ?? rel(offset);
  switch (cls) {
    case 4:
    case 7: {
      const sfx = cls === 4 ? '32' : '';
      if (op === 0xd0) {
        if (cls === 7) return `bswap${imm} %r${dst}`;
        return `${x ? 'be' : 'le'}${imm} %r${dst}`;
      }
      if (op === 0x80) return `neg${sfx} %r${dst}`;
      if (op === 0xb0 && off !== 0) return `movsx${off}${cls === 4 ? '32' : '64'} %r${dst}, %r${src}`;
      let name = ALU_NAMES[op];
      if (name === undefined) return null;
      if ((op === 0x30 || op === 0x90) && off === 1) name = op === 0x30 ? 'sdiv' : 'smod';
      return `${name}${sfx} %r${dst}, ${x ? `%r${src}` : imm32(imm)}`;
    }
    case 5:
    case 6: {
      const sfx = cls === 6 ? '32' : '';
      if (op === 0x00) {
        const o = bpfBranchOffset(i);
        return `ja${sfx} ${jt(pc + 1 + o, o)}`;
      }
      if (op === 0x80) {
        if (x) return `call %r${dst}`;
        if (src === 1) return `call local ${jt(pc + 1 + imm, imm)}`;
        if (src === 2) return `call kfunc ${imm}`;
        return `call ${imm}`;
      }
      if (op === 0x90) return 'exit';
      const name = JMP_NAMES[op];
      if (name === undefined) return null;
      return `${name}${sfx} %r${dst}, ${x ? `%r${src}` : imm32(imm)}, ${jt(pc + 1 + off, off)}`;
    }
    case 0: {
      if (opcode === BPF_LDDW_OPCODE) {
        const next = insns[pc + 1];
        if (!next) return null;
        switch (src) {
          case 0:
            return `lddw %r${dst}, ${hex((BigInt(next.imm >>> 0) << 32n) | BigInt(imm >>> 0))}`;
          case 1:
            return `lddw %r${dst}, map_fd ${imm}`;
          case 2:
            return `lddw %r${dst}, map_value ${imm}, ${next.imm}`;
          case 3:
            return `lddw %r${dst}, var_addr ${imm}`;
          case 4:
            return `lddw %r${dst}, code_addr ${jt(pc + 1 + imm, imm)}`;
          case 5:
            return `lddw %r${dst}, map_idx ${imm}`;
          case 6:
            return `lddw %r${dst}, map_idx_value ${imm}, ${next.imm}`;
          default:
            return null;
        }
      }
      const mode = opcode & 0xe0;
      const size = SIZE_NAMES[opcode & 0x18]!;
      if (mode === 0x20) return `ldabs${size} ${imm32(imm)}`;
      if (mode === 0x40) return `ldind${size} %r${src}, ${imm32(imm)}`;
      return null;
    }
    case 1: {
      const mode = opcode & 0xe0;
      const size = SIZE_NAMES[opcode & 0x18]!;
      if (mode === 0x60) return `ldx${size} %r${dst}, ${mem(src, off)}`;
      if (mode === 0x80) return `ldxs${size} %r${dst}, ${mem(src, off)}`;
      return null;
    }
    case 2:
      return `st${SIZE_NAMES[opcode & 0x18]!} ${mem(dst, off)}, ${imm32(imm)}`;
    case 3: {
      const mode = opcode & 0xe0;
      const size = opcode & 0x18;
      if (mode === 0x60) return `stx${SIZE_NAMES[size]!} ${mem(dst, off)}, %r${src}`;
      if (mode === 0xc0) {
        const sfx = size === 0x00 ? '32' : '';
        if (imm === 0xe1) return `lock xchg${sfx} ${mem(dst, off)}, %r${src}`;
        if (imm === 0xf1) return `lock cmpxchg${sfx} ${mem(dst, off)}, %r${src}`;
        const name = ATOMIC_NAMES[imm & ~1];
        if (name === undefined) return null;
        return `lock ${imm & 1 ? 'fetch ' : ''}${name}${sfx} ${mem(dst, off)}, %r${src}`;
      }
      return null;
    }
  }
  return null;
}

function sameInsn(a: BpfInsn, b: BpfInsn): boolean {
  return a.opcode === b.opcode && a.dst === b.dst && a.src === b.src && a.off === b.off && a.imm === b.imm;
}

/** Disassembles one instruction (and its LDDW second slot) with relative targets; `.raw` when needed. */
export function disassembleBpfInsn(insns: readonly BpfInsn[], pc: number): string {
  return lineFor(insns, pc, () => null).join('\n');
}

/** Lines for the instruction at pc: one line, or two `.raw` lines for an LDDW that does not round-trip. */
function lineFor(insns: readonly BpfInsn[], pc: number, target: (t: number) => string | null): string[] {
  const insn = insns[pc]!;
  const isLd = insn.opcode === BPF_LDDW_OPCODE && pc + 1 < insns.length;
  const text = spell(insns, pc, target);
  if (text !== null) {
    // Check the spelling re-encodes to the same bits (with relative targets, labels resolve identically).
    const relText = spell(insns, pc, () => null)!;
    try {
      const back = assembleBpfInsns(relText);
      const want = isLd ? [insn, insns[pc + 1]!] : [insn];
      if (back.length === want.length && back.every((b, k) => sameInsn(b, want[k]!))) return [text];
    } catch {
      // fall through to .raw
    }
  }
  const raws = [`.raw ${hex(encodeInsnU64(insn))}`];
  if (isLd) raws.push(`.raw ${hex(encodeInsnU64(insns[pc + 1]!))}`);
  return raws;
}

/** Disassembles a whole program (LDDW consumes its second slot). */
export function disassembleBpf(insns: readonly BpfInsn[], options: BpfDisasmOptions = {}): string {
  const useLabels = options.labels ?? true;
  const targets = new Set<number>();
  if (useLabels) {
    for (let pc = 0; pc < insns.length; pc++) {
      const i = insns[pc]!;
      let t = -1;
      if (isBpfBranch(i)) t = pc + 1 + bpfBranchOffset(i);
      else if (i.opcode === 0x85 && i.src === 1) t = pc + 1 + i.imm;
      else if (i.opcode === BPF_LDDW_OPCODE && i.src === 4) t = pc + 1 + i.imm;
      if (t >= 0 && t < insns.length) targets.add(t);
      if (i.opcode === BPF_LDDW_OPCODE) pc++;
    }
  }
  // A label must sit on a line start: targets inside an LDDW pair stay relative.
  const starts = new Set<number>();
  for (let pc = 0; pc < insns.length; pc++) {
    starts.add(pc);
    if (insns[pc]!.opcode === BPF_LDDW_OPCODE && pc + 1 < insns.length) pc++;
  }
  const name = (t: number) => (useLabels && targets.has(t) && starts.has(t) ? `L${t}` : null);
  const out: string[] = [];
  for (let pc = 0; pc < insns.length; pc++) {
    const label = name(pc);
    if (label) out.push(`${label}:`);
    const lines = lineFor(insns, pc, name);
    for (const l of lines) out.push(options.pcs ? `    ${l.padEnd(40)} # ${pc}` : `    ${l}`);
    if (insns[pc]!.opcode === BPF_LDDW_OPCODE && pc + 1 < insns.length) pc++;
  }
  return out.join('\n') + '\n';
}
