// Differential test: every frame of the corpus goes through dissect() and through the real tshark; for a long
// list of fields the strings must be identical, packet by packet (`tshark -T fields -e …` output).
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect } from 'vitest';
import fc from 'fast-check';
import { dissect, DissectSession } from '../../src/wire/dissect.js';
import { buildEthernet, buildIcmpv4, buildIpv4, buildIpv6, buildTcp, buildUdp, formatIpv4Address, formatIpv6Address, type TcpOption } from '../../src/wire/index.js';
import { itWithTools } from '../helpers/tools.js';
import { conversationCorpus, ethernetCorpus, otherLinkCorpus, type CorpusFrame } from './corpus.js';

/** Minimal pcap writer (µs, little-endian) — enough for the test; the capture module has the real one. */
function pcapFile(frames: Uint8Array[], linktype: number, originalLengths: number[] = []): Buffer {
  const gh = Buffer.alloc(24);
  gh.writeUInt32LE(0xa1b2c3d4, 0);
  gh.writeUInt16LE(2, 4);
  gh.writeUInt16LE(4, 6);
  gh.writeUInt32LE(262144, 16);
  gh.writeUInt32LE(linktype, 20);
  const parts: Buffer[] = [gh];
  frames.forEach((f, i) => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(1_700_000_000 + i, 0);
    h.writeUInt32LE(f.length, 8);
    h.writeUInt32LE(originalLengths[i] ?? f.length, 12);
    parts.push(h, Buffer.from(f));
  });
  return Buffer.concat(parts);
}

