// Recursive-descent parser for pcap-filter(7), following libpcap's grammar (grammar.y): `and` and `or`
// have equal precedence and associate left; `not` binds tighter; a bare id after and/or inherits the
// qualifiers of the primitive before it (`host 1.2.3.4 and port 80 or 443`).
import type { ArithOp, FilterArith, FilterDir, FilterExpr, FilterId, FilterProto, FilterQualifiers, FilterType, RelOp } from './ast.js';
import { filterSyntaxError, parseFilterNumber, tokenizeFilter, type FilterToken } from './lexer.js';

const PROTO_WORDS: Record<string, FilterProto> = {
  ether: 'ether', fddi: 'ether', tr: 'ether', wlan: 'ether', link: 'ether',
  ip: 'ip', ip6: 'ip6', arp: 'arp', rarp: 'rarp', tcp: 'tcp', udp: 'udp', sctp: 'sctp',
  icmp: 'icmp', icmp6: 'icmp6', igmp: 'igmp', vrrp: 'vrrp', pim: 'pim', ah: 'ah', esp: 'esp',
};
const TYPE_WORDS = new Set<FilterType>(['host', 'net', 'port', 'portrange', 'proto', 'gateway']);
const KEYWORDS = new Set([
  ...Object.keys(PROTO_WORDS), ...TYPE_WORDS, 'and', 'or', 'not', 'src', 'dst', 'mask', 'less', 'greater', 'len',
  'vlan', 'mpls', 'broadcast', 'multicast', 'protochain', 'inbound', 'outbound',
]);
/** Protocols that may be indexed with proto[expr:size] (pcap-filter(7) "expr relop expr"). */
const INDEXABLE = new Set<FilterProto>(['ether', 'ip', 'ip6', 'arp', 'rarp', 'tcp', 'udp', 'sctp', 'icmp', 'icmp6', 'igmp', 'vrrp', 'pim', 'ah', 'esp']);

/** pcap-filter(7)'s named constants usable in arithmetic. */
export const FILTER_CONSTANTS: Readonly<Record<string, number>> = {
  icmptype: 0, icmpcode: 1,
  'icmp-echoreply': 0, 'icmp-unreach': 3, 'icmp-sourcequench': 4, 'icmp-redirect': 5, 'icmp-echo': 8,
  'icmp-routeradvert': 9, 'icmp-routersolicit': 10, 'icmp-timxceed': 11, 'icmp-paramprob': 12,
  'icmp-tstamp': 13, 'icmp-tstampreply': 14, 'icmp-ireq': 15, 'icmp-ireqreply': 16, 'icmp-maskreq': 17,
  'icmp-maskreply': 18,
  icmp6type: 0, icmp6code: 1,
  'icmp6-destinationunreach': 1, 'icmp6-packettoobig': 2, 'icmp6-timeexceeded': 3, 'icmp6-parameterproblem': 4,
  'icmp6-echo': 128, 'icmp6-echoreply': 129, 'icmp6-multicastlistenerquery': 130,
  'icmp6-multicastlistenerreportv1': 131, 'icmp6-multicastlistenerdone': 132, 'icmp6-routersolicit': 133,
  'icmp6-routeradvert': 134, 'icmp6-neighborsolicit': 135, 'icmp6-neighboradvert': 136, 'icmp6-redirect': 137,
  'icmp6-routerrenum': 138, 'icmp6-nodeinformationquery': 139, 'icmp6-nodeinformationresponse': 140,
  'icmp6-ineighbordiscoverysolicit': 141, 'icmp6-ineighbordiscoveryadvert': 142,
  'icmp6-multicastlistenerreportv2': 143, 'icmp6-homeagentdiscoveryrequest': 144,
  'icmp6-homeagentdiscoveryreply': 145, 'icmp6-mobileprefixsolicit': 146, 'icmp6-mobileprefixadvert': 147,
  'icmp6-certpathsolicit': 148, 'icmp6-certpathadvert': 149, 'icmp6-multicastrouteradvert': 151,
  'icmp6-multicastroutersolicit': 152, 'icmp6-multicastrouterterm': 153,
  tcpflags: 13, 'tcp-fin': 0x01, 'tcp-syn': 0x02, 'tcp-rst': 0x04, 'tcp-push': 0x08, 'tcp-ack': 0x10,
  'tcp-urg': 0x20, 'tcp-ece': 0x40, 'tcp-cwr': 0x80,
};

const REL_OPS: Record<string, RelOp> = { '=': '=', '==': '=', '!=': '!=', '<': '<', '<=': '<=', '>': '>', '>=': '>=' };

class Parser {
  private i = 0;
  /** Qualifiers of the last primitive, for libpcap's bare-id shorthand; null where none may be inherited. */
  private lastQ: FilterQualifiers | null = null;

