// The GRO engine in TypeScript: the twin of native/offload.cc (groBatch). Both operate on the same state
// (one Int32Array of counters, hash buckets, free list and per-flow records, a Float64Array of arrival
// times and an arena holding each held flow's frame), so the backends can be switched between batches and
// produce the same bytes. Rules follow Linux: net/ipv4/tcp_offload.c tcp_gro_receive(),
// net/ipv4/af_inet.c inet_gro_receive(), net/ipv6/ip6_offload.c ipv6_gro_receive(),
// net/ipv4/udp_offload.c udp_gro_receive_segment().
import { onesComplementSum } from '../wire/checksum.js';
import { MAX_VLAN_TAGS } from '../wire/ethernet.js';
import { ipv6PseudoDst, ipv6Upper, l2Length } from './headers.js';
import {
  OFFLOAD_META_STRIDE,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP_L4,
} from './virtio.js';

// ---- state layout (mirrored in native/offload.cc; change both together) ----
export const GRO_MAGIC = 0x47524f31; // 'GRO1'
export const C_MAGIC = 0;
export const C_MAX_FLOWS = 1;
export const C_NBUCKETS = 2;
export const C_SLOT_SIZE = 3;
export const C_ACTIVE = 4;
export const C_LRU_HEAD = 5;
export const C_LRU_TAIL = 6;
export const C_FREE_TOP = 7;
export const C_CFG = 8;
export const C_STAT_MERGED = 9;
export const C_STAT_FLUSHED = 10;
export const C_STAT_EVICTED = 11;
export const C_STAT_PASSED = 12;
export const CTRL_INTS = 16;

export const CFG_TCP = 1;
export const CFG_UDP = 2;
export const CFG_VERIFY = 4;
export const CFG_PASSTHROUGH = 8;

// Per-flow record fields.
const M_USED = 0;
const M_HASH = 1;
const M_L2LEN = 2;
const M_IPV = 3;
const M_L4OFF = 4;
const M_PROTO = 5;
const M_HDRLEN = 6;
const M_FRAMELEN = 7;
const M_GSOSIZE = 8;
const M_COUNT = 9;
const M_NEXTSEQ = 10;
const M_IDMODE = 11;
const M_FIRSTID = 12;
const M_DSUM = 13;
const M_CHAIN = 14;
const M_PREV = 15;
const M_NEXT = 16;
const M_CSUMZERO = 17;
const M_ADDRSUM = 18;
export const META_INTS = 20;

/** Bytes of arena per flow: the largest merged frame (46-byte L2 header with 8 tags + 65535-byte IP datagram), rounded. */
export const GRO_SLOT_SIZE = 65600;
/** Linux's UDP_GRO_CNT_MAX: a UDP aggregate never exceeds this many datagrams. */
export const UDP_GRO_MAX_SEGMENTS = 64;

const TCP_FIN = 0x01;
const TCP_SYN = 0x02;
const TCP_RST = 0x04;
const TCP_PSH = 0x08;
const TCP_URG = 0x20;
const TCP_CWR = 0x80;
// tcp_gro_receive: any flag difference except CWR/FIN/PSH ends the merge; these flags on a segment flush it.
const TCP_FLAGS_NOCMP = TCP_CWR | TCP_FIN | TCP_PSH;
const TCP_FLAGS_FINAL = TCP_URG | TCP_PSH | TCP_RST | TCP_SYN | TCP_FIN;

// Which header bytes of a segment must equal the held flow's for fast() to merge it (0 bits: checked field
// by field, or free to differ: lengths, IP ID, checksums, TCP sequence number, urgent pointer, CWR/FIN/PSH),
// as big-endian words, one table per (VLAN tags, IP version, protocol); native/offload.cc HeaderMasks.
const MASK_WORDS = 40;
const LITTLE_ENDIAN = new Uint8Array(Uint32Array.of(1).buffer)[0] === 1;
const HEADER_MASKS = new Int32Array((MAX_VLAN_TAGS + 1) * 4 * MASK_WORDS);
/** The same masks as little-endian words, for Int32Array views of the bytes. */
const HEADER_MASKS_LE = new Int32Array(HEADER_MASKS.length);
((out: Int32Array, le: Int32Array): void => {
  const k = new Uint8Array(MASK_WORDS * 4);
  for (let v = 0; v <= MAX_VLAN_TAGS; v++) {
    for (let i = 0; i < 2; i++) {
      for (let t = 0; t < 2; t++) {
        k.fill(0xff);
        const l2 = 14 + 4 * v;
        let l4: number;
        if (i === 0) {
          for (const o of [2, 3, 4, 5, 10, 11]) k[l2 + o] = 0; // IPv4 total length, ID, checksum
          l4 = l2 + 20;
        } else {
          k[l2 + 4] = k[l2 + 5] = 0; // IPv6 payload length
          l4 = l2 + 40;
        }
        if (t === 0) {
          for (const o of [4, 5, 6, 7, 16, 17, 18, 19]) k[l4 + o] = 0; // TCP sequence, checksum, urgent pointer
          k[l4 + 13] = ~TCP_FLAGS_NOCMP & 0xff;
        } else {
          for (const o of [4, 5, 6, 7]) k[l4 + o] = 0; // UDP length and checksum
        }
        const base = ((l2 - 14) | (i << 1) | t) * MASK_WORDS;
        for (let w = 0; w < MASK_WORDS; w++) {
          out[base + w] = (k[4 * w]! << 24) | (k[4 * w + 1]! << 16) | (k[4 * w + 2]! << 8) | k[4 * w + 3]!;
          le[base + w] = k[4 * w]! | (k[4 * w + 1]! << 8) | (k[4 * w + 2]! << 16) | (k[4 * w + 3]! << 24);
        }
      }
    }
  }
})(HEADER_MASKS, HEADER_MASKS_LE);

