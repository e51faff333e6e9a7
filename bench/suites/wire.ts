// Wire codecs: view-level header parsing of 64-byte Ethernet/IPv4/TCP frames (the 5-tuple and flags of
// every frame of a 1024-frame batch per op), the same with untrusted-input check(), hand-inlined byte
// math as the floor, and dissect() (the full tshark-like tree) throughput.
import { PacketBatch } from '../../src/batch.js';
import { EthernetView } from '../../src/wire/ethernet.js';
import { Ipv4View } from '../../src/wire/ipv4.js';
import { TcpView, buildTcp } from '../../src/wire/tcp.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { buildEthernet } from '../../src/wire/ethernet.js';
import { buildUdp } from '../../src/wire/udp.js';
import { buildIpv6 } from '../../src/wire/ipv6.js';
import { dissect } from '../../src/wire/dissect.js';
import { defineSuite, type BenchCase } from '../harness.js';

const BATCH = 1024;

function frames64(): PacketBatch {
  const batch = new PacketBatch({ capacity: BATCH, byteCapacity: BATCH * 64 });
  for (let i = 0; i < BATCH; i++) {
    const ip = { src: `10.0.${(i >>> 8) & 255}.${i & 255}`, dst: '192.168.1.1' };
    const tcp = buildTcp({ srcPort: 1024 + i, dstPort: 80, seq: i * 1000, ack: 1, flags: i % 7 === 0 ? 0x02 : 0x10, window: 65535 }, new Uint8Array(10), ip);
    const f = buildEthernet({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: 0x0800, vlans: [] }, buildIpv4({ ...ip, protocol: 6 }, tcp));
    if (f.length !== 64) throw new Error(`frame is ${f.length} bytes`);
    batch.push(f);
  }
  return batch;
}

let sink = 0;

export default defineSuite({
  name: 'wire',
  description: 'zero-copy header views and dissect()',
  cases(): BenchCase[] {
    const batch = frames64();
    const data = batch.data;
    const offs = batch.offsets;
    const eth = new EthernetView(data, 0);
    const ip = new Ipv4View(data, 0);
    const tcp = new TcpView(data, 0);

    const views = (): void => {
      let acc = 0;
      for (let i = 0; i < BATCH; i++) {
        const o = offs[i]!;
        eth.reset(data, o);
        if (eth.innerEtherType !== 0x0800) continue;
        ip.reset(data, eth.payloadOffset);
        if (ip.protocol !== 6) continue;
        tcp.reset(data, ip.payloadOffset);
        acc += (ip.src ^ ip.dst) + tcp.srcPort + tcp.dstPort + tcp.flags;
      }
      sink ^= acc;
    };
    const checked = (): void => {
      let acc = 0;
      const lens = batch.lengths;
      for (let i = 0; i < BATCH; i++) {
        const o = offs[i]!;
        const end = o + lens[i]!;
        const eh = EthernetView.check(data, o, end - o);
        eth.reset(data, o);
        if (eth.innerEtherType !== 0x0800) continue;
        const io = o + eh;
        Ipv4View.check(data, io, end - io);
        ip.reset(data, io);
        if (ip.protocol !== 6) continue;
        const to = ip.payloadOffset;
        TcpView.check(data, to, io + ip.totalLength - to);
        tcp.reset(data, to);
        acc += (ip.src ^ ip.dst) + tcp.srcPort + tcp.dstPort + tcp.flags;
      }
      sink ^= acc;
    };
    // The floor: the same reads written out by hand (no view objects, no VLAN walk).
    const inline = (): void => {
      let acc = 0;
      for (let i = 0; i < BATCH; i++) {
        const o = offs[i]!;
        if (((data[o + 12]! << 8) | data[o + 13]!) !== 0x0800) continue;
        const io = o + 14;
        if (data[io + 9] !== 6) continue;
        const to = io + (data[io]! & 15) * 4;
        const src = ((data[io + 12]! << 24) | (data[io + 13]! << 16) | (data[io + 14]! << 8) | data[io + 15]!) >>> 0;
        const dst = ((data[io + 16]! << 24) | (data[io + 17]! << 16) | (data[io + 18]! << 8) | data[io + 19]!) >>> 0;
        acc += (src ^ dst) + ((data[to]! << 8) | data[to + 1]!) + ((data[to + 2]! << 8) | data[to + 3]!) + (((data[to + 12]! << 8) | data[to + 13]!) & 0xfff);
      }
      sink ^= acc;
    };

    // A mix for dissect(): TCP/IPv4, UDP/IPv6, VLAN-tagged TCP.
    const mix: Uint8Array[] = [];
    for (let i = 0; i < 64; i++) mix.push(batch.get(i).slice());
    const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
    const udp6 = buildEthernet({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: 0x86dd, vlans: [] }, buildIpv6({ ...v6, nextHeader: 17 }, buildUdp({ srcPort: 5000, dstPort: 5001 }, new Uint8Array(32), v6)));
    const tagged = buildEthernet({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: 0x0800, vlans: [{ tpid: 0x8100, pcp: 0, dei: false, id: 10 }] }, batch.get(0).slice(14));
    for (let i = 0; i < 32; i++) mix.push(udp6, tagged);

    return [
      {
        name: 'view parse 5-tuple + flags, Eth/IPv4/TCP 64 B',
        unit: 'packets',
        perOp: BATCH,
        baseline: 'hand-inlined',
        variants: [
          { name: 'views', fn: views },
          { name: 'views + check()', fn: checked },
          { name: 'hand-inlined', fn: inline },
        ],
      },
      {
        name: 'dissect() full tree, mixed frames',
        unit: 'packets',
        perOp: mix.length,
        variants: [
          {
            name: 'ts',
            fn: () => {
              for (const f of mix) sink ^= dissect(f, 1).layers.length;
            },
          },
        ],
      },
    ];
  },
  teardown() {
    if (sink === 0.5) console.log(sink);
  },
});
