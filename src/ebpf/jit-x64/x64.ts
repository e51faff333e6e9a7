// A small x86-64 assembler: exactly the instruction forms the eBPF translator needs, encoded by hand.
// Encodings follow the Intel SDM vol. 2 (REX, ModRM, SIB). Special cases that bite: rsp/r12 as a base need a
// SIB byte, rbp/r13 as a base with no displacement need mod=01 + disp8 0, and byte registers 4–7 (spl, bpl,
// sil, dil) need an (empty) REX prefix or they mean ah/ch/dh/bh.
import { NetworkError } from '../../errors.js';

/** x86-64 general-purpose registers by hardware number. */
export const X64 = {
  rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7,
  r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15,
} as const;
/** A register number 0..15. */
export type X64Reg = number;

/** Names of the registers at 64, 32, 16 and 8 bits (objdump's spelling). */
export const X64_REG_NAMES: Record<64 | 32 | 16 | 8, readonly string[]> = {
  64: ['rax', 'rcx', 'rdx', 'rbx', 'rsp', 'rbp', 'rsi', 'rdi', 'r8', 'r9', 'r10', 'r11', 'r12', 'r13', 'r14', 'r15'],
  32: ['eax', 'ecx', 'edx', 'ebx', 'esp', 'ebp', 'esi', 'edi', 'r8d', 'r9d', 'r10d', 'r11d', 'r12d', 'r13d', 'r14d', 'r15d'],
  16: ['ax', 'cx', 'dx', 'bx', 'sp', 'bp', 'si', 'di', 'r8w', 'r9w', 'r10w', 'r11w', 'r12w', 'r13w', 'r14w', 'r15w'],
  8: ['al', 'cl', 'dl', 'bl', 'spl', 'bpl', 'sil', 'dil', 'r8b', 'r9b', 'r10b', 'r11b', 'r12b', 'r13b', 'r14b', 'r15b'],
};

/** A memory operand [base + index*scale + disp]. */
export interface X64Mem {
  base: X64Reg;
  index?: X64Reg;
  scale?: 1 | 2 | 4 | 8;
  disp: number;
}

/** Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
export const CC = {
  o: 0, no: 1, b: 2, ae: 3, e: 4, ne: 5, be: 6, a: 7, s: 8, ns: 9, p: 10, np: 11, l: 12, ge: 13, le: 14, g: 15,
} as const;
export type X64Cond = number;

/** Operand widths in bits. */
export type X64Width = 8 | 16 | 32 | 64;

/** The /digit or opcode of the classic two-operand ALU group (ADD OR ADC SBB AND SUB XOR CMP). */
export const ALU = { add: 0, or: 1, adc: 2, sbb: 3, and: 4, sub: 5, xor: 6, cmp: 7 } as const;
/** The /digit of the shift group (C1/D1/D3). */
export const SHIFT = { rol: 0, ror: 1, shl: 4, shr: 5, sar: 7 } as const;

/** A label: a position in the code, bound once, referenced by jumps before or after binding. */
export class X64Label {
  pos = -1;
  readonly name: string;
  constructor(name = '') {
    this.name = name;
  }
}

interface Fixup {
  at: number; // position of the rel32 field
  label: X64Label;
}

function isInt8(v: number): boolean {
  return v >= -128 && v <= 127;
}

function checkInt32(v: number, what: string): void {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0xffffffff) {
    throw new NetworkError('INVALID_ARGUMENT', `x64: ${what} ${v} does not fit 32 bits`);
  }
}

/** Emits x86-64 machine code into a growing byte buffer. */
export class X64Assembler {
  private buf: Uint8Array = new Uint8Array(4096);
  private len = 0;
  private readonly fixups: Fixup[] = [];

  /** Bytes emitted so far. */
  get size(): number {
    return this.len;
  }

  /** A copy of the finished code; every label referenced must be bound. */
  finish(): Uint8Array {
    for (const f of this.fixups) {
      if (f.label.pos < 0) throw new NetworkError('INVALID_ARGUMENT', `x64: label ${f.label.name} never bound`);
      const rel = f.label.pos - (f.at + 4);
      this.patch32(f.at, rel);
    }
    return this.buf.slice(0, this.len);
  }

