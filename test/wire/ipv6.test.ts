import { describe, expect, it } from 'vitest';
import { buildIpv6, emitIpv6Repr, Ipv6View, ipv6ReprHeaderLength, parseIpv6Repr, type Ipv6Repr } from '../../src/wire/ipv6.js';
import { ipv6PseudoHeaderSum } from '../../src/wire/checksum.js';
import { parseIpv6Address } from '../../src/wire/address.js';
import { NetworkError } from '../../src/errors.js';

function err(fn: () => unknown): NetworkError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetworkError) return e;
    throw e;
  }
  throw new Error('no error');
}

const base = { src: '2001:db8::1', dst: 'fe80::2' };

describe('Ipv6View', () => {
  it('reads the fixed header', () => {
    const p = buildIpv6({ ...base, nextHeader: 17, trafficClass: 0xb8, flowLabel: 0x12345, hopLimit: 7 }, new Uint8Array(8));
    expect(Ipv6View.check(p)).toBe(40);
    const v = new Ipv6View(p);
    expect([v.version, v.trafficClass, v.dscp, v.ecn, v.flowLabel, v.payloadLength, v.nextHeader, v.hopLimit]).toEqual([6, 0xb8, 46, 0, 0x12345, 8, 17, 7]);
    expect([v.srcString(), v.dstString(), v.srcOffset, v.dstOffset]).toEqual(['2001:db8::1', 'fe80::2', 8, 24]);
    expect([v.upperProtocol, v.upperOffset, v.upperLength, v.fragmentHeaderOffset]).toEqual([17, 40, 8, -1]);
    v.trafficClass = 0x01;
    v.flowLabel = 0xfffff;
    expect([v.trafficClass, v.flowLabel, v.version]).toEqual([1, 0xfffff, 6]);
    expect(v.pseudoHeaderSum()).toBe(ipv6PseudoHeaderSum(parseIpv6Address(base.src), parseIpv6Address(base.dst), 17, 8));
  });

  it('walks hop-by-hop, routing, fragment and destination options', () => {
    const p = buildIpv6({
      ...base, nextHeader: 6, extensions: [
        { type: 'hopByHop', options: Uint8Array.of(5, 2, 0, 0) },
        { type: 'routing', routingType: 4, segmentsLeft: 0, data: new Uint8Array(4) },
        { type: 'fragment', fragmentOffset: 0, moreFragments: false, identification: 1 },
        { type: 'destination', options: new Uint8Array(0) },
      ],
    }, new Uint8Array(20));
    expect(Ipv6View.check(p)).toBe(40 + 8 + 8 + 8 + 8);
    const v = new Ipv6View(p);
    expect([v.nextHeader, v.upperProtocol, v.upperOffset, v.upperLength, v.fragmentHeaderOffset]).toEqual([0, 6, 72, 20, 56]);
    // Options areas are padded with PadN (RFC 8200 §4.2).
    expect(Array.from(p.subarray(40, 48))).toEqual([43, 0, 5, 2, 0, 0, 1, 0]);
  });

  it('check: version, truncation, hostile chains', () => {
    const p = buildIpv6({ ...base, nextHeader: 59 });
    expect(err(() => Ipv6View.check(p.subarray(0, 39))).detail).toMatchObject({ field: 'ipv6.header', expected: 40, actual: 39 });
    const v4 = p.slice();
    v4[0] = 0x40;
    expect(err(() => Ipv6View.check(v4)).code).toBe('INVALID_PACKET');
    const long = buildIpv6({ ...base, nextHeader: 17 }, new Uint8Array(10));
    expect(err(() => Ipv6View.check(long.subarray(0, 45))).detail).toMatchObject({ field: 'ipv6.payload', expected: 10, actual: 5 });
    expect(Ipv6View.checkHeader(long.subarray(0, 45))).toBe(40);
    // An extension header claiming more bytes than the payload.
    const ext = buildIpv6({ ...base, nextHeader: 17, extensions: [{ type: 'destination', options: new Uint8Array(6) }] }, new Uint8Array(0));
    ext[41] = 5;
    expect(err(() => Ipv6View.check(ext)).code).toBe('TRUNCATED');
    // Hop-by-hop not first.
    const hbh = buildIpv6({ ...base, nextHeader: 17, extensions: [{ type: 'destination', options: new Uint8Array(6) }, { type: 'hopByHop', options: new Uint8Array(6) }] });
    expect(err(() => Ipv6View.check(hbh)).code).toBe('INVALID_PACKET');
    // 20 chained destination-options headers exceed the bound.
    const exts = Array.from({ length: 20 }, () => ({ type: 'destination' as const, options: new Uint8Array(6) }));
    expect(err(() => Ipv6View.check(buildIpv6({ ...base, nextHeader: 59, extensions: exts }))).detail).toMatchObject({ field: 'ipv6.ext_headers' });
  });
});

describe('Ipv6 repr', () => {
  it('round-trips extensions (options areas already a multiple of 8)', () => {
    const r: Ipv6Repr = {
      ...base, nextHeader: 58, hopLimit: 255, trafficClass: 3, flowLabel: 9, payloadLength: 4,
      extensions: [
        { type: 'hopByHop', options: Uint8Array.of(5, 2, 0, 0, 1, 0) },
        { type: 'fragment', fragmentOffset: 1448, moreFragments: true, identification: 0xdeadbeef },
        { type: 'routing', routingType: 0, segmentsLeft: 1, data: new Uint8Array(20) },
      ],
    };
    const buf = new Uint8Array(ipv6ReprHeaderLength(r) + 4);
    expect(emitIpv6Repr(r, buf)).toBe(40 + 8 + 8 + 24);
    const back = parseIpv6Repr(buf);
    expect(back).toEqual(r);
  });
  it('rejects a fragment offset not a multiple of 8', () => {
    expect(() => buildIpv6({ ...base, nextHeader: 17, extensions: [{ type: 'fragment', fragmentOffset: 3, moreFragments: false, identification: 0 }] })).toThrow(NetworkError);
  });
});
