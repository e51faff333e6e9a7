/**
 * Classic BPF (the BPF of libpcap/tcpdump and SO_ATTACH_FILTER) → eBPF, the way Linux converts it
 * (net/core/filter.c bpf_convert_filter):
 *
 *   A → r0, X → r7, M[k] → the 32-bit stack word at r10 − (16 − k) · 4, r6 = the packet (r1 at entry),
 *   r9 = the packet length (r2 at entry), r2/r3 scratch.
 *
 * Packet loads become a length check plus a direct load and a byte swap (network order), where Linux emits
 * LD_ABS/LD_IND; the semantics are the same: a load beyond the packet ends the program with 0 ("drop").
 * A / X with X = 0 also returns 0 (as Linux's conversion does). Conditional jumps compare the low 32 bits
 * (JMP32), since A and X are 32-bit. Linux's extensions (ancillary loads at k ≥ SKF_AD_OFF) need an skb and
 * are rejected as UNSUPPORTED.
 *
 * Before translating, {@link checkClassicBpf} applies Linux's bpf_check_classic + check_load_and_stores:
 * known opcodes, jumps forward and inside, the last instruction a return, M[] indices < 16, no read of an
 * M[] word before it is written on every path, no division by a constant 0, shifts by a constant < 32.
 *
 * Input: the text of `tcpdump -dd` (`{ 0x28, 0, 0, 0x0000000c },`), `tcpdump -ddd` (count, then
 * `code jt jf k` per line) or `tcpdump -d` (`(000) ldh [12]`).
 */
import { NetworkError } from '../errors.js';
import { bpfInsn, bpfLddw, type BpfInsn } from './isa.js';

/** One classic BPF instruction (struct sock_filter). */
export interface CbpfInsn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

// Classic opcode parts (include/uapi/linux/filter.h, bpf_common.h).
const LD = 0x00, LDX = 0x01, ST = 0x02, STX = 0x03, ALU = 0x04, JMP = 0x05, RET = 0x06, MISC = 0x07;
const W = 0x00, H = 0x08, B = 0x10;
const IMM = 0x00, ABS = 0x20, IND = 0x40, MEM = 0x60, LEN = 0x80, MSH = 0xa0;
const K = 0x00, X = 0x08;
const RVAL_A = 0x10;
const TAX = 0x00, TXA = 0x80;
/** Most instructions in a classic program (BPF_MAXINSNS). */
export const CBPF_MAX_INSNS = 4096;
/** Scratch memory words (BPF_MEMWORDS). */
export const CBPF_MEMWORDS = 16;
/** Ancillary-data loads start here (SKF_AD_OFF = -0x1000). */
const SKF_AD_OFF = 0xfffff000;

function parseError(line: number, text: string, why: string): NetworkError {
  return new NetworkError('PARSE_ERROR', `classic BPF line ${line}: ${why}: ${text.trim()}`, { offset: line, field: 'line', actual: text.trim() });
}
function rejectedClassic(pc: number, reason: string): NetworkError {
  return new NetworkError('VERIFIER_REJECTED', `classic BPF rejected at instruction ${pc}: ${reason}`, { pc, insn: `cbpf ${pc}`, reason });
}

function num(s: string): number {
  const t = s.trim().toLowerCase();
  const v = t.startsWith('-') ? -Number(t.slice(1)) : Number(t);
  return v;
}

/** Mnemonics of `tcpdump -d` (libpcap bpf_image.c) to opcodes. */
const D_OPS: Record<string, number> = {
  ld: LD | W, ldh: LD | H, ldb: LD | B, ldx: LDX | W, ldxb: LDX | B, st: ST, stx: STX,
  add: ALU | 0x00, sub: ALU | 0x10, mul: ALU | 0x20, div: ALU | 0x30, or: ALU | 0x40, and: ALU | 0x50,
  lsh: ALU | 0x60, rsh: ALU | 0x70, neg: ALU | 0x80, mod: ALU | 0x90, xor: ALU | 0xa0,
  ja: JMP | 0x00, jmp: JMP | 0x00, jeq: JMP | 0x10, jgt: JMP | 0x20, jge: JMP | 0x30, jset: JMP | 0x40,
  ret: RET, tax: MISC | TAX, txa: MISC | TXA,
};

