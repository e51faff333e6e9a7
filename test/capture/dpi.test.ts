import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { dnsTypeName, isKnownQuicVersion, looksLikeHttpRequest, parseDnsMessage, parseHttpRequest, parseQuicLongHeader, parseTlsClientHello } from '../../src/capture/index.js';
import { ascii, clientHello, dnsQuery, quicInitial } from './helpers/frames.js';

const whole = (b: Uint8Array) => [b, 0, b.length] as const;

describe('DPI: HTTP/1.x', () => {
  it('reads the request line and Host (case-insensitive, OWS trimmed, bare LF accepted)', () => {
    expect(parseHttpRequest(...whole(ascii('GET /a?b=c HTTP/1.1\r\nAccept: */*\r\nhOsT:\t example.test:8080 \r\n\r\n')))).toEqual({
      method: 'GET', uri: '/a?b=c', version: 'HTTP/1.1', host: 'example.test:8080', userAgent: null,
    });
    expect(parseHttpRequest(...whole(ascii('OPTIONS * HTTP/1.0\nHost: h\n\n')))).toMatchObject({ method: 'OPTIONS', uri: '*', host: 'h' });
    // Cut after the request line: still a request, Host unknown.
    expect(parseHttpRequest(...whole(ascii('DELETE /x HTTP/1.1\r\nHo')))).toMatchObject({ method: 'DELETE', host: null });
  });

  it('rejects what is not an HTTP/1.x request', () => {
    for (const s of ['HTTP/1.1 200 OK\r\n\r\n', 'GET / HTTP/2\r\n\r\n', 'GET /\r\n', 'GETX / HTTP/1.1\r\n', 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'GET  HTTP/1.1\r\n']) {
      expect(parseHttpRequest(...whole(ascii(s))), s).toBeNull();
    }
    expect(looksLikeHttpRequest(ascii('POST /x HTTP/1.1'), 0, 5)).toBe(false);
    expect(parseHttpRequest(ascii('GET / HTTP/1.1\r\n'), 10, 100)).toBeNull();
  });
});

describe('DPI: TLS ClientHello', () => {
  it('reads SNI, ALPN and supported_versions', () => {
    expect(parseTlsClientHello(...whole(clientHello('a.example', ['h2', 'http/1.1'])))).toMatchObject({
      recordVersion: 0x0301, helloVersion: 0x0303, sni: 'a.example', alpn: ['h2', 'http/1.1'], supportedVersions: [0x0304], cipherSuiteCount: 1,
    });
    expect(parseTlsClientHello(...whole(clientHello(null, [])))).toMatchObject({ sni: null, alpn: [] });
  });

  it('reads what is present of a hello cut across segments; rejects other records', () => {
    const h = clientHello('cut.example', ['h2']);
    for (let n = 0; n < h.length; n++) {
      const r = parseTlsClientHello(h, 0, n);
      if (r !== null && r.sni !== null) expect(r.sni).toBe('cut.example');
    }
    expect(parseTlsClientHello(h, 0, h.length)!.alpn).toEqual(['h2']);
    const alert = Uint8Array.of(21, 3, 3, 0, 2, 2, 40);
    expect(parseTlsClientHello(...whole(alert))).toBeNull();
  });
});

describe('DPI: DNS', () => {
  it('reads id, flags, first question name and type', () => {
    expect(parseDnsMessage(...whole(dnsQuery(0x1234, 'www.example.test', 1)))).toMatchObject({ id: 0x1234, response: false, name: 'www.example.test', type: 1, typeName: 'A', qclass: 1, questions: 1 });
    expect(dnsTypeName(65)).toBe('HTTPS');
    expect(dnsTypeName(4242)).toBe('TYPE4242');
  });

  it('follows compression pointers but not loops', () => {
    // Question name is a pointer to "a.b" stored at offset 12 of a second question… point at itself instead.
    const loop = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0xc0, 12, 0, 1, 0, 1);
    expect(parseDnsMessage(...whole(loop))).toBeNull();
    // A real forward pointer: name at 12 = "x" + pointer to offset 18 ("yz").
    const fwd = Uint8Array.of(0, 1, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 1, 0x78, 0xc0, 20, 0, 1, 0, 1, 2, 0x79, 0x7a, 0);
    expect(parseDnsMessage(...whole(fwd))).toMatchObject({ name: 'x.yz', type: 1 });
  });
});

describe('DPI: QUIC long header', () => {
  it('reads version, type and connection IDs; v2 types renumbered; unknown versions only on request', () => {
    expect(parseQuicLongHeader(...whole(quicInitial([1, 2, 3], [4])))).toMatchObject({ version: 1, packetType: 0, packetTypeName: 'Initial' });
    // RFC 9369 §3.2: in v2 type bits 00 mean Retry.
    expect(parseQuicLongHeader(...whole(quicInitial([1], [], 0x6b3343cf)))!.packetTypeName).toBe('Retry');
    expect(parseQuicLongHeader(...whole(quicInitial([1], [], 0x12345678)))).toBeNull();
    expect(parseQuicLongHeader(...whole(quicInitial([1], [], 0x12345678)), true)!.version).toBe(0x12345678);
    expect(isKnownQuicVersion(0xff00001d)).toBe(true);
    // v1 caps connection IDs at 20 bytes.
    expect(parseQuicLongHeader(...whole(quicInitial(new Array(21).fill(1), [])))).toBeNull();
    // Short header (bit 7 clear) is not a long header.
    expect(parseQuicLongHeader(...whole(Uint8Array.of(0x40, 1, 2, 3, 4, 5, 6, 7)))).toBeNull();
  });
});

describe('DPI parsers under fuzzing', () => {
  it('random and mutated payloads: a result or null, never an exception; offsets respected', () => {
    const seeds = [ascii('GET / HTTP/1.1\r\nHost: h\r\n\r\n'), clientHello('s.example', ['h2']), dnsQuery(7, 'a.bc.de', 28), quicInitial([1, 2], [3])];
    const arb = fc.oneof(
      fc.uint8Array({ maxLength: 300 }),
      fc.tuple(fc.constantFrom(...seeds), fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 8 }), fc.nat()).map(([s, edits, cut]) => {
        const b = s.slice(0, Math.max(1, s.length - (cut % s.length)));
        for (const [i, v] of edits) b[i % b.length] = v;
        return b;
      }),
    );
    fc.assert(
      fc.property(arb, fc.nat(), fc.nat(), (b, o, l) => {
        const off = b.length ? o % b.length : 0;
        const len = Math.min(l % 400, b.length - off);
        // Bytes beyond [off, off+len) must not be read: poison them and compare.
        const poisoned = b.slice();
        for (let i = 0; i < poisoned.length; i++) if (i < off || i >= off + len) poisoned[i] = 0xff;
        for (const f of [parseHttpRequest, parseTlsClientHello, parseDnsMessage, parseQuicLongHeader] as ((b: Uint8Array, o: number, l: number) => unknown)[]) {
          const r1 = f(b, off, len);
          const r2 = f(poisoned, off, len);
          expect(JSON.stringify(r2, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v))).toBe(JSON.stringify(r1, (_k, v: unknown) => (v instanceof Uint8Array ? Array.from(v) : v)));
        }
      }),
      { numRuns: 2000 },
    );
  });
});