  byte(b: number): void {
    if (this.len === this.buf.length) {
      const n = new Uint8Array(this.buf.length * 2);
      n.set(this.buf);
      this.buf = n;
    }
    this.buf[this.len++] = b & 0xff;
  }

  bytes(...bs: number[]): void {
    for (const b of bs) this.byte(b);
  }

  imm16(v: number): void {
    this.byte(v);
    this.byte(v >> 8);
  }

  imm32(v: number): void {
    checkInt32(v, 'immediate');
    this.byte(v);
    this.byte(v >> 8);
    this.byte(v >> 16);
    this.byte(v >>> 24);
  }

  private patch32(at: number, v: number): void {
    this.buf[at] = v & 0xff;
    this.buf[at + 1] = (v >> 8) & 0xff;
    this.buf[at + 2] = (v >> 16) & 0xff;
    this.buf[at + 3] = (v >>> 24) & 0xff;
  }

  /** Binds a label here. */
  bind(l: X64Label): void {
    if (l.pos >= 0) throw new NetworkError('INVALID_ARGUMENT', `x64: label ${l.name} bound twice`);
    l.pos = this.len;
  }

  // REX: 0100WRXB. `force` emits it even when all bits are 0 (byte regs spl..dil).
  private rex(w: boolean, r: number, x: number, b: number, force = false): void {
    const v = 0x40 | (w ? 8 : 0) | ((r >> 3) & 1) << 2 | ((x >> 3) & 1) << 1 | ((b >> 3) & 1);
    if (v !== 0x40 || force) this.byte(v);
  }

  private modrmReg(reg: number, rm: number): void {
    this.byte(0xc0 | ((reg & 7) << 3) | (rm & 7));
  }

  // ModRM (+SIB +disp) for a memory operand; `reg` is the register or /digit field.
  private modrmMem(reg: number, m: X64Mem): void {
    checkInt32(m.disp, 'displacement');
    if (m.disp > 0x7fffffff) throw new NetworkError('INVALID_ARGUMENT', `x64: displacement ${m.disp} exceeds int32`);
    const base = m.base & 7;
    const hasIndex = m.index !== undefined;
    if (hasIndex && (m.index! & 15) === X64.rsp) throw new NetworkError('INVALID_ARGUMENT', 'x64: rsp cannot be an index');
    // rbp/r13 (low bits 101) with mod=00 means RIP-relative / no base: force a disp8 of 0.
    const mod = m.disp === 0 && base !== 5 ? 0 : isInt8(m.disp) ? 1 : 2;
    if (hasIndex || base === 4) {
      // rsp/r12 (low bits 100) as base always need a SIB byte.
      this.byte((mod << 6) | ((reg & 7) << 3) | 4);
      const scale = m.scale ?? 1;
      const ss = scale === 8 ? 3 : scale === 4 ? 2 : scale === 2 ? 1 : 0;
      const idx = hasIndex ? m.index! & 7 : 4; // index 100 = none
      this.byte((ss << 6) | (idx << 3) | base);
    } else {
      this.byte((mod << 6) | ((reg & 7) << 3) | base);
    }
    if (mod === 1) this.byte(m.disp);
    else if (mod === 2) this.imm32(m.disp);
  }

  private rexMem(w: boolean, reg: number, m: X64Mem, force = false): void {
    this.rex(w, reg, m.index ?? 0, m.base, force);
  }

  // ---- register/register ALU ----

  /** op dst, src for the ALU group (add, or, and, sub, xor, cmp …), 32 or 64 bits. */
  aluRR(op: number, width: 32 | 64, dst: X64Reg, src: X64Reg): void {
    this.rex(width === 64, src, 0, dst);
    this.byte((op << 3) | 1);
    this.modrmReg(src, dst);
  }

