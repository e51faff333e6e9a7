// The x86-64 JIT's fast paths against the interpreter, batch by batch: loop state kept in free registers, exits
// that store the verdict in place, packet-length tests a dominating test already decided (dropped), loads
// compared in memory (`cmp/test [m], imm`, byte-swapped immediates), dead ALU results, ldxh+be16 as one rotate.
// Packets of every length around each test's threshold and random bytes (fast-check); on the ts backend the
// default engine is the JS JIT, on native the machine code.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketBatch } from '../../src/batch.js';
import { isNetworkError } from '../../src/errors.js';
import { BpfProgram, assemble, bpfInsn, compileBpfX64, x64JitAvailable, x64JitListing, type BpfInsn } from '../../src/ebpf/index.js';
import { compileFilter } from '../../src/filter/index.js';
import { backends, useBackend } from '../helpers/backends.js';
import { DD_PORT80, DD_SYN } from '../helpers/classic-programs.js';

/** An Ethernet/IPv4 (or IPv6) TCP/UDP frame of 80 bytes with the given ports, flags and IHL. */
function frame(o: { v6?: boolean; proto?: number; dport?: number; flags?: number; ihl?: number; frag?: number }): Uint8Array {
  const p = new Uint8Array(80);
  const dv = new DataView(p.buffer);
  if (o.v6) {
    dv.setUint16(12, 0x86dd);
    p[20] = o.proto ?? 6;
    dv.setUint16(56, o.dport ?? 80);
    return p;
  }
  dv.setUint16(12, 0x0800);
  const ihl = o.ihl ?? 5;
  p[14] = 0x40 | ihl;
  dv.setUint16(20, o.frag ?? 0);
  p[23] = o.proto ?? 6;
  dv.setUint16(14 + ihl * 4 + 2, o.dport ?? 80);
  p[14 + ihl * 4 + 13] = o.flags ?? 0x02;
  return p;
}

const FRAMES = [
  frame({}),
  frame({ flags: 0x12 }),
  frame({ dport: 443 }),
  frame({ proto: 17, dport: 80 }),
  frame({ ihl: 6 }),
  frame({ ihl: 15 }),
  frame({ frag: 0x0001 }),
  frame({ frag: 0x4000 }),
  frame({ v6: true }),
  frame({ v6: true, dport: 81 }),
];

/** Every frame cut to every length 0..80: each length test's threshold is crossed from both sides. */
function truncations(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const f of FRAMES) for (let len = 0; len <= f.length; len++) out.push(f.slice(0, len));
  return out;
}

/** The interpreter's result per packet: r0's low 32 bits, or the error code and pc. */
function reference(prog: BpfProgram, packets: Uint8Array[]): string[] {
  return packets.map((p) => {
    try {
      return String(Number(prog.run(p.slice(), { engine: 'interpreter' }) & 0xffffffffn));
    } catch (e) {
      if (isNetworkError(e)) return `${e.code}@${String(e.detail.pc)}`;
      throw e;
    }
  });
}

/** The default engine over the packets as one batch (or, when a packet errs, one run each for its error). */
function viaBatch(prog: BpfProgram, packets: Uint8Array[]): string[] {
  const batch = PacketBatch.fromArray(packets);
  try {
    return Array.from(prog.runBatch(batch, new Uint32Array(packets.length)), (v) => String(v));
  } catch (e) {
    if (!isNetworkError(e)) throw e;
    return packets.map((p) => {
      try {
        return String(Number(prog.run(p.slice()) & 0xffffffffn));
      } catch (err) {
        if (isNetworkError(err)) return `${err.code}@${String(err.detail.pc)}`;
        throw err;
      }
    });
  }
}

function agree(prog: BpfProgram, packets: Uint8Array[]): void {
  expect(viaBatch(prog, packets)).toEqual(reference(prog, packets));
}

