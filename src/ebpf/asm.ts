/**
 * eBPF assembler for the text syntax of the bpf_conformance suite (../shared/conformance/bpf/README.md):
 *
 *   mnemonic op1, op2[, op3]      registers %r0..%r10, memory [%rN+off] / [%rN-off]
 *   immediates                    0x… (a 32-bit pattern) or signed decimal; lddw takes 64 bits
 *   labels                        `name:`; targets `+N`/`-N` (relative to the next slot) or a label;
 *                                 the first `exit` is also the label `exit`
 *   comments                      `#` to end of line
 *
 * Mnemonics: ALU64 `add sub mul div sdiv or and lsh rsh neg mod smod xor mov arsh`, `…32` for ALU;
 * `movsx832 movsx1632 movsx864 movsx1664 movsx3264`; `le16/32/64 be16/32/64 bswap16/32/64`;
 * `ja ja32 jeq jgt jge jset jne jsgt jsge jlt jle jslt jsle` (+`32`); `call N`, `call local label`,
 * `call %rN`, `exit`; `ldxb ldxh ldxw ldxdw ldxsb ldxsh ldxsw`, `stb sth stw stdw`, `stxb stxh stxw stxdw`;
 * `lock [fetch] add|or|and|xor[32] [..], %r`, `lock xchg[32]`, `lock cmpxchg[32]`; `lddw`;
 * legacy `ldabsb|h|w imm`, `ldindb|h|w %rS, imm`.
 *
 * Extensions so that every decodable instruction has a spelling (the disassembler emits them):
 *   lddw %rN, map_fd N | map_idx N | map_value N, OFF | map_idx_value N, OFF | var_addr N | code_addr ±N|label
 *   call kfunc N              (helper by BTF id, src 2)
 *   .raw 0x<64-bit value>     one slot, as in the `-- raw` section (bytes little-endian)
 */
import { NetworkError } from '../errors.js';
import {
  BPF_ALU,
  BPF_ALU64,
  BPF_ATOMIC,
  BPF_ATOMIC_ADD,
  BPF_ATOMIC_AND,
  BPF_ATOMIC_OR,
  BPF_ATOMIC_XOR,
  BPF_CMPXCHG,
  BPF_FETCH,
  BPF_JMP,
  BPF_JMP32,
  BPF_K,
  BPF_X,
  BPF_XCHG,
  bpfInsn,
  bpfLddw,
  decodeInsnU64,
  type BpfInsn,
} from './isa.js';

/** ALU operation codes by mnemonic stem. */
export const BPF_ALU_MNEMONICS: Readonly<Record<string, number>> = {
  add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, neg: 0x80, mod: 0x90,
  xor: 0xa0, mov: 0xb0, arsh: 0xc0, sdiv: 0x30, smod: 0x90,
};
/** Jump operation codes by mnemonic stem. */
export const BPF_JMP_MNEMONICS: Readonly<Record<string, number>> = {
  jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40, jne: 0x50, jsgt: 0x60, jsge: 0x70, jlt: 0xa0, jle: 0xb0,
  jslt: 0xc0, jsle: 0xd0,
};
const SIZE_SUFFIX: Readonly<Record<string, number>> = { b: 0x10, h: 0x08, w: 0x00, dw: 0x18 };
const ATOMIC_OPS: Readonly<Record<string, number>> = {
  add: BPF_ATOMIC_ADD, or: BPF_ATOMIC_OR, and: BPF_ATOMIC_AND, xor: BPF_ATOMIC_XOR,
};

/** A source line that failed to assemble. */
function asmError(line: number, text: string, reason: string): NetworkError {
  return new NetworkError('PARSE_ERROR', `eBPF assembly line ${line}: ${reason}: ${text.trim()}`, {
    field: 'asm',
    line,
    reason,
    actual: text.trim(),
  });
}

interface Pending {
  line: number;
  text: string;
  /** Produces the slots once labels are known. */
  emit(labels: Map<string, number>, pc: number): BpfInsn[];
  slots: number;
}

function parseReg(tok: string | undefined, line: number, text: string): number {
  const m = tok === undefined ? null : /^%?r(\d+)$/i.exec(tok.trim());
  if (!m) throw asmError(line, text, `expected a register, got '${tok ?? ''}'`);
  const r = Number(m[1]);
  if (r > 10) throw asmError(line, text, `no register r${r}`);
  return r;
}

function isReg(tok: string | undefined): boolean {
  return tok !== undefined && /^%?r\d+$/i.test(tok.trim());
}

