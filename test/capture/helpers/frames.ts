// Frames for the analyzer and filter tests, built with the wire builders.
import { buildEthernet } from '../../../src/wire/ethernet.js';
import { buildIpv4 } from '../../../src/wire/ipv4.js';
import { buildIpv6 } from '../../../src/wire/ipv6.js';
import { buildTcp } from '../../../src/wire/tcp.js';
import { buildUdp } from '../../../src/wire/udp.js';
import { buildIcmpv4 } from '../../../src/wire/icmpv4.js';
import { buildArp } from '../../../src/wire/arp.js';

const MAC_A = '02:00:00:00:00:0a';
const MAC_B = '02:00:00:00:00:0b';
const empty = new Uint8Array(0);

function ip(src: string, dst: string, protocol: number, l4: Uint8Array): { l3: Uint8Array; etherType: number } {
  if (src.includes(':')) return { l3: buildIpv6({ src, dst, nextHeader: protocol }, l4), etherType: 0x86dd };
  return { l3: buildIpv4({ src, dst, protocol, dontFragment: true }, l4), etherType: 0x0800 };
}

export function tcpFrame(src: string, dst: string, sp: number, dp: number, flags: number, payload: Uint8Array = empty, seq = 1000, ack = 0): Uint8Array {
  const seg = buildTcp({ srcPort: sp, dstPort: dp, flags, seq, ack, window: 65535 }, payload, { src, dst });
  const { l3, etherType } = ip(src, dst, 6, seg);
  return buildEthernet({ dst: MAC_B, src: MAC_A, etherType, vlans: [] }, l3);
}

export function udpFrame(src: string, dst: string, sp: number, dp: number, payload: Uint8Array = empty): Uint8Array {
  const dg = buildUdp({ srcPort: sp, dstPort: dp }, payload, { src, dst });
  const { l3, etherType } = ip(src, dst, 17, dg);
  return buildEthernet({ dst: MAC_B, src: MAC_A, etherType, vlans: [] }, l3);
}

export function pingFrame(src: string, dst: string, seq: number): Uint8Array {
  const icmp = buildIcmpv4({ kind: 'echoRequest', identifier: 7, sequence: seq, data: new Uint8Array(16) });
  return buildEthernet({ dst: MAC_B, src: MAC_A, etherType: 0x0800, vlans: [] }, buildIpv4({ src, dst, protocol: 1 }, icmp));
}

export function arpFrame(): Uint8Array {
  const arp = buildArp({ operation: 1, senderMac: MAC_A, senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' });
  return buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: MAC_A, etherType: 0x0806, vlans: [] }, arp);
}

export function vlanUdpFrame(src: string, dst: string, sp: number, dp: number, vid: number): Uint8Array {
  const dg = buildUdp({ srcPort: sp, dstPort: dp }, Uint8Array.of(1, 2, 3), { src, dst });
  return buildEthernet({ dst: MAC_B, src: MAC_A, etherType: 0x0800, vlans: [{ tpid: 0x8100, pcp: 0, dei: false, id: vid }] }, buildIpv4({ src, dst, protocol: 17 }, dg));
}

export const ascii = (s: string) => new TextEncoder().encode(s);

/** A DNS query message (RFC 1035 §4.1). */
export function dnsQuery(id: number, name: string, qtype: number, response = false): Uint8Array {
  const labels = name.split('.').flatMap((l) => [l.length, ...ascii(l)]);
  return Uint8Array.of(id >> 8, id & 255, response ? 0x81 : 1, response ? 0x80 : 0, 0, 1, 0, 0, 0, 0, 0, 0, ...labels, 0, qtype >> 8, qtype & 255, 0, 1);
}

/** A minimal TLS 1.3-style ClientHello record with SNI and ALPN (RFC 8446 §4.1.2, RFC 6066 §3, RFC 7301). */
export function clientHello(sni: string | null, alpn: string[]): Uint8Array {
  const ext: number[] = [];
  if (sni !== null) {
    const n = [...ascii(sni)];
    const list = [0, n.length >> 8, n.length & 255, ...n];
    ext.push(0, 0, (list.length + 2) >> 8, (list.length + 2) & 255, list.length >> 8, list.length & 255, ...list);
  }
  if (alpn.length) {
    const list = alpn.flatMap((p) => [p.length, ...ascii(p)]);
    ext.push(0, 16, (list.length + 2) >> 8, (list.length + 2) & 255, list.length >> 8, list.length & 255, ...list);
  }
  ext.push(0, 43, 0, 3, 2, 3, 4);
  const body = [3, 3, ...new Array(32).fill(7), 0, 0, 2, 0x13, 0x01, 1, 0, ext.length >> 8, ext.length & 255, ...ext];
  const hs = [1, 0, body.length >> 8, body.length & 255, ...body];
  return Uint8Array.of(22, 3, 1, hs.length >> 8, hs.length & 255, ...hs);
}

/** A QUIC v1 long-header Initial (RFC 9000 §17.2.2), padded. */
export function quicInitial(dcid: number[], scid: number[], version = 1): Uint8Array {
  return Uint8Array.of(0xc3, version >>> 24, (version >>> 16) & 255, (version >>> 8) & 255, version & 255, dcid.length, ...dcid, scid.length, ...scid, 0, 0x41, 0, ...new Array(40).fill(0));
}
