// The guide's capture module: a CaptureFilter on protocol, addresses and ports, and PacketCapture, which
// keeps up to maxPackets matching frames and can stream them to a pcap/pcapng file as they arrive.
import { NetworkError } from '../errors.js';
import { parseIpAddressBytes } from '../wire/address.js';
import { EthernetFrame } from '../wire/ethernet.js';
import type { IpProtocol } from '../wire/ipv4.js';
import { CapturePacket, nowTimestamp, splitNanoseconds, type CapturePacketInit } from './packet.js';
import { PacketSummary, summarizePacket } from './summary.js';
import { createCaptureWriter, type CaptureFormat, type CaptureWriter } from './file.js';
import type { BpfProgram } from '../ebpf/program.js';
import { compileFilter } from '../filter/index.js';

/** The guide's filter fields; any left undefined matches everything. */
export interface CaptureFilterFields {
  /** IP protocol number (IpProtocol.Tcp …); for IPv6 the upper-layer protocol after extension headers. */
  protocol?: IpProtocol | number;
  /** Source / destination IPv4 or IPv6 address, as text. */
  sourceIp?: string;
  destIp?: string;
  /** TCP/UDP ports. */
  sourcePort?: number;
  destPort?: number;
}

/** Anything a filter or capture accepts as a frame. */
export type CaptureFrameInput = EthernetFrame | Uint8Array | CapturePacketInit;

function ipBytes(field: string, v: string | undefined): Uint8Array | null {
  if (v === undefined) return null;
  try {
    return parseIpAddressBytes(v);
  } catch (e) {
    throw new NetworkError('INVALID_ARGUMENT', `CaptureFilter.${field}: '${v}' is not an IPv4 or IPv6 address`, { field, actual: v }, { cause: e });
  }
}

function port(field: string, v: number | undefined): number | undefined {
  if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 0xffff)) {
    throw new NetworkError('INVALID_ARGUMENT', `CaptureFilter.${field} must be a port 0..65535, got ${v}`, { field, actual: String(v) });
  }
  return v;
}

function sameAddress(s: PacketSummary, want: Uint8Array, src: boolean): boolean {
  if (want.length === 4) {
    if (s.ipVersion !== 4) return false;
    const a = src ? s.src4 : s.dst4;
    return ((want[0]! << 24) | (want[1]! << 16) | (want[2]! << 8) | want[3]!) >>> 0 === a;
  }
  if (s.ipVersion !== 6) return false;
  const o = src ? s.src6 : s.dst6;
  for (let i = 0; i < 16; i++) if (s.data[o + i] !== want[i]) return false;
  return true;
}

/**
 * Which frames a capture keeps: `const f = new CaptureFilter(); f.protocol = IpProtocol.Tcp; f.destPort = 80`
 * (or `new CaptureFilter({ protocol: IpProtocol.Tcp, destPort: 80 })`). Fields are validated when set.
 * `new CaptureFilter('tcp dst port 80 and not src net 10.0.0.0/8')` takes a tcpdump expression instead: it is
 * compiled to verified eBPF (src/filter) once per linktype and run by the default engine (the x86-64 JIT on
 * the native backend). Fields set on an expression filter must match as well.
 */
export class CaptureFilter implements CaptureFilterFields {
  private _protocol: number | undefined;
  private _sourceIp: string | undefined;
  private _destIp: string | undefined;
  private _sourcePort: number | undefined;
  private _destPort: number | undefined;
  private src: Uint8Array | null = null;
  private dst: Uint8Array | null = null;
  private readonly summary = new PacketSummary();
  /** The tcpdump expression, when the filter was made from one. */
  readonly expression: string | undefined;
  private readonly programs = new Map<number, BpfProgram>();

  constructor(fields: CaptureFilterFields | string = {}) {
    if (typeof fields === 'string') {
      this.expression = fields;
      // Compile now for Ethernet so a bad expression fails here, with its position.
      this.programs.set(1, compileFilter(fields, { linktype: 1 }));
      fields = {};
    }
    if (fields === null || typeof fields !== 'object') {
      throw new NetworkError('INVALID_ARGUMENT', 'CaptureFilter takes a tcpdump expression or an object of fields (protocol, sourceIp, destIp, sourcePort, destPort)', { field: 'fields' });
    }
    this.protocol = fields.protocol;
    this.sourceIp = fields.sourceIp;
    this.destIp = fields.destIp;
    this.sourcePort = fields.sourcePort;
    this.destPort = fields.destPort;
  }

