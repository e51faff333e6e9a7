// BBR version 3 as specified by draft-ietf-ccwg-bbr (section numbers below refer to its -04 revision):
// the model (max_bw over two ProbeBW cycles, min_rtt, inflight_longterm/shortterm and bw_shortterm bounds), the
// loss response (2 % loss threshold, β = 0.7), 15 % headroom, and the ProbeBW DOWN/CRUISE/REFILL/UP cycle.
// ECN handling follows Linux's BBRv3 (google/bbr v3 tcp_bbr.c: CE ratio > 50 % is "too high", α EWMA 1/16).
// Units: cwnd bytes, rates bytes/s, times ms.
import { CongestionControlBase } from './base.js';
import { AckRateEstimator, newDeliveryRateSample, type DeliveryRateEstimator, type DeliveryRateSample } from './delivery-rate.js';
import { CcRandom, WindowedMinMaxFilter } from './filters.js';
import type { CcAckInfo, CcCommonOptions, CcEcnInfo, CcLossInfo, CcSentInfo, CcStateSnapshot } from './types.js';

/** BBRv3 states (draft §4.1.1). */
export type Bbr3State = 'Startup' | 'Drain' | 'ProbeBW_DOWN' | 'ProbeBW_CRUISE' | 'ProbeBW_REFILL' | 'ProbeBW_UP' | 'ProbeRTT';

/** The draft's constants (§2.x "Parameters"). */
export const BBR3 = {
  /** BBRStartupPacingGain = 4·ln 2 ≈ 2.77. */
  startupPacingGain: 4 * Math.LN2,
  /** BBRStartupCwndGain = 2. */
  startupCwndGain: 2,
  /** BBRDrainPacingGain = 0.35. */
  drainPacingGain: 0.35,
  /** BBRDefaultCwndGain = 2. */
  defaultCwndGain: 2,
  /** ProbeBW pacing gains: DOWN 0.90, CRUISE 1, REFILL 1, UP 1.25; UP's cwnd gain 2.25. */
  downPacingGain: 0.9,
  upPacingGain: 1.25,
  upCwndGain: 2.25,
  /** BBRLossThresh = 2 %. */
  lossThresh: 0.02,
  /** BBRBeta = 0.7: multiplicative cut of the short-term bounds per lossy round. */
  beta: 0.7,
  /** BBRHeadroom = 0.15: leave 15 % of inflight_longterm free for other flows. */
  headroom: 0.15,
  /** BBRMinPipeCwnd = 4 packets. */
  minPipeCwndPackets: 4,
  /** BBRMaxBwFilterLen = 2 ProbeBW cycles. */
  maxBwFilterLen: 2,
  /** BBRExtraAckedFilterLen = 10 rounds. */
  extraAckedFilterLen: 10,
  /** MinRTTFilterLen = 10 s; ProbeRTTInterval = 5 s; ProbeRTTDuration = 200 ms; BBRProbeRTTCwndGain = 0.5. */
  minRttFilterLenMs: 10_000,
  probeRttIntervalMs: 5_000,
  probeRttDurationMs: 200,
  probeRttCwndGain: 0.5,
  /** BBRPacingMarginPercent = 1. */
  pacingMarginPercent: 1,
  /** Full pipe: 3 rounds without 25 % growth; BBRStartupFullLossCnt = 6 loss events in a round. */
  fullBwThresh: 1.25,
  fullBwCount: 3,
  startupFullLossCnt: 6,
  /** Reno-coexistence probing: at most 63 rounds between bandwidth probes. */
  maxRoundsBetweenProbes: 63,
  /** Linux BBRv3 ECN: α gain 1/16, CE-ratio threshold 50 %, lower-bound factor 1/3. */
  ecnAlphaGain: 1 / 16,
  ecnThresh: 0.5,
  ecnFactor: 1 / 3,
  initCwndPackets: 10,
} as const;

type AckPhase = 'init' | 'probe-starting' | 'probe-feedback' | 'probe-stopping' | 'refilling';
type CaState = 'open' | 'recovery' | 'loss';

