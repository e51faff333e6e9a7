// fast-check fuzzing of every view's check() and every parser: random, mutated and truncated bytes may only
// ever produce a NetworkError; whatever passes check() can be read without leaving the buffer; dissect()
// never throws on bytes of a supported link type.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { NetworkError } from '../../src/errors.js';
import {
  ArpView, EthernetFrame, EthernetView, Icmpv4View, Icmpv6View, Ipv4Packet, Ipv4View, Ipv6View, TcpSegment, TcpView, UdpDatagram, UdpView,
  dissect, parseArpRepr, parseEthernetRepr, parseIcmpv4Repr, parseIcmpv6Repr, parseIpv4Repr, parseIpv6Repr, parseTcpRepr, parseUdpRepr, quotedIpv4Repr,
} from '../../src/wire/index.js';
import { ethernetCorpus, otherLinkCorpus } from './corpus.js';

type Parser = (b: Uint8Array, off: number) => unknown;

const PARSERS: Array<[string, Parser]> = [
  ['EthernetView.check', (b, o) => EthernetView.check(b, o)],
  ['ArpView.check', (b, o) => ArpView.check(b, o)],
  ['Ipv4View.check', (b, o) => Ipv4View.check(b, o)],
  ['Ipv4View.checkHeader', (b, o) => Ipv4View.checkHeader(b, o)],
  ['Ipv6View.check', (b, o) => Ipv6View.check(b, o)],
  ['Ipv6View.checkHeader', (b, o) => Ipv6View.checkHeader(b, o)],
  ['Icmpv4View.check', (b, o) => Icmpv4View.check(b, o)],
  ['Icmpv6View.check', (b, o) => Icmpv6View.check(b, o)],
  ['UdpView.check', (b, o) => UdpView.check(b, o)],
  ['TcpView.check', (b, o) => TcpView.check(b, o)],
  ['parseEthernetRepr', (b, o) => parseEthernetRepr(b, o)],
  ['parseArpRepr', (b, o) => parseArpRepr(b, o)],
  ['parseIpv4Repr', (b, o) => parseIpv4Repr(b, o)],
  ['parseIpv6Repr', (b, o) => parseIpv6Repr(b, o)],
  ['parseIcmpv4Repr', (b, o) => parseIcmpv4Repr(b, o)],
  ['parseIcmpv6Repr', (b, o) => parseIcmpv6Repr(b, o)],
  ['parseUdpRepr', (b, o) => parseUdpRepr(b, o)],
  ['parseTcpRepr', (b, o) => parseTcpRepr(b, o)],
  ['quotedIpv4Repr', (b, o) => quotedIpv4Repr(b, o, b.length - o)],
  ['EthernetFrame.parse', (b, o) => EthernetFrame.parse(b, o)],
  ['Ipv4Packet.parse', (b, o) => Ipv4Packet.parse(b, o)],
  ['TcpSegment.parse', (b, o) => TcpSegment.parse(b, o)],
  ['UdpDatagram.parse', (b, o) => UdpDatagram.parse(b, o)],
];

function onlyNetworkErrors(fn: () => unknown): void {
  try {
    fn();
  } catch (e) {
    if (!(e instanceof NetworkError)) throw new Error(`non-NetworkError thrown: ${String(e)}`, { cause: e });
  }
}

/** Reads every getter of a view that passed check(); all must be finite integers (no reads past the end). */
function readAll(view: object): void {
  const proto = Object.getPrototypeOf(view) as object;
  for (const [k, d] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
    if (!d.get) continue;
    const v = (view as Record<string, unknown>)[k];
    if (typeof v === 'number') expect(Number.isInteger(v), `${proto.constructor.name}.${k} = ${v}`).toBe(true);
    else expect(typeof v, `${proto.constructor.name}.${k}`).toBe('boolean');
  }
}

const seeds = [...ethernetCorpus(), ...otherLinkCorpus()];

/** A corpus frame, mutated: byte flips, a truncation, bytes inserted. */
const mutatedFrame = fc
  .record({
    i: fc.nat({ max: seeds.length - 1 }),
    flips: fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 }),
    cut: fc.option(fc.nat(), { nil: undefined }),
  })
  .map(({ i, flips, cut }) => {
    const s = seeds[i]!;
    const b = s.frame.slice();
    for (const [p, v] of flips) if (b.length > 0) b[p % b.length] = v;
    return { linktype: s.linktype, frame: cut === undefined ? b : b.subarray(0, cut % (b.length + 1)) };
  });

