// pcapng (draft-ietf-opsawg-pcapng): a file of blocks (type, total length, body, total length repeated).
// A Section Header Block (SHB) opens each section and fixes its byte order; Interface Description Blocks
// (IDB) declare link type, snap length and timestamp resolution; packets come in Enhanced (EPB), Simple
// (SPB) or obsolete (OPB) packet blocks. Unknown block types are skipped, as the draft requires (§3.1).
import { NetworkError } from '../errors.js';
import { CapturePacket, MAX_CAPTURE_PACKET, TimestampResolution, captureTruncatedError, type CapturePacketInit } from './packet.js';

export const PCAPNG_SHB = 0x0a0d0d0a;
export const PCAPNG_IDB = 0x00000001;
export const PCAPNG_OPB = 0x00000002;
export const PCAPNG_SPB = 0x00000003;
export const PCAPNG_NRB = 0x00000004;
export const PCAPNG_ISB = 0x00000005;
export const PCAPNG_EPB = 0x00000006;
const BYTE_ORDER_MAGIC = 0x1a2b3c4d;
/** Largest block we accept: bounds memory on hostile files (Wireshark's limit is 16 MiB). */
export const PCAPNG_MAX_BLOCK = MAX_CAPTURE_PACKET + 4096;

/** One interface of a pcapng section. */
export interface PcapngInterface {
  linktype: number;
  snaplen: number;
  /** if_tsresol byte (default 6: microseconds). */
  tsresol: number;
  /** if_tsoffset: seconds added to every timestamp. */
  tsoffset: number;
  name: string | null;
  description: string | null;
  /** The section (0-based) this interface belongs to. */
  section: number;
}

interface IfaceState extends PcapngInterface {
  resolution: TimestampResolution;
}

const utf8 = new TextDecoder('utf-8', { fatal: false });

/** Incremental pcapng parser; same contract as PcapParser. */
export class PcapngParser {
  readonly format = 'pcapng' as const;
  /** Interfaces of the current section, by interface id. */
  interfaces: PcapngInterface[] = [];
  /** Every interface seen, over all sections. */
  allInterfaces: PcapngInterface[] = [];
  /** Sections seen so far. */
  sections = 0;
  /** Blocks of unknown or non-packet types skipped. */
  skippedBlocks = 0;
  packets = 0;
  needed = 12;
  pos = 0;
  /** Application that wrote the current section (shb_userappl), when given. */
  userApplication: string | null = null;
  private ifaces: IfaceState[] = [];
  private buf: Uint8Array = new Uint8Array(0);
  private dv: DataView = new DataView(new ArrayBuffer(0));
  /** buf's backing store and offset: `new Uint8Array(ab, off, n)` is cheaper than subarray (no species lookup). */
  private ab: ArrayBufferLike = new ArrayBuffer(0);
  private abOff = 0;
  private end = 0;
  private base = 0;
  private le = true;
  private readonly ts = new Float64Array(2);

  feed(buf: Uint8Array, pos: number, end: number, fileOffset: number): void {
    this.buf = buf;
    this.dv = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
    this.ab = buf.buffer;
    this.abOff = buf.byteOffset;
    this.pos = pos;
    this.end = end;
    this.base = fileOffset - pos;
  }

  get fileOffset(): number {
    return this.base + this.pos;
  }

  /** The header is "done" once the first SHB was read. */
  get header(): { sections: number } | null {
    return this.sections > 0 ? { sections: this.sections } : null;
  }

