// dissect(bytes, linktype): the layered decode of one captured frame, like tshark's tree. Field names are
// Wireshark display-filter names and values are printed exactly as `tshark -T fields -e NAME` prints them
// (tshark 4.0: booleans 1/0, unsigned hex fields zero-padded to their width, repeated fields joined by ',').
// A layer that runs out of bytes or breaks a rule is kept with the fields read so far and a `malformed`
// reason, the way tshark keeps the items added before its exception.
import { NetworkError } from '../errors.js';
import { onesComplementSum } from './checksum.js';
import { formatIpv4Address, formatIpv6Address, formatMacAddress, readIpv4Address } from './address.js';
import { rd16, rd32 } from './wire-util.js';

/** Link-layer header types (pcap LINKTYPE_* values) dissect() understands. */
export enum DissectLinktype {
  Null = 0,
  Ethernet = 1,
  Raw = 101,
  LinuxSll = 113,
  Ipv4 = 228,
  Ipv6 = 229,
  LinuxSll2 = 276,
}

/** One field of a dissected layer. */
export interface DissectField {
  /** Wireshark display-filter name, e.g. 'ip.ttl'. */
  name: string;
  /** The value as `tshark -T fields -e name` prints it. */
  value: string;
  /** The tree line, e.g. 'Time to Live: 64'. */
  label: string;
  /** Hidden fields (ip.addr, tcp.port …) are filterable but not drawn in the tree. */
  hidden: boolean;
  /** Depth under the layer (bit fields under their byte). */
  depth: number;
}

/** One protocol layer of a dissected frame. */
export interface DissectLayer {
  /** frame.protocols name: 'eth', 'ethertype', 'vlan', 'ip', 'tcp', 'data' … */
  protocol: string;
  /** Tree title, e.g. 'Internet Protocol Version 4, Src: 10.0.0.1, Dst: 10.0.0.2'. */
  title: string;
  /** Offset of the layer in the frame and the bytes it spans (what was present). */
  offset: number;
  length: number;
  fields: DissectField[];
  /** Why the layer is malformed (truncated, bad length …); absent when it decoded cleanly. */
  malformed?: string;
}

/** Options of dissect(). */
export interface DissectOptions {
  /** Length of the packet on the wire (frame.len); default the captured length. */
  originalLength?: number;
}

/** Thrown inside a layer when the captured bytes end: the layer keeps what it read. */
class Short {
  constructor(readonly at: number) {}
}

const HEX = '0123456789abcdef';
function hex(v: number, digits: number): string {
  let s = (v >>> 0).toString(16);
  while (s.length < digits) s = '0' + s;
  return '0x' + s;
}
function bytesHex(b: Uint8Array, start: number, end: number): string {
  let s = '';
  for (let i = start; i < end; i++) s += HEX[b[i]! >>> 4]! + HEX[b[i]! & 15]!;
  return s;
}
function bool(v: boolean): string {
  return v ? '1' : '0';
}

const ETHERTYPE_NAMES: Record<number, string> = {
  0x0800: 'IPv4', 0x0806: 'ARP', 0x86dd: 'IPv6', 0x8100: '802.1Q Virtual LAN', 0x88a8: '802.1ad Provider Bridge (Q-in-Q)', 0x9100: 'VLAN-tagged frame (Q-in-Q)',
};
const IPPROTO_NAMES: Record<number, string> = {
  0: 'IPv6 Hop-by-Hop Option', 1: 'ICMP', 2: 'IGMP', 4: 'IPIP', 6: 'TCP', 17: 'UDP', 41: 'IPv6', 43: 'Routing Header for IPv6', 44: 'Fragment Header for IPv6',
  47: 'Generic Routing Encapsulation', 50: 'Encap Security Payload', 51: 'Authentication Header', 58: 'ICMPv6', 59: 'IPv6 No Next Header', 60: 'Destination Options for IPv6', 132: 'SCTP',
};

/** The decode of one frame: layers in order, tshark-compatible field lookup, a text tree. */
export class Dissection {
  readonly layers: DissectLayer[] = [];
  readonly linktype: number;
  readonly capturedLength: number;
  readonly originalLength: number;

  constructor(linktype: number, capturedLength: number, originalLength: number) {
    this.linktype = linktype;
    this.capturedLength = capturedLength;
    this.originalLength = originalLength;
  }

  /** frame.protocols: the layer names joined by ':' (e.g. 'eth:ethertype:ip:tcp'). */
  get protocols(): string {
    return this.layers.map((l) => l.protocol).join(':');
  }

  /**
   * Every value of field `name` in tree order. 'frame.len', 'frame.cap_len', 'frame.protocols' and the
   * 'frame.encap_type' are answered too.
   */
  values(name: string): string[] {
    switch (name) {
      case 'frame.len':
        return [String(this.originalLength)];
      case 'frame.cap_len':
        return [String(this.capturedLength)];
      case 'frame.protocols':
        return [this.protocols];
    }
    const out: string[] = [];
    if (name === '') return out;
    for (const l of this.layers) for (const f of l.fields) if (f.name === name) out.push(f.value);
    return out;
  }

  /** The field as `tshark -T fields -e name` prints it: values joined by ',', '' when absent. */
  field(name: string): string {
    return this.values(name).join(',');
  }

  /** True when the field occurs. */
  has(name: string): boolean {
    return this.values(name).length > 0;
  }

  /** The first layer of this protocol ('ip', 'tcp' …), or undefined. */
  layer(protocol: string): DissectLayer | undefined {
    return this.layers.find((l) => l.protocol === protocol);
  }

  /** True when any layer is malformed. */
  get malformed(): boolean {
    return this.layers.some((l) => l.malformed !== undefined);
  }

  /** The malformed layers' reasons, 'proto: reason'. */
  get problems(): string[] {
    return this.layers.filter((l) => l.malformed !== undefined).map((l) => `${l.protocol}: ${l.malformed!}`);
  }

  /** The tree as indented text (the shape of `tshark -V`), hidden fields left out. */
  toText(): string {
    const lines: string[] = [`Frame: ${this.originalLength} bytes on wire, ${this.capturedLength} bytes captured, linktype ${this.linktype}`];
    for (const l of this.layers) {
      if (l.protocol === 'ethertype') continue; // tshark folds the ethertype pseudo-layer into its parent
      lines.push(l.title);
      for (const f of l.fields) if (!f.hidden) lines.push('    '.repeat(1 + f.depth) + f.label);
      if (l.malformed !== undefined) lines.push(`    [Malformed: ${l.malformed}]`);
    }
    return lines.join('\n');
  }
}

/** Per-layer builder: bounds (captured end for reads) and field adders. */
class LayerBuilder {
  readonly layer: DissectLayer;
  constructor(
    readonly d: Dissection,
    readonly b: Uint8Array,
    readonly start: number,
    /** Captured bytes end here (reads past it stop the layer). */
    readonly capEnd: number,
    protocol: string,
    title: string,
  ) {
    this.layer = { protocol, title, offset: start, length: Math.max(0, capEnd - start), fields: [] };
    d.layers.push(this.layer);
  }
  need(end: number): void {
    if (end > this.capEnd) throw new Short(end);
  }
  u8(o: number): number {
    this.need(o + 1);
    return this.b[o]!;
  }
  u16(o: number): number {
    this.need(o + 2);
    return rd16(this.b, o);
  }
  u32(o: number): number {
    this.need(o + 4);
    return rd32(this.b, o);
  }
  add(name: string, label: string, value: string, depth = 0): void {
    this.layer.fields.push({ name, value, label, hidden: false, depth });
  }
  hidden(name: string, value: string): void {
    this.layer.fields.push({ name, value, label: '', hidden: true, depth: 0 });
  }
  bad(reason: string): void {
    if (this.layer.malformed === undefined) this.layer.malformed = reason;
  }
}

/** Runs a layer function; a Short (bytes ran out) marks the layer malformed instead of escaping. */
function guard(lb: () => LayerBuilder | undefined, fn: () => void): void {
  try {
    fn();
  } catch (e) {
    if (e instanceof Short) {
      const l = lb();
      if (l) l.bad(`truncated: needs bytes up to offset ${e.at}, captured data ends at ${l.capEnd}`);
      return;
    }
    throw e;
  }
}

function dissectData(d: Dissection, b: Uint8Array, off: number, capEnd: number): void {
  if (capEnd <= off) return;
  const L = new LayerBuilder(d, b, off, capEnd, 'data', `Data (${capEnd - off} bytes)`);
  L.add('data.data', `Data: ${bytesHex(b, off, Math.min(capEnd, off + 32))}${capEnd - off > 32 ? '…' : ''}`, bytesHex(b, off, capEnd));
  L.add('data.len', `[Length: ${capEnd - off}]`, String(capEnd - off));
}

/**
 * Where the frame's packet really ends: at the frame end, a capture cut by the snap length still reports the
 * original length (frame.len), so lengths (tcp.len, IP total length checks) use it while reads stop at the
 * captured bytes — as Wireshark's reported vs captured tvb lengths.
 */
function reportedEnd(d: Dissection, capEnd: number): number {
  return capEnd === d.capturedLength ? Math.max(capEnd, d.originalLength) : capEnd;
}

/** The ethertype pseudo-layer tshark puts after every type field, then the payload's dissector. */
function dissectByEthertype(d: Dissection, b: Uint8Array, off: number, capEnd: number, type: number, trailer: boolean): void {
  if (tooDeep(d)) return;
  new LayerBuilder(d, b, off, capEnd, 'ethertype', 'Ethertype');
  let used = -1;
  switch (type) {
    case 0x0800:
      used = dissectIpv4(d, b, off, capEnd, reportedEnd(d, capEnd));
      break;
    case 0x86dd:
      used = dissectIpv6(d, b, off, capEnd, reportedEnd(d, capEnd));
      break;
    case 0x0806:
      used = dissectArp(d, b, off, capEnd);
      break;
    case 0x8100:
    case 0x9100:
    case 0x88a8:
      dissectVlan(d, b, off, capEnd, type, trailer);
      return;
    default:
      dissectData(d, b, off, capEnd);
      return;
  }
  const rep = reportedEnd(d, capEnd);
  if (trailer && used >= 0 && off + used < rep) addEthTrailer(d, b, off + used, capEnd, rep);
}

