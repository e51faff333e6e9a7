// Tokens of pcap-filter(7), following libpcap's scanner (scanner.l) where it matters: an id may contain
// '-' and '.', so `tcp-syn`, `1-100` and `10.0.0.1` are single tokens and `len-14` is not arithmetic.
import { isIPv6 } from 'node:net';
import { NetworkError } from '../errors.js';

export type FilterTokenKind = 'id' | 'num' | 'ipv4' | 'ipv6' | 'mac' | 'punct' | 'eof';

export interface FilterToken {
  kind: FilterTokenKind;
  text: string;
  /** Offset of the token's first character in the expression. */
  pos: number;
  /** A backslash-escaped name (`\tcp`): never a keyword. */
  escaped?: boolean;
}

const PUNCT = ['<<', '>>', '<=', '>=', '==', '!=', '&&', '||', '(', ')', '[', ']', ':', '+', '-', '*', '/', '%', '&', '|', '^', '=', '<', '>', '!'];
const MAC_RE = /^[0-9A-Fa-f]{1,2}([:.-])[0-9A-Fa-f]{1,2}\1[0-9A-Fa-f]{1,2}\1[0-9A-Fa-f]{1,2}\1[0-9A-Fa-f]{1,2}\1[0-9A-Fa-f]{1,2}(?![0-9A-Za-z:.])/;
const MAC_DOTTED_RE = /^[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}\.[0-9A-Fa-f]{4}(?![0-9A-Za-z:.])/;
const V6_RE = /^[0-9A-Fa-f]*:[0-9A-Fa-f:.]*/;
const ID_RE = /^[A-Za-z0-9_]([-_.A-Za-z0-9]*[.A-Za-z0-9_])?/;
const NUM_RE = /^(0[xX][0-9A-Fa-f]+|[0-9]+)$/;
const IPV4_RE = /^[0-9]+(\.[0-9]+){1,3}$/;

function syntaxError(expr: string, pos: number, message: string): NetworkError {
  return new NetworkError('PARSE_ERROR', `${message} at offset ${pos}: ${expr.slice(0, pos)}⟨here⟩${expr.slice(pos)}`, { offset: pos, expression: expr });
}

/** Splits a filter expression into tokens; throws PARSE_ERROR with the position of a bad character. */
export function tokenizeFilter(expr: string): FilterToken[] {
  const out: FilterToken[] = [];
  let i = 0;
  while (i < expr.length) {
    const c = expr[i]!;
    if (c === ' ' || c === '\t' || c === '\n' || c === '\r') {
      i++;
      continue;
    }
    const rest = expr.slice(i);
    if (c === '\\') {
      const m = ID_RE.exec(rest.slice(1));
      if (!m) throw syntaxError(expr, i, 'expected a name after \\');
      out.push({ kind: 'id', text: m[0], pos: i, escaped: true });
      i += 1 + m[0].length;
      continue;
    }
    let m = MAC_RE.exec(rest) ?? MAC_DOTTED_RE.exec(rest);
    if (m) {
      out.push({ kind: 'mac', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = V6_RE.exec(rest);
    if (m && m[0].includes(':') && isIPv6(m[0])) {
      out.push({ kind: 'ipv6', text: m[0], pos: i });
      i += m[0].length;
      continue;
    }
    m = ID_RE.exec(rest);
    if (m) {
      const t = m[0];
      const kind: FilterTokenKind = NUM_RE.test(t) ? 'num' : IPV4_RE.test(t) ? 'ipv4' : 'id';
      out.push({ kind, text: t, pos: i });
      i += t.length;
      continue;
    }
    const p = PUNCT.find((s) => rest.startsWith(s));
    if (p) {
      out.push({ kind: 'punct', text: p, pos: i });
      i += p.length;
      continue;
    }
    throw syntaxError(expr, i, `unexpected character '${c}'`);
  }
  out.push({ kind: 'eof', text: '', pos: expr.length });
  return out;
}

/** Parses a libpcap number: decimal, 0x hex, or octal with a leading 0. */
export function parseFilterNumber(text: string): number {
  if (/^0[xX]/.test(text)) return parseInt(text.slice(2), 16);
  if (text.length > 1 && text[0] === '0') return parseInt(text, 8);
  return parseInt(text, 10);
}

export { syntaxError as filterSyntaxError };
