// The eBPF → JavaScript JIT against the interpreter and against a direct BigInt model of RFC 9669 §4
// (random ALU/jump programs, fast-check), plus the run-time checks both engines must make identically.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  BpfJsJitEngine,
  BpfProgram,
  assemble,
  bpfInsn,
  bpfLddw,
  isNetworkError,
  type BpfInsn,
} from '../../src/index.js';

const M64 = (1n << 64n) - 1n;
const u64 = (v: bigint) => v & M64;
const s64 = (v: bigint) => BigInt.asIntN(64, v);
const u32 = (v: bigint) => v & 0xffffffffn;
const s32 = (v: bigint) => BigInt.asIntN(32, v);
const sx = (v: bigint, bits: number) => u64(BigInt.asIntN(bits, v));
function swap(v: bigint, bytes: number): bigint {
  let out = 0n;
  for (let i = 0; i < bytes; i++) out = (out << 8n) | ((v >> BigInt(8 * i)) & 0xffn);
  return out;
}

/** A straightforward BigInt model of the ALU and jump instructions (RFC 9669 §4), no memory. */
function reference(insns: readonly BpfInsn[]): bigint {
  const r = new Array<bigint>(11).fill(0n);
  r[10] = (2n << 32n) | 512n;
  r[1] = 1n << 32n;
  let pc = 0;
  for (let steps = 0; steps < 100000; steps++) {
    const i = insns[pc]!;
    pc++;
    const cls = i.opcode & 7;
    const op = i.opcode & 0xf0;
    const x = (i.opcode & 8) !== 0;
    const immS = BigInt(i.imm);
    if (i.opcode === 0x18) {
      r[i.dst] = (BigInt(insns[pc]!.imm >>> 0) << 32n) | BigInt(i.imm >>> 0);
      pc++;
      continue;
    }
    if (i.opcode === 0x95) return r[0]!;
    if (cls === 4 || cls === 7) {
      const is64 = cls === 7;
      const a = is64 ? r[i.dst]! : u32(r[i.dst]!);
      const b = x ? (is64 ? r[i.src]! : u32(r[i.src]!)) : is64 ? u64(immS) : u32(immS);
      const mask = is64 ? M64 : 0xffffffffn;
      const bits = is64 ? 64 : 32;
      const sgn = (v: bigint) => BigInt.asIntN(bits, v);
      let v: bigint;
      switch (op) {
        case 0x00: v = a + b; break;
        case 0x10: v = a - b; break;
        case 0x20: v = a * b; break;
        case 0x30:
          if (i.off === 1) v = b === 0n ? 0n : sgn(a) / sgn(b);
          else v = b === 0n ? 0n : a / b;
          break;
        case 0x90:
          if (i.off === 1) v = b === 0n ? a : sgn(a) % sgn(b);
          else v = b === 0n ? a : a % b;
          break;
        case 0x40: v = a | b; break;
        case 0x50: v = a & b; break;
        case 0xa0: v = a ^ b; break;
        case 0x60: v = a << (b & BigInt(bits - 1)); break;
        case 0x70: v = a >> (b & BigInt(bits - 1)); break;
        case 0xc0: v = sgn(a) >> (b & BigInt(bits - 1)); break;
        case 0x80: v = -a; break;
        case 0xb0:
          v = i.off === 0 ? b : BigInt.asIntN(i.off, x ? r[i.src]! : b);
          break;
        case 0xd0:
          if (cls === 7 || x) v = swap(r[i.dst]!, i.imm / 8);
          else v = r[i.dst]! & ((1n << BigInt(i.imm)) - 1n);
          r[i.dst] = u64(v);
          continue;
        default:
          throw new Error(`model: op ${op}`);
      }
      r[i.dst] = is64 ? u64(v) : u32(v & mask);
      continue;
    }
    if (cls === 5 || cls === 6) {
      if (op === 0x00) {
        pc += cls === 6 ? i.imm : i.off;
        continue;
      }
      const is32 = cls === 6;
      const a = is32 ? u32(r[i.dst]!) : r[i.dst]!;
      const b = x ? (is32 ? u32(r[i.src]!) : r[i.src]!) : is32 ? u32(immS) : u64(immS);
      const sa = is32 ? s32(a) : s64(a);
      const sb = is32 ? s32(b) : s64(b);
      const taken = ({
        0x10: a === b, 0x50: a !== b, 0x40: (a & b) !== 0n, 0x20: a > b, 0x30: a >= b, 0xa0: a < b, 0xb0: a <= b,
        0x60: sa > sb, 0x70: sa >= sb, 0xc0: sa < sb, 0xd0: sa <= sb,
      } as Record<number, boolean>)[op];
      if (taken === undefined) throw new Error(`model: jump ${op}`);
      if (taken) pc += i.off;
      continue;
    }
    throw new Error(`model: opcode ${i.opcode}`);
  }
  throw new Error('model: too many steps');
}

