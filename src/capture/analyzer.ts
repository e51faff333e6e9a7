// The guide's PacketAnalyzer, grown into a small Wireshark "Statistics" menu: per-protocol packet and
// byte counts, a bidirectional conversation table (like `tshark -z conv,tcp`), top flows, and DPI of the
// first payload bytes of each flow (HTTP/1.x, TLS ClientHello, DNS, QUIC). Flows live in typed arrays
// behind an open-addressing hash so a packet costs a few hundred nanoseconds and no garbage.
import { NetworkError } from '../errors.js';
import { formatIpv4Address, formatIpv6Address } from '../wire/address.js';
import { EthernetFrame } from '../wire/ethernet.js';
import type { PacketBatch } from '../batch.js';
import { nowTimestamp, splitNanoseconds, type CapturePacketInit } from './packet.js';
import { PacketSummary, summarizePacket } from './summary.js';
import { CaptureFilter } from './capture.js';
import { looksLikeHttpRequest, parseHttpRequest, type HttpRequestInfo } from './dpi/http.js';
import { looksLikeTlsClientHello, parseTlsClientHello, type TlsClientHelloInfo } from './dpi/tls.js';
import { parseDnsMessage, type DnsQueryInfo } from './dpi/dns.js';
import { parseQuicLongHeader, type QuicLongHeaderInfo } from './dpi/quic.js';

/** Per-protocol counters (bytes are frame lengths on the wire, as Wireshark's statistics count them). */
export interface AnalyzerStats {
  packets: number;
  bytes: number;
  ethPackets: number;
  ethBytes: number;
  arpPackets: number;
  arpBytes: number;
  ipv4Packets: number;
  ipv4Bytes: number;
  ipv6Packets: number;
  ipv6Bytes: number;
  icmpPackets: number;
  icmpBytes: number;
  icmpv6Packets: number;
  icmpv6Bytes: number;
  tcpPackets: number;
  tcpBytes: number;
  udpPackets: number;
  udpBytes: number;
  /** Packets that are none of ARP/ICMP/ICMPv6/TCP/UDP (other EtherTypes, IP protocols, later fragments). */
  otherPackets: number;
  otherBytes: number;
  /** Packets with a cut or malformed header at some layer (counted in the layers above it as well). */
  malformedPackets: number;
  /** Application protocols found by DPI (packets). */
  httpPackets: number;
  tlsPackets: number;
  dnsPackets: number;
  quicPackets: number;
  /** Time of the first and last packet (seconds since the epoch), 0 when empty. */
  firstTime: number;
  lastTime: number;
}

/** One node of the protocol hierarchy (names as tshark's `-z io,phs` prints them). */
export interface ProtocolHierarchyNode {
  protocol: string;
  packets: number;
  bytes: number;
  children: ProtocolHierarchyNode[];
}

/** Coarse state of a conversation, estimated from the flags seen (TCP) or the directions seen (others). */
export type ConversationState =
  | 'SYN_SENT' | 'SYN_RECEIVED' | 'ESTABLISHED' | 'CLOSING' | 'CLOSED' | 'RESET' | 'MIDSTREAM'
  | 'UNIDIRECTIONAL' | 'BIDIRECTIONAL';

/** An application protocol identified by DPI. */
export type DpiKind = 'http' | 'tls' | 'dns' | 'quic';

/** One DPI finding, tied to its conversation. */
export type DpiFinding =
  | ({ kind: 'http'; time: number; conversation: string } & HttpRequestInfo)
  | ({ kind: 'tls'; time: number; conversation: string } & TlsClientHelloInfo)
  | ({ kind: 'dns'; time: number; conversation: string } & DnsQueryInfo)
  | ({ kind: 'quic'; time: number; conversation: string; dcidHex: string; scidHex: string } & QuicLongHeaderInfo);

/** One bidirectional conversation. A is the side that sent the first packet seen. */
export interface Conversation {
  /** 'tcp', 'udp', 'icmp', 'icmpv6' or 'ip-<n>'. */
  protocol: string;
  ipVersion: 4 | 6;
  addressA: string;
  portA: number;
  addressB: string;
  portB: number;
  packetsAtoB: number;
  bytesAtoB: number;
  packetsBtoA: number;
  bytesBtoA: number;
  packets: number;
  bytes: number;
  /** Seconds since the epoch of the first/last packet. */
  firstTime: number;
  lastTime: number;
  /** Exact nanosecond timestamps of the first/last packet. */
  firstTimestamp: bigint;
  lastTimestamp: bigint;
  duration: number;
  /** TCP flag bits seen from each side (OR of every segment), 0 for other protocols. */
  tcpFlagsAtoB: number;
  tcpFlagsBtoA: number;
  state: ConversationState;
  /** Application protocol DPI found, and its most telling detail (host, SNI, query name). */
  application: DpiKind | null;
  applicationDetail: string | null;
  /** 'A:portA <-> B:portB' (IPv6 addresses bracketed). */
  key: string;
}