  /** op dst, imm for the ALU group; imm8 form when it fits. */
  aluRI(op: number, width: 32 | 64, dst: X64Reg, imm: number): void {
    checkInt32(imm, 'immediate');
    const v = imm | 0;
    this.rex(width === 64, 0, 0, dst);
    if (isInt8(v)) {
      this.byte(0x83);
      this.modrmReg(op, dst);
      this.byte(v);
    } else {
      this.byte(0x81);
      this.modrmReg(op, dst);
      this.imm32(v);
    }
  }

  /** op [mem], imm (64-bit or 32-bit operand). */
  aluMI(op: number, width: 32 | 64, m: X64Mem, imm: number): void {
    const v = imm | 0;
    this.rexMem(width === 64, 0, m);
    if (isInt8(v)) {
      this.byte(0x83);
      this.modrmMem(op, m);
      this.byte(v);
    } else {
      this.byte(0x81);
      this.modrmMem(op, m);
      this.imm32(v);
    }
  }

  /** cmp [m], imm or test [m], imm on 8, 16 or 32 bits (the immediate as wide as the operand). */
  cmpTestMI(test: boolean, width: 8 | 16 | 32, m: X64Mem, imm: number): void {
    if (width === 16) this.byte(0x66);
    this.rexMem(false, 0, m);
    if (width === 8) {
      this.byte(test ? 0xf6 : 0x80);
      this.modrmMem(test ? 0 : ALU.cmp, m);
      this.byte(imm);
      return;
    }
    if (!test && isInt8(imm | 0) && (width === 32 || isInt8((imm << 16) >> 16))) {
      // 83 /7 ib: the byte is sign-extended to the operand width.
      this.byte(0x83);
      this.modrmMem(ALU.cmp, m);
      this.byte(imm);
      return;
    }
    this.byte(test ? 0xf7 : 0x81);
    this.modrmMem(test ? 0 : ALU.cmp, m);
    if (width === 16) this.imm16(imm);
    else this.imm32(imm | 0);
  }

  /** rol r16, 8: swaps the two low bytes (a 16-bit byte swap), bits 16..63 unchanged. */
  rol16By8(r: X64Reg): void {
    this.byte(0x66);
    this.rex(false, 0, 0, r);
    this.byte(0xc1);
    this.modrmReg(SHIFT.rol, r);
    this.byte(8);
  }

  /** op reg, [mem] (e.g. cmp r, [m]; add r, [m]). */
  aluRM(op: number, width: 32 | 64, reg: X64Reg, m: X64Mem): void {
    this.rexMem(width === 64, reg, m);
    this.byte((op << 3) | 3);
    this.modrmMem(reg, m);
  }

  /** mov dst, src. */
  movRR(width: 32 | 64, dst: X64Reg, src: X64Reg): void {
    this.rex(width === 64, src, 0, dst);
    this.byte(0x89);
    this.modrmReg(src, dst);
  }

  /** test a, b. */
  testRR(width: 32 | 64, a: X64Reg, b: X64Reg): void {
    this.rex(width === 64, b, 0, a);
    this.byte(0x85);
    this.modrmReg(b, a);
  }

  /** test r, imm32 (64-bit form sign-extends the immediate). */
  testRI(width: 32 | 64, r: X64Reg, imm: number): void {
    this.rex(width === 64, 0, 0, r);
    this.byte(0xf7);
    this.modrmReg(0, r);
    this.imm32(imm | 0);
  }

  /** Loads a constant into r with the shortest exact encoding (xor, mov r32, mov r/m64 sign-extended, movabs). */
  movImm(r: X64Reg, value: bigint): void {
    const v = BigInt.asUintN(64, value);
    if (v === 0n) {
      this.aluRR(ALU.xor, 32, r, r);
    } else if (v <= 0xffffffffn) {
      this.movRI32(r, Number(v));
    } else if (BigInt.asIntN(64, v) >= -0x80000000n && BigInt.asIntN(64, v) < 0) {
      this.movRI64sx(r, Number(BigInt.asIntN(64, v)));
    } else {
      this.movabs(r, v);
    }
  }

  /** mov r32, imm32 (zero-extends into the 64-bit register). */
  movRI32(r: X64Reg, imm: number): void {
    this.rex(false, 0, 0, r);
    this.byte(0xb8 + (r & 7));
    this.imm32(imm >>> 0);
  }

