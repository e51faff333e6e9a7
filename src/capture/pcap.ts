// The classic libpcap file format (pcap-savefile(5); draft-ietf-opsawg-pcap): a 24-byte global header, then
// records of a 16-byte header + data. Magic 0xa1b2c3d4 = µs timestamps, 0xa1b23c4d = ns; either written
// in the writer's byte order, so the byte-swapped magic means "swap every field".
import { NetworkError } from '../errors.js';
import { CapturePacket, MAX_CAPTURE_PACKET, captureTruncatedError, type CapturePacketInit } from './packet.js';

export const PCAP_MAGIC_MICRO = 0xa1b2c3d4;
export const PCAP_MAGIC_NANO = 0xa1b23c4d;
/** Kuznetzov's "modified pcap" (extra record fields): recognised only to reject it clearly. */
const PCAP_MAGIC_MODIFIED = 0xa1b2cd34;
export const PCAP_GLOBAL_HEADER_LENGTH = 24;
export const PCAP_RECORD_HEADER_LENGTH = 16;

/** What a pcap global header says. */
export interface PcapHeaderInfo {
  littleEndian: boolean;
  nanosecond: boolean;
  versionMajor: number;
  versionMinor: number;
  snaplen: number;
  linktype: number;
  /** FCS length in bytes when the header's F bit says frames carry one (pcap draft §4), else 0. */
  fcsLength: number;
}

/** Whether these four bytes start a pcap file (any byte order or timestamp precision). */
export function isPcapMagic(b0: number, b1: number, b2: number, b3: number): boolean {
  const be = ((b0 << 24) | (b1 << 16) | (b2 << 8) | b3) >>> 0;
  const le = ((b3 << 24) | (b2 << 16) | (b1 << 8) | b0) >>> 0;
  return be === PCAP_MAGIC_MICRO || be === PCAP_MAGIC_NANO || le === PCAP_MAGIC_MICRO || le === PCAP_MAGIC_NANO ||
    be === PCAP_MAGIC_MODIFIED || le === PCAP_MAGIC_MODIFIED;
}

/**
 * Incremental pcap parser: feed it bytes (a chunk of the file), pull packets with next() until it returns
 * null, then feed the rest. Packets' data are views into the fed chunk.
 */
export class PcapParser {
  readonly format = 'pcap' as const;
  header: PcapHeaderInfo | null = null;
  /** Packets returned so far. */
  packets = 0;
  /** When next() returns null: bytes needed from pos to make progress. */
  needed = PCAP_GLOBAL_HEADER_LENGTH;
  pos = 0;
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  /** buf's backing store and offset: `new Uint8Array(ab, off, n)` is cheaper than subarray (no species lookup). */
  private ab: ArrayBufferLike = new ArrayBuffer(0);
  private abOff = 0;
  private end = 0;
  /** File offset of buf[0], for error messages. */
  private base = 0;
  private le = true;
  private nsMul = 1000;
  private linktype = 1;

