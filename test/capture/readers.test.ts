import { afterAll, describe, expect, it } from 'vitest';
import { readFileSync, mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Readable } from 'node:stream';
import {
  CaptureBufferReader, CapturePacket, PcapLinkType, TimestampResolution, createCaptureWriter, detectCaptureFormat, encodeCapture,
  openCapture, readCaptureSync,
} from '../../src/capture/index.js';
import { isNetworkError, NetworkError } from '../../src/errors.js';
import { bytesOf, epb, idb, ngBlock, opb, option, pcapHeader, pcapRecord, shb, spb, u16, u32, u8 } from './helpers/build.js';

const tempDirs: string[] = [];
afterAll(() => {
  for (const d of tempDirs) rmSync(d, { recursive: true, force: true });
});
function tempDir(prefix: string): string {
  const d = mkdtempSync(join(tmpdir(), prefix));
  tempDirs.push(d);
  return d;
}

const fixture = (name: string) => readFileSync(new URL(`../fixtures/${name}`, import.meta.url));

async function readAsync(bytes: Uint8Array, chunkSize: number, scale = 1): Promise<CapturePacket[]> {
  // A stream that hands out odd-sized pieces, so records straddle chunk boundaries everywhere.
  const pieces: Uint8Array[] = [];
  for (let i = 0, k = 1; i < bytes.length; i += k * scale, k = (k * 7 + 3) % 97 + 1) pieces.push(bytes.subarray(i, i + k * scale));
  const r = await openCapture(Readable.from(pieces), { chunkSize });
  return r.toArray();
}

function catchSync(f: () => unknown): NetworkError {
  try {
    f();
  } catch (e) {
    if (e instanceof NetworkError) return e;
    throw e;
  }
  throw new Error('expected a NetworkError');
}

describe('pcap reader', () => {
  for (const le of [true, false]) {
    for (const nano of [false, true]) {
      it(`reads ${le ? 'little' : 'big'}-endian ${nano ? 'ns' : 'µs'} files`, () => {
        const a = bytesOf(60, 1);
        const b = bytesOf(1514, 2);
        const file = u8(pcapHeader(le, nano, 1), pcapRecord(le, 1700000000, nano ? 123456789 : 123456, a, 60), pcapRecord(le, 1700000001, 5, b.subarray(0, 100), 1514));
        const r = new CaptureBufferReader(file);
        const ps = [...r];
        expect(r.info.pcapHeader).toMatchObject({ littleEndian: le, nanosecond: nano, snaplen: 65535, linktype: 1, versionMajor: 2, versionMinor: 4 });
        expect(ps).toHaveLength(2);
        expect(ps[0]!.data).toEqual(a);
        expect(ps[0]!.timestamp).toBe(nano ? 1700000000123456789n : 1700000000123456000n);
        expect(ps[1]!.data).toEqual(b.subarray(0, 100));
        expect(ps[1]!.originalLength).toBe(1514);
        expect(ps[1]!.timestamp).toBe(nano ? 1700000001000000005n : 1700000001000005000n);
        expect(ps[1]!.interfaceId).toBe(0);
      });
    }
  }

  it('carries the link type of the header, and the FCS length bits apart from it', () => {
    for (const lt of [PcapLinkType.NULL, PcapLinkType.RAW, PcapLinkType.LINUX_SLL, PcapLinkType.LINUX_SLL2, PcapLinkType.IPV4, PcapLinkType.IPV6, PcapLinkType.LOOP]) {
      const ps = readCaptureSync(u8(pcapHeader(true, false, lt), pcapRecord(true, 1, 2, bytesOf(20, 3))));
      expect(ps[0]!.linktype).toBe(lt);
    }
    // pcap draft §4: FCS length 4 bytes (2 words) in bits 28-31 with the F bit.
    const r = new CaptureBufferReader(u8(pcapHeader(true, false, (2 << 28) | 0x04000000 | 1)));
    expect([...r]).toHaveLength(0);
    expect(r.info.pcapHeader).toMatchObject({ linktype: 1, fcsLength: 4 });
  });

  it('rejects a bad magic, an old version, modified pcap and absurd record lengths with typed errors', () => {
    const e1 = catchSync(() => readCaptureSync(u8([1, 2, 3, 4], new Array(40).fill(0))));
    expect(e1.code).toBe('INVALID_PACKET');
    expect(e1.detail.field).toBe('magic');
    const old = pcapHeader(true, false, 1);
    old[4] = 1;
    expect(catchSync(() => readCaptureSync(old)).code).toBe('UNSUPPORTED');
    const mod = u8(u32(0xa1b2cd34, true), pcapHeader(true, false, 1).subarray(4));
    expect(catchSync(() => readCaptureSync(mod)).code).toBe('UNSUPPORTED');
    const huge = u8(pcapHeader(true, false, 1), u32(0, true), u32(0, true), u32(0x7fffffff, true), u32(0x7fffffff, true));
    const e = catchSync(() => readCaptureSync(huge));
    expect(e.code).toBe('INVALID_PACKET');
    expect(e.detail).toMatchObject({ field: 'incl_len', offset: 24 });
  });

  it('reads the tcpdump fixtures (Ethernet µs, Linux SLL2 ns) the way tshark -r lists them', () => {
    const lo = readCaptureSync(fixture('lo-traffic.pcap'));
    const sll2 = readCaptureSync(fixture('any-sll2-ns.pcap'));
    // Both were captured at once from the same traffic: 42 packets each (tshark -r shows the same).
    expect(lo).toHaveLength(42);
    expect(sll2).toHaveLength(42);
    expect(lo.every((p) => p.linktype === 1)).toBe(true);
    expect(sll2.every((p) => p.linktype === 276)).toBe(true);
    for (let i = 0; i < lo.length; i++) {
      // SLL2 has a 20-byte header where Ethernet has 14: the IP packet inside is the same.
      expect(sll2[i]!.data.length).toBe(lo[i]!.data.length + 6);
      expect(sll2[i]!.data.subarray(20)).toEqual(lo[i]!.data.subarray(14));
      // Same kernel timestamp, at ns and (rounded) µs precision.
      const d = sll2[i]!.timestamp - lo[i]!.timestamp;
      expect(d >= -1000n && d <= 1000n).toBe(true);
    }
  });
});

