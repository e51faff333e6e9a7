import { describe, it, expect } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '../../src/ebpf/jit-x64/index.js'; // registers the 'native' engine when the addon is built
import { itWithTools, tcpdumpIndices } from '../helpers/tools.js';
import { readCaptureSync } from '../../src/capture/file.js';
import { BpfProgramBuilder, BpfFilterBuilder } from '../../src/ebpf/builder.js';
import { BpfInterpreter, bpfEngineNames, type BpfProgram } from '../../src/ebpf/program.js';
import { BPF_ACCESS_PROVED } from '../../src/ebpf/verifier.js';
import { isNetworkError } from '../../src/errors.js';

const FIX = fileURLToPath(new URL('../fixtures/', import.meta.url));
const CAPTURES = [`${FIX}ebpf/mix.pcap`, `${FIX}lo-traffic.pcap`].filter((f) => existsSync(f));

/** Builder filters and the tcpdump expression each must agree with. */
const CASES: [string, () => BpfProgram, string][] = [
  ['etherType(0x0800)', () => new BpfProgramBuilder('ipv4').etherType(0x0800).build(), 'ether proto 0x0800'],
  ['etherType(0x0806)', () => new BpfProgramBuilder('arp').etherType(0x0806).build(), 'arp'],
  ['ipProto(6)', () => new BpfProgramBuilder('tcp').ipProto(6).build(), 'ip proto 6 or ip6 proto 6'],
  ['ipProto(1)', () => new BpfProgramBuilder('icmp').ipProto(1).build(), 'ip proto 1 or ip6 proto 1'],
  ['tcpDstPort(80)', () => new BpfProgramBuilder('web').tcpDstPort(80).build(), 'tcp dst port 80'],
  ['udpDstPort(53)', () => new BpfProgramBuilder('dns').udpDstPort(53).build(), 'udp dst port 53'],
  ['udpSrcPort(53)', () => new BpfProgramBuilder('dns-replies').udpSrcPort(53).build(), 'udp src port 53'],
  ['tcpSrcPort(80)', () => new BpfProgramBuilder('web-replies').tcpSrcPort(80).build(), 'tcp src port 80'],
  ['srcHost(10.9.0.2)', () => new BpfProgramBuilder('h').srcHost('10.9.0.2').build(), 'ip src host 10.9.0.2'],
  ['dstHost(127.0.0.1)', () => new BpfProgramBuilder('h').dstHost('127.0.0.1').build(), 'ip dst host 127.0.0.1'],
  ['dstHost(fd00::1)', () => new BpfProgramBuilder('h6').dstHost('fd00::1').build(), 'ip6 dst host fd00::1'],
  ['srcHost(::1)', () => new BpfProgramBuilder('h6').srcHost('::1').build(), 'ip6 src host ::1'],
  [
    'tcpSynFilter()',
    () => new BpfProgramBuilder('tcp_syn_filter').tcpSynFilter().build(),
    '(ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn) or (ip6 and ip6[6] == 6 and ip6[53] & 0x12 == 2)',
  ],
  [
    'or(udpDstPort(53), tcpDstPort(80))',
    () => new BpfProgramBuilder('x').or((b) => b.udpDstPort(53), (b) => b.tcpDstPort(80)).build(),
    'udp dst port 53 or tcp dst port 80',
  ],
  [
    'etherType + and(ipProto(17), not(udpDstPort(53)))',
    () => new BpfProgramBuilder('x').etherType(0x0800).and((b) => b.ipProto(17), new BpfFilterBuilder().not((b) => b.udpDstPort(53))).build(),
    'ip and ip proto 17 and not udp dst port 53',
  ],
  [
    'or(srcHost, dstHost) and tcpSynFilter',
    () => new BpfProgramBuilder('x').or((b) => b.srcHost('10.9.0.2'), (b) => b.dstHost('10.9.0.2')).tcpSynFilter().build(),
    '(ip src host 10.9.0.2 or ip dst host 10.9.0.2) and ip and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn',
  ],
];

describe('BpfProgramBuilder: canned filters agree with tcpdump on real captures', () => {
  itWithTools(['tcpdump'], 'every canned filter, on every engine', () => {
    for (const file of CAPTURES) {
      const packets = readCaptureSync(readFileSync(file)).map((p) => Uint8Array.from(p.data));
      for (const [name, make, expr] of CASES) {
        const prog = make();
        prog.verify();
        const want = tcpdumpIndices(file, packets, expr);
        for (const engine of bpfEngineNames()) {
          const got = packets.flatMap((p, i) => (prog.run(p, { engine }) === 1n ? [i] : []));
          expect(got, `${name} vs '${expr}' on ${file} (${engine})`).toEqual(want);
        }
      }
    }
  });
});

describe('BpfProgramBuilder: API', () => {
  it("runs as the guide shows: BpfInterpreter.loadPacket/execute → 1 for a SYN", () => {
    const program = new BpfProgramBuilder('tcp_syn_filter').tcpSynFilter().build();
    expect(program.name).toBe('tcp_syn_filter');
    program.verify();
    const syn = new Uint8Array(54);
    syn.set([0x08, 0x00], 12);
    syn.set([0x45, 0, 0, 40, 0, 0, 0x40, 0, 64, 6], 14);
    syn[14 + 20 + 13] = 0x02;
    const vm = new BpfInterpreter();
    vm.loadPacket(syn);
    expect(vm.execute(program)).toBe(1n);
    syn[14 + 20 + 13] = 0x12; // SYN-ACK
    expect(vm.execute(program)).toBe(0n);
    expect(vm.loadPacket(syn.subarray(0, 30)).execute(program)).toBe(0n); // too short: no match, no error
  });

  it('fixed-offset loads are proved in bounds; an empty builder matches everything', () => {
    const p = new BpfProgramBuilder().etherType(0x86dd).dstHost('fd00::1').build();
    const r = p.verify();
    const loads = p.insns.flatMap((i, pc) => ((i.opcode & 7) === 1 ? [pc] : []));
    expect(loads.length).toBeGreaterThan(0);
    expect(loads.every((pc) => r.access[pc] === BPF_ACCESS_PROVED)).toBe(true);
    expect(new BpfProgramBuilder().build().run(new Uint8Array(0))).toBe(1n);
  });

  it.each([
    ['a bad port', () => new BpfProgramBuilder().tcpDstPort(70000)],
    ['a bad address', () => new BpfProgramBuilder().srcHost('10.0.0.256')],
    ['a bad IPv6 address', () => new BpfProgramBuilder().srcHost('fd00::1::2')],
    ['an empty or()', () => new BpfProgramBuilder().or()],
  ])('rejects %s with INVALID_ARGUMENT', (_n, f) => {
    try {
      f();
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e, 'INVALID_ARGUMENT')).toBe(true);
    }
  });
});