/** Parses one `tcpdump -d` line (pc = its index). */
function parseDLine(text: string, line: number, pc: number): CbpfInsn {
  const m = /^\s*\((\d+)\)\s+(\w+)\s*(.*?)\s*$/.exec(text);
  if (!m) throw parseError(line, text, 'not a tcpdump -d line');
  if (Number(m[1]) !== pc) throw parseError(line, text, `instruction number ${m[1]} out of order (expected ${pc})`);
  const mn = m[2]!.toLowerCase();
  let rest = m[3]!;
  let jt = 0;
  let jf = 0;
  const jm = /^(.*?)\s+jt\s+(\d+)\s+jf\s+(\d+)$/.exec(rest);
  if (jm) {
    rest = jm[1]!.trim();
    jt = Number(jm[2]) - pc - 1;
    jf = Number(jm[3]) - pc - 1;
  }
  const base = D_OPS[mn];
  if (base === undefined) throw parseError(line, text, `unknown mnemonic '${mn}'`);
  const cls = base & 7;
  const ins = (code: number, k = 0): CbpfInsn => ({ code, jt, jf, k: k >>> 0 });
  let mm: RegExpExecArray | null;
  if (cls === LD || cls === LDX) {
    if (rest === '#pktlen' || rest === '#len') return ins((cls === LD ? LD : LDX) | W | LEN);
    if ((mm = /^#(.+)$/.exec(rest))) return ins(cls | W | IMM, num(mm[1]!));
    if ((mm = /^M\[(\d+)\]$/.exec(rest))) return ins(cls | W | MEM, Number(mm[1]));
    if (mn === 'ldxb' && (mm = /^4\s*\*\s*\(\[(\d+)\]\s*&\s*0xf\)$/.exec(rest))) return ins(LDX | B | MSH, Number(mm[1]));
    if (cls === LD && (mm = /^\[x\s*\+\s*(\d+)\]$/.exec(rest))) return ins(base | IND, Number(mm[1]));
    if (cls === LD && (mm = /^\[(\d+)\]$/.exec(rest))) return ins(base | ABS, Number(mm[1]));
    throw parseError(line, text, `unknown operand '${rest}'`);
  }
  if (cls === ST || cls === STX) {
    if ((mm = /^M\[(\d+)\]$/.exec(rest))) return ins(base, Number(mm[1]));
    throw parseError(line, text, `unknown operand '${rest}'`);
  }
  if (cls === RET) {
    if (/^a$/i.test(rest) || rest === '') return ins(RET | RVAL_A);
    if ((mm = /^#(.+)$/.exec(rest))) return ins(RET | K, num(mm[1]!));
    throw parseError(line, text, `unknown operand '${rest}'`);
  }
  if (cls === MISC) return ins(base);
  if (cls === ALU) {
    if (mn === 'neg') return ins(base);
    if (/^x$/i.test(rest)) return ins(base | X);
    if ((mm = /^#(.+)$/.exec(rest))) return ins(base | K, num(mm[1]!));
    throw parseError(line, text, `unknown operand '${rest}'`);
  }
  // JMP
  if ((base & 0xf0) === 0x00) {
    const t = Number(rest);
    if (!Number.isInteger(t)) throw parseError(line, text, 'ja needs a target');
    return { code: JMP, jt: 0, jf: 0, k: t - pc - 1 };
  }
  if (/^x$/i.test(rest)) return ins(base | X);
  if ((mm = /^#(.+)$/.exec(rest))) return ins(base | K, num(mm[1]!));
  throw parseError(line, text, `unknown operand '${rest}'`);
}

/**
 * Parses the output of `tcpdump -dd`, `-ddd` or `-d` (lines that are none of these — e.g. "Warning: assuming
 * Ethernet" — are ignored). Throws PARSE_ERROR on malformed lines.
 */
export function parseClassicBpf(text: string): CbpfInsn[] {
  const lines = text.split(/\r?\n/);
  const out: CbpfInsn[] = [];
  const dd = /^\s*\{\s*(0x[0-9a-fA-F]+|\d+)\s*,\s*(\d+)\s*,\s*(\d+)\s*,\s*(0x[0-9a-fA-F]+|\d+)\s*\}\s*,?\s*$/;
  const ddd = /^\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*$/;
  const isD = lines.some((l) => /^\s*\(\d+\)\s+\w+/.test(l));
  let dddCount = -1;
  for (let i = 0; i < lines.length; i++) {
    const l = lines[i]!;
    if (l.trim() === '' || /^\s*(warning|reading|tcpdump)\b/i.test(l) || /^\s*(#|\/\/)/.test(l)) continue;
    let m: RegExpExecArray | null;
    if (isD) {
      out.push(parseDLine(l, i + 1, out.length));
    } else if ((m = dd.exec(l))) {
      out.push({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) >>> 0 });
    } else if ((m = ddd.exec(l))) {
      out.push({ code: Number(m[1]), jt: Number(m[2]), jf: Number(m[3]), k: Number(m[4]) >>> 0 });
    } else if (dddCount < 0 && out.length === 0 && /^\s*\d+\s*$/.test(l)) {
      dddCount = Number(l);
    } else {
      throw parseError(i + 1, l, 'not a classic BPF instruction (expected tcpdump -dd, -ddd or -d output)');
    }
  }
  if (dddCount >= 0 && dddCount !== out.length) {
    throw new NetworkError('PARSE_ERROR', `tcpdump -ddd said ${dddCount} instructions, found ${out.length}`, {
      expected: dddCount,
      actual: out.length,
    });
  }
  for (const [pc, i] of out.entries()) {
    if (i.code > 0xffff || i.jt > 255 || i.jf > 255 || i.k > 0xffffffff || i.k < 0 || Number.isNaN(i.k)) {
      throw new NetworkError('PARSE_ERROR', `classic BPF instruction ${pc} has a field out of range`, { pc });
    }
  }
  return out;
}

/** Linux bpf_check_classic + check_load_and_stores (net/core/filter.c). Throws VERIFIER_REJECTED. */
export function checkClassicBpf(prog: readonly CbpfInsn[]): void {
  const n = prog.length;
  if (n === 0 || n > CBPF_MAX_INSNS) throw rejectedClassic(0, `program length ${n} is not in 1..${CBPF_MAX_INSNS}`);
  for (let pc = 0; pc < n; pc++) {
    const f = prog[pc]!;
    const code = f.code;
    const cls = code & 7;
    switch (cls) {
      case LD: {
        const mode = code & 0xe0;
        const size = code & 0x18;
        if (mode === ABS || mode === IND) {
          if (size !== W && size !== H && size !== B) throw rejectedClassic(pc, 'bad load size');
          if (f.k >= SKF_AD_OFF || (mode === ABS && f.k >= 0x80000000)) {
            throw new NetworkError('UNSUPPORTED', `classic BPF instruction ${pc}: ancillary/negative-offset loads (k = 0x${f.k.toString(16)}) need a kernel skb`, { pc });
          }
        } else if (!((mode === IMM || mode === LEN || mode === MEM) && size === W)) throw rejectedClassic(pc, `unknown load 0x${code.toString(16)}`);
        if (mode === MEM && f.k >= CBPF_MEMWORDS) throw rejectedClassic(pc, `M[${f.k}] is out of range`);
        if (code & ~0xff) throw rejectedClassic(pc, 'unknown opcode');
        break;
      }
      case LDX: {
        const ok = code === (LDX | W | IMM) || code === (LDX | W | MEM) || code === (LDX | W | LEN) || code === (LDX | B | MSH);
        if (!ok) throw rejectedClassic(pc, `unknown load 0x${code.toString(16)}`);
        if (code === (LDX | W | MEM) && f.k >= CBPF_MEMWORDS) throw rejectedClassic(pc, `M[${f.k}] is out of range`);
        if (code === (LDX | B | MSH) && f.k >= 0x80000000) throw rejectedClassic(pc, 'negative offset');
        break;
      }
      case ST:
      case STX:
        if (code !== cls) throw rejectedClassic(pc, `unknown store 0x${code.toString(16)}`);
        if (f.k >= CBPF_MEMWORDS) throw rejectedClassic(pc, `M[${f.k}] is out of range`);
        break;
      case ALU: {
        const op = code & 0xf0;
        if (op > 0xa0 || (code & ~0xff)) throw rejectedClassic(pc, `unknown ALU 0x${code.toString(16)}`);
        if (op === 0x80 && code !== (ALU | 0x80)) throw rejectedClassic(pc, 'bad neg');
        if ((code & X) === 0 && (op === 0x30 || op === 0x90) && f.k === 0) throw rejectedClassic(pc, 'division by constant zero');
        if ((code & X) === 0 && (op === 0x60 || op === 0x70) && f.k >= 32) throw rejectedClassic(pc, `shift by ${f.k}`);
        break;
      }
      case JMP: {
        const op = code & 0xf0;
        if (code & ~0xff) throw rejectedClassic(pc, 'unknown jump');
        if (op === 0x00) {
          if (code !== JMP) throw rejectedClassic(pc, 'bad ja');
          if (f.k >= n - pc - 1) throw rejectedClassic(pc, `ja target ${pc + 1 + f.k} is outside the program`);
        } else {
          if (op > 0x40) throw rejectedClassic(pc, `unknown jump 0x${code.toString(16)}`);
          if (pc + f.jt + 1 >= n || pc + f.jf + 1 >= n) throw rejectedClassic(pc, 'conditional jump target is outside the program');
        }
        break;
      }
      case RET:
        if (code !== (RET | K) && code !== (RET | RVAL_A)) throw rejectedClassic(pc, `unknown return 0x${code.toString(16)}`);
        break;
      default:
        if (code !== (MISC | TAX) && code !== (MISC | TXA)) throw rejectedClassic(pc, `unknown misc 0x${code.toString(16)}`);
    }
  }
  if ((prog[n - 1]!.code & 7) !== RET) throw rejectedClassic(n - 1, 'the last instruction is not a return');
  // check_load_and_stores: every M[k] read must follow a write on every path (jumps only go forward).
  const masks = new Uint16Array(n).fill(0xffff);
  let valid = 0;
  for (let pc = 0; pc < n; pc++) {
    valid &= masks[pc]!;
    const f = prog[pc]!;
    const cls = f.code & 7;
    if (f.code === (ST) || f.code === STX) valid |= 1 << f.k;
    else if (f.code === (LD | W | MEM) || f.code === (LDX | W | MEM)) {
      if (!(valid & (1 << f.k))) throw rejectedClassic(pc, `M[${f.k}] is read before it is written`);
    } else if (cls === JMP) {
      if ((f.code & 0xf0) === 0) masks[pc + 1 + f.k]! &= valid;
      else {
        masks[pc + 1 + f.jt]! &= valid;
        masks[pc + 1 + f.jf]! &= valid;
      }
      valid = 0xffff;
    } else if (cls === RET) valid = 0xffff;
  }
}

// eBPF registers of the translation (Linux: BPF_REG_A = r0, BPF_REG_X = r7, BPF_REG_CTX = r6).
const RA = 0, RX = 7, RPKT = 6, RLEN = 9, T1 = 2, T2 = 3;

/**
 * Translates a checked classic program to eBPF slots (call {@link checkClassicBpf} first, or use
 * {@link compileClassicBpf}). The result starts with r1 = packet, r2 = its length, as every program here.
 */
export function classicToEbpf(prog: readonly CbpfInsn[]): BpfInsn[] {
  const out: BpfInsn[] = [];
  const startOf = new Int32Array(prog.length + 1);
  /** Jumps to patch: slot, target (classic index, or -1 = the shared "return 0"). */
  const fix: { at: number; target: number }[] = [];
  const e = (op: number, dst = 0, src = 0, off = 0, imm = 0) => out.push(bpfInsn(op, dst, src, off, imm));
  const jmpTo = (op: number, dst: number, src: number, imm: number, target: number) => {
    fix.push({ at: out.length, target });
    e(op, dst, src, 0, imm);
  };
  // Prologue. Linux zeroes A and X with xor; mov keeps the verifier's "read before init" check happy.
  e(0xbf, RPKT, 1); // mov r6, r1
  e(0xbf, RLEN, 2); // mov r9, r2
  e(0xb4, RA, 0, 0, 0); // mov32 r0, 0
  e(0xb4, RX, 0, 0, 0); // mov32 r7, 0
  const sizeOf = (code: number) => ((code & 0x18) === W ? 4 : (code & 0x18) === H ? 2 : 1);
  const ldxOp = (size: number) => (size === 4 ? 0x61 : size === 2 ? 0x69 : 0x71);
  const swap = (size: number) => {
    if (size > 1) e(0xdc, RA, 0, 0, size * 8); // be16/be32 r0: network to host order
  };
  /** Loads `size` bytes at constant offset k into `dst`, returning 0 from the program when out of range. */
  const loadAbs = (k: number, size: number, dst: number) => {
    const end = k + size;
    if (end > 0x7fffffff) {
      out.push(...bpfLddw(T1, BigInt(end)));
      jmpTo(0xad, RLEN, T1, 0, -1); // jlt r9, r2, ret0
    } else jmpTo(0xa5, RLEN, 0, end, -1); // jlt r9, end, ret0
    if (k <= 0x7fff) e(ldxOp(size), dst, RPKT, k);
    else {
      e(0xbf, T1, RPKT); // mov r2, r6
      if (k <= 0x7fffffff) e(0x07, T1, 0, 0, k);
      else {
        out.push(...bpfLddw(T2, BigInt(k)));
        e(0x0f, T1, T2);
      }
      e(ldxOp(size), dst, T1, 0);
    }
  };
  const memOff = (k: number) => -(CBPF_MEMWORDS - k) * 4;
  for (let pc = 0; pc < prog.length; pc++) {
    startOf[pc] = out.length;
    const f = prog[pc]!;
    const code = f.code;
    const k = f.k >>> 0;
    const kImm = k | 0;
    switch (code & 7) {
      case LD: {
        const mode = code & 0xe0;
        if (mode === ABS) {
          loadAbs(k, sizeOf(code), RA);
          swap(sizeOf(code));
        } else if (mode === IND) {
          const size = sizeOf(code);
          // Offset X + k wraps at 32 bits (Linux computes it as an int); then offset + size ≤ len.
          e(0xbc, T1, RX); // mov32 r2, r7
          e(0x04, T1, 0, 0, kImm); // add32 r2, k
          e(0xbf, T2, T1); // mov r3, r2
          e(0x07, T2, 0, 0, size); // add r3, size
          jmpTo(0x2d, T2, RLEN, 0, -1); // jgt r3, r9, ret0
          e(0x0f, T1, RPKT); // add r2, r6
          e(ldxOp(size), RA, T1, 0);
          swap(size);
        } else if (mode === LEN) e(0xbc, RA, RLEN);
        else if (mode === MEM) e(0x61, RA, 10, memOff(k));
        else e(0xb4, RA, 0, 0, kImm);
        break;
      }
      case LDX:
        if (code === (LDX | B | MSH)) {
          loadAbs(k, 1, RX);
          e(0x54, RX, 0, 0, 0xf); // and32 r7, 0xf
          e(0x64, RX, 0, 0, 2); // lsh32 r7, 2
        } else if ((code & 0xe0) === LEN) e(0xbc, RX, RLEN);
        else if ((code & 0xe0) === MEM) e(0x61, RX, 10, memOff(k));
        else e(0xb4, RX, 0, 0, kImm);
        break;
      case ST:
        e(0x63, 10, RA, memOff(k));
        break;
      case STX:
        e(0x63, 10, RX, memOff(k));
        break;
      case ALU: {
        const op = code & 0xf0;
        if (op === 0x80) e(0x84, RA);
        else if (code & X) {
          if (op === 0x30 || op === 0x90) jmpTo(0x16, RX, 0, 0, -1); // jeq32 r7, 0, ret0
          e(0x0c | op, RA, RX);
        } else e(0x04 | op, RA, 0, 0, kImm);
        break;
      }
      case JMP: {
        const op = code & 0xf0;
        if (op === 0x00) {
          if (k !== 0) jmpTo(0x05, 0, 0, 0, pc + 1 + k);
          break;
        }
        const t = pc + 1 + f.jt;
        const fl = pc + 1 + f.jf;
        const x = (code & X) !== 0;
        const cmp = (o: number, target: number) => jmpTo(0x06 | o | (x ? 0x08 : 0), RA, x ? RX : 0, x ? 0 : kImm, target);
        if (t === fl) {
          if (t !== pc + 1) jmpTo(0x05, 0, 0, 0, t);
        } else if (t === pc + 1 && op !== 0x40) {
          // Only the false edge jumps: use the negated test (jeq→jne, jgt→jle, jge→jlt).
          const inv = op === 0x10 ? 0x50 : op === 0x20 ? 0xb0 : 0xa0;
          cmp(inv, fl);
        } else {
          cmp(op, t);
          if (fl !== pc + 1) jmpTo(0x05, 0, 0, 0, fl);
        }
        break;
      }
      case RET:
        if ((code & 0x18) === K) e(0xb4, RA, 0, 0, kImm);
        e(0x95);
        break;
      default:
        if (code === (MISC | TAX)) e(0xbc, RX, RA);
        else e(0xbc, RA, RX);
    }
  }
  startOf[prog.length] = out.length;
  let ret0 = -1;
  if (fix.some((f) => f.target === -1)) {
    ret0 = out.length;
    e(0xb4, RA, 0, 0, 0);
    e(0x95);
  }
  for (const { at, target } of fix) {
    const dest = target === -1 ? ret0 : startOf[target]!;
    const rel = dest - at - 1;
    if (rel > 0x7fff || rel < -0x8000) {
      throw new NetworkError('UNSUPPORTED', `classic BPF program too large to translate: a jump spans ${rel} eBPF slots`, { pc: at });
    }
    out[at] = { ...out[at]!, off: rel };
  }
  return out;
}

/** Parses (tcpdump -dd / -ddd / -d text), checks and translates a classic program to eBPF slots. */
export function compileClassicBpf(source: string | readonly CbpfInsn[]): BpfInsn[] {
  const prog = typeof source === 'string' ? parseClassicBpf(source) : source;
  checkClassicBpf(prog);
  return classicToEbpf(prog);
}

/**
 * Runs a classic program directly with Linux semantics (the reference the translation is tested against):
 * returns the program's return value (0 = drop).
 */
export function runClassicBpf(prog: readonly CbpfInsn[], pkt: Uint8Array): number {
  checkClassicBpf(prog);
  let A = 0;
  let Xr = 0;
  const M = new Uint32Array(CBPF_MEMWORDS);
  const len = pkt.length;
  const load = (off: number, size: number): number | null => {
    if (off < 0 || off + size > len) return null;
    if (size === 1) return pkt[off]!;
    if (size === 2) return (pkt[off]! << 8) | pkt[off + 1]!;
    return ((pkt[off]! << 24) | (pkt[off + 1]! << 16) | (pkt[off + 2]! << 8) | pkt[off + 3]!) >>> 0;
  };
  for (let pc = 0; pc < prog.length; pc++) {
    const f = prog[pc]!;
    const k = f.k >>> 0;
    const code = f.code;
    switch (code & 7) {
      case LD: {
        const mode = code & 0xe0;
        const size = (code & 0x18) === W ? 4 : (code & 0x18) === H ? 2 : 1;
        if (mode === ABS || mode === IND) {
          const off = mode === ABS ? k : (Xr + k) >>> 0;
          const v = load(off, size);
          if (v === null) return 0;
          A = v;
        } else if (mode === LEN) A = len;
        else if (mode === MEM) A = M[k]!;
        else A = k;
        break;
      }
      case LDX:
        if (code === (LDX | B | MSH)) {
          const v = load(k, 1);
          if (v === null) return 0;
          Xr = (v & 0xf) << 2;
        } else if ((code & 0xe0) === LEN) Xr = len;
        else if ((code & 0xe0) === MEM) Xr = M[k]!;
        else Xr = k;
        break;
      case ST:
        M[k] = A;
        break;
      case STX:
        M[k] = Xr;
        break;
      case ALU: {
        const b = code & X ? Xr : k;
        switch (code & 0xf0) {
          case 0x00: A = (A + b) >>> 0; break;
          case 0x10: A = (A - b) >>> 0; break;
          case 0x20: A = Math.imul(A, b) >>> 0; break;
          case 0x30: if (b === 0) return 0; A = Math.floor(A / b) >>> 0; break;
          case 0x40: A = (A | b) >>> 0; break;
          case 0x50: A = (A & b) >>> 0; break;
          case 0x60: A = (A << (b & 31)) >>> 0; break;
          case 0x70: A = A >>> (b & 31); break;
          case 0x80: A = -A >>> 0; break;
          case 0x90: if (b === 0) return 0; A = A % b; break;
          default: A = (A ^ b) >>> 0;
        }
        break;
      }
      case JMP: {
        const op = code & 0xf0;
        if (op === 0) {
          pc += k;
          break;
        }
        const b = code & X ? Xr : k;
        const taken = op === 0x10 ? A === b : op === 0x20 ? A > b : op === 0x30 ? A >= b : (A & b) !== 0;
        pc += taken ? f.jt : f.jf;
        break;
      }
      case RET:
        return (code & 0x18) === K ? k : A;
      default:
        if (code === (MISC | TAX)) Xr = A;
        else A = Xr;
    }
  }
  return 0;
}
