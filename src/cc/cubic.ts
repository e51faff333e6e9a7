// CUBIC (RFC 9438) with HyStart as Linux net/ipv4/tcp_cubic.c does it.
// Internally windows are in segments (RFC 9438 §4.1 defines W in MSS units, t in seconds); the public
// cwnd, ssthresh and wMax are in bytes like every other controller here.
import { CongestionControlBase, linuxWindowPacingRate } from './base.js';
import type { CcAckInfo, CcCommonOptions, CcEcnInfo, CcLossInfo, CcSentInfo, CcStateSnapshot } from './types.js';

/** RFC 9438 §5.1: C = 0.4. */
export const CUBIC_C = 0.4;
/** RFC 9438 §4.6: β_cubic = 0.7. */
export const CUBIC_BETA = 0.7;
/** Linux tcp_cubic.c: beta = 717/1024 (BICTCP_BETA_SCALE). */
export const CUBIC_BETA_LINUX = 717 / 1024;

/** HyStart constants of Linux tcp_cubic.c (times in ms here). */
export const HYSTART = {
  /** hystart_low_window: HyStart only acts at cwnd ≥ 16 segments. */
  lowWindow: 16,
  /** hystart_ack_delta_us: ACKs closer than 2 ms form a train. */
  ackDeltaMs: 2,
  /** HYSTART_MIN_SAMPLES: RTT samples per round before the delay test. */
  minSamples: 8,
  /** HYSTART_DELAY_MIN / _MAX: the delay threshold is clamp(delay_min/8, 4 ms, 16 ms). */
  delayMinMs: 4,
  delayMaxMs: 16,
} as const;

export interface CubicOptions extends CcCommonOptions {
  /** β_cubic; default 0.7 (RFC 9438). Use CUBIC_BETA_LINUX for Linux's 717/1024. */
  beta?: number;
  /** C; default 0.4. */
  c?: number;
  /** RFC 9438 §4.7 fast convergence; default on. */
  fastConvergence?: boolean;
  /** RFC 9438 §4.3 Reno-friendly region; default on. */
  renoFriendly?: boolean;
  /** HyStart (tcp_cubic.c hystart=1, both ACK-train and delay detection); default on. */
  hystart?: boolean;
  /** Whether the sender paces (Linux halves the ACK-train threshold for unpaced senders); default true. */
  paced?: boolean;
}

/** CUBIC congestion control (RFC 9438). Units: bytes, ms, bytes/s; `k` in seconds. */
export class CubicCongestionControl extends CongestionControlBase {
  readonly algorithm = 'cubic' as const;
  readonly beta: number;
  readonly c: number;
  readonly fastConvergence: boolean;
  readonly renoFriendly: boolean;
  readonly hystartEnabled: boolean;
  private readonly paced: boolean;
  /** RFC 9438 §4.1 W_max in segments (0 until the first congestion event). */
  private wMaxSeg = 0;
  /** cwnd_prior (segments): cwnd just before the last reduction. */
  private cwndPriorSeg = 0;
  /** t_epoch (ms), or -1 when no congestion-avoidance epoch is running. */
  private epochStart = -1;
  /** cwnd_epoch (segments). */
  private cwndEpochSeg = 0;
  /** K (seconds). */
  private kSec = 0;
  /** W_est (segments) of the Reno-friendly region. */
  private wEstSeg = 0;
  // HyStart state (tcp_cubic.c struct bictcp).
  private hsFound = false;
  private hsRoundStart = 0;
  private hsLastAck = 0;
  private hsEndSeq = 0;
  private hsCurrRtt = Infinity;
  private hsSampleCnt = 0;
  private hsDelayMin = 0;
  /** How HyStart ended slow start, if it did: 'ack-train' | 'delay'. */
  hystartExit: '' | 'ack-train' | 'delay' = '';

  constructor(initialCwnd = 10 * 1460, opts: CubicOptions = {}) {
    super(initialCwnd, opts);
    this.beta = opts.beta ?? CUBIC_BETA;
    this.c = opts.c ?? CUBIC_C;
    this.fastConvergence = opts.fastConvergence ?? true;
    this.renoFriendly = opts.renoFriendly ?? true;
    this.hystartEnabled = opts.hystart ?? true;
    this.paced = opts.paced ?? true;
    this.hystartReset(0);
  }

  /** W_max in bytes (0 before the first congestion event). */
  get wMax(): number {
    return this.wMaxSeg * this.mss;
  }
  /** K in seconds: time for W(t) to climb back to W_max (RFC 9438 eq. 2). */
  get k(): number {
    return this.kSec;
  }
  /** Start of the current congestion-avoidance epoch (ms), or -1. */
  get epochStartMs(): number {
    return this.epochStart;
  }

