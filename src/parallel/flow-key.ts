// Where a packet's flow tuple lives, found with plain offset math (no objects: this runs once per packet on
// the dispatcher and again in each worker). Rules follow what NICs hash (Microsoft RSS spec): the 4-tuple
// for TCP/UDP/SCTP, the 2-tuple for every other IP packet and for fragments (only the first fragment carries
// ports, so hashing ports would split one datagram's fragments over workers).
import { ETHERNET_HEADER_LENGTH, EtherType, isVlanTpid, MAX_VLAN_TAGS, VLAN_TAG_LENGTH } from '../wire/ethernet.js';
import { IpProtocol } from '../wire/ipv4.js';
import { isIpv6ExtensionHeader, IPV6_HEADER_LENGTH, IPV6_MAX_EXTENSIONS } from '../wire/ipv6.js';

/** What frames start with: an Ethernet header (DLT_EN10MB) or a bare IP header (DLT_RAW). */
export type FlowLinkType = 'ethernet' | 'raw';

/** packTuple's kinds: a non-IP packet, and a tuple too far into the packet to pack (parse it again). */
const TUPLE_NON_IP = 0;
export const TUPLE_UNPACKED = 3;

/** out[] slots written by locateFlowTuple. */
export const TUPLE_VERSION = 0;
export const TUPLE_PROTOCOL = 1;
/** Byte offset of the source address; the destination follows it. */
export const TUPLE_ADDR = 2;
/** Byte offset of the 4 port bytes, or -1 (no ports: not TCP/UDP/SCTP, a fragment, or truncated). */
export const TUPLE_PORTS = 3;

function hasPorts(proto: number): boolean {
  return proto === IpProtocol.Tcp || proto === IpProtocol.Udp || proto === IpProtocol.Sctp;
}

/**
 * Locates the IP flow tuple of the frame data[off, off+len). Returns the IP version (4 or 6), or 0 when the
 * frame is not IP or too short to hold its IP header (then `out` is untouched). Never reads outside
 * [off, off+len).
 */
