import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RSS_DEFAULT_KEY, RSS_SYMMETRIC_KEY, ToeplitzHasher, rssHash, rssInput } from '../../src/parallel/index.js';

// Microsoft RSS verification suite (/work/shared/conformance/rss.md): destination, source, 4-tuple, 2-tuple.
const VECTORS: [string, string, number, number][] = [
  ['161.142.100.80:1766', '66.9.149.187:2794', 0x51ccc178, 0x323e8fc2],
  ['65.69.140.83:4739', '199.92.111.2:14230', 0xc626b0ea, 0xd718262a],
  ['12.22.207.184:38024', '24.19.198.95:12898', 0x5c2b394a, 0xd2d0a5de],
  ['209.142.163.6:2217', '38.27.205.30:48228', 0xafc7327f, 0x82989176],
  ['202.188.127.2:1303', '153.39.163.191:44251', 0x10e828a2, 0x5d1809c5],
];

function split(ep: string): [string, number] {
  const [a, p] = ep.split(':');
  return [a!, Number(p)];
}

describe('rssHash (Toeplitz)', () => {
  it.each(VECTORS)('dst %s src %s → 4-tuple %d, 2-tuple %d', (dst, src, h4, h2) => {
    const [da, dp] = split(dst);
    const [sa, sp] = split(src);
    expect(rssHash(rssInput(sa, da, sp, dp))).toBe(h4);
    expect(rssHash(rssInput(sa, da))).toBe(h2);
    expect(rssHash(rssInput(sa, da, sp, dp), RSS_DEFAULT_KEY)).toBe(h4);
  });

  it('equals the bit-by-bit definition for random keys and inputs (IPv6-sized too)', () => {
    const reference = (key: Uint8Array, input: Uint8Array): number => {
      let h = 0;
      for (let i = 0; i < input.length * 8; i++) {
        if (!((input[i >> 3]! >> (7 - (i & 7))) & 1)) continue;
        let w = 0;
        for (let b = 0; b < 32; b++) {
          const kb = i + b;
          const bit = kb >> 3 < key.length ? (key[kb >> 3]! >> (7 - (kb & 7))) & 1 : 0;
          w = (w << 1) | bit;
        }
        h ^= w;
      }
      return h >>> 0;
    };
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 40, maxLength: 52 }), fc.uint8Array({ maxLength: 36 }), (key, input) => {
        expect(new ToeplitzHasher(key).hash(input)).toBe(reference(key, input));
      }),
      { numRuns: 300 },
    );
  });

  it('hashTuple reads the tuple in place with the same result', () => {
    const h = new ToeplitzHasher();
    const pkt = new Uint8Array(60);
    const input = rssInput('2001:db8::1', 'fd00::2', 443, 51234);
    pkt.set(input.subarray(0, 32), 10);
    pkt.set(input.subarray(32), 50);
    expect(h.hashTuple(pkt, 10, 16, 50)).toBe(rssHash(input));
    expect(h.hashTuple(pkt, 10, 16, -1)).toBe(rssHash(input.subarray(0, 32)));
  });

  it('the unrolled IPv4 form (hashIpv4, and hashTuple with ports right after the addresses) equals hash()', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 5, maxLength: 52 }), fc.uint8Array({ minLength: 40, maxLength: 40 }), fc.nat(20), (key, pkt, o) => {
        const h = new ToeplitzHasher(key);
        // hash() covers inputs up to key length − 4 bytes; past that the table has no row, i.e. contributes 0.
        const ref = (n: number) => h.hash(pkt.subarray(o, o + Math.min(n, h.maxInputBytes)));
        expect(h.hashIpv4(pkt, o, false)).toBe(ref(8));
        expect(h.hashIpv4(pkt, o, true)).toBe(ref(12));
        expect(h.hashTuple(pkt, o, 4, o + 8)).toBe(ref(12));
        expect(h.hashTuple(pkt, o, 4, -1)).toBe(ref(8));
        // Ports elsewhere take the general path: same bytes, same hash.
        const moved = new Uint8Array(60);
        moved.set(pkt.subarray(o, o + 8), 0);
        moved.set(pkt.subarray(o + 8, o + 12), 40);
        expect(h.hashTuple(moved, 0, 4, 40)).toBe(ref(12));
      }),
      { numRuns: 400 },
    );
  });

  it('the symmetric key hashes both directions alike (IPv4 and IPv6); the default key does not', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.uint8Array({ minLength: 16, maxLength: 16 }), fc.nat(65535), fc.nat(65535), (v6, a, b, p, q) => {
        const s = v6 ? a : a.subarray(0, 4);
        const d = v6 ? b : b.subarray(0, 4);
        expect(rssHash(rssInput(s, d, p, q), RSS_SYMMETRIC_KEY)).toBe(rssHash(rssInput(d, s, q, p), RSS_SYMMETRIC_KEY));
        expect(rssHash(rssInput(s, d), RSS_SYMMETRIC_KEY)).toBe(rssHash(rssInput(d, s), RSS_SYMMETRIC_KEY));
      }),
      { numRuns: 200 },
    );
    const [dst, src] = VECTORS[0]!;
    const [da, dp] = split(dst);
    const [sa, sp] = split(src);
    expect(rssHash(rssInput(sa, da, sp, dp))).not.toBe(rssHash(rssInput(da, sa, dp, sp)));
  });

  it('rejects inputs longer than the key allows, short keys and mixed address families', () => {
    expect(() => rssHash(new Uint8Array(37))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => new ToeplitzHasher(new Uint8Array(4))).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
    expect(() => rssInput('10.0.0.1', '::1')).toThrow(expect.objectContaining({ code: 'INVALID_ARGUMENT' }));
  });
});
