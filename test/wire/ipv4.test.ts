import { describe, expect, it } from 'vitest';
import { buildIpv4, emitIpv4Repr, IpProtocol, Ipv4Packet, Ipv4View, ipv4ReprHeaderLength, parseIpv4Repr } from '../../src/wire/ipv4.js';
import { internetChecksum } from '../../src/wire/checksum.js';
import { NetworkError } from '../../src/errors.js';

function code(fn: () => unknown): [string, Record<string, unknown>] {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetworkError) return [e.code, e.detail];
    throw e;
  }
  return ['none', {}];
}

// A real header (Wikipedia / RFC 1071 example): checksum 0xb861.
const REAL = Uint8Array.of(0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0x00, 0x01, 0xc0, 0xa8, 0x00, 0xc7);

describe('Ipv4View', () => {
  it('reads every field of a real header', () => {
    const buf = new Uint8Array(0x73);
    buf.set(REAL);
    const v = new Ipv4View(buf);
    expect(Ipv4View.check(buf)).toBe(20);
    expect([v.version, v.headerLength, v.tos, v.totalLength, v.identification]).toEqual([4, 20, 0, 0x73, 0]);
    expect([v.flags, v.dontFragment, v.moreFragments, v.reservedFlag, v.fragmentOffset, v.isFragment]).toEqual([2, true, false, false, 0, false]);
    expect([v.ttl, v.protocol, v.checksum, v.src, v.dst]).toEqual([64, 17, 0xb861, 0xc0a80001, 0xc0a800c7]);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.computeChecksum()).toBe(0xb861);
    expect(v.payloadOffset).toBe(20);
    expect(v.payloadLength).toBe(0x73 - 20);
  });

  it('setters keep neighbouring bits and fillChecksum repairs', () => {
    const buf = new Uint8Array(0x73);
    buf.set(REAL);
    const v = new Ipv4View(buf);
    v.dscp = 46;
    v.ecn = 1;
    expect(v.tos).toBe(0xb9);
    v.moreFragments = true;
    v.fragmentOffset = 1480;
    expect([v.dontFragment, v.moreFragments, v.fragmentOffsetUnits, v.isFragment]).toEqual([true, true, 185, true]);
    v.dontFragment = false;
    v.reservedFlag = true;
    expect(v.flags).toBe(0b101);
    v.ttl = 3;
    expect(v.verifyChecksum()).toBe(false);
    v.fillChecksum();
    expect(v.verifyChecksum()).toBe(true);
    expect(internetChecksum(buf.subarray(0, 20))).toBe(0);
  });

  it('pseudo-header sum matches checksum.ts', () => {
    const buf = new Uint8Array(0x73);
    buf.set(REAL);
    const v = new Ipv4View(buf);
    // 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 0x5f, folded
    let s = 0xc0a8 + 0x0001 + 0xc0a8 + 0x00c7 + 17 + 0x5f;
    s = (s & 0xffff) + (s >>> 16);
    expect(v.pseudoHeaderSum()).toBe(s);
  });

  it('check reports each rule with field and values', () => {
    const buf = new Uint8Array(0x73);
    buf.set(REAL);
    expect(code(() => Ipv4View.check(buf.subarray(0, 19)))).toEqual(['TRUNCATED', expect.objectContaining({ field: 'ip.header', expected: 20, actual: 19 })]);
    const v6 = buf.slice();
    v6[0] = 0x65;
    expect(code(() => Ipv4View.check(v6))).toEqual(['INVALID_PACKET', expect.objectContaining({ field: 'ip.version', expected: 4, actual: 6 })]);
    const ihl = buf.slice();
    ihl[0] = 0x44;
    expect(code(() => Ipv4View.check(ihl))[0]).toBe('INVALID_PACKET');
    const opts = buf.slice();
    opts[0] = 0x46;
    expect(code(() => Ipv4View.check(opts.subarray(0, 22)))[0]).toBe('TRUNCATED');
    const tl = buf.slice();
    tl[3] = 10;
    expect(code(() => Ipv4View.check(tl))).toEqual(['INVALID_PACKET', expect.objectContaining({ field: 'ip.len' })]);
    expect(code(() => Ipv4View.check(buf.subarray(0, 50)))).toEqual(['TRUNCATED', expect.objectContaining({ field: 'ip.payload', expected: 0x73 - 20, actual: 30 })]);
    expect(Ipv4View.checkHeader(buf.subarray(0, 50))).toBe(20);
    // Option with length 1 is invalid; length running past the header too.
    const o1 = buildIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, options: Uint8Array.of(7, 1, 0, 0) });
    expect(code(() => Ipv4View.check(o1))).toEqual(['INVALID_PACKET', expect.objectContaining({ field: 'ip.opt.len', actual: 1 })]);
    const o2 = buildIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, options: Uint8Array.of(7, 9, 4, 0) });
    expect(code(() => Ipv4View.check(o2))[0]).toBe('INVALID_PACKET');
    // Bytes after the total length (Ethernet padding) are fine.
    const padded = new Uint8Array(0x73 + 10);
    padded.set(buf);
    expect(Ipv4View.check(padded)).toBe(20);
  });
});

