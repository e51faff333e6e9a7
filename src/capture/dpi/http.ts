// HTTP/1.x request detection (RFC 9112 §3: request-line = method SP request-target SP HTTP-version CRLF).
// Reads only the first bytes of a payload; never throws on hostile input (returns null).

/** What a request line and its Host header say. */
export interface HttpRequestInfo {
  method: string;
  uri: string;
  version: string;
  /** Host header value, when present in the bytes seen. */
  host: string | null;
  userAgent: string | null;
}

const METHODS = ['GET', 'POST', 'HEAD', 'PUT', 'DELETE', 'OPTIONS', 'PATCH', 'CONNECT', 'TRACE'];
/** Longest head we look at: request lines beyond this are not worth the time of a packet analyzer. */
const MAX_HEAD = 4096;

function isTchar(c: number): boolean {
  // RFC 9110 §5.6.2 token characters (method names).
  return (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a) || (c >= 0x30 && c <= 0x39) || c === 0x2d || c === 0x5f || c === 0x2e || c === 0x21 ||
    c === 0x23 || c === 0x24 || c === 0x25 || c === 0x26 || c === 0x27 || c === 0x2a || c === 0x2b || c === 0x5e || c === 0x60 || c === 0x7c || c === 0x7e;
}

function ascii(b: Uint8Array, s: number, e: number): string {
  let out = '';
  for (let i = s; i < e; i++) {
    const c = b[i]!;
    // Keep it printable: control bytes become '.' (as tshark shows them).
    out += c >= 0x20 && c < 0x7f ? String.fromCharCode(c) : '.';
  }
  return out;
}

/** A quick test on the first bytes: does this payload start like a known HTTP/1.x method? */
export function looksLikeHttpRequest(b: Uint8Array, off: number, len: number): boolean {
  if (len < 14) return false;
  const c = b[off]!;
  // G P H D O C T: the first letters of the methods we list.
  if (c !== 0x47 && c !== 0x50 && c !== 0x48 && c !== 0x44 && c !== 0x4f && c !== 0x43 && c !== 0x54) return false;
  for (const m of METHODS) {
    if (len <= m.length) continue;
    let ok = b[off + m.length] === 0x20;
    for (let i = 0; ok && i < m.length; i++) ok = b[off + i] === m.charCodeAt(i);
    if (ok) return true;
  }
  return false;
}

/** Parses an HTTP/1.x request head at payload[off, off+len); null when it is not one. */
export function parseHttpRequest(b: Uint8Array, off: number, len: number): HttpRequestInfo | null {
  if (off < 0 || len <= 0 || off + len > b.length) return null;
  if (!looksLikeHttpRequest(b, off, len)) return null;
  const end = off + Math.min(len, MAX_HEAD);
  // Request line up to CRLF (or LF, RFC 9112 §2.2 lets a recipient accept a bare LF).
  let eol = off;
  while (eol < end && b[eol] !== 0x0a) eol++;
  const lineEnd = eol > off && b[eol - 1] === 0x0d ? eol - 1 : eol;
  let sp1 = off;
  while (sp1 < lineEnd && isTchar(b[sp1]!)) sp1++;
  if (sp1 === off || sp1 >= lineEnd || b[sp1] !== 0x20) return null;
  let sp2 = lineEnd;
  while (sp2 > sp1 && b[sp2 - 1] !== 0x20) sp2--;
  if (sp2 - 1 <= sp1 + 1) return null; // empty request-target
  const version = ascii(b, sp2, lineEnd);
  if (!/^HTTP\/1\.[01]$/.test(version)) return null;
  const info: HttpRequestInfo = { method: ascii(b, off, sp1), uri: ascii(b, sp1 + 1, sp2 - 1), version, host: null, userAgent: null };
  // Header fields: name ":" OWS value OWS, one per line, until the empty line (RFC 9112 §5).
  let p = eol + 1;
  while (p < end) {
    let q = p;
    while (q < end && b[q] !== 0x0a) q++;
    const le = q > p && b[q - 1] === 0x0d ? q - 1 : q;
    if (le === p) break;
    let colon = p;
    while (colon < le && b[colon] !== 0x3a) colon++;
    if (colon < le) {
      const name = ascii(b, p, colon).toLowerCase();
      if (name === 'host' || name === 'user-agent') {
        let vs = colon + 1;
        while (vs < le && (b[vs] === 0x20 || b[vs] === 0x09)) vs++;
        let ve = le;
        while (ve > vs && (b[ve - 1] === 0x20 || b[ve - 1] === 0x09)) ve--;
        if (name === 'host') info.host = ascii(b, vs, ve);
        else info.userAgent = ascii(b, vs, ve);
      }
    }
    if (q >= end) break;
    p = q + 1;
  }
  return info;
}