/** Options of a PacketAnalyzer. */
export interface PacketAnalyzerOptions {
  /** Payload-bearing packets inspected per conversation (default 8). 0 turns DPI off. */
  dpiPacketsPerFlow?: number;
  /** Most findings kept (default 100 000); counting continues beyond. */
  maxFindings?: number;
  /** Most conversations tracked (default 4 M); later new flows are counted in `untrackedPackets`. */
  maxFlows?: number;
  /** Link type of packets given without one (default Ethernet). */
  linktype?: number;
  /** Only packets this passes are analysed: a tcpdump expression (compiled to eBPF) or a CaptureFilter. */
  filter?: string | CaptureFilter;
}

// States as small numbers in the flow arrays.
const ST_NEW = 0, ST_SYN_SENT = 1, ST_SYN_RECEIVED = 2, ST_ESTABLISHED = 3, ST_CLOSING = 4, ST_CLOSED = 5, ST_RESET = 6, ST_MIDSTREAM = 7;
const STATE_NAMES: ConversationState[] = ['MIDSTREAM', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'CLOSING', 'CLOSED', 'RESET', 'MIDSTREAM'];
const KEY_WORDS = 10;
const KEY_STRIDE = 16;
// Array-of-structs: one packet touches one table line, one key line and two record lines, instead of a line
// per counter array (the table and flows outgrow L2 with a few thousand flows).
const REC_STRIDE = 16;
const R_PKT_AB = 0, R_PKT_BA = 1, R_BYTE_AB = 2, R_BYTE_BA = 3, R_FSEC = 4, R_FNSEC = 5, R_LSEC = 6, R_LNSEC = 7;
const R_FLAGS_AB = 8, R_FLAGS_BA = 9, R_A_IS_LOW = 10, R_STATE = 11, R_DPI_LEFT = 12, R_APP = 13;
// Protocol hierarchy counters: link × network × transport × application, in fixed arrays (no per-packet Map).
const H_LINK = ['eth', 'sll', 'sll2', 'null', 'raw', 'link-other'];
const H_NET = ['', 'ip', 'ipv6', 'arp', 'net-other'];
const H_TRANS = ['', 'tcp', 'udp', 'icmp', 'icmpv6', 'trans-other'];
const H_APP = ['', 'http', 'tls', 'dns', 'quic'];
const H_SIZE = H_LINK.length * H_NET.length * H_TRANS.length * H_APP.length;

function linkIndex(linktype: number): number {
  switch (linktype) {
    case 1: return 0;
    case 113: return 1;
    case 276: return 2;
    case 0: case 108: return 3;
    case 101: case 228: case 229: return 4;
    default: return 5;
  }
}
const FIN = 1, SYN = 2, RST = 4, ACK = 16;

function hex(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += b[i]!.toString(16).padStart(2, '0');
  return s;
}

/** Packet-by-packet statistics, conversations and DPI (the guide's PacketAnalyzer). */
export class PacketAnalyzer {
  private readonly summary = new PacketSummary();
  private readonly dpiBudget: number;
  private readonly maxFindings: number;
  private readonly maxFlows: number;
  private readonly defaultLinktype: number;
  private st: AnalyzerStats = PacketAnalyzer.emptyStats();
  private firstSec = 0;
  private firstNsec = 0;
  private haveFirst = false;
  // Flow table: keys (10 words: endpoint low addr[4], endpoint high addr[4], ports, proto|version) and per-flow lanes.
  private cap = 0;
  private count = 0;
  /** Flow keys, KEY_STRIDE words per flow (one 64-byte line): low endpoint addr[4], high addr[4], ports, proto|version. */
  private keys = new Uint32Array(0);
  /** Per-flow counters, REC_STRIDE doubles per flow (two cache lines), see the R_* offsets. */
  private rec = new Float64Array(0);
  /** Open-addressing table of [flow index + 1, hash] pairs: a probe compares hashes before touching keys. */
  private table = new Int32Array(0);
  private mask = 0;
  private appDetail = new Map<number, string>();
  private findings: DpiFinding[] = [];
  private findingCount = 0;
  private readonly key = new Uint32Array(KEY_WORDS);
  private hPackets = new Float64Array(H_SIZE);
  private hBytes = new Float64Array(H_SIZE);
  /** Application found in the current packet (set by inspect, read by account). */
  private pktApp = 0;
  /** Packets of new flows met after maxFlows was reached. */
  untrackedPackets = 0;
  /** Packets the `filter` option rejected (not counted anywhere else). */
  filteredPackets = 0;
  private readonly filter: CaptureFilter | null;