/** BBRv3 congestion control (draft-ietf-ccwg-bbr). Units: bytes, bytes/s, ms. */
export class Bbr3CongestionControl extends CongestionControlBase {
  readonly algorithm = 'bbr3' as const;
  bbrState: Bbr3State = 'Startup';
  pacingGain: number = BBR3.startupPacingGain;
  cwndGain: number = BBR3.startupCwndGain;
  roundCount = 0;
  roundStart = false;
  fullBwReached = false;
  fullBwNow = false;
  /** BBR.max_bw, bw_shortterm (∞ when unset), BBR.bw = min of the two; bytes/s. */
  maxBw = 0;
  bwShortterm = Infinity;
  bw = 0;
  /** inflight_longterm (inflight_hi) and inflight_shortterm (inflight_lo), bytes; ∞ when unset. */
  inflightLongterm = Infinity;
  inflightShortterm = Infinity;
  bbrMinRtt = Infinity;
  ecnAlpha = 0;
  private fullBw = 0;
  private fullBwCount = 0;
  private readonly maxBwFilter = new WindowedMinMaxFilter(BBR3.maxBwFilterLen, 'max');
  private cycleCount = 0;
  private nextRoundDelivered = 0;
  private roundsSinceBwProbe = 0;
  private lossRoundDelivered = 0;
  private lossRoundStart = false;
  private lossInRound = false;
  private lossEventsInRound = 0;
  private bwLatest = 0;
  private inflightLatest = 0;
  private minRttStamp = 0;
  private probeRttMinDelay = Infinity;
  private probeRttMinStamp = 0;
  private probeRttExpired = false;
  private probeRttDoneStamp = 0;
  private probeRttRoundDone = false;
  private cycleStamp = 0;
  private ackPhase: AckPhase = 'init';
  private bwProbeWaitMs = 0;
  private bwProbeSamples = false;
  private bwProbeUpRounds = 0;
  private bwProbeUpAcks = 0;
  private probeUpCnt = Infinity;
  private priorCwnd = 0;
  private packetConservation = false;
  private caState: CaState = 'open';
  private prevCaState: CaState = 'open';
  private idleRestart = false;
  private pacing = 0;
  private hasSeenRtt = false;
  private delivered = 0;
  private pendingLost = 0;
  private readonly extraAckedFilter = new WindowedMinMaxFilter(BBR3.extraAckedFilterLen, 'max');
  private extraAckedIntervalStart = 0;
  private extraAckedDelivered = 0;
  private ceInRound = 0;
  private deliveredInRound = 0;
  private ecnInRound = false;
  /** CE-marked fraction of the last completed round. */
  private lastRoundCeRatio = 0;
  private readonly random: () => number;
  private estimator: DeliveryRateEstimator | null = null;
  private readonly fallback = new AckRateEstimator();
  private readonly fallbackSample: DeliveryRateSample = newDeliveryRateSample();
  private rs: DeliveryRateSample = this.fallbackSample;
  private now = 0;

  constructor(initialCwnd = 10 * 1460, opts: CcCommonOptions = {}) {
    super(initialCwnd, opts);
    this.random = opts.random ?? new CcRandom(0xbb3).fn();
    // §5.6.2 BBRInitPacingRate: InitialCwnd / (SRTT or 1 ms) × startup gain.
    this.pacing = this.withMargin(this.cwndBytes * 1000, BBR3.startupPacingGain);
    this.enterStartup();
  }

  /** The bandwidth the model uses (BBR.bw), bytes/s — same name as BBRv1's estimate. */
  get btlbw(): number {
    return this.bw;
  }
  override get inSlowStart(): boolean {
    return this.bbrState === 'Startup';
  }
  /** BBR.bdp = bw × min_rtt, bytes. */
  get bdp(): number {
    return Number.isFinite(this.bbrMinRtt) ? (this.bw * this.bbrMinRtt) / 1000 : 0;
  }

  pacingRate(): number {
    return this.pacing;
  }

  override useRateEstimator(estimator: DeliveryRateEstimator): void {
    this.estimator = estimator;
  }

  private withMargin(bw: number, gain: number): number {
    return bw * gain * (1 - BBR3.pacingMarginPercent / 100);
  }

  private isProbeBw(): boolean {
    return this.bbrState.startsWith('ProbeBW');
  }

  // §5.3.1 Startup, §5.3.2 Drain.
  private enterStartup(): void {
    this.bbrState = 'Startup';
    this.pacingGain = BBR3.startupPacingGain;
    this.cwndGain = BBR3.startupCwndGain;
  }

  private enterDrain(): void {
    this.bbrState = 'Drain';
    this.pacingGain = BBR3.drainPacingGain;
    this.cwndGain = BBR3.startupCwndGain;
  }

  private startRound(): void {
    this.nextRoundDelivered = this.delivered;
  }

