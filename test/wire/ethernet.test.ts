import { describe, expect, it } from 'vitest';
import { buildEthernet, EthernetFrame, EthernetView, EtherType, MacAddress, parseEthernetRepr, emitEthernetRepr, ethernetReprHeaderLength } from '../../src/wire/ethernet.js';
import { NetworkError } from '../../src/errors.js';

function caught(fn: () => unknown): NetworkError {
  try {
    fn();
  } catch (e) {
    if (e instanceof NetworkError) return e;
    throw e;
  }
  throw new Error('expected a NetworkError');
}

describe('EthernetView', () => {
  const frame = buildEthernet({ dst: 'ff:ff:ff:ff:ff:ff', src: '00:11:22:33:44:55', etherType: EtherType.Ipv4, vlans: [] }, Uint8Array.of(1, 2, 3));

  it('reads addresses as 48-bit numbers and the type', () => {
    const v = new EthernetView(frame);
    expect(v.dst).toBe(0xffffffffffff);
    expect(v.src).toBe(0x001122334455);
    expect(v.etherType).toBe(0x0800);
    expect(v.innerEtherType).toBe(0x0800);
    expect(v.vlanCount).toBe(0);
    expect(v.headerLength).toBe(14);
    expect(v.payloadOffset).toBe(14);
    expect(v.isBroadcast).toBe(true);
    expect(v.isMulticast).toBe(true);
  });

  it('setters write in place', () => {
    const f = frame.slice();
    const v = new EthernetView(f);
    v.src = 0x0a0b0c0d0e0f;
    v.etherType = 0x86dd;
    expect(Array.from(f.subarray(6, 14))).toEqual([0x0a, 0x0b, 0x0c, 0x0d, 0x0e, 0x0f, 0x86, 0xdd]);
  });

  it('walks 802.1ad + 802.1Q tags', () => {
    const f = buildEthernet({ dst: '00:00:00:00:00:01', src: '00:00:00:00:00:02', etherType: 0x86dd, vlans: [{ tpid: 0x88a8, pcp: 5, dei: true, id: 300 }, { tpid: 0x8100, pcp: 1, dei: false, id: 4095 }] }, new Uint8Array(2));
    expect(EthernetView.check(f)).toBe(22);
    const v = new EthernetView(f);
    expect(v.vlanCount).toBe(2);
    expect([v.vlanTpid(0), v.vlanPcp(0), v.vlanDei(0), v.vlanId(0)]).toEqual([0x88a8, 5, true, 300]);
    expect([v.vlanTpid(1), v.vlanPcp(1), v.vlanDei(1), v.vlanId(1)]).toEqual([0x8100, 1, false, 4095]);
    expect(v.innerEtherType).toBe(0x86dd);
    expect(v.payloadOffset).toBe(22);
    v.setVlanTci(1, 0x0123);
    expect(v.vlanId(1)).toBe(0x123);
  });

  it('check reports truncation precisely', () => {
    const e = caught(() => EthernetView.check(frame.subarray(0, 13)));
    expect(e.code).toBe('TRUNCATED');
    expect(e.detail).toMatchObject({ offset: 0, field: 'eth.header', expected: 14, actual: 13 });
    const tagged = buildEthernet({ dst: '00:00:00:00:00:01', src: '00:00:00:00:00:02', etherType: 0x0800, vlans: [{ tpid: 0x8100, pcp: 0, dei: false, id: 1 }] });
    const e2 = caught(() => EthernetView.check(tagged.subarray(0, 16)));
    expect(e2.code).toBe('TRUNCATED');
    expect(e2.detail).toMatchObject({ field: 'vlan.tag', offset: 14, expected: 4, actual: 2 });
  });

  it('check rejects a hostile stack of tags', () => {
    const f = new Uint8Array(14 + 4 * 20);
    for (let p = 12; p + 2 <= f.length; p += 4) {
      f[p] = 0x81;
      f[p + 1] = 0x00;
    }
    expect(caught(() => EthernetView.check(f)).code).toBe('INVALID_PACKET');
  });

  it('check honours offset and length', () => {
    const buf = new Uint8Array(100);
    buf.set(frame, 50);
    expect(EthernetView.check(buf, 50, frame.length)).toBe(14);
    expect(caught(() => EthernetView.check(buf, 50, 60)).code).toBe('OUT_OF_BOUNDS');
    expect(caught(() => EthernetView.check(buf, -1)).code).toBe('OUT_OF_BOUNDS');
  });
});

describe('Ethernet repr', () => {
  it('parse(emit(repr)) = repr', () => {
    const r = { dst: '01:00:5e:00:00:fb', src: '02:00:00:00:00:01', etherType: 0x0806, vlans: [{ tpid: 0x8100, pcp: 7, dei: true, id: 10 }] };
    const out = new Uint8Array(ethernetReprHeaderLength(r));
    expect(emitEthernetRepr(r, out)).toBe(18);
    expect(parseEthernetRepr(out)).toEqual(r);
  });
  it('emit checks room and ranges', () => {
    expect(() => emitEthernetRepr({ dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00', etherType: 0x800, vlans: [] }, new Uint8Array(10))).toThrow(NetworkError);
    expect(() => buildEthernet({ dst: '00:00:00:00:00:00', src: '00:00:00:00:00:00', etherType: 0x800, vlans: [{ tpid: 0x8100, pcp: 8, dei: false, id: 1 }] })).toThrow(NetworkError);
  });
});

describe('MacAddress and EthernetFrame (the guide)', () => {
  it('MacAddress basics', () => {
    const m = new MacAddress([0x00, 0x11, 0x22, 0x33, 0x44, 0x55]);
    expect(m.toString()).toBe('00:11:22:33:44:55');
    expect(MacAddress.parse('00:11:22:33:44:55').equals(m)).toBe(true);
    expect(MacAddress.BROADCAST.isBroadcast()).toBe(true);
    expect(MacAddress.BROADCAST.isMulticast()).toBe(true);
    expect(m.isMulticast()).toBe(false);
    expect(m.toNumber()).toBe(0x001122334455);
    expect(() => new MacAddress([1, 2, 3])).toThrow(NetworkError);
    expect(() => new MacAddress([1, 2, 3, 4, 5, 256])).toThrow(NetworkError);
  });
  it('EthernetFrame serialize/parse', () => {
    const f = new EthernetFrame(MacAddress.BROADCAST, '00:11:22:33:44:55', EtherType.Arp, Uint8Array.of(9, 9));
    const bytes = f.serialize();
    expect(bytes.length).toBe(f.totalSize());
    const g = EthernetFrame.parse(bytes);
    expect(g.dst.isBroadcast()).toBe(true);
    expect(g.src.format()).toBe('00:11:22:33:44:55');
    expect(g.etherType).toBe(EtherType.Arp);
    expect(Array.from(g.payload)).toEqual([9, 9]);
    expect(() => EthernetFrame.parse(bytes.subarray(0, 5))).toThrow(NetworkError);
  });
});
