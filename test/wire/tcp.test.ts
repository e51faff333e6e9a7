import { describe, expect, it } from 'vitest';
import {
  buildTcp, emitTcpRepr, parseTcpOptions, parseTcpRepr, TCP_ACK, TCP_AE, TCP_CWR, TCP_ECE, TCP_FIN, TCP_PSH, TCP_RST, TCP_SYN, TCP_URG,
  TcpFlags, TcpSegment, TcpState, TcpView, tcpReprHeaderLength, type TcpOption, type TcpRepr,
} from '../../src/wire/tcp.js';
import { buildIpv4, Ipv4View } from '../../src/wire/ipv4.js';
import { NetworkError } from '../../src/errors.js';

const IP = { src: '10.0.0.1', dst: '10.0.0.2' };

describe('TcpView', () => {
  const opts: TcpOption[] = [{ type: 'mss', value: 1460 }, { type: 'sackPermitted' }, { type: 'timestamps', value: 0xdeadbeef, echo: 7 }, { type: 'nop' }, { type: 'windowScale', shift: 7 }];
  const seg = buildTcp({ srcPort: 443, dstPort: 51000, seq: 0xfffffff0, ack: 0x12345678, flags: TCP_SYN | TCP_ACK | TCP_ECE | TCP_CWR | TCP_AE, window: 65535, urgentPointer: 9, options: opts }, Uint8Array.of(1, 2, 3), IP);

  it('reads every field and flag', () => {
    const v = new TcpView(seg);
    expect(TcpView.check(seg)).toBe(40);
    expect([v.srcPort, v.dstPort, v.seqNumber, v.ackNumber, v.headerLength, v.window, v.urgentPointer, v.payloadOffset]).toEqual([443, 51000, 0xfffffff0, 0x12345678, 40, 65535, 9, 40]);
    expect([v.fin, v.syn, v.rst, v.psh, v.ack, v.urg, v.ece, v.cwr, v.ae]).toEqual([false, true, false, false, true, false, true, true, true]);
    expect(v.flags).toBe(0x1d2);
    expect([v.mss, v.windowScale, v.sackPermitted, v.tsVal, v.tsEcr, v.sackBlockCount]).toEqual([1460, 7, true, 0xdeadbeef, 7, 0]);
  });

  it('setters for each flag leave the others alone', () => {
    const s = seg.slice();
    const v = new TcpView(s);
    v.fin = true;
    v.rst = true;
    v.psh = true;
    v.urg = true;
    v.syn = false;
    v.ae = false;
    expect(v.flags).toBe(TCP_FIN | TCP_RST | TCP_PSH | TCP_URG | TCP_ACK | TCP_ECE | TCP_CWR);
    expect(v.headerLength).toBe(40);
    v.flags = 0;
    expect(v.headerLength).toBe(40);
    v.seqNumber = 1;
    v.ackNumber = 0xffffffff;
    expect([v.seqNumber, v.ackNumber]).toEqual([1, 0xffffffff]);
  });

  it('checksum with the IPv4 pseudo-header', () => {
    const ip = buildIpv4({ ...IP, protocol: 6 }, seg);
    const iv = new Ipv4View(ip);
    const v = new TcpView(ip, iv.payloadOffset);
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), iv.payloadLength)).toBe(true);
    expect(v.computeChecksum(iv.pseudoHeaderSum(), iv.payloadLength)).toBe(v.checksum);
    v.window = 1;
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), iv.payloadLength)).toBe(false);
    v.fillChecksum(iv.pseudoHeaderSum(), iv.payloadLength);
    expect(v.verifyChecksum(iv.pseudoHeaderSum(), iv.payloadLength)).toBe(true);
  });

  it('SACK blocks', () => {
    const s = buildTcp({ srcPort: 1, dstPort: 2, flags: TCP_ACK, options: [{ type: 'nop' }, { type: 'nop' }, { type: 'sack', blocks: [[10, 20], [30, 40]] }] });
    const v = new TcpView(s);
    expect(v.sackBlockCount).toBe(2);
    expect([v.sackLeft(0), v.sackRight(0), v.sackLeft(1), v.sackRight(1)]).toEqual([10, 20, 30, 40]);
  });

  it('check: short header, bad data offset, malformed options', () => {
    const err = (b: Uint8Array): NetworkError => {
      try {
        TcpView.check(b);
      } catch (e) {
        return e as NetworkError;
      }
      throw new Error('no error');
    };
    expect(err(seg.subarray(0, 19)).detail).toMatchObject({ field: 'tcp.header', expected: 20, actual: 19 });
    const d = seg.slice();
    d[12] = 0x40;
    expect(err(d).detail).toMatchObject({ field: 'tcp.hdr_len', actual: 16 });
    expect(err(seg.subarray(0, 30)).code).toBe('TRUNCATED');
    const o = seg.slice();
    o[21] = 1; // MSS length 1
    expect(err(o).detail).toMatchObject({ field: 'tcp.option_len', actual: 1 });
    const o2 = seg.slice();
    o2[21] = 30; // runs past the header
    expect(err(o2).code).toBe('INVALID_PACKET');
  });

  it('options with a wrong length are ignored by the accessors (Linux tcp_parse_options)', () => {
    const s = buildTcp({ srcPort: 1, dstPort: 2, options: [{ type: 'unknown', kind: 2, data: Uint8Array.of(5) }, { type: 'mss', value: 1200 }] });
    expect(new TcpView(s).mss).toBe(1200);
    expect(parseTcpRepr(s).options[0]).toEqual({ type: 'unknown', kind: 2, data: Uint8Array.of(5) });
  });
});

