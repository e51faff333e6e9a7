// GSO (and GRO) output read by Wireshark's dissectors with checksum validation on: no bad checksums, nothing
// malformed. A deliberately corrupted packet proves the check would notice.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect } from 'vitest';
import { encodeCapture } from '../../src/capture/index.js';
import { GroContext, GsoContext } from '../../src/offload/index.js';
import { TCP_ACK, TCP_CWR, TCP_FIN, TCP_PSH } from '../../src/wire/tcp.js';
import { backends, useBackend } from '../helpers/backends.js';
import { itWithTools } from '../helpers/tools.js';
import { payloadBytes, srhData, tcpFrame, tcpStream, udpFrame } from './frames.js';
import type { Ipv6ExtensionRepr } from '../../src/wire/ipv6.js';

const CHECKS = ['-o', 'tcp.check_checksum:TRUE', '-o', 'ip.check_checksum:TRUE', '-o', 'udp.check_checksum:TRUE'];

function tshark(file: string, filter: string): string[] {
  const r = spawnSync('tshark', ['-n', '-r', file, ...CHECKS, '-Y', filter, '-T', 'fields', '-e', 'frame.number'], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`tshark failed: ${r.stderr}`);
  return r.stdout.split('\n').filter((l) => l.trim() !== '');
}

describe.each(backends)('tshark reads offload output (%s backend)', (backend) => {
  useBackend(backend);

  itWithTools(['tshark'], 'GSO and GRO output has no bad checksums and no malformed packets', () => {
    const frames: Uint8Array[] = [];
    const tcp = (mss: number, spec: Parameters<typeof tcpFrame>[0]) => frames.push(...new GsoContext(mss).segment(tcpFrame(spec)));
    tcp(1448, { payload: payloadBytes(64 * 1024 - 100, 1), flags: TCP_ACK | TCP_PSH | TCP_CWR, id: 0xfff0 });
    tcp(1440, { v6: true, payload: payloadBytes(20000, 2), flags: TCP_ACK | TCP_FIN });
    tcp(999, { vlan: 12, payload: payloadBytes(7001, 3) });
    tcp(536, { payload: payloadBytes(3001, 4), options: [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: 7, echo: 8 }] });
    frames.push(...new GsoContext(1200).segment(udpFrame({ payload: payloadBytes(9000, 5) })));
    frames.push(...new GsoContext(1200).segment(udpFrame({ v6: true, payload: payloadBytes(5000, 6) })));
    // QinQ tag stacks and IPv6 extension headers (hop-by-hop, routing, destination options) in front.
    const qinq = [{ tpid: 0x88a8, id: 100 }, { tpid: 0x8100, id: 200 }];
    const exts: Ipv6ExtensionRepr[] = [
      { type: 'hopByHop', options: new Uint8Array(6) },
      { type: 'routing', routingType: 4, segmentsLeft: 0, data: srhData('2001:db8::2', '2001:db8::5') },
      { type: 'destination', options: Uint8Array.of(1, 4, 0, 0, 0, 0) },
    ];
    tcp(1448, { vlans: qinq, payload: payloadBytes(5000, 7), flags: TCP_ACK | TCP_PSH });
    tcp(1000, { v6: true, vlans: qinq, extensions: exts, payload: payloadBytes(4000, 8) });
    frames.push(...new GsoContext(1100).segment(udpFrame({ v6: true, vlans: qinq, extensions: exts, payload: payloadBytes(3000, 9) })));
    const gsoCount = frames.length;
    // GRO aggregates, too (large frames; tshark's default snaplen takes them).
    const gro = new GroContext();
    const stream = tcpStream(30, 1448, { srcPort: 5555 }, 700);
    const merged = [...stream.flatMap((f) => gro.aggregate(f, 0)), ...gro.flush()];
    expect(merged).toHaveLength(1);
    frames.push(merged[0]!.frame);
    const deep = tcpStream(8, 1000, { srcPort: 5556, v6: true, vlans: qinq, extensions: exts }, 10);
    const mergedDeep = [...deep.flatMap((f) => gro.aggregate(f, 0)), ...gro.flush()];
    expect(mergedDeep.map((p) => p.gso.segments)).toEqual([8]);
    frames.push(mergedDeep[0]!.frame);
    const bad = frames[3]!.slice();
    bad[bad.length - 1] ^= 0xff;
    frames.push(bad);

    const dir = mkdtempSync(join(tmpdir(), 'elysia-offload-'));
    try {
      const file = join(dir, 'gso.pcap');
      writeFileSync(file, encodeCapture(frames.map((data, i) => ({ data, tsSec: 1700000000, tsNsec: i * 1000 }))));
      expect(tshark(file, 'frame')).toHaveLength(frames.length);
      expect(tshark(file, '_ws.malformed || _ws.expert.severity == error && !(tcp.checksum.status == 0)')).toEqual([]);
      // Exactly the corrupted frame (the last) has a bad checksum.
      expect(tshark(file, 'ip.checksum.status == 0 || tcp.checksum.status == 0 || udp.checksum.status == 0')).toEqual([String(frames.length)]);
      const good = tshark(file, 'tcp.checksum.status == 1 || udp.checksum.status == 1');
      expect(good).toHaveLength(gsoCount + 2);
      expect(tshark(file, 'ip && ip.checksum.status != 1')).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
