import { describe, it, expect } from 'vitest';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { assembleBpfInsns } from '../../src/ebpf/asm.js';
import { decodeInsnU64, decodeInsns, type BpfInsn } from '../../src/ebpf/isa.js';
import {
  verifyProgram,
  BPF_ACCESS_CHECKED,
  BPF_ACCESS_PROVED,
  type BpfVerifyOptions,
} from '../../src/ebpf/verifier.js';
import { isNetworkError, NetworkError } from '../../src/errors.js';
import { conformanceBpf } from '../helpers/conformance.js';

const conformance = conformanceBpf();

/** Sections of a conformance .data file (format in ../shared/conformance/bpf/README.md). */
function readConformance(name: string): { asm?: string; raw?: string; error?: string } {
  const out: Record<string, string> = {};
  let cur = '';
  for (const line of readFileSync(join(conformance.dir, name), 'utf8').split('\n')) {
    if (line.includes('--')) {
      cur = ['asm', 'result', 'mem', 'raw', 'error'].find((k) => line.includes(k)) ?? 'doc';
      out[cur] = '';
      continue;
    }
    if (cur) out[cur] += line.replace(/#.*/, '') + '\n';
  }
  return out;
}

const asm = (s: string) => assembleBpfInsns(s);
const MAPS = [{ name: 'counts', keySize: 4, valueSize: 8, maxEntries: 16 }];

function rejection(insns: BpfInsn[], options?: BpfVerifyOptions): NetworkError {
  try {
    verifyProgram(insns, options);
  } catch (e) {
    if (isNetworkError(e, 'VERIFIER_REJECTED')) return e;
    throw e;
  }
  throw new Error('program was accepted');
}

describe.skipIf(conformance.files.length === 0)('verifier: conformance suite', () => {
  const files = conformance.files;
  it('has the suite', () => expect(files.length).toBe(313));
  it('accepts every valid program of the suite (those without an "-- error" section)', () => {
    let checked = 0;
    for (const f of files) {
      const s = readConformance(f);
      if (s.error !== undefined) continue;
      let insns: BpfInsn[];
      try {
        insns = s.raw ? s.raw.trim().split(/\s+/).map((x) => decodeInsnU64(BigInt(x))) : asm(s.asm ?? '');
      } catch {
        continue; // an assembler gap is ebpf-core's concern (test/ebpf/asm*.test.ts); the verifier is tested on the rest
      }
      expect(() => verifyProgram(insns), f).not.toThrow();
      checked++;
    }
    expect(checked).toBeGreaterThan(300);
  });
});

describe('verifier: structure', () => {
  it.each([
    ['empty program', [] as BpfInsn[], 0, /empty/],
    ['unknown opcode', decodeInsns(new Uint8Array([0xff, 0, 0, 0, 0, 0, 0, 0])), 0, /unknown/],
    ['reserved field set', [{ opcode: 0xb7, dst: 0, src: 3, off: 0, imm: 0 }, { opcode: 0x95, dst: 0, src: 0, off: 0, imm: 0 }], 0, /reserved/],
    ['jump outside the program', asm('ja +5\nexit'), 0, /outside the program/],
    ['jump into the second slot of lddw', asm('ja +1\nlddw %r0, 0x100000000\nexit'), 0, /second slot of lddw/],
    ['fall-through off the end', asm('mov %r0, 0'), 0, /fall off the end/],
    ['write to r10', asm('mov %r10, 0\nexit'), 0, /r10/],
    ['load into r10', asm('ldxdw %r10, [%r1]\nexit'), 0, /r10/],
    ['no path to exit', asm('mov %r0, 0\nl: ja l\nexit'), 0, /no path .* reaches exit/],
    ['unknown helper', asm('call 999\nexit'), 0, /unknown helper id 999/],
    ['map that does not exist', asm('lddw %r1, map_fd 3\nmov %r0, 0\nexit'), 0, /map 3 does not exist/],
  ])('rejects %s', (_name, insns, pc, reason) => {
    const e = rejection(insns);
    expect(e.detail.pc).toBe(pc);
    expect(String(e.detail.reason)).toMatch(reason);
    expect(typeof e.detail.insn).toBe('string');
  });

  it('names the instruction in the error', () => {
    const e = rejection(asm('mov %r0, 1\nmov %r0, %r3\nexit'));
    expect(e.detail).toMatchObject({ pc: 1, insn: 'mov %r0, %r3' });
    expect(e.message).toMatch(/pc 1 \(mov %r0, %r3\): r3 is read before it is initialised/);
  });
});

describe('verifier: registers and stack', () => {
  it('rejects uninitialised reads', () => {
    expect(rejection(asm('add %r0, 1\nexit')).detail.reason).toMatch(/r0 is read before/);
    expect(rejection(asm('exit')).detail.reason).toMatch(/r0 is not initialised at exit/);
    expect(rejection(asm('ldxdw %r0, [%r10-8]\nexit')).detail.reason).toMatch(/uninitialised stack byte at r10-8/);
    // Only the low 4 bytes were written.
    expect(rejection(asm('stw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit')).detail.reason).toMatch(/uninitialised stack byte at r10-4/);
    // Initialised on one path only.
    const e = rejection(asm('mov %r0, 0\nldxb %r3, [%r1]\njeq %r3, 1, +1\nstdw [%r10-8], 1\nldxdw %r0, [%r10-8]\nexit'));
    expect(e.detail.pc).toBe(4);
  });

  it('tracks spills and fills, and clobbers r1-r5 across helper calls', () => {
    expect(() => verifyProgram(asm('stxdw [%r10-8], %r1\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2]\nexit'))).not.toThrow();
    expect(rejection(asm('call 7\nmov %r0, %r1\nexit')).detail.reason).toMatch(/r1 is read before/);
  });

  it('rejects stack accesses outside the 512-byte frame', () => {
    expect(rejection(asm('stdw [%r10-520], 1\nmov %r0, 0\nexit')).detail.reason).toMatch(/outside the 512-byte frame/);
    expect(rejection(asm('stb [%r10], 1\nmov %r0, 0\nexit')).detail.reason).toMatch(/outside/);
    expect(rejection(asm('mov %r2, %r10\nadd %r2, %r0\nexit')).detail.reason).toMatch(/r0 is read before/);
    // Variable offset with an unknown range.
    const e = rejection(asm('ldxb %r3, [%r1]\nmov %r2, %r10\nsub %r2, %r3\nstb [%r2-300], 0\nmov %r0, 0\nexit'));
    expect(e.detail.reason).toMatch(/outside the 512-byte frame/);
  });

  it('rejects pointer arithmetic other than pointer ± number', () => {
    expect(rejection(asm('mul %r1, 2\nmov %r0, 0\nexit')).detail.reason).toMatch(/pointer arithmetic with mul/);
    expect(rejection(asm('add32 %r1, 2\nmov %r0, 0\nexit')).detail.reason).toMatch(/32-bit pointer arithmetic/);
    expect(rejection(asm('add %r1, %r10\nmov %r0, 0\nexit')).detail.reason).toMatch(/two pointers/);
    expect(rejection(asm('lddw %r1, 0x7fff00000000\nldxb %r0, [%r1]\nexit')).detail.reason).toMatch(/holds a number, not a pointer/);
    expect(rejection(asm('mov32 %r1, %r1\nldxb %r0, [%r1]\nexit')).detail.reason).toMatch(/not a pointer/);
    expect(() => verifyProgram(asm('mov %r3, %r1\nadd %r3, 14\nmov %r0, %r3\nsub %r0, %r1\nexit'))).not.toThrow();
  });
});

describe('verifier: calls', () => {
  it('accepts calls up to 8 frames and rejects deeper ones', () => {
    const chain = (n: number) => {
      let s = 'call local f1\nexit\n';
      for (let i = 1; i < n; i++) s += `f${i}:\ncall local f${i + 1}\nexit\n`;
      s += `f${n}:\nmov %r0, ${n}\nexit\n`;
      return asm(s);
    };
    expect(verifyProgram(chain(7)).maxCallDepth).toBe(8);
    const e = rejection(chain(8));
    expect(e.detail.reason).toMatch(/call depth exceeds 8/);
    expect(rejection(asm('call local f\nexit\nf:\ncall local f\nexit')).detail.reason).toMatch(/call depth/);
  });

  it("keeps the caller's r6-r9 and hides them from the callee", () => {
    expect(() => verifyProgram(asm('mov %r6, 1\ncall local f\nmov %r0, %r6\nexit\nf:\nmov %r0, 0\nexit'))).not.toThrow();
    expect(rejection(asm('mov %r6, 1\ncall local f\nexit\nf:\nmov %r0, %r6\nexit')).detail.reason).toMatch(/r6 is read before/);
    expect(rejection(asm('call local f\nexit\nf:\nmov %r0, %r10\nexit')).detail.reason).toMatch(/own stack/);
  });

  it('checks map helper arguments and NULL checks of lookups', () => {
    const opts = { maps: MAPS };
    const ok = 'stw [%r10-4], 7\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +2\nldxdw %r0, [%r0]\nexit\nmov %r0, 0\nexit';
    expect(() => verifyProgram(asm(ok), opts)).not.toThrow();
    const noCheck = 'stw [%r10-4], 7\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nldxdw %r0, [%r0]\nexit';
    expect(rejection(asm(noCheck), opts).detail.reason).toMatch(/may be NULL/);
    const uninitKey = 'lddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\nmov %r0, 0\nexit';
    expect(rejection(asm(uninitKey), opts).detail.reason).toMatch(/uninitialised stack/);
    const notMap = 'mov %r1, 0\nmov %r2, %r10\ncall 1\nmov %r0, 0\nexit';
    expect(rejection(asm(notMap), opts).detail.reason).toMatch(/r1 must be a map/);
    const oob = 'stw [%r10-4], 7\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 1\njeq %r0, 0, +2\nldxdw %r0, [%r0+8]\nexit\nmov %r0, 0\nexit';
    expect(rejection(asm(oob), opts).detail.reason).toMatch(/outside its 8-byte value/);
    const ro = 'lddw %r1, map_value 0, 0\nstw [%r1], 1\nmov %r0, 0\nexit';
    expect(rejection(asm(ro), { maps: [{ name: '.rodata', keySize: 4, valueSize: 8, readOnly: true }] }).detail.reason).toMatch(/read-only/);
  });
});

describe('verifier: loops', () => {
  it('accepts loops with a bound it can prove', () => {
    const r = verifyProgram(asm('mov %r0, 0\nmov %r3, 0\nl:\nadd %r0, %r3\nadd %r3, 1\njlt %r3, 16, l\nexit'));
    expect(r.hasLoops).toBe(true);
    expect(r.reliesOnBudget).toBe(false);
  });

  it('rejects loops it cannot bound, and accepts them when the caller sets a run-time budget', () => {
    const src = 'ldxw %r3, [%r1]\nmov %r0, 0\nl:\nadd %r0, 1\njlt %r0, %r3, l\nexit';
    const e = rejection(asm(src), { maxInsnsProcessed: 20_000 });
    expect(e.detail.reason).toMatch(/loop not proven bounded/);
    const r = verifyProgram(asm(src), { budget: 1_000_000 });
    expect(r.reliesOnBudget).toBe(true);
    // Budget mode widens at loop heads; an index compared with the length, or a pointer compared with
    // data + length, stays inside the input window, so the loop is accepted.
    const index = 'mov %r3, 0\nmov %r0, 0\nloop:\njge %r3, %r2, out\nmov %r4, %r1\nadd %r4, %r3\nldxb %r5, [%r4]\nadd %r0, %r5\nadd %r3, 1\nja loop\nout:\nexit';
    const pointer = 'mov %r3, %r1\nmov %r6, %r1\nadd %r6, %r2\nmov %r0, 0\nloop:\njge %r3, %r6, out\nldxb %r5, [%r3]\nadd %r0, %r5\nadd %r3, 1\nja loop\nout:\nexit';
    for (const p of [index, pointer]) {
      expect(rejection(asm(p), { maxInsnsProcessed: 20_000 }).detail.reason).toMatch(/loop not proven bounded/);
      expect(verifyProgram(asm(p), { budget: 1_000_000 }).reliesOnBudget).toBe(true);
    }
    // A loop whose state repeats exactly is caught without exhausting the limit.
    const spin = rejection(asm('ldxb %r0, [%r1]\nl:\njeq %r0, 1, l\nexit'));
    expect(spin.detail.reason).toMatch(/state repeats/);
  });
});

describe('verifier: what it proves for the JITs', () => {
  it('proves input accesses after a length check and stack accesses always', () => {
    const r = verifyProgram(asm('mov %r0, 0\njlt %r2, 14, out\nldxh %r0, [%r1+12]\nstxdw [%r10-8], %r0\nout:\nexit'));
    expect(r.access[2]).toBe(BPF_ACCESS_PROVED);
    expect(r.access[3]).toBe(BPF_ACCESS_PROVED);
    expect(r.maxStackDepth).toBe(8);
    const u = verifyProgram(asm('ldxh %r0, [%r1+12]\nexit'));
    expect(u.access[0]).toBe(BPF_ACCESS_CHECKED);
    // data + 34 > data_end idiom (pointer compare).
    const p = verifyProgram(
      asm('mov %r3, %r1\nadd %r3, %r2\nmov %r4, %r1\nadd %r4, 34\nmov %r0, 0\njgt %r4, %r3, +1\nldxw %r0, [%r1+30]\nexit'),
    );
    expect(p.access[6]).toBe(BPF_ACCESS_PROVED);
  });

  it('rejects input accesses at certainly negative offsets', () => {
    expect(rejection(asm('ldxb %r0, [%r1-1]\nexit')).detail.reason).toMatch(/negative offset/);
  });
});

describe('verifier: fuzzing', () => {
  // Random programs built mostly from real opcodes, so many get past the structural checks.
  const OPCODES = [
    0x07, 0x0f, 0x17, 0x1f, 0x27, 0x37, 0x47, 0x57, 0x67, 0x77, 0x87, 0x97, 0xa7, 0xb7, 0xbf, 0xc7, 0x04, 0x0c, 0xb4, 0xbc,
    0x05, 0x15, 0x1d, 0x25, 0x2d, 0x35, 0x45, 0x55, 0x5d, 0xa5, 0xb5, 0x16, 0x56, 0x85, 0x8d, 0x95, 0x95, 0x95,
    0x18, 0x61, 0x69, 0x71, 0x79, 0x62, 0x6a, 0x72, 0x7a, 0x63, 0x6b, 0x73, 0x7b, 0xc3, 0xdb, 0xd4, 0xdc, 0xd7, 0x20, 0x28, 0x30, 0x40, 0x00,
  ];
  const insnArb = fc.record({
    opcode: fc.oneof({ weight: 9, arbitrary: fc.constantFrom(...OPCODES) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 255 }) }),
    dst: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    src: fc.oneof({ weight: 9, arbitrary: fc.integer({ min: 0, max: 10 }) }, { weight: 1, arbitrary: fc.integer({ min: 0, max: 15 }) }),
    off: fc.oneof(fc.integer({ min: -8, max: 8 }), fc.integer({ min: -520, max: 16 }), fc.integer({ min: -32768, max: 32767 })),
    imm: fc.oneof(fc.integer({ min: -4, max: 16 }), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
  });

  it('never throws anything but a VERIFIER_REJECTED NetworkError, and always finishes', () => {
    fc.assert(
      fc.property(fc.array(insnArb, { minLength: 1, maxLength: 40 }), (insns) => {
        // Finishing at all is the point (a hang would hit the test timeout); no timing is asserted.
        try {
          verifyProgram(insns, { maps: MAPS, maxInsnsProcessed: 50_000 });
        } catch (e) {
          expect(isNetworkError(e, 'VERIFIER_REJECTED')).toBe(true);
          expect(String((e as NetworkError).detail.reason)).not.toMatch(/internal verifier error/);
        }
      }),
      { numRuns: 400 },
    );
  });

  it('never throws anything but NetworkError on random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 256 }), (bytes) => {
        const b = bytes.subarray(0, bytes.length - (bytes.length % 8));
        try {
          verifyProgram(decodeInsns(b), { maxInsnsProcessed: 50_000 });
        } catch (e) {
          expect(e).toBeInstanceOf(NetworkError);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('verifier: user helpers', () => {
  it('forgets registers spilled to the stack across a helper whose effects it does not know', () => {
    const src = 'stxdw [%r10-8], %r1\ncall HELPER\nldxdw %r2, [%r10-8]\nldxb %r0, [%r2]\nexit';
    // Builtin helper 7 (get_prandom_u32) does not touch memory: the spilled packet pointer survives.
    expect(() => verifyProgram(asm(src.replace('HELPER', '7')))).not.toThrow();
    // A user helper might rewrite the stack: the reloaded value is only a number.
    const e = rejection(asm(src.replace('HELPER', '0x100')), { helpers: [0x100] });
    expect(e.detail.reason).toMatch(/not a pointer/);
  });
});
