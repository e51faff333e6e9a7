// TLS ClientHello inspection: server_name (RFC 6066 §3) and ALPN (RFC 7301 §3.1) from the first record.
// Every length is checked against the bytes at hand; hostile input gives null, never an exception.

/** What a ClientHello reveals in the clear. */
export interface TlsClientHelloInfo {
  /** Record-layer version (e.g. 0x0301), and the ClientHello's legacy_version (0x0303 for TLS 1.2/1.3). */
  recordVersion: number;
  helloVersion: number;
  /** server_name host_name, when sent. */
  sni: string | null;
  /** ALPN protocol names offered, in order. */
  alpn: string[];
  /** supported_versions (RFC 8446 §4.2.1) offered, when sent. */
  supportedVersions: number[];
  cipherSuiteCount: number;
}

function str(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) out += String.fromCharCode(b[i]!);
  return out;
}

/** A quick test: handshake record (22), version 3.x, ClientHello (1). */
export function looksLikeTlsClientHello(b: Uint8Array, off: number, len: number): boolean {
  return len >= 9 && b[off] === 22 && b[off + 1] === 3 && b[off + 2]! <= 4 && b[off + 5] === 1;
}

/**
 * Parses a ClientHello at payload[off, off+len). The hello may be cut (the rest in later segments): the
 * extensions present in these bytes are read, and a cut extension is ignored.
 */
export function parseTlsClientHello(b: Uint8Array, off: number, len: number): TlsClientHelloInfo | null {
  if (off < 0 || len <= 0 || off + len > b.length) return null;
  if (!looksLikeTlsClientHello(b, off, len)) return null;
  const end = off + len;
  const recordVersion = (b[off + 1]! << 8) | b[off + 2]!;
  // RFC 8446 §4: msg_type(1) length(3) legacy_version(2) random(32) session_id<0..32> cipher_suites<2..> compression<1..> extensions<..>
  let p = off + 5 + 4;
  if (p + 34 > end) return null;
  const helloVersion = (b[p]! << 8) | b[p + 1]!;
  p += 34;
  const sid = b[p]!;
  if (sid > 32) return null;
  p += 1 + sid;
  if (p + 2 > end) return null;
  const csLen = (b[p]! << 8) | b[p + 1]!;
  if (csLen & 1) return null;
  p += 2 + csLen;
  if (p + 1 > end) return null;
  const cmLen = b[p]!;
  p += 1 + cmLen;
  const info: TlsClientHelloInfo = { recordVersion, helloVersion, sni: null, alpn: [], supportedVersions: [], cipherSuiteCount: csLen >>> 1 };
  if (p + 2 > end) return info;
  const extEnd = Math.min(end, p + 2 + ((b[p]! << 8) | b[p + 1]!));
  p += 2;
  while (p + 4 <= extEnd) {
    const type = (b[p]! << 8) | b[p + 1]!;
    const elen = (b[p + 2]! << 8) | b[p + 3]!;
    const s = p + 4;
    const e = s + elen;
    if (e > extEnd) break;
    if (type === 0 && e - s >= 2) {
      // server_name: list<2> of { name_type(1), host_name<2> }
      const listEnd = Math.min(e, s + 2 + ((b[s]! << 8) | b[s + 1]!));
      let q = s + 2;
      while (q + 3 <= listEnd) {
        const nt = b[q]!;
        const nl = (b[q + 1]! << 8) | b[q + 2]!;
        if (q + 3 + nl > listEnd) break;
        if (nt === 0 && info.sni === null) info.sni = str(b, q + 3, q + 3 + nl);
        q += 3 + nl;
      }
    } else if (type === 16 && e - s >= 2) {
      // ALPN: list<2> of protocol_name<1>
      const listEnd = Math.min(e, s + 2 + ((b[s]! << 8) | b[s + 1]!));
      let q = s + 2;
      while (q + 1 <= listEnd) {
        const nl = b[q]!;
        if (nl === 0 || q + 1 + nl > listEnd) break;
        info.alpn.push(str(b, q + 1, q + 1 + nl));
        q += 1 + nl;
      }
    } else if (type === 43 && e - s >= 1) {
      const l = Math.min(b[s]!, e - s - 1);
      for (let q = s + 1; q + 2 <= s + 1 + l; q += 2) info.supportedVersions.push((b[q]! << 8) | b[q + 1]!);
    }
    p = e;
  }
  return info;
}