/** Where the buckets, the free stack and the flow records start inside the state array. */
export function groLayout(maxFlows: number, nbuckets: number) {
  const buckets = CTRL_INTS;
  const free = buckets + nbuckets;
  const meta = free + maxFlows;
  return { buckets, free, meta, total: meta + maxFlows * META_INTS };
}

/** A fresh, empty state for maxFlows flows. */
export function createGroState(maxFlows: number, cfg: number): { state: Int32Array; times: Float64Array; arena: Uint8Array } {
  let nb = 1;
  while (nb < maxFlows * 2) nb <<= 1;
  const l = groLayout(maxFlows, nb);
  const state = new Int32Array(l.total);
  state[C_MAGIC] = GRO_MAGIC;
  state[C_MAX_FLOWS] = maxFlows;
  state[C_NBUCKETS] = nb;
  state[C_SLOT_SIZE] = GRO_SLOT_SIZE;
  state[C_LRU_HEAD] = -1;
  state[C_LRU_TAIL] = -1;
  state[C_CFG] = cfg;
  state.fill(-1, l.buckets, l.buckets + nb);
  // Free stack: slot 0 on top so the first flows use the start of the arena.
  for (let i = 0; i < maxFlows; i++) state[l.free + i] = maxFlows - 1 - i;
  state[C_FREE_TOP] = maxFlows;
  return { state, times: new Float64Array(maxFlows), arena: new Uint8Array(maxFlows * GRO_SLOT_SIZE) };
}

/** Where GRO output goes: an output PacketBatch (batch path) or an array of frames (single-frame API). */
export interface GroSink {
  /** Whether `packets` more packets totalling `bytes` fit (the batch path stops before a packet otherwise). */
  fits(packets: number, bytes: number): boolean;
  emit(src: Uint8Array, off: number, len: number, flags: number, gsoType: number, gsoSize: number, segments: number, hdrLen: number, csumStart: number, csumOffset: number): void;
}

