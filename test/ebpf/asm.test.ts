// Assembler and disassembler: the conformance syntax, errors naming the line, and disassemble → assemble
// round trips over all 313 conformance programs and over random bytecode (fast-check).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { conformanceBpf } from '../helpers/conformance.js';
import {
  assemble,
  assembleBpfInsns,
  bpfInsn,
  decodeInsns,
  disassembleBpf,
  disassembleBpfInsn,
  encodeInsns,
  isNetworkError,
} from '../../src/index.js';


describe('assembler', () => {
  it('encodes the conformance spellings', () => {
    const insns = assembleBpfInsns(`
      mov %r0, 0xffffffff      # 32-bit pattern
      add32 %r1, -1
      sdiv %r2, %r3
      smod32 %r2, 7
      movsx1664 %r4, %r5
      be16 %r6
      bswap64 %r6
      swap32 %r6
      ldxsh %r0, [%r10-2]
      stdw [%r1+2], 0x44332211
      stxb [%r10-1], %r3
      lock fetch add32 [%r10-4], %r3
      lock cmpxchg [%r10-8], %r1
      lock xchg32 [%r10-8], %r1
      ja32 done
      jsgt32 %r1, %r2, +0
      call 5
      call %r2
      call local done
      ldabsh 12
      ldindw %r1, 4
    done:
      exit`);
    expect(insns).toEqual([
      bpfInsn(0xb7, 0, 0, 0, -1),
      bpfInsn(0x04, 1, 0, 0, -1),
      bpfInsn(0x3f, 2, 3, 1),
      bpfInsn(0x94, 2, 0, 1, 7),
      bpfInsn(0xbf, 4, 5, 16),
      bpfInsn(0xdc, 6, 0, 0, 16),
      bpfInsn(0xd7, 6, 0, 0, 64),
      bpfInsn(0xd7, 6, 0, 0, 32),
      bpfInsn(0x89, 0, 10, -2),
      bpfInsn(0x7a, 1, 0, 2, 0x44332211),
      bpfInsn(0x73, 10, 3, -1),
      bpfInsn(0xc3, 10, 3, -4, 0x01),
      bpfInsn(0xdb, 10, 1, -8, 0xf1),
      bpfInsn(0xc3, 10, 1, -8, 0xe1),
      bpfInsn(0x06, 0, 0, 0, 6),
      bpfInsn(0x6e, 1, 2, 0),
      bpfInsn(0x85, 0, 0, 0, 5),
      bpfInsn(0x8d, 2),
      bpfInsn(0x85, 0, 1, 0, 2),
      bpfInsn(0x28, 0, 0, 0, 12),
      bpfInsn(0x40, 0, 1, 0, 4),
      bpfInsn(0x95),
    ]);
  });

  it('resolves labels backwards and forwards, and `exit` as the first exit', () => {
    const insns = assembleBpfInsns('top: mov %r0, 1\njeq %r0, 1, exit\nja top\nexit\nexit');
    expect(insns[1]!.off).toBe(1);
    expect(insns[2]!.off).toBe(-3);
  });

  it('names the line of an error', () => {
    for (const [src, re] of [
      ['mov %r0, 1\nfrob %r1', /line 2: unknown mnemonic 'frob'/],
      ['mov %r11, 1', /no register r11/],
      ['ja nowhere', /unknown label/],
      ['mov %r0, 0x100000000', /32 bits/],
      ['ldxw %r0, %r1', /memory operand/],
      ['a:\na:\nexit', /defined twice/],
      ['add %r0', /expected 2 operands/],
      ['ldxw %r0, [%r1+40000]', /16 bits/],
    ] as const) {
      try {
        assembleBpfInsns(src);
        expect.unreachable(src);
      } catch (e) {
        expect(isNetworkError(e, 'PARSE_ERROR')).toBe(true);
        expect((e as Error).message).toMatch(re);
      }
    }
  });

  it('assemble() returns a runnable BpfProgram', () => {
    const p = assemble('mov %r0, %r2\nexit');
    expect(p.run(new Uint8Array(8))).toBe(8n);
    expect(p.length).toBe(2);
  });
});

describe('disassembler round trip', () => {
  it('prints readable text with labels', () => {
    const text = disassembleBpf(assembleBpfInsns('lddw %r1, 0x1122334455667788\njne %r1, 0, out\nmov %r0, 1\nout:\nexit'));
    expect(text).toBe('    lddw %r1, 0x1122334455667788\n    jne %r1, 0, L4\n    mov %r0, 1\nL4:\n    exit\n');
    expect(disassembleBpfInsn([bpfInsn(0xdb, 10, 1, -8, 0xf1)], 0)).toBe('lock cmpxchg [%r10-8], %r1');
  });

  const { dir, files } = conformanceBpf();
  it.skipIf(files.length === 0)('round-trips every conformance program', () => {
    for (const f of files) {
      const text = readFileSync(join(dir, f), 'utf8');
      const asm = text.split(/^-- asm\s*$/m)[1]!.split(/^--/m)[0]!;
      const insns = assembleBpfInsns(asm);
      for (const labels of [true, false]) expect(assembleBpfInsns(disassembleBpf(insns, { labels }))).toEqual(insns);
    }
  });

  it('round-trips arbitrary bytecode, spelling unencodable slots as .raw (fast-check)', () => {
    const slot = fc.oneof(
      fc.uint8Array({ minLength: 8, maxLength: 8 }),
      // well-formed-ish slots so the canonical spellings get exercised too
      fc
        .record({
          op: fc.constantFrom(0x07, 0x0f, 0x04, 0x3f, 0xbf, 0xd7, 0xdc, 0x15, 0x1e, 0x05, 0x06, 0x85, 0x8d, 0x95, 0x18, 0x61, 0x81, 0x7a, 0x7b, 0xdb, 0xc3, 0x30),
          dst: fc.integer({ min: 0, max: 10 }),
          src: fc.integer({ min: 0, max: 10 }),
          off: fc.integer({ min: -40, max: 40 }),
          imm: fc.constantFrom(0, 1, 16, 32, 64, -1, 0xf1, 0xe1, 0x41),
        })
        .map(({ op, dst, src, off, imm }) => encodeInsns([bpfInsn(op, dst, src, off, imm)])),
    );
    fc.assert(
      fc.property(fc.array(slot, { maxLength: 24 }), (slots) => {
        const bytes = new Uint8Array(slots.length * 8);
        slots.forEach((s, i) => bytes.set(s, i * 8));
        const insns = decodeInsns(bytes);
        expect(assembleBpfInsns(disassembleBpf(insns))).toEqual(insns);
      }),
      { numRuns: 300 },
    );
  });
});