describe('TCP repr and options', () => {
  it('keeps unknown kinds, EOL ends the list', () => {
    const b = Uint8Array.of(1, 99, 4, 0xaa, 0xbb, 0, 2, 4);
    expect(parseTcpOptions(b, 0, b.length)).toEqual([{ type: 'nop' }, { type: 'unknown', kind: 99, data: Uint8Array.of(0xaa, 0xbb) }, { type: 'eol' }]);
  });
  it('round-trips a repr whose options fill whole words', () => {
    const r: TcpRepr = {
      srcPort: 80, dstPort: 1234, seq: 1, ack: 2, flags: TCP_PSH | TCP_ACK, window: 100, urgentPointer: 0, checksum: 0xabcd, payloadLength: 0,
      options: [{ type: 'nop' }, { type: 'nop' }, { type: 'timestamps', value: 5, echo: 6 }, { type: 'sack', blocks: [[1, 2]] }, { type: 'nop' }, { type: 'nop' }],
    };
    const buf = new Uint8Array(tcpReprHeaderLength(r));
    expect(emitTcpRepr(r, buf)).toBe(44);
    expect(parseTcpRepr(buf)).toEqual(r);
  });
  it('rejects oversize option lists and bad SACKs', () => {
    expect(() => buildTcp({ srcPort: 1, dstPort: 2, options: [{ type: 'unknown', kind: 99, data: new Uint8Array(40) }] })).toThrow(NetworkError);
    expect(() => buildTcp({ srcPort: 1, dstPort: 2, options: [{ type: 'sack', blocks: [] }] })).toThrow(NetworkError);
    expect(() => buildTcp({ srcPort: 70000, dstPort: 2 })).toThrow(NetworkError);
  });
});

describe('TcpFlags, TcpSegment, TcpState (the guide)', () => {
  it('TcpFlags', () => {
    const f = new TcpFlags();
    f.syn = true;
    f.ack = true;
    expect(f.toBits()).toBe(0x12);
    expect(f.toByte()).toBe(0x12);
    expect(f.toString()).toBe('S.');
    expect(TcpFlags.fromBits(0x1ff).toBits()).toBe(0x1ff);
    expect(new TcpFlags().toString()).toBe('none');
  });
  it('TcpSegment serialize/parse with checksum', () => {
    const f = new TcpFlags();
    f.syn = true;
    const s = new TcpSegment(12345, 80, 1000, 0, f, 65535, new Uint8Array(0));
    s.options = [{ type: 'mss', value: 1460 }];
    expect(s.headerLength).toBe(24);
    expect(s.dataOffset).toBe(6);
    const bytes = s.serialize(IP.src, IP.dst);
    expect(bytes.length).toBe(s.totalSize());
    expect(s.verifyChecksum(IP.src, IP.dst)).toBe(true);
    const t = TcpSegment.parse(bytes);
    expect([t.srcPort, t.dstPort, t.seq, t.ack, t.window, t.flags.syn, t.flags.ack, t.checksum]).toEqual([12345, 80, 1000, 0, 65535, true, false, s.checksum]);
    expect(t.options).toEqual([{ type: 'mss', value: 1460 }]);
  });
  it('TcpState names the RFC 9293 states', () => {
    expect(Object.values(TcpState)).toEqual(['CLOSED', 'LISTEN', 'SYN_SENT', 'SYN_RECEIVED', 'ESTABLISHED', 'FIN_WAIT_1', 'FIN_WAIT_2', 'CLOSE_WAIT', 'CLOSING', 'LAST_ACK', 'TIME_WAIT']);
  });
});
