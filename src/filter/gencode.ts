// Syntax tree → classic-BPF IR, mirroring libpcap's gencode.c semantics primitive by primitive (checked
// against `tcpdump -d` output). Link-layer offsets follow the capture's linktype; each `vlan` moves the
// offsets of everything after it by 4 bytes, as libpcap does.
import { NetworkError } from '../errors.js';
import type { FilterArith, FilterDir, FilterExpr, FilterId, FilterProto } from './ast.js';
import { FILTER_ACCEPT, type IrAluOp, type IrInsn, type IrJmpOp, type IrLabel, type IrSize } from './ir.js';

const ETH_IP = 0x0800;
const ETH_IP6 = 0x86dd;
const ETH_ARP = 0x0806;
const ETH_RARP = 0x8035;
const IPPROTO: Record<string, number> = { icmp: 1, igmp: 2, tcp: 6, udp: 17, ah: 51, esp: 50, icmp6: 58, pim: 103, vrrp: 112, sctp: 132 };
const ETHER_PROTO_NAMES: Record<string, number> = { ip: ETH_IP, ip6: ETH_IP6, arp: ETH_ARP, rarp: ETH_RARP };
/** Well-known service names (as /etc/services has them) for `port NAME`. */
const SERVICES: Record<string, number> = {
  'ftp-data': 20, ftp: 21, ssh: 22, telnet: 23, smtp: 25, domain: 53, bootps: 67, bootpc: 68, tftp: 69, http: 80,
  www: 80, kerberos: 88, pop3: 110, sunrpc: 111, ntp: 123, 'netbios-ns': 137, 'netbios-dgm': 138,
  'netbios-ssn': 139, imap: 143, imap2: 143, snmp: 161, 'snmp-trap': 162, bgp: 179, ldap: 389, https: 443,
  'microsoft-ds': 445, isakmp: 500, syslog: 514, submission: 587, ldaps: 636, imaps: 993, pop3s: 995,
  openvpn: 1194, mysql: 3306, 'sip': 5060, postgresql: 5432, 'http-alt': 8080,
};

/** Where the link-layer type and the network layer start, per linktype. */
export interface LinkOffsets {
  /** Offset of the 16-bit EtherType-like field, or -1 when the linktype has none (raw IP). */
  linktype: number;
  /** Offset of the network-layer header. */
  nl: number;
  /** For raw IP: which IP versions the capture may carry. */
  raw?: 'any' | 'ip' | 'ip6';
}

/** libpcap DLT_ numbers this compiler supports and their offsets. */
export function linkOffsets(linktype: number): LinkOffsets {
  switch (linktype) {
    case 1: // DLT_EN10MB
      return { linktype: 12, nl: 14 };
    case 113: // DLT_LINUX_SLL: protocol type at 14, header 16 bytes
      return { linktype: 14, nl: 16 };
    case 276: // DLT_LINUX_SLL2: protocol type at 0, header 20 bytes
      return { linktype: 0, nl: 20 };
    case 12: // DLT_RAW on OpenBSD, 101 = LINKTYPE_RAW
    case 14:
    case 101:
      return { linktype: -1, nl: 0, raw: 'any' };
    case 228: // LINKTYPE_IPV4
      return { linktype: -1, nl: 0, raw: 'ip' };
    case 229: // LINKTYPE_IPV6
      return { linktype: -1, nl: 0, raw: 'ip6' };
    default:
      throw new NetworkError('UNSUPPORTED', `filters for linktype ${linktype} are not supported (supported: 1 Ethernet, 101/228/229 raw IP, 113 Linux SLL, 276 Linux SLL2)`, { field: 'linktype', actual: linktype });
  }
}

function compileError(message: string, pos?: number): NetworkError {
  return new NetworkError('PARSE_ERROR', message, pos === undefined ? {} : { offset: pos });
}

class Gen {
  readonly code: IrInsn[] = [];
  private nextLabel = 2;
  private scratch = 0;
  private off: { linktype: number; nl: number };

  constructor(private readonly link: LinkOffsets, private readonly isEthernet: boolean) {
    this.off = { linktype: link.linktype, nl: link.nl };
  }

  static readonly ACCEPT: IrLabel = 0;
  static readonly REJECT: IrLabel = 1;

