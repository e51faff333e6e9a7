// Checked against real tools: traffic made on loopback in a private network namespace, captured by
// tcpdump (pcap, Ethernet and Linux SLL2) and dumpcap (pcapng), then read by us and by tshark, field by
// field. Our writers' files are read back by tshark. Conversations and the protocol hierarchy are
// compared with `tshark -z conv,tcp|udp` and `-z io,phs`. The small fixtures in test/fixtures (captured the
// same way) are checked too, so the comparisons run even where no namespace can be made.
import { describe, expect, beforeAll, afterAll } from 'vitest';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { canUseNetns, itWithTools } from '../helpers/tools.js';
import { captureTraffic, type TrafficCaptures } from './helpers/traffic.js';
import {
  CaptureBufferReader, PacketAnalyzer, PacketSummary, PcapLinkType, createCaptureWriter, openCapture, readCaptureSync, summarizePacket,
  parseDnsMessage, parseHttpRequest, parseQuicLongHeader, parseTlsClientHello, type CapturePacket, type CaptureWriterOptions,
} from '../../src/capture/index.js';
import { dissect } from '../../src/wire/dissect.js';
import { runReadCommand } from '../../src/cli/capture.js';

const fixture = (n: string) => fileURLToPath(new URL(`../fixtures/${n}`, import.meta.url));
const FIXTURES = [fixture('lo-traffic.pcap'), fixture('lo-traffic.pcapng'), fixture('any-sll2-ns.pcap')];
/** Linux cooked v1 (tcpdump -i any -y LINUX_SLL): one ping. */
const SLL1 = fixture('any-sll-ping.pcap');

function tshark(args: string[]): string {
  return execFileSync('tshark', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20 });
}

/** `tshark -T fields` rows: one array of values per frame. */
function tsharkFields(file: string, fields: string[]): string[][] {
  const out = tshark(['-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', ...fields.flatMap((f) => ['-e', f])]);
  return out.split('\n').filter((l) => l !== '').map((l) => l.split('\t'));
}

// Header fields our dissection must print exactly as tshark does.
const HEADER_FIELDS = [
  'frame.len', 'frame.cap_len', 'eth.src', 'eth.dst', 'eth.type', 'sll.etype', 'sll.pkttype', 'sll.ifindex',
  'ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.len', 'ip.id', 'ip.flags', 'ip.flags.df', 'ip.flags.mf', 'ip.frag_offset', 'ip.ttl', 'ip.proto',
  'ip.checksum', 'ip.src', 'ip.dst',
  'ipv6.version', 'ipv6.tclass', 'ipv6.flow', 'ipv6.plen', 'ipv6.nxt', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst',
  'tcp.srcport', 'tcp.dstport', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.flags', 'tcp.flags.syn', 'tcp.flags.ack', 'tcp.flags.fin',
  'tcp.flags.push', 'tcp.flags.reset', 'tcp.window_size_value', 'tcp.checksum', 'tcp.urgent_pointer', 'tcp.len',
  'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.sack_perm', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr',
  'udp.srcport', 'udp.dstport', 'udp.length', 'udp.checksum',
  'icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.ident', 'icmp.seq', 'icmpv6.type', 'icmpv6.code', 'icmpv6.checksum',
];

function frameTime(p: CapturePacket): string {
  return `${p.tsSec}.${String(p.tsNsec).padStart(9, '0')}`;
}

