import { describe, it, expect } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, copyFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import '../../src/ebpf/jit-x64/index.js'; // registers the 'native' engine when the addon is built
import { itWithTools } from '../helpers/tools.js';
import { readCaptureSync } from '../../src/capture/file.js';
import { BpfProgram, bpfEngineNames } from '../../src/ebpf/program.js';
import { loadBpfElf, parseBpfElf } from '../../src/ebpf/elf.js';
import { BpfMap } from '../../src/ebpf/maps.js';
import { isNetworkError, NetworkError } from '../../src/errors.js';

const FIX = fileURLToPath(new URL('../fixtures/ebpf/', import.meta.url));
const ROOT_FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const OBJECTS = ['syn_counter', 'dns_parser', 'vlan_filter', 'subprog'] as const;
const fixture = (name: string) => new Uint8Array(readFileSync(`${FIX}${name}.o`));
const mix = readCaptureSync(readFileSync(`${FIX}mix.pcap`)).map((p) => Uint8Array.from(p.data));
const lo = readCaptureSync(readFileSync(`${ROOT_FIX}lo-traffic.pcap`)).map((p) => Uint8Array.from(p.data));
const engines = bpfEngineNames();

function tcpdumpLines(file: string, expr: string): string[] {
  const r = spawnSync('tcpdump', ['-nr', file, expr], { encoding: 'latin1' });
  if (r.status !== 0) throw new Error(r.stderr);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}
function tcpdumpIndices(file: string, expr: string): number[] {
  // -tt timestamps are unique in these captures: map them back to packet indices.
  const all = spawnSync('tcpdump', ['-tt', '-nr', file], { encoding: 'latin1' }).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
  const sel = spawnSync('tcpdump', ['-tt', '-nr', file, expr], { encoding: 'latin1' }).stdout.split('\n').filter(Boolean).map((l) => l.split(' ')[0]);
  expect(new Set(all).size).toBe(all.length);
  return sel.map((t) => all.indexOf(t));
}

/** A DNS query in Ethernet/IPv4/UDP to port 53 for `name`, QTYPE `qtype`. */
function dnsQuery(name: string, qtype: number): Uint8Array {
  const labels = name.split('.').filter(Boolean);
  const qname = [...labels.flatMap((l) => [l.length, ...new TextEncoder().encode(l)]), 0];
  const dns = [0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0, ...qname, 0, qtype, 0, 1];
  const udpLen = 8 + dns.length;
  const ip = [0x45, 0, 0, 20 + udpLen, 0, 1, 0x40, 0, 64, 17, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2];
  const udp = [0x30, 0x39, 0, 53, udpLen >> 8, udpLen & 0xff, 0, 0];
  return new Uint8Array([...new Array(12).fill(2), 0x08, 0x00, ...ip, ...udp, ...dns]);
}

