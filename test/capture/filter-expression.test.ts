// tcpdump expressions wherever captures are filtered: CaptureFilter, PacketCapture, PacketAnalyzer, and
// `elysia-net read/stats FILE EXPR`.
import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CaptureFilter, encodeCapture, PacketAnalyzer, PacketCapture, readCaptureSync } from '../../src/capture/index.js';
import { compileFilter } from '../../src/filter/index.js';
import { NetworkError } from '../../src/errors.js';
import { IpProtocol } from '../../src/wire/index.js';
import { itWithTools } from '../helpers/tools.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const mix = join(root, 'test', 'fixtures', 'filter', 'mix.pcap');
const sll2 = join(root, 'test', 'fixtures', 'any-sll2-ns.pcap');
const packets = readCaptureSync(readFileSync(mix));
const EXPRESSIONS = ['tcp dst port 80', 'vlan and tcp', 'icmp or icmp6', 'not ip', 'udp and greater 1000', 'ip and tcp[13] & 2 != 0'];

describe('CaptureFilter with a tcpdump expression', () => {
  it('accepts exactly what the compiled filter accepts', () => {
    for (const expr of EXPRESSIONS) {
      const f = new CaptureFilter(expr);
      const prog = compileFilter(expr);
      expect(f.expression).toBe(expr);
      for (const p of packets) expect(f.matches(p), expr).toBe(prog.run(p.data) !== 0n);
    }
  });

  it('compiles per linktype (a cooked capture) and combines with the guide fields', () => {
    const cooked = readCaptureSync(readFileSync(sll2));
    const f = new CaptureFilter('icmp');
    const want = cooked.map((p) => compileFilter('icmp', { linktype: p.linktype }).run(p.data) !== 0n);
    expect(cooked.map((p) => f.matches(p))).toEqual(want);
    expect(want.some(Boolean)).toBe(true);
    const both = new CaptureFilter('tcp');
    both.destPort = 443;
    const n = packets.filter((p) => both.matches(p)).length;
    expect(n).toBe(packets.filter((p) => new CaptureFilter('tcp dst port 443').matches(p)).length);
  });

  it('rejects a bad expression when it is made, with the position', () => {
    expect(() => new CaptureFilter('tcp port')).toThrow(expect.objectContaining({ code: 'PARSE_ERROR', detail: expect.objectContaining({ offset: 8 }) }));
    expect(() => new CaptureFilter(42 as unknown as string)).toThrow(NetworkError);
  });

  it('drives PacketCapture and PacketAnalyzer', () => {
    const cap = new PacketCapture(new CaptureFilter('tcp and port 443'), 1000);
    for (const p of packets) cap.captureFrame(p);
    const want = packets.filter((p) => compileFilter('tcp and port 443').run(p.data) !== 0n).length;
    expect(cap.packetCount()).toBe(want);
    expect(cap.filtered).toBe(packets.length - want);

    const a = new PacketAnalyzer({ filter: 'udp' });
    for (const p of packets) a.analyzePacket(p);
    const udp = packets.filter((p) => compileFilter('udp').run(p.data) !== 0n).length;
    expect(a.getStats().packets).toBe(udp);
    expect(a.filteredPackets).toBe(packets.length - udp);
    // The guide's field filter works there too (it reads the protocol after IPv6 extension headers and
    // skips later IPv4 fragments, so it is not the same set as tcpdump's `udp`).
    const plain = new PacketAnalyzer({ filter: new CaptureFilter({ protocol: IpProtocol.Udp }) });
    for (const p of packets) plain.analyzePacket(p);
    expect(plain.getStats().packets + plain.filteredPackets).toBe(packets.length);
    expect(plain.getStats().packets).toBeGreaterThan(0);
  });
});

describe('elysia-net read/stats FILE EXPR', () => {
  const cli = (...args: string[]): string => execFileSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'index.js'), ...args], { encoding: 'utf8' });

  itWithTools(['tcpdump'], 'read prints the lines tcpdump -n -S -r prints for the same expression', () => {
    // (ICMPv6 other than echo, SNMP and the like are left out: `read` does not decode what tcpdump's
    // NDP/MLD/SNMP printers print.)
    const forRead = EXPRESSIONS.map((e) => (e === 'icmp or icmp6' ? 'icmp or (icmp6 and ip6[40] >= 128 and ip6[40] <= 129)' : e === 'not ip' ? 'arp' : e));
    for (const expr of forRead) {
      const ours = cli('read', '--no-progress', mix, expr).split('\n').filter(Boolean);
      const theirs = execFileSync('tcpdump', ['-n', '-S', '-r', mix, '--', expr], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).split('\n').filter(Boolean);
      expect(ours.length, expr).toBe(theirs.length);
      // Our lines may add a DPI note after tcpdump's text.
      ours.forEach((l, i) => expect(l.startsWith(theirs[i]!) || theirs[i]!.startsWith(l), `${expr}: ${l} vs ${theirs[i]}`).toBe(true));
    }
  });

  itWithTools(['tcpdump'], 'read prints TCP flags in tcpdump\'s order (F S R P . U E W)', () => {
    const frames = [0xff, 0x03, 0x05, 0x0f, 0x31, 0x12, 0x52, 0xc2, 0x00].map((flags) => {
      const f = new Uint8Array(54);
      f.set([0x08, 0x00], 12);
      f.set([0x45, 0, 0, 40, 0, 0, 0, 0, 64, 6, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2], 14);
      f.set([0, 1, 0, 2, 0, 0, 0, 3, 0, 0, 0, 4, 0x50, flags, 0, 5], 34);
      return { data: f, timestamp: 1_000_000_000n };
    });
    const dir = mkdtempSync(join(tmpdir(), 'elysia-flags-'));
    const file = join(dir, 'flags.pcap');
    writeFileSync(file, encodeCapture(frames, { format: 'pcap', linktype: 1 }));
    const flags = (text: string): string[] => [...text.matchAll(/Flags \[([^\]]*)\]/g)].map((m) => m[1]!);
    const theirs = execFileSync('tcpdump', ['-n', '-r', file], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
    expect(flags(cli('read', '--no-progress', file))).toEqual(flags(theirs));
    expect(flags(theirs)).toContain('FSRP.UEW');
  });

  it('stats counts only the packets the expression accepts', () => {
    const report = JSON.parse(cli('stats', '--json', '--no-progress', mix, 'icmp', 'or', 'icmp6')) as { stats: { packets: number } };
    expect(report.stats.packets).toBe(packets.filter((p) => compileFilter('icmp or icmp6').run(p.data) !== 0n).length);
  });
});