  label(): IrLabel {
    return this.nextLabel++;
  }

  place(l: IrLabel): void {
    this.code.push({ t: 'label', id: l });
  }

  emit(i: IrInsn): void {
    this.code.push(i);
  }

  jmp(op: IrJmpOp, k: number, jt: IrLabel, jf: IrLabel, src: 'k' | 'x' = 'k'): void {
    this.emit({ t: 'jmp', op, src, k: k >>> 0, jt, jf });
  }

  ld(size: IrSize, k: number): void {
    this.emit({ t: 'ld', size, mode: 'abs', k });
  }

  /** A boolean expression: jump to t when true, to f when false. */
  expr(e: FilterExpr, t: IrLabel, f: IrLabel): void {
    switch (e.kind) {
      case 'true':
        this.emit({ t: 'ja', target: t });
        return;
      case 'and': {
        const mid = this.label();
        this.expr(e.left, mid, f);
        this.place(mid);
        this.expr(e.right, t, f);
        return;
      }
      case 'or': {
        const mid = this.label();
        this.expr(e.left, t, mid);
        this.place(mid);
        this.expr(e.right, t, f);
        return;
      }
      case 'not':
        this.expr(e.operand, f, t);
        return;
      case 'protocol':
        this.protocol(e.proto, t, f);
        return;
      case 'vlan':
        this.vlan(e.id, t, f);
        return;
      case 'broadcast':
      case 'multicast':
        this.castPrimitive(e.kind, e.proto, t, f);
        return;
      case 'relation':
        this.relation(e, t, f);
        return;
      case 'primitive':
        this.primitive(e, t, f);
        return;
    }
  }

  // ---- link layer ----

  /** True when the frame's link-layer protocol is `ethertype` (libpcap gen_linktype). */
  linkProto(ethertype: number, t: IrLabel, f: IrLabel): void {
    if (this.off.linktype < 0) {
      // Raw IP: the version nibble tells IPv4 from IPv6 (libpcap gen_linktype for DLT_RAW).
      const want = ethertype === ETH_IP ? 'ip' : ethertype === ETH_IP6 ? 'ip6' : null;
      if (!want || (this.link.raw !== 'any' && this.link.raw !== want)) {
        this.emit({ t: 'ja', target: f });
        return;
      }
      if (this.link.raw === want) {
        this.emit({ t: 'ja', target: t });
        return;
      }
      this.ld(1, this.off.nl);
      this.emit({ t: 'alu', op: 'and', src: 'k', k: 0xf0 });
      this.jmp('jeq', want === 'ip' ? 0x40 : 0x60, t, f);
      return;
    }
    if (ethertype <= 1500) throw compileError(`EtherType ${ethertype} is an 802.3 length: LLC/SNAP protocols are not supported`);
    this.ld(2, this.off.linktype);
    this.jmp('jeq', ethertype, t, f);
  }

  vlan(id: number | null, t: IrLabel, f: IrLabel): void {
    if (!this.isEthernet) throw compileError("'vlan' needs an Ethernet capture");
    // IEEE 802.1Q (0x8100), 802.1ad (0x88a8) and the old QinQ 0x9100 (libpcap gen_vlan_no_bpf_extensions).
    const isTag = this.label();
    const o = this.off.linktype;
    this.ld(2, o);
    const l2 = this.label();
    const l3 = this.label();
    this.jmp('jeq', 0x8100, isTag, l2);
    this.place(l2);
    this.jmp('jeq', 0x88a8, isTag, l3);
    this.place(l3);
    this.jmp('jeq', 0x9100, isTag, f);
    this.place(isTag);
    if (id !== null) {
      this.ld(2, o + 2);
      this.emit({ t: 'alu', op: 'and', src: 'k', k: 0x0fff });
      this.jmp('jeq', id, t, f);
    } else {
      this.emit({ t: 'ja', target: t });
    }
    // Everything after this keyword sees the encapsulated frame (libpcap: off_linktype/off_linkpl += 4).
    this.off = { linktype: this.off.linktype + 4, nl: this.off.nl + 4 };
  }

  // ---- network / transport protocols ----

