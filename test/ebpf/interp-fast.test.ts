// The interpreter's fast paths (src/ebpf/interp-decode.ts, interpreter.ts): the "read before written" register
// analysis that decides what is zeroed per packet, the superinstructions (against the JS JIT, including jumps
// into the middle of a fused sequence and loads that leave the packet), the batch loop against run() and the
// JS JIT on random programs, and run()'s per-call shortcuts (stack zeroing, the cached bigint).
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { BpfProgram, PacketBatch, assemble, isNetworkError } from '../../src/index.js';
import { BpfInterpreterEngine, prepareBpfCode } from '../../src/ebpf/interpreter.js';
import { interpResetMask } from '../../src/ebpf/interp-decode.js';
import { assembleBpfInsns } from '../../src/ebpf/asm.js';
import { BPF_FUZZ_HELPER_ID, bpfFuzzHelper, bpfFuzzRng, generateBpfFuzzCase } from '../../src/ebpf/jit-x64/fuzz-gen.js';
import { bpfFuzzMaps } from '../../src/ebpf/jit-x64/differential.js';
import { backends, useBackend } from '../helpers/backends.js';

const mask = (asm: string): number => interpResetMask(prepareBpfCode(assembleBpfInsns(asm), 0));
const regs = (...rs: number[]): number => rs.reduce((m, r) => m | (1 << r), 0);

/** Runs a batch on an engine; verdicts, or the error (code and pc) and the verdicts written before it. */
function batchOutcome(prog: BpfProgram, engine: string, packets: Uint8Array[]): { result: string; data: Uint8Array } {
  const batch = PacketBatch.fromArray(packets);
  const verdicts = new Uint32Array(packets.length).fill(0xdeadbeef);
  let result: string;
  try {
    prog.runBatch(batch, verdicts, { engine, budget: 100_000 });
    result = `ok ${verdicts.join(',')}`;
  } catch (e) {
    if (!isNetworkError(e)) throw e;
    result = `error ${e.code} pc=${String(e.detail.pc)} after ${verdicts.join(',')}`;
  }
  return { result, data: batch.data.slice(0, batch.bytesUsed) };
}

describe('interpreter: registers read before written (interpResetMask)', () => {
  it('needs nothing when every register is written first (r1, r2, r10 are set per run)', () => {
    expect(mask('mov %r0, 0\nmov %r3, %r1\nadd %r3, %r2\nexit')).toBe(0);
  });
  it('finds a register read before any write, and one written on only one path', () => {
    expect(mask('mov %r0, %r3\nexit')).toBe(regs(3));
    expect(mask('jeq %r2, 0, +1\nmov %r4, 1\nmov %r0, %r4\nexit')).toBe(regs(4));
    expect(mask('mov %r4, 1\njeq %r2, 0, +1\nmov %r4, 2\nmov %r0, %r4\nexit')).toBe(0);
  });
  it('exit reads r0; 32-bit ops, end and neg read their destination', () => {
    expect(mask('exit')).toBe(regs(0));
    expect(mask('add32 %r5, 1\nbe16 %r6\nneg %r7\nmov %r0, 0\nexit')).toBe(regs(5, 6, 7));
  });
  it('a helper call reads r1..r5 and sets r0; a local call may read anything', () => {
    expect(mask('call 5\nexit')).toBe(regs(3, 4, 5));
    expect(mask('mov %r0, 0\nmov %r6, 0\ncall local f\nexit\nf:\nmov %r0, %r9\nexit')).toBe(regs(3, 4, 5, 7, 8, 9));
  });
  it('follows loops to a fixed point', () => {
    // r5 is written in the loop body only after its first read on the back edge's path
    expect(mask('mov %r0, 0\nmov %r3, 3\nloop:\nadd %r0, %r5\nmov %r5, 1\nsub %r3, 1\njne %r3, 0, loop\nexit')).toBe(regs(5));
  });
});