  /** mov r64, imm32 sign-extended (REX.W C7 /0). */
  movRI64sx(r: X64Reg, imm: number): void {
    this.rex(true, 0, 0, r);
    this.byte(0xc7);
    this.modrmReg(0, r);
    this.imm32(imm | 0);
  }

  /** movabs r64, imm64 (REX.W B8+r). */
  movabs(r: X64Reg, imm: bigint): void {
    this.rex(true, 0, 0, r);
    this.byte(0xb8 + (r & 7));
    let v = BigInt.asUintN(64, imm);
    for (let i = 0; i < 8; i++) {
      this.byte(Number(v & 0xffn));
      v >>= 8n;
    }
  }

  /** lea dst, [mem]. */
  lea(dst: X64Reg, m: X64Mem): void {
    this.rexMem(true, dst, m);
    this.byte(0x8d);
    this.modrmMem(dst, m);
  }

  /** lea r32, [m]: the low 32 bits of the address, zero-extended. */
  lea32(dst: X64Reg, m: X64Mem): void {
    this.rexMem(false, dst, m);
    this.byte(0x8d);
    this.modrmMem(dst, m);
  }

  /** lea r32, [index*scale + disp32] (no base register: SIB base 101 under mod 00), zero-extended. */
  lea32Scaled(dst: X64Reg, index: X64Reg, scale: 1 | 2 | 4 | 8, disp: number): void {
    checkInt32(disp, 'displacement');
    if ((index & 15) === X64.rsp) throw new NetworkError('INVALID_ARGUMENT', 'x64: rsp cannot be an index');
    this.rex(false, dst, index, 0);
    this.byte(0x8d);
    this.byte(((dst & 7) << 3) | 4);
    this.byte(((scale === 8 ? 3 : scale === 4 ? 2 : scale === 2 ? 1 : 0) << 6) | ((index & 7) << 3) | 5);
    this.imm32(disp);
  }

  // ---- loads and stores ----

  /** Zero-extending load of 8/16/32/64 bits into dst. */
  load(width: X64Width, dst: X64Reg, m: X64Mem): void {
    if (width === 8) {
      this.rexMem(false, dst, m);
      this.bytes(0x0f, 0xb6);
    } else if (width === 16) {
      this.rexMem(false, dst, m);
      this.bytes(0x0f, 0xb7);
    } else {
      this.rexMem(width === 64, dst, m);
      this.byte(0x8b);
    }
    this.modrmMem(dst, m);
  }

  /** Sign-extending load of 8/16/32 bits into the 64-bit dst (movsx/movsxd). */
  loadSx(width: 8 | 16 | 32, dst: X64Reg, m: X64Mem): void {
    this.rexMem(true, dst, m);
    if (width === 8) this.bytes(0x0f, 0xbe);
    else if (width === 16) this.bytes(0x0f, 0xbf);
    else this.byte(0x63);
    this.modrmMem(dst, m);
  }

  /** Store the low `width` bits of src to memory. */
  store(width: X64Width, m: X64Mem, src: X64Reg): void {
    if (width === 16) this.byte(0x66);
    this.rexMem(width === 64, src, m, width === 8 && src >= 4 && src < 8);
    this.byte(width === 8 ? 0x88 : 0x89);
    this.modrmMem(src, m);
  }

  /** Store an immediate (sign-extended to 64 bits for width 64). */
  storeImm(width: X64Width, m: X64Mem, imm: number): void {
    if (width === 16) this.byte(0x66);
    this.rexMem(width === 64, 0, m);
    this.byte(width === 8 ? 0xc6 : 0xc7);
    this.modrmMem(0, m);
    if (width === 8) this.byte(imm);
    else if (width === 16) this.imm16(imm);
    else this.imm32(imm | 0);
  }

  // ---- extensions, byte swaps ----

  /** movzx dst32, src8/src16 (register form). */
  movzxRR(from: 8 | 16, dst: X64Reg, src: X64Reg): void {
    this.rex(false, dst, 0, src, from === 8 && src >= 4 && src < 8);
    this.bytes(0x0f, from === 8 ? 0xb6 : 0xb7);
    this.modrmReg(dst, src);
  }