/** The fields compared (all those dissect() produces, and a few it must agree are absent). */
export const TSHARK_FIELDS = [
  'frame.len', 'frame.cap_len',
  'eth.dst', 'eth.src', 'eth.type', 'eth.len', 'llc.dsap', 'llc.dsap.sap', 'llc.dsap.ig', 'llc.ssap', 'llc.ssap.sap', 'llc.ssap.cr', 'llc.control', 'llc.oui', 'llc.type', 'llc.pid', 'eth.addr', 'eth.dst.ig', 'eth.dst.lg', 'eth.src.ig', 'eth.src.lg', 'eth.ig', 'eth.lg', 'eth.padding', 'eth.trailer', 'eth.fcs', 'eth.fcs.status',
  'vlan.priority', 'vlan.dei', 'vlan.id', 'vlan.etype', 'vlan.len', 'ieee8021ad.priority', 'ieee8021ad.dei', 'ieee8021ad.id', 'ieee8021ad.svid', 'ieee8021ad.cvid',
  'sll.pkttype', 'sll.hatype', 'sll.halen', 'sll.src.eth', 'sll.unused', 'sll.etype', 'sll.ifindex', 'null.family',
  'arp.hw.type', 'arp.proto.type', 'arp.hw.size', 'arp.proto.size', 'arp.opcode', 'arp.src.hw_mac', 'arp.src.proto_ipv4', 'arp.dst.hw_mac', 'arp.dst.proto_ipv4',
  'ip.version', 'ip.hdr_len', 'ip.dsfield', 'ip.dsfield.dscp', 'ip.dsfield.ecn', 'ip.len', 'ip.id', 'ip.flags', 'ip.flags.rb', 'ip.flags.df', 'ip.flags.mf',
  'ip.frag_offset', 'ip.ttl', 'ip.proto', 'ip.checksum', 'ip.checksum.status', 'ip.src', 'ip.dst', 'ip.addr', 'ip.src_host', 'ip.dst_host', 'ip.host', 'ip.opt.type', 'ip.opt.len',
  'ipv6.version', 'ipv6.tclass', 'ipv6.tclass.dscp', 'ipv6.tclass.ecn', 'ipv6.flow', 'ipv6.plen', 'ipv6.nxt', 'ipv6.hlim', 'ipv6.src', 'ipv6.dst', 'ipv6.addr', 'ipv6.host',
  'ipv6.hopopts.nxt', 'ipv6.hopopts.len', 'ipv6.hopopts.len_oct', 'ipv6.dstopts.nxt', 'ipv6.dstopts.len', 'ipv6.opt.type', 'ipv6.opt.length', 'ipv6.opt.padn', 'ipv6.opt.router_alert',
  'ipv6.routing.nxt', 'ipv6.routing.len', 'ipv6.routing.type', 'ipv6.routing.segleft', 'ipv6.routing.src.addr',
  'ipv6.fraghdr.nxt', 'ipv6.fraghdr.offset', 'ipv6.fraghdr.more', 'ipv6.fraghdr.ident',
  'tcp.srcport', 'tcp.dstport', 'tcp.port', 'tcp.seq_raw', 'tcp.ack_raw', 'tcp.hdr_len', 'tcp.len', 'tcp.flags', 'tcp.flags.res', 'tcp.flags.ae', 'tcp.flags.cwr', 'tcp.flags.ece',
  'tcp.flags.urg', 'tcp.flags.ack', 'tcp.flags.push', 'tcp.flags.reset', 'tcp.flags.syn', 'tcp.flags.fin', 'tcp.flags.str', 'tcp.window_size_value', 'tcp.checksum',
  'tcp.urgent_pointer', 'tcp.option_kind', 'tcp.option_len', 'tcp.options.mss_val', 'tcp.options.wscale.shift', 'tcp.options.wscale.multiplier', 'tcp.options.sack_perm',
  'tcp.options.sack.count', 'tcp.options.timestamp.tsval', 'tcp.options.timestamp.tsecr', 'tcp.payload',
  'udp.srcport', 'udp.dstport', 'udp.port', 'udp.length', 'udp.checksum', 'udp.payload',
  'icmp.type', 'icmp.code', 'icmp.checksum', 'icmp.checksum.status', 'icmp.ident', 'icmp.ident_le', 'icmp.seq', 'icmp.seq_le', 'icmp.mtu', 'icmp.unused', 'icmp.redir_gw', 'icmp.pointer', 'icmp.originate_timestamp', 'icmp.receive_timestamp', 'icmp.transmit_timestamp', 'icmp.address_mask',
  'icmpv6.type', 'icmpv6.code', 'icmpv6.checksum', 'icmpv6.checksum.status', 'icmpv6.echo.identifier', 'icmpv6.echo.sequence_number', 'icmpv6.reserved', 'icmpv6.mtu',
  'icmpv6.nd.ns.target_address', 'icmpv6.nd.na.target_address', 'icmpv6.nd.na.flag', 'icmpv6.nd.na.flag.r', 'icmpv6.nd.na.flag.s', 'icmpv6.nd.na.flag.o',
  'icmpv6.opt', 'icmpv6.opt.type', 'icmpv6.opt.length', 'icmpv6.opt.linkaddr', 'icmpv6.opt.src_linkaddr', 'icmpv6.opt.target_linkaddr',
  'icmpv6.nd.ra.cur_hop_limit', 'icmpv6.nd.ra.flag', 'icmpv6.nd.ra.flag.m', 'icmpv6.nd.ra.flag.o', 'icmpv6.nd.ra.flag.h', 'icmpv6.nd.ra.flag.prf', 'icmpv6.nd.ra.flag.p',
  'icmpv6.nd.ra.router_lifetime', 'icmpv6.nd.ra.reachable_time', 'icmpv6.nd.ra.retrans_timer', 'icmpv6.opt.prefix.length', 'icmpv6.opt.prefix.flag',
  'icmpv6.opt.prefix.flag.l', 'icmpv6.opt.prefix.flag.a', 'icmpv6.opt.prefix.valid_lifetime', 'icmpv6.opt.prefix.preferred_lifetime', 'icmpv6.opt.prefix', 'icmpv6.opt.mtu',
  'gre.flags_and_version', 'gre.flags.checksum', 'gre.flags.routing', 'gre.flags.key', 'gre.flags.sequence_number', 'gre.flags.strict_source_route',
  'gre.flags.recursion_control', 'gre.flags.reserved', 'gre.flags.version', 'gre.proto', 'gre.checksum', 'gre.checksum.status', 'gre.offset', 'gre.key', 'gre.sequence_number',
  'ah.next_header', 'ah.length', 'ah.reserved', 'ah.spi', 'ah.sequence', 'ah.icv', 'esp.spi', 'esp.sequence',
  'data.data', 'data.len',
];

function tsharkFields(file: string, fields: string[]): string[][] {
  const args = ['-n', '-r', file, '-T', 'fields', '-E', 'separator=/t', '-E', 'occurrence=a', '-E', 'aggregator=,'];
  for (const f of fields) args.push('-e', f);
  const r = spawnSync('tshark', args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`tshark failed (${r.status}): ${r.stderr}`);
  return r.stdout.split('\n').filter((l, i, a) => l.length > 0 || i < a.length - 1).map((l) => l.split('\t'));
}

const STATEFUL_FIELDS = ['tcp.stream', 'tcp.seq', 'tcp.ack', 'tcp.nxtseq', 'tcp.window_size', 'tcp.window_size_scalefactor', 'udp.stream'];

