// CUBIC against hand-computed values of RFC 9438 (W(t), K, β, fast convergence, Reno-friendly region) and
// Linux tcp_cubic.c's HyStart.
import { describe, expect, it } from 'vitest';
import { CUBIC_BETA_LINUX, CubicCongestionControl } from '../../src/cc/index.js';
import { isNetworkError } from '../../src/errors.js';

const MSS = 1000;

/** A CUBIC that has just reduced from `wmaxSegs` at t = 0 and whose recovery ended at t = 100 ms. */
function afterLoss(wmaxSegs: number, opts: ConstructorParameters<typeof CubicCongestionControl>[1] = {}): CubicCongestionControl {
  const c = new CubicCongestionControl(wmaxSegs * MSS, { mss: MSS, hystart: false, ...opts });
  c.onAck(0, 100, 0); // first RTT sample: srtt = 100 ms
  c.onLoss(0);
  return c;
}

describe('CubicCongestionControl (RFC 9438)', () => {
  it('uses C = 0.4 and β = 0.7 by default; α_cubic = 3(1−β)/(1+β)', () => {
    const c = new CubicCongestionControl(10 * MSS, { mss: MSS });
    expect(c.c).toBe(0.4);
    expect(c.beta).toBe(0.7);
    expect(c.wMax).toBe(0);
    expect(c.inSlowStart).toBe(true);
    expect(afterLoss(100).alphaCubic).toBeCloseTo((3 * 0.3) / 1.7, 12);
  });

  it('multiplicative decrease: cwnd = ssthresh = 0.7 · cwnd, W_max = cwnd (§4.6)', () => {
    const c = afterLoss(100);
    expect(c.cwnd).toBeCloseTo(70 * MSS, 6);
    expect(c.ssthresh).toBeCloseTo(70 * MSS, 6);
    expect(c.wMax).toBeCloseTo(100 * MSS, 6);
    expect(c.inRecovery).toBe(true);
  });

  it('K = ∛(W_max(1−β)/C) and W(t) = C(t−K)³ + W_max (eqs. 1–2)', () => {
    const c = afterLoss(100);
    c.onAck(MSS, 100, 100); // recovery over (one RTT), first congestion-avoidance ACK starts the epoch
    expect(c.epochStartMs).toBe(100);
    expect(c.k).toBeCloseTo(Math.cbrt(75), 9); // 4.2171633 s
    expect(c.k).toBeCloseTo(4.2171633, 6);
    expect(c.wCubic(0)).toBeCloseTo(70 * MSS, 6);
    expect(c.wCubic(c.k)).toBeCloseTo(100 * MSS, 6);
    expect(c.wCubic(5)).toBeCloseTo((0.4 * (5 - Math.cbrt(75)) ** 3 + 100) * MSS, 6);
  });

  it('grows toward W(t + RTT) by (target − cwnd)/cwnd per segment (§4.2)', () => {
    const c = afterLoss(100, { renoFriendly: false });
    c.onAck(MSS, 100, 100);
    // target = W(0 + 0.1 s) = 0.4·(0.1 − 4.2171633)³ + 100 = 72.0843 segments
    const target = 0.4 * (0.1 - Math.cbrt(75)) ** 3 + 100;
    expect(c.cwnd / MSS).toBeCloseTo(70 + (target - 70) / 70, 9);
  });

  it('tracks the cubic curve: concave up to W_max at t = K, convex beyond', () => {
    const c = afterLoss(100, { renoFriendly: false });
    let t = 100;
    c.onAck(MSS, 100, t);
    const start = t;
    const at: Record<string, number> = {};
    while (t - start < 6000) {
      const perAck = 100 / (c.cwnd / MSS); // one window of ACKs per RTT
      t += perAck;
      c.onAck(MSS, 100, t);
      const sec = (t - start) / 1000;
      if (at.k === undefined && sec >= c.k) at.k = c.cwnd / MSS;
      if (at.two === undefined && sec >= 2) at.two = c.cwnd / MSS;
    }
    // cwnd follows W(t + RTT); at t = K it is within a few percent of W_max
    expect(at.k!).toBeGreaterThan(98);
    expect(at.k!).toBeLessThan(103);
    const w = 0.4 * (2.1 - Math.cbrt(75)) ** 3 + 100;
    expect(Math.abs(at.two! - w) / w).toBeLessThan(0.02);
    expect(c.cwnd / MSS).toBeGreaterThan(100); // convex region after K
  });

  it('fast convergence: a loss below the previous W_max sets W_max = cwnd(1+β)/2 (§4.7)', () => {
    const c = afterLoss(100);
    c.onAck(MSS, 100, 100);
    const cwnd = c.cwnd / MSS; // ≈ 70
    c.onLoss(200);
    expect(c.wMax / MSS).toBeCloseTo((cwnd * 1.7) / 2, 6);
    const noFc = afterLoss(100, { fastConvergence: false });
    noFc.onAck(MSS, 100, 100);
    const cw2 = noFc.cwnd / MSS;
    noFc.onLoss(200);
    expect(noFc.wMax / MSS).toBeCloseTo(cw2, 6);
  });

  it("Linux β = 717/1024 is an option", () => {
    const c = afterLoss(100, { beta: CUBIC_BETA_LINUX });
    expect(c.cwnd / MSS).toBeCloseTo(100 * (717 / 1024), 9);
    expect(CUBIC_BETA_LINUX).toBeCloseTo(0.7002, 4);
  });

  it('Reno-friendly region: with a small W_max and short RTT cwnd follows W_est (§4.3)', () => {
    const c = new CubicCongestionControl(10 * MSS, { mss: MSS, hystart: false });
    c.onAck(0, 10, 0);
    c.onLoss(0); // W_max = 10, cwnd = 7
    let t = 10;
    for (let i = 0; i < 400; i++) {
      t += 10 / (c.cwnd / MSS);
      c.onAck(MSS, 10, t);
    }
    const s = c.state();
    const sec = (t - c.epochStartMs) / 1000;
    expect(c.wCubic(sec)).toBeLessThan(c.cwnd);
    expect(c.cwnd).toBeCloseTo(s.extra.wEst as number, 6);
    // W_est grew by about α per RTT: 400 ACKs ≈ 400/8 windows
    expect(c.cwnd / MSS).toBeGreaterThan(7 + 0.5 * 0.529 * (400 / 12));
  });

  it('does not grow while application-limited (§5.8)', () => {
    const c = afterLoss(100);
    c.onAck(MSS, 100, 100);
    const before = c.cwnd;
    for (let i = 0; i < 50; i++) c.onAck(MSS, 100, 200 + i, { appLimited: true });
    for (let i = 0; i < 50; i++) c.onAck(MSS, 100, 300 + i, { cwndLimited: false });
    expect(c.cwnd).toBe(before);
  });

  it('one reduction per window: a loss of a packet sent before the recovery began is the same event', () => {
    const c = new CubicCongestionControl(100 * MSS, { mss: MSS, hystart: false });
    c.onLoss(1000, { sentTime: 900 });
    const after = c.cwnd;
    c.onLoss(1010, { sentTime: 950 });
    expect(c.cwnd).toBe(after);
    c.onLoss(1020, { sentTime: 1005 }); // sent after the recovery began: a new congestion event
    expect(c.cwnd).toBeCloseTo(after * 0.7, 6);
  });

  it('RTO: cwnd = 1 MSS, ssthresh = β·cwnd (§4.8)', () => {
    const c = new CubicCongestionControl(50 * MSS, { mss: MSS });
    c.onRto(10);
    expect(c.cwnd).toBe(MSS);
    expect(c.ssthresh).toBeCloseTo(35 * MSS, 6);
    expect(c.inSlowStart).toBe(true);
  });

  it('ECN-CE is a congestion event like a loss', () => {
    const c = new CubicCongestionControl(50 * MSS, { mss: MSS });
    c.onEcnCe(5, { ceBytes: MSS });
    expect(c.cwnd).toBeCloseTo(35 * MSS, 6);
  });

  it('rejects nonsense windows', () => {
    let err: unknown;
    try {
      new CubicCongestionControl(0, { mss: MSS });
    } catch (e) {
      err = e;
    }
    expect(isNetworkError(err, 'INVALID_ARGUMENT')).toBe(true);
  });
});