  /** movsx dst, src8/src16/src32 into a 32- or 64-bit destination (register form). */
  movsxRR(from: 8 | 16 | 32, to: 32 | 64, dst: X64Reg, src: X64Reg): void {
    if (from === 32) {
      this.rex(true, dst, 0, src);
      this.byte(0x63);
    } else {
      this.rex(to === 64, dst, 0, src, from === 8 && src >= 4 && src < 8);
      this.bytes(0x0f, from === 8 ? 0xbe : 0xbf);
    }
    this.modrmReg(dst, src);
  }

  /** bswap r32 / r64. */
  bswap(width: 32 | 64, r: X64Reg): void {
    this.rex(width === 64, 0, 0, r);
    this.bytes(0x0f, 0xc8 + (r & 7));
  }

  /** rol r16, 8: swaps the two low bytes (eBPF be16/bswap16 before the zero-extension). */
  rol16by8(r: X64Reg): void {
    this.byte(0x66);
    this.rex(false, 0, 0, r);
    this.byte(0xc1);
    this.modrmReg(SHIFT.rol, r);
    this.byte(8);
  }

  // ---- multiply, divide, unary ----

  /** imul dst, src (truncating multiply). */
  imulRR(width: 32 | 64, dst: X64Reg, src: X64Reg): void {
    this.rex(width === 64, dst, 0, src);
    this.bytes(0x0f, 0xaf);
    this.modrmReg(dst, src);
  }

  /** imul dst, src, imm. */
  imulRRI(width: 32 | 64, dst: X64Reg, src: X64Reg, imm: number): void {
    const v = imm | 0;
    this.rex(width === 64, dst, 0, src);
    if (isInt8(v)) {
      this.byte(0x6b);
      this.modrmReg(dst, src);
      this.byte(v);
    } else {
      this.byte(0x69);
      this.modrmReg(dst, src);
      this.imm32(v);
    }
  }

  /** div r (unsigned, rdx:rax / r) or idiv r (signed). */
  div(width: 32 | 64, r: X64Reg, signed: boolean): void {
    this.rex(width === 64, 0, 0, r);
    this.byte(0xf7);
    this.modrmReg(signed ? 7 : 6, r);
  }

  /** neg r. */
  neg(width: 32 | 64, r: X64Reg): void {
    this.rex(width === 64, 0, 0, r);
    this.byte(0xf7);
    this.modrmReg(3, r);
  }

  /** cdq / cqo: sign-extend eax/rax into edx/rdx. */
  signExtendAx(width: 32 | 64): void {
    if (width === 64) this.byte(0x48);
    this.byte(0x99);
  }

  /** Shift by an immediate count. */
  shiftRI(op: number, width: 32 | 64, r: X64Reg, count: number): void {
    this.rex(width === 64, 0, 0, r);
    if (count === 1) {
      this.byte(0xd1);
      this.modrmReg(op, r);
    } else {
      this.byte(0xc1);
      this.modrmReg(op, r);
      this.byte(count);
    }
  }

  /** Shift by CL (the CPU masks the count to 5/6 bits, as eBPF requires). */
  shiftRCL(op: number, width: 32 | 64, r: X64Reg): void {
    this.rex(width === 64, 0, 0, r);
    this.byte(0xd3);
    this.modrmReg(op, r);
  }

  /** cmovcc dst, src. */
  cmov(cc: X64Cond, width: 32 | 64, dst: X64Reg, src: X64Reg): void {
    this.rex(width === 64, dst, 0, src);
    this.bytes(0x0f, 0x40 + cc);
    this.modrmReg(dst, src);
  }

  /** xchg a, b (registers). */
  xchgRR(a: X64Reg, b: X64Reg): void {
    this.rex(true, b, 0, a);
    this.byte(0x87);
    this.modrmReg(b, a);
  }

  // ---- atomics ----