  next(): CapturePacket | null {
    const dv = this.dv;
    for (;;) {
      const pos = this.pos;
      const avail = this.end - pos;
      if (avail < 12) {
        this.needed = 12;
        return null;
      }
      let type = dv.getUint32(pos, this.le);
      if (type === PCAPNG_SHB) {
        // The SHB type reads the same in both byte orders; its byte-order magic tells which one this section uses.
        const m = dv.getUint32(pos + 8, true);
        if (m === BYTE_ORDER_MAGIC) this.le = true;
        else if (m === 0x4d3c2b1a) this.le = false;
        else {
          throw this.invalid(pos + 8, 'byte_order_magic', `pcapng section header with bad byte-order magic 0x${m.toString(16)}`, m, '1a2b3c4d');
        }
      } else if (this.sections === 0) {
        throw this.invalid(pos, 'block_type', `not a pcapng file: first block type 0x${type.toString(16)} is not a section header`, type, PCAPNG_SHB);
      }
      const le = this.le;
      type = dv.getUint32(pos, le);
      const len = dv.getUint32(pos + 4, le);
      if (len < 12 || (len & 3) !== 0 || len > PCAPNG_MAX_BLOCK) {
        throw this.invalid(pos + 4, 'block_total_length', `pcapng block at byte ${this.base + pos} has bad total length ${len}`, len, 'a multiple of 4 in 12..' + PCAPNG_MAX_BLOCK);
      }
      if (avail < len) {
        this.needed = len;
        return null;
      }
      const trailer = dv.getUint32(pos + len - 4, le);
      if (trailer !== len) {
        throw this.invalid(pos + len - 4, 'block_total_length', `pcapng block at byte ${this.base + pos}: trailing length ${trailer} differs from leading ${len}`, trailer, len);
      }
      let pkt: CapturePacket | null = null;
      switch (type) {
        case PCAPNG_EPB:
          pkt = this.enhanced(pos, len);
          break;
        case PCAPNG_SPB:
          pkt = this.simple(pos, len);
          break;
        case PCAPNG_IDB:
          this.interface(pos, len);
          break;
        case PCAPNG_SHB:
          this.section(pos, len);
          break;
        case PCAPNG_OPB:
          pkt = this.obsolete(pos, len);
          break;
        default:
          this.skippedBlocks++;
      }
      this.pos = pos + len;
      if (pkt !== null) {
        this.packets++;
        return pkt;
      }
    }
  }

  finish(): void {
    const left = this.end - this.pos;
    if (this.sections === 0) throw captureTruncatedError('the pcapng section header', this.fileOffset, Math.max(this.needed, 28), left, 0);
    if (left > 0) throw captureTruncatedError(left < 12 ? 'a pcapng block header' : 'a pcapng block', this.fileOffset, this.needed, left, this.packets);
  }

  private invalid(at: number, field: string, message: string, actual: number, expected: number | string): NetworkError {
    return new NetworkError('INVALID_PACKET', message, { offset: this.base + at, field, actual, expected });
  }

  private minLength(pos: number, len: number, min: number, what: string): void {
    if (len < min) throw this.invalid(pos + 4, 'block_total_length', `pcapng ${what} at byte ${this.base + pos} is ${len} bytes, shorter than its fixed part (${min})`, len, `>= ${min}`);
  }

  private section(pos: number, len: number): void {
    this.minLength(pos, len, 28, 'section header block');
    const major = this.dv.getUint16(pos + 12, this.le);
    const minor = this.dv.getUint16(pos + 14, this.le);
    if (major !== 1) {
      throw new NetworkError('UNSUPPORTED', `pcapng version ${major}.${minor} is not supported (only 1.x)`, {
        offset: this.base + pos + 12, field: 'major_version', actual: major, expected: 1,
      });
    }
    this.sections++;
    this.ifaces = [];
    this.interfaces = [];
    this.userApplication = null;
    this.options(pos + 24, pos + len - 4, (code, s, e) => {
      if (code === 4) this.userApplication = utf8.decode(this.buf.subarray(s, e)); // shb_userappl
    });
  }