describe('ELF: committed fixtures compiled by clang -O2 -g -target bpf', () => {
  it('lists programs and maps (legacy maps, BTF .maps, global data)', () => {
    const syn = parseBpfElf(fixture('syn_counter'));
    expect(syn.programs).toEqual([{ name: 'count_syn', section: 'classifier/syn', size: syn.programs[0]!.size }]);
    expect(syn.maps).toEqual([{ name: 'syn_count', type: 1, keySize: 4, valueSize: 8, maxEntries: 1024, flags: 0, origin: '.maps' }]);
    const dns = parseBpfElf(fixture('dns_parser'));
    expect(dns.maps).toEqual([{ name: 'qtype_count', type: 2, keySize: 4, valueSize: 8, maxEntries: 256, flags: 0, origin: 'maps' }]);
    const vlan = parseBpfElf(fixture('vlan_filter'));
    expect(vlan.maps.map((m) => [m.name, m.valueSize, m.flags])).toEqual([
      ['.data', 2, 0],
      ['.rodata', 8, 0x80],
      ['.bss', 8, 0],
    ]);
    const l = loadBpfElf(fixture('vlan_filter'));
    expect(l.globals.get('blocked_udp_port')).toEqual({ map: '.data', offset: 0, size: 2 });
    expect(l.globals.get('dropped')).toEqual({ map: '.bss', offset: 0, size: 8 });
    expect([...l.maps[1]!.values.subarray(0, 4)]).toEqual([100, 0, 44, 1]); // blocked_vlans = {100, 300, …}
  });

  it.each(OBJECTS)('%s passes the verifier', (name) => {
    const p = BpfProgram.fromElf(fixture(name));
    const r = p.verify();
    expect(r.insnsProcessed).toBeGreaterThan(0);
    if (name === 'dns_parser' || name === 'subprog') expect(r.hasLoops).toBe(true);
    if (name === 'subprog') expect(r.functions.length).toBe(3);
  });

  describe.each(engines)('on the %s engine', (engine) => {
    itWithTools(['tcpdump'], 'SYN counter: per-port counts in the hash map match tcpdump', () => {
      for (const [file, packets] of [[`${FIX}mix.pcap`, mix], [`${ROOT_FIX}lo-traffic.pcap`, lo]] as const) {
        const p = BpfProgram.fromElf(fixture('syn_counter'));
        p.verify();
        let syns = 0;
        for (const pkt of packets) syns += Number(p.run(pkt, { engine }));
        const expected = new Map<number, number>();
        for (const l of tcpdumpLines(file, 'ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn')) {
          const port = Number(/ > [\d.]+\.(\d+):/.exec(l)![1]);
          expected.set(port, (expected.get(port) ?? 0) + 1);
        }
        expect(syns).toBe([...expected.values()].reduce((a, b) => a + b, 0));
        expect(syns).toBeGreaterThan(0);
        const got = new Map([...p.maps.get('syn_count')!.entries()].map(([k, v]) => [new DataView(k.buffer).getUint32(0, true), Number(new DataView(v.buffer).getBigUint64(0, true))]));
        expect(got).toEqual(expected);
      }
    });

    itWithTools(['tcpdump'], 'DNS parser: label counts and per-QTYPE counts (bounded loop)', () => {
      const p = BpfProgram.fromElf(fixture('dns_parser'));
      p.verify();
      // Real captures: IPv4 DNS queries to port 53 (the VLAN-tagged and IPv6 ones are not parsed).
      const results = [...mix, ...lo].map((pkt) => Number(p.run(pkt, { engine })));
      const queries = [...tcpdumpLines(`${FIX}mix.pcap`, 'ip and udp dst port 53'), ...tcpdumpLines(`${ROOT_FIX}lo-traffic.pcap`, 'ip and udp dst port 53')];
      const labels = queries.map((l) => /A+\? (\S+)\. /.exec(l)![1]!.split('.').length).sort();
      expect(results.filter((r) => r > 0).sort()).toEqual(labels);
      expect(p.maps.get('qtype_count')!.readCounter(1)).toBe(BigInt(queries.length));
      // Hand-built queries: 5 labels, QTYPE AAAA (28); a response is ignored; a truncated name → 0.
      expect(p.run(dnsQuery('a.bb.ccc.dddd.e', 28), { engine })).toBe(5n);
      expect(p.maps.get('qtype_count')!.readCounter(28)).toBe(1n);
      const resp = dnsQuery('x.y', 1);
      resp[14 + 20 + 8 + 2] = 0x81;
      expect(p.run(resp, { engine })).toBe(0n);
      expect(p.run(dnsQuery('abc.def', 1).subarray(0, 60), { engine })).toBe(0n);
      // 20 labels: the loop stops after 16 and the parser reads on from there.
      expect(p.run(dnsQuery(Array(20).fill('q').join('.'), 1), { engine })).toBe(16n);
    });

    itWithTools(['tcpdump'], 'VLAN filter: drops blocked VLANs and UDP ports; .data/.rodata are changeable from TypeScript, .bss counts', () => {
      const l = loadBpfElf(fixture('vlan_filter'));
      const p = new BpfProgram(l.insns, { name: l.name, maps: l.maps });
      p.verify();
      const dropped = () => mix.flatMap((pkt, i) => (p.run(pkt, { engine }) === 0n ? [i] : []));
      const expected = [...tcpdumpIndices(`${FIX}mix.pcap`, 'vlan 100'), ...tcpdumpIndices(`${FIX}mix.pcap`, 'ip and udp dst port 9999')].sort((a, b) => a - b);
      expect(expected.length).toBe(3);
      expect(dropped()).toEqual(expected);
      const bss = p.maps.get('.bss')!;
      expect(new DataView(bss.values.buffer, bss.values.byteOffset).getBigUint64(0, true)).toBe(3n);
      // blocked_udp_port = 53 (.data): now IPv4 UDP to 53, tagged or not, is dropped, 9999 passes.
      const g = l.globals.get('blocked_udp_port')!;
      new DataView(p.maps.get(g.map)!.values.buffer, p.maps.get(g.map)!.values.byteOffset + g.offset).setUint16(0, 53, true);
      // blocked_vlans[2] = 20 (.rodata: read-only to the program, not to us): the QinQ frame's inner tag.
      new DataView(p.maps.get('.rodata')!.values.buffer, p.maps.get('.rodata')!.values.byteOffset).setUint16(4, 20, true);
      const want2 = [
        ...tcpdumpIndices(`${FIX}mix.pcap`, 'vlan 100'),
        ...tcpdumpIndices(`${FIX}mix.pcap`, 'ip and udp dst port 53'),
        ...tcpdumpIndices(`${FIX}mix.pcap`, 'vlan 200 and ip and udp dst port 53'),
        ...tcpdumpIndices(`${FIX}mix.pcap`, 'vlan 10 and vlan 20'),
      ].sort((a, b) => a - b);
      expect(dropped()).toEqual([...new Set(want2)]);
    });

    itWithTools(['tcpdump'], 'subprogram calls: IPv4 header checksums of real packets are valid, a corrupted one is not', () => {
      const p = BpfProgram.fromElf(fixture('subprog'));
      p.verify();
      expect(p.insns.filter((i) => i.opcode === 0x85 && i.src === 1).length).toBeGreaterThanOrEqual(2);
      const ipv4 = tcpdumpIndices(`${FIX}mix.pcap`, 'ether[12:2] == 0x800 and ip[0] & 0xf == 5');
      const res = mix.map((pkt) => Number(p.run(pkt, { engine })));
      expect(res.flatMap((r, i) => (r === 1 ? [i] : []))).toEqual(ipv4);
      expect(res.every((r) => r !== 2)).toBe(true);
      const bad = Uint8Array.from(mix[ipv4[0]!]!);
      bad[14 + 8] ^= 0x40; // TTL
      expect(p.run(bad, { engine })).toBe(2n);
    });
  });
});