  /** `ip proto p` (libpcap gen_proto for Q_IP). */
  ipProto(p: number, t: IrLabel, f: IrLabel): void {
    const isIp = this.label();
    this.linkProto(ETH_IP, isIp, f);
    this.place(isIp);
    this.ld(1, this.off.nl + 9);
    this.jmp('jeq', p, t, f);
  }

  /** `ip6 proto p`: the next header, or the one after a fragment header (libpcap gen_proto for Q_IPV6). */
  ip6Proto(p: number, t: IrLabel, f: IrLabel): void {
    const isIp6 = this.label();
    const notDirect = this.label();
    const isFrag = this.label();
    this.linkProto(ETH_IP6, isIp6, f);
    this.place(isIp6);
    this.ld(1, this.off.nl + 6);
    this.jmp('jeq', p, t, notDirect);
    this.place(notDirect);
    this.jmp('jeq', 44, isFrag, f);
    this.place(isFrag);
    this.ld(1, this.off.nl + 40);
    this.jmp('jeq', p, t, f);
  }

  /** A protocol over IPv4 and/or IPv6 as libpcap's `tcp`, `udp`, `icmp` … keywords mean it. */
  transportProto(name: FilterProto, t: IrLabel, f: IrLabel): void {
    const p = IPPROTO[name]!;
    if (name === 'icmp6') return this.ip6Proto(p, t, f);
    if (name === 'icmp' || name === 'igmp') return this.ipProto(p, t, f);
    const tryV6 = this.label();
    this.ipProto(p, t, tryV6);
    this.place(tryV6);
    this.ip6Proto(p, t, f);
  }

  protocol(proto: FilterProto, t: IrLabel, f: IrLabel): void {
    switch (proto) {
      case 'ether':
        this.emit({ t: 'ja', target: t });
        return;
      case 'ip':
        return this.linkProto(ETH_IP, t, f);
      case 'ip6':
        return this.linkProto(ETH_IP6, t, f);
      case 'arp':
        return this.linkProto(ETH_ARP, t, f);
      case 'rarp':
        return this.linkProto(ETH_RARP, t, f);
      default:
        return this.transportProto(proto, t, f);
    }
  }

  castPrimitive(kind: 'broadcast' | 'multicast', proto: 'ether' | 'ip' | 'ip6', t: IrLabel, f: IrLabel): void {
    if (proto === 'ether') {
      if (!this.isEthernet) throw compileError(`'ether ${kind}' needs an Ethernet capture`);
      if (kind === 'multicast') {
        this.ld(1, 0);
        this.jmp('jset', 1, t, f);
      } else {
        this.macCompare(0, new Uint8Array(6).fill(0xff), t, f);
      }
      return;
    }
    const ok = this.label();
    if (proto === 'ip') {
      this.linkProto(ETH_IP, ok, f);
      this.place(ok);
      if (kind === 'multicast') {
        this.ld(1, this.off.nl + 16);
        this.jmp('jge', 224, t, f);
      } else {
        // With no netmask known (reading a file), libpcap accepts only 0.0.0.0 and 255.255.255.255.
        const l = this.label();
        this.ld(4, this.off.nl + 16);
        this.jmp('jeq', 0, t, l);
        this.place(l);
        this.jmp('jeq', 0xffffffff, t, f);
      }
      return;
    }
    this.linkProto(ETH_IP6, ok, f);
    this.place(ok);
    this.ld(1, this.off.nl + 24);
    this.jmp('jeq', 0xff, t, f);
  }

  // ---- host / net / port primitives ----

  primitive(e: FilterExpr & { kind: 'primitive' }, t: IrLabel, f: IrLabel): void {
    const { q, id } = e;
    const type = q.type ?? 'host';
    const dir: FilterDir = q.dir ?? 'src or dst';
    switch (type) {
      case 'gateway':
        throw compileError("'gateway' needs host-name resolution, which this compiler does not do", e.pos);
      case 'proto': {
        const p = this.protoNumber(q.proto, id, e.pos);
        if (q.proto === 'ether') return this.linkProto(p, t, f);
        if (q.proto === 'ip') return this.ipProto(p, t, f);
        if (q.proto === 'ip6') return this.ip6Proto(p, t, f);
        if (q.proto !== null) throw compileError(`'${q.proto} proto' is not valid`, e.pos);
        const v6 = this.label();
        this.ipProto(p, t, v6);
        this.place(v6);
        return this.ip6Proto(p, t, f);
      }
      case 'port':
      case 'portrange':
        return this.port(e, dir, t, f);
      case 'host':
      case 'net':
        return this.hostOrNet(e, type, dir, t, f);
    }
  }

