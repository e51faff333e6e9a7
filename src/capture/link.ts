// Where the network layer starts in a captured frame, for each link type a capture may carry
// (tcpdump.org/linktypes.html). Returns the EtherType of what follows so one code path handles all.
import { EthernetView } from '../wire/ethernet.js';

/** Result of locating the network layer: its offset in the frame and its EtherType (0 when unknown). */
export interface LinkLayerResult {
  offset: number;
  etherType: number;
  /** Bytes of link-layer header (Ethernet + tags, SLL, loopback AF). */
  headerLength: number;
}

// BSD AF_ values for IPv6 differ per OS (Linux 10, NetBSD/OpenBSD 24, FreeBSD 28, Darwin 30): accept all.
function afToEtherType(af: number): number {
  if (af === 2) return 0x0800;
  if (af === 10 || af === 24 || af === 28 || af === 30) return 0x86dd;
  return 0;
}

/**
 * Fills `out` with the network-layer offset and EtherType of `data` (a frame of `linktype`). Returns false
 * when the link header is cut short or the link type is not one we decode; never throws.
 */
export function locateNetworkLayer(data: Uint8Array, linktype: number, out: LinkLayerResult): boolean {
  const n = data.length;
  switch (linktype) {
    case 1: { // ETHERNET
      // Untagged frames (the common case) need no walk; tagged ones go through EthernetView.check.
      if (n >= 14) {
        const t0 = (data[12]! << 8) | data[13]!;
        if (t0 !== 0x8100 && t0 !== 0x88a8 && t0 !== 0x9100) {
          out.offset = 14;
          out.headerLength = 14;
          out.etherType = t0 >= 0x0600 ? t0 : 0;
          return true;
        }
      }
      let hl: number;
      try {
        hl = EthernetView.check(data, 0, n);
      } catch {
        return false;
      }
      const t = (data[hl - 2]! << 8) | data[hl - 1]!;
      out.offset = hl;
      out.headerLength = hl;
      // IEEE 802.3 §3.2.6: values ≤ 1500 are a length (802.2 LLC follows), not a type.
      out.etherType = t >= 0x0600 ? t : 0;
      return true;
    }
    case 101: // RAW
    case 228: // IPV4
    case 229: { // IPV6
      if (n < 1) return false;
      const v = data[0]! >>> 4;
      out.offset = 0;
      out.headerLength = 0;
      out.etherType = v === 4 ? 0x0800 : v === 6 ? 0x86dd : 0;
      if (linktype === 228 /* IPV4 */ && v !== 4) out.etherType = 0;
      if (linktype === 229 /* IPV6 */ && v !== 6) out.etherType = 0;
      return true;
    }
    case 113: { // LINUX_SLL
      // packet type(2) ARPHRD(2) addr len(2) addr(8) protocol(2) — man 7 packet / pcap-linktype(7)
      if (n < 16) return false;
      const t = (data[14]! << 8) | data[15]!;
      out.offset = 16;
      out.headerLength = 16;
      out.etherType = t >= 0x0600 ? t : 0;
      return true;
    }
    case 276: { // LINUX_SLL2
      // protocol(2) reserved(2) ifindex(4) ARPHRD(2) packet type(1) addr len(1) addr(8)
      if (n < 20) return false;
      const t = (data[0]! << 8) | data[1]!;
      out.offset = 20;
      out.headerLength = 20;
      out.etherType = t >= 0x0600 ? t : 0;
      return true;
    }
    case 0: // NULL
    case 108: { // LOOP
      if (n < 4) return false;
      // NULL is in the writer's byte order, LOOP in network order; a small value in either order is the AF.
      const be = ((data[0]! << 24) | (data[1]! << 16) | (data[2]! << 8) | data[3]!) >>> 0;
      const le = ((data[3]! << 24) | (data[2]! << 16) | (data[1]! << 8) | data[0]!) >>> 0;
      const af = linktype === 108 /* LOOP */ ? be : le < 256 ? le : be;
      out.offset = 4;
      out.headerLength = 4;
      out.etherType = afToEtherType(af);
      return true;
    }
    default:
      return false;
  }
}