describe('pcapng reader', () => {
  for (const le of [true, false]) {
    it(`reads sections, interfaces, EPB/SPB/OPB and skips unknown blocks (${le ? 'LE' : 'BE'})`, () => {
      const d1 = bytesOf(54, 1);
      const d2 = bytesOf(33, 2);
      const d3 = bytesOf(70, 3);
      const file = u8(
        shb(le, option(4, Array.from(Buffer.from('unit-test')), le).concat([0, 0, 0, 0])),
        idb(le, PcapLinkType.ETHERNET, 0, option(2, Array.from(Buffer.from('eth0')), le)),
        idb(le, PcapLinkType.RAW, 40, option(9, [9], le)),
        ngBlock(0x0bad, [1, 2, 3, 4], le), // unknown: skipped
        ngBlock(4, [0, 0, 0, 0], le), // NRB: skipped
        epb(le, 0, 0x0005f5e1, 0x00000001, d1), // µs units
        epb(le, 1, 0x17979cfe, 0x362a0015, d2, 99), // ns units: 1700000000000000021 ns
        spb(le, 70, d3), // interface 0 snaplen 0 → whole packet
        opb(le, 1, 0, 1_000_000_007, d2),
      );
      const r = new CaptureBufferReader(file);
      const ps = [...r];
      expect(ps).toHaveLength(4);
      expect(ps[0]).toMatchObject({ interfaceId: 0, linktype: 1, originalLength: 54 });
      expect(ps[0]!.data).toEqual(d1);
      expect(ps[0]!.timestamp).toBe((0x0005f5e1n * 2n ** 32n + 1n) * 1000n);
      expect(ps[1]).toMatchObject({ interfaceId: 1, linktype: 101, originalLength: 99 });
      expect(ps[1]!.timestamp).toBe(0x17979cfen * 2n ** 32n + 0x362a0015n);
      expect(ps[2]!.data).toEqual(d3);
      expect(ps[2]).toMatchObject({ interfaceId: 0, linktype: 1, originalLength: 70, tsSec: 0, tsNsec: 0 });
      expect(ps[3]).toMatchObject({ interfaceId: 1, linktype: 101, tsSec: 1, tsNsec: 7 });
      expect(r.info.interfaces.map((i) => [i.name, i.tsresol])).toEqual([['eth0', 6], [null, 9]]);
      expect((r.parser as { skippedBlocks: number }).skippedBlocks).toBe(2);
      expect((r.parser as { userApplication: string | null }).userApplication).toBe('unit-test');
    });
  }

  it('starts over at each section header, which may switch byte order', () => {
    const a = bytesOf(40, 5);
    const file = u8(shb(true), idb(true, 1, 0), epb(true, 0, 0, 5, a), shb(false), idb(false, 113, 0), idb(false, 1, 0), epb(false, 1, 0, 6, a), epb(false, 0, 0, 7, a));
    const r = new CaptureBufferReader(file);
    const ps = [...r];
    expect(ps.map((p) => [p.interfaceId, p.linktype, p.tsNsec])).toEqual([[0, 1, 5000], [1, 1, 6000], [0, 113, 7000]]);
    expect(r.info.interfaces.map((i) => [i.section, i.linktype])).toEqual([[0, 1], [1, 113], [1, 1]]);
    // An interface of the first section is not valid in the second.
    const bad = u8(shb(true), idb(true, 1, 0), idb(true, 1, 0), shb(true), idb(true, 1, 0), epb(true, 1, 0, 0, a));
    const e = catchSync(() => readCaptureSync(bad));
    expect(e.code).toBe('INVALID_PACKET');
    expect(e.detail.field).toBe('interface_id');
  });

  it('honours if_tsresol (decimal and binary) and if_tsoffset', () => {
    const le = true;
    const d = bytesOf(20, 1);
    const file = u8(
      shb(le),
      idb(le, 1, 0, option(9, [3], le)), // ms
      idb(le, 1, 0, option(9, [0x80 | 20], le)), // 2^-20 s
      idb(le, 1, 0, [...option(9, [0], le), ...option(14, [...u32(100, le), ...u32(0, le)], le)]), // s + 100 s offset
      idb(le, 1, 0, option(9, [12], le)), // ps
      epb(le, 0, 0, 1500, d),
      epb(le, 1, 0, (3 << 20) | (1 << 19), d),
      epb(le, 2, 0, 5, d),
      epb(le, 3, 0x1, 0x2a05f200, d), // 2^32 + 705032704 = 5000000000 ps = 5 ms
    );
    const ps = readCaptureSync(file);
    expect(ps.map((p) => [p.tsSec, p.tsNsec])).toEqual([[1, 500_000_000], [3, 500_000_000], [105, 0], [0, 5_000_000]]);
  });

  it('converts nanosecond timestamps beyond 2^53 units exactly', () => {
    const res = new TimestampResolution(9);
    const out = new Float64Array(2);
    for (const ns of [0n, 1n, 999_999_999n, 1_795_596_894_039_797_326n, 2n ** 64n - 1n]) {
      res.convert(Number(ns >> 32n), Number(ns & 0xffffffffn), out);
      expect(BigInt(out[0]!) * 1_000_000_000n + BigInt(out[1]!)).toBe(ns);
    }
  });

  it('rejects malformed blocks with the field at fault', () => {
    const le = true;
    const d = bytesOf(8, 1);
    const cases: [Uint8Array, string, string][] = [
      [u8(ngBlock(1, [0, 0, 0, 0, 0, 0, 0, 0], le)), 'INVALID_PACKET', 'magic'],
      [u8(shb(le).subarray(0, 8), u32(0x11223344, le), shb(le).subarray(12)), 'INVALID_PACKET', 'byte_order_magic'],
      [u8(shb(le), u32(6, le), u32(13, le), new Array(9).fill(0)), 'INVALID_PACKET', 'block_total_length'],
      [u8(shb(le), u32(6, le), u32(8, le), u32(8, le)), 'INVALID_PACKET', 'block_total_length'],
      [u8(shb(le), u32(99, le), u32(16, le), u32(0, le), u32(20, le)), 'INVALID_PACKET', 'block_total_length'],
      [u8(shb(le), epb(le, 0, 0, 0, d)), 'INVALID_PACKET', 'interface_id'],
      [u8(shb(le), idb(le, 1, 0), ngBlock(6, [...u32(0, le), ...u32(0, le), ...u32(0, le), ...u32(500, le), ...u32(8, le), ...d], le)), 'INVALID_PACKET', 'captured_length'],
      [u8(shb(le), ngBlock(1, [1, 0, 0, 0, 0, 0, 0, 0, ...u16(9, le), ...u16(200, le)], le)), 'INVALID_PACKET', 'option_length'],
      [u8(shb(le), idb(le, 1, 0, option(9, [1, 2], le))), 'INVALID_PACKET', 'if_tsresol'],
      [u8(shb(le), ngBlock(6, [0, 0, 0, 0], le)), 'INVALID_PACKET', 'block_total_length'],
    ];
    for (const [bytes, code, field] of cases) {
      const e = catchSync(() => readCaptureSync(bytes));
      expect([e.code, e.detail.field]).toEqual([code, field]);
    }
    const v2 = shb(le);
    v2[12] = 2;
    expect(catchSync(() => readCaptureSync(v2)).code).toBe('UNSUPPORTED');
  });

  it('reads the dumpcap fixture: one interface "lo", ns resolution, same packets as tcpdump saw', () => {
    const r = new CaptureBufferReader(fixture('lo-traffic.pcapng'));
    const ng = [...r];
    expect(r.info.interfaces).toEqual([expect.objectContaining({ name: 'lo', linktype: 1, tsresol: 9 })]);
    const pc = readCaptureSync(fixture('lo-traffic.pcap'));
    // dumpcap started after the first ping pair; every packet it has is in the tcpdump file, same bytes.
    const tail = pc.slice(pc.length - ng.length);
    expect(ng.map((p) => Buffer.from(p.data).toString('hex'))).toEqual(tail.map((p) => Buffer.from(p.data).toString('hex')));
  });
});