  private protoNumber(proto: FilterProto | null, id: FilterId, pos: number): number {
    if (id.kind === 'number') return id.value;
    if (id.kind === 'name') {
      const table = proto === 'ether' ? ETHER_PROTO_NAMES : IPPROTO;
      const v = table[id.value];
      if (v !== undefined) return v;
    }
    throw compileError(`unknown ${proto === 'ether' ? 'EtherType' : 'protocol'} '${id.text}'`, pos);
  }

  private portNumber(text: string, pos: number): number {
    if (/^[0-9]+$/.test(text) || /^0x[0-9a-f]+$/i.test(text)) {
      const v = Number(text);
      if (v > 65535) throw compileError(`port ${text} out of range`, pos);
      return v;
    }
    const v = SERVICES[text];
    if (v === undefined) throw compileError(`unknown port name '${text}'`, pos);
    return v;
  }

  private port(e: FilterExpr & { kind: 'primitive' }, dir: FilterDir, t: IrLabel, f: IrLabel): void {
    const { q, id } = e;
    let lo: number;
    let hi: number;
    if (q.type === 'portrange') {
      const m = id.kind === 'name' ? /^([A-Za-z0-9_.]+)-([A-Za-z0-9_.]+)$/.exec(id.value) : null;
      if (!m) {
        if (id.kind !== 'number') throw compileError(`expected a port range like 1-1024, got '${id.text}'`, e.pos);
        lo = hi = id.value;
      } else {
        lo = this.portNumber(m[1]!, e.pos);
        hi = this.portNumber(m[2]!, e.pos);
      }
      if (lo > hi) [lo, hi] = [hi, lo];
    } else {
      if (id.kind === 'number') lo = id.value;
      else if (id.kind === 'name') lo = this.portNumber(id.value, e.pos);
      else throw compileError(`'${id.text}' is not a port`, e.pos);
      if (lo > 65535) throw compileError(`port ${lo} out of range`, e.pos);
      hi = lo;
    }
    let protos: number[];
    const versions: Array<'ip' | 'ip6'> = ['ip6', 'ip'];
    switch (q.proto) {
      case null:
        protos = [IPPROTO.sctp!, IPPROTO.tcp!, IPPROTO.udp!];
        break;
      case 'tcp':
      case 'udp':
      case 'sctp':
        protos = [IPPROTO[q.proto]!];
        break;
      default:
        throw compileError(`illegal qualifier of '${q.type}': '${q.proto}'`, e.pos);
    }
    for (let v = 0; v < versions.length; v++) {
      const next = v === versions.length - 1 ? f : this.label();
      this.portOver(versions[v]!, protos, dir, lo, hi, t, next);
      if (next !== f) this.place(next);
    }
  }

  /** Transport ports over one IP version (libpcap gen_port / gen_port6). */
  private portOver(ver: 'ip' | 'ip6', protos: number[], dir: FilterDir, lo: number, hi: number, t: IrLabel, f: IrLabel): void {
    const isIp = this.label();
    this.linkProto(ver === 'ip' ? ETH_IP : ETH_IP6, isIp, f);
    this.place(isIp);
    const protoOk = this.label();
    this.ld(1, this.off.nl + (ver === 'ip' ? 9 : 6));
    protos.forEach((p, k) => {
      const next = k === protos.length - 1 ? f : this.label();
      this.jmp('jeq', p, protoOk, next);
      if (next !== f) this.place(next);
    });
    this.place(protoOk);
    let base: number;
    let mode: 'abs' | 'ind';
    if (ver === 'ip') {
      // RFC 791: ports exist only in the first fragment (fragment offset 0).
      const first = this.label();
      this.ld(2, this.off.nl + 6);
      this.jmp('jset', 0x1fff, f, first);
      this.place(first);
      this.emit({ t: 'ldxmsh', k: this.off.nl });
      base = this.off.nl;
      mode = 'ind';
    } else {
      base = this.off.nl + 40;
      mode = 'abs';
    }
    const check = (k: number, tt: IrLabel, ff: IrLabel): void => {
      this.emit({ t: 'ld', size: 2, mode, k });
      if (lo === hi) {
        this.jmp('jeq', lo, tt, ff);
      } else {
        const inLo = this.label();
        this.jmp('jge', lo, inLo, ff);
        this.place(inLo);
        this.jmp('jgt', hi, ff, tt);
      }
    };
    this.directional(dir, (which, tt, ff) => check(which === 'src' ? base : base + 2, tt, ff), t, f);
  }

