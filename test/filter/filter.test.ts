import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketBatch } from '../../src/batch.js';
import { encodeCapture, readCaptureSync } from '../../src/capture/index.js';
import { bpfEngineNames } from '../../src/ebpf/index.js';
import { NetworkError } from '../../src/errors.js';
import { compileFilter, compileFilterClassic, compileFilterFull, formatClassic, parseFilter, type ClassicInsn } from '../../src/filter/index.js';
import { itWithTools, tcpdumpIndices } from '../helpers/tools.js';
import { FILTER_CORPUS } from './corpus.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const CAPTURES = [join(fixtures, 'filter', 'mix.pcap'), join(fixtures, 'lo-traffic.pcap'), join(fixtures, 'any-sll2-ns.pcap')];

interface Loaded {
  path: string;
  linktype: number;
  packets: Uint8Array[];
  batch: PacketBatch;
}

function load(path: string): Loaded {
  const pkts = readCaptureSync(readFileSync(path));
  const packets = pkts.map((p) => p.data);
  return {
    path,
    linktype: pkts[0]!.linktype,
    packets,
    batch: PacketBatch.fromArray(packets),
  };
}

/** Indices the compiled filter accepts, per engine (every engine must agree). */
function ourIndices(cap: Loaded, expr: string): Map<string, number[]> {
  const prog = compileFilter(expr, { linktype: cap.linktype });
  const result = new Map<string, number[]>();
  for (const engine of bpfEngineNames()) {
    const verdicts = prog.runBatch(cap.batch, new Uint32Array(cap.batch.length), { engine });
    const idx: number[] = [];
    verdicts.forEach((v, i) => {
      if (v !== 0) idx.push(i);
    });
    result.set(engine, idx);
  }
  return result;
}

function tcpdumpAccepts(expr: string, linktype: number): boolean {
  try {
    const dlt = ({ 1: 'EN10MB', 101: 'RAW', 113: 'LINUX_SLL', 276: 'LINUX_SLL2' } as Record<number, string>)[linktype] ?? 'EN10MB';
    execFileSync('tcpdump', ['-d', '-y', dlt, '--', expr], { stdio: ['ignore', 'pipe', 'pipe'] });
    return true;
  } catch {
    return false;
  }
}

/**
 * The mixed capture re-framed for other linktypes, so the compiler's link offsets are checked too: raw IP
 * (101) keeps the untagged IPv4/IPv6 packets, Linux SLL (113) puts a 16-byte cooked header in front.
 */
function derived(): string[] {
  const src = readCaptureSync(readFileSync(CAPTURES[0]!));
  const dir = mkdtempSync(join(tmpdir(), 'elysia-filter-'));
  const raw = src.filter((p) => p.data[12] === 0x08 && p.data[13] === 0x00 || p.data[12] === 0x86 && p.data[13] === 0xdd)
    .map((p) => ({ data: p.data.subarray(14), timestamp: p.timestamp }));
  const sll = src.map((p) => {
    const d = new Uint8Array(p.data.length + 2);
    d.set([0, 4, 0, 1, 0, 6], 0); // outgoing, ARPHRD_ETHER, 6-byte address
    d.set(p.data.subarray(6, 12), 6); // the source MAC, padded to 8
    d.set(p.data.subarray(12), 14); // protocol type + payload
    return { data: d, timestamp: p.timestamp };
  });
  const rawPath = join(dir, 'raw.pcap');
  const sllPath = join(dir, 'sll.pcap');
  writeFileSync(rawPath, encodeCapture(raw, { format: 'pcap', linktype: 101 }));
  writeFileSync(sllPath, encodeCapture(sll, { format: 'pcap', linktype: 113 }));
  return [rawPath, sllPath];
}

const caps = [...CAPTURES, ...derived()].map(load);

