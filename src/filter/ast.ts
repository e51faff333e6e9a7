// The syntax tree of a pcap-filter(7) expression.

/** Protocol qualifier of a primitive (pcap-filter(7) "proto"). */
export type FilterProto =
  | 'ether' | 'ip' | 'ip6' | 'arp' | 'rarp' | 'tcp' | 'udp' | 'sctp' | 'icmp' | 'icmp6' | 'igmp'
  | 'link' | 'vrrp' | 'pim' | 'ah' | 'esp';

/** Direction qualifier (pcap-filter(7) "dir"). */
export type FilterDir = 'src' | 'dst' | 'src or dst' | 'src and dst';

/** Type qualifier (pcap-filter(7) "type"). */
export type FilterType = 'host' | 'net' | 'port' | 'portrange' | 'proto' | 'gateway';

/** The qualifiers in force for an id; inherited by a bare id after and/or (libpcap's shorthand). */
export interface FilterQualifiers {
  proto: FilterProto | null;
  dir: FilterDir | null;
  type: FilterType | null;
}

/** An id after qualifiers, as the lexer classified it. */
export type FilterId =
  | { kind: 'number'; value: number; text: string }
  | { kind: 'ipv4'; bytes: number[]; text: string } // 1–4 dotted parts ("10", "10.1", "10.1.2.3")
  | { kind: 'ipv6'; bytes: Uint8Array; text: string }
  | { kind: 'mac'; bytes: Uint8Array; text: string }
  | { kind: 'name'; value: string; text: string };

export type ArithOp = '+' | '-' | '*' | '/' | '%' | '&' | '|' | '^' | '<<' | '>>';
export type RelOp = '=' | '!=' | '<' | '<=' | '>' | '>=';

/** Arithmetic expressions (pcap-filter(7) "expr relop expr"). */
export type FilterArith =
  | { kind: 'const'; value: number }
  | { kind: 'len' }
  | { kind: 'load'; proto: FilterProto; index: FilterArith; size: 1 | 2 | 4 }
  | { kind: 'binary'; op: ArithOp; left: FilterArith; right: FilterArith }
  | { kind: 'neg'; operand: FilterArith };

/** Boolean filter expressions. */
export type FilterExpr =
  | { kind: 'and' | 'or'; left: FilterExpr; right: FilterExpr }
  | { kind: 'not'; operand: FilterExpr }
  | { kind: 'relation'; op: RelOp; left: FilterArith; right: FilterArith }
  // `host`, `net`, `port`, `portrange`, `proto` primitives with their qualifiers.
  | { kind: 'primitive'; q: FilterQualifiers; id: FilterId; mask?: FilterId; prefix?: number; rangeEnd?: number; pos: number }
  // A bare protocol name (`tcp`, `ip6`, `arp` …).
  | { kind: 'protocol'; proto: FilterProto; pos: number }
  | { kind: 'vlan'; id: number | null; pos: number }
  | { kind: 'broadcast' | 'multicast'; proto: 'ether' | 'ip' | 'ip6'; pos: number }
  | { kind: 'true' };