  /** Applies a src/dst test per the direction qualifier. */
  private directional(dir: FilterDir, test: (which: 'src' | 'dst', t: IrLabel, f: IrLabel) => void, t: IrLabel, f: IrLabel): void {
    if (dir === 'src' || dir === 'dst') return test(dir, t, f);
    const mid = this.label();
    if (dir === 'src or dst') {
      test('src', t, mid);
      this.place(mid);
      test('dst', t, f);
    } else {
      test('src', mid, f);
      this.place(mid);
      test('dst', t, f);
    }
  }

  private hostOrNet(e: FilterExpr & { kind: 'primitive' }, type: 'host' | 'net', dir: FilterDir, t: IrLabel, f: IrLabel): void {
    const { q, id } = e;
    if (id.kind === 'mac' || q.proto === 'ether') {
      if (id.kind !== 'mac') throw compileError(`'${id.text}' is not a MAC address`, e.pos);
      if (type !== 'host') throw compileError("'ether net' is not valid", e.pos);
      if (q.proto !== null && q.proto !== 'ether') throw compileError(`a MAC address needs 'ether', not '${q.proto}'`, e.pos);
      if (!this.isEthernet) throw compileError("'ether host' needs an Ethernet capture", e.pos);
      // Ethernet: destination at 0, source at 6.
      return this.directional(dir, (w, tt, ff) => this.macCompare(w === 'src' ? 6 : 0, id.bytes, tt, ff), t, f);
    }
    if (id.kind === 'ipv6') {
      if (q.proto !== null && q.proto !== 'ip6') throw compileError(`an IPv6 address cannot be used with '${q.proto}'`, e.pos);
      let prefix = 128;
      if (e.prefix !== undefined) prefix = e.prefix;
      if (e.mask) throw compileError("IPv6 nets take '/len', not 'mask'", e.pos);
      if (prefix > 128) throw compileError(`IPv6 prefix length ${prefix} exceeds 128`, e.pos);
      if (type === 'host' && e.prefix !== undefined) throw compileError("'host' takes an address, not a network", e.pos);
      const ok = this.label();
      this.linkProto(ETH_IP6, ok, f);
      this.place(ok);
      return this.directional(dir, (w, tt, ff) => this.addrCompare(this.off.nl + (w === 'src' ? 8 : 24), id.bytes, prefix, tt, ff), t, f);
    }
    if (id.kind === 'name') throw compileError(`host names are not resolved: use an address instead of '${id.text}'`, e.pos);
    // IPv4: a number or 1–4 dotted parts; fewer parts imply a shorter mask for host and net alike
    // (libpcap's __pcap_atoin: `host 10.1` matches 10.1.0.0/16). A bare number given to `net` is
    // left-aligned (`net 10` is 10.0.0.0/8); given to `host` it is the whole 32-bit address.
    let bytes: number[];
    let implied: number;
    if (id.kind === 'number') {
      let v = id.value >>> 0;
      let m = 0xffffffff;
      if (type === 'net') {
        while (v !== 0 && (v & 0xff000000) === 0) {
          v = (v << 8) >>> 0;
          m = (m << 8) >>> 0;
        }
      }
      bytes = [v >>> 24, (v >>> 16) & 255, (v >>> 8) & 255, v & 255];
      implied = popcount(m);
    } else if (id.kind === 'ipv4') {
      bytes = [...id.bytes, 0, 0, 0].slice(0, 4);
      implied = id.bytes.length * 8;
    } else {
      throw compileError('expected an IPv4 address', e.pos);
    }
    let prefix = implied;
    let maskBytes: Uint8Array | null = null;
    if (e.prefix !== undefined) {
      if (type === 'host') throw compileError("'host' takes an address, not a network", e.pos);
      if (e.prefix > 32) throw compileError(`IPv4 prefix length ${e.prefix} exceeds 32`, e.pos);
      prefix = e.prefix;
    }
    if (e.mask) {
      if (type !== 'net') throw compileError("'mask' goes with 'net'", e.pos);
      if (e.mask.kind !== 'ipv4' || e.mask.bytes.length !== 4) throw compileError("'mask' needs a dotted IPv4 mask", e.pos);
      maskBytes = Uint8Array.from(e.mask.bytes);
    }
    const addr = Uint8Array.from(bytes);
    const mask = maskBytes ?? prefixMask(prefix, 4);
    const addrNum = be32(addr, 0);
    const maskNum = be32(mask, 0);
    if ((addrNum & ~maskNum) !== 0) throw compileError(`non-network bits set in '${id.text}${e.prefix !== undefined ? `/${e.prefix}` : ''}'`, e.pos);
    const protos: Array<'ip' | 'arp' | 'rarp'> = q.proto === null ? ['ip', 'arp', 'rarp'] : q.proto === 'ip' || q.proto === 'arp' || q.proto === 'rarp' ? [q.proto] : [];
    if (protos.length === 0) throw compileError(`'${q.proto} ${type}' is not valid with an IPv4 address`, e.pos);
    // IPv4: source at 12, destination at 16; ARP/RARP over Ethernet/IPv4: sender 14, target 24.
    const groups: Array<{ eth: number[]; src: number; dst: number }> = [];
    if (protos.includes('ip')) groups.push({ eth: [ETH_IP], src: 12, dst: 16 });
    const arpTypes = protos.filter((p) => p !== 'ip').map((p) => (p === 'arp' ? ETH_ARP : ETH_RARP));
    if (arpTypes.length) groups.push({ eth: arpTypes, src: 14, dst: 24 });
    groups.forEach((g, gi) => {
      const next = gi === groups.length - 1 ? f : this.label();
      const ok = this.label();
      g.eth.forEach((et, k) => {
        const nf = k === g.eth.length - 1 ? next : this.label();
        this.linkProto(et, ok, nf);
        if (nf !== next) this.place(nf);
      });
      this.place(ok);
      this.directional(dir, (w, tt, ff) => this.addrCompare(this.off.nl + (w === 'src' ? g.src : g.dst), addr, prefix, tt, ff, maskBytes), t, next);
      if (next !== f) this.place(next);
    });
  }