const interesting = [0, 1, -1, 0x7fffffff, -0x80000000, 0xffff, 0x8000, 31, 32, 63, 64, 7, -7, 3, -3];
const immArb = fc.oneof(fc.constantFrom(...interesting), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
const big64 = fc.oneof(
  fc.constantFrom(0n, 1n, M64, 1n << 63n, (1n << 63n) - 1n, 0xffffffffn, 0x80000000n, 0xffffffff80000000n, 13n, u64(-13n)),
  fc.bigInt({ min: 0n, max: M64 }),
);
const reg = fc.integer({ min: 0, max: 9 });
const srcReg = fc.integer({ min: 0, max: 10 });

type Gen = (pc: number, end: number) => BpfInsn;
const aluOp = fc
  .record({
    cls: fc.constantFrom(4, 7),
    op: fc.constantFrom(0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0),
    x: fc.boolean(),
    signed: fc.boolean(),
    dst: reg,
    src: srcReg,
    imm: immArb,
    sxw: fc.constantFrom(0, 8, 16, 32),
  })
  .map(({ cls, op, x, signed, dst, src, imm, sxw }): Gen => () => {
    if (op === 0x80) return bpfInsn(cls | op, dst);
    let off = 0;
    if ((op === 0x30 || op === 0x90) && signed) off = 1;
    if (op === 0xb0 && x && sxw !== 0 && !(cls === 4 && sxw === 32)) off = sxw;
    return x ? bpfInsn(cls | 8 | op, dst, src, off) : bpfInsn(cls | op, dst, 0, off, imm);
  });
const endOp = fc
  .record({ kind: fc.constantFrom(0xd4, 0xdc, 0xd7), width: fc.constantFrom(16, 32, 64), dst: reg })
  .map(({ kind, width, dst }): Gen => () => bpfInsn(kind, dst, 0, 0, width));
const jmpOp = fc
  .record({
    cls: fc.constantFrom(5, 6),
    op: fc.constantFrom(0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0),
    x: fc.boolean(),
    dst: reg,
    src: srcReg,
    imm: immArb,
    frac: fc.double({ min: 0, max: 1, noNaN: true }),
  })
  .map(({ cls, op, x, dst, src, imm, frac }): Gen => (pc, end) => {
    const off = Math.floor(frac * (end - pc - 1));
    return x ? bpfInsn(cls | 8 | op, dst, src, off) : bpfInsn(cls | op, dst, 0, off, imm);
  });

/** A random straight/forward-jumping ALU program whose r0 folds every register. */
const programArb = fc
  .record({
    init: fc.array(big64, { minLength: 10, maxLength: 10 }),
    body: fc.array(fc.oneof({ weight: 6, arbitrary: aluOp }, { weight: 1, arbitrary: endOp }, { weight: 2, arbitrary: jmpOp }), {
      minLength: 1,
      maxLength: 40,
    }),
  })
  .map(({ init, body }) => {
    const insns: BpfInsn[] = [];
    init.forEach((v, r) => insns.push(...bpfLddw(r, v)));
    const start = insns.length;
    const end = start + body.length;
    body.forEach((g, k) => insns.push(g(start + k, end)));
    for (let r = 1; r <= 9; r++) {
      insns.push(bpfInsn(0x27, 0, 0, 0, 0x01000193)); // mul r0, FNV prime
      insns.push(bpfInsn(0xaf, 0, r)); // xor r0, rR
    }
    insns.push(bpfInsn(0x95));
    return insns;
  });

describe('JS JIT vs interpreter vs BigInt model', () => {
  it('random ALU/jump programs give the same r0', () => {
    fc.assert(
      fc.property(programArb, (insns) => {
        const prog = new BpfProgram(insns);
        const want = reference(insns);
        const mem = new Uint8Array(0);
        expect(prog.run(mem, { engine: 'interpreter' })).toBe(want);
        expect(new BpfProgram(insns).run(mem, { engine: 'js' })).toBe(want);
      }),
      { numRuns: 300 },
    );
  });
});

/** Random programs mixing ALU with stack/packet loads, stores and atomics (some out of bounds). */
const memReg = fc.constantFrom(0, 2, 3, 4, 5, 6, 7, 8, 9);
const memOp = fc
  .record({
    kind: fc.constantFrom('st', 'stx', 'ldx', 'ldxs', 'atomic'),
    size: fc.constantFrom(0x00, 0x08, 0x10, 0x18),
    base: fc.constantFrom(1, 10),
    off: fc.integer({ min: 0, max: 504 }),
    wild: fc.oneof({ weight: 15, arbitrary: fc.constant(null) }, { weight: 1, arbitrary: fc.integer({ min: -600, max: 100 }) }),
    reg: memReg,
    imm: immArb,
    aop: fc.constantFrom(0x00, 0x01, 0x40, 0x41, 0x50, 0x51, 0xa0, 0xa1, 0xe1, 0xf1),
  })
  .map(({ kind, size, base, off: o, wild, reg, imm, aop }): Gen => () => {
    // mostly in bounds (stack: [r10-512, r10-8], packet: [r1, r1+8]), sometimes anywhere
    const off = wild ?? (base === 10 ? -8 - o : o % 9);
    switch (kind) {
      case 'st': return bpfInsn(0x62 | size, base, 0, off, imm);
      case 'stx': return bpfInsn(0x63 | size, base, reg, off);
      case 'ldx': return bpfInsn(0x61 | size, reg, base, off);
      case 'ldxs': return bpfInsn(0x81 | (size === 0x18 ? 0x00 : size), reg, base, off);
      default: return bpfInsn(0xc3 | (size & 0x18 ? 0x18 : 0x00), base, reg, off, aop);
    }
  });
const memProgramArb = fc
  .record({
    init: fc.array(big64, { minLength: 8, maxLength: 8 }),
    body: fc.array(fc.oneof({ weight: 3, arbitrary: aluOp }, { weight: 4, arbitrary: memOp }, { weight: 1, arbitrary: jmpOp }), {
      minLength: 1,
      maxLength: 30,
    }),
    mem: fc.uint8Array({ minLength: 16, maxLength: 64 }),
  })
  .map(({ init, body, mem }) => {
    const insns: BpfInsn[] = [];
    // r0, r2..r9 random; r1 (packet) and r10 (stack) stay pointers
    [0, 2, 3, 4, 5, 6, 7, 8].forEach((r, k) => insns.push(...bpfLddw(r, init[k]!)));
    const start = insns.length;
    const end = start + body.length;
    body.forEach((g, k) => {
      const insn = g(start + k, end);
      // keep r1/r10 intact so memory operands stay meaningful
      if ((insn.opcode & 7) === 4 || (insn.opcode & 7) === 7) insn.dst = insn.dst === 1 ? 2 : insn.dst;
      insns.push(insn);
    });
    for (let r = 2; r <= 9; r++) insns.push(bpfInsn(0x27, 0, 0, 0, 0x01000193), bpfInsn(0xaf, 0, r));
    for (let k = 8; k <= 64; k += 8) insns.push(bpfInsn(0x79, 3, 10, -k), bpfInsn(0xaf, 0, 3)); // fold the stack
    insns.push(bpfInsn(0x95));
    return { insns, mem };
  });

function outcome(insns: BpfInsn[], mem: Uint8Array, engine: string): unknown {
  const m = mem.slice();
  try {
    return { r0: new BpfProgram(insns).run(m, { engine }), mem: [...m] };
  } catch (e) {
    if (!isNetworkError(e)) throw e;
    return { code: e.code, pc: e.detail.pc };
  }
}

describe('JS JIT vs interpreter with memory', () => {
  it('random load/store/atomic programs agree on r0, memory and errors', () => {
    fc.assert(
      fc.property(memProgramArb, ({ insns, mem }) => {
        expect(outcome(insns, mem, 'js')).toEqual(outcome(insns, mem, 'interpreter'));
      }),
      { numRuns: 300 },
    );
  });
});

describe('JS JIT run-time checks', () => {
  const engines = ['interpreter', 'js'] as const;
  for (const engine of engines) {
    it(`${engine}: out-of-bounds packet load → OUT_OF_BOUNDS with pc`, () => {
      const p = assemble('ldxw %r0, [%r1+6]\nexit');
      expect(p.run(new Uint8Array(10), { engine })).toBe(0n);
      try {
        p.run(new Uint8Array(8), { engine });
        expect.unreachable();
      } catch (e) {
        expect(isNetworkError(e, 'OUT_OF_BOUNDS')).toBe(true);
        expect((e as { detail: { pc: number; size: number } }).detail).toMatchObject({ pc: 0, size: 4 });
      }
    });
    it(`${engine}: stack below the frames and null pointers are refused`, () => {
      expect(() => assemble('ldxdw %r0, [%r10-520]\nexit').run(new Uint8Array(0), { engine })).toThrow(/outside/);
      expect(() => assemble('mov %r1, 0\nstb [%r1+4], 1\nexit').run(new Uint8Array(0), { engine })).toThrow(/outside/);
      expect(() => assemble('mov %r0, 7\nstxdw [%r10], %r0\nexit').run(new Uint8Array(0), { engine })).not.toThrow();
    });
    it(`${engine}: pointer arithmetic towards another region stays checked`, () => {
      // r1 - 1 carries into region 0; r1 + 2^32 lands in region 2 (the stack) at offset 0: legal there.
      expect(() => assemble('sub %r1, 1\nldxb %r0, [%r1]\nexit').run(new Uint8Array(4), { engine })).toThrow(/outside/);
      const p = assemble('lddw %r3, 0x100000000\nadd %r1, %r3\nldxb %r0, [%r1]\nexit');
      expect(p.run(new Uint8Array(4), { engine })).toBe(0n);
    });
    it(`${engine}: an endless loop stops at the budget`, () => {
      const p = assemble('mov %r0, 0\nL: add %r0, 1\nja L\nexit');
      try {
        p.run(new Uint8Array(0), { engine, budget: 1000 });
        expect.unreachable();
      } catch (e) {
        expect(isNetworkError(e, 'BUDGET_EXCEEDED')).toBe(true);
      }
      const bounded = assemble('mov %r0, 0\nL: add %r0, 1\njlt %r0, 100, L\nexit');
      expect(bounded.run(new Uint8Array(0), { engine, budget: 1000 })).toBe(100n);
      expect(() => bounded.run(new Uint8Array(0), { engine, budget: 150 })).toThrow(/budget/);
    });
    it(`${engine}: recursion stops at call depth 8`, () => {
      const p = assemble('call local f\nexit\nf: call local f\nexit');
      expect(() => p.run(new Uint8Array(0), { engine })).toThrow(/depth/);
      // depth 7 below the entry frame is fine: each frame has its own 512 bytes of stack
      const ok = assemble(`
        mov %r6, 0
        call local f
        exit
      f:
        add %r6, 1
        stxdw [%r10-8], %r6
        jge %r6, 7, done
        call local f
      done:
        ldxdw %r0, [%r10-8]
        exit`);
      expect(ok.run(new Uint8Array(0), { engine })).toBe(1n);
    });
    it(`${engine}: falling off the end is an error, not undefined behaviour`, () => {
      const p = new BpfProgram([bpfInsn(0xb7, 0, 0, 0, 1), bpfInsn(0x15, 0, 0, 1, 1), bpfInsn(0x95), bpfInsn(0xb7, 0, 0, 0, 2)]);
      expect(() => p.run(new Uint8Array(0), { engine })).toThrow(/fell off/);
    });
  }
  it('rejects malformed programs before running (jump into lddw, bad opcode, empty)', () => {
    for (const engine of engines) {
      const intoLddw = new BpfProgram([bpfInsn(0x05, 0, 0, 1), ...bpfLddw(0, 1n), bpfInsn(0x95)]);
      expect(() => intoLddw.run(new Uint8Array(0), { engine })).toThrow(/second slot/);
      expect(() => new BpfProgram([bpfInsn(0xff), bpfInsn(0x95)]).run(new Uint8Array(0), { engine })).toThrow(/unknown/);
      expect(() => new BpfProgram([]).run(new Uint8Array(0), { engine })).toThrow(/empty/);
    }
  });
  it('refuses programs too large to be worth compiling to JavaScript (the interpreter still runs them)', () => {
    const insns = Array.from({ length: 70000 }, () => bpfInsn(0x07, 0, 0, 0, 1));
    insns.push(bpfInsn(0x95));
    const p = new BpfProgram(insns);
    expect(() => p.run(new Uint8Array(0), { engine: 'js' })).toThrow(/too large/);
    expect(p.run(new Uint8Array(0), { engine: 'interpreter' })).toBe(70000n);
  });
  it('generates straight-line JavaScript for loop-free code and a dispatcher for loops', () => {
    const straight = new BpfJsJitEngine(assemble('jeq %r2, 0, +1\nmov %r0, 1\nexit'));
    expect(straight.source).toContain('break L2');
    expect(straight.source).not.toContain('switch (pc)');
    const loop = new BpfJsJitEngine(assemble('L: add %r0, 1\njlt %r0, 5, L\nexit'));
    expect(loop.source).toContain('switch (pc)');
  });
});

describe('JS JIT run(): scratch copy for programs that cannot write memory', () => {
  // Reads the byte at offset 100 (error when the packet is shorter) — no stores, so run() uses the scratch copy.
  const reader = assemble(`
    ldxb %r0, [%r1+100]
    exit`);
  // Writes the packet: must run on the caller's bytes.
  const writer = assemble(`
    stb [%r1+0], 0x5a
    mov %r0, 7
    exit`);
  const runJs = (p: BpfProgram, bytes: Uint8Array) => p.run(bytes, { engine: 'js' });
  const errorOf = (f: () => unknown) => {
    try {
      f();
    } catch (e) {
      return isNetworkError(e) ? e.code : 'not a NetworkError';
    }
    return null;
  };

  it('never reads bytes a longer earlier packet left in the scratch buffer', () => {
    const long = new Uint8Array(200).fill(0xee);
    expect(runJs(reader, long)).toBe(0xeen);
    const short = new Uint8Array(64);
    const js = errorOf(() => runJs(reader, short));
    expect(js).not.toBeNull();
    expect(js).toBe(errorOf(() => reader.run(short, { engine: 'interpreter' })));
  });

  it('packets larger than the scratch buffer and packets that are views into a bigger buffer give the same r0', () => {
    const big = new Uint8Array(9000);
    big[100] = 0x42;
    expect(runJs(reader, big)).toBe(0x42n);
    const backing = new Uint8Array(4096);
    backing[1000 + 100] = 0x17;
    expect(runJs(reader, backing.subarray(1000, 1200))).toBe(0x17n);
  });

  it('a program that stores into the packet changes the caller\'s bytes', () => {
    const pkt = new Uint8Array(64);
    expect(runJs(writer, pkt)).toBe(7n);
    expect(pkt[0]).toBe(0x5a);
  });
});
