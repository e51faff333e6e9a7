// Opening capture files: format detection, a synchronous reader over bytes in memory, a streaming reader
// over a file or stream in constant memory, and the file writers.
import { open, type FileHandle } from 'node:fs/promises';
import { closeSync, openSync, writeSync } from 'node:fs';
import { NetworkError } from '../errors.js';
import { CapturePacket, nowTimestamp, splitNanoseconds, captureTruncatedError, type CapturePacketInit } from './packet.js';
import { PcapEncoder, PcapParser, isPcapMagic, type PcapHeaderInfo } from './pcap.js';
import { PCAPNG_SHB, PcapngEncoder, PcapngParser, type PcapngInterface } from './pcapng.js';

/** The two file formats. */
export type CaptureFormat = 'pcap' | 'pcapng';

/** Either parser: both pull packets from fed chunks. */
export type CaptureParser = PcapParser | PcapngParser;

/** Which format the first four bytes announce, or null. */
export function detectCaptureFormat(bytes: Uint8Array): CaptureFormat | null {
  if (bytes.length < 4) return null;
  const b0 = bytes[0]!, b1 = bytes[1]!, b2 = bytes[2]!, b3 = bytes[3]!;
  if (isPcapMagic(b0, b1, b2, b3)) return 'pcap';
  if (((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0 === PCAPNG_SHB) return 'pcapng';
  return null;
}

function parserFor(bytes: Uint8Array, offset: number): CaptureParser {
  const f = detectCaptureFormat(bytes);
  if (f === 'pcap') return new PcapParser();
  if (f === 'pcapng') return new PcapngParser();
  if (bytes.length < 4) throw captureTruncatedError('the file magic', offset, 4, bytes.length, 0);
  const m = Array.from(bytes.subarray(0, 4), (x) => x.toString(16).padStart(2, '0')).join('');
  throw new NetworkError('INVALID_PACKET', `not a pcap or pcapng file (first bytes ${m})`, { offset, field: 'magic', actual: m, expected: 'a1b2c3d4, a1b23c4d (either order) or 0a0d0d0a' });
}

/** What is known about an open capture (grows as a pcapng file declares interfaces). */
export interface CaptureInfo {
  format: CaptureFormat;
  /** Link type of the pcap file or of the first pcapng interface (null before it is declared). */
  linktype: number | null;
  /** pcap global header details (pcap only). */
  pcapHeader: PcapHeaderInfo | null;
  /** pcapng interfaces of all sections (pcapng only). */
  interfaces: PcapngInterface[];
}

function infoOf(parser: CaptureParser): CaptureInfo {
  if (parser instanceof PcapParser) {
    return { format: 'pcap', linktype: parser.header?.linktype ?? null, pcapHeader: parser.header, interfaces: [] };
  }
  return { format: 'pcapng', linktype: parser.allInterfaces[0]?.linktype ?? null, pcapHeader: null, interfaces: parser.allInterfaces };
}

/**
 * Synchronous reader over a whole capture held in memory (fast; used by tests and benchmarks).
 * next() returns packets until the end; a cut-off file throws TRUNCATED after the last complete packet.
 */
export class CaptureBufferReader implements Iterable<CapturePacket> {
  readonly parser: CaptureParser;
  private readonly bytes: Uint8Array;
  private done = false;

  constructor(bytes: Uint8Array) {
    this.bytes = bytes;
    this.parser = parserFor(bytes, 0);
    this.parser.feed(bytes, 0, bytes.length, 0);
  }

  get format(): CaptureFormat {
    return this.parser.format;
  }

  get info(): CaptureInfo {
    return infoOf(this.parser);
  }

  /** Packets read so far. */
  get packets(): number {
    return this.parser.packets;
  }

  /** The next packet, or null at the clean end of the file. */
  next(): CapturePacket | null {
    if (this.done) return null;
    const p = this.parser.next();
    if (p !== null) return p;
    this.done = true;
    this.parser.finish();
    return null;
  }

  *[Symbol.iterator](): Iterator<CapturePacket> {
    for (let p = this.next(); p !== null; p = this.next()) yield p;
  }

  /** Bytes consumed so far. */
  get offset(): number {
    return this.parser.fileOffset;
  }

  /** The bytes given to the constructor. */
  get source(): Uint8Array {
    return this.bytes;
  }
}

/** All packets of a capture held in memory; throws TRUNCATED (detail.packets = how many were complete) on a cut file. */
export function readCaptureSync(bytes: Uint8Array): CapturePacket[] {
  const out: CapturePacket[] = [];
  const r = new CaptureBufferReader(bytes);
  for (let p = r.next(); p !== null; p = r.next()) out.push(p);
  return out;
}

/** Where bytes come from: a file, or any async iterable of chunks (a Node Readable is one). */
export interface CaptureByteSource {
  /** Reads up to len bytes into into[off..]; 0 at the end. */
  read(into: Uint8Array, off: number, len: number): Promise<number>;
  close(): Promise<void>;
}

class FileSource implements CaptureByteSource {
  constructor(private readonly fh: FileHandle) {}
  async read(into: Uint8Array, off: number, len: number): Promise<number> {
    const r = await this.fh.read(into, off, len, null);
    return r.bytesRead;
  }
  close(): Promise<void> {
    return this.fh.close();
  }
}

class StreamSource implements CaptureByteSource {
  private readonly it: AsyncIterator<unknown>;
  private rest: Uint8Array | null = null;
  constructor(src: AsyncIterable<unknown>) {
    this.it = src[Symbol.asyncIterator]();
  }
  async read(into: Uint8Array, off: number, len: number): Promise<number> {
    while (this.rest === null || this.rest.length === 0) {
      const r = await this.it.next();
      if (r.done) return 0;
      const v = r.value;
      if (typeof v === 'string') this.rest = Buffer.from(v, 'latin1');
      else if (v instanceof Uint8Array) this.rest = v;
      else throw new NetworkError('INVALID_ARGUMENT', 'capture stream must yield Uint8Array/Buffer chunks', { field: 'stream' });
    }
    const n = Math.min(len, this.rest.length);
    into.set(n === this.rest.length ? this.rest : this.rest.subarray(0, n), off);
    this.rest = this.rest.subarray(n);
    return n;
  }
  async close(): Promise<void> {
    await this.it.return?.();
  }
}

/** Options of openCapture. */
export interface OpenCaptureOptions {
  /** Bytes read per chunk (default 1 MiB). Memory use stays near this, whatever the file size. */
  chunkSize?: number;
  /** Give each packet its own copy of the bytes instead of a view into the chunk. */
  copy?: boolean;
}

/**
 * A capture being read from a file or stream, chunk by chunk. Async-iterate it for packets, or
 * `batches()` for arrays of packets (one per chunk: much less per-packet overhead).
 */
export class CaptureFileReader implements AsyncIterable<CapturePacket> {
  /** Total size in bytes when reading a file (for progress), else null. */
  readonly size: number | null;
  private readonly source: CaptureByteSource;
  private readonly chunkSize: number;
  private readonly copy: boolean;
  private parser: CaptureParser | null = null;
  private consumed = false;
  private read = 0;
  private closed = false;

  /** Use openCapture(). */
  constructor(source: CaptureByteSource, size: number | null, options: OpenCaptureOptions) {
    this.source = source;
    this.size = size;
    this.chunkSize = Math.max(4096, options.chunkSize ?? 1 << 20);
    this.copy = options.copy ?? false;
  }

  /** The format, once the first chunk was read. */
  get format(): CaptureFormat | null {
    return this.parser?.format ?? null;
  }

  get info(): CaptureInfo | null {
    return this.parser ? infoOf(this.parser) : null;
  }

  /** Bytes read from the source so far. */
  get bytesRead(): number {
    return this.read;
  }

  /** Packets yielded so far. */
  get packets(): number {
    return this.parser?.packets ?? 0;
  }

  /** One read into buf[from..]: returns the new end, and whether the source has ended. */
  private async readInto(buf: Uint8Array, from: number): Promise<{ end: number; eof: boolean }> {
    const n = await this.source.read(buf, from, buf.length - from);
    this.read += n;
    return { end: from + n, eof: n === 0 };
  }

  /**
   * Arrays of packets, one per read (files: one per chunk); throws TRUNCATED after the last complete packet
   * of a cut file. Packets are handed out as soon as their bytes arrive, so a live pipe
   * (`tcpdump -w - | …`) is not held back until a whole chunk fills.
   */
  async *batches(): AsyncGenerator<CapturePacket[], void, undefined> {
    if (this.consumed) throw new NetworkError('INVALID_ARGUMENT', 'a capture can be iterated once; open it again', {});
    this.consumed = true;
    try {
      // Chunks come from Buffer.allocUnsafe: no zero-filling, and only the bytes read are ever exposed.
      let buf: Uint8Array = Buffer.allocUnsafe(this.chunkSize);
      let end = 0;
      let eof = false;
      // The format needs the first four bytes.
      while (end < 4 && !eof) ({ end, eof } = await this.readInto(buf, end));
      const parser = parserFor(buf.subarray(0, end), 0);
      this.parser = parser;
      let fileOffset = 0;
      let pos = 0;
      for (;;) {
        parser.feed(buf, pos, end, fileOffset);
        const batch: CapturePacket[] = [];
        let failure: unknown = null;
        try {
          for (let p = parser.next(); p !== null; p = parser.next()) {
            if (this.copy) p.data = p.data.slice();
            batch.push(p);
          }
        } catch (e) {
          failure = e;
        }
        // Packets before a malformed record are still delivered, then the error.
        if (batch.length > 0) yield batch;
        if (failure !== null) throw failure;
        fileOffset = parser.fileOffset;
        pos = parser.pos;
        if (eof) {
          parser.finish();
          return;
        }
        if (end === buf.length || pos + parser.needed > buf.length) {
          // No room for the unfinished record: move it to a fresh chunk large enough for it. Earlier
          // chunks stay valid for the packets that point into them and are collected once those are dropped.
          const left = end - pos;
          const next = Buffer.allocUnsafe(Math.max(this.chunkSize, parser.needed + (this.chunkSize >>> 1)));
          next.set(buf.subarray(pos, end), 0);
          buf = next;
          pos = 0;
          end = left;
        }
        // Appending after `end` never touches bytes a packet already points at.
        ({ end, eof } = await this.readInto(buf, end));
      }
    } finally {
      await this.close();
    }
  }

  async *[Symbol.asyncIterator](): AsyncIterator<CapturePacket> {
    for await (const batch of this.batches()) {
      for (const p of batch) yield p;
    }
  }

  /** Reads everything into an array (small files only). */
  async toArray(): Promise<CapturePacket[]> {
    const out: CapturePacket[] = [];
    for await (const b of this.batches()) for (const p of b) out.push(p);
    return out;
  }

  /** Closes the file (iteration does this when it ends or breaks). */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.source.close();
  }
}

/**
 * Opens a pcap or pcapng file (path) or stream (any async iterable of Uint8Array, e.g. a Readable), detects
 * its format and returns a reader to async-iterate `{ timestamp, data, originalLength, linktype, interfaceId }`.
 */
export async function openCapture(pathOrStream: string | URL | AsyncIterable<unknown>, options: OpenCaptureOptions = {}): Promise<CaptureFileReader> {
  if (typeof pathOrStream === 'string' || pathOrStream instanceof URL) {
    let fh: FileHandle;
    try {
      fh = await open(pathOrStream, 'r');
    } catch (e) {
      throw new NetworkError('INVALID_ARGUMENT', `cannot open capture ${String(pathOrStream)}: ${(e as Error).message}`, { field: 'path' }, { cause: e });
    }
    const st = await fh.stat();
    return new CaptureFileReader(new FileSource(fh), st.size, options);
  }
  if (pathOrStream !== null && typeof pathOrStream === 'object' && Symbol.asyncIterator in pathOrStream) {
    return new CaptureFileReader(new StreamSource(pathOrStream), null, options);
  }
  throw new NetworkError('INVALID_ARGUMENT', 'openCapture needs a path or an async iterable of bytes', { field: 'pathOrStream' });
}

/** Options of createCaptureWriter. */
export interface CaptureWriterOptions {
  format?: CaptureFormat;
  /** Link type of the packets (pcap) or of interface 0 (pcapng). Default Ethernet (1). */
  linktype?: number;
  /** Nanosecond timestamps (pcap magic a1b23c4d / pcapng if_tsresol 9). */
  nanosecond?: boolean;
  /** Default 262144, as tcpdump. */
  snaplen?: number;
  /** Default true (the machine's order on x86); false writes big-endian files. */
  littleEndian?: boolean;
}

/** Where a writer's bytes go. */
export interface CaptureSink {
  write(bytes: Uint8Array): void;
  close(): void;
}

class FileSink implements CaptureSink {
  private fd: number;
  constructor(path: string) {
    try {
      this.fd = openSync(path, 'w');
    } catch (e) {
      throw new NetworkError('INVALID_ARGUMENT', `cannot create capture ${path}: ${(e as Error).message}`, { field: 'path' }, { cause: e });
    }
  }
  write(bytes: Uint8Array): void {
    let off = 0;
    while (off < bytes.length) off += writeSync(this.fd, bytes, off, bytes.length - off);
  }
  close(): void {
    closeSync(this.fd);
  }
}

/** Collects a writer's output in memory (`bytes()` once closed). */
export class MemoryCaptureSink implements CaptureSink {
  private parts: Uint8Array[] = [];
  private length = 0;
  write(bytes: Uint8Array): void {
    this.parts.push(bytes.slice());
    this.length += bytes.length;
  }
  close(): void {}
  /** Everything written so far, as one array. */
  bytes(): Uint8Array {
    const out = new Uint8Array(this.length);
    let o = 0;
    for (const p of this.parts) {
      out.set(p, o);
      o += p.length;
    }
    return out;
  }
}

const WRITE_BUFFER = 1 << 20;

/** Writes packets to a pcap or pcapng file through a 1 MiB buffer. */
export class CaptureWriter {
  readonly format: CaptureFormat;
  private readonly sink: CaptureSink;
  private readonly pcap: PcapEncoder | null;
  private readonly pcapng: PcapngEncoder | null;
  private buf = new Uint8Array(WRITE_BUFFER);
  private dv = new DataView(this.buf.buffer);
  private used = 0;
  private closed = false;
  /** Packets written. */
  packetsWritten = 0;
  /** Bytes of file output produced (headers included). */
  bytesWritten = 0;

  constructor(sink: CaptureSink, options: CaptureWriterOptions = {}) {
    this.sink = sink;
    this.format = options.format ?? 'pcap';
    if (this.format !== 'pcap' && this.format !== 'pcapng') {
      throw new NetworkError('INVALID_ARGUMENT', `format must be 'pcap' or 'pcapng', got '${String(this.format)}'`, { field: 'format' });
    }
    const enc = { linktype: options.linktype ?? 1, nanosecond: options.nanosecond, snaplen: options.snaplen, littleEndian: options.littleEndian };
    this.pcap = this.format === 'pcap' ? new PcapEncoder(enc) : null;
    this.pcapng = this.format === 'pcapng' ? new PcapngEncoder(enc) : null;
    this.put((this.pcap ?? this.pcapng)!.header());
  }

  private put(bytes: Uint8Array): void {
    if (this.used + bytes.length > this.buf.length) this.flush();
    if (bytes.length > this.buf.length) {
      this.sink.write(bytes);
    } else {
      this.buf.set(bytes, this.used);
      this.used += bytes.length;
    }
    this.bytesWritten += bytes.length;
  }

  /** Pushes buffered bytes to the file. */
  flush(): void {
    if (this.used > 0) {
      this.sink.write(this.buf.subarray(0, this.used));
      this.used = 0;
    }
  }

  /** Appends one packet (timestamp defaults to now). */
  write(packet: CapturePacketInit): void {
    if (this.closed) throw new NetworkError('CLOSED', 'capture writer is closed', {});
    if (!(packet?.data instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', 'packet.data must be a Uint8Array', { field: 'data' });
    let sec: number;
    let nsec: number;
    if (packet.timestamp !== undefined) [sec, nsec] = splitNanoseconds(packet.timestamp);
    else if (packet.tsSec !== undefined) {
      sec = packet.tsSec;
      nsec = packet.tsNsec ?? 0;
    } else [sec, nsec] = nowTimestamp();
    if (!Number.isInteger(sec) || !Number.isInteger(nsec) || nsec < 0 || nsec >= 1e9) {
      throw new NetworkError('INVALID_ARGUMENT', `bad timestamp ${sec}s ${nsec}ns`, { field: 'timestamp' });
    }
    let len: number;
    let ifid = 0;
    if (this.pcapng) {
      ifid = this.pcapng.interfaceFor(packet);
      if (this.pcapng.pending.length > 0) {
        for (const b of this.pcapng.pending) this.put(b);
        this.pcapng.pending = [];
      }
      len = this.pcapng.recordLength(packet);
    } else {
      len = this.pcap!.recordLength(packet);
    }
    if (this.used + len > this.buf.length) this.flush();
    if (len > this.buf.length) {
      this.buf = new Uint8Array(len);
      this.dv = new DataView(this.buf.buffer);
    }
    const n = this.pcapng
      ? this.pcapng.encodeRecord(packet, ifid, sec, nsec, this.buf, this.dv, this.used)
      : this.pcap!.encodeRecord(packet, sec, nsec, this.buf, this.dv, this.used);
    this.used += n;
    this.bytesWritten += n;
    this.packetsWritten++;
  }

  /** Flushes and closes the file. */
  closeSync(): void {
    if (this.closed) return;
    this.closed = true;
    this.flush();
    this.sink.close();
  }

  /** Flushes and closes the file. */
  async close(): Promise<void> {
    this.closeSync();
  }
}

/** Creates a pcap or pcapng file at `path` (replacing it) and returns its writer. */
export function createCaptureWriter(path: string, options: CaptureWriterOptions = {}): CaptureWriter {
  return new CaptureWriter(new FileSink(path), options);
}

/** Encodes packets as a whole capture file in memory. */
export function encodeCapture(packets: Iterable<CapturePacketInit>, options: CaptureWriterOptions = {}): Uint8Array {
  const sink = new MemoryCaptureSink();
  const w = new CaptureWriter(sink, options);
  for (const p of packets) w.write(p);
  w.closeSync();
  return sink.bytes();
}
