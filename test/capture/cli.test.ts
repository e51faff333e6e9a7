// The `read` and `stats` commands, run in-process and through the built CLI (dist/, as npm test builds first).
import { describe, expect, it } from 'vitest';
import { existsSync, readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { analyzeCaptureFile, formatStatsReport, renderTable, runReadCommand } from '../../src/cli/capture.js';

const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/${n}`, import.meta.url));
const cli = fileURLToPath(new URL('../../dist/src/cli/index.js', import.meta.url));

describe('elysia-net read', () => {
  it('prints one tcpdump-style line per packet (the same lines for the Ethernet and SLL2 twins)', async () => {
    const lines: string[] = [];
    const n = await runReadCommand(fixture('lo-traffic.pcap'), { progress: false }, (l) => lines.push(l));
    expect(n).toBe(42);
    expect(lines).toHaveLength(42);
    const body = (l: string) => l.slice(l.indexOf(' ') + 1);
    expect(body(lines[0]!)).toBe('IP 127.0.0.1 > 127.0.0.1: ICMP echo request, id 9431, seq 1, length 64');
    expect(body(lines[4]!)).toBe('IP6 ::1 > ::1: ICMP6, echo request, id 9432, seq 1, length 64');
    expect(body(lines[8]!)).toBe('IP 127.0.0.1.35066 > 127.0.0.1.41719: Flags [S], seq 1629517716, win 65495, options [mss 65495,sackOK,TS val 213052350 ecr 0,nop,wscale 10], length 0');
    expect(lines[11]).toContain('Flags [P.], seq 1629517717:1629517794, ack 1940653988, win 64, options [nop,nop,TS val 213052354 ecr 1475362305], length 77: HTTP: GET /index.html?q=1 HTTP/1.1 Host: example.test:41719');
    expect(body(lines[29]!)).toBe('IP 127.0.0.1.53 > 127.0.0.1.54328: 4660 0/0/0 (34)');
    expect(body(lines[41]!)).toBe('IP 127.0.0.1 > 127.0.0.1: ICMP 127.0.0.1 udp port 443 unreachable, length 556');
    expect(body(lines[26]!)).toBe('IP 127.0.0.1.54328 > 127.0.0.1.53: 4660+ A? www.example.test. (34)');
    expect(lines[35]).toContain('TLS ClientHello SNI tls.example.test ALPN h2,http/1.1');
    expect(lines[40]).toContain('QUIC, Initial, version 0x1, dcid 0123456789abcdef, scid a1a2a3a4');
    const sll: string[] = [];
    await runReadCommand(fixture('any-sll2-ns.pcap'), { progress: false }, (l) => sll.push(l));
    // Same packets; SLL2 lines name the interface and direction first (as tcpdump does: 'lo    In  IP …'),
    // and the ns file prints 9 fraction digits.
    expect(sll.map((l) => body(l).slice(10))).toEqual(lines.map(body));
    expect(body(sll[0]!)).toMatch(/^\S+ +In  IP /);
    expect(sll[0]).toMatch(/^\d\d:\d\d:\d\d\.\d{9} /);
  });

  it('-c stops early, -v adds the dissection tree', async () => {
    const lines: string[] = [];
    await runReadCommand(fixture('lo-traffic.pcapng'), { count: 2, verbose: true, progress: false }, (l) => lines.push(l));
    expect(lines).toHaveLength(4);
    expect(lines[1]).toContain('Internet Protocol Version 4, Src: 127.0.0.1, Dst: 127.0.0.1');
    expect(lines[1]).toContain('Time to Live: 64');
  });
});

describe('elysia-net stats', () => {
  it('reports hierarchy, conversations, top flows and DPI findings', async () => {
    const { report } = await analyzeCaptureFile(fixture('lo-traffic.pcap'), { progress: false });
    expect(report.format).toBe('pcap');
    expect(report.stats.packets).toBe(42);
    expect(report.conversations.filter((c) => c.protocol === 'tcp')).toHaveLength(3);
    expect(report.dpi.tls).toEqual([['tls.example.test [h2,http/1.1]', 1]]);
    expect(report.dpi.dns).toEqual([['A www.example.test', 1], ['AAAA www.example.test', 1]]);
    const text = formatStatsReport(report, 10);
    for (const s of ['Protocol hierarchy', 'TCP conversations (3)', 'UDP conversations (3)', 'Top 8 flows by bytes', 'HTTP requests (2)', 'QUIC long headers (1)']) expect(text).toContain(s);
  });

  it('renders aligned tables', () => {
    expect(renderTable([['a', 'n'], ['xx', 5], ['y', 123]])).toBe('a   n\n--  ---\nxx    5\ny   123');
  });
});

describe('the built command', () => {
  it('runs read and stats, and fails cleanly on a bad file', () => {
    if (!existsSync(cli)) {
      // npm test builds dist/ first (pretest); a bare `vitest run` may not have.
      console.warn('dist/ not built: skipping the spawned-CLI check');
      return;
    }
    const r = spawnSync(process.execPath, [cli, 'read', fixture('lo-traffic.pcapng'), '-c', '3'], { encoding: 'utf8' });
    expect(r.status).toBe(0);
    expect(r.stdout.trim().split('\n')).toHaveLength(3);
    const s = spawnSync(process.execPath, [cli, 'stats', fixture('any-sll2-ns.pcap'), '--json'], { encoding: 'utf8' });
    expect(s.status).toBe(0);
    expect(JSON.parse(s.stdout).stats.packets).toBe(42);
    // '-' reads standard input.
    const stdin = spawnSync(process.execPath, [cli, 'read', '-'], { input: readFileSync(fixture('any-sll2-ns.pcap')), encoding: 'utf8' });
    expect(stdin.status).toBe(0);
    expect(stdin.stdout.trim().split('\n')).toHaveLength(42);
    const bad = spawnSync(process.execPath, [cli, 'read', fileURLToPath(import.meta.url)], { encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('not a pcap or pcapng file');
  });
});