/** Parses an integer literal into a bigint (hex, decimal, optional sign). */
function parseBig(tok: string | undefined, line: number, text: string): bigint {
  const t = (tok ?? '').trim();
  const m = /^([+-]?)(0x[0-9a-f]+|\d+)$/i.exec(t);
  if (!m) throw asmError(line, text, `expected a number, got '${t}'`);
  const v = BigInt(m[2]!);
  return m[1] === '-' ? -v : v;
}

/** A 32-bit immediate: hex is a 32-bit pattern, decimal is signed (−2^31 … 2^32−1 accepted). */
function parseImm32(tok: string | undefined, line: number, text: string): number {
  const v = parseBig(tok, line, text);
  if (v < -0x80000000n || v > 0xffffffffn) throw asmError(line, text, `immediate ${v} does not fit in 32 bits`);
  return Number(BigInt.asIntN(32, v));
}

/** `[%rN+off]` → { reg, off }. */
function parseMem(tok: string | undefined, line: number, text: string): { reg: number; off: number } {
  const m = tok === undefined ? null : /^\[\s*(%?r\d+)\s*(?:([+-])\s*(0x[0-9a-f]+|\d+))?\s*\]$/i.exec(tok.trim());
  if (!m) throw asmError(line, text, `expected a memory operand [%rN+off], got '${tok ?? ''}'`);
  const reg = parseReg(m[1], line, text);
  let off = 0;
  if (m[3] !== undefined) {
    const v = m[2] === '-' ? -BigInt(m[3]) : BigInt(m[3]);
    if (v < -0x8000n || v > 0x7fffn) throw asmError(line, text, `offset ${v} does not fit in 16 bits`);
    off = Number(v);
  }
  return { reg, off };
}

/** Splits operands on commas outside brackets. */
function splitOperands(s: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (const ch of s) {
    if (ch === '[') depth++;
    if (ch === ']') depth--;
    if (ch === ',' && depth === 0) {
      out.push(cur.trim());
      cur = '';
    } else cur += ch;
  }
  if (cur.trim() !== '') out.push(cur.trim());
  return out;
}

/** A jump target: `+N`, `-N`, a bare number or a label; returns the relative offset. */
function resolveTarget(tok: string | undefined, labels: Map<string, number>, pc: number, line: number, text: string): number {
  const t = (tok ?? '').trim();
  if (/^[+-]?(0x[0-9a-f]+|\d+)$/i.test(t)) return Number(parseBig(t, line, text));
  const target = labels.get(t);
  if (target === undefined) throw asmError(line, text, `unknown label '${t}'`);
  return target - (pc + 1);
}

function expect(ops: string[], n: number, line: number, text: string): void {
  if (ops.length !== n) throw asmError(line, text, `expected ${n} operand${n === 1 ? '' : 's'}, got ${ops.length}`);
}

function fixed(insns: BpfInsn[], line: number, text: string): Pending {
  return { line, text, slots: insns.length, emit: () => insns };
}

