// What every algorithm shares: RTT smoothing (RFC 6298), bytes-in-flight bookkeeping, and the recovery
// period that makes several losses of one window count as one congestion event (RFC 6582, RFC 9002 §7.3.2).
import { NetworkError } from '../errors.js';
import type { DeliveryRateEstimator } from './delivery-rate.js';
import type {
  CcAckInfo, CcAlgorithmName, CcCommonOptions, CcEcnInfo, CcLossInfo, CcSentInfo, CcStateSnapshot, CongestionControl,
} from './types.js';

/** Validates a constructor's initial window (bytes) and MSS. */
export function checkCcWindow(initialCwnd: number, mss: number): void {
  if (!Number.isFinite(mss) || mss <= 0) throw new NetworkError('INVALID_ARGUMENT', `mss must be a positive number, got ${mss}`, { field: 'mss', actual: String(mss) });
  if (!Number.isFinite(initialCwnd) || initialCwnd < mss) {
    throw new NetworkError('INVALID_ARGUMENT', `initial cwnd must be at least one MSS (${mss} bytes), got ${initialCwnd}`, { field: 'initialCwnd', actual: String(initialCwnd) });
  }
}

/** Common state and event plumbing; subclasses implement the hooks. */
export abstract class CongestionControlBase implements CongestionControl {
  abstract readonly algorithm: CcAlgorithmName;
  readonly mss: number;
  protected cwndBytes: number;
  protected ssthreshBytes = Infinity;
  protected inflight = 0;
  /** RFC 6298 §2 smoothed RTT and variance, ms (0 before the first sample). */
  srtt = 0;
  rttvar = 0;
  /** Lowest RTT sample seen, ms. */
  minRtt = Infinity;
  latestRtt = 0;
  /** Bytes sent, acknowledged and declared lost so far (sequence-space stand-ins: snd_nxt, snd_una). */
  sentTotal = 0;
  ackedTotal = 0;
  lostTotal = 0;
  protected recovering = false;
  /** When the current recovery period began (ms). */
  protected recoveryStart = -Infinity;
  /** RFC 6582 "recover": sentTotal when the recovery began. */
  protected recover = -1;
  protected lastNow = 0;
  protected lastSendTime = -1;
  /** The transport reports sends or bytes in flight, so `inflight` is real (not just the guide's bare onAck). */
  protected inflightTracked = false;
  /** The transport reports the cumulative ACK point (oldestUnackedSentTime): recovery lasts until it passes. */
  protected cumulativeAcks = false;

  constructor(initialCwnd: number, opts: CcCommonOptions = {}) {
    const mss = opts.mss ?? 1460;
    checkCcWindow(initialCwnd, mss);
    this.mss = mss;
    this.cwndBytes = initialCwnd;
  }

  get cwnd(): number {
    return this.cwndBytes;
  }
  get ssthresh(): number {
    return this.ssthreshBytes;
  }
  get inSlowStart(): boolean {
    return !this.recovering && this.cwndBytes < this.ssthreshBytes;
  }
  get inRecovery(): boolean {
    return this.recovering;
  }
  get bytesInFlight(): number {
    return this.inflight;
  }

  abstract pacingRate(): number;
  abstract state(): CcStateSnapshot;

  onPacketSent(bytes: number, now: number, info?: CcSentInfo): void {
    const before = this.inflight;
    this.inflightTracked = true;
    this.sentTotal += bytes;
    this.inflight = info?.bytesInFlight ?? before + bytes;
    this.lastNow = now;
    this.sent(bytes, now, before, info);
    this.lastSendTime = now;
  }

  onAck(ackedBytes: number, rttMs: number | undefined, now: number = this.lastNow, info?: CcAckInfo): void {
    if (!(ackedBytes >= 0)) throw new NetworkError('INVALID_ARGUMENT', `acked bytes must be ≥ 0, got ${ackedBytes}`, { field: 'ackedBytes' });
    const prior = info?.priorInFlight ?? this.inflight;
    this.lastNow = now;
    this.ackedTotal += ackedBytes;
    if (info?.bytesInFlight !== undefined) this.inflightTracked = true;
    this.inflight = info?.bytesInFlight ?? Math.max(0, this.inflight - ackedBytes);
    if (rttMs !== undefined && rttMs > 0 && Number.isFinite(rttMs)) this.updateRtt(rttMs);
    // Leaving recovery first, so the ACK that ends it may already grow the window (RFC 6582 §3.2 step 3).
    let exited = false;
    if (this.recovering && this.recoveryDone(now, info)) {
      this.recovering = false;
      exited = true;
    }
    this.acked(ackedBytes, rttMs, now, prior, info, exited);
  }

