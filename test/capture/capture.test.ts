import { afterAll, describe, expect, it } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureFilter, PacketCapture, PcapLinkType, readCaptureSync, CaptureBufferReader } from '../../src/capture/index.js';
import { EthernetFrame, EtherType, MacAddress } from '../../src/wire/ethernet.js';
import { IpProtocol } from '../../src/wire/ipv4.js';
import { TCP_SYN } from '../../src/wire/tcp.js';
import { arpFrame, pingFrame, tcpFrame, udpFrame, vlanUdpFrame } from './helpers/frames.js';

const dir = mkdtempSync(join(tmpdir(), 'elysia-pc-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('CaptureFilter (the guide fields)', () => {
  const web = tcpFrame('192.168.1.10', '93.184.216.34', 50000, 80, TCP_SYN);
  const dns = udpFrame('192.168.1.10', '192.168.1.1', 40000, 53);
  const v6 = tcpFrame('2001:db8::1', '2001:db8::2', 1234, 80, TCP_SYN);

  it('matches everything when empty', () => {
    const f = new CaptureFilter();
    expect(f.matchesAll).toBe(true);
    for (const fr of [web, dns, v6, arpFrame(), new Uint8Array(3)]) expect(f.matches(fr)).toBe(true);
  });

  it('guide example: protocol TCP, destination port 80, source address', () => {
    const f = new CaptureFilter();
    f.protocol = IpProtocol.Tcp;
    f.destPort = 80;
    expect([web, dns, v6].map((x) => f.matches(x))).toEqual([true, false, true]);
    f.sourceIp = '192.168.1.10';
    expect([web, dns, v6].map((x) => f.matches(x))).toEqual([true, false, false]);
    f.sourceIp = '2001:db8:0::1';
    expect([web, dns, v6].map((x) => f.matches(x))).toEqual([false, false, true]);
    expect(f.toJSON()).toEqual({ protocol: 6, sourceIp: '2001:db8:0::1', destPort: 80 });
  });

  it('every field, via the constructor object', () => {
    expect(new CaptureFilter({ destIp: '192.168.1.1' }).matches(dns)).toBe(true);
    expect(new CaptureFilter({ destIp: '192.168.1.2' }).matches(dns)).toBe(false);
    expect(new CaptureFilter({ sourcePort: 40000, protocol: IpProtocol.Udp }).matches(dns)).toBe(true);
    expect(new CaptureFilter({ sourcePort: 40001 }).matches(dns)).toBe(false);
    expect(new CaptureFilter({ protocol: IpProtocol.Icmp }).matches(pingFrame('1.1.1.1', '2.2.2.2', 1))).toBe(true);
    // Ports exist only for TCP/UDP.
    expect(new CaptureFilter({ destPort: 0 }).matches(pingFrame('1.1.1.1', '2.2.2.2', 1))).toBe(false);
    expect(new CaptureFilter({ protocol: IpProtocol.Udp, destPort: 8 }).matches(vlanUdpFrame('1.1.1.1', '2.2.2.2', 7, 8, 42))).toBe(true);
    // Other link types, via a packet object.
    expect(new CaptureFilter({ destPort: 53 }).matches({ data: dns.subarray(14), linktype: PcapLinkType.RAW })).toBe(true);
    // Malformed frames fail a set field instead of throwing.
    expect(new CaptureFilter({ destPort: 53 }).matches(dns.subarray(0, 30))).toBe(false);
  });

  it('rejects bad field values with INVALID_ARGUMENT', () => {
    const f = new CaptureFilter();
    expect(() => { f.destPort = 70000; }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => { f.sourceIp = '300.1.1.1'; }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT', detail: expect.objectContaining({ field: 'sourceIp' }) }));
    expect(() => { f.protocol = -1; }).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new CaptureFilter(42 as unknown as object)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    // A string is a tcpdump expression now; a malformed one is a parse error with its position.
    expect(() => new CaptureFilter('tcp port')).toThrow(expect.objectContaining({ code: 'PARSE_ERROR' }));
    expect(() => f.matches(5 as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});

describe('PacketCapture', () => {
  it('guide example: filter, maxPackets, enablePcapOutput, captureFrame, packetCount, getPackets', async () => {
    const filter = new CaptureFilter();
    filter.protocol = IpProtocol.Tcp;
    filter.destPort = 80;
    const cap = new PacketCapture(filter, 3);
    const path = join(dir, 'traffic.pcap');
    cap.enablePcapOutput(path);
    const frames = [0, 1, 2, 3, 4].map((i) => tcpFrame('10.0.0.1', '10.0.0.2', 40000 + i, 80, TCP_SYN));
    expect(cap.captureFrame(udpFrame('10.0.0.1', '10.0.0.2', 1, 80))).toBe(false);
    expect(frames.map((f) => cap.captureFrame(f))).toEqual([true, true, true, false, false]);
    expect(cap.packetCount()).toBe(3);
    expect(cap.dropped).toBe(2);
    expect(cap.filtered).toBe(1);
    const got = cap.getPackets();
    expect(got.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(frames.slice(0, 3).map((f) => Buffer.from(f).toString('hex')));
    // Captured frames are copies: changing the original leaves the capture alone.
    frames[0]![0] = 0xee;
    expect(cap.getPackets()[0]!.data[0]).not.toBe(0xee);
    await cap.close();
    // The guide's PCAP: magic a1b2c3d4, v2.4, snaplen 65535, linktype 1.
    const file = readFileSync(path);
    expect(file.readUInt32LE(0)).toBe(0xa1b2c3d4);
    expect([file.readUInt16LE(4), file.readUInt16LE(6), file.readUInt32LE(16), file.readUInt32LE(20)]).toEqual([2, 4, 65535, 1]);
    const back = readCaptureSync(file);
    expect(back.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(got.map((p) => Buffer.from(p.data).toString('hex')));
    expect(back.map((p) => p.tsSec)).toEqual(got.map((p) => p.tsSec));
  });

  it('takes EthernetFrames and packets with timestamps; pcapng output', async () => {
    const cap = new PacketCapture();
    const path = join(dir, 'traffic.pcapng');
    cap.enablePcapngOutput(path, { nanosecond: true });
    const frame = new EthernetFrame(MacAddress.BROADCAST, new MacAddress([0, 0x11, 0x22, 0x33, 0x44, 0x55]), EtherType.Arp, arpFrame().subarray(14));
    expect(cap.captureFrame(frame)).toBe(true);
    expect(cap.captureFrame({ data: udpFrame('10.0.0.1', '10.0.0.2', 1, 2), timestamp: 1_700_000_000_123_456_789n })).toBe(true);
    await cap.close();
    const r = new CaptureBufferReader(readFileSync(path));
    const back = [...r];
    expect(r.format).toBe('pcapng');
    expect(Buffer.from(back[0]!.data)).toEqual(Buffer.from(frame.serialize()));
    expect(back[1]!.timestamp).toBe(1_700_000_000_123_456_789n);
    expect(cap.packetCount()).toBe(2);
    cap.clear();
    expect(cap.packetCount()).toBe(0);
  });

  it('validates its arguments', () => {
    expect(() => new PacketCapture({} as CaptureFilter)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new PacketCapture(new CaptureFilter(), -1)).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