/** Parses one instruction (no label, no comment). */
function parseInsn(text: string, line: number): Pending {
  const body = text.trim();
  const sp = body.search(/\s/);
  let mn = (sp < 0 ? body : body.slice(0, sp)).toLowerCase();
  let rest = sp < 0 ? '' : body.slice(sp + 1).trim();

  if (mn === '.raw') return fixed([decodeInsnU64(parseBig(rest, line, text))], line, text);
  if (mn === 'exit') {
    if (rest !== '') throw asmError(line, text, 'exit takes no operands');
    return fixed([bpfInsn(0x95)], line, text);
  }
  if (mn === 'lock') {
    // lock [fetch] op[32] [mem], %r
    const sp2 = rest.search(/\s/);
    let op = rest.slice(0, sp2).toLowerCase();
    rest = rest.slice(sp2 + 1).trim();
    let fetch = 0;
    if (op === 'fetch') {
      fetch = BPF_FETCH;
      const sp3 = rest.search(/\s/);
      op = rest.slice(0, sp3).toLowerCase();
      rest = rest.slice(sp3 + 1).trim();
    }
    let size = 0x18;
    if (op.endsWith('32')) {
      size = 0x00;
      op = op.slice(0, -2);
    }
    let imm: number;
    if (op === 'xchg' || op === 'cmpxchg') {
      if (fetch) throw asmError(line, text, `${op} always fetches; drop 'fetch'`);
      imm = op === 'xchg' ? BPF_XCHG : BPF_CMPXCHG;
    } else {
      const a = ATOMIC_OPS[op];
      if (a === undefined) throw asmError(line, text, `unknown atomic operation '${op}'`);
      imm = a | fetch;
    }
    const ops = splitOperands(rest);
    expect(ops, 2, line, text);
    const m = parseMem(ops[0], line, text);
    return fixed([bpfInsn(0x03 | BPF_ATOMIC | size, m.reg, parseReg(ops[1], line, text), m.off, imm)], line, text);
  }

  const ops = splitOperands(rest);

  if (mn === 'call') {
    expect(ops, 1, line, text);
    const t = ops[0]!;
    if (isReg(t)) return fixed([bpfInsn(0x8d, parseReg(t, line, text))], line, text);
    const local = /^local\s+(.+)$/i.exec(t);
    if (local) {
      const target = local[1]!.trim();
      return { line, text, slots: 1, emit: (labels, pc) => [bpfInsn(0x85, 0, 1, 0, resolveTarget(target, labels, pc, line, text))] };
    }
    const kf = /^kfunc\s+(.+)$/i.exec(t);
    if (kf) return fixed([bpfInsn(0x85, 0, 2, 0, parseImm32(kf[1], line, text))], line, text);
    return fixed([bpfInsn(0x85, 0, 0, 0, parseImm32(t, line, text))], line, text);
  }

  if (mn === 'lddw') {
    expect(ops.length >= 2 ? ops.slice(0, 2) : ops, 2, line, text);
    const dst = parseReg(ops[0], line, text);
    const v = ops[1]!;
    const pseudo = /^(map_fd|map_idx|map_value|map_idx_value|var_addr|code_addr)\s+(.+)$/i.exec(v);
    if (pseudo) {
      const kind = pseudo[1]!.toLowerCase();
      const arg = pseudo[2]!.trim();
      if (kind === 'code_addr') {
        return {
          line,
          text,
          slots: 2,
          emit: (labels, pc) => {
            const [a, b] = bpfLddw(dst, 0n, 4);
            a.imm = resolveTarget(arg, labels, pc, line, text);
            return [a, b];
          },
        };
      }
      const src = { map_fd: 1, map_value: 2, var_addr: 3, map_idx: 5, map_idx_value: 6 }[kind as 'map_fd']!;
      const n = parseImm32(arg, line, text);
      const hasOff = src === 2 || src === 6;
      if (ops.length !== (hasOff ? 3 : 2)) throw asmError(line, text, `lddw ${kind} takes ${hasOff ? 'an index and an offset' : 'one index'}`);
      const offv = hasOff ? parseImm32(ops[2], line, text) : 0;
      const [a, b] = bpfLddw(dst, 0n, src);
      a.imm = n;
      b.imm = offv;
      return fixed([a, b], line, text);
    }
    expect(ops, 2, line, text);
    const val = parseBig(v, line, text);
    if (val < -(1n << 63n) || val >= 1n << 64n) throw asmError(line, text, 'lddw immediate does not fit in 64 bits');
    return fixed(bpfLddw(dst, val), line, text);
  }

  // legacy packet loads
  const ld = /^ld(abs|ind)(b|h|w)$/.exec(mn);
  if (ld) {
    const size = SIZE_SUFFIX[ld[2]!]!;
    if (ld[1] === 'abs') {
      expect(ops, 1, line, text);
      return fixed([bpfInsn(0x20 | size, 0, 0, 0, parseImm32(ops[0], line, text))], line, text);
    }
    expect(ops, 2, line, text);
    return fixed([bpfInsn(0x40 | size, 0, parseReg(ops[0], line, text), 0, parseImm32(ops[1], line, text))], line, text);
  }

  // loads / stores
  const ldx = /^ldx(s?)(b|h|w|dw)$/.exec(mn);
  if (ldx) {
    expect(ops, 2, line, text);
    if (ldx[1] === 's' && ldx[2] === 'dw') throw asmError(line, text, 'no sign-extending 8-byte load');
    const m = parseMem(ops[1], line, text);
    const mode = ldx[1] === 's' ? 0x80 : 0x60;
    return fixed([bpfInsn(0x01 | mode | SIZE_SUFFIX[ldx[2]!]!, parseReg(ops[0], line, text), m.reg, m.off)], line, text);
  }
  const st = /^st(x?)(b|h|w|dw)$/.exec(mn);
  if (st) {
    expect(ops, 2, line, text);
    const m = parseMem(ops[0], line, text);
    const size = SIZE_SUFFIX[st[2]!]!;
    if (st[1] === 'x') return fixed([bpfInsn(0x63 | size, m.reg, parseReg(ops[1], line, text), m.off)], line, text);
    return fixed([bpfInsn(0x62 | size, m.reg, 0, m.off, parseImm32(ops[1], line, text))], line, text);
  }

  // byte swaps
  const end = /^(le|be|bswap|swap)(16|32|64)$/.exec(mn); // swapN: the suite's alias of bswapN
  if (end) {
    expect(ops, 1, line, text);
    const opcode = end[1] === 'le' ? 0xd4 : end[1] === 'be' ? 0xdc : 0xd7;
    return fixed([bpfInsn(opcode, parseReg(ops[0], line, text), 0, 0, Number(end[2]))], line, text);
  }

  // movsx
  const msx = /^movsx(8|16|32)(32|64)$/.exec(mn);
  if (msx) {
    expect(ops, 2, line, text);
    const width = Number(msx[1]);
    const cls = msx[2] === '64' ? BPF_ALU64 : BPF_ALU;
    if (cls === BPF_ALU && width === 32) throw asmError(line, text, 'movsx3232 does not exist');
    return fixed([bpfInsn(cls | BPF_X | 0xb0, parseReg(ops[0], line, text), parseReg(ops[1], line, text), width)], line, text);
  }

  // jumps
  if (mn === 'ja' || mn === 'ja32') {
    expect(ops, 1, line, text);
    const target = ops[0]!;
    if (mn === 'ja') return { line, text, slots: 1, emit: (labels, pc) => [bpfInsn(0x05, 0, 0, checkOff(resolveTarget(target, labels, pc, line, text), line, text))] };
    return { line, text, slots: 1, emit: (labels, pc) => [bpfInsn(0x06, 0, 0, 0, resolveTarget(target, labels, pc, line, text))] };
  }
  let cls32 = false;
  if (mn.endsWith('32')) {
    cls32 = true;
    mn = mn.slice(0, -2);
  }
  const jop = BPF_JMP_MNEMONICS[mn];
  if (jop !== undefined) {
    expect(ops, 3, line, text);
    const dst = parseReg(ops[0], line, text);
    const cls = cls32 ? BPF_JMP32 : BPF_JMP;
    const x = isReg(ops[1]);
    const src = x ? parseReg(ops[1], line, text) : 0;
    const imm = x ? 0 : parseImm32(ops[1], line, text);
    const target = ops[2]!;
    return {
      line,
      text,
      slots: 1,
      emit: (labels, pc) => [bpfInsn(cls | (x ? BPF_X : BPF_K) | jop, dst, src, checkOff(resolveTarget(target, labels, pc, line, text), line, text), imm)],
    };
  }
  const aop = BPF_ALU_MNEMONICS[mn];
  if (aop !== undefined) {
    const cls = cls32 ? BPF_ALU : BPF_ALU64;
    const signed = mn === 'sdiv' || mn === 'smod' ? 1 : 0;
    if (mn === 'neg') {
      expect(ops, 1, line, text);
      return fixed([bpfInsn(cls | aop, parseReg(ops[0], line, text))], line, text);
    }
    expect(ops, 2, line, text);
    const dst = parseReg(ops[0], line, text);
    if (isReg(ops[1])) return fixed([bpfInsn(cls | BPF_X | aop, dst, parseReg(ops[1], line, text), signed)], line, text);
    return fixed([bpfInsn(cls | aop, dst, 0, signed, parseImm32(ops[1], line, text))], line, text);
  }
  throw asmError(line, text, `unknown mnemonic '${mn}${cls32 ? '32' : ''}'`);
}