  constructor(options: PacketAnalyzerOptions = {}) {
    this.dpiBudget = Math.min(255, Math.max(0, options.dpiPacketsPerFlow ?? 8));
    this.maxFindings = options.maxFindings ?? 100_000;
    this.maxFlows = options.maxFlows ?? 4 * 1024 * 1024;
    this.defaultLinktype = options.linktype ?? 1;
    this.filter = options.filter === undefined ? null : options.filter instanceof CaptureFilter ? options.filter : new CaptureFilter(options.filter);
    this.grow(1024);
  }

  static emptyStats(): AnalyzerStats {
    return {
      packets: 0, bytes: 0, ethPackets: 0, ethBytes: 0, arpPackets: 0, arpBytes: 0, ipv4Packets: 0, ipv4Bytes: 0, ipv6Packets: 0, ipv6Bytes: 0,
      icmpPackets: 0, icmpBytes: 0, icmpv6Packets: 0, icmpv6Bytes: 0, tcpPackets: 0, tcpBytes: 0, udpPackets: 0, udpBytes: 0,
      otherPackets: 0, otherBytes: 0, malformedPackets: 0, httpPackets: 0, tlsPackets: 0, dnsPackets: 0, quicPackets: 0, firstTime: 0, lastTime: 0,
    };
  }

  /**
   * Accounts one packet: a CapturePacket (or `{ data, linktype?, originalLength?, timestamp? }`), an
   * EthernetFrame, or the bytes of an Ethernet frame. Hostile bytes are counted as malformed, never thrown.
   */
  analyzePacket(packet: CapturePacketInit | EthernetFrame | Uint8Array): void {
    let data: Uint8Array;
    let linktype = this.defaultLinktype;
    let orig: number;
    let sec: number;
    let nsec: number;
    if (packet instanceof Uint8Array) {
      data = packet;
      orig = data.length;
      [sec, nsec] = nowTimestamp();
    } else if (packet instanceof EthernetFrame) {
      data = packet.serialize();
      linktype = 1;
      orig = data.length;
      [sec, nsec] = nowTimestamp();
    } else if (packet !== null && typeof packet === 'object' && packet.data instanceof Uint8Array) {
      data = packet.data;
      linktype = packet.linktype ?? this.defaultLinktype;
      orig = packet.originalLength ?? data.length;
      if (packet.tsSec !== undefined) {
        sec = packet.tsSec;
        nsec = packet.tsNsec ?? 0;
      } else if (packet.timestamp !== undefined) [sec, nsec] = splitNanoseconds(packet.timestamp);
      else [sec, nsec] = nowTimestamp();
    } else {
      throw new NetworkError('INVALID_ARGUMENT', 'analyzePacket needs a packet, an EthernetFrame or a Uint8Array', { field: 'packet' });
    }
    this.account(data, linktype, orig, sec, nsec);
  }

  /**
   * Accounts every packet of a PacketBatch (all of one link type). Timestamps come from the batch's
   * timestamp lane (nanoseconds) when it has one, else the current time.
   */
  analyzeBatch(batch: PacketBatch, linktype = this.defaultLinktype): void {
    const n = batch.length;
    const ts = batch.timestamps;
    let sec = 0;
    let nsec = 0;
    if (ts === null) [sec, nsec] = nowTimestamp();
    for (let i = 0; i < n; i++) {
      const off = batch.offsets[i]!;
      const data = batch.data.subarray(off, off + batch.lengths[i]!);
      if (ts !== null) {
        const t = ts[i]!;
        sec = Number(t / 1_000_000_000n);
        nsec = Number(t % 1_000_000_000n);
      }
      this.account(data, linktype, data.length, sec, nsec);
    }
  }

