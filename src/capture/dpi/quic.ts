// QUIC long header (RFC 9000 §17.2; RFC 8999 version-independent invariants): header form 1, version,
// DCID and SCID with their lengths. Only the invariant fields are read: the rest is encrypted.

/** The clear-text fields of a QUIC long-header packet. */
export interface QuicLongHeaderInfo {
  version: number;
  /** Packet type bits (0 Initial, 1 0-RTT, 2 Handshake, 3 Retry for v1), or -1 for version negotiation. */
  packetType: number;
  packetTypeName: string;
  dcid: Uint8Array;
  scid: Uint8Array;
}

/** Versions we accept as QUIC without other evidence: v1, v2 (RFC 9369), drafts, and version negotiation (0). */
export function isKnownQuicVersion(v: number): boolean {
  return v === 1 || v === 0x6b3343cf || v === 0 || (v >>> 8) === 0xff0000 || (v & 0x0f0f0f0f) === 0x0a0a0a0a;
}

const V1_TYPES = ['Initial', '0-RTT', 'Handshake', 'Retry'];
// RFC 9369 §3.2: v2 renumbers the long-header types.
const V2_TYPES = ['Retry', 'Initial', '0-RTT', 'Handshake'];

/** Parses a long header at payload[off, off+len); null if it is not one (or the version is unknown and `anyVersion` is false). */
export function parseQuicLongHeader(b: Uint8Array, off: number, len: number, anyVersion = false): QuicLongHeaderInfo | null {
  if (off < 0 || len < 7 || off + len > b.length) return null;
  const first = b[off]!;
  if ((first & 0x80) === 0) return null;
  const version = ((b[off + 1]! << 24) | (b[off + 2]! << 16) | (b[off + 3]! << 8) | b[off + 4]!) >>> 0;
  if (!anyVersion && !isKnownQuicVersion(version)) return null;
  // RFC 9000 §17.2: the fixed bit is 1 except in version negotiation.
  if (version !== 0 && (first & 0x40) === 0) return null;
  const dl = b[off + 5]!;
  // RFC 8999 §5.1 allows up to 255; v1 limits connection IDs to 20 bytes (RFC 9000 §17.2).
  if (version === 1 && dl > 20) return null;
  let p = off + 6;
  if (p + dl + 1 > off + len) return null;
  const dcid = new Uint8Array(b.subarray(p, p + dl));
  p += dl;
  const sl = b[p]!;
  if (version === 1 && sl > 20) return null;
  p += 1;
  if (p + sl > off + len) return null;
  const scid = new Uint8Array(b.subarray(p, p + sl));
  const t = (first >>> 4) & 3;
  const packetType = version === 0 ? -1 : t;
  const packetTypeName = version === 0 ? 'Version Negotiation' : version === 0x6b3343cf ? V2_TYPES[t]! : V1_TYPES[t]!;
  return { version, packetType, packetTypeName, dcid, scid };
}