  /** RFC 9438 eq. (1): W_cubic(t) = C·(t − K)³ + W_max, in bytes, for t seconds into the epoch. */
  wCubic(tSec: number): number {
    return (this.c * (tSec - this.kSec) ** 3 + this.wMaxSeg) * this.mss;
  }

  /** RFC 9438 §4.3: α_cubic = 3(1 − β)/(1 + β) until W_est reaches cwnd_prior, then 1. */
  get alphaCubic(): number {
    return this.wEstSeg >= this.cwndPriorSeg ? 1 : (3 * (1 - this.beta)) / (1 + this.beta);
  }

  pacingRate(): number {
    return linuxWindowPacingRate(this.cwndBytes, this.srtt, this.inSlowStart);
  }

  protected override sent(_bytes: number, now: number, inflightBefore: number, _info?: CcSentInfo): void {
    // RFC 9438 §5.8 / tcp_cubic.c cubictcp_cwnd_event(CA_EVENT_TX_START): an idle (application-limited)
    // period must not count in t, so shift the epoch by the time nothing was in flight.
    if (inflightBefore === 0 && this.epochStart >= 0 && this.lastSendTime >= 0) {
      const idle = now - this.lastSendTime;
      if (idle > 0) this.epochStart = Math.min(this.epochStart + idle, now);
    }
  }

  private hystartReset(now: number): void {
    // tcp_cubic.c bictcp_hystart_reset: a new round ends when what is sent now has been acknowledged.
    this.hsRoundStart = this.hsLastAck = now;
    this.hsEndSeq = this.sentTotal;
    this.hsCurrRtt = Infinity;
    this.hsSampleCnt = 0;
  }

  /** tcp_cubic.c cubictcp_acked + hystart_update, per ACK with an RTT sample. */
  private hystartUpdate(rtt: number, now: number): void {
    // Delay samples right after a reduction are skewed by the recovery; Linux ignores them for 1 s.
    if (this.epochStart >= 0 && now - this.epochStart < 1000) return;
    if (this.hsDelayMin === 0 || this.hsDelayMin > rtt) this.hsDelayMin = rtt;
    if (this.hsFound || !this.inSlowStart || this.cwndBytes < HYSTART.lowWindow * this.mss) return;
    const roundOver = this.sentTotal > 0 ? this.ackedTotal > this.hsEndSeq : now - this.hsRoundStart >= this.hsDelayMin;
    if (roundOver) this.hystartReset(now);
    // ACK train: ACKs arriving back to back for longer than delay_min (half of it when not pacing) mean the
    // pipe is full (hystart_ack_delay adds a little slack for TSO/GRO-stretched ACKs).
    if (now - this.hsLastAck <= HYSTART.ackDeltaMs) {
      this.hsLastAck = now;
      const rate = this.pacingRate();
      let threshold = this.hsDelayMin + (rate > 0 ? Math.min(1, (4 * 65536 * 1000) / rate) : 0);
      if (!this.paced) threshold /= 2;
      if (now - this.hsRoundStart > threshold) this.hystartFound('ack-train');
    }
    if (this.hsFound) return;
    // Delay increase: the round's minimum RTT over the first 8 samples exceeds delay_min + clamp(delay_min/8, 4, 16) ms.
    if (this.hsCurrRtt > rtt) this.hsCurrRtt = rtt;
    if (this.hsSampleCnt < HYSTART.minSamples) {
      this.hsSampleCnt++;
    } else {
      const thresh = Math.min(Math.max(this.hsDelayMin / 8, HYSTART.delayMinMs), HYSTART.delayMaxMs);
      if (this.hsCurrRtt > this.hsDelayMin + thresh) this.hystartFound('delay');
    }
  }

  private hystartFound(how: 'ack-train' | 'delay'): void {
    this.hsFound = true;
    this.hystartExit = how;
    this.ssthreshBytes = this.cwndBytes; // tcp_cubic.c: tp->snd_ssthresh = tcp_snd_cwnd(tp)
  }

  protected acked(bytes: number, rtt: number | undefined, now: number, _prior: number, info: CcAckInfo | undefined, _exited: boolean): void {
    if (rtt !== undefined && rtt > 0 && this.hystartEnabled) this.hystartUpdate(rtt, now);
    if (this.recovering || bytes === 0) return;
    // RFC 9438 §5.8: no growth while application-limited (tcp_cong.c tcp_is_cwnd_limited).
    if (info?.appLimited || info?.cwndLimited === false) return;
    let acked = bytes;
    if (this.cwndBytes < this.ssthreshBytes) {
      // Slow start as Linux tcp_slow_start: grow by the bytes acknowledged, up to ssthresh; the rest feeds CA.
      const room = this.ssthreshBytes - this.cwndBytes;
      const used = Math.min(acked, room);
      this.cwndBytes += used;
      acked -= used;
      if (acked <= 0) return;
    }
    this.congestionAvoidance(acked / this.mss, now);
  }