describe('ELF: compiled now by clang (the fixtures are reproducible)', () => {
  itWithTools(['clang'], 'compiles each fixture and gets the same results as the committed object', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfelf-'));
    try {
      copyFileSync(`${FIX}bpf_common.h`, join(dir, 'bpf_common.h'));
      for (const name of OBJECTS) {
        copyFileSync(`${FIX}${name}.c`, join(dir, `${name}.c`));
        const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', `${name}.c`, '-o', `${name}.o`], { cwd: dir, encoding: 'utf8' });
        expect(r.status, r.stderr).toBe(0);
        const fresh = BpfProgram.fromElf(new Uint8Array(readFileSync(join(dir, `${name}.o`))));
        const committed = BpfProgram.fromElf(fixture(name));
        fresh.verify();
        for (const pkt of [...mix, dnsQuery('a.b.c', 1)]) expect(fresh.run(pkt)).toBe(committed.run(pkt));
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itWithTools(['clang'], 'loads each of several programs sharing a section and a .text subprogram', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfelf-'));
    try {
      copyFileSync(`${FIX}bpf_common.h`, join(dir, 'bpf_common.h'));
      writeFileSync(
        join(dir, 'two.c'),
        `#include "bpf_common.h"
        static __attribute__((noinline)) int twice(int x) { return x * 2; }
        SEC("xdp") int first(__u8 *p, __u64 len) { return len > 0 ? twice(p[0]) : 0; }
        SEC("xdp") int second(__u8 *p, __u64 len) { return len > 1 ? twice(p[1]) + 1 : 0; }
        SEC("tc") int third(__u8 *p, __u64 len) { return 3; }`,
      );
      const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', 'two.c', '-o', 'two.o'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const obj = new Uint8Array(readFileSync(join(dir, 'two.o')));
      expect(parseBpfElf(obj).programs.map((p) => `${p.section}:${p.name}`)).toEqual(['xdp:first', 'xdp:second', 'tc:third']);
      const want: Record<string, bigint> = { first: 10n, second: 15n, third: 3n, tc: 3n };
      for (const [name, r0] of Object.entries(want)) {
        const p = BpfProgram.fromElf(obj, name);
        p.verify();
        for (const engine of engines) expect(p.run(new Uint8Array([5, 7]), { engine }), `${name} on ${engine}`).toBe(r0);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itWithTools(['clang'], 'trace_printk with formats in .rodata and .rodata.str1.1 and on the stack, on every engine', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfelf-'));
    try {
      copyFileSync(`${FIX}bpf_common.h`, join(dir, 'bpf_common.h'));
      writeFileSync(
        join(dir, 'tp.c'),
        `#include "bpf_common.h"
        static long (*bpf_trace_printk)(const char *fmt, __u32 fmt_size, ...) = (void *)6;
        SEC("tracepoint") int trace_prog(__u8 *p, __u64 len) {
          static const char fmt[] = "len=%d first=%x\\n";
          if (len < 1) return 0;
          bpf_trace_printk(fmt, sizeof(fmt), (int)len, p[0]);
          char f2[] = "stack fmt %d\\n";
          bpf_trace_printk(f2, sizeof(f2), 7);
          return 1;
        }`,
      );
      const r = spawnSync('clang', ['-O2', '-g', '-target', 'bpf', '-c', 'tp.c', '-o', 'tp.o'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      const p = BpfProgram.fromElf(new Uint8Array(readFileSync(join(dir, 'tp.o'))));
      expect([...p.maps.keys()]).toEqual(['.rodata', '.rodata.str1.1']);
      p.verify();
      for (const engine of engines) {
        const lines: string[] = [];
        expect(p.run(new Uint8Array([0xab, 2, 3]), { engine, onTrace: (m) => lines.push(m) })).toBe(1n);
        expect(lines, engine).toEqual(['len=3 first=ab\n', 'stack fmt 7\n']);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  itWithTools(['clang'], 'gives clear errors for what is not supported', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bpfelf-'));
    const build = (src: string, args: string[] = ['-g']) => {
      writeFileSync(join(dir, 'x.c'), `#include "bpf_common.h"\n${src}`);
      const r = spawnSync('clang', ['-O2', ...args, '-target', 'bpf', '-c', 'x.c', '-o', 'x.o'], { cwd: dir, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      return new Uint8Array(readFileSync(join(dir, 'x.o')));
    };
    const code = (bytes: Uint8Array) => {
      try {
        BpfProgram.fromElf(bytes);
      } catch (e) {
        expect(e).toBeInstanceOf(NetworkError);
        return `${(e as NetworkError).code}: ${(e as Error).message}`;
      }
      return 'accepted';
    };
    try {
      copyFileSync(`${FIX}bpf_common.h`, join(dir, 'bpf_common.h'));
      const btfMap = `struct { __uint(type, BPF_MAP_TYPE_HASH); __type(key, __u32); __type(value, __u32); __uint(max_entries, 4); } m SEC(".maps");
        SEC("p") int f(__u8 *p, __u64 l) { __u32 k = 0; return bpf_map_lookup_elem(&m, &k) != 0; }`;
      expect(code(build(btfMap, []))).toMatch(/UNSUPPORTED: .*needs BTF.*-g/);
      expect(code(build(btfMap))).toBe('accepted');
      const percpu = `struct { __uint(type, 6); __type(key, __u32); __type(value, __u32); __uint(max_entries, 4); } m SEC(".maps");
        SEC("p") int f(__u8 *p, __u64 l) { __u32 k = 0; return bpf_map_lookup_elem(&m, &k) != 0; }`;
      expect(code(build(percpu))).toMatch(/UNSUPPORTED: .*type 6 maps are not supported/);
      const ext = `extern unsigned int LINUX_KERNEL_VERSION __attribute__((section(".kconfig")));
        SEC("p") int f(__u8 *p, __u64 l) { return LINUX_KERNEL_VERSION; }`;
      expect(code(build(ext))).toMatch(/UNSUPPORTED: .*extern symbol 'LINUX_KERNEL_VERSION'/);
      expect(code(build('static int g(void) { return 1; }'))).toMatch(/UNSUPPORTED: .*no program section/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('ELF: malformed input', () => {
  const patched = (name: string, at: number, v: number) => {
    const b = fixture(name);
    b[at] = v;
    return b;
  };
  it.each([
    ['not ELF', () => new Uint8Array(100), 'PARSE_ERROR'],
    ['empty', () => new Uint8Array(0), 'PARSE_ERROR'],
    ['big-endian', () => patched('subprog', 5, 2), 'UNSUPPORTED'],
    ['not BPF machine', () => patched('subprog', 18, 62), 'UNSUPPORTED'],
    ['truncated', () => fixture('syn_counter').slice(0, 2000), 'PARSE_ERROR'],
  ] as const)('%s', (_n, bytes, code) => {
    try {
      BpfProgram.fromElf(bytes());
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e)).toBe(true);
      expect((e as NetworkError).code).toBe(code);
    }
  });

  it('unknown program name is INVALID_ARGUMENT naming the programs there are', () => {
    expect(() => BpfProgram.fromElf(fixture('syn_counter'), 'nope')).toThrow(/classifier\/syn:count_syn/);
    expect(BpfProgram.fromElf(fixture('syn_counter'), 'count_syn').name).toBe('count_syn');
  });

  it('shares maps by name between loads', () => {
    const shared = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'syn_count' });
    const p = BpfProgram.fromElf(fixture('syn_counter'), undefined, { sharedMaps: new Map([['syn_count', shared]]) });
    expect(p.maps.get('syn_count')).toBe(shared);
  });

  it('fuzz: corrupted objects give NetworkError or a program that still verifies or is rejected — never a crash', () => {
    const objects = OBJECTS.map(fixture);
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: objects.length - 1 }),
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { minLength: 1, maxLength: 8 }),
        (which, edits) => {
          const b = objects[which]!.slice();
          for (const [at, v] of edits) b[at % b.length] = v;
          try {
            const p = BpfProgram.fromElf(b);
            try {
              p.verify({ maxInsnsProcessed: 20_000 });
            } catch (e) {
              expect(isNetworkError(e, 'VERIFIER_REJECTED')).toBe(true);
            }
          } catch (e) {
            expect(e).toBeInstanceOf(NetworkError);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
