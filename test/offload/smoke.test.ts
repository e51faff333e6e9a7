import { describe, expect, it } from 'vitest';
import { GroContext, GsoContext } from '../../src/offload/index.js';
import { tcpStream, tcpFrame, payloadBytes, checksumsValid } from './frames.js';

describe('smoke', () => {
  it('merges and splits', () => {
    const stream = tcpStream(5, 100);
    const gro = new GroContext();
    const out = stream.flatMap((f) => gro.aggregate(f, 0));
    out.push(...gro.flush());
    expect(out.length).toBe(1);
    expect(out[0]!.gso.segments).toBe(5);
    expect(checksumsValid(out[0]!.frame)).toBe(true);
    const big = tcpFrame({ payload: payloadBytes(500, 3), id: 100, flags: 0x18 });
    const segs = new GsoContext(100).segment(big);
    expect(segs.length).toBe(5);
    for (const s of segs) expect(checksumsValid(s)).toBe(true);
    const gro2 = new GroContext();
    const merged = segs.flatMap((f) => gro2.aggregate(f, 0)).concat(gro2.flush());
    expect(merged.length).toBe(1);
    expect(Buffer.from(merged[0]!.frame).equals(Buffer.from(big))).toBe(true);
  });
});