/**
 * Bytes after the network packet, split as Wireshark's add_ethernet_trailer() does: zero padding up to the
 * 60-byte minimum frame (IEEE 802.3 §4.2.3.3; non-zero bytes there are not padding), then — in a frame of
 * 64 bytes or more on the wire — the last 4 bytes taken as the FCS, and the rest a trailer. `repEnd` is where
 * the frame ends on the wire, `capEnd` where the captured bytes end.
 */
function addEthTrailer(d: Dissection, b: Uint8Array, from: number, capEnd: number, repEnd: number): void {
  const eth = d.layers.find((l) => l.protocol === 'eth');
  if (!eth) return;
  // Wireshark: no padding in a frame shorter than the 60-byte minimum — what follows is all trailer.
  let pad = repEnd - eth.offset < 60 ? 0 : Math.max(0, Math.min(repEnd, eth.offset + 60) - from);
  for (let i = from; i < from + pad; i++) {
    // Wireshark reads the would-be padding; running off the captured bytes ends the whole analysis.
    if (i >= capEnd) return;
    if (b[i] !== 0) {
      pad = 0;
      break;
    }
  }
  if (pad > 0) eth.fields.push({ name: 'eth.padding', value: bytesHex(b, from, from + pad), label: `Padding: ${bytesHex(b, from, from + pad)}`, hidden: false, depth: 0 });
  let end = repEnd;
  let fcs = false;
  if (repEnd - eth.offset >= 64 && repEnd - (from + pad) >= 4) {
    end = repEnd - 4;
    fcs = true;
  }
  const tEnd = Math.min(end, capEnd);
  if (tEnd > from + pad) eth.fields.push({ name: 'eth.trailer', value: bytesHex(b, from + pad, tEnd), label: `Trailer: ${bytesHex(b, from + pad, tEnd)}`, hidden: false, depth: 0 });
  if (fcs && repEnd <= capEnd) {
    const v = rd32(b, end);
    eth.fields.push({ name: 'eth.fcs', value: hex(v, 8), label: `Frame check sequence: ${hex(v, 8)}`, hidden: false, depth: 0 });
    eth.fields.push({ name: 'eth.fcs.status', value: '2', label: '[FCS Status: Unverified]', hidden: false, depth: 0 });
  }
}

/** IEEE 802.2 LLC header (DSAP, SSAP, control) and SNAP (RFC 1042: OUI 0 carries an EtherType). */
function dissectLlc(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number): void {
  if (tooDeep(d)) return;
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'llc', 'Logical-Link Control');
    L = l;
    const dsap = l.u8(off);
    l.add('llc.dsap', `DSAP: ${hex(dsap, 2)}`, hex(dsap, 2));
    l.add('llc.dsap.sap', `SAP: ${dsap >>> 1}`, String(dsap >>> 1), 1);
    l.add('llc.dsap.ig', `IG Bit: ${dsap & 1 ? 'Group' : 'Individual'}`, bool((dsap & 1) !== 0), 1);
    const ssap = l.u8(off + 1);
    l.add('llc.ssap', `SSAP: ${hex(ssap, 2)}`, hex(ssap, 2));
    l.add('llc.ssap.sap', `SAP: ${ssap >>> 1}`, String(ssap >>> 1), 1);
    l.add('llc.ssap.cr', `CR Bit: ${ssap & 1 ? 'Response' : 'Command'}`, bool((ssap & 1) !== 0), 1);
    const c0 = l.u8(off + 2);
    // Unnumbered frames have a 1-byte control field, I and S frames 2 bytes (IEEE 802.2 §5.2).
    const cl = (c0 & 3) === 3 ? 1 : 2;
    // Wireshark reads the 2-byte control field little-endian (N(S) in the first byte, N(R) in the second).
    const ctl = cl === 1 ? c0 : c0 | (l.u8(off + 3) << 8);
    l.add('llc.control', `Control field: ${hex(ctl, 4)}`, hex(ctl, 4));
    let p = off + 2 + cl;
    l.layer.length = p - off;
    if (dsap === 0xaa && ssap === 0xaa && cl === 1) {
      l.need(p + 5);
      const oui = (b[p]! << 16) | (b[p + 1]! << 8) | b[p + 2]!;
      const pid = rd16(b, p + 3);
      l.add('llc.oui', `Organization Code: ${oui}`, String(oui));
      p += 5;
      l.layer.length = p - off;
      if (oui === 0 || oui === 0xf8) {
        l.add('llc.type', `Type: ${ETHERTYPE_NAMES[pid] ?? 'Unknown'} (${hex(pid, 4)})`, hex(pid, 4));
        if (pid === 0x0800) dissectIpv4(d, b, p, capEnd, repEnd);
        else if (pid === 0x86dd) dissectIpv6(d, b, p, capEnd, repEnd);
        else if (pid === 0x0806) dissectArp(d, b, p, capEnd);
        else dissectData(d, b, p, capEnd);
        return;
      }
      l.add('llc.pid', `PID: ${hex(pid, 4)}`, hex(pid, 4));
    }
    // SAP 0x06 is IP (ARPANET Internet Protocol in the IEEE SAP list).
    if (dsap === 0x06) dissectIpv4(d, b, p, capEnd, repEnd);
    else dissectData(d, b, p, capEnd);
  });
}

function macFields(L: LayerBuilder, prefix: 'dst' | 'src', o: number): void {
  const m = formatMacAddress(L.b, o);
  const lg = (L.b[o]! & 2) !== 0;
  const ig = (L.b[o]! & 1) !== 0;
  L.add(`eth.${prefix}`, `${prefix === 'dst' ? 'Destination' : 'Source'}: ${m}`, m);
  L.hidden('eth.addr', m);
  L.add(`eth.${prefix}.lg`, `LG bit: ${lg ? 'Locally administered address' : 'Globally unique address (factory default)'}`, bool(lg), 1);
  L.hidden('eth.lg', bool(lg));
  L.add(`eth.${prefix}.ig`, `IG bit: ${ig ? 'Group address (multicast/broadcast)' : 'Individual address (unicast)'}`, bool(ig), 1);
  L.hidden('eth.ig', bool(ig));
}

function dissectEthernet(d: Dissection, b: Uint8Array, off: number, capEnd: number): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'eth', 'Ethernet II');
    L = l;
    l.need(off + 14);
    const dst = formatMacAddress(b, off);
    const src = formatMacAddress(b, off + 6);
    l.layer.title = `Ethernet II, Src: ${src}, Dst: ${dst}`;
    macFields(l, 'dst', off);
    macFields(l, 'src', off + 6);
    const t = rd16(b, off + 12);
    // IEEE 802.3 §3.2.6: values ≤ 1500 are a length (802.3 + LLC), ≥ 1536 an EtherType.
    if (t <= 1500) {
      // IEEE 802.3 length field: an 802.2 LLC PDU of that length, then padding/trailer.
      l.add('eth.len', `Length: ${t}`, String(t));
      l.layer.length = 14;
      const rep = reportedEnd(d, capEnd);
      const pduEnd = Math.min(off + 14 + t, rep);
      dissectLlc(d, b, off + 14, Math.min(capEnd, pduEnd), pduEnd);
      if (pduEnd < rep) addEthTrailer(d, b, pduEnd, capEnd, rep);
      return;
    }
    l.add('eth.type', `Type: ${ETHERTYPE_NAMES[t] ?? 'Unknown'} (${hex(t, 4)})`, hex(t, 4));
    l.layer.length = 14;
    dissectByEthertype(d, b, off + 14, capEnd, t, true);
  });
}

function dissectVlan(d: Dissection, b: Uint8Array, off: number, capEnd: number, tpid: number, trailer: boolean): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    // Wireshark names 802.1ad S-tags 'ieee8021ad' and 802.1Q (and 0x9100) tags 'vlan'.
    const ad = tpid === 0x88a8;
    const p = ad ? 'ieee8021ad' : 'vlan';
    const l = new LayerBuilder(d, b, off, capEnd, p, ad ? 'IEEE 802.1ad' : '802.1Q Virtual LAN');
    L = l;
    const tci = l.u16(off);
    const pcp = tci >>> 13;
    const dei = (tci >>> 12) & 1;
    const id = tci & 0xfff;
    l.layer.title = ad ? `IEEE 802.1ad, ID: ${id}` : `802.1Q Virtual LAN, PRI: ${pcp}, DEI: ${dei}, ID: ${id}`;
    l.add(`${p}.priority`, `Priority: ${pcp}`, String(pcp));
    l.add(`${p}.dei`, `DEI: ${dei}`, String(dei));
    let t = l.u16(off + 2);
    let hl = 4;
    if (ad && t === 0x88a8) {
      // Wireshark (packet-ieee8021ah.c) reads an S-tag directly followed by another 0x88a8 tag as one
      // layer: S-VID then C-VID.
      l.add('ieee8021ad.svid', `ID: ${id}`, String(id));
      const tci2 = l.u16(off + 4);
      l.add('ieee8021ad.priority', `Priority: ${tci2 >>> 13}`, String(tci2 >>> 13));
      l.add('ieee8021ad.dei', `DEI: ${(tci2 >>> 12) & 1}`, String((tci2 >>> 12) & 1));
      l.add('ieee8021ad.cvid', `ID: ${tci2 & 0xfff}`, String(tci2 & 0xfff));
      l.layer.title = `IEEE 802.1ad, S-VID: ${id}, C-VID: ${tci2 & 0xfff}`;
      t = l.u16(off + 6);
      hl = 8;
    } else l.add(`${p}.id`, `ID: ${id}`, String(id));
    l.layer.length = hl;
    if (t <= 1500) {
      // A length, as in IEEE 802.3: an LLC PDU follows.
      l.add('vlan.len', `Length: ${t}`, String(t));
      const rep = reportedEnd(d, capEnd);
      const pduEnd = Math.min(off + hl + t, rep);
      dissectLlc(d, b, off + hl, Math.min(capEnd, pduEnd), pduEnd);
      if (trailer && pduEnd < rep) addEthTrailer(d, b, pduEnd, capEnd, rep);
      return;
    }
    // Wireshark gives the 802.1ad type field no filter name.
    l.add(ad ? '' : 'vlan.etype', `Type: ${ETHERTYPE_NAMES[t] ?? 'Unknown'} (${hex(t, 4)})`, hex(t, 4));
    dissectByEthertype(d, b, off + hl, capEnd, t, trailer);
  });
}

