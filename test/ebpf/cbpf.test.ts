import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import '../../src/ebpf/jit-x64/index.js'; // registers the 'native' engine when the addon is built
import { itWithTools, tcpdumpIndices } from '../helpers/tools.js';
import { readCaptureSync } from '../../src/capture/file.js';
import { BpfProgram, bpfEngineNames } from '../../src/ebpf/program.js';
import {
  checkClassicBpf,
  classicToEbpf,
  parseClassicBpf,
  runClassicBpf,
  type CbpfInsn,
} from '../../src/ebpf/cbpf.js';
import { BPF_ACCESS_PROVED } from '../../src/ebpf/verifier.js';
import { isNetworkError } from '../../src/errors.js';

const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CAPTURES = [`${FIX}ebpf/mix.pcap`, `${FIX}lo-traffic.pcap`].filter((f) => existsSync(f));

/** The expressions checked against tcpdump: protocols, ports, hosts, VLAN, flags, fragments, arithmetic. */
const EXPRESSIONS = [
  'ip',
  'ip6',
  'arp',
  'tcp',
  'udp',
  'icmp',
  'icmp6',
  'tcp dst port 80',
  'tcp port 443',
  'udp port 53',
  'port 53',
  'src port 5353',
  'host 10.9.0.1',
  'src host 10.9.0.2',
  'dst host 127.0.0.1',
  'net 192.168.0.0/16',
  'ip6 host fd00::1',
  'vlan',
  'vlan 100',
  'vlan and udp',
  'vlan 10 and vlan 20',
  'tcp[tcpflags] & tcp-syn != 0',
  'tcp[tcpflags] == tcp-syn',
  'tcp[13] & 0x12 == 0x12',
  'ip[6:2] & 0x1fff != 0',
  'ip[0] & 0xf > 5',
  'greater 70',
  'less 60',
  'ether broadcast',
  'ether host 02:00:00:00:00:01',
  'ip proto 17',
  'portrange 1000-9000',
  'not arp and not ip6',
  'udp[8:2] == 0x1234',
  'icmp[icmptype] == icmp-echo',
  'tcp and (port 80 or port 22)',
  'ip[2:2] - ((ip[0] & 0xf) << 2) > 30',
  'ip[2:2] / 3 > 20',
  'ip[8] % 7 == 1',
  'ether[12:2] == 0x88a8',
];