/** What our DPI says about a packet, in tshark's field formats. */
function dpiFields(p: CapturePacket, s: PacketSummary): Record<string, string> {
  const r: Record<string, string> = {};
  const len = Math.min(s.payloadLength, p.data.length - s.payloadOffset);
  if (len <= 0) return r;
  if (s.kind === 'tcp') {
    const h = parseHttpRequest(p.data, s.payloadOffset, len);
    if (h) {
      r['http.request.method'] = h.method;
      r['http.request.uri'] = h.uri;
      r['http.request.version'] = h.version;
      r['http.host'] = h.host ?? '';
    }
    const t = parseTlsClientHello(p.data, s.payloadOffset, len);
    if (t) {
      r['tls.handshake.extensions_server_name'] = t.sni ?? '';
      r['tls.handshake.extensions_alpn_str'] = t.alpn.join(',');
    }
  } else if (s.kind === 'udp') {
    const q = parseDnsMessage(p.data, s.payloadOffset, len);
    if (q && (s.srcPort === 53 || s.dstPort === 53)) {
      r['dns.id'] = `0x${q.id.toString(16).padStart(4, '0')}`;
      r['dns.qry.name'] = q.name;
      r['dns.qry.type'] = String(q.type);
      r['dns.flags.response'] = q.response ? '1' : '0';
    }
    const qh = parseQuicLongHeader(p.data, s.payloadOffset, len, s.srcPort === 443 || s.dstPort === 443);
    if (qh) {
      r['quic.version'] = `0x${qh.version.toString(16).padStart(8, '0')}`;
      r['quic.dcid'] = Buffer.from(qh.dcid).toString('hex');
      r['quic.scid'] = Buffer.from(qh.scid).toString('hex');
    }
  }
  return r;
}

const DPI_FIELDS = [
  'http.request.method', 'http.request.uri', 'http.request.version', 'http.host', 'tls.handshake.extensions_server_name', 'tls.handshake.extensions_alpn_str',
  'dns.id', 'dns.qry.name', 'dns.qry.type', 'dns.flags.response', 'quic.version', 'quic.dcid', 'quic.scid',
];

/** Compares every packet of `file`: timing and lengths, header fields via dissect(), DPI fields. */
function compareWithTshark(file: string): { packets: number; dpiFrames: number } {
  const ours = readCaptureSync(readFileSync(file));
  const frameFields = ['frame.number', 'frame.time_epoch', 'frame.interface_id'];
  const theirs = tsharkFields(file, [...frameFields, ...HEADER_FIELDS, ...DPI_FIELDS]);
  expect(theirs.length).toBe(ours.length);
  const s = new PacketSummary();
  let dpiFrames = 0;
  for (let i = 0; i < ours.length; i++) {
    const p = ours[i]!;
    const row = theirs[i]!;
    const col = (name: string, base: string[]) => row[base.indexOf(name)] ?? '';
    const all = [...frameFields, ...HEADER_FIELDS, ...DPI_FIELDS];
    expect(frameTime(p), `frame ${i + 1} time`).toBe(col('frame.time_epoch', all));
    if (file.endsWith('.pcapng')) expect(String(p.interfaceId)).toBe(col('frame.interface_id', all));
    const d = dissect(p.data, p.linktype, { originalLength: p.originalLength });
    const want: Record<string, string> = {};
    const got: Record<string, string> = {};
    for (const f of HEADER_FIELDS) {
      want[f] = col(f, all);
      got[f] = d.field(f);
    }
    expect(got, `frame ${i + 1} header fields`).toEqual(want);
    // tshark also dissects the datagram quoted inside an ICMP error; our DPI looks at real payloads only.
    const icmpError = ['3', '11', '1', '2'].includes(col('icmp.type', all)) || ['1', '2', '3', '4'].includes(col('icmpv6.type', all));
    if (icmpError) continue;
    const dp = dpiFields(p, summarizePacket(p.data, p.linktype, s));
    const wantDpi: Record<string, string> = {};
    for (const f of DPI_FIELDS) {
      const v = col(f, all);
      if (v !== '') wantDpi[f] = v;
    }
    // tshark's HTTP and DNS dissectors also decode responses; ours reads requests (HTTP) and both (DNS).
    if (wantDpi['http.request.method'] === undefined) for (const k of Object.keys(wantDpi)) if (k.startsWith('http.')) delete wantDpi[k];
    if (Object.keys(wantDpi).length > 0) dpiFrames++;
    expect(dp, `frame ${i + 1} DPI`).toEqual(wantDpi);
  }
  return { packets: ours.length, dpiFrames };
}

interface TsharkConv {
  a: string;
  b: string;
  framesBA: number;
  bytesBA: number;
  framesAB: number;
  bytesAB: number;
  start: string;
  duration: string;
}