function dissectArp(d: Dissection, b: Uint8Array, off: number, capEnd: number): number {
  let L: LayerBuilder | undefined;
  let used = -1;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'arp', 'Address Resolution Protocol');
    L = l;
    const htype = l.u16(off);
    const ptype = l.u16(off + 2);
    const hlen = l.u8(off + 4);
    const plen = l.u8(off + 5);
    const op = l.u16(off + 6);
    l.add('arp.hw.type', `Hardware type: ${htype === 1 ? 'Ethernet' : 'Unknown'} (${htype})`, String(htype));
    l.add('arp.proto.type', `Protocol type: ${ETHERTYPE_NAMES[ptype] ?? 'Unknown'} (${hex(ptype, 4)})`, hex(ptype, 4));
    l.add('arp.hw.size', `Hardware size: ${hlen}`, String(hlen));
    l.add('arp.proto.size', `Protocol size: ${plen}`, String(plen));
    const opName = op === 1 ? 'request' : op === 2 ? 'reply' : 'unknown';
    l.add('arp.opcode', `Opcode: ${opName} (${op})`, String(op));
    l.layer.title = `Address Resolution Protocol (${opName})`;
    const total = 8 + 2 * (hlen + plen);
    l.need(off + total);
    const eth = htype === 1 && hlen === 6;
    const ip4 = ptype === 0x0800 && plen === 4;
    let p = off + 8;
    const addr = (side: 'src' | 'dst', who: string): void => {
      if (eth) {
        const m = formatMacAddress(b, p);
        l.add(`arp.${side}.hw_mac`, `${who} MAC address: ${m}`, m);
      } else l.add(`arp.${side}.hw`, `${who} hardware address: ${bytesHex(b, p, p + hlen)}`, bytesHex(b, p, p + hlen));
      p += hlen;
      if (ip4) {
        const a = formatIpv4Address(readIpv4Address(b, p));
        l.add(`arp.${side}.proto_ipv4`, `${who} IP address: ${a}`, a);
      } else l.add(`arp.${side}.proto`, `${who} protocol address: ${bytesHex(b, p, p + plen)}`, bytesHex(b, p, p + plen));
      p += plen;
    };
    addr('src', 'Sender');
    addr('dst', 'Target');
    l.layer.length = total;
    used = total;
  });
  return used;
}

function dissectIpv4(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, quoted = false): number {
  let L: LayerBuilder | undefined;
  let used = -1;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'ip', 'Internet Protocol Version 4');
    L = l;
    const vihl = l.u8(off);
    const ver = vihl >>> 4;
    l.add('ip.version', `Version: ${ver}`, String(ver));
    if (ver !== 4) {
      l.bad(`bogus IPv4 version ${ver}`);
      return;
    }
    const hl = (vihl & 15) * 4;
    l.add('ip.hdr_len', `Header Length: ${hl} bytes (${vihl & 15})`, String(hl));
    if (hl < 20) {
      l.bad(`bogus IP header length (${hl}, must be at least 20)`);
      return;
    }
    const tos = l.u8(off + 1);
    l.add('ip.dsfield', `Differentiated Services Field: ${hex(tos, 2)}`, hex(tos, 2));
    l.add('ip.dsfield.dscp', `Differentiated Services Codepoint: ${tos >>> 2}`, String(tos >>> 2), 1);
    l.add('ip.dsfield.ecn', `Explicit Congestion Notification: ${tos & 3}`, String(tos & 3), 1);
    let total = l.u16(off + 2);
    // Wireshark: a total length of 0 is taken as TSO and replaced by the reported length.
    if (total === 0) total = repEnd - off;
    l.add('ip.len', `Total Length: ${total}`, String(total));
    if (total < hl) {
      l.bad(`bogus IP length (${total}, less than header length ${hl})`);
      return;
    }
    const id = l.u16(off + 4);
    l.add('ip.id', `Identification: ${hex(id, 4)} (${id})`, hex(id, 4));
    const ff = l.u16(off + 6);
    const flags = ff >>> 13;
    l.add('ip.flags', `Flags: ${hex(flags, 2)}`, hex(flags, 2));
    l.add('ip.flags.rb', `Reserved bit: ${ff & 0x8000 ? 'Set' : 'Not set'}`, bool((ff & 0x8000) !== 0), 1);
    l.add('ip.flags.df', `Don't fragment: ${ff & 0x4000 ? 'Set' : 'Not set'}`, bool((ff & 0x4000) !== 0), 1);
    l.add('ip.flags.mf', `More fragments: ${ff & 0x2000 ? 'Set' : 'Not set'}`, bool((ff & 0x2000) !== 0), 1);
    const fo = ff & 0x1fff;
    l.add('ip.frag_offset', `Fragment Offset: ${fo * 8}`, String(fo));
    const ttl = l.u8(off + 8);
    l.add('ip.ttl', `Time to Live: ${ttl}`, String(ttl));
    const proto = l.u8(off + 9);
    l.add('ip.proto', `Protocol: ${IPPROTO_NAMES[proto] ?? 'Unknown'} (${proto})`, String(proto));
    const ck = l.u16(off + 10);
    l.add('ip.checksum', `Header Checksum: ${hex(ck, 4)}`, hex(ck, 4));
    l.add('ip.checksum.status', '[Header checksum status: Unverified]', '2');
    l.need(off + 16);
    const src = formatIpv4Address(readIpv4Address(b, off + 12));
    l.add('ip.src', `Source Address: ${src}`, src);
    l.hidden('ip.addr', src);
    l.hidden('ip.src_host', src);
    l.hidden('ip.host', src);
    // Wireshark scans the options (source routes) for the final destination before adding ip.dst.
    l.need(off + Math.max(20, hl));
    const dst = formatIpv4Address(readIpv4Address(b, off + 16));
    l.add('ip.dst', `Destination Address: ${dst}`, dst);
    l.hidden('ip.addr', dst);
    l.hidden('ip.dst_host', dst);
    l.hidden('ip.host', dst);
    l.layer.title = `Internet Protocol Version 4, Src: ${src}, Dst: ${dst}`;
    l.need(off + hl);
    if (hl > 20) ipv4Options(l, off + 20, off + hl);
    l.layer.length = hl;
    // The datagram ends at the total length (bytes after it are link padding), or where the capture ends.
    const datagramEnd = Math.min(off + total, repEnd);
    if (off + total > repEnd && !quoted) l.bad(`IPv4 total length exceeds packet length (${repEnd - off} bytes)`);
    used = Math.min(total, repEnd - off);
    const pCap = Math.min(capEnd, datagramEnd);
    // A fragment: tshark shows its payload as data until reassembly (not done by this stateless decode) —
    // except a first fragment cut by the snap length, which it cannot reassemble and decodes as it is.
    if ((ff & 0x3fff) !== 0 && !((ff & 0x1fff) === 0 && pCap < datagramEnd)) {
      dissectData(d, b, off + hl, pCap);
      return;
    }
    dissectIpPayload(d, b, off + hl, pCap, datagramEnd, proto, 4, off, quoted);
  });
  return used;
}

function ipv4Options(l: LayerBuilder, start: number, end: number): void {
  let p = start;
  while (p < end) {
    const t = l.b[p]!;
    l.add('ip.opt.type', `Type: ${t}`, String(t), 1);
    if (t === 0) return; // RFC 791: End of Option List; what follows is padding
    if (t === 1) {
      p++;
      continue;
    }
    if (p + 1 >= end) {
      l.bad('IPv4 option length missing');
      return;
    }
    const len = l.b[p + 1]!;
    l.add('ip.opt.len', `Length: ${len}`, String(len), 1);
    if (len < 2 || p + len > end) {
      l.bad(`bad IPv4 option length ${len}`);
      return;
    }
    p += len;
  }
}

/** Most layers one frame decodes into: a bound against tunnels nested by a hostile packet (stack depth). */
export const DISSECT_MAX_LAYERS = 64;

/** True (and the last layer marked) when the frame already has DISSECT_MAX_LAYERS layers. */
function tooDeep(d: Dissection): boolean {
  if (d.layers.length < DISSECT_MAX_LAYERS) return false;
  const last = d.layers[d.layers.length - 1]!;
  if (last.malformed === undefined) last.malformed = `more than ${DISSECT_MAX_LAYERS} nested layers`;
  return true;
}

function dissectIpPayload(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, proto: number, ipv: 4 | 6, ipOff: number, quoted: boolean): void {
  if (tooDeep(d)) return;
  switch (proto) {
    case 6:
      dissectTcp(d, b, off, capEnd, repEnd, quoted);
      return;
    case 17:
      dissectUdp(d, b, off, capEnd, repEnd, ipv);
      return;
    case 1:
      dissectIcmp(d, b, off, capEnd, repEnd, quoted);
      return;
    case 58:
      dissectIcmpv6(d, b, off, capEnd, repEnd, ipOff, quoted);
      return;
    case 4:
      dissectIpv4(d, b, off, capEnd, repEnd, quoted);
      return;
    case 41:
      dissectIpv6(d, b, off, capEnd, repEnd, quoted);
      return;
    case 47:
      dissectGre(d, b, off, capEnd, repEnd);
      return;
    case 51:
      dissectAh(d, b, off, capEnd, repEnd, ipv, ipOff, quoted);
      return;
    case 50:
      dissectEsp(d, b, off, capEnd);
      return;
    case 59:
      return;
    default:
      dissectData(d, b, off, capEnd);
  }
}

