// GSO and TSO: split a TCP segment larger than the MSS (or a UDP payload larger than gso_size) into
// wire-size packets with advancing sequence numbers, incrementing IP IDs and correct checksums.
import { activeNative } from '../backend.js';
import { PacketBatch } from '../batch.js';
import { NetworkError, fromNative } from '../errors.js';
import { BatchSink } from './batch-sink.js';
import { ipv6PseudoDst, ipv6Upper, l2Length } from './headers.js';
import {
  GSO_CFG_FIXED_ID,
  GSO_CFG_PASSTHROUGH,
  GSO_CFG_UDP,
  GSO_ERR_UNSUPPORTED,
  GSO_OK,
  gsoFrameTs,
  type GsoError,
} from './gso-engine.js';
import {
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  type VirtioNetHdr,
} from './virtio.js';

/** Options of segmentation. */
export interface GsoOptions {
  /** Also split UDP datagrams into gso_size pieces (UDP GSO / UDP_SEGMENT). Default true. */
  udp?: boolean;
  /** Keep the IPv4 ID of the original on every segment (SKB_GSO_TCP_FIXEDID) instead of incrementing it. */
  fixedId?: boolean;
}

/** Options of gsoBatch. */
export interface GsoBatchOptions extends GsoOptions {
  /** First input packet to process (to resume after a full output). Default 0. */
  start?: number;
}

/** What a batch call did. */
export interface GsoBatchResult {
  /** Index of the first input packet not processed: input.length unless the output filled up. */
  next: number;
  produced: number;
}

function checkMss(mss: number): void {
  if (!Number.isInteger(mss) || mss < 1 || mss > 65535) throw new NetworkError('INVALID_ARGUMENT', `mss must be an integer in 1..65535, got ${mss}`, { field: 'mss', actual: mss });
}

function cfgOf(o: GsoOptions, passthrough = false): number {
  return (o.udp === false ? 0 : GSO_CFG_UDP) | (o.fixedId ? GSO_CFG_FIXED_ID : 0) | (passthrough ? GSO_CFG_PASSTHROUGH : 0);
}

function gsoError(code: number, reason: string, index: number): NetworkError {
  return new NetworkError(code === GSO_ERR_UNSUPPORTED ? 'UNSUPPORTED' : 'INVALID_PACKET', `cannot segment packet ${index}: ${reason}`, { index, reason });
}

const nativeReasons = ['', 'malformed headers', 'unsupported (IP fragment or IPv6 extension headers)'];

function runBatch(input: PacketBatch, output: PacketBatch, mss: number, cfg: number, start: number): GsoBatchResult {
  const n = input.length;
  if (!Number.isInteger(start) || start < 0 || start > n) throw new NetworkError('OUT_OF_BOUNDS', `start ${start} outside 0..${n}`, { field: 'start', actual: start });
  const before = output.length;
  const native = activeNative();
  if (native) {
    const res = new Float64Array(4);
    const next = fromNative(() =>
      native.gsoBatch(input.data, input.offsets, input.lengths, start, n, mss, cfg, output.data, output.offsets, output.lengths, before, output.bytesUsed, output.capacity, output.align, res),
    );
    output.setFill(res[0]!, res[1]!);
    if (res[2]! !== GSO_OK) throw gsoError(res[2]!, nativeReasons[res[2]!] ?? 'error', next);
    return { next, produced: res[0]! - before };
  }
  const sink = new BatchSink(output, null);
  const err: GsoError = { code: 0, reason: '' };
  let i = start;
  try {
    for (; i < n; i++) {
      const off = input.offsets[i]!;
      const len = input.lengths[i]!;
      if (off + len > input.data.length) throw new NetworkError('OUT_OF_BOUNDS', `packet ${i} lies outside the batch data`, { index: i, offset: off });
      const r = gsoFrameTs(input.data, off, len, mss, cfg, sink, err);
      if (r === -1) break;
      if (r !== GSO_OK) throw gsoError(r, err.reason, i);
    }
  } finally {
    // What was written before an error stays written.
    sink.commit();
  }
  return { next: i, produced: sink.count - before };
}

/**
 * Segments every packet of `input` into `output` by `mss` (one native call when the native backend is
 * active). Packets that need no split are copied unchanged. A malformed or unsupported packet throws
 * INVALID_PACKET / UNSUPPORTED with its index after the packets before it were written.
 */
export function gsoBatch(input: PacketBatch, output: PacketBatch, mss: number, options: GsoBatchOptions = {}): GsoBatchResult {
  checkMss(mss);
  return runBatch(input, output, mss, cfgOf(options), options.start ?? 0);
}

