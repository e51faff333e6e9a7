// BBR version 1, following Linux net/ipv4/tcp_bbr.c (the code behind the CACM 2017 paper): its constants,
// its four modes and its per-ACK order (bbr_main → bbr_update_model, pacing rate, cwnd). Linux counts cwnd in
// packets and bandwidth in packets/µs << 24; here cwnd is bytes, bandwidth bytes/s, times ms.
import { CongestionControlBase } from './base.js';
import { AckRateEstimator, newDeliveryRateSample, type DeliveryRateEstimator, type DeliveryRateSample } from './delivery-rate.js';
import { CcRandom, WindowedMinMaxFilter } from './filters.js';
import type { CcAckInfo, CcCommonOptions, CcEcnInfo, CcLossInfo, CcSentInfo, CcStateSnapshot } from './types.js';

/** BBRv1 modes (tcp_bbr.c enum bbr_mode). */
export type BbrMode = 'STARTUP' | 'DRAIN' | 'PROBE_BW' | 'PROBE_RTT';

/** The constants of tcp_bbr.c, as plain numbers. */
export const BBR1 = {
  /** bbr_high_gain = 2885/1000 ≈ 2/ln 2: doubles the sending rate each round in STARTUP. */
  highGain: 2885 / 1000,
  /** bbr_drain_gain = 1000/2885: drains the STARTUP queue in about one round. */
  drainGain: 1000 / 2885,
  /** bbr_cwnd_gain = 2: cwnd = 2·BDP in PROBE_BW, to tolerate delayed/stretched ACKs. */
  cwndGain: 2,
  /** bbr_pacing_gain[]: the 8-phase PROBE_BW cycle. */
  pacingGainCycle: [5 / 4, 3 / 4, 1, 1, 1, 1, 1, 1] as readonly number[],
  /** bbr_cycle_rand = 7: the cycle starts at a random phase other than the 3/4 drain phase. */
  cycleRand: 7,
  /** bbr_bw_rtts = CYCLE_LEN + 2: the max-bandwidth filter spans 10 rounds. */
  bwRtts: 10,
  /** bbr_min_rtt_win_sec = 10: min_rtt older than this triggers PROBE_RTT. */
  minRttWinMs: 10_000,
  /** bbr_probe_rtt_mode_ms = 200. */
  probeRttModeMs: 200,
  /** bbr_cwnd_min_target = 4 packets. */
  cwndMinTarget: 4,
  /** bbr_full_bw_thresh = 5/4 and bbr_full_bw_cnt = 3: the pipe is full after 3 rounds without 25 % growth. */
  fullBwThresh: 5 / 4,
  fullBwCnt: 3,
  /** bbr_pacing_margin_percent = 1: pace 1 % below the estimate so queues do not build. */
  pacingMarginPercent: 1,
  /** Long-term (policer) sampling: bbr_lt_intvl_min_rtts, bbr_lt_loss_thresh (50/256), bbr_lt_bw_ratio (1/8), bbr_lt_bw_diff (4 kbit/s), bbr_lt_bw_max_rtts. */
  ltIntvlMinRtts: 4,
  ltLossThresh: 50 / 256,
  ltBwRatio: 1 / 8,
  ltBwDiffBytesPerSec: 4000 / 8,
  ltBwMaxRtts: 48,
  /** ACK aggregation: bbr_extra_acked_gain = 1, bbr_extra_acked_win_rtts = 5, bbr_extra_acked_max_us = 100 ms. */
  extraAckedGain: 1,
  extraAckedWinRtts: 5,
  extraAckedMaxMs: 100,
  /** TCP_INIT_CWND = 10 packets. */
  initCwndPackets: 10,
} as const;

type CaState = 'open' | 'recovery' | 'loss';