describe('filter parser', () => {
  it('parses libpcap shorthand and precedence (and/or equal, left-associative)', () => {
    const e = parseFilter('host 1.2.3.4 and port 80 or 443');
    expect(e.kind).toBe('or');
    if (e.kind !== 'or') return;
    expect(e.right).toMatchObject({ kind: 'primitive', q: { type: 'port' }, id: { value: 443 } });
    expect(parseFilter('')).toEqual({ kind: 'true' });
    expect(parseFilter('(tcp[13] & 2) != 0').kind).toBe('relation');
    expect(parseFilter('not not tcp')).toMatchObject({ kind: 'not', operand: { kind: 'not' } });
  });

  it('reports syntax errors with the position and what was expected', () => {
    const cases: Array<[string, number, RegExp]> = [
      ['host', 4, /expected an address/],
      ['tcp and', 7, /expected a primitive|expected an address/],
      ['tcp port 80)', 11, /expected 'and', 'or'/],
      ['(tcp', 4, /expected '\)'/],
      ['ip[1:3] = 0', 5, /size of 1, 2 or 4/],
      ['tcp $ 1', 4, /unexpected character/],
      ['len-14 > 3', 0, /expected a primitive/],
      ['port 80 and 443 or', 18, /expected/],
      ['tcp[13] = ', 10, /expected a number/],
    ];
    for (const [expr, offset, msg] of cases) {
      let err: unknown;
      try {
        parseFilter(expr);
      } catch (e) {
        err = e;
      }
      expect(err, expr).toBeInstanceOf(NetworkError);
      expect((err as NetworkError).code).toBe('PARSE_ERROR');
      expect((err as NetworkError).detail.offset, expr).toBe(offset);
      expect((err as NetworkError).message, expr).toMatch(msg);
    }
  });

  it('rejects what it cannot compile with a typed error', () => {
    for (const expr of ['host example.com', 'gateway 1.2.3.4', 'ip port 80', 'port 70000', 'ip[0] / 0 = 1', 'mpls', 'ether proto 100', 'net 10.1.2.3/8', 'port nosuchservice']) {
      expect(() => compileFilter(expr), expr).toThrow(NetworkError);
    }
    expect(() => compileFilter('tcp', { linktype: 9999 })).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });

  it('never throws anything but NetworkError on random input (fast-check)', () => {
    const words = ['tcp', 'udp', 'ip', 'ip6', 'host', 'net', 'port', 'portrange', 'src', 'dst', 'and', 'or', 'not', '(', ')', '[', ']', ':',
      '1.2.3.4', '10', '80', '::1', 'ether', 'vlan', 'len', '=', '!=', '>', '&', '+', '-', '/', 'mask', 'proto', '\\tcp', 'tcp-syn', '1-100', '!', '&&'];
    fc.assert(
      fc.property(fc.oneof(fc.array(fc.constantFrom(...words), { maxLength: 12 }).map((a) => a.join(' ')), fc.string({ maxLength: 40 })), (expr) => {
        try {
          compileFilter(expr);
        } catch (e) {
          if (!(e instanceof NetworkError)) throw e;
        }
      }),
      { numRuns: 1500 },
    );
  });
});