  /** Parses buf[pos, end); `fileOffset` is the file offset of buf[pos]. */
  feed(buf: Uint8Array, pos: number, end: number, fileOffset: number): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.ab = buf.buffer;
    this.abOff = buf.byteOffset;
    this.pos = pos;
    this.end = end;
    this.base = fileOffset - pos;
  }

  /** File offset of the next unread byte. */
  get fileOffset(): number {
    return this.base + this.pos;
  }

  /** The next complete packet, or null when more bytes are needed (see `needed`). */
  next(): CapturePacket | null {
    let pos = this.pos;
    if (this.header === null) {
      if (this.end - pos < PCAP_GLOBAL_HEADER_LENGTH) {
        this.needed = PCAP_GLOBAL_HEADER_LENGTH;
        return null;
      }
      this.parseHeader();
      pos = this.pos;
    }
    const avail = this.end - pos;
    if (avail < PCAP_RECORD_HEADER_LENGTH) {
      this.needed = PCAP_RECORD_HEADER_LENGTH;
      return null;
    }
    const dv = this.dv;
    const le = this.le;
    const caplen = dv.getUint32(pos + 8, le);
    if (caplen > MAX_CAPTURE_PACKET) {
      throw new NetworkError('INVALID_PACKET', `pcap record at byte ${this.base + pos} claims ${caplen} captured bytes (limit ${MAX_CAPTURE_PACKET})`, {
        offset: this.base + pos, field: 'incl_len', actual: caplen, expected: `<= ${MAX_CAPTURE_PACKET}`,
      });
    }
    const total = PCAP_RECORD_HEADER_LENGTH + caplen;
    if (avail < total) {
      this.needed = total;
      return null;
    }
    const start = pos + PCAP_RECORD_HEADER_LENGTH;
    const p = new CapturePacket(
      new Uint8Array(this.ab, this.abOff + start, caplen),
      dv.getUint32(pos + 12, le),
      this.linktype,
      0,
      dv.getUint32(pos, le),
      dv.getUint32(pos + 4, le) * this.nsMul,
    );
    this.pos = start + caplen;
    this.packets++;
    return p;
  }

  /** At end of input: throws TRUNCATED if a header or record was cut short. */
  finish(): void {
    const left = this.end - this.pos;
    if (this.header === null) throw captureTruncatedError('the pcap global header', this.fileOffset, PCAP_GLOBAL_HEADER_LENGTH, left, 0);
    if (left > 0) throw captureTruncatedError(left < PCAP_RECORD_HEADER_LENGTH ? 'a pcap record header' : 'pcap packet data', this.fileOffset, this.needed, left, this.packets);
  }

  private parseHeader(): void {
    const b = this.buf;
    const p = this.pos;
    const magicBe = ((b[p]! << 24) | (b[p + 1]! << 16) | (b[p + 2]! << 8) | b[p + 3]!) >>> 0;
    const magicLe = ((b[p + 3]! << 24) | (b[p + 2]! << 16) | (b[p + 1]! << 8) | b[p]!) >>> 0;
    let le: boolean;
    let magic: number;
    if (magicLe === PCAP_MAGIC_MICRO || magicLe === PCAP_MAGIC_NANO || magicLe === PCAP_MAGIC_MODIFIED) {
      le = true;
      magic = magicLe;
    } else if (magicBe === PCAP_MAGIC_MICRO || magicBe === PCAP_MAGIC_NANO || magicBe === PCAP_MAGIC_MODIFIED) {
      le = false;
      magic = magicBe;
    } else {
      throw new NetworkError('INVALID_PACKET', `not a pcap file: magic 0x${magicBe.toString(16).padStart(8, '0')}`, {
        offset: this.base + p, field: 'magic', actual: magicBe, expected: 'a1b2c3d4 or a1b23c4d (either byte order)',
      });
    }
    if (magic === PCAP_MAGIC_MODIFIED) {
      throw new NetworkError('UNSUPPORTED', 'Kuznetzov "modified pcap" files (magic a1b2cd34) are not supported; convert with editcap -F pcap', {
        offset: this.base + p, field: 'magic', actual: magic,
      });
    }
    const dv = this.dv;
    const versionMajor = dv.getUint16(p + 4, le);
    const versionMinor = dv.getUint16(p + 6, le);
    if (versionMajor !== 2) {
      throw new NetworkError('UNSUPPORTED', `pcap version ${versionMajor}.${versionMinor} is not supported (only 2.x)`, {
        offset: this.base + p + 4, field: 'version_major', actual: versionMajor, expected: 2,
      });
    }
    const network = dv.getUint32(p + 20, le);
    // pcap draft §4: LinkType in the low 16 bits; bits 28-31 FCS length (in 16-bit words), bit 26 "F" set when present.
    const fcsLength = (network & 0x04000000) !== 0 ? ((network >>> 28) & 0xf) * 2 : 0;
    this.le = le;
    this.nsMul = magic === PCAP_MAGIC_NANO ? 1 : 1000;
    this.linktype = network & 0xffff;
    this.header = {
      littleEndian: le,
      nanosecond: magic === PCAP_MAGIC_NANO,
      versionMajor,
      versionMinor,
      snaplen: dv.getUint32(p + 16, le),
      linktype: this.linktype,
      fcsLength,
    };
    this.pos = p + PCAP_GLOBAL_HEADER_LENGTH;
  }
}