/** GRE (RFC 2784, keys and sequence numbers RFC 2890), version 0; the payload by its EtherType. */
function dissectGre(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'gre', 'Generic Routing Encapsulation');
    L = l;
    const fv = l.u16(off);
    const proto = l.u16(off + 2);
    l.layer.title = `Generic Routing Encapsulation (${ETHERTYPE_NAMES[proto] ?? hex(proto, 4)})`;
    l.add('gre.flags_and_version', `Flags and Version: ${hex(fv, 4)}`, hex(fv, 4));
    l.add('gre.flags.checksum', `Checksum Bit: ${fv & 0x8000 ? 'Yes' : 'No'}`, bool((fv & 0x8000) !== 0), 1);
    l.add('gre.flags.routing', `Routing Bit: ${fv & 0x4000 ? 'Yes' : 'No'}`, bool((fv & 0x4000) !== 0), 1);
    l.add('gre.flags.key', `Key Bit: ${fv & 0x2000 ? 'Yes' : 'No'}`, bool((fv & 0x2000) !== 0), 1);
    l.add('gre.flags.sequence_number', `Sequence Number Bit: ${fv & 0x1000 ? 'Yes' : 'No'}`, bool((fv & 0x1000) !== 0), 1);
    l.add('gre.flags.strict_source_route', `Strict Source Route Bit: ${fv & 0x800 ? 'Yes' : 'No'}`, bool((fv & 0x800) !== 0), 1);
    l.add('gre.flags.recursion_control', `Recursion control: ${(fv >>> 8) & 7}`, String((fv >>> 8) & 7), 1);
    l.add('gre.flags.reserved', `Flags (Reserved): ${(fv >>> 3) & 0x1f}`, String((fv >>> 3) & 0x1f), 1);
    l.add('gre.flags.version', `Version: ${fv & 7}`, String(fv & 7), 1);
    l.add('gre.proto', `Protocol Type: ${ETHERTYPE_NAMES[proto] ?? 'Unknown'} (${hex(proto, 4)})`, hex(proto, 4));
    if ((fv & 7) !== 0 || (fv & 0x4000) !== 0) {
      // Enhanced GRE (PPTP, version 1) and source routing are not decoded.
      l.layer.length = 4;
      dissectData(d, b, off + 4, Math.min(capEnd, repEnd));
      return;
    }
    let p = off + 4;
    if (fv & 0x8000) {
      const ck = l.u16(p);
      l.add('gre.checksum', `Checksum: ${hex(ck, 4)}`, hex(ck, 4));
      if (capEnd >= repEnd) {
        const good = onesComplementSum(b, 0, off, repEnd - off) === 0xffff;
        l.add('gre.checksum.status', `[Checksum Status: ${good ? 'Good' : 'Bad'}]`, good ? '1' : '0');
        if (!good) l.bad('bad GRE checksum');
      } else l.add('gre.checksum.status', '[Checksum Status: Unverified]', '2');
      const o = l.u16(p + 2);
      l.add('gre.offset', `Offset: ${o}`, String(o));
      p += 4;
    }
    if (fv & 0x2000) {
      const k = l.u32(p);
      l.add('gre.key', `Key: ${hex(k, 8)}`, hex(k, 8));
      p += 4;
    }
    if (fv & 0x1000) {
      const sq = l.u32(p);
      l.add('gre.sequence_number', `Sequence Number: ${sq}`, String(sq));
      p += 4;
    }
    l.layer.length = p - off;
    const end = Math.min(capEnd, repEnd);
    if (proto === 0x6558) dissectEthernet(d, b, p, end);
    else if (proto === 0x0800) dissectIpv4(d, b, p, end, repEnd);
    else if (proto === 0x86dd) dissectIpv6(d, b, p, end, repEnd);
    else dissectData(d, b, p, end);
  });
}

/** IPsec AH (RFC 4302 §2): length in 4-octet units minus 2; the next header follows it. */
function dissectAh(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, ipv: 4 | 6, ipOff: number, quoted: boolean): void {
  let L: LayerBuilder | undefined;
  let next = -1;
  let hl = 0;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'ah', 'Authentication Header');
    L = l;
    next = l.u8(off);
    l.add('ah.next_header', `Next header: ${IPPROTO_NAMES[next] ?? 'Unknown'} (${next})`, String(next));
    const len = l.u8(off + 1);
    hl = (len + 2) * 4;
    l.add('ah.length', `Length: ${len} (${hl} bytes)`, String(len));
    l.need(off + 4);
    l.add('ah.reserved', `Reserved: ${bytesHex(b, off + 2, off + 4)}`, bytesHex(b, off + 2, off + 4));
    const spi = l.u32(off + 4);
    l.add('ah.spi', `AH SPI: ${hex(spi, 8)}`, hex(spi, 8));
    const sq = l.u32(off + 8);
    l.add('ah.sequence', `AH Sequence: ${sq}`, String(sq));
    l.need(off + hl);
    if (hl > 12) l.add('ah.icv', `AH ICV: ${bytesHex(b, off + 12, off + hl)}`, bytesHex(b, off + 12, off + hl));
    l.layer.length = hl;
  });
  if (L && L.layer.malformed === undefined && next >= 0 && hl >= 12) dissectIpPayload(d, b, off + hl, capEnd, repEnd, next, ipv, ipOff, quoted);
}

/** IPsec ESP (RFC 4303 §2): SPI and sequence number; the rest is encrypted. */
function dissectEsp(d: Dissection, b: Uint8Array, off: number, capEnd: number): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'esp', 'Encapsulating Security Payload');
    L = l;
    const spi = l.u32(off);
    l.add('esp.spi', `ESP SPI: ${hex(spi, 8)} (${spi})`, hex(spi, 8));
    const sq = l.u32(off + 4);
    l.add('esp.sequence', `ESP Sequence: ${sq}`, String(sq));
    l.layer.length = capEnd - off;
  });
}

const EXT_PROTO: Record<number, string> = { 0: 'ipv6.hopopts', 43: 'ipv6.routing', 44: 'ipv6.fraghdr', 60: 'ipv6.dstopts' };

function dissectIpv6(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, quoted = false): number {
  let L: LayerBuilder | undefined;
  let used = -1;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'ipv6', 'Internet Protocol Version 6');
    L = l;
    const v0 = l.u8(off);
    const ver = v0 >>> 4;
    l.add('ipv6.version', `Version: ${ver}`, String(ver));
    l.hidden('ip.version', String(ver));
    if (ver !== 6) {
      l.bad(`bogus IPv6 version ${ver}`);
      return;
    }
    const w = l.u32(off);
    const tc = (w >>> 20) & 0xff;
    l.add('ipv6.tclass', `Traffic Class: ${hex(tc, 8)}`, hex(tc, 8));
    l.add('ipv6.tclass.dscp', `Differentiated Services Codepoint: ${tc >>> 2}`, String(tc >>> 2), 1);
    l.add('ipv6.tclass.ecn', `Explicit Congestion Notification: ${tc & 3}`, String(tc & 3), 1);
    const flow = w & 0xfffff;
    l.add('ipv6.flow', `Flow Label: ${hex(flow, 6)}`, hex(flow, 6));
    // Wireshark reads payload length, next header and hop limit together.
    l.need(off + 8);
    const plen = l.u16(off + 4);
    l.add('ipv6.plen', `Payload Length: ${plen}`, String(plen));
    let nh = l.u8(off + 6);
    l.add('ipv6.nxt', `Next Header: ${IPPROTO_NAMES[nh] ?? 'Unknown'} (${nh})`, String(nh));
    const hlim = l.u8(off + 7);
    l.add('ipv6.hlim', `Hop Limit: ${hlim}`, String(hlim));
    l.need(off + 24);
    const src = formatIpv6Address(b, off + 8);
    l.add('ipv6.src', `Source Address: ${src}`, src);
    l.hidden('ipv6.addr', src);
    l.hidden('ipv6.src_host', src);
    l.hidden('ipv6.host', src);
    l.need(off + 40);
    const dst = formatIpv6Address(b, off + 24);
    l.add('ipv6.dst', `Destination Address: ${dst}`, dst);
    l.hidden('ipv6.addr', dst);
    l.hidden('ipv6.dst_host', dst);
    l.hidden('ipv6.host', dst);
    l.layer.title = `Internet Protocol Version 6, Src: ${src}, Dst: ${dst}`;
    l.layer.length = 40;
    // RFC 8200 §3: the payload ends at 40 + payload length (or where the capture ends).
    const end = Math.min(off + 40 + plen, repEnd);
    if (off + 40 + plen > repEnd && !quoted) l.bad(`IPv6 payload length exceeds framing length (${repEnd - off - 40} bytes)`);
    used = end - off;
    const cEnd = Math.min(capEnd, end);
    let p = off + 40;
    let n = 0;
    let fragmented = false;
    while (nh === 0 || nh === 43 || nh === 44 || nh === 60) {
      if (++n > 16) {
        l.bad('too many IPv6 extension headers');
        return;
      }
      const res = dissectIpv6Ext(d, b, p, cEnd, nh, n);
      if (res === null) return;
      if (nh === 44 && res.fragmented) fragmented = true;
      nh = res.next;
      p += res.length;
    }
    if (fragmented) {
      dissectData(d, b, p, cEnd);
      return;
    }
    dissectIpPayload(d, b, p, cEnd, end, nh, 6, off, quoted);
  });
  return used;
}