describe('format detection, streaming and truncation', () => {
  it('detects the format from the magic', () => {
    expect(detectCaptureFormat(fixture('lo-traffic.pcap'))).toBe('pcap');
    expect(detectCaptureFormat(fixture('lo-traffic.pcapng'))).toBe('pcapng');
    expect(detectCaptureFormat(Uint8Array.of(0x4d, 0x3c, 0xb2, 0xa1))).toBe('pcap');
    expect(detectCaptureFormat(Uint8Array.of(1, 2, 3, 4))).toBeNull();
    expect(catchSync(() => readCaptureSync(new Uint8Array(0))).code).toBe('TRUNCATED');
  });

  it('streams files in small chunks with the same result as the in-memory reader', async () => {
    for (const name of ['lo-traffic.pcap', 'lo-traffic.pcapng', 'any-sll2-ns.pcap']) {
      const bytes = fixture(name);
      const want = readCaptureSync(bytes);
      for (const chunk of [4096, 1 << 20]) {
        const got = await readAsync(bytes, chunk);
        expect(got.map((p) => [p.timestamp, p.originalLength, p.linktype, Buffer.from(p.data).toString('hex')])).toEqual(
          want.map((p) => [p.timestamp, p.originalLength, p.linktype, Buffer.from(p.data).toString('hex')]),
        );
      }
      const r = await openCapture(new URL(`../fixtures/${name}`, import.meta.url).pathname, { chunkSize: 4096 });
      let n = 0;
      for await (const p of r) {
        expect(Buffer.from(p.data)).toEqual(Buffer.from(want[n]!.data));
        n++;
      }
      expect(n).toBe(want.length);
      expect(r.bytesRead).toBe(bytes.length);
      expect(r.size).toBe(bytes.length);
    }
  });

  it('hands out packets as they arrive on a live stream (no waiting for a full chunk)', async () => {
    const file = encodeCapture([{ data: bytesOf(60, 1), tsSec: 1, tsNsec: 0 }, { data: bytesOf(60, 2), tsSec: 2, tsNsec: 0 }], { format: 'pcap' });
    const firstEnd = 24 + 16 + 60;
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    async function* live(): AsyncGenerator<Uint8Array> {
      yield file.subarray(0, firstEnd + 5); // packet 1 and a few bytes of packet 2
      await gate; // the rest only comes after the consumer has seen packet 1
      yield file.subarray(firstEnd + 5);
    }
    const r = await openCapture(live());
    const seen: number[] = [];
    const timeout = new Promise<never>((_, rej) => setTimeout(() => rej(new Error('reader waited for more data before handing out packet 1')), 5000));
    await Promise.race([
      (async () => {
        for await (const p of r) {
          seen.push(p.tsSec);
          if (p.tsSec === 1) release();
        }
      })(),
      timeout,
    ]);
    expect(seen).toEqual([1, 2]);
  });

  it('handles a packet larger than the chunk size', async () => {
    const big = bytesOf(300_000, 9);
    const file = encodeCapture([{ data: big, tsSec: 5, tsNsec: 0 }, { data: bytesOf(10, 1), tsSec: 6, tsNsec: 0 }], { format: 'pcapng', snaplen: 1 << 20 });
    const got = await readAsync(file, 4096, 1000);
    expect(got).toHaveLength(2);
    expect(got[0]!.data).toEqual(big);
  });

  it('a cut file yields every complete packet, then TRUNCATED — at every cut point, sync and streaming', async () => {
    for (const format of ['pcap', 'pcapng'] as const) {
      const pkts = [bytesOf(30, 1), bytesOf(1, 2), bytesOf(77, 3), bytesOf(64, 4)];
      const file = encodeCapture(pkts.map((data, i) => ({ data, tsSec: 100 + i, tsNsec: 0 })), { format });
      // Where each packet's record ends: a prefix of the file holds exactly the packets ending within it.
      const ends: number[] = [encodeCapture([], { format }).length];
      const r = new CaptureBufferReader(file);
      while (r.next()) ends.push(r.offset);
      for (let cut = 0; cut < file.length; cut++) {
        const prefix = file.subarray(0, cut);
        const complete = ends.slice(1).filter((e) => e <= cut).length;
        // A pcapng file may also end cleanly between its section header and interface block.
        const clean = ends.includes(cut) || (format === 'pcapng' && cut === new DataView(file.buffer, file.byteOffset).getUint32(4, true));
        const got: CapturePacket[] = [];
        let err: unknown = null;
        try {
          const rr = new CaptureBufferReader(prefix);
          for (let p = rr.next(); p; p = rr.next()) got.push(p);
        } catch (e) {
          err = e;
        }
        expect(got.length).toBe(complete);
        if (clean) expect(err).toBeNull();
        else {
          expect(isNetworkError(err, 'TRUNCATED')).toBe(true);
          expect((err as NetworkError).detail.packets).toBe(complete);
        }
        if (cut % 7 === 0) {
          const seen: number[] = [];
          const rs = await openCapture(Readable.from([prefix]), { chunkSize: 4096 });
          let aerr: unknown = null;
          try {
            for await (const p of rs) seen.push(p.tsSec);
          } catch (e) {
            aerr = e;
          }
          expect(seen).toEqual(pkts.slice(0, complete).map((_, i) => 100 + i));
          expect(clean ? aerr === null : isNetworkError(aerr, 'TRUNCATED')).toBe(true);
        }
      }
    }
  });

  it('reads a multi-megabyte file from disk in chunks, holding one chunk at a time', async () => {
    const dir = tempDir('elysia-rd-');
    const path = join(dir, 'big.pcapng');
    const w = createCaptureWriter(path, { format: 'pcapng', nanosecond: true });
    const pkt = bytesOf(1400, 3);
    for (let i = 0; i < 4000; i++) w.write({ data: pkt, tsSec: 1_700_000_000 + i, tsNsec: i });
    await w.close();
    expect(w.packetsWritten).toBe(4000);
    expect(statSync(path).size).toBe(w.bytesWritten);
    const r = await openCapture(path, { chunkSize: 64 * 1024 });
    let n = 0;
    let batches = 0;
    for await (const b of r.batches()) {
      batches++;
      for (const p of b) {
        expect(p.tsNsec).toBe(n);
        n++;
      }
    }
    expect(n).toBe(4000);
    expect(batches).toBeGreaterThan(80); // ~5.7 MB in 64 KiB chunks
  });
});