  constructor(private readonly expr: string, private readonly toks: FilterToken[]) {}

  private get tok(): FilterToken {
    return this.toks[this.i]!;
  }

  private peek(k = 1): FilterToken {
    return this.toks[Math.min(this.i + k, this.toks.length - 1)]!;
  }

  private fail(message: string, tok: FilterToken = this.tok): never {
    const found = tok.kind === 'eof' ? 'end of expression' : `'${tok.text}'`;
    throw filterSyntaxError(this.expr, tok.pos, `${message}, found ${found}`);
  }

  private isWord(word: string, tok: FilterToken = this.tok): boolean {
    return tok.kind === 'id' && !tok.escaped && tok.text === word;
  }

  private isPunct(p: string, tok: FilterToken = this.tok): boolean {
    return tok.kind === 'punct' && tok.text === p;
  }

  private expectPunct(p: string): void {
    if (!this.isPunct(p)) this.fail(`expected '${p}'`);
    this.i++;
  }

  parse(): FilterExpr {
    if (this.tok.kind === 'eof') return { kind: 'true' };
    const e = this.parseExpr();
    if ((this.tok as FilterToken).kind !== 'eof') this.fail("expected 'and', 'or' or the end of the expression");
    return e;
  }

  private parseExpr(): FilterExpr {
    let left = this.parseTerm();
    for (;;) {
      let op: 'and' | 'or';
      if (this.isWord('and') || this.isPunct('&&')) op = 'and';
      else if (this.isWord('or') || this.isPunct('||')) op = 'or';
      else return left;
      this.i++;
      const right = this.startsBareId() ? this.parseBareId() : this.parseTerm();
      left = { kind: op, left, right };
    }
  }

  /** A bare id (or `not` id) right after and/or: libpcap applies the previous primitive's qualifiers. */
  private startsBareId(): boolean {
    let k = 0;
    while (this.isWord('not', this.peek(k)) || this.isPunct('!', this.peek(k))) k++;
    const t = this.peek(k);
    if (t.kind === 'num' || t.kind === 'ipv4' || t.kind === 'ipv6' || t.kind === 'mac') {
      // A number followed by an operator is the left side of a relation, not an id.
      const after = this.peek(k + 1);
      return !(after.kind === 'punct' && after.text !== ')' && after.text !== '&&' && after.text !== '||' && after.text !== '/' && after.text !== '!');
    }
    return t.kind === 'id' && (t.escaped === true || !KEYWORDS.has(t.text)) && !(t.text in FILTER_CONSTANTS && this.isRelationAhead(k + 1));
  }

  private isRelationAhead(k: number): boolean {
    const t = this.peek(k);
    return t.kind === 'punct' && t.text !== ')' && t.text !== '&&' && t.text !== '||' && t.text !== '!';
  }

  private parseBareId(): FilterExpr {
    if (this.isWord('not') || this.isPunct('!')) {
      this.i++;
      return { kind: 'not', operand: this.parseBareId() };
    }
    const q = this.lastQ;
    if (!q) this.fail('an id without qualifiers may only follow a host, net or port primitive');
    return this.parseIdWith(q, this.tok.pos);
  }

  private parseTerm(): FilterExpr {
    if (this.isWord('not') || this.isPunct('!')) {
      this.i++;
      return { kind: 'not', operand: this.parseTerm() };
    }
    if (this.isPunct('(')) {
      // '(' opens either arithmetic (`(tcp[13] & 2) != 0`) or a boolean group: try arithmetic first.
      const save = this.i;
      try {
        return this.parseRelation();
      } catch {
        this.i = save;
      }
      this.i++;
      const e = this.parseExpr();
      this.expectPunct(')');
      return e;
    }
    if (this.startsArith()) return this.parseRelation();
    this.lastQ = null;
    return this.parsePrimitive();
  }

  private startsArith(): boolean {
    const t = this.tok;
    if (t.kind === 'num' || this.isPunct('-')) return true;
    if (this.isWord('len')) return true;
    if (t.kind === 'id' && !t.escaped && t.text in PROTO_WORDS && this.isPunct('[', this.peek())) return true;
    if (t.kind === 'id' && t.text in FILTER_CONSTANTS) return true;
    return false;
  }

  private parseRelation(): FilterExpr {
    const left = this.parseArith(0);
    const op = this.tok.kind === 'punct' ? REL_OPS[this.tok.text] : undefined;
    if (!op) this.fail('expected a relation (=, ==, !=, <, <=, >, >=)');
    this.i++;
    const right = this.parseArith(0);
    this.lastQ = null;
    return { kind: 'relation', op, left, right };
  }