/** BBRv1 congestion control. Units: cwnd bytes, btlbw and pacingRate() bytes/s, times ms. */
export class BbrCongestionControl extends CongestionControlBase {
  readonly algorithm = 'bbr' as const;
  mode: BbrMode = 'STARTUP';
  pacingGain: number = BBR1.highGain;
  cwndGain: number = BBR1.highGain;
  /** Packet-timed round trips so far (tcp_bbr.c rtt_cnt). */
  roundCount = 0;
  roundStart = false;
  fullBwReached = false;
  fullBw = 0;
  fullBwCount = 0;
  cycleIdx = 0;
  /** BBR's own min_rtt (10 s window), ms. */
  bbrMinRtt = Infinity;
  private minRttStamp = 0;
  private probeRttDoneStamp = 0;
  private probeRttRoundDone = false;
  private readonly bwFilter = new WindowedMinMaxFilter(BBR1.bwRtts, 'max');
  private nextRttDelivered = 0;
  private cycleStamp = 0;
  private priorCwnd = 0;
  private packetConservation = false;
  private caState: CaState = 'open';
  private prevCaState: CaState = 'open';
  private idleRestart = false;
  private pacing = 0;
  private hasSeenRtt = false;
  private delivered = 0;
  private pendingLost = 0;
  // Long-term bandwidth sampling (policer detection).
  private ltIsSampling = false;
  private ltRttCnt = 0;
  private ltUseBw = false;
  private ltBw = 0;
  private ltLastDelivered = 0;
  private ltLastStamp = 0;
  private ltLastLost = 0;
  // ACK aggregation (extra_acked).
  private readonly extraAcked = [0, 0];
  private extraAckedWinRtts = 0;
  private extraAckedWinIdx = 0;
  private ackEpochStamp = 0;
  private ackEpochAcked = 0;
  private readonly random: () => number;
  private estimator: DeliveryRateEstimator | null = null;
  private readonly fallback = new AckRateEstimator();
  private readonly fallbackSample: DeliveryRateSample = newDeliveryRateSample();

  constructor(initialCwnd = 10 * 1460, opts: CcCommonOptions = {}) {
    super(initialCwnd, opts);
    this.random = opts.random ?? new CcRandom(0xbb2).fn();
    this.initPacingRateFromRtt();
    this.resetStartupMode();
  }

  /** Bottleneck bandwidth estimate, bytes/s (the long-term rate when a policer was detected; tcp_bbr.c bbr_bw). */
  get btlbw(): number {
    return this.ltUseBw ? this.ltBw : this.bwFilter.value;
  }
  /** The max-filtered bandwidth (bbr_max_bw), bytes/s. */
  get maxBw(): number {
    return this.bwFilter.value;
  }
  /** STARTUP is BBR's slow start. */
  override get inSlowStart(): boolean {
    return this.mode === 'STARTUP';
  }
  /** BDP = btlbw × min_rtt, bytes (0 before the first RTT sample). */
  get bdp(): number {
    return Number.isFinite(this.bbrMinRtt) ? (this.btlbw * this.bbrMinRtt) / 1000 : 0;
  }

  pacingRate(): number {
    return this.pacing;
  }

  override useRateEstimator(estimator: DeliveryRateEstimator): void {
    this.estimator = estimator;
  }

  /** bbr_rate_bytes_per_sec: bw × gain, less the 1 % pacing margin. */
  private rateWithGain(bw: number, gain: number): number {
    return bw * gain * (1 - BBR1.pacingMarginPercent / 100);
  }

  /** bbr_init_pacing_rate_from_rtt: cwnd / srtt (1 ms before any sample) × high_gain. */
  private initPacingRateFromRtt(): void {
    let rtt = 1;
    if (this.srtt > 0) {
      rtt = this.srtt;
      this.hasSeenRtt = true;
    }
    this.pacing = this.rateWithGain((this.cwndBytes * 1000) / rtt, BBR1.highGain);
  }

  /** bbr_set_pacing_rate: never lower the rate in STARTUP (before the pipe is full). */
  private setPacingRate(bw: number, gain: number): void {
    const rate = this.rateWithGain(bw, gain);
    if (!this.hasSeenRtt && this.srtt > 0) this.initPacingRateFromRtt();
    if ((this.fullBwReached || rate > this.pacing) && rate > 0) this.pacing = rate;
  }

  private resetStartupMode(): void {
    this.mode = 'STARTUP';
  }

  /** bbr_reset_probe_bw_mode: enter PROBE_BW at a random phase (never the 3/4 one first). */
  private resetProbeBwMode(now: number): void {
    this.mode = 'PROBE_BW';
    this.cycleIdx = this.pacingCycleLen() - 1 - Math.floor(this.random() * BBR1.cycleRand);
    this.advanceCyclePhase(now);
  }

  private pacingCycleLen(): number {
    return BBR1.pacingGainCycle.length;
  }

  private resetMode(now: number): void {
    if (!this.fullBwReached) this.resetStartupMode();
    else this.resetProbeBwMode(now);
  }