  /** §5.5.1 BBRUpdateRound. */
  private updateRound(): void {
    if (this.rs.priorDelivered >= this.nextRoundDelivered && this.rs.newlyAcked > 0) {
      this.startRound();
      this.roundCount++;
      this.roundsSinceBwProbe++;
      this.roundStart = true;
      this.packetConservation = false;
    } else {
      this.roundStart = false;
    }
  }

  /** §5.3.1.2 BBRCheckFullBWReached: three non-app-limited rounds without 25 % growth of the delivery rate. */
  private checkFullBwReached(): void {
    const rs = this.rs;
    if (this.fullBwNow || !this.roundStart || rs.isAppLimited || !rs.valid) return;
    if (rs.deliveryRate >= this.fullBw * BBR3.fullBwThresh) {
      this.resetFullBw();
      this.fullBw = rs.deliveryRate;
      return;
    }
    this.fullBwCount++;
    this.fullBwNow = this.fullBwCount >= BBR3.fullBwCount;
    if (this.fullBwNow) this.fullBwReached = true;
  }

  private resetFullBw(): void {
    this.fullBw = 0;
    this.fullBwCount = 0;
    this.fullBwNow = false;
  }

  /**
   * §5.3.1.3 BBRCheckStartupHighLoss: leave Startup when a round in recovery lost more than 2 % with at least
   * six loss events; inflight_longterm starts at max(BDP, inflight_latest). Linux BBRv3 does the same for a
   * CE ratio above 50 %.
   */
  private checkStartupHighLoss(): void {
    if (this.fullBwReached) return;
    if (this.rs.newlyLost > 0) this.lossEventsInRound++;
    if (this.lossRoundStart) {
      const lossy = this.caState !== 'open' && this.lossEventsInRound >= BBR3.startupFullLossCnt && this.isInflightTooHigh();
      const ecnHigh = this.lastRoundCeRatio > BBR3.ecnThresh;
      if (lossy || ecnHigh) {
        this.fullBwReached = true;
        this.inflightLongterm = Math.max(this.bdpMultiple(1), this.inflightLatest);
      }
      this.lossEventsInRound = 0;
    }
  }

  private checkStartupDone(): void {
    this.checkStartupHighLoss();
    if (this.bbrState === 'Startup' && this.fullBwReached) this.enterDrain();
  }

  /** §5.3.2 BBRCheckDrainDone. */
  private checkDrainDone(): void {
    if (this.bbrState === 'Drain' && this.inflight <= this.inflightWithGain(1)) this.enterProbeBw();
  }

  // §5.3.3 ProbeBW.
  private enterProbeBw(): void {
    this.cwndGain = BBR3.defaultCwndGain;
    this.startProbeBwDown();
  }

  private pickProbeWait(): void {
    // §5.3.3.5.3: randomise so flows do not synchronise their probes: 0–1 rounds and 2–3 s.
    this.roundsSinceBwProbe = Math.floor(this.random() * 2);
    this.bwProbeWaitMs = 2000 + this.random() * 1000;
  }

  private startProbeBwDown(): void {
    this.resetCongestionSignals();
    this.probeUpCnt = Infinity;
    this.pickProbeWait();
    this.cycleStamp = this.now;
    this.ackPhase = 'probe-stopping';
    this.startRound();
    this.bbrState = 'ProbeBW_DOWN';
    this.pacingGain = BBR3.downPacingGain;
    this.cwndGain = BBR3.defaultCwndGain;
  }

  private startProbeBwCruise(): void {
    this.bbrState = 'ProbeBW_CRUISE';
    this.pacingGain = 1;
    this.cwndGain = BBR3.defaultCwndGain;
  }

  private startProbeBwRefill(): void {
    this.resetShortTermModel();
    this.bwProbeUpRounds = 0;
    this.bwProbeUpAcks = 0;
    this.ackPhase = 'refilling';
    this.startRound();
    this.bbrState = 'ProbeBW_REFILL';
    this.pacingGain = 1;
    this.cwndGain = BBR3.defaultCwndGain;
  }

  private startProbeBwUp(): void {
    this.ackPhase = 'probe-starting';
    this.startRound();
    this.resetFullBw();
    this.fullBw = this.rs.deliveryRate;
    this.bbrState = 'ProbeBW_UP';
    this.pacingGain = BBR3.upPacingGain;
    this.cwndGain = BBR3.upCwndGain;
    this.raiseInflightLongtermSlope();
  }

