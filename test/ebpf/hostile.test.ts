// Hostile programs: each must be rejected by the verifier or stopped at run time by EVERY engine
// (interpreter, JS JIT, and the native x86-64 JIT when it is available here) — never a crash or a hang.
// The engines are also run on the programs the verifier rejects: memory safety does not rest on it alone.
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import '../../src/ebpf/jit-x64/index.js'; // registers the 'native' engine (available only with the addon)
import { assemble, BpfProgram, bpfEngineNames } from '../../src/ebpf/program.js';
import { decodeInsns, encodeInsns, bpfInsn, type BpfInsn } from '../../src/ebpf/isa.js';
import { BpfMap } from '../../src/ebpf/maps.js';
import { isNetworkError, NetworkError } from '../../src/errors.js';

const BUDGET = 200_000;
const PACKET = new Uint8Array(64).map((_, i) => i);

interface Case {
  name: string;
  program: () => BpfProgram;
  /** 'verifier' = the verifier must reject it; 'runtime' = it verifies but every engine must stop it. */
  stop: 'verifier' | 'runtime';
  reason?: RegExp;
}

const withMap = (src: string, readOnly = false) => () =>
  assemble(src, {
    maps: [BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: readOnly ? '.rodata' : 'vals', flags: readOnly ? 0x80 : 0 })],
  });
const raw = (insns: BpfInsn[]) => () => new BpfProgram(insns);

const lookup = 'stw [%r10-4], 0\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, out\n';