  /** The hot path: all numbers, no allocation for packets of known flows. */
  account(data: Uint8Array, linktype: number, orig: number, sec: number, nsec: number): void {
    if (this.filter !== null && !this.filter.matchesBytes(data, linktype)) {
      this.filteredPackets++;
      return;
    }
    const st = this.st;
    const s = summarizePacket(data, linktype, this.summary);
    st.packets++;
    st.bytes += orig;
    const t = sec + nsec / 1e9;
    if (!this.haveFirst) {
      this.haveFirst = true;
      this.firstSec = sec;
      this.firstNsec = nsec;
      st.firstTime = t;
    }
    st.lastTime = t;
    if (linktype === 1 && s.linkOk) {
      st.ethPackets++;
      st.ethBytes += orig;
    }
    if (s.malformed !== null) st.malformedPackets++;
    if (s.ipVersion === 4) {
      st.ipv4Packets++;
      st.ipv4Bytes += orig;
    } else if (s.ipVersion === 6) {
      st.ipv6Packets++;
      st.ipv6Bytes += orig;
    }
    switch (s.kind) {
      case 'tcp':
        st.tcpPackets++;
        st.tcpBytes += orig;
        break;
      case 'udp':
        st.udpPackets++;
        st.udpBytes += orig;
        break;
      case 'icmp':
        st.icmpPackets++;
        st.icmpBytes += orig;
        break;
      case 'icmpv6':
        st.icmpv6Packets++;
        st.icmpv6Bytes += orig;
        break;
      case 'arp':
        st.arpPackets++;
        st.arpBytes += orig;
        break;
      default:
        st.otherPackets++;
        st.otherBytes += orig;
    }
    this.pktApp = 0;
    if (s.ipVersion !== 0 && s.protocol >= 0) this.flow(s, orig, sec, nsec, t);
    const li = s.linkOk ? linkIndex(linktype) : 5;
    const ni = s.ipVersion === 4 ? 1 : s.ipVersion === 6 ? 2 : s.kind === 'arp' ? 3 : s.linkOk && s.etherType !== 0 ? 4 : 0;
    const k = s.kind;
    const ti = ni === 1 || ni === 2 ? (k === 'tcp' ? 1 : k === 'udp' ? 2 : k === 'icmp' ? 3 : k === 'icmpv6' ? 4 : 5) : 0;
    const hi = ((li * H_NET.length + ni) * H_TRANS.length + ti) * H_APP.length + this.pktApp;
    this.hPackets[hi] = this.hPackets[hi]! + 1;
    this.hBytes[hi] = this.hBytes[hi]! + orig;
  }