  private interface(pos: number, len: number): void {
    this.minLength(pos, len, 20, 'interface description block');
    const dv = this.dv;
    const le = this.le;
    const iface: IfaceState = {
      linktype: dv.getUint16(pos + 8, le),
      snaplen: dv.getUint32(pos + 12, le),
      tsresol: 6,
      tsoffset: 0,
      name: null,
      description: null,
      section: this.sections - 1,
      resolution: new TimestampResolution(6),
    };
    this.options(pos + 16, pos + len - 4, (code, s, e) => {
      const olen = e - s;
      if (code === 9) {
        if (olen !== 1) throw this.invalid(s - 2, 'if_tsresol', `if_tsresol option must be 1 byte, got ${olen}`, olen, 1);
        iface.tsresol = this.buf[s]!;
        iface.resolution = new TimestampResolution(iface.tsresol);
      } else if (code === 14) {
        if (olen !== 8) throw this.invalid(s - 2, 'if_tsoffset', `if_tsoffset option must be 8 bytes, got ${olen}`, olen, 8);
        iface.tsoffset = Number(dv.getBigInt64(s, le));
      } else if (code === 2) {
        iface.name = utf8.decode(this.buf.subarray(s, e));
      } else if (code === 3) {
        iface.description = utf8.decode(this.buf.subarray(s, e));
      }
    });
    this.ifaces.push(iface);
    const pub: PcapngInterface = {
      linktype: iface.linktype, snaplen: iface.snaplen, tsresol: iface.tsresol, tsoffset: iface.tsoffset,
      name: iface.name, description: iface.description, section: iface.section,
    };
    this.interfaces.push(pub);
    this.allInterfaces.push(pub);
  }

  /** Walks the options list in [start, end): code, length, value padded to 4 (draft §3.5). */
  private options(start: number, end: number, each: (code: number, s: number, e: number) => void): void {
    const dv = this.dv;
    const le = this.le;
    let p = start;
    while (p + 4 <= end) {
      const code = dv.getUint16(p, le);
      const olen = dv.getUint16(p + 2, le);
      if (code === 0) return; // opt_endofopt
      const s = p + 4;
      if (s + olen > end) {
        throw this.invalid(p + 2, 'option_length', `pcapng option ${code} at byte ${this.base + p} runs past its block (${olen} bytes)`, olen, `<= ${end - s}`);
      }
      each(code, s, s + olen);
      p = s + ((olen + 3) & ~3);
    }
  }

  private iface(id: number, at: number): IfaceState {
    const f = this.ifaces[id];
    if (f === undefined) {
      throw this.invalid(at, 'interface_id', `pcapng packet refers to interface ${id}, but the section declares ${this.ifaces.length}`, id, `< ${this.ifaces.length}`);
    }
    return f;
  }

  private packet(pos: number, len: number, fixed: number, ifid: number, hi: number, lo: number, caplen: number, origlen: number): CapturePacket {
    const f = this.iface(ifid, pos + 8);
    if (caplen > len - fixed) {
      throw this.invalid(pos + 20, 'captured_length', `pcapng packet block at byte ${this.base + pos}: captured length ${caplen} exceeds the block (${len - fixed} bytes of data room)`, caplen, `<= ${len - fixed}`);
    }
    const ts = this.ts;
    f.resolution.convert(hi, lo, ts);
    const start = pos + 28;
    return new CapturePacket(new Uint8Array(this.ab, this.abOff + start, caplen), origlen, f.linktype, ifid, ts[0]! + f.tsoffset, ts[1]!);
  }

