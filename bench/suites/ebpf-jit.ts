// The eBPF x86-64 JIT against the JS JIT, the interpreter and libpcap's bpf_filter() (a C program under
// bench/c, built here when a C compiler and libpcap-dev are present, running the `tcpdump -dd` program of the
// same expression on the same packets). 64-byte packets, a hot batch of 1024 and a 64 MiB stream; filters
// `tcp dst port 80` and a SYN filter. Also: the cost of one call (a 1-packet batch), of the bounds checks (all
// checked vs verifier-proved), and for the stream what memory allows: one core reading one word of every 64-byte
// line of 64 MiB (no filter, bench/c/mem_bandwidth.c), in packets/s.
import { PacketBatch } from '../../src/batch.js';
import { BpfProgram, assemble } from '../../src/ebpf/index.js';
import { X64CompiledProgram, x64JitAvailable } from '../../src/ebpf/jit-x64/index.js';
import { defineSuite, type BenchCase, type BenchVariant } from '../harness.js';
import { runLibpcap, runMemBandwidth, tcpdumpDd, type LibpcapTiming, type MemBandwidth } from '../libpcap.js';

const PKT = 64;
const HOT = 1024;
const STREAM_BYTES = 64 << 20;

/** 64-byte Ethernet/IPv4 frames: TCP :80 SYN, TCP :80 ACK, TCP :443 SYN, UDP :53, in turn. */
function makePacket(i: number): Uint8Array {
  const p = new Uint8Array(PKT);
  const dv = new DataView(p.buffer);
  p.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
  dv.setUint16(12, 0x0800);
  p[14] = 0x45;
  dv.setUint16(16, PKT - 14);
  p[22] = 64;
  const kind = i & 3;
  p[23] = kind === 3 ? 17 : 6;
  dv.setUint32(26, 0x0a000001 + (i & 0xff));
  dv.setUint32(30, 0x0a000100 + ((i >> 8) & 0xff));
  dv.setUint16(34, 1024 + (i & 0x7fff));
  dv.setUint16(36, kind === 3 ? 53 : kind === 2 ? 443 : 80);
  if (kind !== 3) {
    p[46] = 0x50;
    p[47] = kind === 1 ? 0x10 : 0x02;
  }
  return p;
}

function fillBatch(count: number): PacketBatch {
  const b = new PacketBatch({ capacity: count, byteCapacity: count * PKT });
  for (let i = 0; i < count; i++) {
    const r = b.reserve(PKT);
    r.view.set(makePacket(i));
  }
  return b;
}

interface FilterDef {
  name: string;
  expr: string;
  /** The program as Linux translates the classic one (LD_ABS/LD_IND, A = r0, X = r7), when cbpf.ts is absent. */
  ebpf: string;
}

const FILTERS: FilterDef[] = [
  {
    name: 'tcp dst port 80',
    expr: 'tcp dst port 80',
    ebpf: `
      ldabsh 12
      jeq %r0, 0x86dd, v6
      jne %r0, 0x800, drop
      ldabsb 23
      jne %r0, 6, drop
      ldabsh 20
      jset %r0, 0x1fff, drop
      ldabsb 14
      and32 %r0, 0xf
      lsh32 %r0, 2
      mov %r7, %r0
      ldindh %r7, 16
      jne %r0, 80, drop
      mov %r0, 262144
      exit
    v6:
      ldabsb 20
      jne %r0, 6, drop
      ldabsh 56
      jne %r0, 80, drop
      mov %r0, 262144
      exit
    drop:
      mov %r0, 0
      exit`,
  },
  {
    name: 'SYN filter',
    expr: 'tcp[tcpflags] & tcp-syn != 0 and tcp[tcpflags] & tcp-ack == 0',
    ebpf: `
      ldabsh 12
      jne %r0, 0x800, drop
      ldabsb 23
      jne %r0, 6, drop
      ldabsh 20
      jset %r0, 0x1fff, drop
      ldabsb 14
      and32 %r0, 0xf
      lsh32 %r0, 2
      mov %r7, %r0
      ldindb %r7, 27
      jset %r0, 0x2, syn
      ja drop
    syn:
      jset %r0, 0x10, drop
      mov %r0, 262144
      exit
    drop:
      mov %r0, 0
      exit`,
  },
];

// `tcp dst port 80` (IPv4) with direct packet access: the verifier proves four of its five loads in bounds
// (after `r2 < 54`); the fifth depends on the IHL. Compiled with every access checked vs with the proofs.
const DIRECT_PORT80 = `
  mov %r0, 0
  jlt %r2, 54, out
  ldxh %r3, [%r1+12]
  jne %r3, 0x8, out
  ldxb %r3, [%r1+23]
  jne %r3, 6, out
  ldxh %r3, [%r1+20]
  and %r3, 0xff1f
  jne %r3, 0, out
  ldxb %r4, [%r1+14]
  and %r4, 0xf
  lsh %r4, 2
  mov %r5, %r1
  add %r5, %r4
  ldxh %r3, [%r5+16]
  jne %r3, 0x5000, out
  mov %r0, 1
out:
  exit`;