  private flow(s: PacketSummary, orig: number, sec: number, nsec: number, t: number): void {
    const k = this.key;
    const d = s.data;
    // Endpoints as 4 words each (IPv4 v4-mapped, RFC 4291 §2.5.5.2) so both versions share one table.
    let a0: number, a1: number, a2: number, a3: number, b0: number, b1: number, b2: number, b3: number;
    if (s.ipVersion === 4) {
      a0 = 0; a1 = 0; a2 = 0xffff; a3 = s.src4;
      b0 = 0; b1 = 0; b2 = 0xffff; b3 = s.dst4;
    } else {
      const p = s.src6, q = s.dst6;
      a0 = ((d[p]! << 24) | (d[p + 1]! << 16) | (d[p + 2]! << 8) | d[p + 3]!) >>> 0;
      a1 = ((d[p + 4]! << 24) | (d[p + 5]! << 16) | (d[p + 6]! << 8) | d[p + 7]!) >>> 0;
      a2 = ((d[p + 8]! << 24) | (d[p + 9]! << 16) | (d[p + 10]! << 8) | d[p + 11]!) >>> 0;
      a3 = ((d[p + 12]! << 24) | (d[p + 13]! << 16) | (d[p + 14]! << 8) | d[p + 15]!) >>> 0;
      b0 = ((d[q]! << 24) | (d[q + 1]! << 16) | (d[q + 2]! << 8) | d[q + 3]!) >>> 0;
      b1 = ((d[q + 4]! << 24) | (d[q + 5]! << 16) | (d[q + 6]! << 8) | d[q + 7]!) >>> 0;
      b2 = ((d[q + 8]! << 24) | (d[q + 9]! << 16) | (d[q + 10]! << 8) | d[q + 11]!) >>> 0;
      b3 = ((d[q + 12]! << 24) | (d[q + 13]! << 16) | (d[q + 14]! << 8) | d[q + 15]!) >>> 0;
    }
    const hasPorts = s.kind === 'tcp' || s.kind === 'udp';
    const sp = hasPorts ? s.srcPort : 0;
    const dp = hasPorts ? s.dstPort : 0;
    // Canonical order: the lower (address, port) first, so both directions find the same entry.
    let srcLow: boolean;
    if (a0 !== b0) srcLow = a0 < b0;
    else if (a1 !== b1) srcLow = a1 < b1;
    else if (a2 !== b2) srcLow = a2 < b2;
    else if (a3 !== b3) srcLow = a3 < b3;
    else srcLow = sp <= dp;
    if (srcLow) {
      k[0] = a0; k[1] = a1; k[2] = a2; k[3] = a3; k[4] = b0; k[5] = b1; k[6] = b2; k[7] = b3;
      k[8] = ((sp << 16) | dp) >>> 0;
    } else {
      k[0] = b0; k[1] = b1; k[2] = b2; k[3] = b3; k[4] = a0; k[5] = a1; k[6] = a2; k[7] = a3;
      k[8] = ((dp << 16) | sp) >>> 0;
    }
    k[9] = (s.protocol << 8) | s.ipVersion;
    let h = 0x811c9dc5;
    for (let i = 0; i < KEY_WORDS; i++) {
      h = Math.imul(h ^ k[i]!, 0x01000193);
      h ^= h >>> 15;
    }
    const keys = this.keys;
    const table = this.table;
    let slot = h & this.mask;
    let idx = -1;
    for (;;) {
      const e = table[slot * 2]!;
      if (e === 0) break;
      if (table[slot * 2 + 1] === h) {
        const f = e - 1;
        const o = f * KEY_STRIDE;
        if (keys[o + 8] === k[8] && keys[o + 3] === k[3] && keys[o + 7] === k[7] && keys[o + 9] === k[9] &&
          keys[o] === k[0] && keys[o + 1] === k[1] && keys[o + 2] === k[2] && keys[o + 4] === k[4] && keys[o + 5] === k[5] && keys[o + 6] === k[6]) {
          idx = f;
          break;
        }
      }
      slot = (slot + 1) & this.mask;
    }
    let r: Float64Array;
    let ro: number;
    if (idx < 0) {
      if (this.count >= this.maxFlows) {
        this.untrackedPackets++;
        return;
      }
      if (this.count + 1 > this.cap) {
        this.grow(this.cap * 2);
        // The table was rebuilt: find the free slot again.
        slot = h & this.mask;
        while (this.table[slot * 2] !== 0) slot = (slot + 1) & this.mask;
      }
      idx = this.count++;
      this.keys.set(k, idx * KEY_STRIDE);
      this.table[slot * 2] = idx + 1;
      this.table[slot * 2 + 1] = h;
      r = this.rec;
      ro = idx * REC_STRIDE;
      r[ro + R_A_IS_LOW] = srcLow ? 1 : 0;
      r[ro + R_FSEC] = sec;
      r[ro + R_FNSEC] = nsec;
      r[ro + R_DPI_LEFT] = this.dpiBudget;
      r[ro + R_STATE] = ST_NEW;
    } else {
      r = this.rec;
      ro = idx * REC_STRIDE;
    }
    const fwd = (srcLow ? 1 : 0) === r[ro + R_A_IS_LOW];
    if (fwd) {
      r[ro + R_PKT_AB]! += 1;
      r[ro + R_BYTE_AB]! += orig;
    } else {
      r[ro + R_PKT_BA]! += 1;
      r[ro + R_BYTE_BA]! += orig;
    }
    r[ro + R_LSEC] = sec;
    r[ro + R_LNSEC] = nsec;
    if (s.kind === 'tcp') {
      const fl = s.tcpFlags;
      if (fwd) r[ro + R_FLAGS_AB] = r[ro + R_FLAGS_AB]! | fl;
      else r[ro + R_FLAGS_BA] = r[ro + R_FLAGS_BA]! | fl;
      this.tcpState(r, ro, fl, fwd);
    }
    if (s.payloadLength > 0 && r[ro + R_DPI_LEFT]! > 0 && (s.kind === 'tcp' || s.kind === 'udp')) {
      r[ro + R_DPI_LEFT]! -= 1;
      this.inspect(s, idx, t);
    }
  }

