// `elysia-net read FILE` (one line per packet, tcpdump style; -v adds the dissection tree) and
// `elysia-net stats FILE` (protocol hierarchy, conversations, top flows, DPI findings).
import type { Command } from 'commander';
import { CaptureFilter } from '../capture/capture.js';
import { readdirSync, readFileSync } from 'node:fs';
import { NetworkError } from '../errors.js';
import { formatIpv4Address, formatMacAddress } from '../wire/address.js';
import { dissect } from '../wire/dissect.js';
import { parseTcpOptions, type TcpOption } from '../wire/tcp.js';
import { openCapture, type CaptureFileReader } from '../capture/file.js';
import { linkTypeName, type CapturePacket } from '../capture/packet.js';
import { PacketSummary, summarizePacket } from '../capture/summary.js';
import { PacketAnalyzer, type Conversation, type ProtocolHierarchyNode } from '../capture/analyzer.js';
import { parseDnsMessage } from '../capture/dpi/dns.js';
import { parseHttpRequest } from '../capture/dpi/http.js';
import { parseTlsClientHello } from '../capture/dpi/tls.js';
import { parseQuicLongHeader } from '../capture/dpi/quic.js';

/** Files at least this big get a progress indicator even when stderr is not a terminal. */
const BIG_FILE = 256 * 1024 * 1024;

