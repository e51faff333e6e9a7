// Delivery-rate estimation (draft-cheng-iccrg-delivery-rate-estimation) on hand-computed flights, and the
// windowed max filter BBR uses (Linux lib/minmax.c).
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { CcRandom, DeliveryRateEstimator, newDeliveryRatePacketState, WindowedMinMaxFilter } from '../../src/cc/index.js';

const MSS = 1000;

describe('DeliveryRateEstimator', () => {
  it('measures one window per RTT as window/RTT once the pipe is running', () => {
    const est = new DeliveryRateEstimator();
    const pkts = Array.from({ length: 20 }, newDeliveryRatePacketState);
    let inflight = 0;
    // 10 packets sent 1 ms apart from an idle start
    for (let i = 0; i < 10; i++) {
      est.onPacketSent(pkts[i]!, i, MSS, inflight);
      inflight += MSS;
    }
    // each ACK (RTT 100 ms) releases one more packet
    const rates: number[] = [];
    for (let i = 0; i < 20; i++) {
      const now = 100 + i;
      est.beginAck(inflight);
      est.onPacketDelivered(pkts[i]!, now);
      inflight -= MSS;
      const rs = est.generate(100, 100);
      rates.push(rs.valid ? rs.deliveryRate : -1);
      if (i < 10) {
        est.onPacketSent(pkts[i + 10]!, now, MSS, inflight);
        inflight += MSS;
      }
    }
    // first ACK: 1 packet over ack_elapsed = 100 ms
    expect(rates[0]).toBeCloseTo((1 * MSS * 1000) / 100, 9);
    // last ACK of the first flight: 10 packets, interval max(send 9 ms, ack 109 ms) = 109 ms
    expect(rates[9]).toBeCloseTo((10 * MSS * 1000) / 109, 9);
    // second flight: 10 packets per 100 ms = 100 kB/s exactly
    expect(rates[10]).toBeCloseTo(100_000, 6);
    expect(rates[19]).toBeCloseTo(100_000, 6);
  });

  it('discards samples over intervals shorter than the min RTT', () => {
    const est = new DeliveryRateEstimator();
    const p = newDeliveryRatePacketState();
    est.onPacketSent(p, 0, MSS, 0);
    est.beginAck(MSS);
    est.onPacketDelivered(p, 50);
    const rs = est.generate(80, 50);
    expect(rs.valid).toBe(false);
    expect(rs.interval).toBe(-1);
    expect(rs.newlyAcked).toBe(MSS);
  });

  it('counts a packet once (SACKed then cumulatively ACKed) and tracks losses', () => {
    const est = new DeliveryRateEstimator();
    const a = newDeliveryRatePacketState();
    const b = newDeliveryRatePacketState();
    est.onPacketSent(a, 0, MSS, 0);
    est.onPacketSent(b, 1, MSS, MSS);
    expect(b.txInFlight).toBe(2 * MSS);
    est.beginAck(2 * MSS);
    est.onPacketLost(a);
    est.onPacketDelivered(b, 100);
    est.onPacketDelivered(b, 101);
    est.onPacketDelivered(a, 102);
    const rs = est.generate(10, 100);
    expect(est.delivered).toBe(MSS);
    expect(est.lost).toBe(MSS);
    expect(rs.newlyLost).toBe(MSS);
    expect(rs.lost).toBe(MSS); // lost between b's send and now
  });

  it('flags samples taken inside an app-limited bubble until it is delivered', () => {
    const est = new DeliveryRateEstimator();
    const p = Array.from({ length: 4 }, newDeliveryRatePacketState);
    est.onPacketSent(p[0]!, 0, MSS, 0);
    est.markAppLimited(MSS); // bubble ends once delivered > 0 + 1000
    est.onPacketSent(p[1]!, 1, MSS, MSS);
    expect(p[1]!.isAppLimited).toBe(true);
    est.beginAck(2 * MSS);
    est.onPacketDelivered(p[0]!, 100);
    est.onPacketDelivered(p[1]!, 101);
    expect(est.generate(50).isAppLimited).toBe(true);
    expect(est.appLimited).toBe(0); // 2000 delivered > 1000: bubble gone
    est.onPacketSent(p[2]!, 102, MSS, 0);
    expect(p[2]!.isAppLimited).toBe(false);
  });
});

describe('WindowedMinMaxFilter (lib/minmax.c)', () => {
  it('keeps the max of the window and ages it out', () => {
    const f = new WindowedMinMaxFilter(10, 'max');
    f.update(0, 5);
    f.update(1, 9);
    f.update(2, 3);
    expect(f.value).toBe(9);
    f.update(11, 4); // 9 (t=1) is still inside [1, 11]
    expect(f.value).toBe(9);
    f.update(12, 4); // 9 ages out; the best of what remains is 4
    expect(f.value).toBe(4);
  });

  it('matches a brute-force max whenever samples rise or the window is young', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 1000 }), { minLength: 1, maxLength: 60 }), (vals) => {
        const f = new WindowedMinMaxFilter(10, 'max');
        vals.forEach((v, t) => {
          const got = f.update(t, v);
          // never more than the true max of the window, never less than the newest sample
          const inWin = vals.slice(Math.max(0, t - 10), t + 1);
          expect(got).toBeLessThanOrEqual(Math.max(...inWin));
          expect(got).toBeGreaterThanOrEqual(v);
        });
      }),
      { numRuns: 200 },
    );
  });

  it('min filter', () => {
    const f = new WindowedMinMaxFilter(5, 'min');
    f.update(0, 50);
    f.update(1, 40);
    f.update(2, 60);
    expect(f.value).toBe(40);
  });
});

describe('CcRandom', () => {
  it('is deterministic per seed and uniform-ish', () => {
    const a = new CcRandom(7);
    const b = new CcRandom(7);
    const xs = Array.from({ length: 1000 }, () => a.next());
    expect(xs).toEqual(Array.from({ length: 1000 }, () => b.next()));
    const mean = xs.reduce((s, x) => s + x, 0) / xs.length;
    expect(mean).toBeGreaterThan(0.45);
    expect(mean).toBeLessThan(0.55);
    expect(Math.min(...xs)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...xs)).toBeLessThan(1);
  });
});
