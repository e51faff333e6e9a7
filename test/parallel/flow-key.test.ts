import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { locateFlowTuple, TUPLE_ADDR, TUPLE_PORTS, TUPLE_PROTOCOL } from '../../src/parallel/index.js';
import { packTuple, unpackTuple } from '../../src/parallel/flow-key.js';
// @ts-expect-error -- plain ESM helper without types
import { frameFor, headerLength, makeFlows } from './synth.mjs';

describe('locateFlowTuple', () => {
  it('finds addresses and ports behind VLAN tags and IPv6 extension headers', () => {
    const out = new Int32Array(4);
    for (const f of makeFlows(300, 21) as { v: number; proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number }[]) {
      const b = frameFor(f) as Uint8Array;
      expect(locateFlowTuple(b, 0, b.length, out)).toBe(f.v);
      expect(out[TUPLE_PROTOCOL]).toBe(f.proto);
      const alen = f.v === 4 ? 4 : 16;
      expect(b.subarray(out[TUPLE_ADDR]!, out[TUPLE_ADDR]! + alen)).toEqual(f.src);
      expect(b.subarray(out[TUPLE_ADDR]! + alen, out[TUPLE_ADDR]! + 2 * alen)).toEqual(f.dst);
      if (f.proto === 6 || f.proto === 17) {
        const p = out[TUPLE_PORTS]!;
        expect((b[p]! << 8) | b[p + 1]!).toBe(f.sport);
        expect((b[p + 2]! << 8) | b[p + 3]!).toBe(f.dport);
      } else {
        expect(out[TUPLE_PORTS]).toBe(-1);
      }
    }
  });

  it('IPv4 fragments and IPv6 fragments carry no ports; non-IP and truncated frames return 0', () => {
    const out = new Int32Array(4);
    const [f] = makeFlows(1, 5).filter(() => true) as { v: number; proto: number; vlan: number; ext: boolean }[];
    const udp4 = { ...f!, v: 4, proto: 17, src: Uint8Array.of(10, 0, 0, 1), dst: Uint8Array.of(10, 0, 0, 2), sport: 1, dport: 2, vlan: -1, ext: false };
    const b = frameFor(udp4) as Uint8Array;
    b[14 + 6] = 0x20; // MF
    expect(locateFlowTuple(b, 0, b.length, out)).toBe(4);
    expect(out[TUPLE_PORTS]).toBe(-1);
    b[14 + 6] = 0x00;
    b[14 + 7] = 0x10; // offset 16
    locateFlowTuple(b, 0, b.length, out);
    expect(out[TUPLE_PORTS]).toBe(-1);
    const v6 = frameFor({ ...udp4, v: 6, src: new Uint8Array(16), dst: new Uint8Array(16) }) as Uint8Array;
    // Insert a fragment header with offset 8 by building it by hand.
    const frag = new Uint8Array(v6.length + 8);
    frag.set(v6.subarray(0, 54));
    frag[20] = 44;
    frag[54] = 17;
    frag[56] = 0;
    frag[57] = 8 << 3;
    frag.set(v6.subarray(54), 62);
    expect(locateFlowTuple(frag, 0, frag.length, out)).toBe(6);
    expect(out[TUPLE_PROTOCOL]).toBe(17);
    expect(out[TUPLE_PORTS]).toBe(-1);
    const arp = new Uint8Array(60);
    arp[12] = 8;
    arp[13] = 6;
    expect(locateFlowTuple(arp, 0, 60, out)).toBe(0);
    expect(locateFlowTuple(b, 0, 20, out)).toBe(0);
    expect(locateFlowTuple(b, 0, headerLength(udp4) - 8 + 2, out)).toBe(4);
    expect(out[TUPLE_PORTS]).toBe(-1); // ports cut off
  });

  it('raw-IP link type', () => {
    const out = new Int32Array(4);
    const f = { v: 4, proto: 6, src: Uint8Array.of(1, 2, 3, 4), dst: Uint8Array.of(5, 6, 7, 8), sport: 9, dport: 10, vlan: -1, ext: false };
    const b = (frameFor(f) as Uint8Array).subarray(14);
    expect(locateFlowTuple(b, 0, b.length, out, 'raw')).toBe(4);
    expect(out[TUPLE_ADDR]).toBe(12);
  });

  it('the untagged-IPv4 fast path agrees with the general walk (the same header behind a VLAN tag, and raw IP)', () => {
    const a = new Int32Array(4);
    const b = new Int32Array(4);
    const c = new Int32Array(4);
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 70 }), fc.nat(60), fc.nat(8), (ip, cut, pad) => {
        // An IPv4 header with IHL 5 (what the fast path takes), random everything else, cut at random.
        const body = Uint8Array.from(ip);
        if (body.length > 0) body[0] = 0x45;
        // Often a protocol with ports and no fragment bits, so the port rule is exercised too.
        if (body.length > 9 && ip[1]! & 1) body[9] = [6, 17, 132, 1][ip[2]! & 3]!;
        if (body.length > 7 && ip[3]! & 1) {
          body[6] = body[6]! & 0x80;
          body[7] = 0;
        }
        const len = Math.min(body.length, cut);
        const eth = new Uint8Array(pad + 14 + body.length);
        eth.set([0x08, 0x00], pad + 12);
        eth.set(body, pad + 14);
        const tagged = new Uint8Array(pad + 18 + body.length);
        tagged.set([0x81, 0x00, 0x00, 0x07, 0x08, 0x00], pad + 12);
        tagged.set(body, pad + 18);
        const v = locateFlowTuple(eth, pad, 14 + len, a);
        expect(locateFlowTuple(tagged, pad, 18 + len, b)).toBe(v);
        expect(locateFlowTuple(body, 0, len, c, 'raw')).toBe(v);
        if (v !== 0) {
          expect([a[0], a[1], a[2]! - pad - 14, a[3]! < 0 ? -1 : a[3]! - pad - 14]).toEqual([b[0], b[1], b[2]! - pad - 18, b[3]! < 0 ? -1 : b[3]! - pad - 18]);
          expect([a[0], a[1], a[2]! - pad - 14, a[3]! < 0 ? -1 : a[3]! - pad - 14]).toEqual([c[0], c[1], c[2], c[3]]);
        }
      }),
      { numRuns: 2000 },
    );
  });

  it('packTuple/unpackTuple carry a located tuple between workers unchanged, or say "parse again"', () => {
    const a = new Int32Array(4);
    const c = new Int32Array(4);
    const check = (b: Uint8Array, off: number, len: number) => {
      const v = locateFlowTuple(b, off, len, a);
      const packed = packTuple(v, a, off);
      c.fill(-7);
      const u = unpackTuple(packed, c, off);
      if (u === 0) {
        // Non-IP, or too deep to pack: the worker parses again.
        expect(v === 0 || (packed & 3) === 3).toBe(true);
      } else {
        expect(u).toBe(v);
        expect([...c]).toEqual([...a]);
      }
    };
    for (const f of makeFlows(300, 41) as object[]) {
      const b = frameFor(f, 200) as Uint8Array;
      const pad = new Uint8Array(b.length + 9);
      pad.set(b, 9);
      check(b, 0, b.length);
      check(pad, 9, b.length);
    }
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(20), (body, pad) => {
        const b = new Uint8Array(pad + body.length);
        b.set(body, pad);
        if (body.length > 14 && body[0]! & 1) {
          b[pad + 12] = body[1]! & 1 ? 0x86 : 0x08;
          b[pad + 13] = body[1]! & 1 ? 0xdd : 0x00;
          b[pad + 14] = body[1]! & 1 ? 0x60 : 0x45;
        }
        check(b, pad, body.length);
      }),
      { numRuns: 1000 },
    );
    // A tuple too deep for 16 bits is not packed.
    const t = Int32Array.of(6, 17, 100, 70_100);
    expect(packTuple(6, t, 0) & 3).toBe(3);
  });

  it('never reads outside [off, off+len) and never throws on arbitrary bytes', () => {
    const out = new Int32Array(4);
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 120 }), fc.nat(20), fc.constantFrom<'ethernet' | 'raw'>('ethernet', 'raw'), (body, pad, link) => {
        // Bias toward IP: plant an EtherType / version nibble often.
        const b = new Uint8Array(pad + body.length + 16).fill(0xaa);
        b.set(body, pad);
        if (body.length > 14 && body[0]! & 1) {
          b[pad + 12] = body[1]! & 1 ? 0x86 : 0x08;
          b[pad + 13] = body[1]! & 1 ? 0xdd : 0x00;
          b[pad + 14] = body[1]! & 1 ? 0x60 : 0x45;
        }
        const v = locateFlowTuple(b, pad, body.length, out, link);
        if (v !== 0) {
          const alen = v === 4 ? 4 : 16;
          expect(out[TUPLE_ADDR]! >= pad && out[TUPLE_ADDR]! + 2 * alen <= pad + body.length).toBe(true);
          if (out[TUPLE_PORTS]! >= 0) expect(out[TUPLE_PORTS]! + 4 <= pad + body.length).toBe(true);
        }
      }),
      { numRuns: 1000 },
    );
  });
});
