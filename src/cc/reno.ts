// NewReno: RFC 5681 (slow start, congestion avoidance, fast retransmit/fast recovery) with RFC 6582's
// NewReno modification (partial ACKs keep the sender in fast recovery until `recover` is acknowledged).
//
// Two ways to drive it:
//  - TCP with cumulative ACKs: onAck(newlyAcked>0) for new data, onDuplicateAck() for each duplicate ACK;
//    the third duplicate starts fast retransmit (RFC 5681 §3.2) and partial ACKs deflate the window (RFC 6582 §3.2).
//  - SACK/RACK or QUIC-style loss detection: onLoss(now, { sentTime }) when a packet is declared lost and
//    onAck(..., { sentTime }) per acknowledged packet; recovery ends with the first packet sent after it began.
import { CongestionControlBase, linuxWindowPacingRate } from './base.js';
import type { CcAckInfo, CcCommonOptions, CcEcnInfo, CcLossInfo, CcStateSnapshot } from './types.js';

/** RFC 5681 §3.2 DupThresh. */
export const RENO_DUP_THRESH = 3;

/** NewReno congestion control. Units: bytes, ms, bytes/s. */
export class NewRenoCongestionControl extends CongestionControlBase {
  readonly algorithm = 'reno' as const;
  /** Duplicate ACKs since the last new ACK (RFC 5681 §3.2). */
  dupAcks = 0;
  /** Set when the caller should retransmit the first unacknowledged segment (fast retransmit, partial ACK). */
  retransmitNeeded = false;
  /** Bytes acknowledged in congestion avoidance since cwnd last grew (RFC 5681 §3.1 byte counting). */
  private bytesAckedCa = 0;
  /** True while in the RFC 5681/6582 dup-ACK fast recovery (cumulative-ACK mode). */
  private fastRecoveryCumulative = false;

  constructor(initialCwnd = 10 * 1460, opts: CcCommonOptions = {}) {
    super(initialCwnd, opts);
  }

  pacingRate(): number {
    return linuxWindowPacingRate(this.cwndBytes, this.srtt, this.inSlowStart);
  }

  /** A duplicate ACK arrived (cumulative-ACK TCP). */
  onDuplicateAck(now: number = this.lastNow): void {
    this.lastNow = now;
    this.dupAcks++;
    if (this.fastRecoveryCumulative) {
      // RFC 5681 §3.2 step 4: each further duplicate ACK means a segment left the network; inflate cwnd.
      this.cwndBytes += this.mss;
      return;
    }
    // RFC 6582 §3.2 step 1: only start a new fast retransmit when the ACK covers more than `recover`,
    // so duplicate ACKs from retransmissions of one window do not halve cwnd twice.
    if (this.dupAcks === RENO_DUP_THRESH && this.ackedTotal > this.recover) {
      this.halve();
      // RFC 5681 §3.2 step 3: cwnd = ssthresh + 3·SMSS ("inflates" for the three segments that left).
      this.cwndBytes = this.ssthreshBytes + RENO_DUP_THRESH * this.mss;
      this.enterRecovery(now);
      this.fastRecoveryCumulative = true;
      this.retransmitNeeded = true;
    }
  }

  /** RFC 5681 eq. (4): ssthresh = max(FlightSize / 2, 2·SMSS). */
  private halve(): void {
    this.ssthreshBytes = Math.max(this.flightSize() / 2, 2 * this.mss);
  }

  protected acked(bytes: number, _rtt: number | undefined, _now: number, _prior: number, info: CcAckInfo | undefined, exited: boolean): void {
    if (bytes > 0) this.dupAcks = 0;
    if (this.fastRecoveryCumulative) {
      if (exited) {
        // RFC 6582 §3.2 step 3 (full ACK), option 1: cwnd = min(ssthresh, max(FlightSize, SMSS) + SMSS).
        this.fastRecoveryCumulative = false;
        this.cwndBytes = Math.min(this.ssthreshBytes, Math.max(this.inflight, this.mss) + this.mss);
        this.bytesAckedCa = 0;
      } else if (bytes > 0) {
        // RFC 6582 §3.2 step 4 (partial ACK): retransmit the next hole, deflate by the amount acknowledged and
        // add back one SMSS if at least one SMSS was acknowledged.
        this.retransmitNeeded = true;
        this.cwndBytes = Math.max(this.cwndBytes - bytes + (bytes >= this.mss ? this.mss : 0), this.mss);
      }
      return;
    }
    if (this.recovering || bytes === 0) return; // SACK/QUIC-style recovery: no growth until it ends (RFC 9002 §7.3.2)
    if (info?.appLimited || info?.cwndLimited === false) return; // RFC 7661: do not grow an unused window
    if (this.cwndBytes < this.ssthreshBytes) {
      // RFC 5681 eq. (2): cwnd += min(N, SMSS).
      this.cwndBytes += Math.min(bytes, this.mss);
    } else {
      // RFC 5681 §3.1, byte counting: one SMSS per cwnd of acknowledged bytes (≈ eq. (3) per RTT).
      this.bytesAckedCa += bytes;
      if (this.bytesAckedCa >= this.cwndBytes) {
        this.bytesAckedCa -= this.cwndBytes;
        this.cwndBytes += this.mss;
      }
    }
  }

  protected lost(now: number, _bytes: number, sameEvent: boolean, _info?: CcLossInfo): void {
    if (sameEvent || this.fastRecoveryCumulative) return;
    // RFC 6675 §5 / RFC 9002 §7.3.2: one reduction per window; cwnd = ssthresh (no inflation: the pipe counts).
    this.halve();
    this.cwndBytes = this.ssthreshBytes;
    this.bytesAckedCa = 0;
    this.enterRecovery(now);
  }

  protected timeout(now: number): void {
    // RFC 5681 §3.1 eq. (4) and the loss window: cwnd = 1 SMSS after an RTO.
    this.halve();
    this.cwndBytes = this.mss;
    this.bytesAckedCa = 0;
    this.dupAcks = 0;
    this.fastRecoveryCumulative = false;
    this.recovering = false;
    this.recover = this.sentTotal;
    this.recoveryStart = now;
    this.inflight = 0;
  }

  protected ecn(now: number, sameEvent: boolean, info?: CcEcnInfo): void {
    // RFC 3168 §6.1.2: respond to CE as to a loss, at most once per window.
    this.lost(now, info?.ceBytes ?? 0, sameEvent);
  }

  state(): CcStateSnapshot {
    const mode = this.recovering ? 'recovery' : this.inSlowStart ? 'slow-start' : 'congestion-avoidance';
    return this.snapshot(mode, { dupAcks: this.dupAcks });
  }
}
