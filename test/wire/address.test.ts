import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  formatIpv4Address, formatIpv6Address, formatMacAddress, parseIpv4Address, parseIpv6Address, parseMacAddress, readMac48, writeMac48,
} from '../../src/wire/address.js';
import { NetworkError } from '../../src/errors.js';

describe('IPv4 addresses', () => {
  it('parses and formats dotted quads', () => {
    expect(parseIpv4Address('192.0.2.1')).toBe(0xc0000201);
    expect(formatIpv4Address(0xc0000201)).toBe('192.0.2.1');
    expect(formatIpv4Address(0xffffffff)).toBe('255.255.255.255');
  });
  it.each(['1.2.3', '1.2.3.4.5', '256.1.1.1', '01.2.3.4', '1.2.3.x', '', '1..2.3'])('rejects %s', (s) => {
    expect(() => parseIpv4Address(s)).toThrow(NetworkError);
  });
  it('round-trips every uint32', () => {
    fc.assert(fc.property(fc.integer({ min: 0, max: 0xffffffff }), (a) => parseIpv4Address(formatIpv4Address(a)) === a), { numRuns: 500 });
  });
});

describe('IPv6 addresses (RFC 5952, as tshark prints them)', () => {
  const cases: Array<[string, string]> = [
    ['::', '::'],
    ['::1', '::1'],
    ['1::', '1::'],
    ['2001:DB8:0:0:1:0:0:1', '2001:db8::1:0:0:1'], // first of two equal runs
    ['2001:db8:0:1:1:1:1:1', '2001:db8:0:1:1:1:1:1'], // a single zero group is not compressed
    ['2001:0db8::0001', '2001:db8::1'],
    ['fe80:0:0:0:0:0:0:1', 'fe80::1'],
    ['::ffff:192.0.2.1', '::ffff:192.0.2.1'],
    ['::192.0.2.1', '::192.0.2.1'],
    ['2001:db8::ffff:1.2.3.4', '2001:db8::ffff:102:304'],
    ['1:0:0:2:0:0:0:3', '1:0:0:2::3'], // the longest run wins
  ];
  it.each(cases)('%s prints as %s', (input, want) => {
    expect(formatIpv6Address(parseIpv6Address(input))).toBe(want);
  });
  it.each(['1:2:3:4:5:6:7', '1::2::3', '12345::', 'g::', '1:2:3:4:5:6:7:8:9', '::1.2.3'])('rejects %s', (s) => {
    expect(() => parseIpv6Address(s)).toThrow(NetworkError);
  });
  it('format then parse returns the same 16 bytes', () => {
    const words = fc.array(fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff })), { minLength: 8, maxLength: 8 });
    fc.assert(
      fc.property(words, (w) => {
        const b = new Uint8Array(16);
        w.forEach((x, i) => {
          b[2 * i] = x >>> 8;
          b[2 * i + 1] = x & 0xff;
        });
        expect(parseIpv6Address(formatIpv6Address(b))).toEqual(b);
      }),
      { numRuns: 500 },
    );
  });
});

describe('MAC addresses', () => {
  it('parses : and - forms, formats lowercase', () => {
    expect(formatMacAddress(parseMacAddress('00-1A-2b-3C-4d-5E'))).toBe('00:1a:2b:3c:4d:5e');
    expect(() => parseMacAddress('00:11:22:33:44')).toThrow(NetworkError);
  });
  it('48-bit number read/write round-trips', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 6, maxLength: 6 }), (m) => {
        const out = new Uint8Array(6);
        writeMac48(out, 0, readMac48(m, 0));
        expect(out).toEqual(m);
      }),
      { numRuns: 300 },
    );
  });
});