  /** bbr_bdp in packets, rounded up, for a bandwidth and gain; TCP_INIT_CWND before min_rtt is known. */
  private bdpPackets(bw: number, gain: number): number {
    if (!Number.isFinite(this.bbrMinRtt)) return BBR1.initCwndPackets;
    return Math.ceil((bw * this.bbrMinRtt * gain) / 1000 / this.mss);
  }

  /** bbr_tso_segs_goal: about 1 ms of data at the pacing rate (sk_pacing_shift 10), 1–127 segments. */
  private tsoSegsGoal(): number {
    const minSegs = this.pacing < 1_200_000 / 8 ? 1 : 2;
    const bytes = Math.min(this.pacing / 1024, 65536 - 1 - 320);
    return Math.min(Math.max(Math.floor(bytes / this.mss), minSegs), 127);
  }

  /** bbr_quantization_budget: room for TSO/GSO bursts at both ends, an even count, +2 in the 5/4 phase. */
  private quantizationBudget(packets: number): number {
    let cwnd = packets + 3 * this.tsoSegsGoal();
    cwnd = (cwnd + 1) & ~1;
    if (this.mode === 'PROBE_BW' && this.cycleIdx === 0) cwnd += 2;
    return cwnd;
  }

  /** bbr_inflight in bytes: BDP × gain plus the quantization budget. */
  private inflightTarget(bw: number, gain: number): number {
    return this.quantizationBudget(this.bdpPackets(bw, gain)) * this.mss;
  }

  private advanceCyclePhase(now: number): void {
    this.cycleIdx = (this.cycleIdx + 1) % this.pacingCycleLen();
    this.cycleStamp = now;
  }

  /** bbr_is_next_cycle_phase. */
  private isNextCyclePhase(now: number, rs: DeliveryRateSample, losses: number): boolean {
    const isFullLength = now - this.cycleStamp > this.bbrMinRtt;
    if (this.pacingGain === 1) return isFullLength; // steady phases last one min_rtt
    const inflight = rs.priorInFlight;
    const bw = this.maxBw;
    // 5/4: probe until inflight reaches 5/4·BDP (or losses say the pipe is full), at least one min_rtt.
    if (this.pacingGain > 1) return isFullLength && (losses > 0 || inflight >= this.inflightTarget(bw, this.pacingGain));
    // 3/4: drain until the queue is gone or one min_rtt has passed.
    return isFullLength || inflight <= this.inflightTarget(bw, 1);
  }

  /** bbr_update_bw: round counting, long-term sampling and the max-bandwidth filter. */
  private updateBw(now: number, rs: DeliveryRateSample, losses: number): void {
    this.roundStart = false;
    if (rs.delivered <= 0 || rs.interval <= 0) return; // not a valid sample
    if (rs.priorDelivered >= this.nextRttDelivered) {
      this.nextRttDelivered = this.delivered;
      this.roundCount++;
      this.roundStart = true;
      this.packetConservation = false;
    }
    this.ltBwSampling(now, rs, losses);
    const bw = rs.deliveryRate;
    // App-limited samples only raise the estimate (they may under-measure the path).
    if (bw > 0 && (!rs.isAppLimited || bw >= this.maxBw)) this.bwFilter.update(this.roundCount, bw);
  }

  private resetLtBwSamplingInterval(now: number): void {
    this.ltLastStamp = now;
    this.ltLastDelivered = this.delivered;
    this.ltLastLost = this.lostTotal;
    this.ltRttCnt = 0;
  }

  private resetLtBwSampling(now: number): void {
    this.ltBw = 0;
    this.ltUseBw = false;
    this.ltIsSampling = false;
    this.resetLtBwSamplingInterval(now);
  }

  /** bbr_lt_bw_interval_done: two consistent intervals of high loss mean a policer; use their average rate. */
  private ltBwIntervalDone(now: number, bw: number): void {
    if (this.ltBw > 0) {
      const diff = Math.abs(bw - this.ltBw);
      if (diff <= BBR1.ltBwRatio * this.ltBw || this.rateWithGain(diff, 1) <= BBR1.ltBwDiffBytesPerSec) {
        this.ltBw = (bw + this.ltBw) / 2;
        this.ltUseBw = true;
        this.pacingGain = 1;
        this.ltRttCnt = 0;
        return;
      }
    }
    this.ltBw = bw;
    this.resetLtBwSamplingInterval(now);
  }