  /** A rough connection tracker (RFC 9293 §3.5-3.6 handshake and close as seen from the middle). */
  private tcpState(r: Float64Array, ro: number, fl: number, fwd: boolean): void {
    const cur = r[ro + R_STATE]!;
    if (fl & RST) {
      r[ro + R_STATE] = ST_RESET;
      return;
    }
    let next = cur;
    switch (cur) {
      case ST_NEW:
        next = fl & SYN ? (fl & ACK ? ST_SYN_RECEIVED : ST_SYN_SENT) : ST_MIDSTREAM;
        break;
      case ST_SYN_SENT:
        if (!fwd && fl & SYN && fl & ACK) next = ST_SYN_RECEIVED;
        break;
      case ST_SYN_RECEIVED:
        if (fwd && fl & ACK && !(fl & SYN)) next = ST_ESTABLISHED;
        break;
      default:
        break;
    }
    if (fl & FIN && next !== ST_RESET) {
      const finA = (r[ro + R_FLAGS_AB]! & FIN) !== 0;
      const finB = (r[ro + R_FLAGS_BA]! & FIN) !== 0;
      next = finA && finB ? ST_CLOSED : ST_CLOSING;
    }
    r[ro + R_STATE] = next;
  }

  private inspect(s: PacketSummary, idx: number, t: number): void {
    const d = s.data;
    const off = s.payloadOffset;
    // Bound the payload by what was captured.
    const len = Math.min(s.payloadLength, d.length - off);
    if (len <= 0) return;
    try {
      if (s.kind === 'tcp') {
        if (looksLikeHttpRequest(d, off, len)) {
          const h = parseHttpRequest(d, off, len);
          if (h) {
            this.st.httpPackets++;
            this.note(idx, 1, h.host ?? h.uri, { kind: 'http', time: t, conversation: '', ...h });
          }
        } else if (looksLikeTlsClientHello(d, off, len)) {
          const h = parseTlsClientHello(d, off, len);
          if (h) {
            this.st.tlsPackets++;
            this.note(idx, 2, h.sni ?? (h.alpn.length ? h.alpn.join(',') : ''), { kind: 'tls', time: t, conversation: '', ...h });
          }
        }
        return;
      }
      const sp = s.srcPort, dp = s.dstPort;
      if (sp === 53 || dp === 53 || sp === 5353 || dp === 5353 || sp === 5355 || dp === 5355) {
        const q = parseDnsMessage(d, off, len);
        if (q) {
          this.st.dnsPackets++;
          // Keep inspecting DNS flows: each packet is a new question or answer.
          this.rec[idx * REC_STRIDE + R_DPI_LEFT] = this.dpiBudget;
          this.note(idx, 3, q.name, { kind: 'dns', time: t, conversation: '', ...q });
          return;
        }
      }
      const qh = parseQuicLongHeader(d, off, len, sp === 443 || dp === 443);
      if (qh) {
        this.st.quicPackets++;
        this.note(idx, 4, `v${qh.version.toString(16)} dcid ${hex(qh.dcid)}`, { kind: 'quic', time: t, conversation: '', ...qh, dcidHex: hex(qh.dcid), scidHex: hex(qh.scid) });
      }
    } catch {
      // The DPI parsers check every length; this guard only keeps a bug in them from stopping the analysis.
    }
  }

  private note(idx: number, app: number, detail: string, f: DpiFinding): void {
    this.pktApp = app;
    if (this.rec[idx * REC_STRIDE + R_APP] === 0) {
      this.rec[idx * REC_STRIDE + R_APP] = app;
      this.appDetail.set(idx, detail);
    }
    this.findingCount++;
    if (this.findings.length < this.maxFindings) {
      f.conversation = this.keyString(idx);
      this.findings.push(f);
    }
  }

  private grow(cap: number): void {
    const keys = new Uint32Array(cap * KEY_STRIDE);
    keys.set(this.keys.subarray(0, this.count * KEY_STRIDE));
    this.keys = keys;
    const rec = new Float64Array(cap * REC_STRIDE);
    rec.set(this.rec.subarray(0, this.count * REC_STRIDE));
    this.rec = rec;
    this.cap = cap;
    // Load factor ≤ 1/2 keeps linear probing short.
    const size = cap * 2;
    this.table = new Int32Array(size * 2);
    this.mask = size - 1;
    for (let f = 0; f < this.count; f++) {
      const o = f * KEY_STRIDE;
      let h = 0x811c9dc5;
      for (let i = 0; i < KEY_WORDS; i++) {
        h = Math.imul(h ^ keys[o + i]!, 0x01000193);
        h ^= h >>> 15;
      }
      let slot = h & this.mask;
      while (this.table[slot * 2] !== 0) slot = (slot + 1) & this.mask;
      this.table[slot * 2] = f + 1;
      this.table[slot * 2 + 1] = h;
    }
  }