/** One extension header as its own layer (tshark: ipv6.hopopts, ipv6.routing, ipv6.fraghdr, ipv6.dstopts). */
function dissectIpv6Ext(d: Dissection, b: Uint8Array, p: number, capEnd: number, type: number, index: number): { next: number; length: number; fragmented: boolean } | null {
  const proto = EXT_PROTO[type]!;
  let L: LayerBuilder | undefined;
  let out: { next: number; length: number; fragmented: boolean } | null = null;
  guard(() => L, () => {
    const title = type === 0 ? 'IPv6 Hop-by-Hop Option' : type === 43 ? 'Routing Header for IPv6' : type === 44 ? 'Fragment Header for IPv6' : 'Destination Options for IPv6';
    const l = new LayerBuilder(d, b, p, capEnd, proto, title);
    L = l;
    const next = l.u8(p);
    l.add(`${proto}.nxt`, `Next Header: ${IPPROTO_NAMES[next] ?? 'Unknown'} (${next})`, String(next));
    if (type === 44) {
      const ro = l.u8(p + 1);
      l.add('ipv6.fraghdr.reserved_octet', `Reserved octet: ${hex(ro, 2)}`, hex(ro, 2));
      const fo = l.u16(p + 2);
      l.add('ipv6.fraghdr.offset', `Offset: ${fo >>> 3} (${fo & 0xfff8} bytes)`, String(fo >>> 3));
      l.add('ipv6.fraghdr.reserved_bits', `Reserved bits: ${(fo >>> 1) & 3}`, String((fo >>> 1) & 3));
      l.add('ipv6.fraghdr.more', `More Fragments: ${fo & 1 ? 'Yes' : 'No'}`, bool((fo & 1) !== 0));
      const id = l.u32(p + 4);
      l.add('ipv6.fraghdr.ident', `Identification: ${hex(id, 8)}`, hex(id, 8));
      l.layer.length = 8;
      out = { next, length: 8, fragmented: (fo & 0xfff9) !== 0 };
      return;
    }
    const len = l.u8(p + 1);
    const octets = (len + 1) * 8;
    l.add(`${proto}.len`, `Length: ${len}`, String(len));
    l.add(`${proto}.len_oct`, `[Length: ${octets} bytes]`, String(octets));
    if (type === 0 && index !== 1) l.bad('IPv6 Hop-by-Hop extension header must appear immediately after IPv6 header');
    l.layer.length = Math.min(octets, capEnd - p);
    if (type === 43) {
      l.need(p + octets);
      const rt = l.u8(p + 2);
      const sl = l.u8(p + 3);
      l.add('ipv6.routing.type', `Type: ${rt}`, String(rt));
      l.add('ipv6.routing.segleft', `Segments Left: ${sl}`, String(sl));
      if (rt === 0) {
        l.add('ipv6.routing.src.reserved', `Reserved: ${bytesHex(b, p + 4, p + 8)}`, bytesHex(b, p + 4, p + 8));
        for (let q = p + 8; q + 16 <= p + octets; q += 16) {
          const a = formatIpv6Address(b, q);
          l.add('ipv6.routing.src.addr', `Address: ${a}`, a);
        }
      }
    } else {
      // RFC 8200 §4.2 TLV options.
      let q = p + 2;
      const end = p + octets;
      while (q < end) {
        const t = l.u8(q);
        l.add('ipv6.opt.type', `Type: ${hex(t, 2)}`, hex(t, 2), 1);
        l.add('ipv6.opt.type.action', `Action: ${t >>> 6}`, String(t >>> 6), 2);
        l.add('ipv6.opt.type.change', `May Change: ${(t >>> 5) & 1 ? 'Yes' : 'No'}`, bool(((t >>> 5) & 1) === 1), 2);
        l.add('ipv6.opt.type.rest', `Low-Order Bits: ${hex(t & 0x1f, 2)}`, hex(t & 0x1f, 2), 2);
        if (t === 0) {
          q++;
          continue;
        }
        if (q + 2 > end) {
          l.bad('IPv6 option runs past the header');
          break;
        }
        const ol = l.u8(q + 1);
        l.add('ipv6.opt.length', `Length: ${ol}`, String(ol), 1);
        if (q + 2 + ol > end) {
          l.bad(`IPv6 option length ${ol} runs past the header`);
          break;
        }
        l.need(q + 2 + ol);
        if (t === 1) l.add('ipv6.opt.padn', `PadN: ${ol === 0 ? '<none>' : bytesHex(b, q + 2, q + 2 + ol)}`, ol === 0 ? '<none>' : bytesHex(b, q + 2, q + 2 + ol), 1);
        else if (t === 5 && ol === 2) l.add('ipv6.opt.router_alert', `Router Alert: ${rd16(b, q + 2)}`, String(rd16(b, q + 2)), 1);
        q += 2 + ol;
      }
      l.need(end);
    }
    out = { next, length: octets, fragmented: false };
  });
  return out;
}

const TCP_FLAG_NAMES: Array<[number, string, string]> = [
  [0x100, 'tcp.flags.ae', 'Accurate ECN'], [0x080, 'tcp.flags.cwr', 'Congestion Window Reduced'], [0x040, 'tcp.flags.ece', 'ECN-Echo'],
  [0x020, 'tcp.flags.urg', 'Urgent'], [0x010, 'tcp.flags.ack', 'Acknowledgment'], [0x008, 'tcp.flags.push', 'Push'],
  [0x004, 'tcp.flags.reset', 'Reset'], [0x002, 'tcp.flags.syn', 'Syn'], [0x001, 'tcp.flags.fin', 'Fin'],
];

/** tshark's tcp.flags.str: 12 positions, '·' for clear bits, letters RRRACEUAPRSF for set ones. */
function tcpFlagString(flags: number): string {
  const letters = 'RRRACEUAPRSF';
  let s = '';
  for (let i = 0; i < 12; i++) s += flags & (1 << (11 - i)) ? letters[i]! : '\u00b7';
  return s;
}

function dissectTcp(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, quoted: boolean): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'tcp', 'Transmission Control Protocol');
    L = l;
    const sp = l.u16(off);
    const dp = l.u16(off + 2);
    l.add('tcp.srcport', `Source Port: ${sp}`, String(sp));
    l.add('tcp.dstport', `Destination Port: ${dp}`, String(dp));
    l.hidden('tcp.port', String(sp));
    l.hidden('tcp.port', String(dp));
    l.layer.title = `Transmission Control Protocol, Src Port: ${sp}, Dst Port: ${dp}`;
    // In an ICMP error's quote Wireshark shows the raw sequence number as tcp.seq once 8 bytes are there.
    if (quoted && off + 8 <= capEnd) l.add('tcp.seq', `Sequence Number: ${rd32(b, off + 4)}`, String(rd32(b, off + 4)));
    // Wireshark reads seq, ack, offset, flags and window before adding any of them.
    l.need(off + 16);
    const seq = rd32(b, off + 4);
    const ack = rd32(b, off + 8);
    const hl = (b[off + 12]! >>> 4) * 4;
    const flags = rd16(b, off + 12) & 0xfff;
    const reported = repEnd - off;
    const tlen = reported - hl;
    l.add('tcp.len', `[TCP Segment Len: ${tlen}]`, String(tlen));
    l.add('tcp.seq_raw', `Sequence Number (raw): ${seq}`, String(seq));
    l.add('tcp.hdr_len', `Header Length: ${hl} bytes (${hl >>> 2})`, String(hl));
    if (hl < 20) {
      l.bad(`bogus TCP header length (${hl}, must be at least 20)`);
      return;
    }
    l.add('tcp.ack_raw', `Acknowledgment number (raw): ${ack}`, String(ack));
    l.layer.title += `, Seq: ${seq}, Len: ${tlen}`;
    l.add('tcp.flags', `Flags: ${hex(flags, 4)}`, hex(flags, 4));
    l.add('tcp.flags.res', `Reserved: ${flags & 0xe00 ? 'Set' : 'Not set'}`, bool((flags & 0xe00) !== 0), 1);
    for (const [m, n, label] of TCP_FLAG_NAMES) l.add(n, `${label}: ${flags & m ? 'Set' : 'Not set'}`, bool((flags & m) !== 0), 1);
    l.add('tcp.flags.str', `[TCP Flags: ${tcpFlagString(flags)}]`, tcpFlagString(flags), 1);
    const win = rd16(b, off + 14);
    l.add('tcp.window_size_value', `Window: ${win}`, String(win));
    const ck = l.u16(off + 16);
    l.add('tcp.checksum', `Checksum: ${hex(ck, 4)}`, hex(ck, 4));
    l.add('tcp.checksum.status', '[Checksum Status: Unverified]', '2');
    const urg = l.u16(off + 18);
    l.add('tcp.urgent_pointer', `Urgent Pointer: ${urg}`, String(urg));
    if (hl > 20) {
      tcpOptions(l, off + 20, off + hl);
      l.need(off + hl);
    }
    l.layer.length = hl;
    if (reported < hl) {
      l.bad(`TCP header length ${hl} exceeds the ${reported}-byte segment`);
      return;
    }
    const pEnd = Math.min(capEnd, repEnd);
    if (flags & 0x004 && off + hl < pEnd) {
      // RFC 9293 §3.5.3 allows data on a RST; Wireshark shows it as a reset cause, not as payload.
      l.add('', `Reset cause: ${bytesHex(b, off + hl, pEnd)}`, '');
      return;
    }
    if (off + hl < pEnd) {
      l.add('tcp.payload', `TCP payload (${pEnd - off - hl} bytes)`, bytesHex(b, off + hl, pEnd));
      // Wireshark hands a segment cut by the snap length to no payload dissector.
      if (capEnd >= repEnd) dissectData(d, b, off + hl, pEnd);
    }
  });
}

function tcpOptions(l: LayerBuilder, start: number, end: number): void {
  const b = l.b;
  let p = start;
  while (p < end) {
    const k = l.u8(p);
    // Wireshark walks every byte: padding zeros after EOL show as further EOLs.
    if (k === 0 || k === 1) {
      l.add('tcp.option_kind', `Kind: ${k}`, String(k), 1);
      p++;
      continue;
    }
    if (p + 1 >= end) {
      l.bad('TCP option length missing');
      return;
    }
    const len = l.u8(p + 1);
    if (len < 2 || p + len > end) {
      l.bad(`bad TCP option length ${len} for kind ${k}`);
      return;
    }
    l.add('tcp.option_kind', `Kind: ${k}`, String(k), 1);
    l.add('tcp.option_len', `Length: ${len}`, String(len), 1);
    if (k === 2 && len === 4) l.add('tcp.options.mss_val', `MSS Value: ${l.u16(p + 2)}`, String(rd16(b, p + 2)), 1);
    else if (k === 3 && len === 3) {
      const sh = l.u8(p + 2);
      l.add('tcp.options.wscale.shift', `Shift count: ${sh}`, String(sh), 1);
      l.add('tcp.options.wscale.multiplier', `[Multiplier: ${2 ** Math.min(sh, 14)}]`, String(2 ** Math.min(sh, 14)), 1);
    } else if (k === 4 && len === 2) l.add('tcp.options.sack_perm', 'TCP SACK Permitted Option: True', bytesHex(b, p, p + 2), 1);
    else if (k === 5 && len >= 2) {
      const n = (len - 2) >>> 3;
      for (let i = 0; i < n; i++) {
        const le = l.u32(p + 2 + 8 * i);
        l.add('tcp.options.sack_le', `left edge = ${le}`, String(le), 1);
        const re = l.u32(p + 6 + 8 * i);
        l.add('tcp.options.sack_re', `right edge = ${re}`, String(re), 1);
      }
      l.add('tcp.options.sack.count', `[TCP SACK Count: ${n}]`, String(n), 1);
    } else if (k === 8 && len === 10) {
      const tsval = l.u32(p + 2);
      l.add('tcp.options.timestamp.tsval', `Timestamp value: ${tsval}`, String(tsval), 1);
      const tsecr = l.u32(p + 6);
      l.add('tcp.options.timestamp.tsecr', `Timestamp echo reply: ${tsecr}`, String(tsecr), 1);
    }
    l.need(p + len);
    p += len;
  }
}

