// What a capture file yields per packet, the link-layer types we read and write, and the timestamp
// arithmetic both file formats share (nanosecond precision without a BigInt per packet).
import { NetworkError } from '../errors.js';

/** Link-layer header types (tcpdump.org/linktypes.html) that captures carry. */
export const PcapLinkType = {
  /** BSD loopback: a 4-byte address family in the writer's byte order. */
  NULL: 0,
  ETHERNET: 1,
  /** Raw IPv4 or IPv6, version from the first nibble. */
  RAW: 101,
  IEEE802_11: 105,
  /** OpenBSD loopback: a 4-byte address family in network byte order. */
  LOOP: 108,
  LINUX_SLL: 113,
  IPV4: 228,
  IPV6: 229,
  LINUX_SLL2: 276,
} as const;

/** One of the known link types, or any other number a file may carry. */
export type PcapLinkTypeValue = (typeof PcapLinkType)[keyof typeof PcapLinkType] | number;

/** A name for a link type as tshark's capinfos prints it (for CLI output). */
export function linkTypeName(linktype: number): string {
  switch (linktype) {
    case 0: return 'NULL (BSD loopback)';
    case 1: return 'EN10MB (Ethernet)';
    case 101: return 'RAW (raw IP)';
    case 105: return 'IEEE802_11';
    case 108: return 'LOOP (OpenBSD loopback)';
    case 113: return 'LINUX_SLL (Linux cooked v1)';
    case 228: return 'IPV4';
    case 229: return 'IPV6';
    case 276: return 'LINUX_SLL2 (Linux cooked v2)';
    default: return `linktype ${linktype}`;
  }
}

/** A packet as read from (or written to) a capture file. */
export class CapturePacket {
  /** Captured bytes: a view into the reader's chunk (call `.slice()` to keep it independent). */
  data: Uint8Array;
  /** Length of the packet on the wire (≥ data.length when the snap length cut it). */
  originalLength: number;
  /** Link-layer header type of data (PcapLinkType). */
  linktype: number;
  /** pcapng interface index (0 for pcap). */
  interfaceId: number;
  /** Whole seconds since the Unix epoch. */
  tsSec: number;
  /** Nanoseconds within the second. */
  tsNsec: number;

  constructor(data: Uint8Array, originalLength: number, linktype: number, interfaceId: number, tsSec: number, tsNsec: number) {
    this.data = data;
    this.originalLength = originalLength;
    this.linktype = linktype;
    this.interfaceId = interfaceId;
    this.tsSec = tsSec;
    this.tsNsec = tsNsec;
  }

  /** Capture time in nanoseconds since the Unix epoch (exact). */
  get timestamp(): bigint {
    return BigInt(this.tsSec) * 1_000_000_000n + BigInt(this.tsNsec);
  }

  /** Capture time in seconds since the epoch as a number (sub-µs precision is lost; for display/arithmetic). */
  get time(): number {
    return this.tsSec + this.tsNsec / 1e9;
  }
}

/** Any object a capture writer accepts: a CapturePacket, or just bytes with optional metadata. */
export interface CapturePacketInit {
  data: Uint8Array;
  originalLength?: number;
  linktype?: number;
  interfaceId?: number;
  /** Nanoseconds since the epoch; wins over tsSec/tsNsec when both are present. */
  timestamp?: bigint;
  tsSec?: number;
  tsNsec?: number;
}

/** Splits nanoseconds since the epoch into [seconds, nanoseconds]. */
export function splitNanoseconds(ns: bigint): [number, number] {
  let sec = ns / 1_000_000_000n;
  let rem = ns - sec * 1_000_000_000n;
  if (rem < 0n) {
    rem += 1_000_000_000n;
    sec -= 1n;
  }
  return [Number(sec), Number(rem)];
}

/** The current wall-clock time as [seconds, nanoseconds] (hrtime-refined so consecutive calls increase). */
export function nowTimestamp(): [number, number] {
  const ms = Date.now();
  const sub = Number(process.hrtime.bigint() % 1_000_000n);
  return [Math.floor(ms / 1000), (ms % 1000) * 1_000_000 + sub];
}

/**
 * How a pcapng interface's 64-bit timestamps turn into seconds + nanoseconds
 * (RFC-draft pcapng §4.2 if_tsresol: bit 7 clear = 10^-v, set = 2^-v).
 */
export class TimestampResolution {
  /** Units per second when it is a power of ten ≤ 10^9 (fast path), else 0. */
  readonly decimalUnits: number;
  /** Multiplier from one unit to nanoseconds on the fast path. */
  readonly nsPerUnit: number;
  /** Units per second as a BigInt (slow path for binary or sub-ns resolutions). */
  readonly unitsBig: bigint;
  /** The raw if_tsresol byte. */
  readonly raw: number;

  constructor(raw: number) {
    this.raw = raw;
    const exp = raw & 0x7f;
    if ((raw & 0x80) === 0 && exp <= 9) {
      this.decimalUnits = 10 ** exp;
      this.nsPerUnit = 10 ** (9 - exp);
    } else {
      this.decimalUnits = 0;
      this.nsPerUnit = 0;
    }
    this.unitsBig = (raw & 0x80) !== 0 ? 1n << BigInt(exp) : 10n ** BigInt(exp);
  }

  /** Converts the timestamp (hi:lo units) into [sec, nsec] written into out. */
  convert(hi: number, lo: number, out: Float64Array): void {
    const d = this.decimalUnits;
    if (d !== 0) {
      if (hi < 0x200000) {
        // hi·2^32 + lo < 2^53: exact in a double.
        const units = hi * 4294967296 + lo;
        const sec = Math.floor(units / d);
        out[0] = sec;
        out[1] = (units - sec * d) * this.nsPerUnit;
        return;
      }
      // Long division by 16-bit limbs keeps every intermediate below 2^53 (d ≤ 10^9 < 2^30); unrolled, no allocation.
      let cur = hi >>> 16;
      let qd = Math.floor(cur / d);
      let r = cur - qd * d;
      let q = qd;
      cur = r * 65536 + (hi & 0xffff);
      qd = Math.floor(cur / d);
      r = cur - qd * d;
      q = q * 65536 + qd;
      cur = r * 65536 + (lo >>> 16);
      qd = Math.floor(cur / d);
      r = cur - qd * d;
      q = q * 65536 + qd;
      cur = r * 65536 + (lo & 0xffff);
      qd = Math.floor(cur / d);
      r = cur - qd * d;
      q = q * 65536 + qd;
      out[0] = q;
      out[1] = r * this.nsPerUnit;
      return;
    }
    const units = (BigInt(hi) << 32n) | BigInt(lo);
    const sec = units / this.unitsBig;
    const frac = units - sec * this.unitsBig;
    out[0] = Number(sec);
    out[1] = Number((frac * 1_000_000_000n) / this.unitsBig);
  }
}

/** Largest captured length we accept for one packet: bounds memory on hostile files (libpcap allows 256 KiB; we allow more). */
export const MAX_CAPTURE_PACKET = 64 * 1024 * 1024;

/** A TRUNCATED error for a file that ends inside a header or record. */
export function captureTruncatedError(what: string, offset: number, needed: number, available: number, packets: number): NetworkError {
  return new NetworkError('TRUNCATED', `capture file ends inside ${what} at byte ${offset}: needed ${needed} bytes, ${available} left (${packets} complete packets read)`, {
    offset,
    field: what,
    expected: needed,
    actual: available,
    packets,
  });
}