  private enhanced(pos: number, len: number): CapturePacket {
    this.minLength(pos, len, 32, 'enhanced packet block');
    const dv = this.dv;
    const le = this.le;
    return this.packet(pos, len, 32, dv.getUint32(pos + 8, le), dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), dv.getUint32(pos + 20, le), dv.getUint32(pos + 24, le));
  }

  private obsolete(pos: number, len: number): CapturePacket {
    this.minLength(pos, len, 32, 'packet block');
    const dv = this.dv;
    const le = this.le;
    return this.packet(pos, len, 32, dv.getUint16(pos + 8, le), dv.getUint32(pos + 12, le), dv.getUint32(pos + 16, le), dv.getUint32(pos + 20, le), dv.getUint32(pos + 24, le));
  }

  private simple(pos: number, len: number): CapturePacket {
    this.minLength(pos, len, 16, 'simple packet block');
    const f = this.iface(0, pos + 8);
    const origlen = this.dv.getUint32(pos + 8, this.le);
    // draft §4.4: captured length = min(original length, snaplen of interface 0, room in the block).
    let caplen = Math.min(origlen, len - 16);
    if (f.snaplen !== 0 && f.snaplen < caplen) caplen = f.snaplen;
    const start = pos + 12;
    return new CapturePacket(new Uint8Array(this.ab, this.abOff + start, caplen), origlen, f.linktype, 0, 0, 0);
  }
}

/** Options of a pcapng encoder. */
export interface PcapngEncoderOptions {
  /** Link type of interface 0. Packets with another linktype get a new interface of their own. */
  linktype: number;
  /** Write if_tsresol = 9 (nanoseconds) instead of the default microseconds. */
  nanosecond?: boolean;
  snaplen?: number;
  littleEndian?: boolean;
  /** shb_userappl option. */
  application?: string;
  /** if_name of interface 0. */
  interfaceName?: string;
}

const utf8e = new TextEncoder();

function optionBytes(code: number, value: Uint8Array, le: boolean): Uint8Array {
  const out = new Uint8Array(4 + ((value.length + 3) & ~3));
  const dv = new DataView(out.buffer);
  dv.setUint16(0, code, le);
  dv.setUint16(2, value.length, le);
  out.set(value, 4);
  return out;
}

function block(type: number, body: Uint8Array, le: boolean): Uint8Array {
  const len = 12 + body.length;
  const out = new Uint8Array(len);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, type, le);
  dv.setUint32(4, len, le);
  out.set(body, 8);
  dv.setUint32(len - 4, len, le);
  return out;
}

function concat(parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let o = 0;
  for (const p of parts) {
    out.set(p, o);
    o += p.length;
  }
  return out;
}

/** Encodes an SHB, IDBs (one per link type met) and EPBs. */
export class PcapngEncoder {
  readonly linktype: number;
  readonly nanosecond: boolean;
  readonly snaplen: number;
  readonly littleEndian: boolean;
  readonly application: string;
  private readonly interfaceName: string | undefined;
  /** linktype → interface id. */
  private readonly ids = new Map<number, number>();
  /** Interface blocks that must precede the next record (written by the caller before it). */
  pending: Uint8Array[] = [];

  constructor(options: PcapngEncoderOptions) {
    this.linktype = options.linktype;
    this.nanosecond = options.nanosecond ?? false;
    this.snaplen = options.snaplen ?? 262144;
    this.littleEndian = options.littleEndian ?? true;
    this.application = options.application ?? 'elysia-net';
    this.interfaceName = options.interfaceName;
    if (!Number.isInteger(this.linktype) || this.linktype < 0 || this.linktype > 0xffff) {
      throw new NetworkError('INVALID_ARGUMENT', `linktype must be an integer in 0..65535, got ${this.linktype}`, { field: 'linktype' });
    }
    if (!Number.isInteger(this.snaplen) || this.snaplen < 1 || this.snaplen > MAX_CAPTURE_PACKET) {
      throw new NetworkError('INVALID_ARGUMENT', `snaplen must be an integer in 1..${MAX_CAPTURE_PACKET}, got ${this.snaplen}`, { field: 'snaplen' });
    }
  }