function dissectUdp(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, ipv: 4 | 6): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'udp', 'User Datagram Protocol');
    L = l;
    const sp = l.u16(off);
    const dp = l.u16(off + 2);
    l.add('udp.srcport', `Source Port: ${sp}`, String(sp));
    l.add('udp.dstport', `Destination Port: ${dp}`, String(dp));
    l.hidden('udp.port', String(sp));
    l.hidden('udp.port', String(dp));
    l.layer.title = `User Datagram Protocol, Src Port: ${sp}, Dst Port: ${dp}`;
    const ulen = l.u16(off + 4);
    l.add('udp.length', `Length: ${ulen}`, String(ulen));
    const reported = repEnd - off;
    if (ulen < 8) {
      l.bad(`bad length value ${ulen} < 8`);
      return;
    }
    if (ulen > reported) l.bad(`bad length value ${ulen} > IP payload length`);
    const ck = l.u16(off + 6);
    l.add('udp.checksum', `Checksum: ${hex(ck, 4)}`, hex(ck, 4));
    l.add('udp.checksum.status', ck === 0 && ipv === 4 ? '[Checksum Status: Not present]' : '[Checksum Status: Unverified]', ck === 0 && ipv === 4 ? '3' : '2');
    l.layer.length = 8;
    const end = Math.min(capEnd, ulen > reported ? repEnd : off + ulen);
    if (off + 8 < end) {
      l.add('udp.payload', `UDP payload (${end - off - 8} bytes)`, bytesHex(b, off + 8, end));
      dissectData(d, b, off + 8, end);
    }
  });
}

function dissectIcmp(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, quoted: boolean): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'icmp', 'Internet Control Message Protocol');
    L = l;
    const t = l.u8(off);
    const c = l.u8(off + 1);
    l.add('icmp.type', `Type: ${t}`, String(t));
    l.add('icmp.code', `Code: ${c}`, String(c));
    const ck = l.u16(off + 2);
    l.add('icmp.checksum', `Checksum: ${hex(ck, 4)}`, hex(ck, 4));
    // Wireshark verifies the ICMP checksum when the whole message was captured (RFC 792).
    const whole = capEnd >= repEnd && !quoted;
    if (whole) {
      const good = onesComplementSum(b, 0, off, repEnd - off) === 0xffff;
      l.add('icmp.checksum.status', `[Checksum Status: ${good ? 'Good' : 'Bad'}]`, good ? '1' : '0');
      if (!good) l.bad('bad ICMP checksum');
    } else if (!quoted) l.add('icmp.checksum.status', '[Checksum Status: Unverified]', '2');
    l.layer.length = Math.min(8, capEnd - off);
    if (t === 0 || t === 8 || (t >= 13 && t <= 18)) {
      const id = l.u16(off + 4);
      l.add('icmp.ident', `Identifier (BE): ${id} (${hex(id, 4)})`, String(id));
      l.add('icmp.ident_le', `Identifier (LE): ${((id & 0xff) << 8) | (id >>> 8)}`, String(((id & 0xff) << 8) | (id >>> 8)));
      const sq = l.u16(off + 6);
      l.add('icmp.seq', `Sequence Number (BE): ${sq} (${hex(sq, 4)})`, String(sq));
      l.add('icmp.seq_le', `Sequence Number (LE): ${((sq & 0xff) << 8) | (sq >>> 8)}`, String(((sq & 0xff) << 8) | (sq >>> 8)));
      if (t === 13 || t === 14) {
        // RFC 792 timestamp messages: originate, receive, transmit (ms since midnight UT).
        const names = ['originate', 'receive', 'transmit'];
        for (let i = 0; i < 3; i++) {
          const v = l.u32(off + 8 + 4 * i);
          l.add(`icmp.${names[i]!}_timestamp`, `${names[i]!} timestamp: ${v}`, String(v));
        }
        return;
      }
      if (t === 17 || t === 18) {
        // RFC 950 address mask request/reply.
        l.need(off + 12);
        const m = formatIpv4Address(readIpv4Address(b, off + 8));
        l.add('icmp.address_mask', `Address Mask: ${m}`, m);
        return;
      }
      if (t === 15 || t === 16) return;
      l.layer.title = `Internet Control Message Protocol (echo ${t === 8 ? 'request' : 'reply'})`;
      dissectData(d, b, off + 8, Math.min(capEnd, repEnd));
      return;
    }
    if (t === 3 || t === 11 || t === 4 || t === 12 || t === 5) {
      if (t === 5) {
        l.need(off + 8);
        const gw = formatIpv4Address(readIpv4Address(b, off + 4));
        l.add('icmp.redir_gw', `Gateway Address: ${gw}`, gw);
      } else if (t === 3 && c === 4) {
        l.add('icmp.unused', `Unused: ${bytesHex(b, off + 4, off + 6)}`, bytesHex(b, off + 4, Math.min(off + 6, capEnd)));
        const mtu = l.u16(off + 6);
        l.add('icmp.mtu', `MTU of next hop: ${mtu}`, String(mtu));
      } else if (t === 12) {
        const ptr = l.u8(off + 4);
        l.add('icmp.pointer', `Pointer: ${ptr}`, String(ptr));
        l.need(off + 8);
        l.add('icmp.unused', `Unused: ${bytesHex(b, off + 5, off + 8)}`, bytesHex(b, off + 5, off + 8));
      } else {
        l.need(off + 8);
        l.add('icmp.unused', `Unused: ${bytesHex(b, off + 4, off + 8)}`, bytesHex(b, off + 4, off + 8));
      }
      // RFC 792: the quoted internet header + 64 bits of the original datagram.
      if (!quoted && off + 8 < capEnd) dissectIpv4(d, b, off + 8, Math.min(capEnd, repEnd), Math.min(capEnd, repEnd), true);
      return;
    }
    l.need(off + 8);
    dissectData(d, b, off + 8, Math.min(capEnd, repEnd));
  });
}

function dissectIcmpv6(d: Dissection, b: Uint8Array, off: number, capEnd: number, repEnd: number, ipOff: number, quoted: boolean): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'icmpv6', 'Internet Control Message Protocol v6');
    L = l;
    const t = l.u8(off);
    const c = l.u8(off + 1);
    l.add('icmpv6.type', `Type: ${t}`, String(t));
    l.add('icmpv6.code', `Code: ${c}`, String(c));
    const ck = l.u16(off + 2);
    l.add('icmpv6.checksum', `Checksum: ${hex(ck, 4)}`, hex(ck, 4));
    // RFC 4443 §2.3: checksum over the IPv6 pseudo-header; Wireshark verifies it when all was captured.
    const whole = capEnd >= repEnd && !quoted && b[ipOff]! >>> 4 === 6;
    if (whole) {
      const len = repEnd - off;
      let s = 0;
      for (let i = ipOff + 8; i < ipOff + 40; i += 2) s += rd16(b, i);
      s += (len >>> 16) + (len & 0xffff) + 58;
      const good = onesComplementSum(b, s % 0xffff, off, len) === 0xffff;
      l.add('icmpv6.checksum.status', `[Checksum Status: ${good ? 'Good' : 'Bad'}]`, good ? '1' : '0');
      if (!good) l.bad('bad ICMPv6 checksum');
    } else if (!quoted) l.add('icmpv6.checksum.status', '[Checksum Status: Unverified]', '2');
    const end = Math.min(capEnd, repEnd);
    if (t === 128 || t === 129) {
      const id = l.u16(off + 4);
      const sq = l.u16(off + 6);
      l.add('icmpv6.echo.identifier', `Identifier: ${hex(id, 4)}`, hex(id, 4));
      l.add('icmpv6.echo.sequence_number', `Sequence: ${sq}`, String(sq));
      l.layer.length = 8;
      dissectData(d, b, off + 8, end);
      return;
    }
    if (t === 135 || t === 136) {
      if (t === 135) {
        l.need(off + 8);
        l.add('icmpv6.reserved', `Reserved: ${bytesHex(b, off + 4, off + 8)}`, bytesHex(b, off + 4, off + 8));
      } else {
        const fl = l.u32(off + 4);
        l.add('icmpv6.nd.na.flag', `Flags: ${hex(fl, 8)}`, hex(fl, 8));
        l.add('icmpv6.nd.na.flag.r', `Router: ${fl & 0x80000000 ? 'Set' : 'Not set'}`, bool((fl & 0x80000000) !== 0), 1);
        l.add('icmpv6.nd.na.flag.s', `Solicited: ${fl & 0x40000000 ? 'Set' : 'Not set'}`, bool((fl & 0x40000000) !== 0), 1);
        l.add('icmpv6.nd.na.flag.o', `Override: ${fl & 0x20000000 ? 'Set' : 'Not set'}`, bool((fl & 0x20000000) !== 0), 1);
        l.add('icmpv6.nd.na.flag.rsv', `Reserved: ${fl & 0x1fffffff}`, String(fl & 0x1fffffff), 1);
      }
      l.need(off + 24);
      const target = formatIpv6Address(b, off + 8);
      l.add(t === 135 ? 'icmpv6.nd.ns.target_address' : 'icmpv6.nd.na.target_address', `Target Address: ${target}`, target);
      l.layer.title = `Internet Control Message Protocol v6 (Neighbor ${t === 135 ? 'Solicitation' : 'Advertisement'} for ${target})`;
      ndOptions(l, off + 24, end);
      l.layer.length = end - off;
      return;
    }
    if (t === 133 || t === 134) {
      if (t === 133) {
        l.need(off + 8);
        l.add('icmpv6.reserved', `Reserved: ${bytesHex(b, off + 4, off + 8)}`, bytesHex(b, off + 4, off + 8));
        l.layer.title = 'Internet Control Message Protocol v6 (Router Solicitation)';
        ndOptions(l, off + 8, end);
      } else {
        // RFC 4861 §4.2 (+ RFC 4191 preference, RFC 3775 H, RFC 4389 P).
        const chl = l.u8(off + 4);
        l.add('icmpv6.nd.ra.cur_hop_limit', `Cur hop limit: ${chl}`, String(chl));
        const fl = l.u8(off + 5);
        l.add('icmpv6.nd.ra.flag', `Flags: ${hex(fl, 2)}`, hex(fl, 2));
        l.add('icmpv6.nd.ra.flag.m', `Managed address configuration: ${fl & 0x80 ? 'Set' : 'Not set'}`, bool((fl & 0x80) !== 0), 1);
        l.add('icmpv6.nd.ra.flag.o', `Other configuration: ${fl & 0x40 ? 'Set' : 'Not set'}`, bool((fl & 0x40) !== 0), 1);
        l.add('icmpv6.nd.ra.flag.h', `Home Agent: ${fl & 0x20 ? 'Set' : 'Not set'}`, bool((fl & 0x20) !== 0), 1);
        l.add('icmpv6.nd.ra.flag.prf', `Prf (Default Router Preference): ${(fl >>> 3) & 3}`, String((fl >>> 3) & 3), 1);
        l.add('icmpv6.nd.ra.flag.p', `Proxy: ${fl & 0x04 ? 'Set' : 'Not set'}`, bool((fl & 0x04) !== 0), 1);
        l.add('icmpv6.nd.ra.flag.rsv', `Reserved: ${fl & 3}`, String(fl & 3), 1);
        const life = l.u16(off + 6);
        l.add('icmpv6.nd.ra.router_lifetime', `Router lifetime (s): ${life}`, String(life));
        const reach = l.u32(off + 8);
        l.add('icmpv6.nd.ra.reachable_time', `Reachable time (ms): ${reach}`, String(reach));
        const retrans = l.u32(off + 12);
        l.add('icmpv6.nd.ra.retrans_timer', `Retrans timer (ms): ${retrans}`, String(retrans));
        l.layer.title = 'Internet Control Message Protocol v6 (Router Advertisement)';
        ndOptions(l, off + 16, end);
      }
      l.layer.length = end - off;
      return;
    }
    if (t >= 1 && t <= 4) {
      if (t === 2) {
        const mtu = l.u32(off + 4);
        l.add('icmpv6.mtu', `MTU: ${mtu}`, String(mtu));
      } else if (t === 4) {
        const ptr = l.u32(off + 4);
        l.add('icmpv6.pointer', `Pointer: ${ptr}`, String(ptr));
      } else {
        l.need(off + 8);
        l.add('icmpv6.reserved', `Reserved: ${bytesHex(b, off + 4, off + 8)}`, bytesHex(b, off + 4, off + 8));
      }
      l.layer.length = 8;
      // RFC 4443 §3: as much of the invoking packet as fits.
      if (!quoted && off + 8 < end) dissectIpv6(d, b, off + 8, end, end, true);
      return;
    }
    l.need(off + 8);
    if (off + 8 < end) l.add('icmpv6.data', `Data (${end - off - 8} bytes)`, bytesHex(b, off + 8, end));
    l.layer.length = end - off;
  });
}

