import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { PacketBatch } from '../../src/batch.js';
import {
  checksumBatch,
  finishChecksum,
  foldChecksum,
  internetChecksum,
  ipv4PseudoHeaderSum,
  ipv6PseudoHeaderSum,
  onesComplementSum,
  updateChecksum16,
  updateChecksum32,
  verifyChecksum,
  NATIVE_CHECKSUM_THRESHOLD,
} from '../../src/wire/checksum.js';
import { NetworkError } from '../../src/errors.js';
import { backends, useBackend } from '../helpers/backends.js';

// Independent reference: the textbook loop of RFC 1071 §4.1 with BigInt, no tricks.
function reference(bytes: Uint8Array, initial = 0n): number {
  let sum = initial;
  for (let i = 0; i < bytes.length; i += 2) {
    sum += (BigInt(bytes[i]!) << 8n) + BigInt(i + 1 < bytes.length ? bytes[i + 1]! : 0);
  }
  while (sum >> 16n) sum = (sum & 0xffffn) + (sum >> 16n);
  return Number(~sum & 0xffffn);
}

describe.each(backends)('checksum (%s backend)', (backend) => {
  useBackend(backend);

  it('gives 0x220d for the RFC 1071 example', () => {
    expect(internetChecksum(Uint8Array.from([0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]))).toBe(0x220d);
  });

  it('handles empty, one-byte and odd-length input', () => {
    expect(internetChecksum(new Uint8Array(0))).toBe(0xffff);
    expect(internetChecksum(Uint8Array.of(0x12))).toBe(~0x1200 & 0xffff);
    expect(internetChecksum(Uint8Array.of(0x12, 0x34, 0x56))).toBe(reference(Uint8Array.of(0x12, 0x34, 0x56)));
  });

  it('verifies a real IPv4 header', () => {
    // 45 00 00 73 00 00 40 00 40 11 b8 61 c0 a8 00 01 c0 a8 00 c7 (the header checksum is b861).
    const hdr = Uint8Array.from([0x45, 0, 0, 0x73, 0, 0, 0x40, 0, 0x40, 0x11, 0xb8, 0x61, 0xc0, 0xa8, 0, 1, 0xc0, 0xa8, 0, 0xc7]);
    expect(verifyChecksum(hdr)).toBe(true);
    const zeroed = hdr.slice();
    zeroed[10] = 0;
    zeroed[11] = 0;
    expect(internetChecksum(zeroed)).toBe(0xb861);
  });

  it('matches the reference on every length, offset and alignment around the native threshold', () => {
    const big = new Uint8Array(NATIVE_CHECKSUM_THRESHOLD * 3 + 17).map((_, i) => (i * 193 + 11) & 0xff);
    for (const start of [0, 1, 2, 3, 5, 8]) {
      for (const len of [0, 1, 2, 3, 7, 63, 64, 65, 127, 128, 129, 511, 512, 513, 1500, 1501]) {
        if (start + len > big.length) continue;
        const view = big.subarray(start, start + len);
        expect(internetChecksum(view)).toBe(reference(view));
      }
    }
  });

  it('is correct on very long input (1 MiB of 0xff, where naive 32-bit sums overflow)', () => {
    const b = new Uint8Array(1 << 20).fill(0xff);
    expect(internetChecksum(b)).toBe(reference(b));
    const c = new Uint8Array((1 << 20) + 1).fill(0xff);
    expect(internetChecksum(c)).toBe(reference(c));
  });

  it('agrees with the reference for random buffers, offsets and initial sums (fast-check)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 3000 }), fc.nat(7), fc.nat(0xffff), (data, skip, init) => {
        const view = data.subarray(Math.min(skip, data.length));
        expect(internetChecksum(view, init)).toBe(reference(view, BigInt(init)));
      }),
      { numRuns: 400 },
    );
  });

  it('sums of split buffers combine (even split points)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 2000 }), fc.nat(), (data, cut) => {
        const at = (cut % (data.length + 1)) & ~1;
        const a = onesComplementSum(data.subarray(0, at));
        const whole = onesComplementSum(data);
        expect(onesComplementSum(data.subarray(at), a)).toBe(whole);
      }),
      { numRuns: 300 },
    );
  });

  it('checksumBatch equals per-packet checksums', () => {
    fc.assert(
      fc.property(fc.array(fc.uint8Array({ maxLength: 300 }), { maxLength: 40 }), fc.constantFrom(1, 2, 8), (pkts, align) => {
        const batch = PacketBatch.fromArray(pkts, { align });
        const out = new Uint16Array(pkts.length);
        checksumBatch(batch, out);
        expect(Array.from(out)).toEqual(pkts.map((p) => reference(p)));
      }),
      { numRuns: 150 },
    );
  });

  it('rejects ranges outside the batch data with a typed error', () => {
    const batch = PacketBatch.fromArray([new Uint8Array(16)]);
    batch.offsets[0] = batch.byteCapacity; // corrupt: the packet now lies past the end
    expect(() => checksumBatch(batch, new Uint16Array(1))).toThrow(NetworkError);
    expect(() => checksumBatch(PacketBatch.fromArray([new Uint8Array(4), new Uint8Array(4)]), new Uint16Array(1))).toThrow(NetworkError);
    expect(() => onesComplementSum(new Uint8Array(4), 0, 2, 3)).toThrow(NetworkError);
  });
});

describe('checksum helpers', () => {
  it('fold and finish', () => {
    expect(foldChecksum(0x1fffe)).toBe(0xffff);
    expect(foldChecksum(0x2_0001)).toBe(3);
    expect(finishChecksum(0x2ddf0)).toBe(0x220d);
  });

  it('RFC 1624 incremental update equals recomputation (16- and 32-bit fields)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 8, maxLength: 64 }), fc.nat(0xffff), fc.nat(0xffffffff), (data, v16, v32) => {
        const even = data.length & ~1;
        const pkt = data.slice(0, even);
        if (pkt.length < 8) return;
        const dv = new DataView(pkt.buffer);
        const before = internetChecksum(pkt);
        const old16 = dv.getUint16(0);
        dv.setUint16(0, v16);
        const after16 = internetChecksum(pkt);
        expect(updateChecksum16(before, old16, v16)).toBe(after16);
        const old32 = dv.getUint32(4);
        dv.setUint32(4, v32);
        expect(updateChecksum32(after16, old32, v32)).toBe(internetChecksum(pkt));
      }),
      { numRuns: 500 },
    );
  });

  it('pseudo-header sums cover the RFC 768 and RFC 8200 fields', () => {
    const s4 = ipv4PseudoHeaderSum(Uint8Array.of(10, 0, 0, 1), Uint8Array.of(10, 0, 0, 2), 17, 28);
    expect(s4).toBe(foldChecksum(0x0a00 + 0x0001 + 0x0a00 + 0x0002 + 17 + 28));
    const a = new Uint8Array(16);
    a[0] = 0xfe;
    a[1] = 0x80;
    a[15] = 1;
    const b = a.slice();
    b[15] = 2;
    expect(ipv6PseudoHeaderSum(a, b, 58, 0x12345)).toBe(foldChecksum(0xfe80 + 1 + 0xfe80 + 2 + 1 + 0x2345 + 58));
    expect(() => ipv4PseudoHeaderSum(new Uint8Array(3), new Uint8Array(4), 6, 0)).toThrow(NetworkError);
  });
});