  /** §5.3.3.6 BBRUpdateProbeBWCyclePhase. */
  private updateProbeBwCyclePhase(): void {
    if (!this.fullBwReached) return;
    this.adaptLongtermModel();
    if (!this.isProbeBw()) return;
    switch (this.bbrState) {
      case 'ProbeBW_DOWN':
        if (this.isTimeToProbeBw()) return;
        if (this.isTimeToCruise()) this.startProbeBwCruise();
        break;
      case 'ProbeBW_CRUISE':
        if (this.isTimeToProbeBw()) return;
        break;
      case 'ProbeBW_REFILL':
        // One round of REFILL fills the pipe at the estimated rate; then probe upward.
        if (this.roundStart) {
          this.bwProbeSamples = true;
          this.startProbeBwUp();
        }
        break;
      case 'ProbeBW_UP':
        if (this.isTimeToGoDown()) this.startProbeBwDown();
        break;
      default:
        break;
    }
  }

  /** §5.3.3.6 BBRIsTimeToCruise: the queue from probing is gone (inflight ≤ BDP) and there is headroom. */
  private isTimeToCruise(): boolean {
    if (this.inflight > this.inflightWithHeadroom()) return false;
    return this.inflight <= this.inflightWithGain(1);
  }

  /** §5.3.3.6 BBRIsTimeToGoDown. */
  private isTimeToGoDown(): boolean {
    if (this.cwndLimitedNow() && this.cwndBytes >= this.inflightLongterm) {
      // Bandwidth is limited by inflight_longterm, not the path: keep probing until it grows.
      this.resetFullBw();
      this.fullBw = this.rs.deliveryRate;
    } else if (this.fullBwNow) {
      return true;
    }
    return false;
  }

  private cwndLimitedNow(): boolean {
    return this.inflight + this.mss > this.cwndBytes;
  }

  /** §5.3.3.5.3 BBRIsTimeToProbeBW: after 2–3 s, or as many rounds as Reno would need (≤ 63). */
  private isTimeToProbeBw(): boolean {
    if (this.now - this.cycleStamp > this.bwProbeWaitMs || this.isRenoCoexistenceProbeTime()) {
      this.startProbeBwRefill();
      return true;
    }
    return false;
  }

  private isRenoCoexistenceProbeTime(): boolean {
    const renoRounds = Math.min(this.bdpMultiple(1), this.cwndBytes) / this.mss;
    return this.roundsSinceBwProbe >= Math.min(renoRounds, BBR3.maxRoundsBetweenProbes);
  }

  /** §5.3.3.4 BBRRaiseInflightLongtermSlope: grow inflight_longterm exponentially per round of UP. */
  private raiseInflightLongtermSlope(): void {
    const growthThisRound = 2 ** this.bwProbeUpRounds; // packets
    this.bwProbeUpRounds = Math.min(this.bwProbeUpRounds + 1, 30);
    this.probeUpCnt = Math.max(this.cwndBytes / this.mss / growthThisRound, 1); // packets acked per +1 packet
  }

  /** §5.3.3.4 BBRProbeInflightLongtermUpward. */
  private probeInflightLongtermUpward(): void {
    if (!this.cwndLimitedNow() || this.cwndBytes < this.inflightLongterm) return;
    this.bwProbeUpAcks += this.rs.newlyAcked / this.mss;
    if (this.bwProbeUpAcks >= this.probeUpCnt) {
      const delta = Math.floor(this.bwProbeUpAcks / this.probeUpCnt);
      this.bwProbeUpAcks -= delta * this.probeUpCnt;
      this.inflightLongterm += delta * this.mss;
    }
    if (this.roundStart) this.raiseInflightLongtermSlope();
  }

  /** §5.3.3.4 BBRAdaptLongTermModel (BBRAdaptUpperBounds). */
  private adaptLongtermModel(): void {
    if (this.ackPhase === 'probe-starting' && this.roundStart) this.ackPhase = 'probe-feedback';
    if (this.ackPhase === 'probe-stopping' && this.roundStart) {
      // End of the samples from the last probe (one round after it stopped): a new cycle for the max-bw
      // filter, once per probe (Linux BBRv3 bbr_adapt_upper_bounds resets ack_phase and bw_probe_samples).
      this.bwProbeSamples = false;
      this.ackPhase = 'init';
      if (this.isProbeBw() && !this.rs.isAppLimited) this.cycleCount++;
    }
    if (!this.checkInflightTooHigh()) {
      if (this.inflightLongterm === Infinity) return;
      if (this.rs.txInFlight > this.inflightLongterm) this.inflightLongterm = this.rs.txInFlight;
      if (this.bbrState === 'ProbeBW_UP') this.probeInflightLongtermUpward();
    }
  }

