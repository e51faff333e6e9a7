// Capture files and the analyzer: pcap/pcapng reading (in memory and from a file on disk, goal ≥ 1 GB/s)
// and PacketAnalyzer throughput (goal ≥ 2 Mpps). Capture code has no native twin (it is I/O and object
// bound, not a batch loop), so each case has one variant.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CaptureBufferReader, PacketAnalyzer, encodeCapture, openCapture, readCaptureSync, type CapturePacket, type CapturePacketInit } from '../../src/capture/index.js';
import { buildEthernet } from '../../src/wire/ethernet.js';
import { buildIpv4 } from '../../src/wire/ipv4.js';
import { buildTcp, TCP_ACK, TCP_PSH } from '../../src/wire/tcp.js';
import { buildUdp } from '../../src/wire/udp.js';
import { defineSuite, type BenchCase, type BenchVariant } from '../harness.js';

let sink = 0;
let dir: string | null = null;

/**
 * The same work timed by process CPU time instead of the wall clock: on a shared machine (other jobs on the
 * two cores) wall-clock rates mostly measure the scheduler; CPU time measures our code.
 */
function cpuTimeVariant(fn: () => void, quickRuns = 7): BenchVariant {
  return {
    name: 'ts, CPU time',
    external: () => {
      for (let i = 0; i < 2; i++) fn();
      const out: number[] = [];
      for (let i = 0; i < quickRuns; i++) {
        const c = process.cpuUsage();
        fn();
        const d = process.cpuUsage(c);
        out.push((d.user + d.system) / 1e6);
      }
      return out;
    },
  };
}

/** A frame of `size` bytes (TCP or UDP over IPv4 over Ethernet) for flow `flow`. */
function frame(size: number, flow: number, udp: boolean): Uint8Array {
  const src = `10.${(flow >> 8) & 255}.${flow & 255}.1`;
  const dst = '192.0.2.1';
  const room = Math.max(0, size - 14 - 20 - (udp ? 8 : 20));
  const payload = new Uint8Array(room);
  const l4 = udp ? buildUdp({ srcPort: 10000 + (flow % 5000), dstPort: 53 }, payload) : buildTcp({ srcPort: 20000 + (flow % 30000), dstPort: 443, flags: TCP_ACK | TCP_PSH, seq: flow, ack: 1, window: 512 }, payload);
  return buildEthernet({ dst: '02:00:00:00:00:02', src: '02:00:00:00:00:01', etherType: 0x0800, vlans: [] }, buildIpv4({ src, dst, protocol: udp ? 17 : 6 }, l4));
}

/** Packets cycling through a simple IMIX (7×64, 4×576, 1×1500 bytes) over `flows` flows. */
function imix(n: number, flows: number): CapturePacketInit[] {
  const sizes = [64, 64, 64, 64, 64, 64, 64, 576, 576, 576, 576, 1500];
  const cache = new Map<string, Uint8Array>();
  const out: CapturePacketInit[] = [];
  for (let i = 0; i < n; i++) {
    const size = sizes[i % sizes.length]!;
    const flow = (i * 7919) % flows;
    const udp = i % 5 === 0;
    const key = `${size}/${flow}/${udp}`;
    let f = cache.get(key);
    if (!f) cache.set(key, (f = frame(size, flow, udp)));
    out.push({ data: f, tsSec: 1_700_000_000 + (i >> 20), tsNsec: (i * 1000) % 1_000_000_000 });
  }
  return out;
}

function bulk(n: number): CapturePacketInit[] {
  const f = frame(1514, 1, false);
  return Array.from({ length: n }, (_, i) => ({ data: f, tsSec: 1_700_000_000, tsNsec: i * 1000 }));
}

export default defineSuite({
  name: 'capture',
  description: 'pcap/pcapng reading (goal ≥ 1 GB/s) and PacketAnalyzer (goal ≥ 2 Mpps)',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [];
    dir = mkdtempSync(join(tmpdir(), 'elysia-bench-cap-'));
    const mixPackets = imix(120_000, 4096); // ~40 MB of frames
    const bulkPackets = bulk(20_000); // ~30 MB
    for (const format of ['pcap', 'pcapng'] as const) {
      for (const [label, pkts] of [['IMIX', mixPackets], ['1514 B', bulkPackets]] as const) {
        const file = encodeCapture(pkts, { format, nanosecond: format === 'pcapng' });
        cases.push({
          name: `${format} read in memory, ${label} (${(file.length / 1e6).toFixed(0)} MB)`,
          unit: 'bytes',
          perOp: file.length,
          variants: ((fn: () => void) => [{ name: 'ts', fn }, cpuTimeVariant(fn)])(() => {
            const r = new CaptureBufferReader(file);
            let n = 0;
            for (let p = r.next(); p !== null; p = r.next()) n += p.data.length;
            sink ^= n;
          }),
        });
        const path = join(dir, `bench-${label.replace(/\W/g, '')}.${format}`);
        writeFileSync(path, file);
        cases.push({
          name: `${format} read from file (page cache), ${label}, batches()`,
          unit: 'bytes',
          perOp: file.length,
          variants: [{
            name: 'ts',
            fnAsync: async () => {
              const r = await openCapture(path);
              let n = 0;
              for await (const b of r.batches()) for (const p of b) n += p.data.length;
              sink ^= n;
            },
          }],
        });
        if (label === 'IMIX') {
          cases.push({
            name: `${format} read from file, IMIX, for await per packet`,
            unit: 'bytes',
            perOp: file.length,
            variants: [{
              name: 'ts',
              fnAsync: async () => {
                const r = await openCapture(path);
                let n = 0;
                for await (const p of r) n += p.data.length;
                sink ^= n;
              },
            }],
          });
        }
      }
    }
    // The analyzer over packets already read (the file cost is measured above).
    const read: CapturePacket[] = readCaptureSync(encodeCapture(mixPackets.slice(0, 60_000), { format: 'pcap' }));
    for (const dpi of [8, 0]) {
      cases.push({
        name: `PacketAnalyzer, IMIX over 4096 flows${dpi ? '' : ', DPI off'} (60 000 packets)`,
        unit: 'packets',
        perOp: read.length,
        variants: ((fn: () => void) => [{ name: 'ts', fn }, cpuTimeVariant(fn)])(() => {
          const a = new PacketAnalyzer({ dpiPacketsPerFlow: dpi });
          for (let i = 0; i < read.length; i++) {
            const p = read[i]!;
            a.account(p.data, p.linktype, p.originalLength, p.tsSec, p.tsNsec);
          }
          sink ^= a.conversationCount;
        }),
      });
    }
    const enc = mixPackets.slice(0, 30_000);
    const encBytes = encodeCapture(enc, { format: 'pcap' }).length;
    for (const format of ['pcap', 'pcapng'] as const) {
      cases.push({
        name: `${format} write to memory, IMIX`,
        unit: 'bytes',
        perOp: encBytes,
        variants: ((fn: () => void) => [{ name: 'ts', fn }, cpuTimeVariant(fn)])(() => { sink ^= encodeCapture(enc, { format }).length; }),
      });
    }
    return cases;
  },
  teardown() {
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = null;
    if (sink === 0.5) console.log(sink);
  },
});
