import { describe, expect, it } from 'vitest';
import { buildUdp, emitUdpRepr, ipPseudoHeaderSum, parseUdpRepr, UdpDatagram, UdpView } from '../../src/wire/udp.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { buildIpv6 } from '../../src/wire/ipv6.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { Ipv6View } from '../../src/wire/ipv6.js';
import { NetworkError } from '../../src/errors.js';

const V4 = { src: '192.0.2.1', dst: '198.51.100.2' };
const V6 = { src: '2001:db8::1', dst: '2001:db8::2' };

describe('UdpView', () => {
  it('fields, checksum over IPv4 via the IP view pseudo-header', () => {
    const u = buildUdp({ srcPort: 5353, dstPort: 53 }, Uint8Array.of(1, 2, 3), V4);
    const ip = buildIpv4({ ...V4, protocol: 17 }, u);
    const iv = new Ipv4View(ip);
    const v = new UdpView(ip, iv.payloadOffset);
    expect(UdpView.check(ip, 20)).toBe(11);
    expect([v.srcPort, v.dstPort, v.length, v.payloadOffset, v.payloadLength]).toEqual([5353, 53, 11, 28, 3]);
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), 4)).toBe(true);
    expect(v.computeChecksum(iv.pseudoHeaderSum())).toBe(v.checksum);
    ip[30] ^= 1;
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), 4)).toBe(false);
    v.fillChecksum(iv.pseudoHeaderSum());
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), 4)).toBe(true);
  });

  it('checksum over IPv6 and the zero-checksum rule (RFC 768 vs RFC 8200 §8.1)', () => {
    const u = buildUdp({ srcPort: 1, dstPort: 2 }, Uint8Array.of(9), V6);
    const ip = buildIpv6({ ...V6, nextHeader: 17 }, u);
    const iv = new Ipv6View(ip);
    const v = new UdpView(ip, iv.upperOffset);
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), 6)).toBe(true);
    v.checksum = 0;
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), 6)).toBe(false);
    expect(v.verifyChecksum(0, 4)).toBe(true);
  });

  it('a computed zero is sent as 0xffff', () => {
    // Find a payload word that makes the sum come out 0xffff (checksum 0).
    const base = buildUdp({ srcPort: 1, dstPort: 2 }, Uint8Array.of(0, 0), V4);
    const v = new UdpView(base);
    const ps = ipPseudoHeaderSum(V4.src, V4.dst, 17, 10);
    const c = v.computeChecksum(ps);
    // Putting the checksum value into the payload word drives the new sum to all ones: checksum 0 → 0xffff.
    base[8] = c >>> 8;
    base[9] = c & 0xff;
    v.fillChecksum(ps);
    expect(v.checksum).toBe(0xffff);
    expect(v.verifyChecksum(ps, 4)).toBe(true);
  });

  it('check', () => {
    const u = buildUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array(4));
    expect(() => UdpView.check(u.subarray(0, 7))).toThrow(NetworkError);
    const short = u.slice();
    short[5] = 4;
    try {
      UdpView.check(short);
      expect.unreachable();
    } catch (e) {
      expect((e as NetworkError).code).toBe('INVALID_PACKET');
      expect((e as NetworkError).detail).toMatchObject({ field: 'udp.length', actual: 4 });
    }
    const long = u.slice();
    long[5] = 13;
    expect(() => UdpView.check(long)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });

  it('repr round trip and UdpDatagram', () => {
    const buf = new Uint8Array(8);
    emitUdpRepr({ srcPort: 7, dstPort: 9, payloadLength: 0, checksum: 0x1234 }, buf);
    expect(parseUdpRepr(buf)).toEqual({ srcPort: 7, dstPort: 9, payloadLength: 0, checksum: 0x1234 });
    const d = new UdpDatagram(1234, 53, Uint8Array.of(1, 2));
    expect(d.length).toBe(10);
    const bytes = d.serialize(V6.src, V6.dst);
    expect(d.checksum).not.toBe(0);
    expect(d.verifyChecksum(V6.src, V6.dst)).toBe(true);
    const e = UdpDatagram.parse(bytes);
    expect([e.srcPort, e.dstPort, e.checksum, Array.from(e.payload)]).toEqual([1234, 53, d.checksum, [1, 2]]);
    expect(new UdpDatagram(1, 2).serialize()[6]).toBe(0);
    expect(() => ipPseudoHeaderSum(V4.src, V6.dst, 17, 8)).toThrow(NetworkError);
  });
});