function compare(dir: string, name: string, frames: CorpusFrame[], linktype: number, fields = TSHARK_FIELDS, session?: DissectSession, minPerFrame = 5): string[] {
  const file = join(dir, `${name}.pcap`);
  writeFileSync(file, pcapFile(frames.map((f) => f.frame), linktype, frames.map((f) => f.originalLength ?? f.frame.length)));
  const rows = tsharkFields(file, fields);
  expect(rows.length).toBe(frames.length);
  const mismatches: string[] = [];
  let compared = 0;
  frames.forEach((fr, i) => {
    const opts = { originalLength: fr.originalLength ?? fr.frame.length };
    const d = session ? session.dissect(fr.frame, linktype, opts) : dissect(fr.frame, linktype, opts);
    fields.forEach((f, j) => {
      const want = rows[i]![j] ?? '';
      const got = d.field(f);
      if (want !== '') compared++;
      if (got !== want) mismatches.push(`#${i + 1} ${fr.name}: ${f}: ours '${got}' tshark '${want}'`);
    });
  });
  // Guard against a vacuous pass (tshark printing nothing): most frames carry many fields.
  expect(compared).toBeGreaterThan(frames.length * minPerFrame);
  return mismatches;
}

/** Random frames from the builders: random headers, flags, options, addresses, VLANs, ICMP errors. */
function randomFrames(seed: number, n: number): CorpusFrame[] {
  const u16 = fc.integer({ min: 0, max: 0xffff });
  const u32 = fc.integer({ min: 0, max: 0xffffffff });
  const v4 = u32.map(formatIpv4Address);
  const v6 = fc.uint8Array({ minLength: 16, maxLength: 16 }).map((b) => formatIpv6Address(b));
  const opt: fc.Arbitrary<TcpOption> = fc.oneof(
    fc.constant({ type: 'nop' as const }),
    u16.map((value) => ({ type: 'mss' as const, value })),
    fc.integer({ min: 0, max: 14 }).map((shift) => ({ type: 'windowScale' as const, shift })),
    fc.constant({ type: 'sackPermitted' as const }),
    fc.tuple(u32, u32).map(([value, echo]) => ({ type: 'timestamps' as const, value, echo })),
  );
  const tag = fc.record({ tpid: fc.constantFrom(0x8100, 0x88a8), pcp: fc.integer({ min: 0, max: 7 }), dei: fc.boolean(), id: fc.integer({ min: 0, max: 4095 }) });
  // Ephemeral ports keep tshark's port-registered dissectors out; one stream per frame is not needed
  // because only header fields are compared here.
  const port = fc.integer({ min: 49152, max: 65535 });
  const transport = fc.oneof(
    fc.record({ k: fc.constant('tcp' as const), sp: port, dp: port, seq: u32, ack: u32, flags: fc.integer({ min: 0, max: 0x1ff }), win: u16, urg: u16, opts: fc.array(opt, { maxLength: 4 }), len: fc.integer({ min: 0, max: 40 }) }),
    fc.record({ k: fc.constant('udp' as const), sp: port, dp: port, len: fc.integer({ min: 0, max: 40 }), ck: fc.boolean() }),
    fc.record({ k: fc.constant('icmp' as const), t: fc.constantFrom(0, 8), id: u16, sq: u16, len: fc.integer({ min: 0, max: 40 }) }),
  );
  const frame = fc.record({ six: fc.boolean(), a4: v4, b4: v4, a6: v6, b6: v6, ttl: fc.integer({ min: 0, max: 255 }), tos: fc.integer({ min: 0, max: 255 }), id: u16, df: fc.boolean(), tags: fc.array(tag, { maxLength: 2 }), t: transport });
  return fc.sample(frame, { seed, numRuns: n }).map((r, i) => {
    const ip = r.six ? { src: r.a6, dst: r.b6 } : { src: r.a4, dst: r.b4 };
    const pay = new Uint8Array(r.t.len).fill(0xa5);
    let l4: Uint8Array;
    let proto: number;
    if (r.t.k === 'tcp') {
      l4 = buildTcp({ srcPort: r.t.sp, dstPort: r.t.dp, seq: r.t.seq, ack: r.t.ack, flags: r.t.flags, window: r.t.win, urgentPointer: r.t.urg, options: r.t.opts }, pay, ip);
      proto = 6;
    } else if (r.t.k === 'udp') {
      l4 = buildUdp({ srcPort: r.t.sp, dstPort: r.t.dp }, pay, r.t.ck || r.six ? ip : undefined);
      proto = 17;
    } else if (r.six) {
      // ICMP echo over IPv6 would be wrong; send UDP instead.
      l4 = buildUdp({ srcPort: 50000, dstPort: 50001 }, pay, ip);
      proto = 17;
    } else {
      l4 = buildIcmpv4({ kind: r.t.t === 8 ? 'echoRequest' : 'echoReply', identifier: r.t.id, sequence: r.t.sq, data: pay });
      proto = 1;
    }
    const l3 = r.six
      ? buildIpv6({ ...ip, nextHeader: proto, hopLimit: r.ttl, trafficClass: r.tos, flowLabel: r.id * 7 })
      : buildIpv4({ ...ip, protocol: proto, ttl: r.ttl, dscp: r.tos >>> 2, ecn: r.tos & 3, identification: r.id, dontFragment: r.df });
    const packet = new Uint8Array(l3.length + l4.length);
    packet.set(l3);
    packet.set(l4, l3.length);
    if (r.six) packet[4] = l4.length >>> 8, packet[5] = l4.length & 0xff;
    const frameBytes = buildEthernet({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: r.six ? 0x86dd : 0x0800, vlans: r.tags }, r.six ? packet : buildIpv4({ ...ip, protocol: proto, ttl: r.ttl, dscp: r.tos >>> 2, ecn: r.tos & 3, identification: r.id, dontFragment: r.df }, l4));
    return { name: `random ${i} (${r.six ? 'v6' : 'v4'} ${r.t.k})`, linktype: 1, frame: frameBytes };
  });
}