  /** RFC 9438 §4.2–4.5: one ACK of `segs` segments in congestion avoidance. */
  private congestionAvoidance(segs: number, now: number): void {
    let cwndSeg = this.cwndBytes / this.mss;
    if (this.epochStart < 0) {
      // A new epoch (RFC 9438 §4.2): after slow start without loss W_max is the current window (K = 0).
      this.epochStart = now;
      this.cwndEpochSeg = cwndSeg;
      if (this.wMaxSeg < cwndSeg) {
        this.wMaxSeg = cwndSeg;
        this.kSec = 0;
      } else {
        this.kSec = Math.cbrt((this.wMaxSeg - this.cwndEpochSeg) / this.c); // RFC 9438 eq. (2)
      }
      this.wEstSeg = this.cwndEpochSeg;
    }
    const t = (now - this.epochStart) / 1000;
    const rttSec = (this.srtt > 0 ? this.srtt : 100) / 1000;
    // RFC 9438 §4.3: W_est grows like Reno with an equivalent α (eq. 4); α becomes 1 once W_est ≥ cwnd_prior.
    this.wEstSeg += (this.alphaCubic * segs) / cwndSeg;
    const wCubicNow = this.c * (t - this.kSec) ** 3 + this.wMaxSeg;
    if (this.renoFriendly && wCubicNow < this.wEstSeg) {
      cwndSeg = this.wEstSeg; // Reno-friendly region
    } else {
      // RFC 9438 §4.2: target = W_cubic(t + RTT), clamped to [cwnd, 1.5·cwnd]; grow by (target − cwnd)/cwnd per segment.
      let target = this.c * (t + rttSec - this.kSec) ** 3 + this.wMaxSeg;
      if (target < cwndSeg) target = cwndSeg;
      else if (target > 1.5 * cwndSeg) target = 1.5 * cwndSeg;
      cwndSeg += ((target - cwndSeg) / cwndSeg) * segs;
    }
    this.cwndBytes = cwndSeg * this.mss;
  }

  /** RFC 9438 §4.6–4.7: the multiplicative decrease and fast convergence. */
  private reduce(now: number): void {
    const cwndSeg = this.cwndBytes / this.mss;
    this.cwndPriorSeg = cwndSeg;
    // §4.7: a flow whose W_max keeps shrinking releases bandwidth faster to newcomers.
    if (this.fastConvergence && cwndSeg < this.wMaxSeg) this.wMaxSeg = (cwndSeg * (1 + this.beta)) / 2;
    else this.wMaxSeg = cwndSeg;
    // §4.6: ssthresh = cwnd·β (Linux and RFC 9438 allow cwnd here; growth is gated on cwnd-limited, §5.8), ≥ 2 segments.
    const ssSeg = Math.max(cwndSeg * this.beta, 2);
    this.ssthreshBytes = ssSeg * this.mss;
    this.cwndBytes = ssSeg * this.mss;
    this.kSec = Math.cbrt(Math.max(0, this.wMaxSeg - ssSeg) / this.c); // RFC 9438 eq. (2), for inspection; redone at epoch start
    this.epochStart = -1; // the next CA ACK starts a new epoch with cwnd_epoch = cwnd, K from eq. (2)
    this.enterRecovery(now);
  }

  protected lost(now: number, _bytes: number, sameEvent: boolean, _info?: CcLossInfo): void {
    if (sameEvent) return;
    this.reduce(now);
  }

  protected timeout(now: number): void {
    // RFC 9438 §4.8: ssthresh from the multiplicative decrease, cwnd = 1 SMSS (RFC 5681), a fresh epoch;
    // tcp_cubic.c also resets HyStart so the next slow start can end early again.
    this.reduce(now);
    this.recovering = false;
    this.cwndBytes = this.mss;
    this.inflight = 0;
    this.hsFound = false;
    this.hystartReset(now);
  }

  protected ecn(now: number, sameEvent: boolean, _info?: CcEcnInfo): void {
    // RFC 9438 §4.6 / RFC 3168: an ECN-Echo is a congestion event like a loss.
    if (!sameEvent) this.reduce(now);
  }

  state(): CcStateSnapshot {
    const mode = this.recovering ? 'recovery' : this.inSlowStart ? 'slow-start' : 'congestion-avoidance';
    return this.snapshot(mode, {
      wMax: this.wMax, k: this.kSec, beta: this.beta, c: this.c, wEst: this.wEstSeg * this.mss, epochStartMs: this.epochStart,
      hystartFound: this.hsFound, hystartExit: this.hystartExit,
    });
  }
}