function parseUnits(n: string, unit: string): number {
  const v = Number(n);
  if (unit === 'bytes') return v;
  if (unit === 'kB') return v * 1000;
  if (unit === 'MB') return v * 1e6;
  throw new Error(`unit ${unit}`);
}

// One tshark run per file gives conversations and the hierarchy (tshark starts slowly).
const statsCache = new Map<string, string>();
function tsharkStats(file: string): string {
  let out = statsCache.get(file);
  if (out === undefined) {
    out = tshark(['-r', file, '-q', '-z', 'conv,tcp', '-z', 'conv,udp', '-z', 'io,phs']);
    statsCache.set(file, out);
  }
  return out;
}

/** Rows of `tshark -q -z conv,<proto>`. Byte columns print with units ('76 bytes'). */
function tsharkConversations(file: string, proto: 'tcp' | 'udp'): TsharkConv[] {
  const all = tsharkStats(file);
  const start = all.indexOf(`${proto.toUpperCase()} Conversations`);
  expect(start).toBeGreaterThanOrEqual(0);
  const end = all.indexOf('=====', start);
  const out = all.slice(start, end < 0 ? undefined : end);
  const rows: TsharkConv[] = [];
  const re = /^(\S+)\s+<->\s+(\S+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+(\d+)\s+(\d+)\s+(\w+)\s+([\d.]+)\s+([\d.]+)\s*$/;
  for (const line of out.split('\n')) {
    const m = re.exec(line);
    if (!m) continue;
    rows.push({
      a: m[1]!, b: m[2]!, framesBA: Number(m[3]), bytesBA: parseUnits(m[4]!, m[5]!), framesAB: Number(m[6]), bytesAB: parseUnits(m[7]!, m[8]!),
      start: m[12]!, duration: m[13]!,
    });
  }
  return rows;
}

function compareConversations(file: string): number {
  const a = new PacketAnalyzer();
  for (const p of readCaptureSync(readFileSync(file))) a.analyzePacket(p);
  const [s0, n0] = a.firstPacketTime!;
  let n = 0;
  for (const proto of ['tcp', 'udp'] as const) {
    const want = tsharkConversations(file, proto);
    const got = a.getConversations(proto).map((c) => {
      // Relative start as tshark prints it: 9 decimals, computed exactly from the nanosecond timestamps.
      const rel = (c.firstTimestamp - (BigInt(s0) * 1_000_000_000n + BigInt(n0)));
      const start = `${rel / 1_000_000_000n}.${String(rel % 1_000_000_000n).padStart(9, '0')}`;
      return {
        a: `${c.addressA}:${c.portA}`, b: `${c.addressB}:${c.portB}`, framesBA: c.packetsBtoA, bytesBA: c.bytesBtoA, framesAB: c.packetsAtoB, bytesAB: c.bytesAtoB,
        start, duration: c.duration.toFixed(4),
      };
    });
    const key = (c: { a: string; b: string }) => `${c.a} ${c.b}`;
    expect([...got].sort((x, y) => (key(x) < key(y) ? -1 : 1))).toEqual([...want].sort((x, y) => (key(x) < key(y) ? -1 : 1)));
    n += want.length;
  }
  return n;
}

interface PhsNode {
  name: string;
  frames: number;
  bytes: number;
  depth: number;
}

function tsharkHierarchy(file: string): PhsNode[] {
  const all = tsharkStats(file);
  const start = all.indexOf('Protocol Hierarchy Statistics');
  const out = all.slice(start, all.indexOf('=====', start));
  const nodes: PhsNode[] = [];
  for (const line of out.split('\n')) {
    const m = /^(\s*)(\S+)\s+frames:(\d+)\s+bytes:(\d+)/.exec(line);
    if (m) nodes.push({ name: m[2]!, frames: Number(m[3]), bytes: Number(m[4]), depth: m[1]!.length / 2 });
  }
  return nodes;
}

let traffic: TrafficCaptures | null = null;
const dirs: string[] = [];

function files(): string[] {
  return traffic ? [traffic.pcap, traffic.pcapng, traffic.sll2, ...FIXTURES] : FIXTURES;
}

describe('capture against tcpdump, dumpcap and tshark', () => {
  beforeAll(async () => {
    if (canUseNetns() && ['tcpdump', 'dumpcap', 'tshark'].every((t) => { try { execFileSync('sh', ['-c', `command -v ${t}`]); return true; } catch { return false; } })) {
      // On a loaded machine a capturer may start or drain late: check the captures hold all the traffic
      // we made, and capture again (at most three times) if one missed something.
      for (let attempt = 1; attempt <= 3; attempt++) {
        traffic = await captureTraffic();
        dirs.push(traffic.dir);
        const complete = [traffic.pcap, traffic.pcapng, traffic.sll2].every((f) => {
          try {
            const a = new PacketAnalyzer();
            for (const p of readCaptureSync(readFileSync(f))) a.analyzePacket(p);
            const st = a.getStats();
            return st.httpPackets === 2 && st.tlsPackets === 1 && st.quicPackets === 1 && st.dnsPackets === 4 && st.icmpPackets >= 1 && st.icmpv6Packets >= 2 &&
              a.getConversations('tcp').every((c) => c.state === 'CLOSED');
          } catch {
            return false;
          }
        });
        if (complete) break;
        console.warn(`capture attempt ${attempt} missed packets; capturing again`);
      }
    } else if (process.env.CI) {
      throw new Error('CI: cannot create a network namespace or run the capture tools (run as root with iproute2, tcpdump, tshark installed)');
    } else {
      console.warn('capture tool tests: no network namespace here (needs root); comparing the stored fixtures only');
    }
  }, 150_000);

  afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  itWithTools(['tshark'], 'fresh captures hold the traffic we made (HTTP, TLS, DNS, QUIC, ICMP over IPv4 and IPv6)', () => {
    if (!traffic) return;
    for (const f of [traffic.pcap, traffic.pcapng, traffic.sll2]) {
      const a = new PacketAnalyzer();
      for (const p of readCaptureSync(readFileSync(f))) a.analyzePacket(p);
      const st = a.getStats();
      expect(st.httpPackets).toBe(2);
      expect(st.tlsPackets).toBe(1);
      expect(st.quicPackets).toBe(1);
      expect(st.dnsPackets).toBe(4);
      expect(st.icmpv6Packets).toBeGreaterThanOrEqual(2);
      expect(a.getConversations('tcp').every((c) => c.state === 'CLOSED')).toBe(true);
    }
    expect(readCaptureSync(readFileSync(traffic.sll2))[0]!.linktype).toBe(PcapLinkType.LINUX_SLL2);
  });

  itWithTools(['tshark'], 'every packet: timestamps, lengths, header fields and DPI fields equal tshark -T fields', () => {
    let dpi = 0;
    for (const f of files()) {
      const r = compareWithTshark(f);
      expect(r.packets).toBeGreaterThan(30);
      dpi += r.dpiFrames;
    }
    // HTTP ×2, TLS, DNS ×4, QUIC in every file.
    expect(dpi).toBe(8 * files().length);
  });

  itWithTools(['tshark'], 'conversations equal tshark -z conv,tcp and -z conv,udp', () => {
    for (const f of files()) expect(compareConversations(f)).toBe(6);
  });

  itWithTools(['tshark'], 'protocol hierarchy (link, network, transport levels) equals tshark -z io,phs', () => {
    for (const f of files()) {
      const a = new PacketAnalyzer();
      for (const p of readCaptureSync(readFileSync(f))) a.analyzePacket(p);
      const ours = a.getProtocolHierarchy();
      const theirs = tsharkHierarchy(f);
      // Root: the link layer (tshark names Linux cooked v1 and v2 both 'sll').
      const root = ours[0]!;
      expect(ours).toHaveLength(1);
      expect([root.packets, root.bytes]).toEqual([theirs[0]!.frames, theirs[0]!.bytes]);
      // Depth 1 (ip, ipv6) and depth 2 under them (tcp, udp, icmp, icmpv6).
      let parent = '';
      const want: string[] = [];
      for (const n of theirs) {
        if (n.depth === 1) parent = n.name;
        if (n.depth === 1 || (n.depth === 2 && ['tcp', 'udp', 'icmp', 'icmpv6'].includes(n.name))) want.push(`${n.depth === 1 ? '' : parent + '/'}${n.name} ${n.frames} ${n.bytes}`);
      }
      const got: string[] = [];
      for (const net of root.children) {
        got.push(`${net.protocol} ${net.packets} ${net.bytes}`);
        for (const t of net.children) got.push(`${net.protocol}/${t.protocol} ${t.packets} ${t.bytes}`);
      }
      expect(got.sort()).toEqual(want.sort());
    }
  });

  itWithTools(['tshark'], 'files our writers make are read by tshark: same count, lengths and timestamps', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elysia-wr-'));
    dirs.push(dir);
    const src = readCaptureSync(readFileSync(files()[0]!));
    const eth = src.filter((p) => p.linktype === PcapLinkType.ETHERNET);
    const variants: { name: string; opts: CaptureWriterOptions; packets: { data: Uint8Array; tsSec: number; tsNsec: number; originalLength: number }[]; proto: string }[] = [];
    const strip = (p: CapturePacket, n: number, prefix?: Uint8Array) => {
      const body = p.data.subarray(n);
      const data = prefix ? new Uint8Array([...prefix, ...body]) : body.slice();
      return { data, tsSec: p.tsSec, tsNsec: p.tsNsec, originalLength: p.originalLength - n + (prefix?.length ?? 0) };
    };
    const asIs = eth.map((p) => strip(p, 0));
    for (const format of ['pcap', 'pcapng'] as const) {
      for (const nanosecond of [false, true]) {
        for (const littleEndian of [true, false]) {
          variants.push({ name: `${format}-${nanosecond ? 'ns' : 'us'}-${littleEndian ? 'le' : 'be'}`, opts: { format, nanosecond, littleEndian, linktype: PcapLinkType.ETHERNET }, packets: asIs, proto: 'eth' });
        }
      }
      // The same IP packets under other link types: raw IP, BSD loopback (AF in host order), Linux SLL2.
      variants.push({ name: `${format}-raw`, opts: { format, linktype: PcapLinkType.RAW }, packets: eth.map((p) => strip(p, 14)), proto: 'raw:ip' });
      variants.push({
        name: `${format}-null`, opts: { format, linktype: PcapLinkType.NULL },
        // BSD AF_INET6 is 24/28/30 (Linux's 10 is not a DLT_NULL value Wireshark knows).
        packets: eth.map((p) => strip(p, 14, Uint8Array.of(p.data[12] === 0x86 ? 24 : 2, 0, 0, 0))), proto: 'null:ip',
      });
      variants.push({
        name: `${format}-sll2`, opts: { format, linktype: PcapLinkType.LINUX_SLL2 },
        packets: eth.map((p) => strip(p, 14, Uint8Array.of(p.data[12]!, p.data[13]!, 0, 0, 0, 0, 0, 1, 3, 4, 0, 6, 0, 0, 0, 0, 0, 0, 0, 0))), proto: 'sll:ethertype:ip',
      });
    }
    for (const v of variants) {
      const path = join(dir, `${v.name}.${v.opts.format}`);
      const w = createCaptureWriter(path, v.opts);
      for (const p of v.packets) w.write(p);
      await w.close();
      const rows = tsharkFields(path, ['frame.len', 'frame.cap_len', 'frame.time_epoch', 'frame.protocols', 'ip.src', 'ipv6.src']);
      expect(rows.length, v.name).toBe(v.packets.length);
      for (let i = 0; i < rows.length; i++) {
        const p = v.packets[i]!;
        const ns = v.opts.nanosecond ? p.tsNsec : Math.floor(p.tsNsec / 1000) * 1000;
        expect(rows[i]!.slice(0, 3), `${v.name} frame ${i + 1}`).toEqual([String(p.originalLength), String(p.data.length), `${p.tsSec}.${String(ns).padStart(9, '0')}`]);
        // tshark found the IP layer under the link type we declared.
        expect(rows[i]![3]!.startsWith(v.proto) || rows[i]![3]!.startsWith(v.proto.replace(':ip', ':ipv6')), `${v.name} frame ${i + 1}: ${rows[i]![3]}`).toBe(true);
        expect(rows[i]![4]! + rows[i]![5]!).not.toBe('');
      }
      // And our reader agrees with what we wrote.
      const back = readCaptureSync(readFileSync(path));
      expect(back.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(v.packets.map((p) => Buffer.from(p.data).toString('hex')));
    }
  });

  itWithTools(['text2pcap'], 'files text2pcap writes (raw IP, BSD loopback; pcap and pcapng) read back byte for byte', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'elysia-t2p-'));
    dirs.push(dir);
    const src = readCaptureSync(readFileSync(FIXTURES[0]!)).filter((p) => p.data[12] === 0x08);
    for (const [lt, prefix] of [[PcapLinkType.RAW, []], [PcapLinkType.NULL, [2, 0, 0, 0]]] as const) {
      // od-style hex dump (offset, then bytes): text2pcap's input format.
      let dump = '';
      for (const p of src) {
        const bytes = [...prefix, ...p.data.subarray(14)];
        for (let o = 0; o < bytes.length; o += 16) {
          dump += `${o.toString(16).padStart(6, '0')} ${bytes.slice(o, o + 16).map((b) => b.toString(16).padStart(2, '0')).join(' ')}\n`;
        }
      }
      writeFileSync(join(dir, 'dump.txt'), dump);
      for (const ng of [false, true]) {
        const out = join(dir, `t2p-${lt}.${ng ? 'pcapng' : 'pcap'}`);
        execFileSync('text2pcap', ['-q', '-l', String(lt), '-F', ng ? 'pcapng' : 'pcap', join(dir, 'dump.txt'), out], { stdio: 'ignore' });
        const r = await openCapture(out, { chunkSize: 4096 });
        const got = await r.toArray();
        expect(r.format).toBe(ng ? 'pcapng' : 'pcap');
        expect(got.map((p) => p.linktype)).toEqual(src.map(() => lt));
        expect(got.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(src.map((p) => Buffer.from([...prefix, ...p.data.subarray(14)]).toString('hex')));
        // Our analyzer finds IPv4 under both link types.
        const a = new PacketAnalyzer({ linktype: lt });
        for (const p of got) a.analyzePacket(p);
        expect(a.getStats().ipv4Packets).toBe(src.length);
      }
    }
  });

  itWithTools(['tcpdump'], 'elysia-net read prints the lines tcpdump -n -S -r prints (our DPI notes aside)', async () => {
    for (const f of [...files(), SLL1]) {
      const ours: string[] = [];
      await runReadCommand(f, { progress: false }, (l) => ours.push(l.replace(/: (HTTP|TLS ClientHello|QUIC).*$/, '')));
      // We print the file's precision: nanoseconds for ns pcap and for pcapng.
      const head = new CaptureBufferReader(readFileSync(f));
      head.next(); // the header is parsed with the first packet
      const info = head.info;
      const nano = info.format === 'pcapng' || info.pcapHeader?.nanosecond === true;
      const theirs = execFileSync('tcpdump', ['-n', '-S', ...(nano ? ['--time-stamp-precision=nano'] : []), '-r', f], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] });
      expect(ours, f).toEqual(theirs.trimEnd().split('\n'));
    }
  });

  itWithTools(['tshark'], 'a real Linux cooked v1 capture: same fields as tshark', () => {
    expect(readCaptureSync(readFileSync(SLL1)).map((p) => p.linktype)).toEqual([PcapLinkType.LINUX_SLL, PcapLinkType.LINUX_SLL]);
    expect(compareWithTshark(SLL1).packets).toBe(2);
  });

  itWithTools(['tshark'], 'the synchronous and streaming readers agree on the real captures', async () => {
    for (const f of files()) {
      const sync = [...new CaptureBufferReader(readFileSync(f))];
      const r = await openCapture(f, { chunkSize: 4096 });
      const stream = await r.toArray();
      expect(stream.map(frameTime)).toEqual(sync.map(frameTime));
    }
  });
});