describe('Ipv4 repr', () => {
  it('emits options padded, checksum filled, and parses back', () => {
    const r = { src: '10.1.2.3', dst: '10.9.8.7', protocol: IpProtocol.Udp, ttl: 5, dscp: 10, ecn: 2, identification: 777, dontFragment: false, moreFragments: true, fragmentOffset: 64, options: Uint8Array.of(1, 1, 1, 0, 7, 3, 4, 0), payloadLength: 12 };
    const buf = new Uint8Array(ipv4ReprHeaderLength(r) + 12);
    expect(emitIpv4Repr(r, buf)).toBe(28);
    expect(new Ipv4View(buf).verifyChecksum()).toBe(true);
    expect(parseIpv4Repr(buf)).toEqual(r);
  });
  it('rejects impossible values', () => {
    expect(() => buildIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, fragmentOffset: 7 })).toThrow(NetworkError);
    expect(() => buildIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, ttl: 256 })).toThrow(NetworkError);
    expect(() => buildIpv4({ src: '1.1.1.1', dst: '2.2.2.2', protocol: 6, options: new Uint8Array(44) })).toThrow(NetworkError);
    expect(() => buildIpv4({ src: '1.1.1', dst: '2.2.2.2', protocol: 6 })).toThrow(NetworkError);
  });
});

describe('Ipv4Packet (the guide)', () => {
  it('constructs, checksums, serializes and parses', () => {
    const p = new Ipv4Packet('192.168.1.1', [10, 0, 0, 1], IpProtocol.Tcp, Uint8Array.of(1, 2, 3, 4));
    expect(p.dst).toBe('10.0.0.1');
    expect(p.ttl).toBe(64);
    const c = p.calculateChecksum();
    expect(p.headerChecksum).toBe(c);
    const bytes = p.serialize();
    expect(bytes.length).toBe(24);
    expect(new Ipv4View(bytes).verifyChecksum()).toBe(true);
    p.ttl = 1;
    expect(p.verifyChecksum()).toBe(false);
    p.headerChecksum = p.calculateChecksum();
    expect(new Ipv4View(p.serialize()).verifyChecksum()).toBe(true);
    const q = Ipv4Packet.parse(p.serialize());
    expect([q.src, q.dst, q.protocol, q.ttl, q.headerChecksum]).toEqual(['192.168.1.1', '10.0.0.1', 6, 1, p.headerChecksum]);
    expect(Array.from(q.payload)).toEqual([1, 2, 3, 4]);
    expect(() => Ipv4Packet.parse(bytes.subarray(0, 10))).toThrow(NetworkError);
  });
});