function segmentOne(frame: Uint8Array, mss: number, cfg: number): Uint8Array[] {
  if (!(frame instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', 'segment() takes a Uint8Array', { field: 'frame' });
  const segs = Math.max(1, Math.ceil(frame.length / mss) + 1);
  const cap = Math.min(segs, frame.length + 1);
  const input = PacketBatch.fromArray([frame]);
  // Room for every segment with 138 bytes of headers (18 + 60 + 60) at first; deeper tag stacks or IPv6
  // extension headers can need more, and then the output is grown until the frame's segments fit.
  for (let per = 138 + 8; ; per *= 2) {
    const output = new PacketBatch({ capacity: cap, byteCapacity: frame.length + cap * per });
    if (runBatch(input, output, mss, cfg, 0).next === 1) return output.toArray();
  }
}

/** Generic segmentation offload: `new GsoContext(1448).segment(bigFrame)` → wire-size frames. */
export class GsoContext {
  readonly mss: number;
  protected readonly options: GsoOptions;

  constructor(mss: number, options: GsoOptions = {}) {
    checkMss(mss);
    this.mss = mss;
    this.options = { ...options };
  }

  /** The frames `frame` becomes on the wire (itself, copied, when it needs no split). */
  segment(frame: Uint8Array): Uint8Array[] {
    return segmentOne(frame, this.mss, cfgOf(this.options));
  }

  /** Segments a whole batch into `output`; see gsoBatch. */
  segmentBatch(input: PacketBatch, output: PacketBatch, start = 0): GsoBatchResult {
    return runBatch(input, output, this.mss, cfgOf(this.options), start);
  }
}

/**
 * TCP segmentation offload: the GSO engine behind an on/off switch, off until enable() (as in the guide).
 * Disabled, frames pass through whole, as if the NIC would split them.
 */
export class TsoContext extends GsoContext {
  private on = false;

  get enabled(): boolean {
    return this.on;
  }

  enable(): void {
    this.on = true;
  }

  disable(): void {
    this.on = false;
  }

  override segment(frame: Uint8Array): Uint8Array[] {
    return segmentOne(frame, this.mss, cfgOf(this.options, !this.on));
  }

  override segmentBatch(input: PacketBatch, output: PacketBatch, start = 0): GsoBatchResult {
    return runBatch(input, output, this.mss, cfgOf(this.options, !this.on), start);
  }
}

/**
 * The virtio_net_hdr to hand a large frame to a kernel (TAP with IFF_VNET_HDR) for it to segment by `mss`:
 * gso_type from the IP version and transport, NEEDS_CSUM with csum_start/csum_offset at the transport
 * checksum. With `partial` (default true) the frame's checksum field is rewritten to the pseudo-header sum,
 * which is what CHECKSUM_PARTIAL means (Linux tcp_v4_send_check). Frames that need no split get GSO_NONE.
 */
export function gsoVirtioHeader(frame: Uint8Array, mss: number, partial = true): VirtioNetHdr {
  checkMss(mss);
  const d = frame;
  const bad = (why: string) => new NetworkError('INVALID_PACKET', `gsoVirtioHeader: ${why}`, { reason: why });
  if (d.length < 14) throw bad('frame shorter than an Ethernet header');
  const l2 = l2Length(d, 0, d.length);
  if (l2 < 0) throw bad('VLAN tag stack truncated or deeper than 8 tags');
  const et = (d[l2 - 2]! << 8) | d[l2 - 1]!;
  let l4: number;
  let l3end: number;
  let proto: number;
  let addrSum = 0;
  const v4 = et === 0x0800;
  if (v4) {
    if (d.length < l2 + 20) throw bad('IPv4 header truncated');
    l4 = l2 + (d[l2]! & 15) * 4;
    l3end = l2 + ((d[l2 + 2]! << 8) | d[l2 + 3]!);
    proto = d[l2 + 9]!;
    for (let k = 12; k < 20; k += 2) addrSum += (d[l2 + k]! << 8) | d[l2 + k + 1]!;
  } else if (et === 0x86dd) {
    if (d.length < l2 + 40) throw bad('IPv6 header truncated');
    l3end = l2 + 40 + ((d[l2 + 4]! << 8) | d[l2 + 5]!);
    if (l3end > d.length) throw bad('lengths disagree with the frame');
    // csum_start lies behind hop-by-hop, routing and destination options, as ipv6_gso_segment expects.
    const u = ipv6Upper(d, 0, l2, l3end);
    if (u < 0) throw bad('IPv6 extension header runs past the payload');
    proto = u & 0xff;
    l4 = u >>> 8;
    const dst = ipv6PseudoDst(d, 0, l2, l4);
    if (dst < 0) throw new NetworkError('UNSUPPORTED', 'gsoVirtioHeader: routing header with segments left of a type whose final destination is unknown', { reason: 'routing type' });
    for (let k = 8; k < 24; k += 2) addrSum += (d[l2 + k]! << 8) | d[l2 + k + 1]!;
    for (let k = 0; k < 16; k += 2) addrSum += (d[dst + k]! << 8) | d[dst + k + 1]!;
  } else {
    throw bad('not IPv4 or IPv6');
  }
  if (proto !== 6 && proto !== 17) throw bad(`transport ${proto} is neither TCP nor UDP`);
  if (l3end > d.length || l4 + (proto === 6 ? 20 : 8) > l3end) throw bad('lengths disagree with the frame');
  const hdrLen = proto === 6 ? l4 + ((d[l4 + 12]! >> 4) * 4) : l4 + 8;
  if (hdrLen > l3end) throw bad('TCP data offset outside the segment');
  const payload = l3end - hdrLen;
  const csumOffset = proto === 6 ? 16 : 6;
  let gsoType = VIRTIO_NET_HDR_GSO_NONE;
  if (payload > mss) {
    gsoType = proto === 17 ? VIRTIO_NET_HDR_GSO_UDP_L4 : v4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
    if (proto === 6 && d[l4 + 13]! & 0x80) gsoType |= VIRTIO_NET_HDR_GSO_ECN;
  }
  if (partial) {
    const l4len = l3end - l4;
    let s = addrSum + proto + (l4len >>> 16) + (l4len & 0xffff);
    s = (s & 0xffff) + (s >>> 16);
    s = (s & 0xffff) + (s >>> 16);
    d[l4 + csumOffset] = s >>> 8;
    d[l4 + csumOffset + 1] = s & 0xff;
  }
  return {
    flags: VIRTIO_NET_HDR_F_NEEDS_CSUM,
    gsoType,
    gsoSize: gsoType === VIRTIO_NET_HDR_GSO_NONE ? 0 : mss,
    hdrLen,
    csumStart: l4,
    csumOffset,
    segments: gsoType === VIRTIO_NET_HDR_GSO_NONE ? 1 : Math.ceil(payload / mss),
  };
}