  get protocol(): number | undefined {
    return this._protocol;
  }
  set protocol(v: number | undefined) {
    if (v !== undefined && !(Number.isInteger(v) && v >= 0 && v <= 255)) {
      throw new NetworkError('INVALID_ARGUMENT', `CaptureFilter.protocol must be an IP protocol number 0..255, got ${v}`, { field: 'protocol', actual: String(v) });
    }
    this._protocol = v;
  }
  get sourceIp(): string | undefined {
    return this._sourceIp;
  }
  set sourceIp(v: string | undefined) {
    this.src = ipBytes('sourceIp', v);
    this._sourceIp = v;
  }
  get destIp(): string | undefined {
    return this._destIp;
  }
  set destIp(v: string | undefined) {
    this.dst = ipBytes('destIp', v);
    this._destIp = v;
  }
  get sourcePort(): number | undefined {
    return this._sourcePort;
  }
  set sourcePort(v: number | undefined) {
    this._sourcePort = port('sourcePort', v);
  }
  get destPort(): number | undefined {
    return this._destPort;
  }
  set destPort(v: number | undefined) {
    this._destPort = port('destPort', v);
  }

  /** The compiled expression for a linktype (null without an expression). */
  program(linktype = 1): BpfProgram | null {
    if (this.expression === undefined) return null;
    let p = this.programs.get(linktype);
    if (!p) {
      p = compileFilter(this.expression, { linktype });
      this.programs.set(linktype, p);
    }
    return p;
  }

  /** True when neither an expression nor a field is set. */
  get matchesAll(): boolean {
    return this.expression === undefined && this._protocol === undefined && this.src === null && this.dst === null && this._sourcePort === undefined && this._destPort === undefined;
  }

  /** Whether a frame passes (an Ethernet frame unless a packet says its linktype). Malformed frames fail a set field. */
  matches(frame: CaptureFrameInput): boolean {
    let data: Uint8Array;
    let linktype = 1;
    if (frame instanceof Uint8Array) data = frame;
    else if (frame instanceof EthernetFrame) data = frame.serialize();
    else if (frame !== null && typeof frame === 'object' && frame.data instanceof Uint8Array) {
      data = frame.data;
      linktype = frame.linktype ?? 1;
    } else {
      throw new NetworkError('INVALID_ARGUMENT', 'matches() needs an EthernetFrame, bytes or a packet', { field: 'frame' });
    }
    return this.matchesBytes(data, linktype);
  }

  /** Whether the bytes of one frame of the given linktype pass. */
  matchesBytes(data: Uint8Array, linktype = 1): boolean {
    if (this.matchesAll) return true;
    const prog = this.program(linktype);
    if (prog && prog.run(data) === 0n) return false;
    if (this.fieldsUnset()) return true;
    return this.matchSummary(summarizePacket(data, linktype, this.summary));
  }

  private fieldsUnset(): boolean {
    return this._protocol === undefined && this.src === null && this.dst === null && this._sourcePort === undefined && this._destPort === undefined;
  }

  /** The field test on an already decoded summary (the analyzer and CLI decode once and reuse it); an expression is tested by matchesBytes. */
  matchSummary(s: PacketSummary): boolean {
    if (this._protocol !== undefined && s.protocol !== this._protocol) return false;
    if (this.src !== null && !sameAddress(s, this.src, true)) return false;
    if (this.dst !== null && !sameAddress(s, this.dst, false)) return false;
    if (this._sourcePort !== undefined || this._destPort !== undefined) {
      // Ports exist only for TCP/UDP with a readable header (not in later fragments).
      if ((s.kind !== 'tcp' && s.kind !== 'udp') || s.laterFragment || s.transportLength < 4) return false;
      if (this._sourcePort !== undefined && s.srcPort !== this._sourcePort) return false;
      if (this._destPort !== undefined && s.dstPort !== this._destPort) return false;
    }
    return true;
  }