function fmtBytes(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB`;
  if (n >= 1e3) return `${(n / 1e3).toFixed(1)} kB`;
  return `${n} B`;
}

/** Progress on stderr: redrawn in place on a terminal, a line per 10% otherwise. */
class Progress {
  private last = 0;
  private lastDecile = -1;
  private shown = false;
  constructor(private readonly reader: CaptureFileReader, private readonly enabled: boolean) {}
  tick(): void {
    if (!this.enabled) return;
    const now = Date.now();
    if (now - this.last < 250) return;
    this.last = now;
    const size = this.reader.size;
    const done = this.reader.bytesRead;
    const pct = size ? Math.floor((done / size) * 100) : 0;
    const text = `reading ${fmtBytes(done)}${size ? ` / ${fmtBytes(size)} (${pct}%)` : ''}, ${this.reader.packets} packets`;
    if (process.stderr.isTTY) {
      process.stderr.write(`\r\x1b[K${text}`);
      this.shown = true;
    } else if (Math.floor(pct / 10) !== this.lastDecile) {
      this.lastDecile = Math.floor(pct / 10);
      process.stderr.write(`${text}\n`);
    }
  }
  done(): void {
    if (this.shown) process.stderr.write('\r\x1b[K');
  }
}

function wantProgress(reader: CaptureFileReader, flag: boolean | undefined, stdoutBusy: boolean): boolean {
  if (flag === false) return false;
  // Never draw over packet lines on the same terminal.
  if (stdoutBusy && process.stdout.isTTY && process.stderr.isTTY) return false;
  return process.stderr.isTTY === true || (reader.size ?? 0) >= BIG_FILE;
}

function timeOfDay(p: CapturePacket, nano: boolean): string {
  // tcpdump prints local time of day; the fraction at the file's precision.
  const d = new Date(p.tsSec * 1000);
  const hh = String(d.getHours()).padStart(2, '0');
  const mm = String(d.getMinutes()).padStart(2, '0');
  const ss = String(d.getSeconds()).padStart(2, '0');
  const frac = nano ? String(p.tsNsec).padStart(9, '0') : String(Math.floor(p.tsNsec / 1000)).padStart(6, '0');
  return `${hh}:${mm}:${ss}.${frac}`;
}

function tcpFlagString(f: number): string {
  // tcpdump's order (print-tcp.c tcp_flag_values): F S R P, '.' for ACK, U E W — checked with tcpdump 4.99.
  let s = '';
  if (f & 0x01) s += 'F';
  if (f & 0x02) s += 'S';
  if (f & 0x04) s += 'R';
  if (f & 0x08) s += 'P';
  if (f & 0x10) s += '.';
  if (f & 0x20) s += 'U';
  if (f & 0x40) s += 'E';
  if (f & 0x80) s += 'W';
  return s === '' ? 'none' : s;
}

const ICMP_TYPES: Record<number, string> = { 0: 'echo reply', 3: 'unreachable', 5: 'redirect', 8: 'echo request', 11: 'time exceeded', 12: 'parameter problem', 13: 'time stamp request', 14: 'time stamp reply' };
const ICMP6_TYPES: Record<number, string> = { 1: 'destination unreachable', 2: 'packet too big', 3: 'time exceeded', 4: 'parameter problem', 128: 'echo request', 129: 'echo reply', 133: 'router solicitation', 134: 'router advertisement', 135: 'neighbor solicitation', 136: 'neighbor advertisement' };

/** tcpdump's option list: "mss 65495,sackOK,TS val 1 ecr 0,nop,wscale 10" (print-tcp.c). */
function tcpOptionString(o: TcpOption): string {
  switch (o.type) {
    case 'eol': return 'eol';
    case 'nop': return 'nop';
    case 'mss': return `mss ${o.value}`;
    case 'windowScale': return `wscale ${o.shift}`;
    case 'sackPermitted': return 'sackOK';
    case 'sack': return `sack ${o.blocks.length} ${o.blocks.map(([l, r]) => `{${l}:${r}}`).join('')}`;
    case 'timestamps': return `TS val ${o.value} ecr ${o.echo}`;
    case 'unknown': return `opt-${o.kind}:${Buffer.from(o.data).toString('hex')}`;
  }
}

function tcpOptions(s: PacketSummary): string {
  const d = s.data;
  const start = s.transportOffset + 20;
  const end = s.payloadOffset;
  if (end <= start) return '';
  try {
    return `, options [${parseTcpOptions(d, start, end).map(tcpOptionString).join(',')}]`;
  } catch {
    return ', options [bad opts]';
  }
}

const DNS_RCODES = ['', ' FormErr', ' ServFail', ' NXDomain', ' NotImp', ' Refused'];

/** DNS summary as tcpdump prints it (print-domain.c): "id+ A? name. (len)" / "id an/ns/ar (len)". */
function dnsNote(d: Uint8Array, off: number, len: number): string {
  const q = parseDnsMessage(d, off, len);
  if (!q) return '';
  const f1 = d[off + 2]!, f2 = d[off + 3]!;
  const cnt = (i: number) => (d[off + i]! << 8) | d[off + i + 1]!;
  if (!q.response) return ` ${q.id}${f1 & 1 ? '+' : ''} ${q.typeName}? ${q.name}. (${len})`;
  const flags = `${DNS_RCODES[q.rcode] ?? ` Resv${q.rcode}`}${f1 & 4 ? '*' : ''}${f2 & 0x80 ? '' : '-'}${f1 & 2 ? '|' : ''}`;
  return ` ${q.id}${flags} ${cnt(6)}/${cnt(8)}/${cnt(10)} (${len})`;
}

function appNote(s: PacketSummary): string {
  const d = s.data;
  const off = s.payloadOffset;
  const len = Math.min(s.payloadLength, d.length - off);
  if (len <= 0) return '';
  if (s.kind === 'tcp') {
    const h = parseHttpRequest(d, off, len);
    if (h) return `: HTTP: ${h.method} ${h.uri} ${h.version}${h.host ? ` Host: ${h.host}` : ''}`;
    const t = parseTlsClientHello(d, off, len);
    if (t) return `: TLS ClientHello${t.sni ? ` SNI ${t.sni}` : ''}${t.alpn.length ? ` ALPN ${t.alpn.join(',')}` : ''}`;
    return '';
  }
  if (s.kind === 'udp') {
    if (s.srcPort === 53 || s.dstPort === 53 || s.srcPort === 5353 || s.dstPort === 5353) {
      const note = dnsNote(d, off, len);
      if (note !== '') return note;
    }
    const qh = parseQuicLongHeader(d, off, len, s.srcPort === 443 || s.dstPort === 443);
    if (qh) return `: QUIC, ${qh.packetTypeName}, version 0x${qh.version.toString(16)}, dcid ${Buffer.from(qh.dcid).toString('hex')}, scid ${Buffer.from(qh.scid).toString('hex')}`;
  }
  return '';
}

let ifNames: Map<number, string> | null = null;

/** Interface name of an ifindex on this machine (tcpdump uses if_indextoname), from /sys/class/net on Linux. */
function interfaceName(index: number): string {
  if (ifNames === null) {
    ifNames = new Map();
    try {
      for (const name of readdirSync('/sys/class/net')) {
        const i = Number(readFileSync(`/sys/class/net/${name}/ifindex`, 'utf8').trim());
        if (Number.isInteger(i)) ifNames.set(i, name);
      }
    } catch {
      // Not Linux: numbers only.
    }
  }
  return ifNames.get(index) ?? String(index);
}

const SLL_PKTTYPES = ['In', 'B', 'M', 'P', 'Out'];

/** One tcpdump-style line for a packet. */
export function formatPacketLine(p: CapturePacket, s: PacketSummary, nano: boolean): string {
  let t = timeOfDay(p, nano);
  const d0 = p.data;
  if (p.linktype === 276 && d0.length >= 20) {
    // print-sll.c: SLL2 lines name the interface and the direction even without -e.
    const ifindex = ((d0[4]! << 24) | (d0[5]! << 16) | (d0[6]! << 8) | d0[7]!) >>> 0;
    t += ` ${interfaceName(ifindex).padEnd(5)} ${(SLL_PKTTYPES[d0[10]!] ?? '?').padEnd(3)}`;
  }
  const d = p.data;
  if (!s.linkOk) return `${t} [${linkTypeName(p.linktype)}, ${d.length} bytes: link header not decoded]`;
  if (s.kind === 'arp') {
    if (s.malformed === null && d.length >= s.networkOffset + 28) {
      const o = s.networkOffset;
      const spa = formatIpv4Address(((d[o + 14]! << 24) | (d[o + 15]! << 16) | (d[o + 16]! << 8) | d[o + 17]!) >>> 0);
      const tpa = formatIpv4Address(((d[o + 24]! << 24) | (d[o + 25]! << 16) | (d[o + 26]! << 8) | d[o + 27]!) >>> 0);
      if (s.arpOperation === 1) return `${t} ARP, Request who-has ${tpa} tell ${spa}, length ${d.length - o}`;
      if (s.arpOperation === 2) return `${t} ARP, Reply ${spa} is-at ${formatMacAddress(d, o + 8)}, length ${d.length - o}`;
    }
    return `${t} ARP, ${s.malformed ? 'malformed' : `operation ${s.arpOperation}`}, length ${d.length - s.networkOffset}`;
  }
  if (s.ipVersion === 0) {
    if (s.malformed !== null && (s.etherType === 0x0800 || s.etherType === 0x86dd)) return `${t} ${s.etherType === 0x0800 ? 'IP' : 'IP6'} [malformed ${s.malformed}], length ${d.length}`;
    return `${t} ethertype 0x${s.etherType.toString(16).padStart(4, '0')}, length ${p.originalLength}`;
  }
  const ipName = s.ipVersion === 4 ? 'IP' : 'IP6';
  const src = s.srcAddress();
  const dst = s.dstAddress();
  const ipLen = s.transportLength;
  if (s.laterFragment) return `${t} ${ipName} ${src} > ${dst}: ip-proto-${s.protocol} (fragment)`;
  const bad = s.malformed !== null ? ` [malformed ${s.malformed}]` : '';
  switch (s.kind) {
    case 'tcp': {
      let line = `${t} ${ipName} ${src}.${s.srcPort} > ${dst}.${s.dstPort}: Flags [${tcpFlagString(s.tcpFlags)}]`;
      if (s.malformed === null) {
        if (s.tcpFlags & 0x02 || s.payloadLength > 0 || s.tcpFlags & 0x01) line += `, seq ${s.tcpSeq}${s.payloadLength > 0 ? `:${(s.tcpSeq + s.payloadLength) >>> 0}` : ''}`;
        if (s.tcpFlags & 0x10) line += `, ack ${s.tcpAck}`;
        line += `, win ${s.tcpWindow}${tcpOptions(s)}`;
      }
      return `${line}, length ${s.payloadLength}${bad}${appNote(s)}`;
    }
    case 'udp': {
      const note = appNote(s);
      if (note.startsWith(' ')) return `${t} ${ipName} ${src}.${s.srcPort} > ${dst}.${s.dstPort}:${note}`;
      // tcpdump prints the UDP header's length (minus 8), which exceeds the bytes of a first fragment.
      const o = s.transportOffset;
      const ulen = s.malformed === null && s.transportLength >= 8 ? ((s.data[o + 4]! << 8) | s.data[o + 5]!) - 8 : s.payloadLength;
      return `${t} ${ipName} ${src}.${s.srcPort} > ${dst}.${s.dstPort}: UDP, length ${ulen}${bad}${note}`;
    }
    case 'icmp': {
      const name = ICMP_TYPES[s.icmpType] ?? `type ${s.icmpType}`;
      const o = s.transportOffset;
      if (s.icmpType === 3 && ipLen >= 28 && d[o + 8]! >>> 4 === 4) {
        // print-icmp.c: the quoted datagram names what was unreachable.
        const q = o + 8;
        const qhl = (d[q]! & 15) * 4;
        const qdst = formatIpv4Address(((d[q + 16]! << 24) | (d[q + 17]! << 16) | (d[q + 18]! << 8) | d[q + 19]!) >>> 0);
        const qproto = d[q + 9]!;
        let what = '';
        if (s.icmpCode === 0) what = `net ${qdst} unreachable`;
        else if (s.icmpCode === 1) what = `host ${qdst} unreachable`;
        else if (s.icmpCode === 2) what = `${qdst} protocol ${qproto} unreachable`;
        else if (s.icmpCode === 3 && (qproto === 17 || qproto === 6) && ipLen >= 8 + qhl + 4) {
          what = `${qdst} ${qproto === 17 ? 'udp' : 'tcp'} port ${(d[q + qhl + 2]! << 8) | d[q + qhl + 3]!} unreachable`;
        }
        if (what !== '') return `${t} ${ipName} ${src} > ${dst}: ICMP ${what}, length ${ipLen}${bad}`;
      }
      const echo = (s.icmpType === 0 || s.icmpType === 8) && ipLen >= 8 ? `, id ${(d[o + 4]! << 8) | d[o + 5]!}, seq ${(d[o + 6]! << 8) | d[o + 7]!}` : s.icmpType === 3 ? ` (code ${s.icmpCode})` : '';
      return `${t} ${ipName} ${src} > ${dst}: ICMP ${name}${echo}, length ${ipLen}${bad}`;
    }
    case 'icmpv6': {
      const name = ICMP6_TYPES[s.icmpType] ?? `type ${s.icmpType}`;
      const o = s.transportOffset;
      const echo = (s.icmpType === 128 || s.icmpType === 129) && ipLen >= 8 ? `, id ${(d[o + 4]! << 8) | d[o + 5]!}, seq ${(d[o + 6]! << 8) | d[o + 7]!}` : '';
      return `${t} ${ipName} ${src} > ${dst}: ICMP6, ${name}${echo}, length ${ipLen}${bad}`;
    }
    default:
      return `${t} ${ipName} ${src} > ${dst}: ip-proto-${s.protocol} ${ipLen}${bad}`;
  }
}

/** A text table: first row is the header; numeric cells right-aligned. */
export function renderTable(rows: (string | number)[][]): string {
  if (rows.length === 0) return '';
  const cols = Math.max(...rows.map((r) => r.length));
  const width: number[] = [];
  for (let c = 0; c < cols; c++) width.push(Math.max(...rows.map((r) => String(r[c] ?? '').length)));
  const line = (r: (string | number)[]) =>
    r.map((v, c) => (typeof v === 'number' ? String(v).padStart(width[c]!) : String(v).padEnd(width[c]!))).join('  ').trimEnd();
  const out = [line(rows[0]!), width.map((w) => '-'.repeat(w)).join('  ')];
  for (const r of rows.slice(1)) out.push(line(r));
  return out.join('\n');
}

function hierarchyRows(nodes: ProtocolHierarchyNode[], total: number, depth: number, rows: (string | number)[][]): void {
  for (const n of nodes) {
    rows.push([`${'  '.repeat(depth)}${n.protocol}`, n.packets, n.bytes, `${total ? ((n.packets / total) * 100).toFixed(1) : '0.0'}%`]);
    hierarchyRows(n.children, total, depth + 1, rows);
  }
}

function conversationRows(list: Conversation[], t0: number): (string | number)[][] {
  const rows: (string | number)[][] = [['Protocol', 'Address A', 'Port A', 'Address B', 'Port B', 'Pkts A→B', 'Bytes A→B', 'Pkts B→A', 'Bytes B→A', 'Rel start', 'Duration', 'State', 'App']];
  for (const c of list) {
    rows.push([
      c.protocol, c.addressA, c.portA, c.addressB, c.portB, c.packetsAtoB, c.bytesAtoB, c.packetsBtoA, c.bytesBtoA,
      (c.firstTime - t0).toFixed(6), c.duration.toFixed(4), c.state, c.application ? `${c.application}${c.applicationDetail ? ` ${c.applicationDetail}` : ''}` : '',
    ]);
  }
  return rows;
}

function countBy<T>(items: T[], key: (x: T) => string): [string, number][] {
  const m = new Map<string, number>();
  for (const x of items) m.set(key(x), (m.get(key(x)) ?? 0) + 1);
  return [...m].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}

function parseCount(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw new NetworkError('INVALID_ARGUMENT', `expected a non-negative integer, got '${v}'`, { actual: v });
  return n;
}

/** Runs `read`; resolves when done. Exported for tests. */
/** `-` means standard input (e.g. `tcpdump -w - | elysia-net read -`). */
function openInput(file: string): Promise<CaptureFileReader> {
  return file === '-' ? openCapture(process.stdin) : openCapture(file);
}

export async function runReadCommand(file: string, opts: { count?: number; verbose?: boolean; progress?: boolean; filter?: string }, out: (line: string) => void = (l) => process.stdout.write(l + '\n')): Promise<number> {
  // A tcpdump expression, compiled before the file is opened so a bad one fails fast with its position.
  const filter = opts.filter ? new CaptureFilter(opts.filter) : null;
  const reader = await openInput(file);
  const progress = new Progress(reader, wantProgress(reader, opts.progress, true));
  const s = new PacketSummary();
  let n = 0;
  const limit = opts.count ?? Infinity;
  try {
    outer: for await (const batch of reader.batches()) {
      const nano = reader.info?.pcapHeader?.nanosecond ?? (reader.format === 'pcapng');
      for (const p of batch) {
        if (n >= limit) break outer;
        if (filter && !filter.matchesBytes(p.data, p.linktype)) continue;
        n++;
        out(formatPacketLine(p, summarizePacket(p.data, p.linktype, s), nano));
        if (opts.verbose) {
          out(dissect(p.data, p.linktype, { originalLength: p.originalLength }).toText().split('\n').map((l) => `    ${l}`).join('\n'));
        }
      }
      progress.tick();
    }
  } finally {
    progress.done();
    await reader.close();
  }
  return n;
}

/** Everything `stats` prints, as data (for --json and tests). */
export interface CaptureStatsReport {
  file: string;
  format: string | null;
  linktypes: string[];
  stats: ReturnType<PacketAnalyzer['getStats']>;
  hierarchy: ProtocolHierarchyNode[];
  conversations: Conversation[];
  topFlows: Conversation[];
  dpi: { http: [string, number][]; tls: [string, number][]; dns: [string, number][]; quic: [string, number][] };
}

/** Reads a whole capture through a PacketAnalyzer. */
export async function analyzeCaptureFile(file: string, opts: { progress?: boolean; top?: number; filter?: string } = {}): Promise<{ analyzer: PacketAnalyzer; report: CaptureStatsReport }> {
  const a = new PacketAnalyzer(opts.filter ? { filter: opts.filter } : {});
  const reader = await openInput(file);
  const progress = new Progress(reader, wantProgress(reader, opts.progress, false));
  const linktypes = new Set<number>();
  try {
    for await (const batch of reader.batches()) {
      for (const p of batch) {
        linktypes.add(p.linktype);
        a.account(p.data, p.linktype, p.originalLength, p.tsSec, p.tsNsec);
      }
      progress.tick();
    }
  } finally {
    progress.done();
    await reader.close();
  }
  const top = opts.top ?? 10;
  const f = a.getDpiFindings();
  const report: CaptureStatsReport = {
    file,
    format: reader.format,
    linktypes: [...linktypes].map(linkTypeName),
    stats: a.getStats(),
    hierarchy: a.getProtocolHierarchy(),
    conversations: a.getConversations(),
    topFlows: a.getTopFlows(top),
    dpi: {
      http: countBy(f.filter((x) => x.kind === 'http'), (x) => (x.kind === 'http' ? `${x.method} ${x.host ?? ''}${x.uri}` : '')),
      tls: countBy(f.filter((x) => x.kind === 'tls'), (x) => (x.kind === 'tls' ? `${x.sni ?? '(no SNI)'}${x.alpn.length ? ` [${x.alpn.join(',')}]` : ''}` : '')),
      dns: countBy(f.filter((x) => x.kind === 'dns' && !x.response), (x) => (x.kind === 'dns' ? `${x.typeName} ${x.name}` : '')),
      quic: countBy(f.filter((x) => x.kind === 'quic'), (x) => (x.kind === 'quic' ? `v0x${x.version.toString(16)} ${x.packetTypeName} dcid ${x.dcidHex}` : '')),
    },
  };
  return { analyzer: a, report };
}

/** The text `stats` prints. */
export function formatStatsReport(r: CaptureStatsReport, top: number): string {
  const st = r.stats;
  const out: string[] = [];
  const dur = st.lastTime - st.firstTime;
  out.push(`File: ${r.file} (${r.format}, ${r.linktypes.join(', ') || 'no packets'})`);
  out.push(`Packets: ${st.packets}, bytes: ${st.bytes}, duration: ${dur.toFixed(6)} s${dur > 0 ? `, ${(st.packets / dur).toFixed(1)} pkt/s, ${((st.bytes * 8) / dur / 1e3).toFixed(1)} kbit/s` : ''}${st.malformedPackets ? `, malformed: ${st.malformedPackets}` : ''}`);
  out.push('');
  out.push('Protocol hierarchy');
  const rows: (string | number)[][] = [['Protocol', 'Packets', 'Bytes', '% packets']];
  hierarchyRows(r.hierarchy, st.packets, 0, rows);
  out.push(renderTable(rows));
  const t0 = st.firstTime;
  for (const proto of ['tcp', 'udp']) {
    const list = r.conversations.filter((c) => c.protocol === proto);
    if (list.length === 0) continue;
    out.push('');
    // The largest conversations when there are many, listed in order of first packet as tshark does.
    const shown = [...list].sort((a, b) => b.bytes - a.bytes).slice(0, Math.max(top, 1) * 5).sort((a, b) => a.firstTime - b.firstTime);
    out.push(`${proto.toUpperCase()} conversations (${list.length}${shown.length < list.length ? `, largest ${shown.length} shown` : ''})`);
    out.push(renderTable(conversationRows(shown, t0)));
  }
  const others = r.conversations.filter((c) => c.protocol !== 'tcp' && c.protocol !== 'udp');
  if (others.length) {
    out.push('');
    out.push(`Other conversations (${others.length})`);
    out.push(renderTable(conversationRows(others.slice(0, top * 5), t0)));
  }
  out.push('');
  out.push(`Top ${r.topFlows.length} flows by bytes`);
  out.push(renderTable([['#', 'Flow', 'Packets', 'Bytes', 'State', 'App'], ...r.topFlows.map((c, i) => [i + 1, c.key, c.packets, c.bytes, c.state, c.application ?? ''] as (string | number)[])]));
  const dpi: [string, [string, number][]][] = [['HTTP requests', r.dpi.http], ['TLS ClientHello (SNI, ALPN)', r.dpi.tls], ['DNS queries', r.dpi.dns], ['QUIC long headers', r.dpi.quic]];
  for (const [title, list] of dpi) {
    if (list.length === 0) continue;
    out.push('');
    out.push(`${title} (${list.reduce((a, x) => a + x[1], 0)})`);
    out.push(renderTable([['Count', 'Finding'], ...list.slice(0, top * 2).map(([k, n]) => [n, k] as (string | number)[])]));
  }
  return out.join('\n');
}

export function registerCaptureCommands(program: Command): void {
  program
    .command('read')
    .description('print one line per packet of a pcap/pcapng file, like tcpdump -r (-v: the dissection tree)')
    .argument('<file>', "pcap or pcapng file ('-' for standard input)")
    .argument('[expression...]', "a tcpdump filter, e.g. 'tcp port 80' (compiled to eBPF)")
    .option('-c, --count <n>', 'stop after n packets', parseCount)
    .option('-v, --verbose', 'print the dissection of each packet')
    .option('--no-progress', 'no progress indicator on stderr')
    .action(async (file: string, expression: string[], opts: { count?: number; verbose?: boolean; progress?: boolean }) => {
      await runReadCommand(file, { ...opts, filter: expression.length ? expression.join(' ') : undefined });
    });
  program
    .command('stats')
    .description('protocol hierarchy, conversations, top flows and DPI findings of a pcap/pcapng file')
    .argument('<file>', "pcap or pcapng file ('-' for standard input)")
    .argument('[expression...]', 'only packets this tcpdump filter accepts')
    .option('--top <n>', 'rows in the top-flows and findings tables', parseCount, 10)
    .option('--json', 'print the report as JSON')
    .option('--no-progress', 'no progress indicator on stderr')
    .action(async (file: string, expression: string[], opts: { top: number; json?: boolean; progress?: boolean }) => {
      const { report } = await analyzeCaptureFile(file, { progress: opts.progress, top: opts.top, filter: expression.length ? expression.join(' ') : undefined });
      if (opts.json) {
        console.log(JSON.stringify(report, (_k, v: unknown) => (typeof v === 'bigint' ? v.toString() : v instanceof Uint8Array ? Buffer.from(v).toString('hex') : v), 2));
      } else {
        console.log(formatStatsReport(report, opts.top));
      }
    });
}