  /** §5.3.3.5.1 IsInflightTooHigh: loss above 2 % of what was in flight, or (Linux v3) CE above 50 %. */
  private isInflightTooHigh(): boolean {
    const rs = this.rs;
    if (rs.lost > rs.txInFlight * BBR3.lossThresh) return true;
    return this.deliveredInRound > 0 && this.ecnInRound && this.ceInRound / this.deliveredInRound > BBR3.ecnThresh;
  }

  private checkInflightTooHigh(): boolean {
    if (this.isInflightTooHigh()) {
      if (this.bwProbeSamples) this.handleInflightTooHigh();
      return true;
    }
    return false;
  }

  /** §5.3.3.5.1 BBRHandleInflightTooHigh: inflight_longterm = max(tx_in_flight, β × target), then go DOWN. */
  private handleInflightTooHigh(): void {
    this.bwProbeSamples = false; // react once per probe
    if (!this.rs.isAppLimited) {
      this.inflightLongterm = Math.max(this.rs.txInFlight, this.targetInflight() * BBR3.beta);
    }
    if (this.bbrState === 'ProbeBW_UP') this.startProbeBwDown();
  }

  private targetInflight(): number {
    return Math.min(this.bdpMultiple(1), this.cwndBytes);
  }

  /**
   * §5.3.3.5.2 BBRHandleLostPacket: per lost packet while probing, estimate the inflight at which loss crossed
   * 2 % (BBRInflightLongtermFromLostPacket) and react at once, without waiting for the round to end.
   */
  private handleLostPacket(size: number, info?: CcLossInfo): void {
    if (!this.bwProbeSamples || info?.txInFlight === undefined) return;
    const rs = this.rs;
    rs.txInFlight = info.txInFlight;
    rs.lost = this.lostTotal - (info.lostBeforeSend ?? this.lostTotal - size);
    rs.isAppLimited = info.appLimited ?? false;
    if (rs.lost > rs.txInFlight * BBR3.lossThresh) {
      const inflightPrev = rs.txInFlight - size;
      const lostPrev = rs.lost - size;
      const lostPrefix = (BBR3.lossThresh * inflightPrev - lostPrev) / (1 - BBR3.lossThresh);
      rs.txInFlight = inflightPrev + lostPrefix;
      this.handleInflightTooHigh();
    }
  }

  // §5.5.10 short-term model (lower bounds).
  private resetCongestionSignals(): void {
    this.lossInRound = false;
    this.bwLatest = 0;
    this.inflightLatest = 0;
  }

  private resetShortTermModel(): void {
    this.bwShortterm = Infinity;
    this.inflightShortterm = Infinity;
  }

  /** §5.5.10 BBRUpdateLatestDeliverySignals. */
  private updateLatestDeliverySignals(): void {
    const rs = this.rs;
    this.lossRoundStart = false;
    this.bwLatest = Math.max(this.bwLatest, rs.deliveryRate);
    this.inflightLatest = Math.max(this.inflightLatest, rs.delivered);
    if (rs.priorDelivered >= this.lossRoundDelivered && rs.newlyAcked > 0) {
      this.lossRoundDelivered = this.delivered;
      this.lossRoundStart = true;
    }
  }

  private advanceLatestDeliverySignals(): void {
    if (this.lossRoundStart) {
      this.bwLatest = this.rs.deliveryRate;
      this.inflightLatest = this.rs.delivered;
    }
  }

  /** §5.5.10 BBRUpdateCongestionSignals (+ Linux v3 ECN α per round). */
  private updateCongestionSignals(): void {
    this.updateMaxBw();
    if (this.rs.newlyLost > 0) this.lossInRound = true;
    if (!this.lossRoundStart) return;
    if (this.deliveredInRound > 0) {
      const ceRatio = this.ceInRound / this.deliveredInRound;
      this.lastRoundCeRatio = ceRatio;
      this.ecnAlpha = (1 - BBR3.ecnAlphaGain) * this.ecnAlpha + BBR3.ecnAlphaGain * ceRatio;
    }
    this.adaptLowerBoundsFromCongestion();
    this.lossInRound = false;
    this.ecnInRound = false;
    this.ceInRound = 0;
    this.deliveredInRound = 0;
  }

