// The GSO engine in TypeScript: the twin of native/offload.cc (gsoBatch). Splits TCP segments and UDP
// payloads larger than the MSS / gso_size the way Linux does in net/ipv4/tcp_offload.c tcp_gso_segment(),
// net/ipv4/af_inet.c inet_gso_segment() and net/ipv4/udp_offload.c __udp_gso_segment().
import { onesComplementSum } from '../wire/checksum.js';
import { ipv6PseudoDst, ipv6Upper, l2Length } from './headers.js';

/** Why a frame could not be segmented (the batch paths stop there and report it). */
export const GSO_OK = 0;
export const GSO_ERR_MALFORMED = 1;
export const GSO_ERR_UNSUPPORTED = 2;

export const GSO_CFG_UDP = 1;
export const GSO_CFG_FIXED_ID = 2;
export const GSO_CFG_PASSTHROUGH = 4;

/** Where segments go: reserve room for a whole frame's segments first, then fill them. */
export interface GsoSink {
  fits(packets: number, bytes: number): boolean;
  /** Room for one packet of len bytes; returns its offset in `buf`. */
  reserve(len: number): number;
  readonly buf: Uint8Array;
}

function be16(d: Uint8Array, p: number): number {
  return (d[p]! << 8) | d[p + 1]!;
}

