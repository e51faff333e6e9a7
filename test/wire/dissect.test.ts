// dissect() API: layers, field lookup, malformed markers, the text tree. (Values are checked against the real
// tshark in dissect-tshark.test.ts.)
import { describe, expect, it } from 'vitest';
import { buildEthernet, buildIpv4, buildIpv6, buildTcp, buildUdp, dissect, DISSECT_MAX_LAYERS, DissectLinktype, DissectSession, TCP_ACK, TCP_SYN } from '../../src/wire/index.js';

const IP = { src: '192.0.2.1', dst: '198.51.100.7' };
const tcpFrame = buildEthernet(
  { dst: 'ff:ff:ff:ff:ff:ff', src: '00:11:22:33:44:55', etherType: 0x0800, vlans: [{ tpid: 0x8100, pcp: 3, dei: false, id: 42 }] },
  buildIpv4({ ...IP, protocol: 6, ttl: 61, dontFragment: true }, buildTcp({ srcPort: 40000, dstPort: 443, seq: 7, flags: TCP_SYN | TCP_ACK, window: 1000, options: [{ type: 'mss', value: 1460 }] }, new Uint8Array(0), IP)),
);

describe('dissect', () => {
  it('decodes the layers in order, with tshark field names and values', () => {
    const d = dissect(tcpFrame, DissectLinktype.Ethernet);
    expect(d.protocols).toBe('eth:ethertype:vlan:ethertype:ip:tcp');
    expect(d.field('frame.protocols')).toBe(d.protocols);
    expect(d.field('eth.src')).toBe('00:11:22:33:44:55');
    expect(d.field('eth.addr')).toBe('ff:ff:ff:ff:ff:ff,00:11:22:33:44:55');
    expect(d.field('vlan.id')).toBe('42');
    expect(d.field('ip.src')).toBe('192.0.2.1');
    expect(d.field('ip.ttl')).toBe('61');
    expect(d.field('ip.flags.df')).toBe('1');
    expect(d.field('ip.flags')).toBe('0x02');
    expect(d.field('tcp.flags')).toBe('0x0012');
    expect(d.field('tcp.flags.syn')).toBe('1');
    expect(d.field('tcp.flags.str')).toBe('·······A··S·');
    expect(d.field('tcp.options.mss_val')).toBe('1460');
    expect(d.field('tcp.len')).toBe('0');
    expect(d.field('udp.srcport')).toBe('');
    expect(d.has('udp.srcport')).toBe(false);
    expect(d.values('tcp.port')).toEqual(['40000', '443']);
    expect(d.field('frame.len')).toBe(String(tcpFrame.length));
    expect(d.malformed).toBe(false);
    const ip = d.layer('ip')!;
    expect([ip.offset, ip.length]).toEqual([18, 20]);
  });

  it('frame.len follows originalLength (a snapped capture)', () => {
    const d = dissect(tcpFrame.subarray(0, 40), 1, { originalLength: tcpFrame.length });
    expect(d.field('frame.len')).toBe(String(tcpFrame.length));
    expect(d.field('frame.cap_len')).toBe('40');
  });

  it('keeps malformed layers with what was read and the reason', () => {
    const cut = dissect(tcpFrame.subarray(0, 18 + 20 + 10), 1);
    expect(cut.field('tcp.srcport')).toBe('40000');
    expect(cut.field('tcp.seq_raw')).toBe('');
    expect(cut.malformed).toBe(true);
    expect(cut.layer('tcp')!.malformed).toMatch(/truncated/);
    expect(cut.layer('ip')!.malformed).toMatch(/total length exceeds/);
    expect(cut.problems.length).toBe(2);
    const bad = tcpFrame.slice();
    bad[18] = 0x65;
    const v = dissect(bad, 1);
    expect(v.field('ip.version')).toBe('6');
    expect(v.layer('ip')!.malformed).toMatch(/version/);
    expect(v.has('tcp.srcport')).toBe(false);
  });

  it('IPv6 extension headers become their own layers', () => {
    const v6 = { src: '2001:db8::1', dst: '2001:db8::2' };
    const p = buildIpv6({ ...v6, nextHeader: 17, extensions: [{ type: 'hopByHop', options: Uint8Array.of(5, 2, 0, 0) }, { type: 'fragment', fragmentOffset: 0, moreFragments: false, identification: 5 }] }, buildUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array(0), v6));
    const d = dissect(p, DissectLinktype.Ipv6);
    expect(d.protocols).toBe('ipv6:ipv6.hopopts:ipv6.fraghdr:udp');
    expect(d.field('ipv6.nxt')).toBe('0');
    expect(d.field('ipv6.fraghdr.ident')).toBe('0x00000005');
    expect(d.field('udp.dstport')).toBe('2');
  });

  it('renders the tree as text', () => {
    const t = dissect(tcpFrame, 1).toText();
    const lines = t.split('\n');
    expect(lines[0]).toMatch(/^Frame: \d+ bytes on wire/);
    expect(lines).toContain('Ethernet II, Src: 00:11:22:33:44:55, Dst: ff:ff:ff:ff:ff:ff');
    expect(lines).toContain('802.1Q Virtual LAN, PRI: 3, DEI: 0, ID: 42');
    expect(lines).toContain('Internet Protocol Version 4, Src: 192.0.2.1, Dst: 198.51.100.7');
    expect(lines).toContain('    Time to Live: 61');
    expect(lines).toContain('        Syn: Set');
    expect(t).not.toContain('ip.addr');
    const m = dissect(tcpFrame.subarray(0, 30), 1).toText();
    expect(m).toMatch(/\[Malformed: truncated/);
  });
});