export function locateFlowTuple(data: Uint8Array, off: number, len: number, out: Int32Array, link: FlowLinkType = 'ethernet'): number {
  const end = off + len;
  let p = off;
  let version: number;
  if (link === 'ethernet') {
    // Fast path, the same result as the walk below: untagged IPv4 without options (IHL 5), most traffic.
    if (len >= 34 && data[off + 14] === 0x45 && data[off + 12] === 0x08 && data[off + 13] === 0x00) {
      const proto = data[off + 23]!;
      out[TUPLE_VERSION] = 4;
      out[TUPLE_PROTOCOL] = proto;
      out[TUPLE_ADDR] = off + 26;
      const frag = ((data[off + 20]! & 0x3f) << 8) | data[off + 21]!;
      out[TUPLE_PORTS] = frag === 0 && len >= 38 && hasPorts(proto) ? off + 34 : -1;
      return 4;
    }
    if (len < ETHERNET_HEADER_LENGTH) return 0;
    let et = (data[off + 12]! << 8) | data[off + 13]!;
    p = off + ETHERNET_HEADER_LENGTH;
    // IEEE 802.1Q / 802.1ad tags: skip each 4-byte tag, the EtherType follows it.
    for (let tags = 0; isVlanTpid(et); tags++) {
      if (tags >= MAX_VLAN_TAGS || p + VLAN_TAG_LENGTH > end) return 0;
      et = (data[p + 2]! << 8) | data[p + 3]!;
      p += VLAN_TAG_LENGTH;
    }
    if (et === EtherType.Ipv4) version = 4;
    else if (et === EtherType.Ipv6) version = 6;
    else return 0;
  } else {
    if (len < 1) return 0;
    version = data[off]! >> 4;
  }
  if (version === 4) {
    if (p + 20 > end || data[p]! >> 4 !== 4) return 0;
    const ihl = (data[p]! & 0x0f) * 4;
    if (ihl < 20 || p + ihl > end) return 0;
    const proto = data[p + 9]!;
    out[TUPLE_VERSION] = 4;
    out[TUPLE_PROTOCOL] = proto;
    out[TUPLE_ADDR] = p + 12;
    // RFC 791: MF flag or a non-zero fragment offset marks a fragment.
    const frag = ((data[p + 6]! & 0x3f) << 8) | data[p + 7]!;
    const l4 = p + ihl;
    out[TUPLE_PORTS] = frag === 0 && hasPorts(proto) && l4 + 4 <= end ? l4 : -1;
    return 4;
  }
  if (version === 6) {
    if (p + IPV6_HEADER_LENGTH > end || data[p]! >> 4 !== 6) return 0;
    let nh = data[p + 6]!;
    let q = p + IPV6_HEADER_LENGTH;
    let fragment = false;
    // RFC 8200 §4: walk extension headers to the upper-layer protocol.
    for (let n = 0; isIpv6ExtensionHeader(nh); n++) {
      if (n >= IPV6_MAX_EXTENSIONS || q + 8 > end) {
        nh = IpProtocol.Ipv6NoNext; // too long a chain, or truncated: hash the 2-tuple
        break;
      }
      if (nh === 44) {
        // Fragment header (RFC 8200 §4.5): fixed 8 bytes; a fragment carries no usable ports.
        fragment = fragment || (((data[q + 2]! << 8) | data[q + 3]!) & 0xfff9) !== 0;
        nh = data[q]!;
        q += 8;
      } else if (nh === 51) {
        // AH (RFC 4302): length in 4-octet units minus 2.
        nh = data[q]!;
        q += (data[q + 1]! + 2) * 4;
      } else {
        nh = data[q]!;
        q += (data[q + 1]! + 1) * 8;
      }
    }
    out[TUPLE_VERSION] = 6;
    out[TUPLE_PROTOCOL] = nh;
    out[TUPLE_ADDR] = p + 8;
    out[TUPLE_PORTS] = !fragment && hasPorts(nh) && q + 4 <= end ? q : -1;
    return 6;
  }
  return 0;
}

/**
 * A located flow tuple in 32 bits, relative to the packet's offset, for the tuples lane: bits 0–1 kind (1
 * IPv4, 2 IPv6, 0 non-IP, 3 = not packed: parse again), 2–7 address offset, 8–15 protocol, 16–31 ports
 * offset + 1 (0: no ports). Offsets that do not fit (long IPv6 extension chains) are not packed.
 */
export function packTuple(version: number, tuple: Int32Array, off: number): number {
  if (version === 0) return TUPLE_NON_IP;
  const addr = tuple[TUPLE_ADDR]! - off;
  const ports = tuple[TUPLE_PORTS]! < 0 ? 0 : tuple[TUPLE_PORTS]! - off + 1;
  if (addr >= 64 || ports >= 0x10000) return TUPLE_UNPACKED;
  return ((ports << 16) | (tuple[TUPLE_PROTOCOL]! << 8) | (addr << 2) | (version === 4 ? 1 : 2)) >>> 0;
}

/**
 * Writes a packed tuple back into `tuple` (as locateFlowTuple would) and returns the IP version; returns 0
 * for a non-IP packet and for an unpacked one — the caller then runs locateFlowTuple, which settles both.
 */
export function unpackTuple(packed: number, tuple: Int32Array, off: number): number {
  const kind = packed & 3;
  if (kind === 0 || kind === 3) return 0;
  const version = kind === 1 ? 4 : 6;
  tuple[TUPLE_VERSION] = version;
  tuple[TUPLE_PROTOCOL] = (packed >>> 8) & 0xff;
  tuple[TUPLE_ADDR] = off + ((packed >>> 2) & 63);
  const ports = packed >>> 16;
  tuple[TUPLE_PORTS] = ports === 0 ? -1 : off + ports - 1;
  return version;
}
