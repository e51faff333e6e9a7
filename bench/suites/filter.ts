// Compiled tcpdump filters over a hot batch of 1024 64-byte frames (a mix of IPv4/IPv6 TCP and UDP to
// common ports), on every registered eBPF engine.
import { PacketBatch } from '../../src/batch.js';
import { bpfEngineNames } from '../../src/ebpf/index.js';
import { compileFilter } from '../../src/filter/index.js';
import { defineSuite, type BenchCase, type BenchVariant } from '../harness.js';
import { runLibpcap, tcpdumpDd } from '../libpcap.js';

export const FILTER_BENCH_EXPRESSIONS = [
  'tcp dst port 80',
  'host 192.0.2.7 and (port 53 or port 443)',
  'tcp[tcpflags] & (tcp-syn|tcp-ack) = tcp-syn',
];

/** Deterministic 64-byte Ethernet frames: IPv4 TCP/UDP (most), IPv6 TCP, ARP. */
export function filterBenchFrames(count = 1024): Uint8Array[] {
  const frames: Uint8Array[] = [];
  const ports = [80, 443, 53, 22, 8080, 123];
  let seed = 12345;
  const rnd = (): number => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed >>> 8;
  };
  for (let i = 0; i < count; i++) {
    const f = new Uint8Array(64);
    f.set([0x02, 0, 0, 0, 0, 1, 0x02, 0, 0, 0, 0, 2]);
    const kind = i % 16;
    const port = ports[rnd() % ports.length]!;
    if (kind === 15) {
      f[12] = 0x08;
      f[13] = 0x06; // ARP
    } else if (kind === 14) {
      f[12] = 0x86;
      f[13] = 0xdd;
      f[14] = 0x60;
      f[19] = 20;
      f[20] = 6; // IPv6 TCP
      f[21] = 64;
      f[56] = port >> 8;
      f[57] = port & 0xff;
    } else {
      f[12] = 0x08;
      f[14] = 0x45;
      f[17] = 50;
      f[22] = 64;
      const udp = kind % 3 === 0;
      f[23] = udp ? 17 : 6;
      f.set([192, 0, 2, rnd() % 2 ? 7 : 9], 26);
      f.set([198, 51, 100, 1], 30);
      f[34] = 0x9c;
      f[35] = rnd() & 0xff;
      f[36] = port >> 8;
      f[37] = port & 0xff;
      if (!udp) {
        f[46] = 0x50;
        f[47] = rnd() % 4 === 0 ? 0x02 : 0x10; // SYN or ACK
      }
    }
    frames.push(f);
  }
  return frames;
}

export default defineSuite({
  name: 'filter',
  description: 'tcpdump expressions compiled to eBPF, 1024 × 64 B hot batch, vs libpcap bpf_filter() on tcpdump -dd',
  cases(): BenchCase[] {
    const batch = PacketBatch.fromArray(filterBenchFrames(), { align: 64 });
    const verdicts = new Uint32Array(batch.length);
    return FILTER_BENCH_EXPRESSIONS.map((expr): BenchCase => {
      const prog = compileFilter(expr);
      const variants: BenchVariant[] = bpfEngineNames().map((engine) => ({
        name: engine === 'js' ? 'js-jit' : engine === 'native' ? 'native-jit' : engine,
        setup: () => {
          prog.runBatch(batch, verdicts, { engine });
        },
        fn: () => {
          prog.runBatch(batch, verdicts, { engine });
        },
      }));
      const dd = tcpdumpDd(expr);
      const accepted = prog.runBatch(batch, new Uint32Array(batch.length), { engine: 'js' }).reduce((n, v) => n + (v !== 0 ? 1 : 0), 0);
      variants.push({
        name: 'libpcap',
        external: () => {
          // libpcap's own compiler and interpreter on the same 64-byte frames (they are laid out back to back).
          const r = dd ? runLibpcap(dd, batch.data.subarray(0, batch.bytesUsed), 64, batch.length) : null;
          if (r && r.accepted !== accepted * 1) console.error(`filter: libpcap accepted ${r.accepted}, we ${accepted} (${expr})`);
          return r ? r.hot : null;
        },
      });
      return { name: expr, unit: 'packets', perOp: batch.length, variants, baseline: 'libpcap' };
    });
  },
});
