import { describe, expect, it } from 'vitest';
import { buildIcmpv4, Icmpv4View, parseIcmpv4Repr, quotedIpv4Repr, type Icmpv4Repr } from '../../src/wire/icmpv4.js';
import { buildIcmpv6, Icmpv6View, parseIcmpv6Repr, type Icmpv6Repr } from '../../src/wire/icmpv6.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { buildIpv6, Ipv6View } from '../../src/wire/ipv6.js';
import { buildUdp } from '../../src/wire/udp.js';
import { NetworkError } from '../../src/errors.js';

describe('ICMPv4', () => {
  it('echo request round trip with a valid checksum', () => {
    const r: Icmpv4Repr = { kind: 'echoRequest', identifier: 0x1234, sequence: 7, data: Uint8Array.of(1, 2, 3) };
    const b = buildIcmpv4(r);
    const v = new Icmpv4View(b);
    expect([v.type, v.code, v.identifier, v.sequence, v.dataOffset, v.dataLength, v.isError]).toEqual([8, 0, 0x1234, 7, 8, 3, false]);
    expect(v.verifyChecksum()).toBe(true);
    expect(v.computeChecksum()).toBe(v.checksum);
    expect(parseIcmpv4Repr(b)).toEqual(r);
    b[9] ^= 0xff;
    expect(v.verifyChecksum()).toBe(false);
    v.fillChecksum();
    expect(v.verifyChecksum()).toBe(true);
  });

  it('errors quote the offending header; quotedIpv4Repr parses the cut datagram', () => {
    const orig = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17, ttl: 1 }, buildUdp({ srcPort: 1000, dstPort: 33434 }, new Uint8Array(100)));
    const quoted = orig.slice(0, 28);
    const te = buildIcmpv4({ kind: 'timeExceeded', code: 0, quoted });
    const r = parseIcmpv4Repr(te);
    expect(r).toEqual({ kind: 'timeExceeded', code: 0, quoted });
    const q = quotedIpv4Repr(te, 8, te.length - 8);
    expect([q.src, q.dst, q.protocol, q.ttl, q.payloadLength]).toEqual(['10.0.0.1', '10.0.0.2', 17, 1, 108]);
    const ptb = buildIcmpv4({ kind: 'destinationUnreachable', code: 4, nextHopMtu: 1400, quoted });
    const v = new Icmpv4View(ptb);
    expect([v.type, v.code, v.nextHopMtu, v.isError]).toEqual([3, 4, 1400, true]);
    expect(parseIcmpv4Repr(ptb)).toEqual({ kind: 'destinationUnreachable', code: 4, nextHopMtu: 1400, quoted });
  });

  it('other types keep their rest-of-header', () => {
    const r: Icmpv4Repr = { kind: 'other', type: 13, code: 0, rest: 0x00010002, data: new Uint8Array(12) };
    expect(parseIcmpv4Repr(buildIcmpv4(r))).toEqual(r);
  });

  it('check', () => {
    expect(() => Icmpv4View.check(new Uint8Array(7))).toThrow(NetworkError);
    expect(Icmpv4View.check(new Uint8Array(8))).toBe(8);
  });
});

describe('ICMPv6', () => {
  const ip = { src: 'fe80::1', dst: 'ff02::1:ff00:2' };

  it('neighbor solicitation with source link-layer option, checksum over the pseudo-header', () => {
    const r: Icmpv6Repr = { kind: 'neighborSolicitation', target: 'fe80::2', sourceLinkAddress: '00:11:22:33:44:55' };
    const m = buildIcmpv6(r, ip);
    expect(m.length).toBe(32);
    const pkt = buildIpv6({ ...ip, nextHeader: 58, hopLimit: 255 }, m);
    const iv = new Ipv6View(pkt);
    const v = new Icmpv6View(pkt, 40, m.length);
    expect(Icmpv6View.check(pkt, 40)).toBe(24);
    expect(v.verifyChecksum(iv.pseudoHeaderSum())).toBe(true);
    expect(v.computeChecksum(iv.pseudoHeaderSum())).toBe(v.checksum);
    expect([v.type, v.targetOffset, v.findNdOption(1), v.findNdOption(2)]).toEqual([135, 48, 64, -1]);
    expect(parseIcmpv6Repr(m)).toEqual(r);
  });

  it('neighbor advertisement flags', () => {
    const r: Icmpv6Repr = { kind: 'neighborAdvertisement', router: true, solicited: false, override: true, target: '2001:db8::5', targetLinkAddress: '02:00:00:00:00:09' };
    const m = buildIcmpv6(r);
    const v = new Icmpv6View(m);
    expect([v.routerFlag, v.solicitedFlag, v.overrideFlag]).toEqual([true, false, true]);
    expect(parseIcmpv6Repr(m)).toEqual(r);
    const bare: Icmpv6Repr = { kind: 'neighborAdvertisement', router: false, solicited: true, override: false, target: '::1' };
    expect(parseIcmpv6Repr(buildIcmpv6(bare))).toEqual(bare);
  });

  it('echo, errors, packet too big round-trip', () => {
    const reprs: Icmpv6Repr[] = [
      { kind: 'echoRequest', identifier: 1, sequence: 2, data: Uint8Array.of(3) },
      { kind: 'echoReply', identifier: 1, sequence: 2, data: new Uint8Array(0) },
      { kind: 'destinationUnreachable', code: 4, quoted: new Uint8Array(48) },
      { kind: 'timeExceeded', code: 1, quoted: new Uint8Array(40) },
      { kind: 'packetTooBig', mtu: 1280, quoted: new Uint8Array(40) },
      { kind: 'other', type: 133, code: 0, rest: 0, data: new Uint8Array(8) },
    ];
    for (const r of reprs) expect(parseIcmpv6Repr(buildIcmpv6(r, ip))).toEqual(r);
  });

  it('check rejects zero-length and overrunning ND options', () => {
    const m = buildIcmpv6({ kind: 'neighborSolicitation', target: 'fe80::2', sourceLinkAddress: '00:11:22:33:44:55' });
    const z = m.slice();
    z[25] = 0;
    expect(() => Icmpv6View.check(z)).toThrow(expect.objectContaining({ code: 'INVALID_PACKET' }));
    const o = m.slice();
    o[25] = 2;
    expect(() => Icmpv6View.check(o)).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
    expect(() => Icmpv6View.check(m.subarray(0, 20))).toThrow(expect.objectContaining({ code: 'TRUNCATED' }));
  });
});
