// eBPF engines over a hot 1024-packet batch of 64-byte frames: `tcp dst port 80` and a TCP SYN filter,
// hand-assembled (the same logic tcpdump compiles, with explicit length checks as a verified program has).
// Variants: the eBPF → JavaScript JIT (generated code loops over the whole batch), the interpreter, and the
// JS JIT and the interpreter called once per packet through run(); the native x86-64 JIT has its own suite
// (ebpf-jit).
import { PacketBatch } from '../../src/batch.js';
import { assemble, type BpfProgram } from '../../src/ebpf/index.js';
import { defineSuite, type BenchCase } from '../harness.js';

/** `tcp dst port 80` over Ethernet (IPv4 with fragment check and IHL, or IPv6 with next header TCP). */
export const TCP_DST_PORT_80_ASM = `
    mov %r0, 0
    jlt %r2, 14, out
    ldxh %r3, [%r1+12]
    be16 %r3
    jeq %r3, 0x86dd, ip6
    jne %r3, 0x0800, out
    jlt %r2, 34, out
    ldxb %r4, [%r1+23]
    jne %r4, 6, out
    ldxh %r4, [%r1+20]
    be16 %r4
    jset %r4, 0x1fff, out
    ldxb %r4, [%r1+14]
    and %r4, 0xf
    lsh %r4, 2
    mov %r5, %r4
    add %r5, 18
    jgt %r5, %r2, out
    add %r4, %r1
    ldxh %r4, [%r4+16]
    be16 %r4
    jne %r4, 80, out
    mov %r0, 1
    ja out
ip6:
    jlt %r2, 58, out
    ldxb %r4, [%r1+20]
    jne %r4, 6, out
    ldxh %r4, [%r1+56]
    be16 %r4
    jne %r4, 80, out
    mov %r0, 1
out:
    exit
`;

/** IPv4 TCP segments with SYN set and ACK clear. */
export const TCP_SYN_ASM = `
    mov %r0, 0
    jlt %r2, 54, out
    ldxh %r3, [%r1+12]
    be16 %r3
    jne %r3, 0x0800, out
    ldxb %r4, [%r1+23]
    jne %r4, 6, out
    ldxb %r4, [%r1+14]
    and %r4, 0xf
    lsh %r4, 2
    mov %r5, %r4
    add %r5, 28
    jgt %r5, %r2, out
    add %r4, %r1
    ldxb %r4, [%r4+27]
    and %r4, 0x12
    jne %r4, 0x02, out
    mov %r0, 1
out:
    exit
`;

/** A 64-byte Ethernet/IPv4 frame: TCP (dst port, flags) or UDP. */
function frame(proto: 6 | 17, dstPort: number, flags: number): Uint8Array {
  const p = new Uint8Array(64);
  p.set([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 0x08, 0x00], 0);
  p[14] = 0x45;
  p[16] = 0;
  p[17] = 50;
  p[22] = 64;
  p[23] = proto;
  p.set([10, 0, 0, 1, 10, 0, 0, 2], 26);
  p[34] = 0x30;
  p[35] = 0x39;
  p[36] = dstPort >> 8;
  p[37] = dstPort & 0xff;
  if (proto === 6) {
    p[46] = 0x50;
    p[47] = flags;
  }
  return p;
}

/** 1024 frames: a mix of SYNs to 80, ACKs to 80, SYNs to 443 and UDP. */
export function ebpfBenchBatch(): PacketBatch {
  const kinds = [frame(6, 80, 0x02), frame(6, 80, 0x10), frame(6, 443, 0x02), frame(17, 53, 0)];
  const batch = new PacketBatch({ capacity: 1024, byteCapacity: 1024 * 64 });
  for (let i = 0; i < 1024; i++) batch.push(kinds[(i * 7) % 4]!);
  return batch;
}

let sink = 0;

export default defineSuite({
  name: 'ebpf',
  description: 'eBPF interpreter and eBPF → JavaScript JIT over a hot 1024 × 64 B batch',
  cases(): BenchCase[] {
    const batch = ebpfBenchBatch();
    const verdicts = new Uint32Array(1024);
    const packets = batch.toArray();
    const cases: BenchCase[] = [];
    const programs: [string, BpfProgram][] = [
      ['tcp dst port 80', assemble(TCP_DST_PORT_80_ASM)],
      ['tcp syn', assemble(TCP_SYN_ASM)],
    ];
    for (const [name, prog] of programs) {
      const js = prog.compile('js');
      const interp = prog.compile('interpreter');
      cases.push({
        name: `eBPF ${name}, 1024 × 64 B`,
        unit: 'packets',
        perOp: 1024,
        baseline: 'interpreter',
        variants: [
          { name: 'js-jit', fn: () => { js.runBatch(batch, verdicts); sink ^= verdicts[0]!; } },
          { name: 'interpreter', fn: () => { interp.runBatch(batch, verdicts); sink ^= verdicts[0]!; } },
          // runBatch against one run() call per packet (what runBatch saves: per-call setup, r0 as bigint)
          { name: 'js-jit run() each', fn: () => { for (const p of packets) sink ^= Number(js.run(p)); } },
          // the same per-packet calls on the interpreter (its run() skips the DataView and the stack clearing)
          { name: 'interpreter run() each', fn: () => { for (const p of packets) sink ^= Number(interp.run(p)); } },
        ],
      });
    }
    return cases;
  },
  teardown() {
    if (sink === 0.5) console.log(sink);
  },
});