describe('HyStart (Linux tcp_cubic.c)', () => {
  it('delay increase: the round minimum of 8 samples above delay_min + clamp(delay_min/8, 4, 16) ms ends slow start', () => {
    const c = new CubicCongestionControl(20 * MSS, { mss: MSS });
    let t = 0;
    for (let i = 0; i < 5; i++) c.onAck(MSS, 100, (t += 5)); // delay_min = 100 ms
    t = 200; // a new (time-based) round
    for (let i = 0; i < 8; i++) c.onAck(MSS, 120, (t += 5));
    expect(c.inSlowStart).toBe(true);
    c.onAck(MSS, 120, (t += 5)); // 9th sample: 120 > 100 + 12.5
    expect(c.hystartExit).toBe('delay');
    // ssthresh = cwnd at detection; the same ACK then continues in congestion avoidance (as in Linux)
    expect(c.cwnd - c.ssthresh).toBeGreaterThanOrEqual(0);
    expect(c.cwnd - c.ssthresh).toBeLessThan(MSS);
    expect(c.inSlowStart).toBe(false);
  });

  it('no exit when the RTT rise stays under the threshold', () => {
    const c = new CubicCongestionControl(20 * MSS, { mss: MSS });
    let t = 0;
    for (let i = 0; i < 5; i++) c.onAck(MSS, 100, (t += 5));
    t = 200;
    for (let i = 0; i < 20; i++) c.onAck(MSS, 110, (t += 5)); // 110 < 112.5
    expect(c.hystartExit).toBe('');
    expect(c.inSlowStart).toBe(true);
  });

  it('ACK train: back-to-back ACKs (≤ 2 ms apart) lasting longer than delay_min end slow start', () => {
    const c = new CubicCongestionControl(20 * MSS, { mss: MSS });
    for (let i = 0; i < 400; i++) c.onPacketSent(MSS, 0);
    let t = 100;
    for (let i = 0; i < 150 && c.inSlowStart; i++) c.onAck(MSS, 100, (t += 1));
    expect(c.hystartExit).toBe('ack-train');
    expect(t).toBeGreaterThan(200); // the train had to outlast delay_min (100 ms)
  });

  it('is off below 16 segments and when disabled', () => {
    const small = new CubicCongestionControl(4 * MSS, { mss: MSS });
    const off = new CubicCongestionControl(20 * MSS, { mss: MSS, hystart: false });
    let t = 0;
    for (const c of [small, off]) {
      for (let i = 0; i < 5; i++) c.onAck(0, 100, (t += 5));
      for (let i = 0; i < 12; i++) c.onAck(0, 200, (t += 5));
      expect(c.hystartExit).toBe('');
    }
  });
});