  private endpoint(idx: number, side: 'a' | 'b'): [string, number] {
    const o = idx * KEY_STRIDE;
    const k = this.keys;
    const lowIsA = this.rec[idx * REC_STRIDE + R_A_IS_LOW] === 1;
    const low = (side === 'a') === lowIsA;
    const base = o + (low ? 0 : 4);
    const port = low ? k[o + 8]! >>> 16 : k[o + 8]! & 0xffff;
    const v = k[o + 9]! & 0xff;
    if (v === 4) return [formatIpv4Address(k[base + 3]!), port];
    const b = new Uint8Array(16);
    for (let i = 0; i < 4; i++) {
      const w = k[base + i]!;
      b[i * 4] = w >>> 24;
      b[i * 4 + 1] = (w >>> 16) & 0xff;
      b[i * 4 + 2] = (w >>> 8) & 0xff;
      b[i * 4 + 3] = w & 0xff;
    }
    return [formatIpv6Address(b, 0), port];
  }

  private keyString(idx: number): string {
    const [a, pa] = this.endpoint(idx, 'a');
    const [b, pb] = this.endpoint(idx, 'b');
    const v6 = (this.keys[idx * KEY_STRIDE + 9]! & 0xff) === 6;
    const fa = v6 ? `[${a}]` : a;
    const fb = v6 ? `[${b}]` : b;
    const proto = this.protocolName(idx);
    if (proto === 'tcp' || proto === 'udp') return `${proto} ${fa}:${pa} <-> ${fb}:${pb}`;
    return `${proto} ${fa} <-> ${fb}`;
  }

  private protocolName(idx: number): string {
    const p = this.keys[idx * KEY_STRIDE + 9]! >>> 8;
    return p === 6 ? 'tcp' : p === 17 ? 'udp' : p === 1 ? 'icmp' : p === 58 ? 'icmpv6' : `ip-${p}`;
  }

  private conversation(idx: number): Conversation {
    const [addressA, portA] = this.endpoint(idx, 'a');
    const [addressB, portB] = this.endpoint(idx, 'b');
    const protocol = this.protocolName(idx);
    const r = this.rec;
    const o = idx * REC_STRIDE;
    const ab = r[o + R_PKT_AB]!, ba = r[o + R_PKT_BA]!;
    let state: ConversationState;
    if (protocol === 'tcp') state = STATE_NAMES[r[o + R_STATE]!]!;
    else state = ab > 0 && ba > 0 ? 'BIDIRECTIONAL' : 'UNIDIRECTIONAL';
    const fs = r[o + R_FSEC]!, fn = r[o + R_FNSEC]!, ls = r[o + R_LSEC]!, ln = r[o + R_LNSEC]!;
    const app = r[o + R_APP]!;
    return {
      protocol,
      ipVersion: (this.keys[idx * KEY_STRIDE + 9]! & 0xff) === 6 ? 6 : 4,
      addressA, portA, addressB, portB,
      packetsAtoB: ab, bytesAtoB: r[o + R_BYTE_AB]!, packetsBtoA: ba, bytesBtoA: r[o + R_BYTE_BA]!,
      packets: ab + ba, bytes: r[o + R_BYTE_AB]! + r[o + R_BYTE_BA]!,
      firstTime: fs + fn / 1e9, lastTime: ls + ln / 1e9,
      firstTimestamp: BigInt(fs) * 1_000_000_000n + BigInt(fn),
      lastTimestamp: BigInt(ls) * 1_000_000_000n + BigInt(ln),
      duration: conversationDuration(ls - fs, ln - fn),
      tcpFlagsAtoB: r[o + R_FLAGS_AB]!, tcpFlagsBtoA: r[o + R_FLAGS_BA]!,
      state,
      application: app === 0 ? null : (['http', 'tls', 'dns', 'quic'] as const)[app - 1]!,
      applicationDetail: this.appDetail.get(idx) ?? null,
      key: this.keyString(idx),
    };
  }

  /** The per-protocol counters (a copy). */
  getStats(): AnalyzerStats {
    return { ...this.st };
  }