  // Precedence climbing with libpcap's levels: | ^ (lowest), &, << >>, + -, * / % (highest).
  private static readonly LEVELS: ReadonlyArray<readonly string[]> = [['|', '^'], ['&'], ['<<', '>>'], ['+', '-'], ['*', '/', '%']];

  private parseArith(level: number): FilterArith {
    if (level >= Parser.LEVELS.length) return this.parseUnary();
    let left = this.parseArith(level + 1);
    while (this.tok.kind === 'punct' && Parser.LEVELS[level]!.includes(this.tok.text)) {
      const op = this.tok.text as ArithOp;
      this.i++;
      const right = this.parseArith(level + 1);
      left = { kind: 'binary', op, left, right };
    }
    return left;
  }

  private parseUnary(): FilterArith {
    const t = this.tok;
    if (this.isPunct('-')) {
      this.i++;
      return { kind: 'neg', operand: this.parseUnary() };
    }
    if (this.isPunct('(')) {
      this.i++;
      const e = this.parseArith(0);
      this.expectPunct(')');
      return e;
    }
    if (t.kind === 'num') {
      this.i++;
      return { kind: 'const', value: this.number(t) };
    }
    if (this.isWord('len')) {
      this.i++;
      return { kind: 'len' };
    }
    if (t.kind === 'id' && !t.escaped && t.text in PROTO_WORDS && this.isPunct('[', this.peek())) {
      const proto = PROTO_WORDS[t.text]!;
      if (!INDEXABLE.has(proto)) this.fail(`'${t.text}' cannot be indexed`);
      this.i += 2;
      const index = this.parseArith(0);
      let size: 1 | 2 | 4 = 1;
      if (this.isPunct(':')) {
        this.i++;
        const st = this.tok;
        if (st.kind !== 'num' || !['1', '2', '4'].includes(st.text)) this.fail('expected a size of 1, 2 or 4');
        size = Number(st.text) as 1 | 2 | 4;
        this.i++;
      }
      this.expectPunct(']');
      return { kind: 'load', proto, index, size };
    }
    if (t.kind === 'id' && t.text in FILTER_CONSTANTS) {
      this.i++;
      return { kind: 'const', value: FILTER_CONSTANTS[t.text]! };
    }
    return this.fail('expected a number, len, a named constant or proto[offset]');
  }

  private number(t: FilterToken): number {
    if (/^0[0-9]/.test(t.text) && !/^0[0-7]+$/.test(t.text)) this.fail('bad octal number', t);
    const v = parseFilterNumber(t.text);
    if (!Number.isFinite(v) || v > 0xffffffff) this.fail('number out of range (0..2^32-1)', t);
    return v;
  }

  private parsePrimitive(): FilterExpr {
    const t = this.tok;
    const pos = t.pos;
    if (this.isWord('less') || this.isWord('greater')) {
      const less = t.text === 'less';
      this.i++;
      const n = this.tok;
      if (n.kind !== 'num') this.fail('expected a length');
      this.i++;
      // pcap-filter(7): `less N` is `len <= N`, `greater N` is `len >= N`.
      return { kind: 'relation', op: less ? '<=' : '>=', left: { kind: 'len' }, right: { kind: 'const', value: this.number(n) } };
    }
    if (this.isWord('vlan')) {
      this.i++;
      let id: number | null = null;
      if (this.tok.kind === 'num') {
        id = this.number(this.tok);
        if (id > 4095) this.fail('VLAN id must be 0..4095', this.toks[this.i]);
        this.i++;
      }
      return { kind: 'vlan', id, pos };
    }
    if (this.isWord('mpls') || this.isWord('protochain') || this.isWord('inbound') || this.isWord('outbound')) {
      this.fail(`'${t.text}' is not supported by this compiler`);
    }
    if (this.isWord('broadcast') || this.isWord('multicast')) {
      this.i++;
      return { kind: t.text as 'broadcast' | 'multicast', proto: 'ether', pos };
    }
    const q: FilterQualifiers = { proto: null, dir: null, type: null };
    if (t.kind === 'id' && !t.escaped && t.text in PROTO_WORDS) {
      q.proto = PROTO_WORDS[t.text]!;
      this.i++;
      if (this.isWord('broadcast') || this.isWord('multicast')) {
        const kind = this.tok.text as 'broadcast' | 'multicast';
        if (q.proto !== 'ether' && q.proto !== 'ip' && q.proto !== 'ip6') this.fail(`'${kind}' applies to ether, ip or ip6`);
        if (q.proto === 'ip6' && kind === 'broadcast') this.fail("IPv6 has no broadcast: use 'ip6 multicast'");
        this.i++;
        return { kind, proto: q.proto, pos };
      }
      if (!this.isQualifierOrId()) return { kind: 'protocol', proto: q.proto, pos };
    }
    if (this.isWord('src') || this.isWord('dst')) {
      let dir: FilterDir = this.tok.text as 'src' | 'dst';
      this.i++;
      if ((this.isWord('or') || this.isWord('and')) && (this.isWord('src', this.peek()) || this.isWord('dst', this.peek()))) {
        dir = this.tok.text === 'or' ? 'src or dst' : 'src and dst';
        this.i += 2;
      }
      q.dir = dir;
    }
    if (this.tok.kind === 'id' && !this.tok.escaped && TYPE_WORDS.has(this.tok.text as FilterType)) {
      q.type = this.tok.text as FilterType;
      this.i++;
    }
    if (q.proto === null && q.dir === null && q.type === null) this.fail('expected a primitive (host, net, port, a protocol, …)');
    return this.parseIdWith(q, pos);
  }