  /** lock op [m], r for add/or/and/xor. */
  lockAlu(op: number, width: 32 | 64, m: X64Mem, src: X64Reg): void {
    this.byte(0xf0);
    this.rexMem(width === 64, src, m);
    this.byte((op << 3) | 1);
    this.modrmMem(src, m);
  }

  /** lock xadd [m], r: r receives the old value. */
  lockXadd(width: 32 | 64, m: X64Mem, src: X64Reg): void {
    this.byte(0xf0);
    this.rexMem(width === 64, src, m);
    this.bytes(0x0f, 0xc1);
    this.modrmMem(src, m);
  }

  /** xchg [m], r (always locked by the CPU). */
  xchgMR(width: 32 | 64, m: X64Mem, src: X64Reg): void {
    this.rexMem(width === 64, src, m);
    this.byte(0x87);
    this.modrmMem(src, m);
  }

  /** lock cmpxchg [m], r: compares with rax/eax, old value lands in rax/eax. */
  lockCmpxchg(width: 32 | 64, m: X64Mem, src: X64Reg): void {
    this.byte(0xf0);
    this.rexMem(width === 64, src, m);
    this.bytes(0x0f, 0xb1);
    this.modrmMem(src, m);
  }

  // ---- control flow ----

  /** setcc r8. */
  setcc(cc: X64Cond, r: X64Reg): void {
    this.rex(false, 0, 0, r, r >= 4 && r < 8);
    this.bytes(0x0f, 0x90 + cc);
    this.modrmReg(0, r);
  }

  /** jcc to a label: rel8 when the (bound) target is near, else rel32. */
  jcc(cc: X64Cond, l: X64Label): void {
    if (l.pos >= 0) {
      const rel8 = l.pos - (this.len + 2);
      if (isInt8(rel8)) {
        this.bytes(0x70 + cc, rel8);
        return;
      }
    }
    this.bytes(0x0f, 0x80 + cc);
    this.fixups.push({ at: this.len, label: l });
    this.imm32(0);
  }

  /** jcc rel8 with an explicit displacement (for the encoder corpus). */
  jccRel8(cc: X64Cond, rel: number): void {
    this.bytes(0x70 + cc, rel);
  }

  /** jcc rel32 with an explicit displacement. */
  jccRel32(cc: X64Cond, rel: number): void {
    this.bytes(0x0f, 0x80 + cc);
    this.imm32(rel | 0);
  }

  /** jmp to a label: rel8 when the bound target is near, else rel32. */
  jmp(l: X64Label): void {
    if (l.pos >= 0) {
      const rel8 = l.pos - (this.len + 2);
      if (isInt8(rel8)) {
        this.bytes(0xeb, rel8);
        return;
      }
    }
    this.byte(0xe9);
    this.fixups.push({ at: this.len, label: l });
    this.imm32(0);
  }

  /** jmp rel8 / rel32 with explicit displacement. */
  jmpRel(rel: number, wide: boolean): void {
    if (wide) {
      this.byte(0xe9);
      this.imm32(rel | 0);
    } else {
      this.bytes(0xeb, rel);
    }
  }

  /** call label (rel32). */
  call(l: X64Label): void {
    this.byte(0xe8);
    this.fixups.push({ at: this.len, label: l });
    this.imm32(0);
  }

  /** call rel32 with an explicit displacement. */
  callRel(rel: number): void {
    this.byte(0xe8);
    this.imm32(rel | 0);
  }

  /** call qword [m]. */
  callMem(m: X64Mem): void {
    this.rexMem(false, 0, m);
    this.byte(0xff);
    this.modrmMem(2, m);
  }

  /** call r64. */
  callReg(r: X64Reg): void {
    this.rex(false, 0, 0, r);
    this.byte(0xff);
    this.modrmReg(2, r);
  }

  ret(): void {
    this.byte(0xc3);
  }

  push(r: X64Reg): void {
    this.rex(false, 0, 0, r);
    this.byte(0x50 + (r & 7));
  }

  pop(r: X64Reg): void {
    this.rex(false, 0, 0, r);
    this.byte(0x58 + (r & 7));
  }

  /** int3: a trap that should never execute (padding after unconditional exits). */
  int3(): void {
    this.byte(0xcc);
  }
}
