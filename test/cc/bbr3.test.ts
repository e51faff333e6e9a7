// BBRv3 against draft-ietf-ccwg-bbr: constants, Startup → Drain → ProbeBW (DOWN/CRUISE/REFILL/UP), the 2 %
// loss threshold with β = 0.7, the short-term bounds, ECN in Startup.
import { describe, expect, it } from 'vitest';
import { BBR3, Bbr3CongestionControl } from '../../src/cc/index.js';
import { BbrDriver } from './bbr-driver.js';

const MSS = 1000;
const RATE = 1_250_000;
const RTT = 40;
const BDP = (RATE * RTT) / 1000;

function toCruise(): { b: Bbr3CongestionControl; d: BbrDriver } {
  const b = new Bbr3CongestionControl(10 * MSS, { mss: MSS, random: () => 0.5 });
  const d = new BbrDriver(b, MSS);
  for (let r = 0; r < 4; r++) d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
  d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2, acks: 1 });
  return { b, d };
}

describe('Bbr3CongestionControl (draft-ietf-ccwg-bbr)', () => {
  it("has the draft's constants", () => {
    expect(BBR3.startupPacingGain).toBeCloseTo(2.77, 2);
    expect(BBR3.startupCwndGain).toBe(2);
    expect(BBR3.drainPacingGain).toBe(0.35);
    expect(BBR3.lossThresh).toBe(0.02);
    expect(BBR3.beta).toBe(0.7);
    expect(BBR3.headroom).toBe(0.15);
    expect(BBR3.downPacingGain).toBe(0.9);
    expect(BBR3.upPacingGain).toBe(1.25);
    expect(BBR3.upCwndGain).toBe(2.25);
    expect(BBR3.probeRttIntervalMs).toBe(5000);
    expect(BBR3.minPipeCwndPackets).toBe(4);
  });

  it('Startup → Drain after three rounds without 25 % growth, then ProbeBW once inflight ≤ BDP', () => {
    const b = new Bbr3CongestionControl(10 * MSS, { mss: MSS });
    const d = new BbrDriver(b, MSS);
    expect(b.bbrState).toBe('Startup');
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(b.pacingGain).toBeCloseTo(4 * Math.LN2, 12);
    expect(b.pacingRate()).toBeCloseTo(RATE * 4 * Math.LN2 * 0.99, 6);
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(b.bbrState).toBe('Startup');
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(b.bbrState).toBe('Drain');
    expect(b.pacingGain).toBe(0.35);
    expect(b.pacingRate()).toBeCloseTo(RATE * 0.35 * 0.99, 6);
    d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2, acks: 1 });
    expect(b.bbrState.startsWith('ProbeBW')).toBe(true);
    expect(b.bdp).toBeCloseTo(BDP, 6);
  });

  it('CRUISE → REFILL after the probe wait → UP one round later; UP probes at 1.25 with cwnd gain 2.25', () => {
    const { b, d } = toCruise();
    expect(b.bbrState).toBe('ProbeBW_CRUISE');
    const states: string[] = [];
    const t0 = d.now;
    let refillAt = 0;
    for (let r = 0; r < 100 && b.bbrState !== 'ProbeBW_UP'; r++) {
      d.round({
        rate: RATE, rtt: RTT, inflight: BDP / 2,
        each: () => {
          if (states[states.length - 1] !== b.bbrState) states.push(b.bbrState);
          if (!refillAt && b.bbrState === 'ProbeBW_REFILL') refillAt = d.now;
        },
      });
    }
    expect(states).toEqual(['ProbeBW_CRUISE', 'ProbeBW_REFILL', 'ProbeBW_UP']);
    // random() = 0.5: wait 2.5 s, or min(BDP in packets = 50, 63) rounds = 2 s, whichever comes first
    expect(refillAt - t0).toBeGreaterThan(1900);
    expect(refillAt - t0).toBeLessThan(2600);
    expect(b.pacingGain).toBe(1.25);
    expect(b.cwndGain).toBe(2.25);
  });

  it('loss above 2 % while probing sets inflight_longterm from the lost packet and goes DOWN', () => {
    const { b, d } = toCruise();
    while (b.bbrState !== 'ProbeBW_UP') d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2 });
    expect(b.inflightLongterm).toBe(Infinity);
    // 2 kB lost of 60 kB in flight (3.3 %): BBRInflightLongtermFromLostPacket finds where loss crossed 2 %
    b.onLoss(d.now, { lostBytes: 2 * MSS, txInFlight: 60 * MSS, lostBeforeSend: 0, sentTime: d.now - RTT });
    const inflightPrev = 60 * MSS - 2 * MSS;
    const expected = inflightPrev + (0.02 * inflightPrev - 0) / 0.98;
    expect(b.inflightLongterm).toBeCloseTo(Math.max(expected, 0.7 * Math.min(BDP, b.cwnd)), 6);
    expect(b.bbrState).toBe('ProbeBW_DOWN');
    expect(b.pacingGain).toBe(0.9);
  });

  it('loss below 2 % does not touch inflight_longterm', () => {
    const { b, d } = toCruise();
    while (b.bbrState !== 'ProbeBW_UP') d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2 });
    b.onLoss(d.now, { lostBytes: MSS, txInFlight: 60 * MSS, lostBeforeSend: 0, sentTime: d.now - RTT });
    expect(b.inflightLongterm).toBe(Infinity);
    expect(b.bbrState).toBe('ProbeBW_UP');
  });

  it('a lossy round outside probing cuts bw_shortterm to max(bw_latest, β · bw)', () => {
    const { b, d } = toCruise();
    expect(b.bwShortterm).toBe(Infinity);
    d.round({ rate: RATE / 2, rtt: RTT, inflight: BDP / 2, lostPerAck: 100 });
    d.round({ rate: RATE / 2, rtt: RTT, inflight: BDP / 2, acks: 1 });
    expect(b.bwShortterm).toBeCloseTo(0.7 * RATE, 6);
    expect(b.btlbw).toBeCloseTo(0.7 * RATE, 6);
    expect(b.pacingRate()).toBeCloseTo(0.7 * RATE * 0.99, 6);
    expect(b.inflightShortterm).toBeLessThan(Infinity);
  });

  it('leaves Startup when more than half of a round is CE-marked (Linux BBRv3 ECN)', () => {
    const b = new Bbr3CongestionControl(10 * MSS, { mss: MSS });
    const d = new BbrDriver(b, MSS);
    let rate = 100_000;
    for (let r = 0; r < 3; r++) d.round({ rate: (rate *= 2), rtt: RTT, inflight: 3 * BDP, each: () => b.onEcnCe(d.now, { ceBytes: MSS }) });
    expect(b.fullBwReached).toBe(true);
    expect(b.bbrState).not.toBe('Startup');
    expect(b.ecnAlpha).toBeGreaterThan(0);
  });

  it('ProbeRTT every 5 s holds cwnd at max(BDP/2, 4 packets) for ≥ 200 ms', () => {
    const { b, d } = toCruise();
    let enter = 0;
    while (b.bbrState !== 'ProbeRTT') d.round({ rate: RATE, rtt: RTT + 1, inflight: BDP / 2, each: () => { if (!enter && b.bbrState === 'ProbeRTT') enter = d.now; } });
    expect(enter).toBeLessThan(6000);
    expect(b.cwnd).toBeLessThanOrEqual(Math.max(BDP / 2, 4 * MSS) + 1e-6);
    let exit = 0;
    for (let r = 0; r < 20 && !exit; r++) d.round({ rate: RATE, rtt: RTT, inflight: 10 * MSS, each: () => { if (!exit && b.bbrState !== 'ProbeRTT') exit = d.now; } });
    expect(exit - enter).toBeGreaterThanOrEqual(200);
    expect(b.bbrState.startsWith('ProbeBW')).toBe(true);
  });

  it('works with the guide-style bare API', () => {
    const b = new Bbr3CongestionControl(10 * 1460);
    let now = 0;
    for (let i = 0; i < 2000; i++) b.onAck(1460, 50, (now += 0.5));
    expect(b.btlbw).toBeGreaterThan(0);
    b.onLoss();
    b.onAck(1460, 50, (now += 0.5));
    expect(b.cwnd).toBeGreaterThanOrEqual(4 * 1460);
  });
});