const CASES: Case[] = [
  // ---- out-of-bounds packet access ----
  { name: 'packet read far past the end', program: () => assemble('ldxdw %r0, [%r1+4096]\nexit'), stop: 'runtime' },
  { name: 'packet write past the end', program: () => assemble('stdw [%r1+30000], 1\nmov %r0, 0\nexit'), stop: 'runtime' },
  { name: 'packet read at a negative offset', program: () => assemble('ldxb %r0, [%r1-8]\nexit'), stop: 'verifier', reason: /negative offset/ },
  {
    name: 'packet read at a data-dependent offset past the end',
    program: () => assemble('ldxb %r3, [%r1]\nadd %r1, %r3\nldxdw %r0, [%r1+250]\nexit'),
    stop: 'runtime',
  },
  { name: 'atomic add past the packet', program: () => assemble('mov %r3, 1\nlock add [%r1+1000], %r3\nmov %r0, 0\nexit'), stop: 'runtime' },
  // ---- out-of-bounds stack access ----
  { name: 'stack write below the frame', program: () => assemble('stdw [%r10-520], 1\nmov %r0, 0\nexit'), stop: 'verifier', reason: /outside the 512-byte frame/ },
  { name: 'stack write above the frame', program: () => assemble('stdw [%r10+8], 1\nmov %r0, 0\nexit'), stop: 'verifier', reason: /outside/ },
  { name: 'stack read of a caller frame through r10 + 600', program: () => assemble('mov %r0, %r10\nadd %r0, 600\nldxdw %r0, [%r0]\nexit'), stop: 'verifier' },
  {
    name: 'stack access at a data-dependent offset',
    program: () => assemble('ldxb %r3, [%r1]\nlsh %r3, 4\nmov %r2, %r10\nsub %r2, %r3\nstb [%r2-1], 0\nmov %r0, 0\nexit'),
    stop: 'verifier',
  },
  { name: 'uninitialised stack read', program: () => assemble('ldxdw %r0, [%r10-64]\nexit'), stop: 'verifier', reason: /uninitialised stack/ },
  // ---- pointer arithmetic towards host memory ----
  { name: 'dereference of a made-up address', program: () => assemble('lddw %r1, 0x00007fffdeadbeef\nldxdw %r0, [%r1]\nexit'), stop: 'verifier', reason: /not a pointer/ },
  { name: 'packet pointer + 2^32 (next region)', program: () => assemble('lddw %r2, 0x100000000\nadd %r1, %r2\nldxb %r0, [%r1]\nexit'), stop: 'verifier', reason: /leave the input region/ },
  {
    name: 'packet pointer walked past 4 GiB in steps',
    program: () => assemble('add %r1, 0x7fffffff\nadd %r1, 0x7fffffff\nadd %r1, 0x7fffffff\nldxb %r0, [%r1]\nexit'),
    stop: 'verifier',
  },
  { name: 'packet pointer multiplied', program: () => assemble('mul %r1, 3\nldxb %r0, [%r1]\nexit'), stop: 'verifier', reason: /pointer arithmetic with mul/ },
  { name: 'pointer laundered through 32-bit mov', program: () => assemble('mov32 %r1, %r1\nldxb %r0, [%r1]\nexit'), stop: 'verifier' },
  { name: 'frame pointer shifted', program: () => assemble('mov %r2, %r10\nlsh %r2, 1\nldxb %r0, [%r2]\nexit'), stop: 'verifier' },
  { name: 'unbounded scalar added to the packet pointer', program: () => assemble('ldxdw %r3, [%r1]\nadd %r1, %r3\nldxb %r0, [%r1]\nexit'), stop: 'verifier' },
  { name: 'map value read past the value', program: withMap(`${lookup}ldxdw %r0, [%r0+4096]\nexit\nout:\nmov %r0, 0\nexit`), stop: 'verifier' },
  {
    name: 'map value read at a data-dependent offset',
    program: withMap(`ldxb %r6, [%r1]\n${lookup}add %r0, %r6\nldxdw %r0, [%r0]\nexit\nout:\nmov %r0, 0\nexit`),
    stop: 'verifier',
  },
  { name: 'NULL map value dereference', program: withMap('stw [%r10-4], 9\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0]\nexit'), stop: 'verifier' },
  { name: 'write into read-only global data', program: withMap('lddw %r1, map_value 0, 0\nstdw [%r1], 1\nmov %r0, 0\nexit', true), stop: 'verifier', reason: /read-only/ },
  // ---- unbounded loops ----
  { name: 'jump to itself', program: () => assemble('mov %r0, 0\nl: ja l\nexit'), stop: 'verifier', reason: /no path .* exit/ },
  { name: 'loop on a packet byte that never changes', program: () => assemble('ldxb %r3, [%r1]\nmov %r0, 0\nl: jne %r3, 0, l\nexit'), stop: 'verifier', reason: /loop not proven bounded/ },
  {
    name: 'counter loop bounded only by 2^64',
    program: () => assemble('mov %r0, 0\nl:\nadd %r0, 1\njne %r0, 0, l\nexit'),
    stop: 'verifier',
    reason: /loop not proven bounded/,
  },
  // ---- jumps into LDDW ----
  { name: 'jump into the second slot of lddw', program: raw([bpfInsn(0x05, 0, 0, 1), bpfInsn(0x18, 0, 0, 0, 1), bpfInsn(0, 0, 0, 0, 0x95), bpfInsn(0x95)]), stop: 'verifier', reason: /second slot of lddw/ },
  { name: 'conditional jump into lddw', program: raw([bpfInsn(0xb7, 0), bpfInsn(0x15, 0, 0, 1, 0), bpfInsn(0x18, 0, 0, 0, 0), bpfInsn(0, 0, 0, 0, 0x95), bpfInsn(0x95)]), stop: 'verifier' },
  { name: 'program ending inside lddw', program: raw([bpfInsn(0x18, 0, 0, 0, 1)]), stop: 'verifier' },
  // ---- deep calls ----
  {
    name: 'call chain 9 frames deep',
    program: () => {
      let s = 'call local f1\nexit\n';
      for (let i = 1; i < 9; i++) s += `f${i}:\ncall local f${i + 1}\nexit\n`;
      return assemble(`${s}f9:\nmov %r0, 1\nexit\n`);
    },
    stop: 'verifier',
    reason: /call depth/,
  },
  { name: 'infinite recursion', program: () => assemble('mov %r0, 0\ncall local f\nexit\nf:\ncall local f\nexit'), stop: 'verifier', reason: /call depth/ },
  // ---- bad helper ids ----
  { name: 'unknown helper id', program: () => assemble('call 12345\nexit'), stop: 'verifier', reason: /unknown helper id 12345/ },
  { name: 'callx to an unknown helper', program: () => assemble('mov %r2, 0x1234\ncall %r2\nexit'), stop: 'verifier', reason: /unknown helper/ },
  { name: 'callx to a pointer', program: () => assemble('call %r1\nexit'), stop: 'verifier' },
  // ---- the rest of the verifier's rules ----
  { name: 'write to r10', program: () => assemble('mov %r10, %r1\nexit'), stop: 'verifier', reason: /r10/ },
  { name: 'exit with r0 uninitialised', program: () => assemble('exit'), stop: 'verifier' },
  { name: 'jump out of the program', program: raw([bpfInsn(0x05, 0, 0, 100), bpfInsn(0x95)]), stop: 'verifier' },
  { name: 'fall off the end', program: () => assemble('mov %r0, 1'), stop: 'verifier' },
];