  /** §5.5.10 BBRAdaptLowerBoundsFromCongestion: once per round with loss (or CE), outside bandwidth probing. */
  private adaptLowerBoundsFromCongestion(): void {
    if (this.isProbingBw()) return;
    if (this.lossInRound || this.ecnInRound) {
      if (this.bwShortterm === Infinity) this.bwShortterm = this.maxBw;
      if (this.inflightShortterm === Infinity) this.inflightShortterm = this.cwndBytes;
      if (this.lossInRound) {
        // BBRLossLowerBounds: cut by β, but never below what the last round actually delivered.
        this.bwShortterm = Math.max(this.bwLatest, BBR3.beta * this.bwShortterm);
        this.inflightShortterm = Math.max(this.inflightLatest, BBR3.beta * this.inflightShortterm);
      }
      if (this.ecnInRound) {
        // Linux BBRv3 bbr_ecn_lower_bounds: shrink inflight_lo by α × 1/3.
        this.inflightShortterm = Math.min(this.inflightShortterm, this.inflightShortterm * (1 - this.ecnAlpha * BBR3.ecnFactor));
      }
    }
  }

  private isProbingBw(): boolean {
    return this.bbrState === 'Startup' || this.bbrState === 'ProbeBW_REFILL' || this.bbrState === 'ProbeBW_UP';
  }

  /** §5.5.5 BBRUpdateMaxBw. */
  private updateMaxBw(): void {
    this.updateRound();
    const rs = this.rs;
    if (rs.valid && rs.deliveryRate > 0 && (rs.deliveryRate >= this.maxBw || !rs.isAppLimited)) {
      this.maxBw = this.maxBwFilter.update(this.cycleCount, rs.deliveryRate);
    }
  }

  /** §5.5.9 BBRUpdateACKAggregation: extra_acked over a 10-round window. */
  private updateAckAggregation(): void {
    const interval = this.now - this.extraAckedIntervalStart;
    let expected = (this.bw * interval) / 1000;
    if (this.extraAckedDelivered <= expected) {
      this.extraAckedDelivered = 0;
      this.extraAckedIntervalStart = this.now;
      expected = 0;
    }
    this.extraAckedDelivered += this.rs.newlyAcked;
    const extra = Math.min(this.extraAckedDelivered - expected, this.cwndBytes);
    this.extraAckedFilter.update(this.roundCount, extra);
  }

  /** §5.5.4–5.5.6 BBRUpdateMinRTT and BBRCheckProbeRTT. */
  private updateMinRtt(rtt: number): void {
    this.probeRttExpired = this.now > this.probeRttMinStamp + BBR3.probeRttIntervalMs;
    if (rtt > 0 && (rtt < this.probeRttMinDelay || this.probeRttExpired)) {
      this.probeRttMinDelay = rtt;
      this.probeRttMinStamp = this.now;
    }
    const minRttExpired = this.now > this.minRttStamp + BBR3.minRttFilterLenMs;
    if (this.probeRttMinDelay < this.bbrMinRtt || minRttExpired) {
      this.bbrMinRtt = this.probeRttMinDelay;
      this.minRttStamp = this.probeRttMinStamp;
    }
  }

  private checkProbeRtt(): void {
    if (this.bbrState !== 'ProbeRTT' && this.probeRttExpired && !this.idleRestart) {
      this.bbrState = 'ProbeRTT';
      this.pacingGain = 1;
      this.cwndGain = BBR3.probeRttCwndGain;
      this.saveCwnd();
      this.probeRttDoneStamp = 0;
      this.ackPhase = 'probe-stopping';
      this.startRound();
    }
    if (this.bbrState === 'ProbeRTT') this.handleProbeRtt();
    if (this.rs.delivered > 0) this.idleRestart = false;
  }

  private probeRttCwnd(): number {
    return Math.max(this.bdpMultiple(BBR3.probeRttCwndGain), BBR3.minPipeCwndPackets * this.mss);
  }

  private handleProbeRtt(): void {
    this.estimator?.markAppLimited(this.inflight); // ignore low-rate samples while inflight is held down
    if (this.probeRttDoneStamp === 0 && this.inflight <= this.probeRttCwnd()) {
      this.probeRttDoneStamp = this.now + BBR3.probeRttDurationMs;
      this.probeRttRoundDone = false;
      this.startRound();
    } else if (this.probeRttDoneStamp !== 0) {
      if (this.roundStart) this.probeRttRoundDone = true;
      if (this.probeRttRoundDone) this.checkProbeRttDone();
    }
  }

  private checkProbeRttDone(): void {
    if (this.probeRttDoneStamp !== 0 && this.now > this.probeRttDoneStamp) {
      this.probeRttMinStamp = this.now; // schedule the next ProbeRTT
      this.restoreCwnd();
      this.exitProbeRtt();
    }
  }