  /** bbr_lt_bw_sampling: detect token-bucket policers from intervals with ≥ 20 % loss. */
  private ltBwSampling(now: number, rs: DeliveryRateSample, losses: number): void {
    if (this.ltUseBw) {
      if (this.mode === 'PROBE_BW' && this.roundStart && ++this.ltRttCnt >= BBR1.ltBwMaxRtts) {
        this.resetLtBwSampling(now);
        this.resetProbeBwMode(now);
      }
      return;
    }
    // Start at the first loss, so a policer has spent its burst tokens.
    if (!this.ltIsSampling) {
      if (losses <= 0) return;
      this.resetLtBwSamplingInterval(now);
      this.ltIsSampling = true;
    }
    if (rs.isAppLimited) {
      this.resetLtBwSampling(now);
      return;
    }
    if (this.roundStart) this.ltRttCnt++;
    if (this.ltRttCnt < BBR1.ltIntvlMinRtts) return;
    if (this.ltRttCnt > 4 * BBR1.ltIntvlMinRtts) {
      this.resetLtBwSampling(now);
      return;
    }
    if (losses <= 0) return; // end intervals at a loss: the policer's tokens are exhausted
    const lost = this.lostTotal - this.ltLastLost;
    const delivered = this.delivered - this.ltLastDelivered;
    if (delivered <= 0 || lost < BBR1.ltLossThresh * delivered) return;
    const t = now - this.ltLastStamp;
    if (t < 1) return;
    this.ltBwIntervalDone(now, (delivered * 1000) / t);
  }

  /** bbr_update_ack_aggregation: how far ACKs ran ahead of the bandwidth estimate (extra_acked). */
  private updateAckAggregation(now: number, rs: DeliveryRateSample, acked: number): void {
    if (acked <= 0 || rs.delivered <= 0 || rs.interval <= 0) return;
    if (this.roundStart) {
      this.extraAckedWinRtts = Math.min(0x1f, this.extraAckedWinRtts + 1);
      if (this.extraAckedWinRtts >= BBR1.extraAckedWinRtts) {
        this.extraAckedWinIdx = this.extraAckedWinIdx ? 0 : 1;
        this.extraAcked[this.extraAckedWinIdx] = 0;
        this.extraAckedWinRtts = 0;
      }
    }
    let expected = (this.btlbw * (now - this.ackEpochStamp)) / 1000;
    if (this.ackEpochAcked <= expected || this.ackEpochAcked + acked >= (1 << 20) * this.mss) {
      this.ackEpochAcked = 0;
      this.ackEpochStamp = now;
      expected = 0;
    }
    this.ackEpochAcked += acked;
    const extra = Math.min(this.ackEpochAcked - expected, this.cwndBytes);
    if (extra > this.extraAcked[this.extraAckedWinIdx]!) this.extraAcked[this.extraAckedWinIdx] = extra;
  }

  /** bbr_ack_aggregation_cwnd: extra cwnd for aggregated ACKs, at most 100 ms worth of bandwidth. */
  private ackAggregationCwnd(): number {
    if (!this.fullBwReached) return 0;
    const maxAggr = (this.btlbw * BBR1.extraAckedMaxMs) / 1000;
    return Math.min(BBR1.extraAckedGain * Math.max(this.extraAcked[0]!, this.extraAcked[1]!), maxAggr);
  }

  /** bbr_check_full_bw_reached: three rounds without 25 % bandwidth growth. */
  private checkFullBwReached(rs: DeliveryRateSample): void {
    if (this.fullBwReached || !this.roundStart || rs.isAppLimited) return;
    if (this.maxBw >= this.fullBw * BBR1.fullBwThresh) {
      this.fullBw = this.maxBw;
      this.fullBwCount = 0;
      return;
    }
    this.fullBwCount++;
    this.fullBwReached = this.fullBwCount >= BBR1.fullBwCnt;
  }

  /** bbr_check_drain: STARTUP → DRAIN when full; DRAIN → PROBE_BW once inflight ≤ BDP. */
  private checkDrain(now: number): void {
    if (this.mode === 'STARTUP' && this.fullBwReached) {
      this.mode = 'DRAIN';
      this.ssthreshBytes = this.inflightTarget(this.maxBw, 1); // tcp_bbr.c sets snd_ssthresh for inspection
    }
    if (this.mode === 'DRAIN' && this.inflight <= this.inflightTarget(this.maxBw, 1)) this.resetProbeBwMode(now);
  }