describe('DissectSession', () => {
  it('numbers streams and makes sequence numbers relative across frames', () => {
    const C = { src: '10.0.0.1', dst: '10.0.0.2' };
    const S = { src: '10.0.0.2', dst: '10.0.0.1' };
    const f = (ip: typeof C, sp: number, dp: number, seq: number, ack: number, flags: number, len = 0) =>
      buildEthernet({ dst: '02:00:00:00:00:01', src: '02:00:00:00:00:02', etherType: 0x0800, vlans: [] }, buildIpv4({ ...ip, protocol: 6 }, buildTcp({ srcPort: sp, dstPort: dp, seq, ack, flags, window: 10, options: flags & TCP_SYN ? [{ type: 'windowScale', shift: 2 }] : [] }, new Uint8Array(len), ip)));
    const s = new DissectSession();
    const a = s.dissect(f(C, 1000, 80, 500, 0, TCP_SYN));
    const b = s.dissect(f(S, 80, 1000, 0xfffffff0, 501, TCP_SYN | TCP_ACK));
    const c = s.dissect(f(C, 1000, 80, 501, 0xfffffff1, TCP_ACK, 7));
    const other = s.dissect(f(C, 2000, 80, 9, 9, TCP_ACK));
    expect([a, b, c, other].map((d) => d.field('tcp.stream'))).toEqual(['0', '0', '0', '1']);
    expect([a, b, c].map((d) => [d.field('tcp.seq'), d.field('tcp.ack'), d.field('tcp.nxtseq')])).toEqual([['0', '0', '1'], ['0', '1', '1'], ['1', '1', '8']]);
    expect(c.field('tcp.window_size_scalefactor')).toBe('4');
    expect(c.field('tcp.window_size')).toBe('40');
    expect(other.field('tcp.window_size_scalefactor')).toBe('-1');
    // The stateless dissect() leaves these out.
    expect(dissect(f(C, 1000, 80, 501, 0xfffffff1, TCP_ACK, 7)).has('tcp.stream')).toBe(false);
  });
});

describe('dissect bounds', () => {
  it('a deep stack of tunnels (IP-in-IP, GRE, VLAN tags) stops at DISSECT_MAX_LAYERS, marked malformed', () => {
    let p = buildUdp({ srcPort: 1, dstPort: 2 }, new Uint8Array(0));
    p = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 17 }, p);
    for (let i = 0; i < 2000 && p.length + 20 < 65535; i++) p = buildIpv4({ src: '10.0.0.1', dst: '10.0.0.2', protocol: 4 }, p);
    const d = dissect(p, DissectLinktype.Ipv4);
    expect(d.layers.length).toBeLessThanOrEqual(DISSECT_MAX_LAYERS + 1);
    expect(d.malformed).toBe(true);
    expect(d.problems.join()).toMatch(/nested layers/);
  });
});