  /** SHB + the IDB of interface 0. */
  header(): Uint8Array {
    const le = this.littleEndian;
    const shbFixed = new Uint8Array(16);
    const dv = new DataView(shbFixed.buffer);
    dv.setUint32(0, BYTE_ORDER_MAGIC, le);
    dv.setUint16(4, 1, le);
    dv.setUint16(6, 0, le);
    dv.setBigInt64(8, -1n, le); // section length unknown: we stream
    const shb = block(PCAPNG_SHB, concat([shbFixed, optionBytes(4, utf8e.encode(this.application), le), new Uint8Array(4)]), le);
    return concat([shb, this.interfaceBlock(this.linktype, this.interfaceName)]);
  }

  private interfaceBlock(linktype: number, name: string | undefined): Uint8Array {
    const le = this.littleEndian;
    this.ids.set(linktype, this.ids.size);
    const fixed = new Uint8Array(8);
    const dv = new DataView(fixed.buffer);
    dv.setUint16(0, linktype, le);
    dv.setUint32(4, this.snaplen, le);
    const opts: Uint8Array[] = [fixed];
    if (name !== undefined) opts.push(optionBytes(2, utf8e.encode(name), le));
    if (this.nanosecond) opts.push(optionBytes(9, Uint8Array.of(9), le));
    if (opts.length > 1) opts.push(new Uint8Array(4));
    return block(PCAPNG_IDB, concat(opts), le);
  }

  /** The interface id for a packet, queuing a new IDB in `pending` when its link type is new. */
  interfaceFor(p: CapturePacketInit): number {
    const lt = p.linktype ?? this.linktype;
    const id = this.ids.get(lt);
    if (id !== undefined) return id;
    if (!Number.isInteger(lt) || lt < 0 || lt > 0xffff) {
      throw new NetworkError('INVALID_ARGUMENT', `linktype must be an integer in 0..65535, got ${lt}`, { field: 'linktype' });
    }
    this.pending.push(this.interfaceBlock(lt, undefined));
    return this.ids.get(lt)!;
  }

  recordLength(p: CapturePacketInit): number {
    return 32 + ((Math.min(p.data.length, this.snaplen) + 3) & ~3);
  }

  /** Writes an EPB at out[offset] for interface `ifid`; returns its length. */
  encodeRecord(p: CapturePacketInit, ifid: number, sec: number, nsec: number, out: Uint8Array, dv: DataView, offset: number): number {
    const le = this.littleEndian;
    const caplen = Math.min(p.data.length, this.snaplen);
    const orig = Math.max(p.originalLength ?? p.data.length, caplen);
    const len = 32 + ((caplen + 3) & ~3);
    let hi: number;
    let lo: number;
    if (this.nanosecond) {
      const units = BigInt(sec) * 1_000_000_000n + BigInt(nsec);
      if (units < 0n || units >= 1n << 64n) throw new NetworkError('INVALID_ARGUMENT', `timestamp out of range for pcapng: ${sec}s`, { field: 'timestamp' });
      hi = Number(units >> 32n);
      lo = Number(units & 0xffffffffn);
    } else {
      const units = sec * 1_000_000 + Math.floor(nsec / 1000);
      if (!(units >= 0 && units <= Number.MAX_SAFE_INTEGER)) throw new NetworkError('INVALID_ARGUMENT', `timestamp out of range for pcapng: ${sec}s`, { field: 'timestamp' });
      hi = Math.floor(units / 4294967296);
      lo = units - hi * 4294967296;
    }
    dv.setUint32(offset, PCAPNG_EPB, le);
    dv.setUint32(offset + 4, len, le);
    dv.setUint32(offset + 8, ifid, le);
    dv.setUint32(offset + 12, hi, le);
    dv.setUint32(offset + 16, lo, le);
    dv.setUint32(offset + 20, caplen, le);
    dv.setUint32(offset + 24, orig > 0xffffffff ? 0xffffffff : orig, le);
    out.set(caplen === p.data.length ? p.data : p.data.subarray(0, caplen), offset + 28);
    out.fill(0, offset + 28 + caplen, offset + len - 4);
    dv.setUint32(offset + len - 4, len, le);
    return len;
  }
}