describe('constant memory', () => {
  it('streams 512 MiB of capture without holding it: buffer memory stays far below the file size', async () => {
    // A pcap header, then the same 64 KiB block of 1500-byte records over and over, produced on demand.
    const rec = encodeCapture([{ data: bytesOf(1484, 1), tsSec: 1, tsNsec: 0 }], { format: 'pcap' }).subarray(24);
    const block = new Uint8Array(rec.length * 43);
    for (let i = 0; i < 43; i++) block.set(rec, i * rec.length);
    const total = 512 * 1024 * 1024;
    const blocks = Math.floor(total / block.length);
    async function* source(): AsyncGenerator<Uint8Array> {
      yield encodeCapture([], { format: 'pcap' });
      for (let i = 0; i < blocks; i++) yield block;
    }
    const r = await openCapture(source());
    let n = 0;
    let peak = 0;
    for await (const batch of r.batches()) {
      n += batch.length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers);
    }
    expect(n).toBe(blocks * 43);
    expect(peak).toBeLessThan(160 * 1024 * 1024);
  }, 120_000);
});

describe('writers', () => {
  for (const format of ['pcap', 'pcapng'] as const) {
    for (const nanosecond of [false, true]) {
      for (const littleEndian of [true, false]) {
        it(`round-trips ${format} ${nanosecond ? 'ns' : 'µs'} ${littleEndian ? 'LE' : 'BE'}`, () => {
          const pkts = [
            { data: bytesOf(60, 1), timestamp: 1_795_596_894_039_797_326n },
            { data: bytesOf(2000, 2), timestamp: 1_000_000_123n, originalLength: 9000 },
            { data: bytesOf(0, 3), tsSec: 7, tsNsec: 999_999_999 },
          ];
          const file = encodeCapture(pkts, { format, nanosecond, littleEndian, linktype: PcapLinkType.RAW, snaplen: 1500 });
          const got = readCaptureSync(file);
          const scale = nanosecond ? 1n : 1000n;
          expect(got.map((p) => p.timestamp)).toEqual([1_795_596_894_039_797_326n, 1_000_000_123n, 7_999_999_999n].map((t) => (t / scale) * scale));
          expect(got.map((p) => p.data.length)).toEqual([60, 1500, 0]);
          expect(got.map((p) => p.originalLength)).toEqual([60, 9000, 0]);
          expect(got[1]!.data).toEqual(pkts[1]!.data.subarray(0, 1500));
          expect(got.every((p) => p.linktype === PcapLinkType.RAW)).toBe(true);
        });
      }
    }
  }

  it('pcapng gives each new link type its own interface; pcap refuses a second one', () => {
    const file = encodeCapture([{ data: bytesOf(20, 1) }, { data: bytesOf(20, 2), linktype: 101 }, { data: bytesOf(20, 3) }], { format: 'pcapng' });
    const r = new CaptureBufferReader(file);
    expect([...r].map((p) => [p.interfaceId, p.linktype])).toEqual([[0, 1], [1, 101], [0, 1]]);
    expect(catchSync(() => encodeCapture([{ data: bytesOf(20, 1), linktype: 101 }], { format: 'pcap' })).code).toBe('INVALID_ARGUMENT');
  });

  it('rejects bad arguments with INVALID_ARGUMENT, and writes after close with CLOSED', async () => {
    expect(catchSync(() => encodeCapture([], { linktype: 70000 })).code).toBe('INVALID_ARGUMENT');
    expect(catchSync(() => encodeCapture([], { format: 'pcapx' as 'pcap' })).code).toBe('INVALID_ARGUMENT');
    expect(catchSync(() => encodeCapture([{ data: bytesOf(1, 1), tsSec: 1, tsNsec: 2e9 }])).code).toBe('INVALID_ARGUMENT');
    const dir = tempDir('elysia-wr-');
    const w = createCaptureWriter(join(dir, 'x.pcap'));
    w.write({ data: bytesOf(10, 1) });
    await w.close();
    expect(catchSync(() => w.write({ data: bytesOf(10, 1) })).code).toBe('CLOSED');
    const back = readCaptureSync(readFileSync(join(dir, 'x.pcap')));
    expect(back).toHaveLength(1);
    // No timestamp given: "now".
    expect(Math.abs(back[0]!.time - Date.now() / 1000)).toBeLessThan(60);
  });
});
