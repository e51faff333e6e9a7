// Header walks the GRO and GSO engines share (twins in native/offload.cc: l2Length, ipv6Upper, ipv6PseudoDst).
// Internal: not re-exported. Offsets are relative to the frame start `off` in `d`; no allocation.
import { MAX_VLAN_TAGS, isVlanTpid } from '../wire/ethernet.js';

/** Ethernet + VLAN header bytes the engines accept at most (MAX_VLAN_TAGS stacked tags). */
export const MAX_L2_LENGTH = 14 + 4 * MAX_VLAN_TAGS;

/**
 * Length of the Ethernet header with its whole tag stack (802.1Q 0x8100, 802.1ad 0x88a8, the pre-standard
 * 0x9100, in any order: Linux's vlan_gro_receive / __vlan_get_protocol walk one tag at a time), or -1 when
 * the frame ends inside it or stacks more than MAX_VLAN_TAGS tags. The EtherType is at l2 - 2.
 */
export function l2Length(d: Uint8Array, off: number, len: number): number {
  if (len < 14) return -1;
  let l2 = 14;
  while (isVlanTpid((d[off + l2 - 2]! << 8) | d[off + l2 - 1]!)) {
    if (l2 >= MAX_L2_LENGTH) return -1;
    l2 += 4;
    if (len < l2) return -1;
  }
  return l2;
}

/**
 * Linux ipv6_gso_pull_exthdrs (net/ipv6/ip6_offload.c): skips hop-by-hop, routing and destination-options
 * headers (the INET6_PROTO_GSO_EXTHDR set, net/ipv6/exthdrs_offload.c); any other next header (TCP, UDP, a
 * fragment header, AH, ESP …) ends the walk. `ip` is the IPv6 header's offset, `end` where the IP datagram
 * ends. Returns upperOffset * 256 + nextHeader, or -1 when a header runs past `end`.
 */
export function ipv6Upper(d: Uint8Array, off: number, ip: number, end: number): number {
  let nh = d[off + ip + 6]!;
  let p = ip + 40;
  while (nh === 0 || nh === 43 || nh === 60) {
    if (p + 8 > end) return -1;
    const l = (d[off + p + 1]! + 1) * 8; // ipv6_optlen: (hdrlen + 1) << 3
    if (p + l > end) return -1;
    nh = d[off + p]!;
    p += l;
  }
  return p * 256 + nh;
}

/**
 * Offset of the address an upper-layer checksum uses as destination (RFC 8200 §8.1): the IPv6 destination,
 * unless a routing header still has segments left — then the final destination it names: type 0 (RFC 5095)
 * its last address, type 2 (RFC 6275 §6.4) the home address, type 4 (SRH, RFC 8754 §2) Segment List[0].
 * -1 for other routing types with segments left (the final destination is not known here). `l4` is the
 * upper-layer offset ipv6Upper returned (every header before it was bounds-checked there).
 */
export function ipv6PseudoDst(d: Uint8Array, off: number, ip: number, l4: number): number {
  let nh = d[off + ip + 6]!;
  let p = ip + 40;
  let dst = ip + 24;
  while (p < l4) {
    const hl = d[off + p + 1]!;
    if (nh === 43 && d[off + p + 3] !== 0) {
      const type = d[off + p + 2]!;
      if ((type === 0 || type === 2) && hl >= 2 && (hl & 1) === 0) dst = p + 8 + 16 * (hl / 2 - 1);
      else if (type === 4 && hl >= 2) dst = p + 8;
      else return -1;
    }
    nh = d[off + p]!;
    p += (hl + 1) * 8;
  }
  return dst;
}