function fold(s: number): number {
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

function sumBytes(d: Uint8Array, p: number, len: number): number {
  let s = 0;
  const end = p + (len & ~1);
  for (; p < end; p += 2) s += (d[p]! << 8) | d[p + 1]!;
  if (len & 1) s += d[p]! << 8;
  return s;
}

// IPv6 extension headers (RFC 8200 §4, IANA) ipv6Upper does not walk: segmenting behind them is not supported.
function isIpv6Ext(nh: number): boolean {
  return nh === 0 || nh === 43 || nh === 44 || nh === 60 || nh === 51 || nh === 50 || nh === 135 || nh === 139 || nh === 140;
}

/** Detail of the last error (which field). */
export interface GsoError {
  code: number;
  reason: string;
}

/**
 * Segments one frame into the sink. Returns GSO_OK, an error code (nothing written then), or -1 when the
 * sink has no room for all of the frame's segments (nothing written either).
 */
export function gsoFrameTs(d: Uint8Array, off: number, len: number, mss: number, cfg: number, sink: GsoSink, err: GsoError): number {
  const copyWhole = (): number => {
    if (!sink.fits(1, len)) return -1;
    const o = sink.reserve(len);
    sink.buf.set(d.subarray(off, off + len), o);
    return GSO_OK;
  };
  if (cfg & GSO_CFG_PASSTHROUGH) return copyWhole();
  // The whole VLAN tag stack is copied to every segment (skb_mac_gso_segment walks it, __vlan_get_protocol).
  const l2 = l2Length(d, off, len);
  if (l2 < 0) return copyWhole();
  const et = be16(d, off + l2 - 2);
  const ip = off + l2;
  let ipv: number;
  let proto: number;
  let l4: number;
  let l3end: number;
  let frag = 0;
  if (et === 0x0800) {
    if (len < l2 + 20 || d[ip]! >> 4 !== 4) return fail(err, GSO_ERR_MALFORMED, 'IPv4 header truncated or wrong version');
    const ihl = (d[ip]! & 15) * 4;
    const tot = be16(d, ip + 2);
    if (ihl < 20 || tot < ihl || l2 + tot > len) return fail(err, GSO_ERR_MALFORMED, 'IPv4 header or total length inconsistent with the frame');
    proto = d[ip + 9]!;
    l4 = l2 + ihl;
    l3end = l2 + tot;
    frag = be16(d, ip + 6) & 0x3fff;
    ipv = 4;
  } else if (et === 0x86dd) {
    if (len < l2 + 40 || d[ip]! >> 4 !== 6) return fail(err, GSO_ERR_MALFORMED, 'IPv6 header truncated or wrong version');
    const plen = be16(d, ip + 4);
    if (l2 + 40 + plen > len) return fail(err, GSO_ERR_MALFORMED, 'IPv6 payload length exceeds the frame');
    l3end = l2 + 40 + plen;
    ipv = 6;
    // ipv6_gso_segment: hop-by-hop, routing and destination-options headers are walked (and copied to
    // every segment); a fragment header, AH or ESP is not, and such a packet cannot be segmented.
    const u = ipv6Upper(d, off, l2, l3end);
    if (u < 0) {
      if (plen > mss) return fail(err, GSO_ERR_MALFORMED, 'IPv6 extension header runs past the payload');
      return copyWhole();
    }
    proto = u & 0xff;
    l4 = u >>> 8;
    if (isIpv6Ext(proto)) {
      if (plen > mss) return fail(err, GSO_ERR_UNSUPPORTED, 'IPv6 fragment, AH or ESP headers are not segmented');
      return copyWhole();
    }
  } else {
    return copyWhole();
  }
  if (proto !== 6 && !(proto === 17 && cfg & GSO_CFG_UDP)) return copyWhole();
  let hdr: number;
  if (proto === 6) {
    if (l3end < l4 + 20) return fail(err, GSO_ERR_MALFORMED, 'TCP header truncated');
    const thl = (d[off + l4 + 12]! >> 4) * 4;
    if (thl < 20 || l4 + thl > l3end) return fail(err, GSO_ERR_MALFORMED, 'TCP data offset outside the segment');
    hdr = l4 + thl;
  } else {
    if (l3end < l4 + 8 || be16(d, off + l4 + 4) !== l3end - l4) return fail(err, GSO_ERR_MALFORMED, 'UDP length disagrees with the IP length');
    hdr = l4 + 8;
  }
  const payload = l3end - hdr;
  if (payload <= mss) return copyWhole();
  if (frag) return fail(err, GSO_ERR_UNSUPPORTED, 'IP fragments are not segmented');
  const nseg = Math.ceil(payload / mss);
  if (!sink.fits(nseg, nseg * hdr + payload)) return -1;

  const buf = sink.buf;
  let addrSum = 0;
  if (ipv === 4) {
    addrSum = sumBytes(d, ip + 12, 8);
  } else {
    const dst = ipv6PseudoDst(d, off, l2, l4);
    if (dst < 0) return fail(err, GSO_ERR_UNSUPPORTED, 'routing header with segments left of a type whose final destination is unknown');
    addrSum = sumBytes(d, ip + 8, 16) + sumBytes(d, off + dst, 16);
  }
  const ihl = l4 - l2;
  const id0 = ipv === 4 ? be16(d, ip + 4) : 0;
  const seq0 = proto === 6 ? ((d[off + l4 + 4]! << 24) | (d[off + l4 + 5]! << 16) | (d[off + l4 + 6]! << 8) | d[off + l4 + 7]!) >>> 0 : 0;
  const flags0 = proto === 6 ? d[off + l4 + 13]! : 0;
  const udpZero = proto === 17 && ipv === 4 && be16(d, off + l4 + 6) === 0;
  let pos = off + hdr;
  for (let i = 0; i < nseg; i++) {
    const n = i === nseg - 1 ? payload - i * mss : mss;
    const o = sink.reserve(hdr + n);
    // Headers are copied from the original, then the per-segment fields rewritten.
    for (let k = 0; k < hdr; k++) buf[o + k] = d[off + k]!;
    buf.set(d.subarray(pos, pos + n), o + hdr);
    const l3len = hdr - l2 + n;
    const ipo = o + l2;
    if (ipv === 4) {
      buf[ipo + 2] = l3len >>> 8;
      buf[ipo + 3] = l3len & 0xff;
      // inet_gso_segment: IDs increment per segment unless the sender asked for a fixed ID (DF set).
      const id = cfg & GSO_CFG_FIXED_ID ? id0 : (id0 + i) & 0xffff;
      buf[ipo + 4] = id >>> 8;
      buf[ipo + 5] = id & 0xff;
      buf[ipo + 10] = 0;
      buf[ipo + 11] = 0;
      const c = ~fold(sumBytes(buf, ipo, ihl)) & 0xffff;
      buf[ipo + 10] = c >>> 8;
      buf[ipo + 11] = c & 0xff;
    } else {
      buf[ipo + 4] = (l3len - 40) >>> 8;
      buf[ipo + 5] = (l3len - 40) & 0xff;
    }
    const t = o + l4;
    const l4len = hdr - l4 + n;
    let ck: number;
    if (proto === 6) {
      const seq = (seq0 + i * mss) >>> 0;
      buf[t + 4] = seq >>> 24;
      buf[t + 5] = (seq >>> 16) & 0xff;
      buf[t + 6] = (seq >>> 8) & 0xff;
      buf[t + 7] = seq & 0xff;
      // tcp_gso_segment: FIN and PSH only on the last segment, CWR only on the first.
      let f = flags0;
      if (i !== nseg - 1) f &= ~0x09;
      if (i !== 0) f &= ~0x80;
      buf[t + 13] = f;
      ck = t + 16;
    } else {
      buf[t + 4] = l4len >>> 8;
      buf[t + 5] = l4len & 0xff;
      ck = t + 6;
    }
    buf[ck] = 0;
    buf[ck + 1] = 0;
    if (!udpZero) {
      const pseudo = addrSum + proto + (l4len >>> 16) + (l4len & 0xffff);
      const s = pseudo + sumBytes(buf, t, hdr - l4) + onesComplementSum(d, 0, pos, n);
      let c = ~fold(s) & 0xffff;
      if (c === 0 && proto === 17) c = 0xffff; // RFC 768
      buf[ck] = c >>> 8;
      buf[ck + 1] = c & 0xff;
    }
    pos += n;
  }
  return GSO_OK;
}

function fail(err: GsoError, code: number, reason: string): number {
  err.code = code;
  err.reason = reason;
  return code;
}