describe.each(backends)('x86-64 JIT fast paths on the %s backend', (backend) => {
  useBackend(backend);

  it('classic filters (tcpdump -dd, our compiler) give the interpreter verdicts on every truncation', () => {
    const packets = truncations();
    const progs = [
      BpfProgram.fromClassic(DD_PORT80),
      BpfProgram.fromClassic(DD_SYN),
      compileFilter('tcp dst port 80'),
      compileFilter('ip and udp and (port 53 or port 443)'),
      compileFilter('ip6 or tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn'),
      compileFilter('ip[2:2] > 40 and ip[6:2] & 0x1fff = 0'),
    ];
    for (const p of progs) agree(p, packets);
    // The benchmark's frames really are told apart (not all 0).
    const v = viaBatch(progs[0]!, FRAMES);
    expect(v.filter((x) => x !== '0').length).toBeGreaterThan(2);
  });

  it('the packet-length analysis drops only tests a dominating one decided (and keeps the machine code smaller)', () => {
    // r2 and its copies hold the length; jlt 20 after jlt 30 is dead, jge 10 after it always taken, a merge
    // from a path without the test keeps the later test, a length register overwritten loses its fact.
    const prog = assemble(`
      mov32 %r7, %r2
      mov %r0, 1
      jgt %r2, 40, big
      jlt %r7, 30, short
      jlt %r2, 20, short
      jlt %r2, 31, s31
      jge %r7, 10, mid
      mov %r0, 99
      exit
    mid:
      jgt %r2, 31, g31
      jge %r2, 32, g31
      jle %r2, 31, le31
      ldxw %r0, [%r1+26]
      exit
    le31:
      mov %r0, 231
      exit
    g31:
      mov %r0, 31
      exit
    big:
      mov %r0, 2
      jlt %r2, 42, s42
    merge:
      jle %r2, 34, short
      jlt %r7, 41, short
      add %r7, 1
      jlt %r7, 45, s44
      jlt %r2, 45, s45
      ldxb %r0, [%r1+40]
      exit
    s45:
      mov %r0, 145
      exit
    short:
      mov %r0, 7
      exit
    s31:
      mov %r0, 131
      exit
    s42:
      mov %r0, 142
      exit
    s44:
      mov %r0, 144
      exit`);
    const packets = Array.from({ length: 60 }, (_, len) => Uint8Array.from({ length: len }, (_, i) => (i * 37 + len) & 0xff));
    agree(prog, packets);
    // Where paths meet, the weaker bound holds (the path through `ja` proved only len >= 10).
    const merge = assemble(`
      mov %r0, 0
      jlt %r2, 10, out
      jgt %r2, 50, m2
      ja m2
    m2:
      jlt %r2, 20, s20
      mov %r0, 1
      exit
    s20:
      mov %r0, 20
    out:
      exit`);
    agree(merge, packets);
    if (backend === 'native') {
      const dropped = compileBpfX64(prog).translation!.code.length;
      const all = compileBpfX64(prog, { proofs: 'all-checked' }).translation!.code.length;
      expect(dropped).toBeLessThan(all);
    }
  });

  it('an access checked against a length register (len - size + 1, no per-packet limit) stops exactly at both ends', () => {
    // r4 = packet + byte0 - 3: below the start, inside, straddling the end, past it; lengths 0..12.
    // With len >= size - 1 proved the length register is used; with only len >= 1 the loop's clamped limit.
    for (const [size, op, min] of [[1, 0x71, 1], [2, 0x69, 1], [4, 0x61, 3], [4, 0x61, 1], [8, 0x79, 7], [8, 0x79, 1]] as const) {
      const prog = new BpfProgram([
        bpfInsn(0xbf, 9, 2, 0, 0), // mov r9, r2
        bpfInsn(0xa5, 9, 0, 6, min), // jlt r9, min, out
        bpfInsn(0x71, 3, 1, 0, 0), // ldxb r3, [r1]
        bpfInsn(0xbf, 4, 1, 0, 0), // mov r4, r1
        bpfInsn(0x0f, 4, 3, 0, 0), // add r4, r3
        bpfInsn(0x17, 4, 0, 0, 3), // sub r4, 3
        bpfInsn(op, 0, 4, 0, 0), // ldx r0, [r4]
        bpfInsn(0x95, 0, 0, 0, 0),
        bpfInsn(0xb7, 0, 0, 0, 0x77),
        bpfInsn(0x95, 0, 0, 0, 0),
      ]);
      const packets: Uint8Array[] = [];
      for (let len = 0; len <= 12; len++) {
        for (let b0 = 0; b0 <= len + 4; b0++) {
          const p = Uint8Array.from({ length: len }, (_, i) => (i * 29 + 5) & 0xff);
          if (len > 0) p[0] = b0;
          packets.push(p);
        }
      }
      agree(prog, packets);
    }
  });

  it("classicToEbpf's indirect-load sequence is proved by its own test, and near misses of it keep their check", () => {
    // A = (byte 0) & 0x3f (32-bit); B = A + S; if B > len goto out; A += pkt; ldx size [A + off].
    const seq = (o: { s: number; size: 1 | 2 | 4; off?: number; def64?: boolean; lenReg?: number; entry?: boolean }) => {
      const ldx = { 1: 0x71, 2: 0x69, 4: 0x61 }[o.size];
      return new BpfProgram([
        bpfInsn(0xbf, 9, 2, 0, 0), // mov r9, r2 (the length)
        bpfInsn(0xbf, 6, 1, 0, 0), // mov r6, r1 (the packet)
        bpfInsn(0xb7, 0, 0, 0, 0x55),
        bpfInsn(0xa5, 9, 0, 9, 1), // jlt r9, 1, out
        bpfInsn(0x71, 7, 6, 0, 0), // ldxb r7, [r6]
        bpfInsn(o.def64 ? 0x57 : 0x54, 7, 0, 0, 0x3f), // and(32) r7, 0x3f
        bpfInsn(0xbf, 3, 7, 0, 0), // mov r3, r7
        bpfInsn(0x07, 3, 0, 0, o.s), // add r3, S
        bpfInsn(0x2d, 3, o.lenReg ?? 9, o.entry ? 0 : 3, 0), // jgt r3, len, out (or +0: a jump into the sequence)
        bpfInsn(0x0f, 7, 6, 0, 0), // add r7, r6
        bpfInsn(ldx, 0, 7, o.off ?? 0, 0), // ldx r0, [r7 + off]
        bpfInsn(0x95, 0, 0, 0, 0),
        bpfInsn(0xb7, 0, 0, 0, 0x77),
        bpfInsn(0x95, 0, 0, 0, 0),
      ]);
    };
    const packets: Uint8Array[] = [];
    for (let len = 0; len <= 70; len++) {
      for (const b0 of [0, 1, 3, len - 4, len - 2, len - 1, len, 63]) {
        const p = Uint8Array.from({ length: len }, (_, i) => (i * 13 + 1) & 0xff);
        if (len > 0) p[0] = Math.max(0, b0) & 0xff;
        packets.push(p);
      }
    }
    for (const o of [
      { s: 2, size: 2 as const },
      { s: 4, size: 2 as const, off: 2 },
      { s: 1, size: 2 as const }, // S smaller than the access: not proved
      { s: 2, size: 2 as const, off: 1 }, // off + size > S: not proved
      { s: 4, size: 4 as const, def64: true }, // 64-bit def (A may be huge): not proved
      { s: 2, size: 2 as const, lenReg: 6 }, // compared with the packet pointer, not the length: not proved
      { s: 1, size: 1 as const, entry: true }, // the test does not guard the load
    ]) {
      agree(seq(o), packets);
    }
    if (backend === 'native') {
      expect(compileBpfX64(seq({ s: 2, size: 2 })).translation!.checkedAccesses).toBe(0);
      expect(compileBpfX64(seq({ s: 1, size: 2 })).translation!.checkedAccesses).toBe(1);
    }
  });

  it('LD_ABS / LD_IND: a length test a larger one dominates is not repeated; short packets still end with r0 = 0', () => {
    const prog = assemble(`
      ldabsw 30
      mov %r6, %r0
      ldabsh 12
      jeq %r0, 0x800, ip
      ldabsb 2
      add %r0, %r6
      exit
    ip:
      ldabsb 33
      ldabsh 20
      mov %r7, 3
      ldindb %r7, 20
      ldabsb 34
      add %r0, %r6
      exit`);
    const packets: Uint8Array[] = [];
    for (let len = 0; len <= 48; len++) {
      const p = Uint8Array.from({ length: len }, (_, i) => (i * 11) & 0xff);
      if (len > 13) {
        p[12] = 8;
        p[13] = len % 3 === 0 ? 1 : 0;
      }
      packets.push(p);
    }
    agree(prog, packets);
  });

  it('a load compared with an immediate (folded into cmp/test [m]) agrees for every op, width, swap and edge immediate', () => {
    const sizes = [
      { op: 0x71, size: 1 },
      { op: 0x69, size: 2 },
      { op: 0x61, size: 4 },
    ];
    const jops = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
    const edge = [0, 1, 6, 0x7f, 0x80, 0xff, 0x100, 0x5000, 0x7fff, 0x8000, 0xffff, 0x10000, 0x7fffffff, -0x80000000, -1, -2, 0x12345678];
    fc.assert(
      fc.property(
        fc.constantFrom(...sizes),
        fc.constantFrom(...jops),
        fc.constantFrom(5, 6),
        fc.constantFrom('none', 'be', 'bswap'),
        fc.oneof(fc.constantFrom(...edge), fc.integer()),
        fc.boolean(),
        fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 4, maxLength: 12 }),
        ({ op, size }, jop, cls, swap, imm, liveAfter, bodies) => {
          const insns: BpfInsn[] = [bpfInsn(0xb7, 0, 0, 0, 5), bpfInsn(op, 3, 1, 2, 0)];
          if (swap !== 'none' && size > 1) insns.push(bpfInsn(swap === 'be' ? 0xdc : 0xd7, 3, 0, 0, size * 8));
          // taken: r0 = 1; fall through: r0 = 2; r3 is read afterwards only when liveAfter.
          insns.push(bpfInsn(jop | cls, 3, 0, 2, imm));
          insns.push(bpfInsn(0xb7, 0, 0, 0, 2), bpfInsn(0x05, 0, 0, 1, 0), bpfInsn(0xb7, 0, 0, 0, 1));
          if (liveAfter) insns.push(bpfInsn(0x0f, 0, 3, 0, 0));
          insns.push(bpfInsn(0x95, 0, 0, 0, 0));
          const prog = new BpfProgram(insns);
          // Bytes chosen so the loaded value is often exactly the immediate (or its byte swap).
          const packets = bodies.map((b, k) => {
            const p = b.slice();
            if (k % 3 === 0) new DataView(p.buffer).setUint32(2, imm >>> 0, k % 2 === 0);
            return p;
          });
          packets.push(new Uint8Array(2 + size - 1)); // one byte short: the bounds check still fires
          agree(prog, packets);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('`if c goto +1; goto X` (one inverted branch) agrees for every jump op', () => {
    const jops = [0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0];
    fc.assert(
      fc.property(
        fc.constantFrom(...jops),
        fc.constantFrom(5, 6),
        fc.boolean(),
        fc.oneof(fc.constantFrom(0, 1, 2, 0x10, 0x7f, 0x80, -1), fc.integer()),
        fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 2, maxLength: 8 }),
        (jop, cls, reg, imm, bodies) => {
          const prog = new BpfProgram([
            bpfInsn(0x79, 3, 1, 0, 0), // r3 = packet word
            bpfInsn(0xb7, 4, 0, 0, imm),
            bpfInsn(0xb7, 0, 0, 0, 0),
            bpfInsn(jop | cls | (reg ? 8 : 0), 3, 4, 1, imm), // if r3 op (r4 | imm) goto +1
            bpfInsn(0x05, 0, 0, 2, 0), // goto +2
            bpfInsn(0xb7, 0, 0, 0, 1),
            bpfInsn(0x95, 0, 0, 0, 0),
            bpfInsn(0xb7, 0, 0, 0, 2),
            bpfInsn(0x95, 0, 0, 0, 0),
          ]);
          const packets = bodies.map((b, k) => {
            const p = b.slice();
            if (k === 0) new DataView(p.buffer).setInt32(0, imm, true);
            return p;
          });
          agree(prog, packets);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('mov + add imm (fused into one lea, 32- or 64-bit) computes what the interpreter computes', () => {
    fc.assert(
      fc.property(
        fc.boolean(),
        fc.oneof(fc.constantFrom(0, 1, -1, 16, 0x7fffffff, -0x80000000), fc.integer({ min: -0x80000000, max: 0x7fffffff })),
        fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        (wide, imm, bodies) => {
          // r3 = a 64-bit word of the packet; r4 = r3; r4 += imm (mov/add or mov32/add32); r0 = r4 ^ (r4 >> 32)
          const prog = new BpfProgram([
            bpfInsn(0x79, 3, 1, 0, 0),
            bpfInsn(wide ? 0xbf : 0xbc, 4, 3, 0, 0),
            bpfInsn(wide ? 0x07 : 0x04, 4, 0, 0, imm),
            bpfInsn(0xbf, 0, 4, 0, 0),
            bpfInsn(0x77, 4, 0, 0, 32),
            bpfInsn(0xaf, 0, 4, 0, 0),
            bpfInsn(0x95, 0, 0, 0, 0),
          ]);
          agree(prog, bodies);
        },
      ),
      { numRuns: 200 },
    );
  });

  it('the packet base a checked access subtracts is set in the loop, also when every check uses the length register', () => {
    // Regression: with the packet pointer moved (add r1 / r6 + k) the base lives in a spare register; the loop set it
    // only when some access needed a per-size limit, so checks against the length register read a register the
    // C shim left behind (agreement with the interpreter then depended on its garbage).
    const progs = [
      'add %r1, 2\nldxb %r0, [%r1+10]\nexit',
      'mov %r6, %r1\nadd %r6, 2\nldxb %r0, [%r6+10]\nldxb %r3, [%r6+20]\nadd %r0, %r3\nexit',
      'mov %r6, %r1\nmov %r9, %r2\nadd %r6, 1\nldxb %r0, [%r6+0]\nexit',
    ];
    for (const src of progs) {
      const prog = assemble(src);
      agree(prog, truncations());
      if (backend !== 'native') continue;
      const lines = x64JitListing(prog.insns, compileBpfX64(prog).translation!).split('\n');
      const start = lines.findIndex((l) => /DWORD PTR \[\w+\+r9\*4\]/.test(l)); // the loop's first lane load
      const check = lines.findIndex((l, k) => k > start && /\ssub\s+r10,(\w+)$/.test(l));
      expect(start).toBeGreaterThan(0);
      expect(check).toBeGreaterThan(start);
      const base = /\ssub\s+r10,(\w+)$/.exec(lines[check]!)![1]!;
      const writes = new RegExp(`\\s(mov|lea|add)\\s+${base},`);
      expect(lines.slice(start, check).some((l) => writes.test(l))).toBe(true);
    }
  });

  it('entry copies of r1 / r2 loaded by the loop itself, and add + proved load as one address, agree on every truncation', () => {
    const progs = [
      // Both copied at entry; a checked direct load through r6 and a legacy load.
      'mov %r6, %r1\nmov %r9, %r2\nldxb %r0, [%r6+13]\nldabsb 12\nadd %r0, %r9\nexit',
      // The other order, r1 reused as a scratch afterwards.
      'mov %r9, %r2\nmov %r6, %r1\nmov %r1, 7\njlt %r9, 14, out\nldxh %r0, [%r6+12]\nadd %r0, %r1\nout:\nexit',
      // r6 moves after the copy: checked accesses need the packet base from elsewhere.
      'mov %r6, %r1\nadd %r6, 2\nldxb %r0, [%r6+10]\nldxb %r3, [%r6+20]\nadd %r0, %r3\nexit',
      // r2 read later: only r1's copy is the loop's.
      'mov %r6, %r1\nmov %r9, %r2\nldxb %r0, [%r6+0]\nadd %r0, %r2\nadd %r0, %r9\nexit',
      // add + load through the sum: fused when the sum is dead afterwards, kept when it is read again.
      'mov %r0, 0\njlt %r2, 20, out\nmov %r3, 4\nadd %r3, %r1\nldxw %r0, [%r3+8]\nout:\nexit',
      'mov %r0, 0\njlt %r2, 20, out\nmov %r3, 4\nadd %r3, %r1\nldxw %r0, [%r3+8]\nsub %r3, %r1\nadd %r0, %r3\nout:\nexit',
      'mov %r0, 0\njlt %r2, 20, out\nmov %r3, 4\nadd %r3, %r1\nldxb %r3, [%r3+8]\nmov %r0, %r3\nout:\nexit',
    ];
    const packets = truncations();
    for (const src of progs) agree(assemble(src), packets);
    const dd = BpfProgram.fromClassic(DD_PORT80);
    agree(dd, packets);
    if (backend === 'native' && x64JitAvailable()) {
      // The classic prologue `mov r6, r1; mov r9, r2` has no code of its own; neither has the indirect load's add.
      const t = compileBpfX64(dd).translation!;
      expect(t.pcOffsets[0]).toBe(t.pcOffsets[2]);
      const addPc = dd.insns.findIndex((i, pc) => i.opcode === 0x0f && dd.insns[pc + 1]!.opcode === 0x69);
      expect(addPc).toBeGreaterThan(0);
      expect(t.pcOffsets[addPc]).toBe(t.pcOffsets[addPc + 1]);
      // With every access checked nothing is proved, so nothing is fused; same verdicts.
      for (const src of progs) {
        const prog = assemble(src);
        const want = reference(prog, packets);
        if (want.some((w) => w.includes('@'))) continue;
        for (const proofs of ['none', 'all-checked'] as const) {
          const c = compileBpfX64(prog, { proofs });
          expect(Array.from(c.runBatch(PacketBatch.fromArray(packets), new Uint32Array(packets.length)), String)).toEqual(want);
        }
      }
    }
  });

  it('ldxh + be16 tested only for equality / jset against immediates compares the raw load with swapped immediates', () => {
    const head = 'mov %r0, 0\njlt %r2, 14, out\nldxh %r0, [%r1+12]\nbe16 %r0\n';
    const progs = [
      // The EtherType dispatch: two tests on two branches, then the value is dead.
      head + 'jne32 %r0, 0x86dd, v4\nmov %r0, 6\nexit\nv4:\njne32 %r0, 0x800, drop\nmov %r0, 4\nexit\ndrop:\nmov %r0, 0\nout:\nexit',
      // 64-bit tests and jset (either operand width).
      head + 'jeq %r0, 0x800, a\njset %r0, 0x8000, b\njset32 %r0, 0xffff0001, b\nmov %r0, 1\nexit\na:\nmov %r0, 2\nexit\nb:\nmov %r0, 3\nout:\nexit',
      // The value is also read as a number on one branch: swapped in the register as before.
      head + 'jne32 %r0, 0x86dd, v4\nadd %r0, 1\nexit\nv4:\njne32 %r0, 0x800, out\nmov %r0, 4\nout:\nexit',
      // An immediate beyond 16 bits, an order test, a test reached from elsewhere too.
      head + 'jne32 %r0, 0x10800, v4\nmov %r0, 6\nexit\nv4:\njne32 %r0, 0x800, out\nmov %r0, 4\nout:\nexit',
      head + 'jne32 %r0, 0x86dd, v4\nmov %r0, 6\nexit\nv4:\njgt32 %r0, 0x800, out\nmov %r0, 4\nout:\nexit',
      head + 'jne32 %r0, 0x86dd, v4\nmov %r0, 0x800\nja v4\nv4:\njne32 %r0, 0x800, out\nmov %r0, 4\nout:\nexit',
    ];
    const bytes = [0x0800, 0x86dd, 0x0008, 0xdd86, 0x8000, 0x0001, 0x0801, 0x8001, 0];
    const packets = bytes.flatMap((v) => {
      const p = new Uint8Array(20);
      p[12] = v >> 8;
      p[13] = v & 0xff;
      return [p, p.slice(0, 13)];
    });
    for (const src of progs) agree(assemble(src), packets);
    agree(BpfProgram.fromClassic(DD_PORT80), truncations());
    if (backend === 'native' && x64JitAvailable()) {
      const code = (src: string, pc: number) => {
        const t = compileBpfX64(assemble(src)).translation!;
        return Array.from(t.code.subarray(t.pcOffsets[pc]!, t.pcOffsets[pc + 2]!));
      };
      expect(code(progs[0]!, 2)).toEqual([0x0f, 0xb7, 0x47, 0x0c]); // movzx eax, word [rdi+12]: no rol
      for (const src of progs.slice(2)) expect(code(src, 2).length).toBeGreaterThan(4);
    }
  });

  it('`mov r0, K; exit` (verdict stored as an immediate) gives the same verdicts and the same 64-bit r0 of a run', () => {
    const progs = [
      'ldxb %r3, [%r1+0]\njeq %r3, 1, a\njeq %r3, 2, b\nmov32 %r0, -1\nexit\na:\nmov %r0, -2\nexit\nb:\nmov %r0, 0x7fffffff\nexit',
      // An exit that is also a jump target keeps r0 in the register.
      'ldxb %r3, [%r1+0]\nmov %r0, 5\njeq %r3, 1, out\nmov %r0, -7\nout:\nexit',
    ];
    const packets = [1, 2, 3].map((b) => Uint8Array.of(b));
    for (const src of progs) {
      const prog = assemble(src);
      agree(prog, packets);
      for (const p of packets) expect(prog.run(p)).toBe(prog.run(p, { engine: 'interpreter' }));
    }
  });

  it('lsh32 + mov32 (+ add32 imm) as one scaled lea computes what the interpreter computes, wrap-around included', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 1, max: 3 }),
        fc.option(fc.oneof(fc.constantFrom(0, 16, -1, 0x7fffffff, -0x80000000), fc.integer({ min: -0x80000000, max: 0x7fffffff }))),
        fc.boolean(),
        fc.array(fc.uint8Array({ minLength: 8, maxLength: 8 }), { minLength: 1, maxLength: 6 }),
        (k, imm, readAgain, bodies) => {
          // r3 = a 64-bit word of the packet; r3 <<= k (32-bit); r4 = r3 (32-bit) [+ imm]; r0 = r4 ^ (r4 >> 32) [^ r3]
          const insns = [bpfInsn(0x79, 3, 1, 0, 0), bpfInsn(0x64, 3, 0, 0, k), bpfInsn(0xbc, 4, 3, 0, 0)];
          if (imm !== null) insns.push(bpfInsn(0x04, 4, 0, 0, imm));
          insns.push(bpfInsn(0xbf, 0, 4, 0, 0), bpfInsn(0x77, 4, 0, 0, 32), bpfInsn(0xaf, 0, 4, 0, 0));
          if (readAgain) insns.push(bpfInsn(0xaf, 0, 3, 0, 0)); // r3 still read: the shift stays
          insns.push(bpfInsn(0x95, 0, 0, 0, 0));
          agree(new BpfProgram(insns), bodies);
        },
      ),
      { numRuns: 200 },
    );
    if (backend === 'native' && x64JitAvailable()) {
      // The classic MSH + indirect load of `tcp dst port 80`: the shift is part of the lea.
      const dd = BpfProgram.fromClassic(DD_PORT80);
      const t = compileBpfX64(dd).translation!;
      const sh = dd.insns.findIndex((i) => i.opcode === 0x64);
      expect(t.pcOffsets[sh + 1]).toBe(t.pcOffsets[sh + 3]); // mov32 and add32 have no code of their own
      expect(Array.from(t.code.subarray(t.pcOffsets[sh]!, t.pcOffsets[sh + 1]!)).slice(0, 2)).toEqual([0x42, 0x8d]); // lea
    }
  });

  it('errors in a batch run with registers for the loop state report the first erring packet like the interpreter', () => {
    // Packet-relative loads through r1 + a computed offset: checked against the packet in registers.
    const prog = assemble(`
      ldxb %r3, [%r1+0]
      mov %r4, %r1
      add %r4, %r3
      ldxh %r0, [%r4+1]
      exit`);
    const ok = Uint8Array.from([2, 0, 0, 9, 9]);
    const bad = Uint8Array.from([200, 1, 2]);
    const batch = PacketBatch.fromArray([ok, ok, bad, ok]);
    let err: unknown;
    try {
      prog.runBatch(batch, new Uint32Array(4));
    } catch (e) {
      err = e;
    }
    let want: unknown;
    try {
      prog.run(bad.slice(), { engine: 'interpreter' });
    } catch (e) {
      want = e;
    }
    expect(isNetworkError(err) && isNetworkError(want)).toBe(true);
    if (isNetworkError(err) && isNetworkError(want)) {
      expect(err.code).toBe(want.code);
      expect(err.detail.pc).toBe(want.detail.pc);
    }
    expect(Array.from(prog.runBatch(PacketBatch.fromArray([ok, ok]), new Uint32Array(2)))).toEqual([0x0909, 0x0909]);
  });
});

describe.skipIf(!x64JitAvailable())('x86-64 JIT: packets outside the batch data', () => {
  it('are refused with OUT_OF_BOUNDS by the shim before the run, with or without side effects', () => {
    const pure = assemble('ldxb %r0, [%r1+0]\nexit'); // no calls, no stores: only the verdicts must stay off the lanes
    const withStore = assemble('ldxb %r0, [%r1+0]\nstxb [%r1+0], %r0\nexit'); // stores to the packet: the data too
    expect(compileBpfX64(pure).translation!.sideEffectFree).toBe(true);
    expect(compileBpfX64(withStore).translation!.sideEffectFree).toBe(false);
    for (const prog of [pure, withStore]) expect(compileBpfX64(prog).translation!.checksLanes).toBe(false);
    for (const prog of [pure, withStore]) {
      for (const [off, len] of [[1_000_000, 1], [0, 1_000_000], [0xfffffff0, 0x20], [3, 0xffffffff]] as const) {
        const batch = PacketBatch.fromArray([Uint8Array.of(1), Uint8Array.of(2), Uint8Array.of(3)]);
        batch.offsets[1] = off;
        batch.lengths[1] = len;
        let err: unknown;
        try {
          prog.runBatch(batch, new Uint32Array(3), { engine: 'native' });
        } catch (e) {
          err = e;
        }
        expect(isNetworkError(err, 'OUT_OF_BOUNDS')).toBe(true);
      }
      // The engine stays usable; a packet ending exactly at the end of the data is inside.
      const ok = PacketBatch.fromArray([Uint8Array.of(7), Uint8Array.of(8)]);
      ok.offsets[1] = ok.data.length - 1;
      ok.data[ok.data.length - 1] = 9;
      expect(Array.from(prog.runBatch(ok, new Uint32Array(2), { engine: 'native' }))).toEqual([7, 9]);
    }
  });
});

describe.skipIf(!x64JitAvailable())('x86-64 JIT: fuzzing regressions', () => {
  it('a length copy read only by a bounds check is not dropped as dead (fuzz seed 154025)', async () => {
    const { generateBpfFuzzCase, bpfFuzzRng } = await import('../../src/ebpf/jit-x64/fuzz-gen.js');
    const { diffBpfEngines } = await import('../../src/ebpf/jit-x64/differential.js');
    expect(diffBpfEngines(generateBpfFuzzCase(bpfFuzzRng(154025), { maps: true }), ['interpreter', 'native'])).toBeNull();
    // The same shape by hand: r8 = len, then an unprovable store checked against it, then r8 overwritten.
    const prog = assemble('mov %r8, %r2\nmov %r3, 7\nstxb [%r1+10], %r3\nldxw %r8, [%r1+0]\nmov %r0, %r8\nexit');
    agree(prog, Array.from({ length: 16 }, (_, len) => Uint8Array.from({ length: len }, (_, i) => i + 1)));
  });
});
