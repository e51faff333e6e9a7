// DNS message header and first question (RFC 1035 §4.1.1-4.1.2), with name compression (§4.1.4) followed
// under a jump limit so a pointer loop cannot hang us.

/** The question a DNS message carries. */
export interface DnsQueryInfo {
  id: number;
  /** True for a response (QR bit). */
  response: boolean;
  opcode: number;
  rcode: number;
  /** First question's name, dotted, without the trailing dot ('<Root>' for the root, as tshark prints it). */
  name: string;
  /** QTYPE number (1 = A, 28 = AAAA …) and its mnemonic. */
  type: number;
  typeName: string;
  qclass: number;
  questions: number;
  answers: number;
}

const TYPE_NAMES: Record<number, string> = {
  1: 'A', 2: 'NS', 5: 'CNAME', 6: 'SOA', 12: 'PTR', 15: 'MX', 16: 'TXT', 28: 'AAAA', 33: 'SRV', 35: 'NAPTR', 41: 'OPT',
  43: 'DS', 46: 'RRSIG', 47: 'NSEC', 48: 'DNSKEY', 64: 'SVCB', 65: 'HTTPS', 99: 'SPF', 252: 'AXFR', 255: 'ANY', 257: 'CAA',
};

/** The mnemonic of a DNS type number ('TYPE1234' when unknown, RFC 3597 §5). */
export function dnsTypeName(t: number): string {
  return TYPE_NAMES[t] ?? `TYPE${t}`;
}

/** Reads a (possibly compressed) name at msg[p]; returns [name, offset after it in the original place] or null. */
function readName(b: Uint8Array, start: number, end: number, p: number): [string, number] | null {
  const labels: string[] = [];
  let after = -1;
  let jumps = 0;
  let total = 0;
  for (;;) {
    if (p >= end) return null;
    const l = b[p]!;
    if (l === 0) {
      if (after < 0) after = p + 1;
      break;
    }
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= end || ++jumps > 16) return null;
      if (after < 0) after = p + 2;
      p = start + (((l & 0x3f) << 8) | b[p + 1]!);
      continue;
    }
    if ((l & 0xc0) !== 0) return null; // 0x40/0x80: obsolete label types
    if (p + 1 + l > end) return null;
    total += l + 1;
    if (total > 255) return null; // RFC 1035 §2.3.4: names are at most 255 octets
    let s = '';
    for (let i = p + 1; i <= p + l; i++) s += String.fromCharCode(b[i]!);
    labels.push(s);
    p += 1 + l;
  }
  return [labels.length === 0 ? '<Root>' : labels.join('.'), after];
}

/** Parses the header and first question of a DNS message at payload[off, off+len); null when it is not one. */
export function parseDnsMessage(b: Uint8Array, off: number, len: number): DnsQueryInfo | null {
  if (off < 0 || len < 12 || off + len > b.length) return null;
  const end = off + len;
  const qd = (b[off + 4]! << 8) | b[off + 5]!;
  if (qd === 0 || qd > 64) return null;
  const opcode = (b[off + 2]! >>> 3) & 0xf;
  if (opcode > 6) return null;
  const q = readName(b, off, end, off + 12);
  if (q === null) return null;
  const p = q[1];
  if (p + 4 > end) return null;
  const type = (b[p]! << 8) | b[p + 1]!;
  return {
    id: (b[off]! << 8) | b[off + 1]!,
    response: (b[off + 2]! & 0x80) !== 0,
    opcode,
    rcode: b[off + 3]! & 0xf,
    name: q[0],
    type,
    typeName: dnsTypeName(type),
    qclass: (b[p + 2]! << 8) | b[p + 3]!,
    questions: qd,
    answers: (b[off + 6]! << 8) | b[off + 7]!,
  };
}