describe('filter compiler against libpcap', () => {
  it('has a corpus of at least 100 expressions', () => {
    expect(FILTER_CORPUS.length).toBeGreaterThanOrEqual(100);
  });

  itWithTools(['tcpdump'], 'accepts exactly the packets tcpdump prints, for every corpus expression, capture and engine', () => {
    let compared = 0;
    caps.forEach((cap, c) => {
      // Every expression on the mixed capture; every other one on the other captures (time on 2 cores).
      FILTER_CORPUS.forEach((expr, e) => {
        if (c > 0 && e % 2 === 1) return;
        if (cap.linktype !== 1 && !tcpdumpAccepts(expr, cap.linktype)) return; // e.g. `vlan` on a cooked capture
        const want = tcpdumpIndices(cap.path, cap.packets, expr);
        for (const [engine, got] of ourIndices(cap, expr)) expect(got, `${expr} on ${cap.path} (${engine})`).toEqual(want);
        compared++;
      });
    });
    expect(compared).toBeGreaterThan(350);
  }, 300_000);

  itWithTools(['tcpdump'], 'matches tcpdump on random valid expressions (fast-check)', () => {
    const cap = caps[0]!;
    const prim = fc.oneof(
      fc.constantFrom('ip', 'ip6', 'arp', 'tcp', 'udp', 'icmp', 'icmp6', 'vlan', 'vlan 10', 'ether multicast', 'ether broadcast', 'ip multicast', 'ip6 multicast'),
      fc.tuple(fc.constantFrom('', 'src ', 'dst ', 'src or dst ', 'src and dst '), fc.constantFrom('10.1.0.1', '10.1.0.2', '10.10.0.2', 'fd00::1', 'fd00::2', 'fd20::2'))
        .map(([d, h]) => `${d}host ${h}`),
      fc.tuple(fc.constantFrom('', 'src ', 'dst '), fc.constantFrom('10.0.0.0/8', '10.1.0.0/16', '10.10', 'fd00::/16', 'fe80::/10')).map(([d, n]) => `${d}net ${n}`),
      fc.tuple(fc.constantFrom('', 'tcp ', 'udp '), fc.constantFrom('', 'src ', 'dst '), fc.constantFrom(22, 53, 80, 443, 5000, 8080)).map(([p, d, n]) => `${p}${d}port ${n}`),
      fc.tuple(fc.integer({ min: 0, max: 40000 }), fc.integer({ min: 0, max: 65535 })).map(([a, b]) => `portrange ${a}-${b}`),
      fc.tuple(fc.constantFrom('less', 'greater'), fc.integer({ min: 40, max: 1600 })).map(([w, n]) => `${w} ${n}`),
      fc.tuple(fc.constantFrom('ip[8]', 'ip[9]', 'ip[2:2]', 'tcp[13]', 'tcp[tcpflags] & tcp-syn', 'udp[4:2]', 'icmp[0]', 'ether[0] & 1', 'len'),
        fc.constantFrom('=', '!=', '<', '<=', '>', '>='), fc.integer({ min: 0, max: 300 })).map(([l, op, n]) => `${l} ${op} ${n}`),
    );
    const expr: fc.Arbitrary<string> = fc.letrec((tie) => ({
      e: fc.oneof({ depthSize: 'small' },
        prim,
        fc.tuple(tie('e') as fc.Arbitrary<string>, fc.constantFrom('and', 'or', '&&', '||'), tie('e') as fc.Arbitrary<string>).map(([a, op, b]) => `${a} ${op} ${b}`),
        (tie('e') as fc.Arbitrary<string>).map((a) => `not (${a})`),
        (tie('e') as fc.Arbitrary<string>).map((a) => `(${a})`)),
    })).e;
    fc.assert(
      fc.property(expr, (e) => {
        const want = tcpdumpIndices(cap.path, cap.packets, e);
        for (const [engine, got] of ourIndices(cap, e)) expect(got, `${e} (${engine})`).toEqual(want);
      }),
      { numRuns: 120 },
    );
  }, 300_000);
});

describe('filter optimiser', () => {
  it('never changes which packets a filter accepts, and never grows the program', () => {
    const cap = caps[0]!;
    for (const expr of FILTER_CORPUS) {
      const opt = compileFilterClassic(expr);
      const raw = compileFilterClassic(expr, { optimize: false });
      expect(opt.length, expr).toBeLessThanOrEqual(raw.length);
      const a = compileFilter(expr).runBatch(cap.batch, new Uint32Array(cap.batch.length), { engine: 'interpreter' });
      const rawProg = compileFilterFull(expr, { optimize: false }).program;
      const b = rawProg.runBatch(cap.batch, new Uint32Array(cap.batch.length), { engine: 'interpreter' });
      expect(Array.from(a), expr).toEqual(Array.from(b));
    }
  });

  it('shares loads and removes decided branches', () => {
    // `ip and ip`: the second EtherType test is decided by the first.
    expect(compileFilterClassic('ip and ip')).toEqual(compileFilterClassic('ip'));
    // In `tcp and port 80`, the port test's protocol checks are decided by `tcp`, and its reloads shared.
    const count = (s: string): number => s.split('\n').filter((l) => /ld[bh]? /.test(l)).length;
    for (const e of ['tcp and port 80', 'ip and tcp and ip', 'udp and port 53', 'tcp port 80 or tcp port 443']) {
      const opt = formatClassic(compileFilterClassic(e));
      const raw = formatClassic(compileFilterClassic(e, { optimize: false }));
      expect(count(opt), e).toBeLessThan(count(raw));
    }
  });

  it('lays out long programs with in-range jumps', () => {
    const many = Array.from({ length: 120 }, (_, i) => `host 10.0.${i >> 8}.${i & 255}`).join(' or ');
    const classic: ClassicInsn[] = compileFilterClassic(many);
    for (const c of classic) {
      expect(c.jt).toBeLessThanOrEqual(255);
      expect(c.jf).toBeLessThanOrEqual(255);
    }
    const prog = compileFilter(many);
    const pkt = new Uint8Array(60);
    pkt[12] = 0x08;
    pkt[14] = 0x45;
    pkt.set([10, 0, 0, 119], 30);
    expect(prog.run(pkt, { engine: 'interpreter' })).toBe(262144n);
    pkt[33] = 120;
    expect(prog.run(pkt, { engine: 'js' })).toBe(0n);
  });
});