function fold(s: number): number {
  s = (s & 0xffff) + (s >>> 16);
  s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** Big-endian word sum over a DataView, four bytes at a time (headers are multiples of 4 long). */
function sumDv(v: DataView, p: number, len: number): number {
  let s = 0;
  let k = 0;
  for (; k + 4 <= len; k += 4) {
    const w = v.getUint32(p + k);
    s += (w >>> 16) + (w & 0xffff);
  }
  if (k + 2 <= len) {
    s += v.getUint16(p + k);
    k += 2;
  }
  if (k < len) s += v.getUint8(p + k) << 8;
  return s;
}

function eqDv(a: DataView, pa: number, b: DataView, pb: number, len: number): boolean {
  let k = 0;
  for (; k + 4 <= len; k += 4) if (a.getUint32(pa + k) !== b.getUint32(pb + k)) return false;
  for (; k < len; k++) if (a.getUint8(pa + k) !== b.getUint8(pb + k)) return false;
  return true;
}

/** Copies len bytes four at a time: cheaper than subarray() + set() for small payloads. */
function copyDv(src: DataView, ps: number, dst: DataView, pd: number, len: number): void {
  let k = 0;
  for (; k + 4 <= len; k += 4) dst.setUint32(pd + k, src.getUint32(ps + k));
  for (; k < len; k++) dst.setUint8(pd + k, src.getUint8(ps + k));
}

function swap16(x: number): number {
  return ((x & 0xff) << 8) | (x >>> 8);
}

function hashMix(h: number, w: number): number {
  h = Math.imul(h ^ w, 0x85ebca6b);
  return h ^ (h >>> 13);
}

function be16(d: Uint8Array, p: number): number {
  return (d[p]! << 8) | d[p + 1]!;
}


/**
 * The engine over one state. `process` runs packets [start, start+count) of a batch-shaped input through
 * the Linux rules; `flushAll` / `flushOlder` drain held flows. All output goes to a sink.
 */
export class GroEngineTs {
  /** Whether process() tries fast() first (tests turn it off to check it against the full rules of one()). */
  static fastPath = true;
  readonly state: Int32Array;
  readonly times: Float64Array;
  readonly arena: Uint8Array;
  private readonly lay: ReturnType<typeof groLayout>;
  private readonly maxFlows: number;
  private readonly av: DataView;
  private dv: DataView = new DataView(new ArrayBuffer(0));
  private dvOf: Uint8Array | null = null;
  /** Word views for aligned compares and copies (the arena's always; the input's when 4-aligned on a little-endian host). */
  private d32: Int32Array | null = null;
  private readonly a32: Int32Array;

  constructor(state: Int32Array, times: Float64Array, arena: Uint8Array) {
    this.state = state;
    this.times = times;
    this.arena = arena;
    this.maxFlows = state[C_MAX_FLOWS]!;
    this.lay = groLayout(this.maxFlows, state[C_NBUCKETS]!);
    this.av = new DataView(arena.buffer, arena.byteOffset, arena.byteLength);
    this.a32 = new Int32Array(arena.buffer, arena.byteOffset, arena.byteLength >> 2);
  }

  /** Processes input packets until done or the sink is full; returns the index of the first unprocessed one. */
  process(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, start: number, end: number, now: number, sink: GroSink): number {
    const st = this.state;
    const cfg = st[C_CFG]!;
    if (data !== this.dvOf) {
      this.dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
      this.d32 = LITTLE_ENDIAN && (data.byteOffset & 3) === 0 ? new Int32Array(data.buffer, data.byteOffset, data.byteLength >> 2) : null;
      this.dvOf = data;
    }
    for (let i = start; i < end; i++) {
      const off = offsets[i]!;
      const len = lengths[i]!;
      if (cfg & CFG_PASSTHROUGH) {
        if (!sink.fits(1, len)) return i;
        sink.emit(data, off, len, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 1, 0, 0, 0);
        st[C_STAT_PASSED]!++;
        continue;
      }
      if (!(cfg & CFG_VERIFY) && GroEngineTs.fastPath && this.fast(data, off, len, sink, cfg)) continue;
      if (!this.one(data, off, len, now, sink, cfg)) return i;
    }
    return end;
  }

  /** One packet; false when the sink cannot take what it would produce (nothing changed then). */
  private one(d: Uint8Array, off: number, len: number, now: number, sink: GroSink, cfg: number): boolean {
    const st = this.state;
    const A = this.arena;
    const dv = this.dv;
    const av = this.av;
    // ---- parse enough to find the flow (Ethernet, its VLAN tag stack, IPv4/IPv6, ports) ----
    const l2 = l2Length(d, off, len);
    if (l2 < 0) return this.pass(d, off, len, sink, -1);
    const et = be16(d, off + l2 - 2);
    const ip = off + l2;
    let ipv: number;
    let proto: number;
    let l4: number;
    let mergeable = true;
    if (et === 0x0800) {
      if (len < l2 + 20 || d[ip]! >> 4 !== 4) return this.pass(d, off, len, sink, -1);
      const ihl = (d[ip]! & 15) * 4;
      proto = d[ip + 9]!;
      l4 = l2 + ihl;
      // A non-first fragment has no ports: it cannot even name its flow.
      if ((be16(d, ip + 6) & 0x1fff) !== 0 || ihl < 20 || len < l4 + 4) return this.pass(d, off, len, sink, -1);
      // inet_gro_receive: only 0x45 headers (no options), no fragments and no reserved bit (frag_off & ~DF),
      // total length == what arrived (padding or truncation are not merged), and a correct header checksum.
      if (d[ip] !== 0x45 || (be16(d, ip + 6) & 0xbfff) !== 0 || be16(d, ip + 2) !== len - l2 || fold(sumDv(dv, ip, 20)) !== 0xffff) mergeable = false;
      ipv = 4;
    } else if (et === 0x86dd) {
      if (len < l2 + 44 || d[ip]! >> 4 !== 6) return this.pass(d, off, len, sink, -1);
      // ipv6_gro_receive skips hop-by-hop, routing and destination-options headers (ipv6_gso_pull_exthdrs)
      // and merges behind them when they are byte-identical (they are part of the flow, compared in
      // lookup); a fragment header, AH or ESP ends the walk and the packet passes as it came.
      const u = ipv6Upper(d, off, l2, len);
      if (u < 0) return this.pass(d, off, len, sink, -1);
      proto = u & 0xff;
      l4 = u >>> 8;
      if ((proto !== 6 && proto !== 17) || len < l4 + 4) return this.pass(d, off, len, sink, -1);
      if (be16(d, ip + 4) !== len - l2 - 40) mergeable = false;
      // A routing header with segments left: the sender's checksum covers the final destination (RFC 8200
      // §8.1), so tcp6_gro_receive's validation against this header's destination fails and Linux flushes it.
      if (l4 !== l2 + 40 && ipv6PseudoDst(d, off, l2, l4) !== l2 + 24) mergeable = false;
      ipv = 6;
    } else {
      return this.pass(d, off, len, sink, -1);
    }
    if (proto === 6) {
      if (!(cfg & CFG_TCP)) return this.pass(d, off, len, sink, -1);
    } else if (proto === 17) {
      if (!(cfg & CFG_UDP)) return this.pass(d, off, len, sink, -1);
    } else {
      return this.pass(d, off, len, sink, -1);
    }
    // ---- flow lookup: hash of addresses, protocol, ports; then an exact compare against the held header ----
    let h = hashMix(0x9e3779b9, proto | (ipv << 8));
    let addrSum = 0;
    if (ipv === 4) {
      const sa = dv.getUint32(ip + 12);
      const da = dv.getUint32(ip + 16);
      h = hashMix(h, sa);
      h = hashMix(h, da);
      addrSum = (sa >>> 16) + (sa & 0xffff) + (da >>> 16) + (da & 0xffff);
    } else {
      for (let k = 8; k < 40; k += 4) {
        const w = dv.getUint32(ip + k);
        h = hashMix(h, w);
        addrSum += (w >>> 16) + (w & 0xffff);
      }
    }
    h = hashMix(h, dv.getUint32(off + l4));
    h = (h ^ (h >>> 16)) | 0;
    const slot = this.lookup(d, off, l2, ipv, proto, l4, h);
    const lay = this.lay;
    const mb = slot >= 0 ? lay.meta + slot * META_INTS : 0;
    const base = slot * GRO_SLOT_SIZE;

    // ---- room check before anything changes: at most two packets leave per input ----
    let need = len;
    if (slot >= 0) need += st[mb + M_FRAMELEN]!;
    else if (st[C_ACTIVE]! >= this.maxFlows) need += st[lay.meta + st[C_LRU_HEAD]! * META_INTS + M_FRAMELEN]!;
    if (!sink.fits(2, need)) return false;

    // ---- transport rules ----
    let payload: number;
    let hdrLen: number;
    let flags = 0;
    let seq = 0;
    let csum: number;
    let l4len: number;
    if (proto === 6) {
      if (len < l4 + 20) return this.pass(d, off, len, sink, slot);
      const thl = (d[off + l4 + 12]! >> 4) * 4;
      if (thl < 20 || len < l4 + thl) return this.pass(d, off, len, sink, slot);
      hdrLen = l4 + thl;
      payload = len - hdrLen;
      flags = d[off + l4 + 13]!;
      seq = dv.getUint32(off + l4 + 4);
      csum = be16(d, off + l4 + 16);
      l4len = len - l4;
      // tcp_gro_receive: a segment without payload is never held and flushes its flow (len - 1 >= mss).
      if (payload === 0) mergeable = false;
    } else {
      const ulen = be16(d, off + l4 + 4);
      hdrLen = l4 + 8;
      payload = len - hdrLen;
      csum = be16(d, off + l4 + 6);
      l4len = len - l4;
      // udp_gro_receive_segment: "do not deal with padded or malicious packets"; IPv6 forbids a zero checksum.
      if (len < l4 + 8 || ulen !== len - l4 || payload <= 0 || (ipv === 6 && csum === 0)) mergeable = false;
    }
    const pseudo = addrSum + proto + (l4len >>> 16) + (l4len & 0xffff);
    if (mergeable && cfg & CFG_VERIFY && !(proto === 17 && csum === 0)) {
      // tcp4_gro_receive / udp_gro_receive validate the checksum; a bad one is delivered unmerged.
      if (fold(pseudo + onesComplementSum(d, 0, off + l4, l4len)) !== 0xffff) mergeable = false;
    }
    if (!mergeable) return this.pass(d, off, len, sink, slot);

    if (slot >= 0) {
      // ---- same flow: does it continue the held packet? ----
      const hb = base;
      let ok = st[mb + M_HDRLEN] === hdrLen && payload <= st[mb + M_GSOSIZE]! && st[mb + M_FRAMELEN]! - l2 + payload <= 65535;
      if (ok && ipv === 4) {
        // inet_gro_receive: all IPv4 fields must match except length, ID and checksum.
        ok = A[hb + l2 + 1] === d[ip + 1] && A[hb + l2 + 8] === d[ip + 8] && (A[hb + l2 + 6]! & 0x40) === (d[ip + 6]! & 0x40);
        if (ok) {
          // IP ID: incrementing always merges; fixed merges only with DF set (an "atomic" datagram).
          const id = be16(d, ip + 4);
          const n = st[mb + M_COUNT]!;
          const mode = st[mb + M_IDMODE]!;
          if (id === ((st[mb + M_FIRSTID]! + n) & 0xffff) && mode !== 2) st[mb + M_IDMODE] = 1;
          else if (id === st[mb + M_FIRSTID] && d[ip + 6]! & 0x40 && mode !== 1) st[mb + M_IDMODE] = 2;
          else ok = false;
        }
      } else if (ok) {
        // ipv6_gro_receive: traffic class and hop limit must match.
        ok = (A[hb + l2]! & 0x0f) === (d[ip]! & 0x0f) && (A[hb + l2 + 1]! & 0xf0) === (d[ip + 1]! & 0xf0) && A[hb + l2 + 7] === d[ip + 7];
      }
      if (ok && proto === 6) {
        const t = hb + l4;
        const u = off + l4;
        // The whole flag word (tcp_flag_word: data offset, reserved bits, flags, window) compares except
        // CWR/FIN/PSH; CWR ends a merge.
        ok = ((av.getUint32(t + 12) ^ dv.getUint32(u + 12)) & ~(TCP_FLAGS_NOCMP << 16)) === 0 && (flags & TCP_CWR) === 0 && seq === st[mb + M_NEXTSEQ]! >>> 0;
        // Same ACK number and identical options, timestamps included.
        ok = ok && av.getUint32(t + 8) === dv.getUint32(u + 8) && eqDv(av, t + 20, dv, u + 20, hdrLen - l4 - 20);
      } else if (ok) {
        ok = (csum === 0 ? 1 : 0) === st[mb + M_CSUMZERO];
      }
      if (ok) {
        this.append(slot, mb, d, off, len, l4, hdrLen, payload, proto, flags, seq, csum, pseudo, sink);
        return true;
      }
      // Not a continuation: the held packet goes up first, then this one starts afresh.
      this.flushSlot(slot, sink);
    }
    // ---- start a new flow, unless the segment must go up at once ----
    if (proto === 6 && flags & TCP_FLAGS_FINAL) return this.pass(d, off, len, sink, -1);
    if (st[C_ACTIVE]! >= this.maxFlows) {
      // The table is full: the oldest held flow goes up (gro_flush_oldest).
      this.flushSlot(st[C_LRU_HEAD]!, sink);
      st[C_STAT_EVICTED]!++;
    }
    const s = st[lay.free + --st[C_FREE_TOP]!]!;
    const nb = lay.meta + s * META_INTS;
    const sb = s * GRO_SLOT_SIZE;
    if (len > 160) A.set(d.subarray(off, off + len), sb);
    else copyDv(this.dv, off, this.av, sb, len);
    st[nb + M_USED] = 1;
    st[nb + M_HASH] = h;
    st[nb + M_L2LEN] = l2;
    st[nb + M_IPV] = ipv;
    st[nb + M_L4OFF] = l4;
    st[nb + M_PROTO] = proto;
    st[nb + M_HDRLEN] = hdrLen;
    st[nb + M_FRAMELEN] = len;
    st[nb + M_GSOSIZE] = payload;
    st[nb + M_COUNT] = 1;
    st[nb + M_NEXTSEQ] = (seq + payload) | 0;
    st[nb + M_IDMODE] = 0;
    st[nb + M_FIRSTID] = ipv === 4 ? be16(d, ip + 4) : 0;
    st[nb + M_DSUM] = 0;
    st[nb + M_CSUMZERO] = proto === 17 && csum === 0 ? 1 : 0;
    st[nb + M_ADDRSUM] = addrSum;
    const bk = lay.buckets + (h & (st[C_NBUCKETS]! - 1));
    st[nb + M_CHAIN] = st[bk]!;
    st[bk] = s;
    const tail = st[C_LRU_TAIL]!;
    st[nb + M_PREV] = tail;
    st[nb + M_NEXT] = -1;
    if (tail >= 0) st[lay.meta + tail * META_INTS + M_NEXT] = s;
    else st[C_LRU_HEAD] = s;
    st[C_LRU_TAIL] = s;
    st[C_ACTIVE]!++;
    this.times[s] = now;
    return true;
  }


  /**
   * Appends a segment that continues held flow `slot` (every rule already checked): its payload joins the
   * held frame, its checksum contribution is derived from its own checksum, and a final segment flushes.
   */
  private append(slot: number, mb: number, d: Uint8Array, off: number, len: number, l4: number, hdrLen: number, payload: number, proto: number, flags: number, seq: number, csum: number, pseudo: number, sink: GroSink): void {
    const st = this.state;
    const A = this.arena;
    const dv = this.dv;
    const av = this.av;
    const hb = slot * GRO_SLOT_SIZE;
    // ---- merge: append the payload, account its checksum contribution ----
    const n = st[mb + M_COUNT]!;
    const fl = st[mb + M_FRAMELEN]!;
    if (n === 1) st[mb + M_DSUM] = this.payloadSumOfFirst(slot, mb);
    if (proto === 6 || csum !== 0) {
      // The segment's payload sum falls out of its own checksum: sum(pseudo + header incl. checksum)
      // complemented. No payload read; a corrupt input checksum stays visible in the merged one.
      let ds = ~fold(pseudo + sumDv(dv, off + l4, hdrLen - l4)) & 0xffff;
      if ((fl - hdrLen) & 1) ds = swap16(ds);
      st[mb + M_DSUM] = fold(st[mb + M_DSUM]! + ds);
    }
    if (payload > 96) A.set(d.subarray(off + hdrLen, off + len), hb + fl);
    else if (this.d32 !== null && ((off + hdrLen) & 3) === ((hb + fl) & 3)) this.copyWords(d, off + hdrLen, hb + fl, payload);
    else copyDv(dv, off + hdrLen, av, hb + fl, payload);
    st[mb + M_FRAMELEN] = fl + payload;
    st[mb + M_COUNT] = n + 1;
    st[C_STAT_MERGED]!++;
    let done: boolean;
    if (proto === 6) {
      st[mb + M_NEXTSEQ] = (seq + payload) | 0;
      A[hb + l4 + 13] = A[hb + l4 + 13]! | (flags & (TCP_FIN | TCP_PSH));
      done = payload < st[mb + M_GSOSIZE]! || (flags & TCP_FLAGS_FINAL) !== 0;
    } else {
      done = payload < st[mb + M_GSOSIZE]! || n + 1 >= UDP_GRO_MAX_SEGMENTS;
    }
    if (done) this.flushSlot(slot, sink);
  }

  /** Copies len input bytes at ps to the arena at pd (ps ≡ pd mod 4): bytes up to a word boundary, then words. */
  private copyWords(d: Uint8Array, ps: number, pd: number, len: number): void {
    const A = this.arena;
    const d32 = this.d32!;
    const a32 = this.a32;
    let k = 0;
    for (; k < len && ((ps + k) & 3) !== 0; k++) A[pd + k] = d[ps + k]!;
    const s = (ps + k) >> 2;
    const t = (pd + k) >> 2;
    const nw = (len - k) >> 2;
    for (let w = 0; w < nw; w++) a32[t + w] = d32[s + w]!;
    for (k += nw << 2; k < len; k++) A[pd + k] = d[ps + k]!;
  }

  /**
   * The twin of native fast(): a segment that continues a held flow, in one pass. One masked compare of its
   * whole header against the held one stands for the flow-identity compare and the per-field rules of
   * one(); the fields that may differ (lengths, IP ID, checksums, sequence number) are checked one by one.
   * Anything else returns false without touching the state, and one() decides it by the full rules.
   */
  private fast(d: Uint8Array, off: number, len: number, sink: GroSink, cfg: number): boolean {
    if (len < 58) return false; // 14 + 44: the shortest packet the reads below need
    const dv = this.dv;
    let l2 = 14;
    let et = (d[off + 12]! << 8) | d[off + 13]!;
    if (et === 0x8100 || et === 0x88a8 || et === 0x9100) {
      l2 = l2Length(d, off, len);
      if (l2 < 0 || len < l2 + 44) return false;
      et = (d[off + l2 - 2]! << 8) | d[off + l2 - 1]!;
    }
    const ip = off + l2;
    let proto: number;
    let l4: number;
    let ipv: number;
    let h: number;
    if (et === 0x0800) {
      if (d[ip] !== 0x45) return false;
      proto = d[ip + 9]!;
      l4 = l2 + 20;
      ipv = 4;
      h = hashMix(0x9e3779b9, proto | 0x400);
      h = hashMix(h, dv.getUint32(ip + 12));
      h = hashMix(h, dv.getUint32(ip + 16));
    } else if (et === 0x86dd) {
      if (d[ip]! >> 4 !== 6) return false;
      proto = d[ip + 6]!;
      l4 = l2 + 40;
      ipv = 6;
      h = hashMix(0x9e3779b9, proto | 0x600);
      for (let k = 8; k < 40; k += 4) h = hashMix(h, dv.getUint32(ip + k));
    } else {
      return false;
    }
    if (proto === 6 ? (cfg & CFG_TCP) === 0 : proto === 17 ? (cfg & CFG_UDP) === 0 : true) return false;
    h = hashMix(h, dv.getUint32(off + l4));
    h = (h ^ (h >>> 16)) | 0;
    const st = this.state;
    const lay = this.lay;
    let slot = st[lay.buckets + (h & (st[C_NBUCKETS]! - 1))]!;
    let mb = 0;
    while (slot >= 0) {
      mb = lay.meta + slot * META_INTS;
      if (st[mb + M_HASH] === h && st[mb + M_L2LEN] === l2) break;
      slot = st[mb + M_CHAIN]!;
    }
    if (slot < 0 || st[mb + M_IPV] !== ipv || st[mb + M_PROTO] !== proto || st[mb + M_L4OFF] !== l4) return false;
    const hdrLen = st[mb + M_HDRLEN]!;
    if (len <= hdrLen) return false;
    const hb = slot * GRO_SLOT_SIZE;
    const av = this.av;
    // Headers here are 2 bytes past a multiple of 4 long (14 + 4·tags + 20|40 + 4·n): whole words, then 2 bytes.
    const mo = ((l2 - 14) | (ipv & 2) | (proto & 1)) * MASK_WORDS;
    let k = 0;
    const d32 = this.d32;
    if (d32 !== null && (off & 3) === 0) {
      // Aligned packet: native-order words through Int32Array views (cheaper than DataView loads), LE masks.
      const a32 = this.a32;
      const pa = hb >> 2;
      const pd = off >> 2;
      const nw = hdrLen >> 2;
      for (let w = 0; w < nw; w++) if (((a32[pa + w]! ^ d32[pd + w]!) & HEADER_MASKS_LE[mo + w]!) !== 0) return false;
      k = nw << 2;
    } else {
      for (; k + 4 <= hdrLen; k += 4) if (((av.getInt32(hb + k) ^ dv.getInt32(off + k)) & HEADER_MASKS[mo + (k >> 2)]!) !== 0) return false;
    }
    if (k < hdrLen && ((av.getUint16(hb + k) ^ dv.getUint16(off + k)) & (HEADER_MASKS[mo + (k >> 2)]! >>> 16)) !== 0) return false;
    const payload = len - hdrLen;
    const fl = st[mb + M_FRAMELEN]!;
    if (!sink.fits(2, len + fl)) return false;
    if (payload > st[mb + M_GSOSIZE]! || fl - l2 + payload > 65535) return false;
    let mode = 0;
    if (ipv === 4) {
      if (((d[ip + 2]! << 8) | d[ip + 3]!) !== len - l2 || fold(sumDv(dv, ip, 20)) !== 0xffff) return false;
      const id = (d[ip + 4]! << 8) | d[ip + 5]!;
      const cur = st[mb + M_IDMODE]!;
      if (id === ((st[mb + M_FIRSTID]! + st[mb + M_COUNT]!) & 0xffff) && cur !== 2) mode = 1;
      else if (id === st[mb + M_FIRSTID] && d[ip + 6]! & 0x40 && cur !== 1) mode = 2;
      else return false;
    } else if (((d[ip + 4]! << 8) | d[ip + 5]!) !== len - l2 - 40) {
      return false;
    }
    let flags = 0;
    let seq = 0;
    let csum: number;
    const t = off + l4;
    if (proto === 6) {
      flags = d[t + 13]!;
      seq = dv.getUint32(t + 4);
      if (flags & TCP_CWR || seq !== st[mb + M_NEXTSEQ]! >>> 0) return false;
      csum = (d[t + 16]! << 8) | d[t + 17]!;
    } else {
      csum = (d[t + 6]! << 8) | d[t + 7]!;
      if (((d[t + 4]! << 8) | d[t + 5]!) !== len - l4 || (ipv === 6 && csum === 0) || (csum === 0 ? 1 : 0) !== st[mb + M_CSUMZERO]) return false;
    }
    if (ipv === 4) st[mb + M_IDMODE] = mode;
    const l4len = len - l4;
    const pseudo = st[mb + M_ADDRSUM]! + proto + (l4len >>> 16) + (l4len & 0xffff);
    this.append(slot, mb, d, off, len, l4, hdrLen, payload, proto, flags, seq, csum, pseudo, sink);
    return true;
  }

  private lookup(d: Uint8Array, off: number, l2: number, ipv: number, proto: number, l4: number, h: number): number {
    const st = this.state;
    const dv = this.dv;
    const av = this.av;
    const lay = this.lay;
    let s = st[lay.buckets + (h & (st[C_NBUCKETS]! - 1))]!;
    while (s >= 0) {
      const mb = lay.meta + s * META_INTS;
      if (st[mb + M_HASH] === h && st[mb + M_L2LEN] === l2 && st[mb + M_IPV] === ipv && st[mb + M_PROTO] === proto) {
        const b = s * GRO_SLOT_SIZE;
        // dev_gro_receive compares the whole MAC header (addresses, VLAN tag, EtherType); then addresses and
        // ports (each packet's own transport offset: an IPv4 packet with options still finds its flow).
        let same = eqDv(av, b, dv, off, l2) && av.getUint32(b + st[mb + M_L4OFF]!) === dv.getUint32(off + l4);
        if (same) {
          if (ipv === 4) {
            same = av.getUint32(b + l2 + 12) === dv.getUint32(off + l2 + 12) && av.getUint32(b + l2 + 16) === dv.getUint32(off + l2 + 16);
          } else {
            // Version and flow label belong to the flow (ipv6_gro_receive: first_word & 0xF00FFFFF), and so do
            // the next header and the extension headers, byte for byte (its memcmp over nlen).
            same =
              ((av.getUint32(b + l2) ^ dv.getUint32(off + l2)) & 0xf00fffff) === 0 &&
              eqDv(av, b + l2 + 8, dv, off + l2 + 8, 32) &&
              st[mb + M_L4OFF] === l4 &&
              this.arena[b + l2 + 6] === d[off + l2 + 6] &&
              eqDv(av, b + l2 + 40, dv, off + l2 + 40, l4 - l2 - 40);
          }
          if (same) return s;
        }
      }
      s = st[mb + M_CHAIN]!;
    }
    return -1;
  }

  /** The first segment's payload sum, derived from its checksum while its header is still untouched. */
  private payloadSumOfFirst(slot: number, mb: number): number {
    const st = this.state;
    const A = this.arena;
    const b = slot * GRO_SLOT_SIZE;
    const l4 = st[mb + M_L4OFF]!;
    const hdr = st[mb + M_HDRLEN]!;
    const proto = st[mb + M_PROTO]!;
    if (proto === 17 && st[mb + M_CSUMZERO]) return 0;
    const l4len = st[mb + M_FRAMELEN]! - l4;
    const pseudo = st[mb + M_ADDRSUM]! + proto + (l4len >>> 16) + (l4len & 0xffff);
    return ~fold(pseudo + sumDv(this.av, b + l4, hdr - l4)) & 0xffff;
  }

  /** Passes a packet up unmerged; a held packet of its flow goes first so a flow is never reordered. */
  private pass(d: Uint8Array, off: number, len: number, sink: GroSink, slot: number): boolean {
    if (slot >= 0) {
      if (!sink.fits(2, len + this.state[this.lay.meta + slot * META_INTS + M_FRAMELEN]!)) return false;
      this.flushSlot(slot, sink);
    } else if (!sink.fits(1, len)) {
      return false;
    }
    sink.emit(d, off, len, 0, VIRTIO_NET_HDR_GSO_NONE, 0, 1, 0, 0, 0);
    this.state[C_STAT_PASSED]!++;
    return true;
  }

  /** Finishes a held packet (lengths, checksums) and hands it to the sink; frees its slot. */
  flushSlot(slot: number, sink: GroSink): void {
    const st = this.state;
    const A = this.arena;
    const lay = this.lay;
    const mb = lay.meta + slot * META_INTS;
    const b = slot * GRO_SLOT_SIZE;
    const l2 = st[mb + M_L2LEN]!;
    const l4 = st[mb + M_L4OFF]!;
    const hdr = st[mb + M_HDRLEN]!;
    const fl = st[mb + M_FRAMELEN]!;
    const n = st[mb + M_COUNT]!;
    const proto = st[mb + M_PROTO]!;
    const ipv = st[mb + M_IPV]!;
    const vflags = st[C_CFG]! & CFG_VERIFY ? VIRTIO_NET_HDR_F_DATA_VALID : 0;
    const csumOffset = proto === 6 ? 16 : 6;
    let gsoType = VIRTIO_NET_HDR_GSO_NONE;
    let gsoSize = 0;
    if (n > 1) {
      // A single segment leaves exactly as it came; an aggregate gets new lengths and checksums.
      const l3len = fl - l2;
      if (ipv === 4) {
        A[b + l2 + 2] = l3len >>> 8;
        A[b + l2 + 3] = l3len & 0xff;
        A[b + l2 + 10] = 0;
        A[b + l2 + 11] = 0;
        const c = ~fold(sumDv(this.av, b + l2, 20)) & 0xffff;
        A[b + l2 + 10] = c >>> 8;
        A[b + l2 + 11] = c & 0xff;
      } else {
        A[b + l2 + 4] = (l3len - 40) >>> 8;
        A[b + l2 + 5] = (l3len - 40) & 0xff;
      }
      const l4len = fl - l4;
      const ck = b + l4 + csumOffset;
      if (proto === 17) {
        A[b + l4 + 4] = l4len >>> 8;
        A[b + l4 + 5] = l4len & 0xff;
      }
      if (proto === 17 && st[mb + M_CSUMZERO]) {
        // IPv4 UDP without a checksum stays without one.
      } else {
        A[ck] = 0;
        A[ck + 1] = 0;
        const pseudo = st[mb + M_ADDRSUM]! + proto + (l4len >>> 16) + (l4len & 0xffff);
        let c = ~fold(pseudo + sumDv(this.av, b + l4, hdr - l4) + st[mb + M_DSUM]!) & 0xffff;
        if (c === 0 && proto === 17) c = 0xffff; // RFC 768: a computed zero is sent as all ones
        A[ck] = c >>> 8;
        A[ck + 1] = c & 0xff;
      }
      gsoSize = st[mb + M_GSOSIZE]!;
      if (proto === 6) {
        gsoType = ipv === 4 ? VIRTIO_NET_HDR_GSO_TCPV4 : VIRTIO_NET_HDR_GSO_TCPV6;
        // tcp_gro_complete: a CWR on the first segment marks the aggregate SKB_GSO_TCP_ECN.
        if (A[b + l4 + 13]! & TCP_CWR) gsoType |= VIRTIO_NET_HDR_GSO_ECN;
      } else {
        gsoType = VIRTIO_NET_HDR_GSO_UDP_L4;
      }
    }
    sink.emit(A, b, fl, vflags, gsoType, gsoSize, n, hdr, l4, csumOffset);
    // Unlink from the bucket chain and the age list; return the slot.
    const bk = lay.buckets + (st[mb + M_HASH]! & (st[C_NBUCKETS]! - 1));
    let p = st[bk]!;
    if (p === slot) {
      st[bk] = st[mb + M_CHAIN]!;
    } else {
      let guard = this.maxFlows;
      while (p >= 0 && guard-- > 0) {
        const pb = lay.meta + p * META_INTS;
        if (st[pb + M_CHAIN] === slot) {
          st[pb + M_CHAIN] = st[mb + M_CHAIN]!;
          break;
        }
        p = st[pb + M_CHAIN]!;
      }
    }
    const prev = st[mb + M_PREV]!;
    const next = st[mb + M_NEXT]!;
    if (prev >= 0) st[lay.meta + prev * META_INTS + M_NEXT] = next;
    else st[C_LRU_HEAD] = next;
    if (next >= 0) st[lay.meta + next * META_INTS + M_PREV] = prev;
    else st[C_LRU_TAIL] = prev;
    st[mb + M_USED] = 0;
    st[lay.free + st[C_FREE_TOP]!++] = slot;
    st[C_ACTIVE]!--;
    st[C_STAT_FLUSHED]!++;
  }

  /** Flushes held flows, oldest first, while `pred(arrivalTime)` holds and the sink has room; returns how many. */
  flushWhile(sink: GroSink, olderThan: number): number {
    const st = this.state;
    let k = 0;
    for (;;) {
      const s = st[C_LRU_HEAD]!;
      if (s < 0 || !(this.times[s]! <= olderThan)) return k;
      if (!sink.fits(1, st[this.lay.meta + s * META_INTS + M_FRAMELEN]!)) return k;
      this.flushSlot(s, sink);
      k++;
    }
  }
}

/** Writes one metadata entry (see offloadMetaAt) into a lane. */
export function writeMeta(lane: Int32Array, index: number, flags: number, gsoType: number, gsoSize: number, segments: number, hdrLen: number, csumStart: number, csumOffset: number): void {
  const b = index * OFFLOAD_META_STRIDE;
  lane[b] = flags;
  lane[b + 1] = gsoType;
  lane[b + 2] = gsoSize;
  lane[b + 3] = segments;
  lane[b + 4] = hdrLen;
  lane[b + 5] = csumStart;
  lane[b + 6] = csumOffset;
  lane[b + 7] = 0;
}
