// The guide's ethernet / ip / tcp / udp examples, written in TypeScript as the guide writes them, imported
// from the package root.
import { describe, expect, it } from 'vitest';
import {
  dissect, EthernetFrame, EtherType, IpProtocol, Ipv4Packet, Ipv4View, MacAddress, TcpFlags, TcpSegment, TcpState, UdpDatagram,
} from '../../src/index.js';

describe("the guide's examples", () => {
  it('ethernet: build and serialise a frame', () => {
    const dst = MacAddress.BROADCAST;
    const src = new MacAddress([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    const payload = new Uint8Array(46);
    const frame = new EthernetFrame(dst, src, EtherType.Ipv4, payload);
    const bytes = frame.serialize();
    expect(frame.totalSize()).toBe(60);
    expect(bytes.length).toBe(frame.totalSize());
    expect(frame.etherType).toBe(EtherType.Ipv4);
    expect(EtherType.Ipv4).toBe(0x0800);
    expect(Array.from(bytes.subarray(0, 14))).toEqual([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x08, 0x00]);
  });

  it('ip: IPv4 packet and its header checksum', () => {
    const payload = new TextEncoder().encode('hello');
    const packet = new Ipv4Packet([192, 168, 1, 1], [192, 168, 1, 2], IpProtocol.Tcp, payload);
    packet.headerChecksum = packet.calculateChecksum();
    const bytes = packet.serialize();
    expect(new Ipv4View(bytes).verifyChecksum()).toBe(true);
    expect(bytes.length).toBe(20 + 5);
    // TTL decremented per hop (RFC 791): the checksum must be recomputed.
    packet.ttl -= 1;
    expect(packet.verifyChecksum()).toBe(false);
    packet.headerChecksum = packet.calculateChecksum();
    expect(packet.verifyChecksum()).toBe(true);
  });

  it('tcp: flags and a segment', () => {
    const f = new TcpFlags();
    f.syn = true;
    const payload = new Uint8Array(0);
    const seg = new TcpSegment(12345, 80, 1000, 0, f, 65535, payload);
    const bytes = seg.serialize('192.168.1.1', '192.168.1.2');
    expect(bytes.length).toBe(20);
    expect(TcpSegment.parse(bytes).flags.syn).toBe(true);
    expect(seg.verifyChecksum('192.168.1.1', '192.168.1.2')).toBe(true);
  });

  it('tcp: the 3-way handshake (SYN seq=x; SYN-ACK seq=y ack=x+1; ACK seq=x+1 ack=y+1), states', () => {
    const x = 1000;
    const y = 5000;
    const syn = new TcpSegment(12345, 80, x, 0, Object.assign(new TcpFlags(), { syn: true }), 65535);
    const synAck = new TcpSegment(80, 12345, y, syn.seq + 1, Object.assign(new TcpFlags(), { syn: true, ack: true }), 65535);
    const ack = new TcpSegment(12345, 80, synAck.ack, synAck.seq + 1, Object.assign(new TcpFlags(), { ack: true }), 65535);
    const frames = [syn, synAck, ack].map((s, i) => {
      const [a, b] = i === 1 ? ['10.0.0.2', '10.0.0.1'] : ['10.0.0.1', '10.0.0.2'];
      const ip = new Ipv4Packet(a, b, IpProtocol.Tcp, s.serialize(a, b));
      return new EthernetFrame(MacAddress.parse('02:00:00:00:00:02'), MacAddress.parse('02:00:00:00:00:01'), EtherType.Ipv4, ip.serialize()).serialize();
    });
    const d = frames.map((fr) => dissect(fr));
    expect(d.map((x2) => x2.field('tcp.flags'))).toEqual(['0x0002', '0x0012', '0x0010']);
    expect(d.map((x2) => [x2.field('tcp.seq_raw'), x2.field('tcp.ack_raw')])).toEqual([['1000', '0'], ['5000', '1001'], ['1001', '5001']]);
    let client = TcpState.Closed;
    client = TcpState.SynSent;
    client = TcpState.Established;
    expect(client).toBe('ESTABLISHED');
  });

  it('udp: a datagram', () => {
    const d = new UdpDatagram(5353, 53, new TextEncoder().encode('q'));
    const bytes = d.serialize('10.0.0.1', '10.0.0.2');
    expect(bytes.length).toBe(9);
    expect(UdpDatagram.parse(bytes).dstPort).toBe(53);
    expect(d.verifyChecksum('10.0.0.1', '10.0.0.2')).toBe(true);
  });
});

describe('README "## Wire codecs" example', () => {
  it('runs as written (import from the package root)', async () => {
    const { readFileSync, writeFileSync, mkdtempSync, rmSync } = await import('node:fs');
    const { join } = await import('node:path');
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const section = readme.slice(readme.indexOf('## Wire codecs'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)?.[1];
    expect(code).toBeDefined();
    const dir = mkdtempSync(join(new URL('.', import.meta.url).pathname, '.readme-'));
    try {
      const file = join(dir, 'example.ts');
      const src = new URL('../../src/index.js', import.meta.url).pathname;
      const logs: unknown[][] = [];
      writeFileSync(file, code!.replace("from 'elysia-net'", `from '${src}'`).replaceAll('console.log(', 'globalThis.__log(').replace('export {}', ''));
      (globalThis as Record<string, unknown>).__log = (...a: unknown[]) => logs.push(a);
      await import(file);
      expect(logs[0]).toEqual([64, true, 80, true, true]);
      expect(logs[1]).toEqual(['eth:ethertype:ip:tcp']);
      expect(logs[2]).toEqual(['192.168.1.1', '0x0002', '1']);
      expect(String(logs[3]![0])).toMatch(/^Frame: 54 bytes on wire/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