/** RFC 4861 §4.6 Neighbor Discovery options (length in 8-octet units, never 0). */
function ndOptions(l: LayerBuilder, start: number, end: number): void {
  const b = l.b;
  let p = start;
  while (p < end) {
    l.add('icmpv6.opt', 'ICMPv6 Option', '1', 1); // FT_NONE: tshark prints 1 for presence
    const ot = l.u8(p);
    l.add('icmpv6.opt.type', `Type: ${ot}`, String(ot), 2);
    const olen = l.u8(p + 1);
    l.add('icmpv6.opt.length', `Length: ${olen} (${olen * 8} bytes)`, String(olen), 2);
    if (olen === 0) {
      l.bad('ICMPv6 option with length 0 (RFC 4861 §4.6)');
      return;
    }
    l.need(p + olen * 8);
    if ((ot === 1 || ot === 2) && olen === 1) {
      const m = formatMacAddress(b, p + 2);
      l.add('icmpv6.opt.linkaddr', `Link-layer address: ${m}`, m, 2);
      l.hidden(ot === 1 ? 'icmpv6.opt.src_linkaddr' : 'icmpv6.opt.target_linkaddr', m);
    } else if (ot === 3 && olen === 4) {
      const pl = b[p + 2]!;
      const pf = b[p + 3]!;
      l.add('icmpv6.opt.prefix.length', `Prefix Length: ${pl}`, String(pl), 2);
      l.add('icmpv6.opt.prefix.flag', `Flag: ${hex(pf, 2)}`, hex(pf, 2), 2);
      l.add('icmpv6.opt.prefix.flag.l', `On-link flag(L): ${pf & 0x80 ? 'Set' : 'Not set'}`, bool((pf & 0x80) !== 0), 3);
      l.add('icmpv6.opt.prefix.flag.a', `Autonomous address-configuration flag(A): ${pf & 0x40 ? 'Set' : 'Not set'}`, bool((pf & 0x40) !== 0), 3);
      l.add('icmpv6.opt.prefix.flag.r', `Router address flag(R): ${pf & 0x20 ? 'Set' : 'Not set'}`, bool((pf & 0x20) !== 0), 3);
      l.add('icmpv6.opt.prefix.flag.reserved', `Reserved: ${pf & 0x1f}`, String(pf & 0x1f), 3);
      l.add('icmpv6.opt.prefix.valid_lifetime', `Valid Lifetime: ${rd32(b, p + 4)}`, String(rd32(b, p + 4)), 2);
      l.add('icmpv6.opt.prefix.preferred_lifetime', `Preferred Lifetime: ${rd32(b, p + 8)}`, String(rd32(b, p + 8)), 2);
      const pre = formatIpv6Address(b, p + 16);
      l.add('icmpv6.opt.prefix', `Prefix: ${pre}`, pre, 2);
    } else if (ot === 5 && olen === 1) {
      l.add('icmpv6.opt.mtu', `MTU: ${rd32(b, p + 4)}`, String(rd32(b, p + 4)), 2);
    }
    p += olen * 8;
  }
}

function dissectSll(d: Dissection, b: Uint8Array, off: number, capEnd: number, v2: boolean): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    // Linux cooked capture: SLL is 16 bytes, SLL2 20 (pcap-linktype(7) LINKTYPE_LINUX_SLL/SLL2).
    const l = new LayerBuilder(d, b, off, capEnd, 'sll', v2 ? 'Linux cooked capture v2' : 'Linux cooked capture v1');
    L = l;
    let proto: number;
    let pkttype: number;
    let hatype: number;
    let halen: number;
    let a: number;
    if (v2) {
      proto = l.u16(off);
      l.add('sll.etype', `Protocol: ${ETHERTYPE_NAMES[proto] ?? 'Unknown'} (${hex(proto, 4)})`, hex(proto, 4));
      l.add('', `Reserved: ${l.u16(off + 2)}`, hex(l.u16(off + 2), 4)); // no filter name in Wireshark
      const ifx = l.u32(off + 4);
      l.add('sll.ifindex', `Interface index: ${ifx}`, String(ifx));
      hatype = l.u16(off + 8);
      pkttype = l.u8(off + 10);
      halen = l.u8(off + 11);
      a = off + 12;
      l.add('sll.hatype', `Link-layer address type: ${hatype}`, String(hatype));
      l.add('sll.pkttype', `Packet type: ${pkttype}`, String(pkttype));
      l.add('sll.halen', `Link-layer address length: ${halen}`, String(halen));
    } else {
      pkttype = l.u16(off);
      hatype = l.u16(off + 2);
      halen = l.u16(off + 4);
      a = off + 6;
      l.add('sll.pkttype', `Packet type: ${pkttype}`, String(pkttype));
      l.add('sll.hatype', `Link-layer address type: ${hatype}`, String(hatype));
      l.add('sll.halen', `Link-layer address length: ${halen}`, String(halen));
      proto = -1;
    }
    l.need(a + 8);
    if (halen === 6 && (hatype === 1 || hatype === 772 || hatype === 778)) {
      const m = formatMacAddress(b, a);
      l.add('sll.src.eth', `Source: ${m}`, m);
      l.add('sll.unused', `Unused: ${bytesHex(b, a + 6, a + 8)}`, bytesHex(b, a + 6, a + 8));
    } else if (halen > 0) {
      const n = Math.min(halen, 8);
      l.add('sll.src.other', `Source: ${bytesHex(b, a, a + n)}`, bytesHex(b, a, a + n));
      if (n < 8) l.add('sll.unused', `Unused: ${bytesHex(b, a + n, a + 8)}`, bytesHex(b, a + n, a + 8));
    }
    const hdr = v2 ? 20 : 16;
    if (!v2) {
      proto = l.u16(off + 14);
      if (proto <= 1500) {
        l.add('sll.ltype', `Protocol: ${hex(proto, 4)}`, hex(proto, 4));
        l.layer.length = hdr;
        dissectData(d, b, off + hdr, capEnd);
        return;
      }
      l.add('sll.etype', `Protocol: ${ETHERTYPE_NAMES[proto] ?? 'Unknown'} (${hex(proto, 4)})`, hex(proto, 4));
    }
    l.layer.length = hdr;
    dissectByEthertype(d, b, off + hdr, capEnd, proto, false);
  });
}

function dissectNull(d: Dissection, b: Uint8Array, off: number, capEnd: number): void {
  let L: LayerBuilder | undefined;
  guard(() => L, () => {
    const l = new LayerBuilder(d, b, off, capEnd, 'null', 'Null/Loopback');
    L = l;
    l.need(off + 4);
    // The family is in the capturing host's byte order; Wireshark (packet-null.c) takes the order that
    // makes it small.
    let fam = (b[off]! | (b[off + 1]! << 8) | (b[off + 2]! << 16) | (b[off + 3]! << 24)) >>> 0;
    if ((fam & 0xffff0000) !== 0 && (fam & 0xff) === 0 && (fam & 0xff00) < 0x600) fam = rd32(b, off);
    l.add('null.family', `Family: ${fam}`, String(fam));
    l.layer.length = 4;
    if (fam === 2) dissectIpv4(d, b, off + 4, capEnd, reportedEnd(d, capEnd));
    else if (fam === 24 || fam === 28 || fam === 30) dissectIpv6(d, b, off + 4, capEnd, reportedEnd(d, capEnd));
    else dissectData(d, b, off + 4, capEnd);
  });
}