  /** Compares the address at `off` with `addr` under a prefix (or explicit mask), 32 bits at a time. */
  private addrCompare(off: number, addr: Uint8Array, prefix: number, t: IrLabel, f: IrLabel, explicitMask: Uint8Array | null = null): void {
    const mask = explicitMask ?? prefixMask(prefix, addr.length);
    const words: Array<{ k: number; m: number; v: number }> = [];
    for (let w = 0; w < addr.length; w += 4) {
      const m = be32(mask, w);
      if (m === 0) continue;
      words.push({ k: off + w, m, v: be32(addr, w) & m });
    }
    if (words.length === 0) {
      this.emit({ t: 'ja', target: t });
      return;
    }
    words.forEach((w, k) => {
      const next = k === words.length - 1 ? t : this.label();
      this.ld(4, w.k);
      if (w.m !== 0xffffffff) this.emit({ t: 'alu', op: 'and', src: 'k', k: w.m });
      this.jmp('jeq', w.v, next, f);
      if (next !== t) this.place(next);
    });
  }

  /** Compares 6 bytes at `off` with a MAC address: the low 4 bytes first, then the high 2 (as libpcap). */
  private macCompare(off: number, mac: Uint8Array, t: IrLabel, f: IrLabel): void {
    const l = this.label();
    this.ld(4, off + 2);
    this.jmp('jeq', be32(mac, 2), l, f);
    this.place(l);
    this.ld(2, off);
    this.jmp('jeq', (mac[0]! << 8) | mac[1]!, t, f);
  }