describe('fuzz: parsers throw only NetworkError', () => {
  it.each(PARSERS)('%s on random bytes', (_n, parse) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 160 }), fc.nat({ max: 170 }), (b, off) => {
        onlyNetworkErrors(() => parse(b, off));
      }),
      { numRuns: 300 },
    );
  });

  it.each(PARSERS)('%s on mutated and truncated real frames at every layer offset', (_n, parse) => {
    fc.assert(
      fc.property(mutatedFrame, fc.constantFrom(0, 4, 14, 16, 18, 20, 22, 34, 54), ({ frame }, off) => {
        onlyNetworkErrors(() => parse(frame, Math.min(off, frame.length)));
      }),
      { numRuns: 200 },
    );
  });

  it('views that pass check() read every field inside the buffer', () => {
    fc.assert(
      fc.property(mutatedFrame, fc.constantFrom(14, 18, 22, 34, 38, 54), ({ frame }, off) => {
        const o = Math.min(off, frame.length);
        const views: Array<[(b: Uint8Array, o: number) => unknown, object]> = [
          [(b, x) => EthernetView.check(b, x), new EthernetView(frame, 0)],
          [(b, x) => ArpView.check(b, x), new ArpView(frame, o)],
          [(b, x) => Ipv4View.check(b, x), new Ipv4View(frame, o)],
          [(b, x) => Ipv6View.check(b, x), new Ipv6View(frame, o)],
          [(b, x) => UdpView.check(b, x), new UdpView(frame, o)],
          [(b, x) => TcpView.check(b, x), new TcpView(frame, o)],
          [(b, x) => Icmpv4View.check(b, x), new Icmpv4View(frame, o)],
          [(b, x) => Icmpv6View.check(b, x), new Icmpv6View(frame, o)],
        ];
        for (const [check, view] of views) {
          let ok = true;
          try {
            check(frame, view === views[0]![1] ? 0 : o);
          } catch (e) {
            if (!(e instanceof NetworkError)) throw e;
            ok = false;
          }
          if (ok) readAll(view);
        }
        // An IPv6 packet that passed check() has its upper layer inside the buffer.
        try {
          Ipv6View.check(frame, o);
          const v = new Ipv6View(frame, o);
          expect(v.upperOffset).toBeLessThanOrEqual(frame.length);
        } catch (e) {
          if (!(e instanceof NetworkError)) throw e;
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('fuzz: dissect() never throws', () => {
  const linktypes = [0, 1, 101, 113, 228, 229, 276];

  it('random bytes on every supported link type', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), fc.constantFrom(...linktypes), (b, lt) => {
        const d = dissect(b, lt);
        for (const l of d.layers) {
          expect(l.offset).toBeGreaterThanOrEqual(0);
          expect(l.offset + l.length).toBeLessThanOrEqual(b.length);
          for (const f of l.fields) expect(typeof f.value).toBe('string');
        }
        expect(typeof d.toText()).toBe('string');
      }),
      { numRuns: 500 },
    );
  });

  it('mutated and truncated corpus frames', () => {
    fc.assert(
      fc.property(mutatedFrame, ({ frame, linktype }) => {
        const d = dissect(frame, linktype);
        expect(d.layers.length).toBeGreaterThan(0);
        for (const l of d.layers) expect(l.offset + l.length).toBeLessThanOrEqual(frame.length);
        d.field('ip.src');
        d.toText();
      }),
      { numRuns: 800 },
    );
  });

  it('truncation at every length keeps the layers before the cut and marks the cut one', () => {
    for (const s of seeds.filter((x) => !x.name.startsWith('malformed'))) {
      const full = dissect(s.frame, s.linktype);
      for (let n = 0; n < s.frame.length; n++) {
        const d = dissect(s.frame.subarray(0, n), s.linktype);
        // Every layer of the cut frame is a layer of the full one (same protocol, same place).
        for (const l of d.layers) expect(full.layers.some((f) => f.protocol === l.protocol && f.offset === l.offset), `${s.name} cut at ${n}: ${l.protocol}@${l.offset}`).toBe(true);
      }
    }
  });

  it('an unknown link type is UNSUPPORTED', () => {
    expect(() => dissect(new Uint8Array(10), 9999)).toThrow(expect.objectContaining({ code: 'UNSUPPORTED' }));
  });
});
