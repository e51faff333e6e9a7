// BBRv1 against Linux tcp_bbr.c: constants, the STARTUP → DRAIN → PROBE_BW → PROBE_RTT transitions and the gains.
import { describe, expect, it } from 'vitest';
import { BBR1, BbrCongestionControl } from '../../src/cc/index.js';
import { BbrDriver } from './bbr-driver.js';

const MSS = 1000;
const RATE = 1_250_000; // 10 Mbit/s in bytes/s
const RTT = 40;
const BDP = (RATE * RTT) / 1000; // 50 000 bytes

function toProbeBw(): { bbr: BbrCongestionControl; d: BbrDriver } {
  const bbr = new BbrCongestionControl(10 * MSS, { mss: MSS });
  const d = new BbrDriver(bbr, MSS);
  for (let r = 0; r < 4; r++) d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
  d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2, acks: 1 });
  return { bbr, d };
}

describe('BbrCongestionControl (tcp_bbr.c)', () => {
  it("has Linux's constants", () => {
    expect(BBR1.highGain).toBeCloseTo(2 / Math.LN2, 2); // 2885/1000
    expect(BBR1.drainGain).toBeCloseTo(1 / BBR1.highGain, 12);
    expect(BBR1.pacingGainCycle).toEqual([1.25, 0.75, 1, 1, 1, 1, 1, 1]);
    expect(BBR1.bwRtts).toBe(10);
    expect(BBR1.minRttWinMs).toBe(10_000);
    expect(BBR1.probeRttModeMs).toBe(200);
    expect(BBR1.cwndMinTarget).toBe(4);
    expect(BBR1.fullBwThresh).toBe(1.25);
    expect(BBR1.fullBwCnt).toBe(3);
  });

  it('works with the guide’s bare API', () => {
    const bbr = new BbrCongestionControl(10 * 1460);
    let now = 0;
    for (let i = 0; i < 2000; i++) bbr.onAck(1460, 50, (now += 0.5));
    expect(bbr.btlbw).toBeGreaterThan(0);
    expect(bbr.pacingRate()).toBeGreaterThan(0);
    expect(bbr.cwnd).toBeGreaterThanOrEqual(4 * 1460);
    bbr.onLoss();
    bbr.onAck(1460, 50, (now += 0.5));
    expect(Number.isFinite(bbr.cwnd)).toBe(true);
  });

  it('STARTUP paces at 2/ln2 × btlbw and leaves after 3 rounds without 25 % growth', () => {
    const bbr = new BbrCongestionControl(10 * MSS, { mss: MSS });
    const d = new BbrDriver(bbr, MSS);
    expect(bbr.mode).toBe('STARTUP');
    expect(bbr.inSlowStart).toBe(true);
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(bbr.btlbw).toBe(RATE);
    expect(bbr.pacingGain).toBe(BBR1.highGain);
    expect(bbr.cwndGain).toBe(BBR1.highGain);
    expect(bbr.pacingRate()).toBeCloseTo(RATE * BBR1.highGain * 0.99, 6);
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(bbr.mode).toBe('STARTUP');
    expect(bbr.fullBwCount).toBe(2);
    d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
    expect(bbr.fullBwReached).toBe(true);
    expect(bbr.mode).toBe('DRAIN');
    expect(bbr.pacingGain).toBeCloseTo(1000 / 2885, 12);
    expect(bbr.pacingRate()).toBeCloseTo(RATE * (1000 / 2885) * 0.99, 6);
  });

  it('growing bandwidth keeps STARTUP going', () => {
    const bbr = new BbrCongestionControl(10 * MSS, { mss: MSS });
    const d = new BbrDriver(bbr, MSS);
    let rate = 100_000;
    for (let r = 0; r < 8; r++) d.round({ rate: (rate *= 1.3), rtt: RTT, inflight: 3 * BDP });
    expect(bbr.mode).toBe('STARTUP');
    expect(bbr.fullBwCount).toBe(0);
  });

  it('DRAIN ends once inflight ≤ BDP; PROBE_BW starts at a random phase other than 3/4', () => {
    for (let seed = 0; seed < 20; seed++) {
      let s = seed;
      const bbr = new BbrCongestionControl(10 * MSS, { mss: MSS, random: () => ((s = (s * 7 + 3) % 20) / 20) });
      const d = new BbrDriver(bbr, MSS);
      for (let r = 0; r < 4; r++) d.round({ rate: RATE, rtt: RTT, inflight: 3 * BDP });
      expect(bbr.mode).toBe('DRAIN');
      d.round({ rate: RATE, rtt: RTT, inflight: BDP / 2, acks: 1 });
      expect(bbr.mode).toBe('PROBE_BW');
      expect(bbr.cycleIdx).not.toBe(1);
      expect(bbr.cwndGain).toBe(2);
    }
  });

  it('PROBE_BW cycles 5/4, 3/4, 1 × 6, each phase at least one min_rtt', () => {
    const { bbr, d } = toProbeBw();
    const seen: { idx: number; gain: number; t: number }[] = [];
    for (let r = 0; r < 40; r++) {
      d.round({
        rate: RATE, rtt: RTT, inflight: 2 * BDP, acks: 20,
        each: () => {
          const last = seen[seen.length - 1];
          if (!last || last.idx !== bbr.cycleIdx) seen.push({ idx: bbr.cycleIdx, gain: bbr.pacingGain, t: d.now });
        },
      });
    }
    expect(seen.length).toBeGreaterThan(16);
    for (let i = 1; i < seen.length; i++) {
      expect(seen[i]!.idx).toBe((seen[i - 1]!.idx + 1) % 8);
      expect(seen[i]!.gain).toBe(BBR1.pacingGainCycle[seen[i]!.idx]);
      if (i > 1) expect(seen[i]!.t - seen[i - 1]!.t).toBeGreaterThan(RTT - 1e-9);
    }
    // cwnd = 2 × BDP + quantization budget, never more
    expect(bbr.cwnd).toBeGreaterThan(2 * BDP);
    expect(bbr.cwnd).toBeLessThan(2 * BDP + 20 * MSS);
  });

  it('PROBE_RTT: after 10 s without a lower RTT, 4 packets for ≥ 200 ms and a round, then back with cwnd restored', () => {
    const { bbr, d } = toProbeBw();
    const before = bbr.cwnd;
    while (bbr.mode !== 'PROBE_RTT') d.round({ rate: RATE, rtt: RTT + 1, inflight: BDP, acks: 10 });
    expect(d.now).toBeGreaterThan(10_000);
    expect(bbr.cwnd).toBeLessThanOrEqual(BBR1.cwndMinTarget * MSS);
    expect(bbr.pacingGain).toBe(1);
    const enter = d.now;
    let exit = 0;
    for (let r = 0; r < 20 && !exit; r++) {
      d.round({ rate: RATE, rtt: RTT, inflight: 3 * MSS, acks: 10, each: () => { if (!exit && bbr.mode !== 'PROBE_RTT') exit = d.now; } });
    }
    expect(exit - enter).toBeGreaterThanOrEqual(BBR1.probeRttModeMs);
    expect(bbr.mode).toBe('PROBE_BW');
    expect(bbr.cwnd).toBeGreaterThanOrEqual(before);
  });

  it('recovery: packet conservation for a round, then cwnd restored on exit', () => {
    const { bbr, d } = toProbeBw();
    for (let r = 0; r < 3; r++) d.round({ rate: RATE, rtt: RTT, inflight: 2 * BDP });
    const prior = bbr.cwnd;
    bbr.onLoss(d.now, { lostBytes: MSS, sentTime: d.now - RTT, bytesInFlight: 20 * MSS });
    expect(bbr.inRecovery).toBe(true);
    d.round({ rate: RATE, rtt: RTT, inflight: 20 * MSS, acks: 1, durationMs: 5 });
    expect(bbr.inRecovery).toBe(true);
    expect(bbr.cwnd).toBe(20 * MSS + MSS); // inflight + acked
    expect(bbr.state().extra.packetConservation).toBe(true);
    // an ACK of data sent after the loss ends recovery and restores the cwnd saved at its start
    bbr.onAck(MSS, RTT, d.now + RTT, { sentTime: d.now + 1, bytesInFlight: 20 * MSS });
    expect(bbr.inRecovery).toBe(false);
    expect(bbr.cwnd).toBeGreaterThanOrEqual(prior);
  });

  it('RTO: cwnd = 1 packet, full-bandwidth detection restarts', () => {
    const { bbr, d } = toProbeBw();
    bbr.onRto(d.now + 300);
    expect(bbr.cwnd).toBe(MSS);
    expect(bbr.state().extra.caState).toBe('loss');
    expect(bbr.state().mode).toBe('PROBE_BW');
  });

  it('ignores app-limited samples that would lower the estimate', () => {
    const { bbr, d } = toProbeBw();
    d.round({ rate: RATE / 10, rtt: RTT, inflight: BDP, appLimited: true });
    expect(bbr.maxBw).toBe(RATE);
  });
});