describe.each(backends)('interpreter fast paths (%s backend)', (backend) => {
  useBackend(backend);

  // Packets that take every branch of the fused sequences below.
  const packets = [0, 1, 2, 3, 4, 5].map((k) => {
    const p = new Uint8Array(40);
    p.set([0x08, 0x00], 12);
    if (k === 1) p.set([0x86, 0xdd], 12);
    p[14] = 0x45 + (k % 3);
    p[20] = k === 2 ? 0x20 : 0;
    p[23] = k === 3 ? 17 : 6;
    p.set([0, k === 4 ? 81 : 80], 36);
    return k === 5 ? p.subarray(0, 20) : p;
  });

  const programs: Record<string, string> = {
    // ldxh; be16; jeq / jne / jset (64- and 32-bit), ldxb; jne, ldxb; and; lsh, mov; add, mov r0, imm; exit
    filter: `
      mov %r0, 0
      jlt %r2, 38, out
      ldxh %r3, [%r1+12]
      be16 %r3
      jeq %r3, 0x86dd, v6
      jne32 %r3, 0x800, out
      ldxb %r4, [%r1+23]
      jne %r4, 6, out
      ldxh %r4, [%r1+20]
      be16 %r4
      jset32 %r4, 0x1fff, out
      ldxb %r4, [%r1+14]
      and32 %r4, 0xf
      lsh %r4, 2
      mov %r5, %r4
      add %r5, 18
      jgt %r5, %r2, out
      add %r4, %r1
      ldxh %r4, [%r4+16]
      be16 %r4
      jne %r4, 80, out
      mov32 %r0, 0x40000
      exit
    v6:
      mov %r0, -1
      ja out2
    out:
      exit
    out2:
      exit`,
    // jumps landing in the middle of fused sequences (after the load, after the swap)
    'jumps into fused sequences': `
      mov %r3, 0x1234
      mov %r0, 7
      jeq %r2, 40, mid1
      jeq %r2, 20, mid2
      ldxh %r3, [%r1+12]
    mid1:
      be16 %r3
    mid2:
      jeq %r3, 0x800, yes
      mov %r0, %r3
      exit
    yes:
      mov32 %r0, 1
      exit`,
    // fused loads whose base is the stack or a negative / huge offset: they leave for step()
    'fused loads off the packet': `
      stxdw [%r10-8], %r2
      ldxb %r3, [%r10-8]
      jne %r3, 40, +2
      ldxh %r4, [%r10-8]
      be16 %r4
      jeq %r4, 0x2800, +1
      mov %r4, 9
      mov %r0, %r4
      ldxb %r5, [%r10-8]
      and %r5, 0xf
      lsh %r5, 2
      add %r0, %r5
      exit`,
    // the other fused loads: ldxb/ldxh + jeq/jne/jset, ldxh; be16 alone, mov32; add32 (and a short packet)
    'more fused loads': `
      mov %r0, 0
      ldxb %r3, [%r1+23]
      jeq %r3, 17, +1
      add %r0, 1
      ldxb %r3, [%r1+14]
      jset %r3, 1, +1
      add %r0, 2
      ldxh %r4, [%r1+36]
      jeq %r4, 0x5000, +1
      add %r0, 4
      ldxh %r4, [%r1+12]
      jne32 %r4, 8, +1
      add %r0, 8
      ldxh %r4, [%r1+20]
      jset %r4, 0x20, +1
      add %r0, 16
      ldxb %r3, [%r1+23]
      jne32 %r3, 6, +1
      add %r0, 32
      ldxh %r4, [%r1+12]
      jne %r4, 0xdd86, +1
      add %r0, 64
      ldxh %r5, [%r1+12]
      be16 %r5
      mov32 %r6, %r5
      add32 %r6, -0x800
      add %r0, %r6
      exit`,
    // two moves (64/32-bit, register/immediate, overlapping registers)
    'move pairs': `
      mov %r6, %r1
      mov32 %r7, %r2
      mov %r8, -5
      mov32 %r9, -5
      mov %r6, %r6
      mov %r3, %r9
      mov %r0, %r8
      add %r0, %r3
      add %r0, %r7
      exit`,
    // 64-bit carries of mov; add, shifts by constants, and a backward loop (generic jump with budget)
    'carries, shifts, loops': `
      lddw %r3, 0xfffffffffffffff0
      mov %r4, %r3
      add %r4, 0x20
      mov %r0, %r4
      lsh %r0, 36
      rsh %r0, 3
      arsh %r0, 33
      mov %r5, 5
    loop:
      add %r0, %r2
      sub %r5, 1
      jsgt %r5, 0, loop
      exit`,
  };

  for (const [name, asm] of Object.entries(programs)) {
    it(`${name}: the interpreter agrees with the JS JIT (run and runBatch)`, () => {
      const prog = assemble(asm);
      const once = (p: Uint8Array, engine: string): string => {
        try {
          return `r0=${prog.run(p, { engine, budget: 100_000 })}`;
        } catch (e) {
          if (!isNetworkError(e)) throw e;
          return `error ${e.code} pc=${String(e.detail.pc)}`;
        }
      };
      for (const p of packets) expect(once(p, 'interpreter')).toBe(once(p, 'js'));
      const a = batchOutcome(assemble(asm), 'interpreter', packets);
      const b = batchOutcome(assemble(asm), 'js', packets);
      expect(a.result).toBe(b.result);
      expect(a.data).toEqual(b.data);
    });
  }

  it('zeroes a register read before written on every packet of a batch', () => {
    // r3 is read before written: each packet must see 0 though the previous one left 7 in it
    const prog = assemble('jne %r3, 0, bad\nmov %r3, 7\nmov %r0, 1\nexit\nbad:\nmov %r0, 2\nexit');
    const v = prog.runBatch(PacketBatch.fromArray(packets), undefined, { engine: 'interpreter' });
    expect([...v]).toEqual(packets.map(() => 1));
  });

  it('run() starts on a zeroed stack after a run that wrote it, and returns the 64-bit r0', () => {
    const prog = assemble('ldxdw %r0, [%r10-8]\nstxdw [%r10-8], %r2\nexit');
    expect(prog.run(packets[0]!, { engine: 'interpreter' })).toBe(0n);
    expect(prog.run(packets[0]!, { engine: 'interpreter' })).toBe(0n);
    // same low word, different high word: the cached bigint must not be reused
    const wide = assemble('mov %r0, %r2\njne %r2, 20, +2\nlsh %r0, 32\nor %r0, 40\nexit');
    expect(wide.run(packets[0]!, { engine: 'interpreter' })).toBe(40n);
    expect(wide.run(packets[5]!, { engine: 'interpreter' })).toBe((20n << 32n) | 40n);
    expect(wide.run(packets[0]!, { engine: 'interpreter' })).toBe(40n);
  });

  it('refuses a window that lies outside the batch data before writing any verdict', () => {
    const vm = new BpfInterpreterEngine(assemble('mov %r0, 1\nexit'));
    const data = new Uint8Array(64);
    const v = new Uint32Array(2);
    expect(() => vm.runMany(data, Uint32Array.of(0, 40), Uint32Array.of(10, 30), 2, v)).toThrowError(
      expect.objectContaining({ code: 'OUT_OF_BOUNDS', detail: expect.objectContaining({ index: 1 }) }),
    );
    expect(Array.from(v)).toEqual([0, 0]);
  });

  it('runBatch agrees with the JS JIT on random programs (fast-check): verdicts, errors, packet memory', () => {
    fc.assert(
      fc.property(fc.integer(), (seed) => {
        const c = generateBpfFuzzCase(bpfFuzzRng(seed), { maps: true });
        const packets3 = [c.memory, c.memory.map((x) => x ^ 0x5a), c.memory.slice(0, c.memory.length >> 1)];
        const outcome = (engine: string) => {
          const prog = new BpfProgram(c.insns, { maps: c.usesMaps ? bpfFuzzMaps() : [] });
          prog.registerHelper(BPF_FUZZ_HELPER_ID, bpfFuzzHelper, 'fuzz_mix');
          return batchOutcome(prog, engine, packets3.map((p) => p.slice()));
        };
        const a = outcome('interpreter');
        const b = outcome('js');
        expect(a.result).toBe(b.result);
        expect(a.data).toEqual(b.data);
      }),
      { numRuns: 150 },
    );
  }, 120_000);
});