  private isQualifierOrId(): boolean {
    const t = this.tok;
    if (t.kind === 'num' || t.kind === 'ipv4' || t.kind === 'ipv6' || t.kind === 'mac') return true;
    if (t.kind !== 'id') return false;
    if (t.escaped) return true;
    return t.text === 'src' || t.text === 'dst' || TYPE_WORDS.has(t.text as FilterType);
  }

  private parseIdWith(q: FilterQualifiers, pos: number): FilterExpr {
    const id = this.parseId();
    const prim: FilterExpr & { kind: 'primitive' } = { kind: 'primitive', q, id, pos };
    if (this.isPunct('/')) {
      this.i++;
      const n = this.tok;
      if (n.kind !== 'num') this.fail('expected a prefix length after /');
      prim.prefix = this.number(n);
      this.i++;
    } else if (this.isWord('mask')) {
      this.i++;
      prim.mask = this.parseId();
    }
    this.lastQ = q;
    return prim;
  }

  private parseId(): FilterId {
    const t = this.tok;
    switch (t.kind) {
      case 'num':
        this.i++;
        return { kind: 'number', value: this.number(t), text: t.text };
      case 'ipv4': {
        const parts = t.text.split('.').map(Number);
        if (parts.some((p) => p > 255)) this.fail('bad IPv4 address', t);
        this.i++;
        return { kind: 'ipv4', bytes: parts, text: t.text };
      }
      case 'ipv6':
        this.i++;
        return { kind: 'ipv6', bytes: parseIpv6(t.text), text: t.text };
      case 'mac':
        this.i++;
        return { kind: 'mac', bytes: parseMacText(t.text), text: t.text };
      case 'id':
        if (!t.escaped && KEYWORDS.has(t.text)) this.fail('expected an address, number or name');
        this.i++;
        return { kind: 'name', value: t.text, text: t.text };
      default:
        return this.fail('expected an address, number or name');
    }
  }
}

function parseMacText(text: string): Uint8Array {
  const hex = text.includes(':') || text.includes('-') || text.split('.').length === 6
    ? text.split(/[:.-]/).map((p) => p.padStart(2, '0')).join('')
    : text.replace(/\./g, '');
  const b = new Uint8Array(6);
  for (let k = 0; k < 6; k++) b[k] = parseInt(hex.slice(2 * k, 2 * k + 2), 16);
  return b;
}

/** Parses an IPv6 address (already validated by the lexer) into 16 bytes. */
export function parseIpv6(text: string): Uint8Array {
  let s = text;
  const out = new Uint8Array(16);
  // An embedded IPv4 tail (::ffff:1.2.3.4) becomes two hex groups.
  const v4 = /(\d+)\.(\d+)\.(\d+)\.(\d+)$/.exec(s);
  if (v4) {
    const [a, b, c, d] = v4.slice(1).map(Number) as [number, number, number, number];
    s = s.slice(0, v4.index) + ((a << 8) | b).toString(16) + ':' + ((c << 8) | d).toString(16);
  }
  const [head, tail] = s.includes('::') ? (s.split('::') as [string, string]) : [s, null];
  const h = head ? head.split(':') : [];
  const t = tail !== null && tail !== '' ? tail.split(':') : [];
  const groups = tail === null ? h : [...h, ...Array<string>(8 - h.length - t.length).fill('0'), ...t];
  groups.forEach((g, k) => {
    const v = parseInt(g, 16);
    out[2 * k] = v >> 8;
    out[2 * k + 1] = v & 0xff;
  });
  return out;
}

/** Parses a pcap-filter(7) expression into a syntax tree; errors carry the offset and what was expected. */
export function parseFilter(expression: string): FilterExpr {
  return new Parser(expression, tokenizeFilter(expression)).parse();
}