  private saveCwnd(): void {
    // bbr_save_cwnd: remember the last good cwnd before recovery or PROBE_RTT.
    if (this.prevCaState === 'open' && this.mode !== 'PROBE_RTT') this.priorCwnd = this.cwndBytes;
    else this.priorCwnd = Math.max(this.priorCwnd, this.cwndBytes);
  }

  /** bbr_check_probe_rtt_done. */
  private checkProbeRttDone(now: number): void {
    if (!(this.probeRttDoneStamp > 0 && now > this.probeRttDoneStamp)) return;
    this.minRttStamp = now; // wait another 10 s before the next PROBE_RTT
    this.cwndBytes = Math.max(this.cwndBytes, this.priorCwnd);
    this.resetMode(now);
  }

  /** bbr_update_min_rtt: the 10 s min_rtt filter and PROBE_RTT (4 packets for max(200 ms, one round)). */
  private updateMinRtt(now: number, rtt: number, rs: DeliveryRateSample): void {
    const expired = now > this.minRttStamp + BBR1.minRttWinMs;
    if (rtt > 0 && (rtt < this.bbrMinRtt || expired)) {
      this.bbrMinRtt = rtt;
      this.minRttStamp = now;
    }
    if (expired && !this.idleRestart && this.mode !== 'PROBE_RTT') {
      this.mode = 'PROBE_RTT';
      this.saveCwnd();
      this.probeRttDoneStamp = 0;
    }
    if (this.mode === 'PROBE_RTT') {
      // Samples taken while inflight is held low are app-limited by construction.
      this.estimator?.markAppLimited(this.inflight);
      if (this.probeRttDoneStamp === 0 && this.inflight <= BBR1.cwndMinTarget * this.mss) {
        this.probeRttDoneStamp = now + BBR1.probeRttModeMs;
        this.probeRttRoundDone = false;
        this.nextRttDelivered = this.delivered;
      } else if (this.probeRttDoneStamp > 0) {
        if (this.roundStart) this.probeRttRoundDone = true;
        if (this.probeRttRoundDone) this.checkProbeRttDone(now);
      }
    }
    if (rs.delivered > 0) this.idleRestart = false;
  }

  /** bbr_update_gains. */
  private updateGains(): void {
    switch (this.mode) {
      case 'STARTUP':
        this.pacingGain = BBR1.highGain;
        this.cwndGain = BBR1.highGain;
        break;
      case 'DRAIN':
        this.pacingGain = BBR1.drainGain;
        this.cwndGain = BBR1.highGain; // keep cwnd while the queue drains
        break;
      case 'PROBE_BW':
        this.pacingGain = this.ltUseBw ? 1 : BBR1.pacingGainCycle[this.cycleIdx]!;
        this.cwndGain = BBR1.cwndGain;
        break;
      case 'PROBE_RTT':
        this.pacingGain = 1;
        this.cwndGain = 1;
        break;
    }
  }

  /** bbr_set_cwnd_to_recover_or_restore: packet conservation for the first round of recovery. */
  private recoverOrRestore(acked: number, losses: number): boolean {
    let cwnd = this.cwndBytes;
    if (losses > 0) cwnd = Math.max(cwnd - losses, this.mss);
    if (this.caState === 'recovery' && this.prevCaState !== 'recovery') {
      this.packetConservation = true;
      this.nextRttDelivered = this.delivered; // start a round now
      cwnd = this.pipe() + acked;
    } else if (this.prevCaState !== 'open' && this.caState === 'open') {
      cwnd = Math.max(cwnd, this.priorCwnd);
      this.packetConservation = false;
    }
    this.prevCaState = this.caState;
    if (this.packetConservation) {
      this.cwndBytes = Math.max(cwnd, this.pipe() + acked);
      return true;
    }
    this.cwndBytes = cwnd;
    return false;
  }

