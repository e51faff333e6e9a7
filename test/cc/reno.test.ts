// NewReno against hand-computed traces of RFC 5681 and RFC 6582.
import { describe, expect, it } from 'vitest';
import { NewRenoCongestionControl } from '../../src/cc/index.js';

const MSS = 1000;

describe('NewRenoCongestionControl', () => {
  it('slow start: cwnd += min(N, SMSS) per ACK (RFC 5681 eq. 2)', () => {
    const r = new NewRenoCongestionControl(10 * MSS, { mss: MSS });
    r.onAck(MSS, 50, 1);
    r.onAck(3 * MSS, 50, 2); // a stretch ACK still adds one SMSS
    r.onAck(500, 50, 3);
    expect(r.cwnd).toBe(10 * MSS + MSS + MSS + 500);
    expect(r.inSlowStart).toBe(true);
  });

  it('congestion avoidance: one SMSS per cwnd of acknowledged bytes', () => {
    const r = new NewRenoCongestionControl(10 * MSS, { mss: MSS });
    r.onAck(0, 100, 0);
    r.onLoss(0); // ssthresh = cwnd/2 = 5000 (no sends reported: FlightSize = cwnd)
    expect(r.ssthresh).toBe(5 * MSS);
    expect(r.cwnd).toBe(5 * MSS);
    r.onAck(MSS, 100, 100); // recovery ends after one RTT
    expect(r.inRecovery).toBe(false);
    for (let i = 0; i < 3; i++) r.onAck(MSS, 100, 101 + i);
    expect(r.cwnd).toBe(5 * MSS); // 4000 of 5000 counted
    r.onAck(MSS, 100, 110);
    expect(r.cwnd).toBe(6 * MSS);
  });

  it('fast retransmit / fast recovery with partial and full ACKs (RFC 5681 §3.2, RFC 6582 §3.2)', () => {
    const r = new NewRenoCongestionControl(20 * MSS, { mss: MSS });
    for (let i = 0; i < 20; i++) r.onPacketSent(MSS, 0); // snd_nxt = 20000
    r.onAck(2 * MSS, 100, 100); // slow start: +1 SMSS; FlightSize now 18000
    expect(r.cwnd).toBe(21 * MSS);
    r.onDuplicateAck(101);
    r.onDuplicateAck(102);
    expect(r.inRecovery).toBe(false);
    r.onDuplicateAck(103); // third duplicate: ssthresh = 18000/2, cwnd = ssthresh + 3·SMSS
    expect(r.ssthresh).toBe(9 * MSS);
    expect(r.cwnd).toBe(12 * MSS);
    expect(r.inRecovery).toBe(true);
    expect(r.retransmitNeeded).toBe(true);
    r.retransmitNeeded = false;
    r.onDuplicateAck(104); // inflation
    expect(r.cwnd).toBe(13 * MSS);
    r.onPacketSent(MSS, 105);
    r.onPacketSent(MSS, 105); // snd_nxt = 22000, recover stays 20000
    r.onAck(3 * MSS, 100, 200); // partial ACK: deflate by 3000, add back one SMSS
    expect(r.cwnd).toBe(11 * MSS);
    expect(r.inRecovery).toBe(true);
    expect(r.retransmitNeeded).toBe(true);
    r.onAck(15 * MSS, 100, 300); // full ACK (covers recover = 20000): cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS)
    expect(r.inRecovery).toBe(false);
    expect(r.bytesInFlight).toBe(2 * MSS);
    expect(r.cwnd).toBe(3 * MSS);
    // RFC 6582 §3.2 step 1: duplicates that do not cover more than `recover` start no new fast retransmit
    r.onDuplicateAck(301);
    r.onDuplicateAck(302);
    r.onDuplicateAck(303);
    expect(r.inRecovery).toBe(false);
    expect(r.cwnd).toBe(3 * MSS);
    r.onAck(MSS, 100, 400); // now the ACK point is past recover
    for (let i = 0; i < 3; i++) r.onDuplicateAck(401 + i);
    expect(r.inRecovery).toBe(true);
  });

  it('SACK/QUIC-style losses: one reduction per window, no growth in recovery, exit on newer data', () => {
    const r = new NewRenoCongestionControl(40 * MSS, { mss: MSS });
    for (let i = 0; i < 40; i++) r.onPacketSent(MSS, i);
    r.onLoss(100, { sentTime: 1, bytesInFlight: 39 * MSS });
    expect(r.ssthresh).toBe(19.5 * MSS);
    expect(r.cwnd).toBe(19.5 * MSS);
    r.onLoss(101, { sentTime: 2, bytesInFlight: 38 * MSS }); // same window
    expect(r.cwnd).toBe(19.5 * MSS);
    r.onAck(MSS, 100, 102, { sentTime: 30 }); // sent before recovery began: still recovering, no growth
    expect(r.inRecovery).toBe(true);
    expect(r.cwnd).toBe(19.5 * MSS);
    r.onAck(MSS, 100, 250, { sentTime: 150 });
    expect(r.inRecovery).toBe(false);
  });

  it('RTO collapses cwnd to one segment (RFC 5681 §3.1)', () => {
    const r = new NewRenoCongestionControl(20 * MSS, { mss: MSS });
    for (let i = 0; i < 16; i++) r.onPacketSent(MSS, 0);
    r.onRto(1000);
    expect(r.cwnd).toBe(MSS);
    expect(r.ssthresh).toBe(8 * MSS);
    expect(r.state().mode).toBe('slow-start');
  });

  it('ECN-CE halves like a loss (RFC 3168 §6.1.2)', () => {
    const r = new NewRenoCongestionControl(20 * MSS, { mss: MSS });
    r.onEcnCe(5);
    expect(r.cwnd).toBe(10 * MSS);
    expect(r.pacingRate()).toBeGreaterThan(0);
  });
});