function dissectRaw(d: Dissection, b: Uint8Array, off: number, capEnd: number): void {
  // LINKTYPE_RAW: the version nibble says IPv4 or IPv6.
  new LayerBuilder(d, b, off, capEnd, 'raw', 'Raw packet data').layer.length = 0;
  if (capEnd <= off) return;
  const v = b[off]! >>> 4;
  if (v === 4) dissectIpv4(d, b, off, capEnd, reportedEnd(d, capEnd));
  else if (v === 6) dissectIpv6(d, b, off, capEnd, reportedEnd(d, capEnd));
  else dissectData(d, b, off, capEnd);
}

/**
 * Decodes one captured frame into its layers (like tshark's tree). `linktype` is the pcap LINKTYPE of the
 * capture: 1 Ethernet, 0 BSD loopback, 101 raw IP, 228 IPv4, 229 IPv6, 113 Linux SLL, 276 SLL2.
 * Never throws on malformed bytes: broken layers carry `malformed`. An unknown linktype is UNSUPPORTED.
 */
export function dissect(bytes: Uint8Array, linktype: number = DissectLinktype.Ethernet, options: DissectOptions = {}): Dissection {
  if (!(bytes instanceof Uint8Array)) throw new NetworkError('INVALID_ARGUMENT', 'dissect: bytes must be a Uint8Array');
  const d = new Dissection(linktype, bytes.length, options.originalLength ?? bytes.length);
  const end = bytes.length;
  switch (linktype) {
    case DissectLinktype.Ethernet:
      dissectEthernet(d, bytes, 0, end);
      break;
    case DissectLinktype.Raw:
      dissectRaw(d, bytes, 0, end);
      break;
    case DissectLinktype.Ipv4:
      dissectIpv4(d, bytes, 0, end, reportedEnd(d, end));
      break;
    case DissectLinktype.Ipv6:
      dissectIpv6(d, bytes, 0, end, reportedEnd(d, end));
      break;
    case DissectLinktype.LinuxSll:
      dissectSll(d, bytes, 0, end, false);
      break;
    case DissectLinktype.LinuxSll2:
      dissectSll(d, bytes, 0, end, true);
      break;
    case DissectLinktype.Null:
      dissectNull(d, bytes, 0, end);
      break;
    default:
      throw new NetworkError('UNSUPPORTED', `dissect: linktype ${linktype} is not supported`, { field: 'linktype', actual: linktype });
  }
  return d;
}

/** One direction of a TCP conversation, as Wireshark's tcp_analyze_seq tracks it. */
interface TcpDirection {
  /** Relative sequence numbers count from here (-1: not seen yet). */
  base: number;
  /** Window shift from this side's SYN (-1: SYN without the option, -3: SYN not seen). */
  wscale: number;
  synSeen: boolean;
}

interface TcpConversation {
  index: number;
  /** Keyed by 'addr:port' of the sender. */
  dirs: Map<string, TcpDirection>;
}

function seqDiff(a: number, b: number): number {
  return (a - b) >>> 0;
}

/**
 * dissect() with conversation state across frames, for the fields tshark derives from earlier packets:
 * `tcp.stream`, `tcp.seq` / `tcp.ack` / `tcp.nxtseq` (relative), `tcp.window_size` and
 * `tcp.window_size_scalefactor` (RFC 7323 §2.3: the shift from both SYNs), `udp.stream`. Feed it the frames
 * of one capture in order.
 */
export class DissectSession {
  private readonly tcp = new Map<string, TcpConversation>();
  private readonly udp = new Map<string, number>();
  private tcpCount = 0;

  /** Dissects the next frame of the capture. */
  dissect(bytes: Uint8Array, linktype: number = DissectLinktype.Ethernet, options: DissectOptions = {}): Dissection {
    const d = dissect(bytes, linktype, options);
    // The transport layer of the packet itself, not one quoted inside an ICMP error.
    let ipLayer: DissectLayer | undefined;
    let quoted = false;
    let finalDst: string | undefined;
    for (const l of d.layers) {
      if (l.protocol === 'icmp' || l.protocol === 'icmpv6') quoted = true;
      if (l.protocol === 'ip' || l.protocol === 'ipv6') {
        ipLayer = l;
        finalDst = undefined;
      } else if (l.protocol === 'ipv6.routing') {
        // RFC 8200 §4.4 / Wireshark: with segments left, the conversation's destination is the route's last address.
        const addrs = l.fields.filter((f) => f.name === 'ipv6.routing.src.addr');
        const left = l.fields.find((f) => f.name === 'ipv6.routing.segleft');
        if (addrs.length > 0 && left !== undefined && left.value !== '0') finalDst = addrs[addrs.length - 1]!.value;
      } else if ((l.protocol === 'tcp' || l.protocol === 'udp') && ipLayer) {
        const v4 = ipLayer.protocol === 'ip';
        const get = (ly: DissectLayer, n: string): string | undefined => ly.fields.find((f) => f.name === n)?.value;
        const src = get(ipLayer, v4 ? 'ip.src' : 'ipv6.src');
        const dst = finalDst ?? get(ipLayer, v4 ? 'ip.dst' : 'ipv6.dst');
        const sp = get(l, `${l.protocol}.srcport`);
        const dp = get(l, `${l.protocol}.dstport`);
        if (src === undefined || dst === undefined || sp === undefined || dp === undefined) break;
        const a = `${src}|${sp}`;
        const b = `${dst}|${dp}`;
        const key = a < b ? `${a}>${b}` : `${b}>${a}`;
        if (l.protocol === 'udp') {
          // Wireshark finds the conversation after the length check (also for headers quoted in ICMP errors).
          if (!l.fields.some((f) => f.name === 'udp.checksum')) break;
          let idx = this.udp.get(key);
          if (idx === undefined) this.udp.set(key, (idx = this.udp.size));
          l.fields.push({ name: 'udp.stream', value: String(idx), label: `[Stream index: ${idx}]`, hidden: false, depth: 0 });
        } else if (!quoted) this.tcpFields(l, key, a, b);
        break;
      }
    }
    return d;
  }

  private tcpFields(l: DissectLayer, key: string, me: string, peer: string): void {
    const num = (n: string): number | undefined => {
      const f = l.fields.find((x) => x.name === n);
      return f === undefined ? undefined : Number(f.value);
    };
    const seq = num('tcp.seq_raw');
    const ack = num('tcp.ack_raw');
    const flagsF = l.fields.find((x) => x.name === 'tcp.flags');
    const win = num('tcp.window_size_value');
    const len = num('tcp.len');
    if (seq === undefined) return;
    const header = !(ack === undefined || flagsF === undefined || win === undefined || len === undefined);
    const flags = header ? parseInt(flagsF!.value, 16) : 0;
    const syn = (flags & 0x002) !== 0;
    const hasAck = (flags & 0x010) !== 0;
    let conv = this.tcp.get(key);
    const fresh = (): TcpConversation => ({ index: this.tcpCount++, dirs: new Map() });
    if (!conv) this.tcp.set(key, (conv = fresh()));
    else if (syn && !hasAck) {
      // A new SYN with a different ISN on a known 4-tuple starts a new conversation (port reuse).
      const d0 = conv.dirs.get(me);
      if (d0 && d0.base !== -1 && d0.base !== seq) this.tcp.set(key, (conv = fresh()));
    }
    const dir = (k: string): TcpDirection => {
      let x = conv!.dirs.get(k);
      if (!x) conv!.dirs.set(k, (x = { base: -1, wscale: -3, synSeen: false }));
      return x;
    };
    const fwd = dir(me);
    const rev = dir(peer);
    // Wireshark: a SYN sets the base (relative 0); otherwise the first segment seen is relative 1.
    if (syn) {
      fwd.base = seq;
      fwd.synSeen = true;
      const ws = num('tcp.options.wscale.shift');
      fwd.wscale = ws === undefined ? -1 : Math.min(ws, 14);
    } else if (fwd.base === -1) fwd.base = (seq - 1) >>> 0;
    const rseq = seqDiff(seq, fwd.base);
    const push = (name: string, label: string, value: number): void => {
      l.fields.push({ name, value: String(value), label, hidden: false, depth: 0 });
    };
    push('tcp.stream', `[Stream index: ${conv.index}]`, conv.index);
    push('tcp.seq', `Sequence Number: ${rseq}    (relative sequence number)`, rseq);
    // A bogus header length stops Wireshark after the sequence number.
    if (!header || ack === undefined || win === undefined || len === undefined) return;
    if (hasAck && rev.base === -1) rev.base = (ack - 1) >>> 0;
    const rack = hasAck ? seqDiff(ack, rev.base) : ack;
    // SYN and FIN each occupy one sequence number; Wireshark adds one when either is set.
    const nxt = (rseq + len + (flags & 0x003 ? 1 : 0)) >>> 0;
    push('tcp.nxtseq', `[Next Sequence Number: ${nxt}    (relative sequence number)]`, nxt);
    push('tcp.ack', `Acknowledgment Number: ${rack}${hasAck ? '    (relative ack number)' : ''}`, rack);
    if (syn) {
      push('tcp.window_size', `[Calculated window size: ${win}]`, win);
      return;
    }
    // RFC 7323 §2.2: scaling applies only when both SYNs carried the option.
    let factor: number;
    if (!fwd.synSeen || !rev.synSeen) factor = -1;
    else if (fwd.wscale < 0 || rev.wscale < 0) factor = -2;
    else factor = 2 ** fwd.wscale;
    push('tcp.window_size', `[Calculated window size: ${factor > 0 ? win * factor : win}]`, factor > 0 ? win * factor : win);
    push('tcp.window_size_scalefactor', `[Window size scaling factor: ${factor}]`, factor);
  }
}