function programFor(f: FilterDef, dd: string | null): BpfProgram {
  // The classic → eBPF translation of cbpf.ts (ebpf-extras) when it exists, else the same translation by hand.
  const fromClassic = (BpfProgram as unknown as { fromClassic?: (text: string) => BpfProgram }).fromClassic;
  if (dd && typeof fromClassic === 'function') return fromClassic(dd);
  return assemble(f.ebpf);
}

let sink = 0;

export default defineSuite({
  name: 'ebpf-jit',
  description: 'eBPF x86-64 JIT vs JS JIT vs interpreter vs libpcap bpf_filter(), 64-byte packets',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [];
    const hot = fillBatch(HOT);
    const stream = fillBatch(STREAM_BYTES / PKT);
    const verdicts = new Uint32Array(stream.length);
    const external = new Map<string, LibpcapTiming | null>();
    let mem: MemBandwidth | null | undefined;
    const libpcap = (f: FilterDef, dd: string | null): LibpcapTiming | null => {
      if (!external.has(f.name)) external.set(f.name, dd ? runLibpcap(dd, stream.data.subarray(0, stream.bytesUsed), PKT, HOT) : null);
      return external.get(f.name)!;
    };
    const engines = [...(x64JitAvailable() ? ['native'] : []), 'js', 'interpreter'];
    for (const f of FILTERS) {
      const dd = tcpdumpDd(f.expr);
      const prog = programFor(f, dd);
      // Same verdicts everywhere, or the comparison means nothing.
      const ref = prog.runBatch(stream, new Uint32Array(stream.length), { engine: 'js' });
      const accepted = ref.reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
      for (const e of engines) {
        const v = prog.runBatch(stream, verdicts, { engine: e });
        if (v.some((x, i) => x !== ref[i])) throw new Error(`ebpf-jit: engine ${e} disagrees with the JS JIT on ${f.name}`);
      }
      for (const [label, batch] of [['hot 1024', hot], ['64 MiB stream', stream]] as const) {
        const variants: BenchVariant[] = engines.map((e) => ({
          name: e,
          fn: () => {
            prog.runBatch(batch, verdicts, { engine: e });
            sink ^= verdicts[0]!;
          },
        }));
        variants.push({
          name: 'libpcap',
          external: () => {
            const r = libpcap(f, dd);
            if (r && r.accepted !== accepted) console.error(`ebpf-jit: libpcap accepted ${r.accepted}, eBPF ${accepted} (${f.name})`);
            return r ? (label === 'hot 1024' ? r.hot : r.stream) : null;
          },
        });
        if (label === '64 MiB stream') {
          variants.push({
            name: 'memory bound (read 1 word / 64 B line, no filter)',
            external: () => {
              mem ??= runMemBandwidth(STREAM_BYTES >> 20);
              return mem ? mem.line : null;
            },
          });
        }
        cases.push({ name: `${f.name}, ${label}`, unit: 'packets', perOp: batch.length, variants, baseline: 'libpcap' });
      }
    }
    {
      // The fixed cost of one runBatch call (N-API crossing, dispatch, lane check, loop entry): a 1-packet batch,
      // `tcp dst port 80` (ops = calls; ns per call = 1e9 / ops/s).
      const one = fillBatch(1);
      const prog = programFor(FILTERS[0]!, tcpdumpDd(FILTERS[0]!.expr));
      cases.push({
        name: 'tcp dst port 80, 1-packet batch (per-call cost)',
        unit: 'ops',
        perOp: 1,
        baseline: 'js',
        variants: engines.map((e) => ({
          name: e,
          fn: () => {
            prog.runBatch(one, verdicts, { engine: e });
            sink ^= verdicts[0]!;
          },
        })),
      });
    }
    if (x64JitAvailable()) {
      const direct = assemble(DIRECT_PORT80);
      const proved = new X64CompiledProgram(direct, { proofs: 'verifier' });
      const checked = new X64CompiledProgram(direct, { proofs: 'all-checked' });
      cases.push({
        name: `bounds checks: direct-access port 80 (${checked.translation!.checkedAccesses} checked vs ${proved.translation!.checkedAccesses} checked + ${proved.translation!.provedAccesses} proved), hot 1024`,
        unit: 'packets',
        perOp: HOT,
        baseline: 'all checked',
        variants: [
          { name: 'verifier-proved', fn: () => { proved.runBatch(hot, verdicts); sink ^= verdicts[0]!; } },
          { name: 'all checked', fn: () => { checked.runBatch(hot, verdicts); sink ^= verdicts[0]!; } },
        ],
      });
    }
    return cases;
  },
  teardown() {
    if (sink === 0.5) console.log(sink);
  },
});