  onLoss(now: number = this.lastNow, info?: CcLossInfo): void {
    const lost = info?.lostBytes ?? this.mss;
    this.lastNow = now;
    this.lostTotal += lost;
    this.inflight = info?.bytesInFlight ?? Math.max(0, this.inflight - (info ? lost : 0));
    // A loss of a packet sent before the current recovery began belongs to the same congestion event.
    const sameEvent = this.recovering && (this.cumulativeAcks || (info?.sentTime !== undefined && info.sentTime <= this.recoveryStart));
    this.lost(now, lost, sameEvent, info);
  }

  onRto(now: number): void {
    this.lastNow = now;
    this.timeout(now);
  }

  onEcnCe(now: number, info?: CcEcnInfo): void {
    this.lastNow = now;
    const sameEvent = this.recovering && info?.sentTime !== undefined && info.sentTime <= this.recoveryStart;
    this.ecn(now, sameEvent, info);
  }

  onAppLimited(now: number): void {
    this.lastNow = now;
    this.appLimited(now);
  }

  useRateEstimator?(estimator: DeliveryRateEstimator): void;

  /** RFC 6298 §2.2–2.3 (α = 1/8, β = 1/4). */
  protected updateRtt(r: number): void {
    this.latestRtt = r;
    if (r < this.minRtt) this.minRtt = r;
    if (this.srtt === 0) {
      this.srtt = r;
      this.rttvar = r / 2;
    } else {
      this.rttvar = 0.75 * this.rttvar + 0.25 * Math.abs(this.srtt - r);
      this.srtt = 0.875 * this.srtt + 0.125 * r;
    }
  }

  /** Starts a recovery period now; `recover` is the send point that must be acknowledged to end it (RFC 6582 §3.2 step 2). */
  protected enterRecovery(now: number): void {
    this.recovering = true;
    this.recoveryStart = now;
    this.recover = this.sentTotal;
  }

  /**
   * Recovery ends when the cumulative ACK point passes its start (RFC 6582 §3.2 step 3), or on the first ACK
   * of data sent after it began when the transport reports packet send times (RFC 9002 §7.3.2), else when the cumulative ACK covers `recover` (RFC 6582 §3.2 step 3), else — when the
   * caller reports neither sends nor send times (the guide's bare API) — after one smoothed RTT.
   */
  protected recoveryDone(now: number, info?: CcAckInfo): boolean {
    if (info?.oldestUnackedSentTime !== undefined) {
      this.cumulativeAcks = true;
      return info.oldestUnackedSentTime > this.recoveryStart;
    }
    if (info?.sentTime !== undefined) return info.sentTime > this.recoveryStart;
    if (this.sentTotal > 0) return this.ackedTotal >= this.recover;
    return now - this.recoveryStart >= Math.max(this.srtt, 1);
  }

  /** Bytes in flight for window arithmetic: the tracked pipe, or cwnd when the caller reports no sends. */
  protected pipe(): number {
    return this.inflightTracked ? this.inflight : this.cwndBytes;
  }

  /** The FlightSize of RFC 5681 eq. (4): tracked bytes in flight, or cwnd when the caller reports no sends. */
  protected flightSize(): number {
    return this.sentTotal > 0 ? this.inflight : this.cwndBytes;
  }

  protected snapshot(mode: string, extra: Record<string, number | string | boolean>): CcStateSnapshot {
    return {
      algorithm: this.algorithm, mode, cwnd: this.cwndBytes, ssthresh: this.ssthreshBytes, pacingRate: this.pacingRate(),
      inSlowStart: this.inSlowStart, inRecovery: this.recovering, bytesInFlight: this.inflight,
      srttMs: this.srtt, minRttMs: this.minRtt, extra,
    };
  }

  protected sent(_bytes: number, _now: number, _inflightBefore: number, _info?: CcSentInfo): void {}
  protected abstract acked(bytes: number, rtt: number | undefined, now: number, priorInFlight: number, info: CcAckInfo | undefined, exitedRecovery: boolean): void;
  protected abstract lost(now: number, bytes: number, sameEvent: boolean, info?: CcLossInfo): void;
  protected abstract timeout(now: number): void;
  protected abstract ecn(now: number, sameEvent: boolean, info?: CcEcnInfo): void;
  protected appLimited(_now: number): void {}
}

/**
 * Pacing for the window-based algorithms as Linux does it (tcp_input.c tcp_update_pacing_rate): cwnd/srtt
 * scaled by 200 % in slow start and 120 % in congestion avoidance (sysctl tcp_pacing_ss_ratio / ca_ratio).
 */
export function linuxWindowPacingRate(cwnd: number, srttMs: number, slowStart: boolean): number {
  const rtt = srttMs > 0 ? srttMs : 1; // Linux uses 1 ms-ish before the first sample (srtt_us of 0 → rate from cwnd)
  return ((slowStart ? 2 : 1.2) * cwnd * 1000) / rtt;
}