function tcpdump(args: string[]): string {
  const r = spawnSync('tcpdump', args, { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(`tcpdump ${args.join(' ')} failed: ${r.stderr}`);
  return r.stdout;
}

/** An instruction with the fields its opcode ignores zeroed (libpcap leaves junk in k of `tax`; -d omits it). */
function usedFields(i: CbpfInsn): CbpfInsn {
  const cls = i.code & 7;
  const usesK =
    cls === 0 || cls === 1 || cls === 2 || cls === 3 ? (i.code & 0xe0) !== 0x80 : cls === 4 || cls === 5 ? (i.code & 0x08) === 0 && i.code !== 0x84 : cls === 6 ? (i.code & 0x18) === 0 : false;
  const usesJ = cls === 5 && (i.code & 0xf0) !== 0;
  return { code: i.code, jt: usesJ ? i.jt : 0, jf: usesJ ? i.jf : 0, k: usesK ? i.k : 0 };
}

describe('classic BPF: tcpdump agreement on real captures', () => {
  itWithTools(['tcpdump'], `accepts exactly the packets tcpdump prints, for ${EXPRESSIONS.length} expressions`, () => {
    expect(CAPTURES.length).toBeGreaterThan(0);
    const engines = bpfEngineNames();
    let compared = 0;
    for (const file of CAPTURES) {
      const packets = readCaptureSync(readFileSync(file));
      for (const expr of EXPRESSIONS) {
        const dd = tcpdump(['-r', file, '-dd', expr]);
        const prog = BpfProgram.fromClassic(dd);
        prog.verify();
        const classic = parseClassicBpf(dd);
        const expected = tcpdumpIndices(file, packets.map((p) => p.data), expr);
        for (const engine of engines) {
          const got = packets.flatMap((p, i) => (prog.run(p.data, { engine }) !== 0n ? [i] : []));
          expect(got, `${expr} on ${file} (${engine})`).toEqual(expected);
        }
        const ref = packets.flatMap((p, i) => (runClassicBpf(classic, p.data) !== 0 ? [i] : []));
        expect(ref, `${expr} reference`).toEqual(expected);
        // -d and -ddd spell the same program.
        expect(parseClassicBpf(tcpdump(['-r', file, '-d', expr])), `${expr} -d`).toEqual(classic.map(usedFields));
        expect(parseClassicBpf(tcpdump(['-r', file, '-ddd', expr])), `${expr} -ddd`).toEqual(classic);
        compared++;
      }
    }
    expect(compared).toBeGreaterThanOrEqual(20);
  });

  itWithTools(['tcpdump'], 'packet loads after the length check are proved in bounds for the JITs', () => {
    const prog = BpfProgram.fromClassic(tcpdump(['-r', CAPTURES[0]!, '-dd', 'tcp dst port 80']));
    const r = prog.verify();
    const loads = prog.insns.flatMap((i, pc) => ((i.opcode & 7) === 1 ? [pc] : []));
    const proved = loads.filter((pc) => r.access[pc] === BPF_ACCESS_PROVED);
    // ldh [12], ldb [23], ldh [20] … are absolute: proved; the [x + k] loads need the run-time check.
    expect(proved.length).toBeGreaterThanOrEqual(4);
    expect(proved.length).toBeLessThan(loads.length);
  });
});

describe('classic BPF: parsing and checking', () => {
  it('parses -dd, -ddd and -d forms', () => {
    const dd = '{ 0x28, 0, 0, 0x0000000c },\n{ 0x15, 0, 1, 0x00000800 },\n{ 0x6, 0, 0, 0x00040000 },\n{ 0x6, 0, 0, 0x00000000 },';
    const ddd = '4\n40 0 0 12\n21 0 1 2048\n6 0 0 262144\n6 0 0 0\n';
    const d = '(000) ldh      [12]\n(001) jeq      #0x800           jt 2\tjf 3\n(002) ret      #262144\n(003) ret      #0\n';
    const want: CbpfInsn[] = [
      { code: 0x28, jt: 0, jf: 0, k: 12 },
      { code: 0x15, jt: 0, jf: 1, k: 0x800 },
      { code: 0x06, jt: 0, jf: 0, k: 262144 },
      { code: 0x06, jt: 0, jf: 0, k: 0 },
    ];
    expect(parseClassicBpf('Warning: assuming Ethernet\n' + dd)).toEqual(want);
    expect(parseClassicBpf(ddd)).toEqual(want);
    expect(parseClassicBpf(d)).toEqual(want);
    const ip = BpfProgram.fromClassic(dd);
    const pkt = new Uint8Array(14);
    pkt[12] = 8;
    expect(ip.run(pkt, { engine: 'interpreter' })).toBe(262144n);
    expect(ip.run(pkt.subarray(0, 13), { engine: 'js' })).toBe(0n); // out-of-range load: return 0
  });

  it.each([
    ['garbage', 'hello world', 'PARSE_ERROR'],
    ['wrong -ddd count', '3\n6 0 0 0\n', 'PARSE_ERROR'],
    ['empty', '', 'VERIFIER_REJECTED'],
    ['no final return', '{ 0x28, 0, 0, 12 },', 'VERIFIER_REJECTED'],
    ['jump past the end', '{ 0x15, 5, 0, 1 },\n{ 0x6, 0, 0, 0 },', 'VERIFIER_REJECTED'],
    ['division by constant zero', '{ 0x34, 0, 0, 0 },\n{ 0x6, 0, 0, 0 },', 'VERIFIER_REJECTED'],
    ['M[] read before write', '{ 0x60, 0, 0, 3 },\n{ 0x16, 0, 0, 0 },', 'VERIFIER_REJECTED'],
    ['M[] index out of range', '{ 0x02, 0, 0, 16 },\n{ 0x16, 0, 0, 0 },', 'VERIFIER_REJECTED'],
    ['ancillary load', '{ 0x28, 0, 0, 0xfffff004 },\n{ 0x16, 0, 0, 0 },', 'UNSUPPORTED'],
    ['unknown opcode', '{ 0xee, 0, 0, 0 },\n{ 0x16, 0, 0, 0 },', 'VERIFIER_REJECTED'],
  ])('rejects %s', (_n, text, code) => {
    try {
      BpfProgram.fromClassic(text);
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e)).toBe(true);
      expect((e as { code: string }).code).toBe(code);
    }
  });

  it('M[] written on one branch only is rejected, on both accepted (check_load_and_stores)', () => {
    const one = [
      { code: 0x28, jt: 0, jf: 0, k: 12 },
      { code: 0x15, jt: 0, jf: 1, k: 0x800 },
      { code: 0x02, jt: 0, jf: 0, k: 1 },
      { code: 0x60, jt: 0, jf: 0, k: 1 },
      { code: 0x16, jt: 0, jf: 0, k: 0 },
    ];
    expect(() => checkClassicBpf(one)).toThrow(/M\[1\] is read before/);
    const both = [{ code: 0x02, jt: 0, jf: 0, k: 1 }, ...one];
    expect(() => checkClassicBpf(both)).not.toThrow();
  });

  it('fuzz: the parser throws only NetworkError', () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 200 }), (s) => {
        try {
          parseClassicBpf(s);
        } catch (e) {
          expect(isNetworkError(e)).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('classic BPF: translation matches the classic semantics (random programs)', () => {
  // Random classic programs that pass the checker, and random packets; eBPF engines vs runClassicBpf.
  const insnArb = (remaining: number): fc.Arbitrary<CbpfInsn> =>
    fc.oneof(
      fc.record({ code: fc.constantFrom(0x20, 0x28, 0x30, 0x40, 0x48, 0x50), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 70 }) }),
      fc.record({ code: fc.constant(0xb1), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 64 }) }),
      fc.record({ code: fc.constantFrom(0x00, 0x01, 0x80, 0x81), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 0xffffffff }) }),
      fc.record({
        code: fc.constantFrom(0x04, 0x14, 0x24, 0x34, 0x44, 0x54, 0x64, 0x74, 0x94, 0xa4),
        jt: fc.constant(0),
        jf: fc.constant(0),
        k: fc.integer({ min: 1, max: 31 }),
      }),
      fc.record({ code: fc.constantFrom(0x0c, 0x1c, 0x2c, 0x3c, 0x4c, 0x5c, 0x6c, 0x7c, 0x84, 0x9c, 0xac, 0x07, 0x87), jt: fc.constant(0), jf: fc.constant(0), k: fc.constant(0) }),
      fc.record({ code: fc.constantFrom(0x02, 0x03), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 3 }) }),
      fc.record({ code: fc.constantFrom(0x60, 0x61), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 3 }) }),
      fc.record({
        code: fc.constantFrom(0x15, 0x25, 0x35, 0x45, 0x1d, 0x2d, 0x3d, 0x4d),
        jt: fc.integer({ min: 0, max: Math.max(0, remaining - 1) }),
        jf: fc.integer({ min: 0, max: Math.max(0, remaining - 1) }),
        k: fc.oneof(fc.integer({ min: 0, max: 300 }), fc.integer({ min: 0, max: 0xffffffff })),
      }),
      fc.record({ code: fc.constant(0x05), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: Math.max(0, remaining - 1) }) }),
      fc.record({ code: fc.constantFrom(0x06, 0x16), jt: fc.constant(0), jf: fc.constant(0), k: fc.integer({ min: 0, max: 0xffffffff }) }),
    );
  const progArb = fc.integer({ min: 1, max: 24 }).chain((n) =>
    fc.tuple(...Array.from({ length: n }, (_, i) => insnArb(n - i - 1)), fc.constantFrom(0x06, 0x16)).map((xs) => {
      const last = xs.pop() as number;
      const prog = xs as CbpfInsn[];
      prog.push({ code: last, jt: 0, jf: 0, k: 7 });
      return prog;
    }),
  );

  it('agrees on every engine', () => {
    let ran = 0;
    fc.assert(
      fc.property(progArb, fc.array(fc.uint8Array({ minLength: 0, maxLength: 80 }), { minLength: 1, maxLength: 4 }), (prog, pkts) => {
        try {
          checkClassicBpf(prog);
        } catch {
          return; // not a valid classic program: nothing to compare
        }
        const p = new BpfProgram(classicToEbpf(prog));
        p.verify();
        ran++;
        for (const pkt of pkts) {
          const want = BigInt(runClassicBpf(prog, pkt));
          for (const engine of bpfEngineNames()) expect(p.run(pkt, { engine })).toBe(want);
        }
      }),
      { numRuns: 300 },
    );
    expect(ran).toBeGreaterThan(50);
  });
});