  // ---- arithmetic relations ----

  relation(e: FilterExpr & { kind: 'relation' }, t: IrLabel, f: IrLabel): void {
    const left = foldArith(e.left);
    const right = foldArith(e.right);
    // Protocol guards of every proto[...] load: the relation is false when the layer is absent.
    for (const p of loadProtos(left).concat(loadProtos(right))) {
      const ok = this.label();
      this.layerGuard(p, ok, f);
      this.place(ok);
    }
    const op = e.op;
    let jop: IrJmpOp;
    let swap = false;
    switch (op) {
      case '=':
        jop = 'jeq';
        break;
      case '!=':
        jop = 'jeq';
        swap = true;
        break;
      case '>':
        jop = 'jgt';
        break;
      case '>=':
        jop = 'jge';
        break;
      case '<':
        jop = 'jge';
        swap = true;
        break;
      case '<=':
        jop = 'jgt';
        swap = true;
        break;
    }
    const [tt, ff] = swap ? [f, t] : [t, f];
    if (left.kind === 'const' && right.kind === 'const') {
      const l = left.value >>> 0;
      const r = right.value >>> 0;
      const truth = jop === 'jeq' ? l === r : jop === 'jgt' ? l > r : l >= r;
      this.emit({ t: 'ja', target: truth ? tt : ff });
      return;
    }
    if (right.kind === 'const') {
      this.arith(left);
      // `expr & mask != 0` is libpcap's jset form.
      this.jmp(jop, right.value, tt, ff);
      return;
    }
    const slot = this.arith(right, true);
    this.arith(left);
    this.emit({ t: 'ldxmem', k: slot });
    this.releaseScratch();
    this.emit({ t: 'jmp', op: jop, src: 'x', k: 0, jt: tt, jf: ff });
  }

  private layerGuard(p: FilterProto, t: IrLabel, f: IrLabel): void {
    switch (p) {
      case 'ether':
        // `ether[i]` reads the link-layer header of any linktype (libpcap's OR_LINKHDR).
        this.emit({ t: 'ja', target: t });
        return;
      case 'ip':
      case 'ip6':
      case 'arp':
      case 'rarp':
        return this.protocol(p, t, f);
      case 'icmp6':
        return this.ip6Proto(58, t, f);
      default: {
        // Transport layers are read over IPv4 only, in the first fragment (libpcap gen_load_internal).
        const isProto = this.label();
        this.ipProto(IPPROTO[p]!, isProto, f);
        this.place(isProto);
        this.ld(2, this.off.nl + 6);
        this.jmp('jset', 0x1fff, f, t);
      }
    }
  }

  /** Evaluates arithmetic into A (or into a fresh scratch slot when `toScratch`, returning it). */
  private arith(e: FilterArith, toScratch = false): number {
    switch (e.kind) {
      case 'const':
        this.emit({ t: 'ldimm', k: e.value >>> 0 });
        break;
      case 'len':
        this.emit({ t: 'ldlen' });
        break;
      case 'neg':
        this.arith(e.operand);
        this.emit({ t: 'neg' });
        break;
      case 'load':
        this.load(e);
        break;
      case 'binary': {
        const op = ALU_OPS[e.op]!;
        if (e.right.kind === 'const') {
          this.arith(e.left);
          this.emit({ t: 'alu', op, src: 'k', k: e.right.value >>> 0 });
        } else {
          const slot = this.arith(e.right, true);
          this.arith(e.left);
          this.emit({ t: 'ldxmem', k: slot });
          this.releaseScratch();
          this.emit({ t: 'alu', op, src: 'x', k: 0 });
        }
        break;
      }
    }
    if (!toScratch) return -1;
    const slot = this.scratch++;
    if (slot > 15) throw compileError('expression too deeply nested (more than 16 scratch words)');
    this.emit({ t: 'st', k: slot });
    return slot;
  }

  private releaseScratch(): void {
    this.scratch--;
  }