  /** The fields as a plain object. */
  toJSON(): CaptureFilterFields {
    const o: CaptureFilterFields = {};
    if (this._protocol !== undefined) o.protocol = this._protocol;
    if (this._sourceIp !== undefined) o.sourceIp = this._sourceIp;
    if (this._destIp !== undefined) o.destIp = this._destIp;
    if (this._sourcePort !== undefined) o.sourcePort = this._sourcePort;
    if (this._destPort !== undefined) o.destPort = this._destPort;
    return o;
  }
}

/** Options of enablePcapOutput. */
export interface PcapOutputOptions {
  /** 'pcap' (default, as the guide: magic a1b2c3d4, v2.4, snaplen 65535, Ethernet) or 'pcapng'. */
  format?: CaptureFormat;
  nanosecond?: boolean;
  snaplen?: number;
}

/**
 * The guide's PacketCapture: `new PacketCapture(filter, 10000)`, `captureFrame(frame)`, `packetCount()`,
 * `getPackets()`, `enablePcapOutput('traffic.pcap')`. Frames are copied when captured.
 */
export class PacketCapture {
  readonly filter: CaptureFilter;
  readonly maxPackets: number;
  private readonly packets: CapturePacket[] = [];
  private writer: CaptureWriter | null = null;
  /** Frames the filter passed but that arrived after maxPackets. */
  dropped = 0;
  /** Frames the filter rejected. */
  filtered = 0;

  constructor(filter: CaptureFilter = new CaptureFilter(), maxPackets = 10_000) {
    if (!(filter instanceof CaptureFilter)) throw new NetworkError('INVALID_ARGUMENT', 'PacketCapture needs a CaptureFilter', { field: 'filter' });
    if (!(Number.isInteger(maxPackets) && maxPackets >= 0) && maxPackets !== Infinity) {
      throw new NetworkError('INVALID_ARGUMENT', `maxPackets must be a non-negative integer, got ${maxPackets}`, { field: 'maxPackets' });
    }
    this.filter = filter;
    this.maxPackets = maxPackets;
  }

  /** Streams every captured frame to `path` from now on (pcap by default). */
  enablePcapOutput(path: string, options: PcapOutputOptions = {}): void {
    this.writer?.closeSync();
    this.writer = createCaptureWriter(path, {
      format: options.format ?? 'pcap',
      linktype: 1,
      nanosecond: options.nanosecond,
      snaplen: options.snaplen ?? 65535,
    });
  }

  /** Same as enablePcapOutput(path, { format: 'pcapng' }). */
  enablePcapngOutput(path: string, options: Omit<PcapOutputOptions, 'format'> = {}): void {
    this.enablePcapOutput(path, { ...options, format: 'pcapng' });
  }

  /** Offers a frame; returns true when the filter passed it and there was room. */
  captureFrame(frame: CaptureFrameInput): boolean {
    if (!this.filter.matches(frame)) {
      this.filtered++;
      return false;
    }
    if (this.packets.length >= this.maxPackets) {
      this.dropped++;
      return false;
    }
    let p: CapturePacket;
    if (frame instanceof Uint8Array || frame instanceof EthernetFrame) {
      const data = frame instanceof Uint8Array ? frame.slice() : frame.serialize();
      const [sec, nsec] = nowTimestamp();
      p = new CapturePacket(data, data.length, 1, 0, sec, nsec);
    } else {
      let sec: number;
      let nsec: number;
      if (frame.timestamp !== undefined) [sec, nsec] = splitNanoseconds(frame.timestamp);
      else if (frame.tsSec !== undefined) [sec, nsec] = [frame.tsSec, frame.tsNsec ?? 0];
      else [sec, nsec] = nowTimestamp();
      p = new CapturePacket(frame.data.slice(), frame.originalLength ?? frame.data.length, frame.linktype ?? 1, frame.interfaceId ?? 0, sec, nsec);
    }
    this.writer?.write(p);
    this.packets.push(p);
    return true;
  }

  /** Number of frames captured. */
  packetCount(): number {
    return this.packets.length;
  }

  /** The captured packets (a new array; the packets themselves are shared). */
  getPackets(): CapturePacket[] {
    return this.packets.slice();
  }

  /** Forgets the captured packets (the output file keeps them). */
  clear(): void {
    this.packets.length = 0;
  }

  /** Flushes and closes the output file, if any. */
  async close(): Promise<void> {
    const w = this.writer;
    this.writer = null;
    await w?.close();
  }
}