/** Runs on every engine; returns per engine 'stopped' (a NetworkError) or the result. Anything else fails. */
function runEverywhere(p: BpfProgram): Map<string, string> {
  const out = new Map<string, string>();
  for (const engine of bpfEngineNames()) {
    try {
      const r = p.run(PACKET.slice(), { engine, budget: BUDGET });
      out.set(engine, `returned ${r}`);
    } catch (e) {
      if (!(e instanceof NetworkError)) throw new Error(`engine ${engine} threw a non-NetworkError: ${String(e)}`);
      out.set(engine, `stopped: ${e.code}`);
    }
  }
  return out;
}

describe('hostile programs', () => {
  it('runs on the interpreter, the JS JIT and (when built) the native JIT', () => {
    expect(bpfEngineNames()).toEqual(expect.arrayContaining(['interpreter', 'js']));
  });

  it.each(CASES.map((c) => [c.name, c] as const))('%s', (_name, c) => {
    const p = c.program();
    let rejected: NetworkError | null = null;
    try {
      p.verify();
    } catch (e) {
      expect(isNetworkError(e, 'VERIFIER_REJECTED')).toBe(true);
      rejected = e as NetworkError;
    }
    if (c.stop === 'verifier') {
      expect(rejected, 'the verifier must reject it').not.toBeNull();
      if (c.reason) expect(String(rejected!.detail.reason)).toMatch(c.reason);
    }
    const results = runEverywhere(p);
    if (c.stop === 'runtime') {
      expect(rejected, `verifier said: ${rejected?.message}`).toBeNull();
      for (const [engine, r] of results) expect(r, engine).toMatch(/^stopped: OUT_OF_BOUNDS/);
    }
  });

  it('unverified loops are stopped by the run-time budget on every engine', () => {
    const p = assemble('mov %r0, 0\nl:\nadd %r0, 1\njne %r0, 0, l\nexit');
    for (const [engine, r] of runEverywhere(p)) expect(r, engine).toBe('stopped: BUDGET_EXCEEDED');
    const rec = assemble('mov %r0, 0\ncall local f\nexit\nf:\ncall local f\nexit');
    for (const [engine, r] of runEverywhere(rec)) expect(r, engine).toMatch(/^stopped: /);
  });

  it('random programs: the verifier and every engine only ever throw NetworkError, and accepted ones agree', () => {
    // Mostly well-typed instructions (scalar registers r0, r3-r9; loads/stores through r1 or r10), so a
    // good share passes the verifier and the engines get compared on real work.
    const R = fc.constantFrom(0, 3, 4, 5, 6, 7, 8, 9);
    const IMM = fc.oneof(fc.integer({ min: -8, max: 64 }), fc.integer({ min: -0x80000000, max: 0x7fffffff }));
    const ALU = [0x07, 0x17, 0x27, 0x37, 0x47, 0x57, 0x67, 0x77, 0x87, 0x97, 0xa7, 0xb7, 0xc7, 0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x84, 0x94, 0xa4, 0xb4, 0xc4];
    const JMP = [0x15, 0x25, 0x35, 0x45, 0x55, 0x65, 0x75, 0xa5, 0xb5, 0xc5, 0xd5, 0x16, 0x26, 0x56, 0xa6, 0xc6];
    const insn = fc.oneof(
      fc.record({ opcode: fc.constantFrom(...ALU), dst: R, src: fc.constant(0), off: fc.constant(0), imm: IMM }),
      fc.record({ opcode: fc.constantFrom(...ALU.map((o) => o | 8)), dst: R, src: R, off: fc.constant(0), imm: fc.constant(0) }),
      fc.record({ opcode: fc.constantFrom(0xd4, 0xdc, 0xd7), dst: R, src: fc.constant(0), off: fc.constant(0), imm: fc.constantFrom(16, 32, 64) }),
      fc.record({ opcode: fc.constantFrom(...JMP), dst: R, src: fc.constant(0), off: fc.integer({ min: 0, max: 3 }), imm: IMM }),
      fc.record({ opcode: fc.constantFrom(...JMP.map((o) => o | 8)), dst: R, src: R, off: fc.integer({ min: 0, max: 3 }), imm: fc.constant(0) }),
      fc.record({ opcode: fc.constantFrom(0x61, 0x69, 0x71, 0x79, 0x81, 0x89, 0x91), dst: R, src: fc.constant(1), off: fc.integer({ min: 0, max: 70 }), imm: fc.constant(0) }),
      fc.record({ opcode: fc.constantFrom(0x61, 0x69, 0x71, 0x79), dst: R, src: fc.constant(10), off: fc.integer({ min: -16, max: -1 }), imm: fc.constant(0) }),
      fc.record({ opcode: fc.constantFrom(0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb), dst: fc.constantFrom(1, 10), src: R, off: fc.integer({ min: -16, max: 60 }), imm: fc.constantFrom(0, 1, 0x40, 0xa0, 0x50, 0xe1) }),
      fc.record({ opcode: fc.constantFrom(0x62, 0x6a, 0x72, 0x7a), dst: fc.constantFrom(1, 10), src: fc.constant(0), off: fc.integer({ min: -16, max: 60 }), imm: IMM }),
      fc.record({ opcode: fc.constantFrom(0x85), dst: fc.constant(0), src: fc.constant(0), off: fc.constant(0), imm: fc.constantFrom(0x100, 99) }),
      fc.record({ opcode: fc.constantFrom(0x95), dst: fc.constant(0), src: fc.constant(0), off: fc.constant(0), imm: fc.constant(0) }),
    );
    let accepted = 0;
    fc.assert(
      fc.property(fc.array(insn, { minLength: 2, maxLength: 24 }), (insns) => {
        // Start from initialised registers so more programs get past the verifier.
        const prologue = [0, 3, 4, 5, 6, 7, 8, 9].map((r) => bpfInsn(0xb7, r, 0, 0, r * 7));
        const stack = [-16, -8].map((o) => bpfInsn(0x7a, 10, 0, o, 0));
        const all = [...prologue, ...stack, ...insns.map((i) => bpfInsn(i.opcode, i.dst, i.src, i.off, i.imm)), bpfInsn(0x95)];
        const p = new BpfProgram(decodeInsns(encodeInsns(all)));
        // A deterministic helper (get_prandom_u32 would make the engines disagree by design).
        p.registerHelper(0x100, (r1, r2) => r1 ^ (r2 << 1n), 'mix');
        let ok = true;
        try {
          p.verify({ maxInsnsProcessed: 20_000 });
        } catch (e) {
          expect(isNetworkError(e, 'VERIFIER_REJECTED')).toBe(true);
          ok = false;
        }
        const results = runEverywhere(p);
        if (ok) {
          accepted++;
          // A verified program behaves the same everywhere (pointers returned in r0 differ by design).
          const values = new Set(results.values());
          if (![...values].some((v) => /returned \d{10,}/.test(v))) expect(values.size, JSON.stringify([...results])).toBe(1);
        }
      }),
      { numRuns: 400 },
    );
    expect(accepted).toBeGreaterThan(40);
  });
});
