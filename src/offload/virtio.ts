// The GSO metadata a kernel expects beside an aggregated packet: struct virtio_net_hdr (virtio 1.2 §5.1.6,
// include/uapi/linux/virtio_net.h), as a TAP device with IFF_VNET_HDR reads and writes it.
import { NetworkError } from '../errors.js';

/** virtio_net_hdr.flags: the checksum from csum_start to the end still has to be computed (CHECKSUM_PARTIAL). */
export const VIRTIO_NET_HDR_F_NEEDS_CSUM = 1;
/** virtio_net_hdr.flags: the checksums were verified (CHECKSUM_UNNECESSARY). */
export const VIRTIO_NET_HDR_F_DATA_VALID = 2;
/** virtio_net_hdr.gso_type values. */
export const VIRTIO_NET_HDR_GSO_NONE = 0;
export const VIRTIO_NET_HDR_GSO_TCPV4 = 1;
export const VIRTIO_NET_HDR_GSO_UDP = 3;
export const VIRTIO_NET_HDR_GSO_TCPV6 = 4;
export const VIRTIO_NET_HDR_GSO_UDP_L4 = 5;
/** Bit OR-ed into gso_type when the first segment carries CWR (SKB_GSO_TCP_ECN). */
export const VIRTIO_NET_HDR_GSO_ECN = 0x80;
/** Size of struct virtio_net_hdr without / with num_buffers (VIRTIO_NET_F_MRG_RXBUF). */
export const VIRTIO_NET_HDR_LENGTH = 10;
export const VIRTIO_NET_HDR_MRG_LENGTH = 12;

/**
 * The fields of struct virtio_net_hdr plus the segment count (gso_segs, which the kernel keeps in
 * skb_shinfo and does not carry on the wire). Offsets count from the start of the Ethernet frame.
 */
export interface VirtioNetHdr {
  flags: number;
  gsoType: number;
  /** Payload bytes per segment (MSS for TCP, datagram payload for UDP); 0 when gsoType is NONE. */
  gsoSize: number;
  /** Bytes of headers (Ethernet + IP + TCP/UDP) each segment repeats. */
  hdrLen: number;
  /** Where the checksummed region starts: the TCP/UDP header. */
  csumStart: number;
  /** Where the checksum field lies within it: 16 for TCP, 6 for UDP. */
  csumOffset: number;
  /** How many wire segments the packet stands for (1 when not aggregated). */
  segments: number;
}

/** Ints per packet in a GRO/GSO metadata lane (see {@link offloadMetaAt}). */
export const OFFLOAD_META_STRIDE = 8;

/** Reads entry `index` of a metadata lane written by the batch paths. */
export function offloadMetaAt(lane: Int32Array, index: number): VirtioNetHdr {
  const b = index * OFFLOAD_META_STRIDE;
  if (!(index >= 0) || b + OFFLOAD_META_STRIDE > lane.length) {
    throw new NetworkError('OUT_OF_BOUNDS', `metadata index ${index} outside a lane of ${lane.length / OFFLOAD_META_STRIDE} entries`, { field: 'index', actual: index });
  }
  return {
    flags: lane[b]!,
    gsoType: lane[b + 1]!,
    gsoSize: lane[b + 2]!,
    segments: lane[b + 3]!,
    hdrLen: lane[b + 4]!,
    csumStart: lane[b + 5]!,
    csumOffset: lane[b + 6]!,
  };
}

/**
 * Writes the little-endian struct virtio_net_hdr (10 bytes, or 12 with num_buffers = 1 when `mergeable`)
 * into out at offset; returns the bytes written.
 */
export function encodeVirtioNetHdr(hdr: VirtioNetHdr, out: Uint8Array = new Uint8Array(VIRTIO_NET_HDR_MRG_LENGTH), offset = 0, mergeable = false): number {
  const n = mergeable ? VIRTIO_NET_HDR_MRG_LENGTH : VIRTIO_NET_HDR_LENGTH;
  if (!(offset >= 0) || offset + n > out.length) {
    throw new NetworkError('OUT_OF_BOUNDS', `virtio_net_hdr needs ${n} bytes at ${offset}, buffer has ${out.length}`, { offset, expected: n });
  }
  const v = new DataView(out.buffer, out.byteOffset + offset, n);
  v.setUint8(0, hdr.flags);
  v.setUint8(1, hdr.gsoType);
  v.setUint16(2, hdr.hdrLen, true);
  v.setUint16(4, hdr.gsoSize, true);
  v.setUint16(6, hdr.csumStart, true);
  v.setUint16(8, hdr.csumOffset, true);
  if (mergeable) v.setUint16(10, 1, true);
  return n;
}

/** Parses a little-endian struct virtio_net_hdr (segments is unknown on the wire and reported as 0). */
export function decodeVirtioNetHdr(bytes: Uint8Array, offset = 0): VirtioNetHdr {
  if (!(offset >= 0) || offset + VIRTIO_NET_HDR_LENGTH > bytes.length) {
    throw new NetworkError('TRUNCATED', `virtio_net_hdr needs ${VIRTIO_NET_HDR_LENGTH} bytes at ${offset}`, { offset, expected: VIRTIO_NET_HDR_LENGTH, actual: bytes.length - offset });
  }
  const v = new DataView(bytes.buffer, bytes.byteOffset + offset, VIRTIO_NET_HDR_LENGTH);
  return {
    flags: v.getUint8(0),
    gsoType: v.getUint8(1),
    hdrLen: v.getUint16(2, true),
    gsoSize: v.getUint16(4, true),
    csumStart: v.getUint16(6, true),
    csumOffset: v.getUint16(8, true),
    segments: 0,
  };
}