/** Options of a pcap encoder. */
export interface PcapEncoderOptions {
  linktype: number;
  nanosecond?: boolean;
  /** Longest data written per record; longer packets are cut (originalLength keeps the real size). Default 262144. */
  snaplen?: number;
  /** Byte order of the file; default the machine's (little-endian here), as libpcap writes. */
  littleEndian?: boolean;
}

/** Encodes a pcap global header and records. */
export class PcapEncoder {
  readonly linktype: number;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly littleEndian: boolean;

  constructor(options: PcapEncoderOptions) {
    this.linktype = options.linktype;
    this.nanosecond = options.nanosecond ?? false;
    this.snaplen = options.snaplen ?? 262144;
    this.littleEndian = options.littleEndian ?? true;
    if (!Number.isInteger(this.linktype) || this.linktype < 0 || this.linktype > 0xffff) {
      throw new NetworkError('INVALID_ARGUMENT', `linktype must be an integer in 0..65535, got ${this.linktype}`, { field: 'linktype' });
    }
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > MAX_CAPTURE_PACKET) {
      throw new NetworkError('INVALID_ARGUMENT', `snaplen must be an integer in 1..${MAX_CAPTURE_PACKET}, got ${this.snaplen}`, { field: 'snaplen' });
    }
  }

  /** The 24-byte global header. */
  header(): Uint8Array {
    const out = new Uint8Array(PCAP_GLOBAL_HEADER_LENGTH);
    const dv = new DataView(out.buffer);
    const le = this.littleEndian;
    dv.setUint32(0, this.nanosecond ? PCAP_MAGIC_NANO : PCAP_MAGIC_MICRO, le);
    dv.setUint16(4, 2, le);
    dv.setUint16(6, 4, le);
    dv.setInt32(8, 0, le); // thiszone: always 0 (UTC)
    dv.setUint32(12, 0, le); // sigfigs: always 0
    dv.setUint32(16, this.snaplen, le);
    dv.setUint32(20, this.linktype, le);
    return out;
  }

  /** Bytes one record of this packet takes. */
  recordLength(p: CapturePacketInit): number {
    return PCAP_RECORD_HEADER_LENGTH + Math.min(p.data.length, this.snaplen);
  }

  /** Writes the record at out[offset]; returns the bytes written (recordLength). */
  encodeRecord(p: CapturePacketInit, sec: number, nsec: number, out: Uint8Array, dv: DataView, offset: number): number {
    if (p.linktype !== undefined && p.linktype !== this.linktype) {
      throw new NetworkError('INVALID_ARGUMENT', `a pcap file has one link type (${this.linktype}); packet has ${p.linktype} — use pcapng for several`, {
        field: 'linktype', expected: this.linktype, actual: p.linktype,
      });
    }
    const caplen = Math.min(p.data.length, this.snaplen);
    const orig = Math.max(p.originalLength ?? p.data.length, caplen);
    if (sec < 0 || sec > 0xffffffff) {
      throw new NetworkError('INVALID_ARGUMENT', `pcap timestamps hold seconds 0..2^32-1, got ${sec}`, { field: 'timestamp', actual: sec });
    }
    const le = this.littleEndian;
    dv.setUint32(offset, sec, le);
    dv.setUint32(offset + 4, this.nanosecond ? nsec : Math.floor(nsec / 1000), le);
    dv.setUint32(offset + 8, caplen, le);
    dv.setUint32(offset + 12, orig > 0xffffffff ? 0xffffffff : orig, le);
    out.set(caplen === p.data.length ? p.data : p.data.subarray(0, caplen), offset + PCAP_RECORD_HEADER_LENGTH);
    return PCAP_RECORD_HEADER_LENGTH + caplen;
  }
}