  /**
   * The protocol hierarchy: link → network → transport → application, each node with the packets and
   * bytes that reached it (the shape of `tshark -q -z io,phs`; empty levels left out).
   */
  getProtocolHierarchy(): ProtocolHierarchyNode[] {
    const roots: ProtocolHierarchyNode[] = [];
    const child = (list: ProtocolHierarchyNode[], name: string): ProtocolHierarchyNode => {
      let n = list.find((c) => c.protocol === name);
      if (!n) {
        n = { protocol: name, packets: 0, bytes: 0, children: [] };
        list.push(n);
      }
      return n;
    };
    for (let li = 0; li < H_LINK.length; li++) {
      for (let ni = 0; ni < H_NET.length; ni++) {
        for (let ti = 0; ti < H_TRANS.length; ti++) {
          for (let ai = 0; ai < H_APP.length; ai++) {
            const i = ((li * H_NET.length + ni) * H_TRANS.length + ti) * H_APP.length + ai;
            const p = this.hPackets[i]!;
            if (p === 0) continue;
            const b = this.hBytes[i]!;
            const path = [H_LINK[li]!, H_NET[ni]!, H_TRANS[ti]!, H_APP[ai]!].filter((x) => x !== '');
            let list = roots;
            for (const name of path) {
              const n = child(list, name);
              n.packets += p;
              n.bytes += b;
              list = n.children;
            }
          }
        }
      }
    }
    const sort = (l: ProtocolHierarchyNode[]) => {
      l.sort((x, y) => y.packets - x.packets || (x.protocol < y.protocol ? -1 : 1));
      for (const n of l) sort(n.children);
    };
    sort(roots);
    return roots;
  }

  /** Number of conversations tracked. */
  get conversationCount(): number {
    return this.count;
  }

  /** Every conversation in order of first appearance (optionally of one protocol: 'tcp', 'udp' …). */
  getConversations(protocol?: string): Conversation[] {
    const out: Conversation[] = [];
    for (let i = 0; i < this.count; i++) {
      if (protocol !== undefined && this.protocolName(i) !== protocol) continue;
      out.push(this.conversation(i));
    }
    return out;
  }

  /** The n largest conversations by bytes (default) or packets. */
  getTopFlows(n = 10, by: 'bytes' | 'packets' = 'bytes'): Conversation[] {
    if (!(n >= 0)) throw new NetworkError('INVALID_ARGUMENT', `n must be ≥ 0, got ${n}`, { field: 'n' });
    if (by !== 'bytes' && by !== 'packets') throw new NetworkError('INVALID_ARGUMENT', `by must be 'bytes' or 'packets', got '${String(by)}'`, { field: 'by' });
    const idx = Array.from({ length: this.count }, (_, i) => i);
    const r = this.rec;
    const w = (i: number) => (by === 'bytes' ? r[i * REC_STRIDE + R_BYTE_AB]! + r[i * REC_STRIDE + R_BYTE_BA]! : r[i * REC_STRIDE + R_PKT_AB]! + r[i * REC_STRIDE + R_PKT_BA]!);
    idx.sort((x, y) => w(y) - w(x) || x - y);
    return idx.slice(0, n).map((i) => this.conversation(i));
  }

  /** DPI findings in order (up to maxFindings), optionally of one kind. */
  getDpiFindings(kind?: DpiKind): DpiFinding[] {
    return kind === undefined ? this.findings.slice() : this.findings.filter((f) => f.kind === kind);
  }

  /** Findings made, including those beyond maxFindings. */
  get dpiFindingCount(): number {
    return this.findingCount;
  }

  /** Seconds since the epoch of the first packet, exact to the nanosecond as [sec, nsec]. */
  get firstPacketTime(): [number, number] | null {
    return this.haveFirst ? [this.firstSec, this.firstNsec] : null;
  }

  /** Forgets everything. */
  reset(): void {
    this.st = PacketAnalyzer.emptyStats();
    this.haveFirst = false;
    this.count = 0;
    this.findings = [];
    this.findingCount = 0;
    this.appDetail.clear();
    this.untrackedPackets = 0;
    this.filteredPackets = 0;
    this.hPackets.fill(0);
    this.hBytes.fill(0);
    this.cap = 0;
    this.keys = new Uint32Array(0);
    this.rec = new Float64Array(0);
    this.grow(1024);
  }
}

/** Seconds between two timestamps, normalised first (0 ≤ ns < 1e9) as Wireshark's nstime_delta does, so the
 * double (and its printed decimals) equal tshark's `conv` duration — `1 + (-0.9985)` and `0.0015` differ. */
function conversationDuration(sec: number, ns: number): number {
  return ns < 0 ? sec - 1 + (ns + 1e9) / 1e9 : sec + ns / 1e9;
}