  private exitProbeRtt(): void {
    this.resetShortTermModel();
    if (this.fullBwReached) {
      this.startProbeBwDown();
      this.startProbeBwCruise();
    } else {
      this.enterStartup();
    }
  }

  private saveCwnd(): void {
    if (this.caState === 'open' && this.bbrState !== 'ProbeRTT') this.priorCwnd = this.cwndBytes;
    else this.priorCwnd = Math.max(this.priorCwnd, this.cwndBytes);
  }

  private restoreCwnd(): void {
    this.cwndBytes = Math.max(this.cwndBytes, this.priorCwnd);
  }

  /** §5.6.4.2 BBRBDPMultiple: gain × bw × min_rtt (the initial window before an RTT sample). */
  private bdpMultiple(gain: number): number {
    if (!Number.isFinite(this.bbrMinRtt)) return BBR3.initCwndPackets * this.mss;
    return (gain * this.bw * this.bbrMinRtt) / 1000;
  }

  /** §5.6.4.2 BBRQuantizationBudget: offload budget, the 4-packet floor, +2 packets in ProbeBW_UP. */
  private quantizationBudget(inflight: number): number {
    const sendQuantum = this.pacing < 1_200_000 / 8 ? this.mss : Math.min(Math.max(this.pacing / 1000, 2 * this.mss), 65536);
    let v = Math.max(inflight, 3 * sendQuantum, BBR3.minPipeCwndPackets * this.mss);
    if (this.bbrState === 'ProbeBW_UP') v += 2 * this.mss;
    return v;
  }

  private inflightWithGain(gain: number): number {
    return this.quantizationBudget(this.bdpMultiple(gain));
  }

  /** §5.6.4.6 BBRInflightWithHeadroom: inflight_longterm less 15 % (at least one packet), ≥ 4 packets. */
  private inflightWithHeadroom(): number {
    if (this.inflightLongterm === Infinity) return Infinity;
    const headroom = Math.max(this.mss, BBR3.headroom * this.inflightLongterm);
    return Math.max(this.inflightLongterm - headroom, BBR3.minPipeCwndPackets * this.mss);
  }

  /** §5.6.4.4 recovery: packet conservation for the first round, restore on exit. */
  private modulateCwndForRecovery(losses: number): void {
    if (losses > 0) this.cwndBytes = Math.max(this.cwndBytes - losses, this.mss);
    if (this.caState === 'recovery' && this.prevCaState !== 'recovery') {
      this.packetConservation = true;
      this.startRound();
      this.cwndBytes = this.pipe() + Math.max(this.rs.newlyAcked, this.mss);
    } else if (this.prevCaState !== 'open' && this.caState === 'open') {
      this.packetConservation = false;
      this.restoreCwnd();
    }
    this.prevCaState = this.caState;
    if (this.packetConservation) this.cwndBytes = Math.max(this.cwndBytes, this.pipe() + this.rs.newlyAcked);
  }

  /** §5.6.4.5 BBRSetCwnd, with §5.6.4.6 BBRBoundCwndForProbeRTT / BBRBoundCwndForModel. */
  private setCwnd(losses: number): void {
    const maxInflight = this.quantizationBudget(this.bdpMultiple(this.cwndGain) + (this.fullBwReached ? this.extraAckedFilter.value : 0));
    this.modulateCwndForRecovery(losses);
    if (!this.packetConservation) {
      const acked = this.rs.newlyAcked;
      if (this.fullBwReached) this.cwndBytes = Math.min(this.cwndBytes + acked, maxInflight);
      else if (this.cwndBytes < maxInflight || this.delivered < BBR3.initCwndPackets * this.mss) this.cwndBytes += acked;
      this.cwndBytes = Math.max(this.cwndBytes, BBR3.minPipeCwndPackets * this.mss);
    }
    if (this.bbrState === 'ProbeRTT') this.cwndBytes = Math.min(this.cwndBytes, this.probeRttCwnd());
    let cap = Infinity;
    if (this.isProbeBw() && this.bbrState !== 'ProbeBW_CRUISE') cap = this.inflightLongterm;
    else if (this.bbrState === 'ProbeRTT' || this.bbrState === 'ProbeBW_CRUISE') cap = this.inflightWithHeadroom();
    cap = Math.min(cap, this.inflightShortterm);
    cap = Math.max(cap, BBR3.minPipeCwndPackets * this.mss);
    this.cwndBytes = Math.min(this.cwndBytes, cap);
  }

  /** §5.6.2 BBRSetPacingRateWithGain: never lower it before the pipe is first full. */
  private setPacingRate(): void {
    const rate = this.withMargin(this.bw, this.pacingGain);
    if ((this.fullBwReached || rate > this.pacing) && rate > 0) this.pacing = rate;
  }

