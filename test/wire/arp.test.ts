import { describe, expect, it } from 'vitest';
import { ArpOperation, ArpView, buildArp, emitArpRepr, parseArpRepr } from '../../src/wire/arp.js';
import { NetworkError } from '../../src/errors.js';

describe('ARP', () => {
  const repr = { operation: ArpOperation.Request, senderMac: '00:11:22:33:44:55', senderIp: '10.0.0.1', targetMac: '00:00:00:00:00:00', targetIp: '10.0.0.2' };

  it('builds the RFC 826 layout', () => {
    const b = buildArp(repr);
    expect(Array.from(b.subarray(0, 8))).toEqual([0, 1, 8, 0, 6, 4, 0, 1]);
    expect(Array.from(b.subarray(14, 18))).toEqual([10, 0, 0, 1]);
    expect(parseArpRepr(b)).toEqual(repr);
  });

  it('view fields and setters', () => {
    const b = buildArp(repr);
    const v = new ArpView(b);
    expect(v.isEthernetIpv4).toBe(true);
    expect(v.operation).toBe(1);
    expect(v.senderMac).toBe(0x001122334455);
    expect(v.senderIp).toBe(0x0a000001);
    expect(v.targetIp).toBe(0x0a000002);
    v.operation = ArpOperation.Reply;
    v.targetMac = 0x0000000000ff;
    expect(parseArpRepr(b)).toMatchObject({ operation: 2, targetMac: '00:00:00:00:00:ff' });
    expect([v.senderHardwareOffset, v.senderProtocolOffset, v.targetHardwareOffset, v.targetProtocolOffset]).toEqual([8, 14, 18, 24]);
  });

  it('check: fixed part, then addresses by hlen/plen', () => {
    const b = buildArp(repr);
    expect(ArpView.check(b)).toBe(28);
    try {
      ArpView.check(b.subarray(0, 20));
      expect.unreachable();
    } catch (e) {
      expect(e).toBeInstanceOf(NetworkError);
      expect((e as NetworkError).code).toBe('TRUNCATED');
      expect((e as NetworkError).detail).toMatchObject({ field: 'arp.addresses', expected: 28, actual: 20 });
    }
    expect(() => ArpView.check(b.subarray(0, 5))).toThrow(NetworkError);
  });

  it('non Ethernet/IPv4 ARP is UNSUPPORTED in the repr but checkable', () => {
    const b = new Uint8Array(8 + 2 * (8 + 16));
    b[1] = 6; // IEEE 802
    b[2] = 0x86;
    b[3] = 0xdd;
    b[4] = 8;
    b[5] = 16;
    expect(ArpView.check(b)).toBe(b.length);
    try {
      parseArpRepr(b);
      expect.unreachable();
    } catch (e) {
      expect((e as NetworkError).code).toBe('UNSUPPORTED');
    }
  });

  it('emit needs 28 bytes of room', () => {
    expect(() => emitArpRepr(repr, new Uint8Array(27))).toThrow(NetworkError);
  });
});