  private load(e: FilterArith & { kind: 'load' }): void {
    const index = e.index;
    const transport = !['ether', 'ip', 'ip6', 'arp', 'rarp', 'icmp6'].includes(e.proto);
    const base = e.proto === 'ether' ? 0 : e.proto === 'icmp6' ? this.off.nl + 40 : this.off.nl;
    if (index.kind === 'const') {
      if (transport) {
        this.emit({ t: 'ldxmsh', k: this.off.nl });
        this.emit({ t: 'ld', size: e.size, mode: 'ind', k: base + index.value });
      } else {
        this.emit({ t: 'ld', size: e.size, mode: 'abs', k: base + index.value });
      }
      return;
    }
    this.arith(index);
    if (transport) {
      this.emit({ t: 'ldxmsh', k: this.off.nl });
      this.emit({ t: 'alu', op: 'add', src: 'x', k: 0 });
    }
    this.emit({ t: 'tax' });
    this.emit({ t: 'ld', size: e.size, mode: 'ind', k: base });
  }
}

const ALU_OPS: Record<string, IrAluOp> = { '+': 'add', '-': 'sub', '*': 'mul', '/': 'div', '%': 'mod', '&': 'and', '|': 'or', '^': 'xor', '<<': 'lsh', '>>': 'rsh' };

function loadProtos(e: FilterArith): FilterProto[] {
  switch (e.kind) {
    case 'load':
      return [e.proto, ...loadProtos(e.index)];
    case 'binary':
      return [...loadProtos(e.left), ...loadProtos(e.right)];
    case 'neg':
      return loadProtos(e.operand);
    default:
      return [];
  }
}

/** Constant folding with cBPF's unsigned 32-bit arithmetic; division by a constant zero is an error, as in libpcap. */
export function foldArith(e: FilterArith): FilterArith {
  switch (e.kind) {
    case 'neg': {
      const o = foldArith(e.operand);
      return o.kind === 'const' ? { kind: 'const', value: -o.value >>> 0 } : { kind: 'neg', operand: o };
    }
    case 'load':
      return { ...e, index: foldArith(e.index) };
    case 'binary': {
      const l = foldArith(e.left);
      const r = foldArith(e.right);
      if (r.kind === 'const' && r.value === 0 && (e.op === '/' || e.op === '%')) throw compileError('division by zero');
      if (l.kind !== 'const' || r.kind !== 'const') return { kind: 'binary', op: e.op, left: l, right: r };
      const a = l.value >>> 0;
      const b = r.value >>> 0;
      let v: number;
      switch (e.op) {
        case '+': v = a + b; break;
        case '-': v = a - b; break;
        case '*': v = Math.imul(a, b); break;
        case '/': v = Math.floor(a / b); break;
        case '%': v = a % b; break;
        case '&': v = a & b; break;
        case '|': v = a | b; break;
        case '^': v = a ^ b; break;
        // cBPF shifts by ≥ 32 give 0 (the kernel's u32 shift is undefined; libpcap's bpf_filter gives 0 via A << k on u_int32 — we pin 0).
        case '<<': v = b >= 32 ? 0 : a << b; break;
        case '>>': v = b >= 32 ? 0 : a >>> b; break;
      }
      return { kind: 'const', value: v >>> 0 };
    }
    default:
      return e;
  }
}

function popcount(x: number): number {
  let n = 0;
  for (let v = x >>> 0; v; v >>>= 1) n += v & 1;
  return n;
}

function be32(b: Uint8Array, off: number): number {
  return ((b[off]! << 24) | (b[off + 1]! << 16) | (b[off + 2]! << 8) | b[off + 3]!) >>> 0;
}

function prefixMask(prefix: number, bytes: number): Uint8Array {
  const m = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    m[i] = bits === 0 ? 0 : (0xff << (8 - bits)) & 0xff;
  }
  return m;
}

/** Generates the classic-BPF IR of a parsed filter for a linktype; ends in `ret accept` / `ret 0`. */
export function generateFilterIr(expr: FilterExpr, linktype = 1): IrInsn[] {
  const link = linkOffsets(linktype);
  const g = new Gen(link, linktype === 1);
  g.expr(expr, Gen.ACCEPT, Gen.REJECT);
  g.place(Gen.ACCEPT);
  g.emit({ t: 'ret', k: FILTER_ACCEPT });
  g.place(Gen.REJECT);
  g.emit({ t: 'ret', k: 0 });
  return g.code;
}