  protected override sent(bytes: number, now: number, inflightBefore: number, _info?: CcSentInfo): void {
    this.now = now;
    // §5.4.3 restarting from idle: pace at bw × 1 in ProbeBW, and check whether ProbeRTT can end.
    if (inflightBefore === 0 && this.sentTotal > bytes) {
      this.idleRestart = true;
      this.extraAckedIntervalStart = now;
      this.extraAckedDelivered = 0;
      // Without any bandwidth sample yet (bw 0) the restart keeps the current rate: pacing at 0 would never send.
      if (this.isProbeBw() && this.bw > 0) this.pacing = this.withMargin(this.bw, 1);
      else if (this.bbrState === 'ProbeRTT') this.checkProbeRttDone();
    }
  }

  protected acked(bytes: number, rtt: number | undefined, now: number, prior: number, info: CcAckInfo | undefined, exited: boolean): void {
    this.now = now;
    if (exited) this.caState = 'open';
    if (!this.hasSeenRtt && this.srtt > 0) {
      // Like Linux bbr_init_pacing_rate_from_rtt: redo the initial rate once a real RTT is known.
      this.hasSeenRtt = true;
      this.pacing = this.withMargin((this.cwndBytes * 1000) / this.srtt, BBR3.startupPacingGain);
    }
    this.delivered += bytes;
    let rs = info?.rateSample;
    if (!rs) {
      const window = Number.isFinite(this.bbrMinRtt) ? this.bbrMinRtt : (rtt ?? 1);
      rs = this.fallback.onAck(bytes, now, window, this.fallbackSample);
      rs.priorInFlight = prior;
      rs.newlyLost = this.pendingLost;
      rs.lost = this.pendingLost;
      rs.txInFlight = prior;
    }
    this.rs = rs;
    const losses = this.pendingLost;
    this.pendingLost = 0;
    this.deliveredInRound += bytes;
    const ce = info?.ceBytes ?? 0;
    if (ce > 0) {
      this.ceInRound += ce;
      this.ecnInRound = true;
    }
    // §5.2.3 BBRUpdateModelAndState, then BBRUpdateControlParameters.
    this.updateLatestDeliverySignals();
    this.updateCongestionSignals();
    this.updateAckAggregation();
    this.checkFullBwReached();
    this.checkStartupDone();
    this.checkDrainDone();
    this.updateProbeBwCyclePhase();
    this.updateMinRtt(rtt ?? -1);
    this.checkProbeRtt();
    this.advanceLatestDeliverySignals();
    this.bw = Math.min(this.maxBw, this.bwShortterm); // BBRBoundBWForModel
    this.setPacingRate();
    this.setCwnd(losses);
  }

  protected lost(now: number, bytes: number, _sameEvent: boolean, info?: CcLossInfo): void {
    this.now = now;
    this.pendingLost += bytes;
    this.handleLostPacket(bytes, info);
    if (this.caState === 'open') {
      this.saveCwnd();
      this.caState = 'recovery';
      this.enterRecovery(now);
    }
  }

  protected timeout(now: number): void {
    // RTO: like Linux, cwnd collapses to one packet, the RTO ends a round, and recovery restores prior_cwnd.
    this.now = now;
    this.saveCwnd();
    this.cwndBytes = this.mss;
    this.inflight = 0;
    this.caState = 'loss';
    this.prevCaState = 'loss';
    this.resetFullBw();
    this.enterRecovery(now);
  }

  protected ecn(now: number, _sameEvent: boolean, info?: CcEcnInfo): void {
    this.now = now;
    const ce = info?.ceBytes ?? this.mss;
    this.ceInRound += ce;
    this.ecnInRound = true;
  }

  protected override appLimited(_now: number): void {
    this.estimator?.markAppLimited(this.inflight);
  }

  state(): CcStateSnapshot {
    return this.snapshot(this.bbrState, {
      btlbw: this.bw, maxBw: this.maxBw, bwShortterm: this.bwShortterm, inflightLongterm: this.inflightLongterm,
      inflightShortterm: this.inflightShortterm, minRtt: this.bbrMinRtt, bdp: this.bdp, pacingGain: this.pacingGain,
      cwndGain: this.cwndGain, roundCount: this.roundCount, fullBwReached: this.fullBwReached, ecnAlpha: this.ecnAlpha,
      cycleCount: this.cycleCount, ackPhase: this.ackPhase,
    });
  }
}