function checkOff(off: number, line: number, text: string): number {
  if (off < -0x8000 || off > 0x7fff) throw asmError(line, text, `jump offset ${off} does not fit in 16 bits (use ja32)`);
  return off;
}

/**
 * Assembles text into instruction slots. Throws NetworkError PARSE_ERROR naming the line on any error.
 * (`assemble(text)` in program.ts wraps the result in a BpfProgram.)
 */
export function assembleBpfInsns(source: string): BpfInsn[] {
  const pending: Pending[] = [];
  const labels = new Map<string, number>();
  let pc = 0;
  let firstExit = -1;
  const lines = source.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    let text = lines[i]!;
    const hash = text.indexOf('#');
    if (hash >= 0) text = text.slice(0, hash);
    text = text.trim();
    // labels (possibly several, possibly followed by an instruction)
    for (;;) {
      const m = /^([A-Za-z_.$][\w.$]*)\s*:(.*)$/.exec(text);
      if (!m) break;
      if (labels.has(m[1]!)) throw asmError(i + 1, lines[i]!, `label '${m[1]}' defined twice`);
      labels.set(m[1]!, pc);
      text = m[2]!.trim();
    }
    if (text === '') continue;
    const p = parseInsn(text, i + 1);
    if (firstExit < 0 && /^exit$/i.test(text)) firstExit = pc;
    pending.push(p);
    pc += p.slots;
  }
  if (firstExit >= 0 && !labels.has('exit')) labels.set('exit', firstExit);
  const out: BpfInsn[] = [];
  for (const p of pending) out.push(...p.emit(labels, out.length));
  return out;
}