  /** bbr_set_cwnd. */
  private setCwnd(acked: number, losses: number, bw: number, gain: number): void {
    let cwnd = this.cwndBytes;
    if (acked > 0) {
      const done = this.recoverOrRestore(acked, losses);
      cwnd = this.cwndBytes;
      if (!done) {
        let target = this.bdpPackets(bw, gain) * this.mss + this.ackAggregationCwnd();
        target = this.quantizationBudget(Math.ceil(target / this.mss)) * this.mss;
        if (this.fullBwReached) cwnd = Math.min(cwnd + acked, target);
        else if (cwnd < target || this.delivered < BBR1.initCwndPackets * this.mss) cwnd += acked;
        cwnd = Math.max(cwnd, BBR1.cwndMinTarget * this.mss);
      }
    }
    this.cwndBytes = cwnd;
    if (this.mode === 'PROBE_RTT') this.cwndBytes = Math.min(this.cwndBytes, BBR1.cwndMinTarget * this.mss);
  }

  protected override sent(bytes: number, now: number, inflightBefore: number, _info?: CcSentInfo): void {
    // bbr_cwnd_event(CA_EVENT_TX_START): restarting from idle; do not let the idle gap look like low bandwidth.
    if (inflightBefore === 0 && this.sentTotal > bytes) {
      this.idleRestart = true;
      this.ackEpochStamp = now;
      this.ackEpochAcked = 0;
      if (this.mode === 'PROBE_BW') this.setPacingRate(this.btlbw, 1);
      else if (this.mode === 'PROBE_RTT') this.checkProbeRttDone(now);
    }
  }

  protected acked(bytes: number, rtt: number | undefined, now: number, prior: number, info: CcAckInfo | undefined, exited: boolean): void {
    if (exited) this.caState = 'open';
    this.delivered += bytes;
    let rs = info?.rateSample;
    if (!rs) {
      // The guide's bare onAck(bytes, rtt, now): estimate the delivery rate from the ACK stream itself.
      const window = Number.isFinite(this.bbrMinRtt) ? this.bbrMinRtt : (rtt ?? 1);
      rs = this.fallback.onAck(bytes, now, window, this.fallbackSample);
      rs.priorInFlight = prior;
      rs.rtt = rtt ?? -1;
    }
    const losses = this.pendingLost;
    this.pendingLost = 0;
    this.updateBw(now, rs, losses);
    this.updateAckAggregation(now, rs, bytes);
    if (this.mode === 'PROBE_BW' && this.isNextCyclePhase(now, rs, losses)) this.advanceCyclePhase(now);
    this.checkFullBwReached(rs);
    this.checkDrain(now);
    this.updateMinRtt(now, rtt ?? -1, rs);
    this.updateGains();
    const bw = this.btlbw;
    this.setPacingRate(bw, this.pacingGain);
    this.setCwnd(bytes, losses, bw, this.cwndGain);
  }

  protected lost(now: number, bytes: number, _sameEvent: boolean, _info?: CcLossInfo): void {
    this.pendingLost += bytes;
    if (this.caState === 'open') {
      // tcp_enter_recovery → bbr_ssthresh → bbr_save_cwnd; the state becomes TCP_CA_Recovery.
      this.saveCwnd();
      this.caState = 'recovery';
      this.enterRecovery(now);
    }
  }

  protected timeout(now: number): void {
    // tcp_enter_loss: bbr_save_cwnd, cwnd = packets in flight + 1 = 1; bbr_set_state(TCP_CA_Loss): the RTO ends
    // a round, resets full-bandwidth detection and counts as a loss for long-term sampling.
    this.saveCwnd();
    this.cwndBytes = this.mss;
    this.inflight = 0;
    this.caState = 'loss';
    this.prevCaState = 'loss';
    this.fullBw = 0;
    this.roundStart = true;
    this.enterRecovery(now);
    this.ltBwSampling(now, newDeliveryRateSample(), 1);
  }

  protected ecn(): void {
    // tcp_bbr.c (v1) does not react to ECN.
  }

  protected override appLimited(_now: number): void {
    this.estimator?.markAppLimited(this.inflight);
  }

  state(): CcStateSnapshot {
    return this.snapshot(this.mode, {
      btlbw: this.btlbw, maxBw: this.maxBw, minRtt: this.bbrMinRtt, bdp: this.bdp, pacingGain: this.pacingGain, cwndGain: this.cwndGain,
      cycleIdx: this.cycleIdx, roundCount: this.roundCount, fullBwReached: this.fullBwReached, fullBwCount: this.fullBwCount,
      ltUseBw: this.ltUseBw, ltBw: this.ltBw, packetConservation: this.packetConservation, caState: this.caState,
    });
  }
}