describe('dissect() against tshark -T fields', () => {
  const dir = mkdtempSync(join(tmpdir(), 'elysia-wire-'));
  afterAll(() => (process.env.KEEP_WIRE_PCAPS ? console.log(dir) : rmSync(dir, { recursive: true, force: true })));

  itWithTools(['tshark'], `ethernet frames: ${TSHARK_FIELDS.length} fields per packet equal tshark's`, () => {
    const frames = ethernetCorpus();
    expect(frames.length).toBeGreaterThan(50);
    expect(compare(dir, 'ethernet', frames, 1)).toEqual([]);
  });

  itWithTools(['tshark'], '300 random frames (fast-check, fixed seed): header and conversation fields equal tshark', () => {
    // Payload-level fields are left out: a random port may belong to some tshark dissector.
    const fields = TSHARK_FIELDS.filter((f) => !f.startsWith('data.'));
    expect(compare(dir, 'random', randomFrames(20251125, 300), 1, [...fields, ...STATEFUL_FIELDS], new DissectSession())).toEqual([]);
  });

  itWithTools(['tshark'], 'DissectSession: relative seq/ack, streams, window scaling equal tshark over conversations', () => {
    expect(compare(dir, 'conversations', conversationCorpus(), 1, [...TSHARK_FIELDS, ...STATEFUL_FIELDS], new DissectSession())).toEqual([]);
    // The whole varied corpus through one session too (ICMP-quoted segments, malformed frames).
    expect(compare(dir, 'ethernet-session', ethernetCorpus(), 1, STATEFUL_FIELDS, new DissectSession(), 1)).toEqual([]);
  });

  itWithTools(['tshark'], 'frames cut by a snap length (caplen < len) equal tshark', () => {
    const frames: CorpusFrame[] = [];
    for (const f of ethernetCorpus().filter((x) => !x.name.startsWith('malformed'))) {
      for (const snap of [40, 54, 62]) {
        if (f.frame.length > snap) frames.push({ ...f, name: `${f.name} snapped to ${snap}`, frame: f.frame.slice(0, snap), originalLength: f.frame.length });
      }
    }
    expect(frames.length).toBeGreaterThan(100);
    expect(compare(dir, 'snapped', frames, 1, [...TSHARK_FIELDS.filter((f) => !f.startsWith('data.')), 'frame.protocols', ...STATEFUL_FIELDS], new DissectSession(), 3)).toEqual([]);
  });

  itWithTools(['tshark'], 'raw IP, BSD loopback, Linux SLL and SLL2 frames equal tshark field by field', () => {
    const byLink = new Map<number, CorpusFrame[]>();
    for (const f of otherLinkCorpus()) byLink.set(f.linktype, [...(byLink.get(f.linktype) ?? []), f]);
    expect([...byLink.keys()].sort((a, b) => a - b)).toEqual([0, 101, 113, 228, 229, 276]);
    const mismatches: string[] = [];
    for (const [lt, frames] of byLink) mismatches.push(...compare(dir, `link${lt}`, frames, lt, [...TSHARK_FIELDS, 'frame.protocols']));
    expect(mismatches).toEqual([]);
  });

  itWithTools(['tshark'], 'frame.protocols equals tshark for frames whose payload tshark shows as data', () => {
    const frames = ethernetCorpus().filter((f) => !f.name.startsWith('malformed'));
    const file = join(dir, 'protocols.pcap');
    writeFileSync(file, pcapFile(frames.map((f) => f.frame), 1));
    const rows = tsharkFields(file, ['frame.protocols']);
    const mismatches: string[] = [];
    frames.forEach((fr, i) => {
      const got = dissect(fr.frame, 1).field('frame.protocols');
      if (got !== rows[i]![0]) mismatches.push(`#${i + 1} ${fr.name}: ours '${got}' tshark '${rows[i]![0]}'`);
    });
    expect(mismatches).toEqual([]);
  });
});
