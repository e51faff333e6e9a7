// One congestion-control interface for every algorithm (NewReno, CUBIC, BBRv1, BBRv3) and every transport
// that will drive one (the TCP stack, QUIC, the link simulator).
//
// Units, everywhere in src/cc: bytes for windows and data, milliseconds for times and RTTs (any monotonic
// clock; `now` values only need to be comparable), bytes per second for rates (pacingRate(), btlbw).
import type { DeliveryRateSample, DeliveryRateEstimator } from './delivery-rate.js';

/** The algorithms this package implements. */
export type CcAlgorithmName = 'reno' | 'cubic' | 'bbr' | 'bbr3';

/** What the transport knows about a packet it has just sent. */
export interface CcSentInfo {
  /** Bytes in flight after this packet was sent (the sender's pipe, RFC 6675). Tracked internally when absent. */
  bytesInFlight?: number;
  /** True when the sender had nothing more to send (application-limited) when it sent this packet. */
  appLimited?: boolean;
}

/** What the transport knows about an ACK (everything is optional: the guide's `onAck(bytes, rtt, now)` works alone). */
export interface CcAckInfo {
  /** Bytes in flight after this ACK was processed. Tracked internally (sent − acked − lost) when absent. */
  bytesInFlight?: number;
  /** Bytes in flight before this ACK was processed. */
  priorInFlight?: number;
  /**
   * Send time of the newest packet this ACK acknowledges. When given, a recovery period ends with the first
   * ACK of a packet sent after it began (RFC 9002 §7.3.2, the packet-number form of RFC 6582's "recover").
   */
  sentTime?: number;
  /**
   * Send time of the oldest data not yet acknowledged — the cumulative ACK point in time (Infinity when all
   * is acknowledged). When given, recovery ends once it is after the recovery start, exactly RFC 6582's
   * "ACK covers recover" for a SACK TCP, and every loss inside a recovery belongs to it (Linux tcp_input.c).
   */
  oldestUnackedSentTime?: number;
  /** A delivery-rate sample (draft-cheng-iccrg-delivery-rate-estimation §3.3); BBR estimates one itself when absent. */
  rateSample?: DeliveryRateSample;
  /** Bytes newly marked lost while this ACK was processed (Linux `rs->losses` in bytes). */
  lostBytes?: number;
  /** Of the bytes this ACK acknowledges, how many carried an ECN-CE mark (RFC 3168, RFC 9000 §13.4). */
  ceBytes?: number;
  /** The acknowledged data was sent while the sender was application-limited. */
  appLimited?: boolean;
  /** The sender was limited by cwnd (not by the application) when this data was sent (RFC 7661). */
  cwndLimited?: boolean;
}

/** What the transport knows about a loss it has detected. */
export interface CcLossInfo {
  /** Bytes declared lost (default: one MSS). */
  lostBytes?: number;
  /** When the lost packet was sent: a loss of a packet sent before the current recovery began is the same congestion event. */
  sentTime?: number;
  /** Bytes in flight after removing the lost packet. */
  bytesInFlight?: number;
  /** Bytes that were in flight when the lost packet was sent, including it (BBRv3's `tx_in_flight`). */
  txInFlight?: number;
  /** Bytes the connection had declared lost by the time this packet was sent (BBRv3's `P.lost`). */
  lostBeforeSend?: number;
  /** The lost packet was sent while application-limited. */
  appLimited?: boolean;
}

/** An ECN-CE mark echoed by the receiver (RFC 3168 §6.1.2, RFC 9002 §7.1). */
export interface CcEcnInfo {
  /** Bytes acknowledged with CE marks in this ACK. */
  ceBytes?: number;
  /** Send time of the newest CE-marked packet (same-episode test as for losses). */
  sentTime?: number;
}

/** A plain snapshot for inspection, logging and plots. */
export interface CcStateSnapshot {
  algorithm: CcAlgorithmName;
  /** Algorithm-specific mode: 'slow-start', 'congestion-avoidance', 'recovery', 'STARTUP', 'PROBE_BW' … */
  mode: string;
  cwnd: number;
  ssthresh: number;
  pacingRate: number;
  inSlowStart: boolean;
  inRecovery: boolean;
  bytesInFlight: number;
  /** Smoothed RTT (RFC 6298), ms; 0 before the first sample. */
  srttMs: number;
  /** Minimum RTT seen, ms; Infinity before the first sample. */
  minRttMs: number;
  /** Algorithm-specific numbers (CUBIC's wMax and K, BBR's btlbw, gains, …). */
  extra: Record<string, number | string | boolean>;
}

/** The interface every algorithm implements and every transport drives. */
export interface CongestionControl {
  readonly algorithm: CcAlgorithmName;
  /** Sender maximum segment size in bytes (windows move in units of it). */
  readonly mss: number;
  /** Congestion window, bytes. */
  readonly cwnd: number;
  /** Slow-start threshold, bytes (Infinity until the first congestion event). */
  readonly ssthresh: number;
  readonly inSlowStart: boolean;
  readonly inRecovery: boolean;
  /** Bytes in flight as this controller tracks them. */
  readonly bytesInFlight: number;
  /** Rate the sender should pace at, bytes per second. */
  pacingRate(): number;
  /** A packet of `bytes` left the sender at `now`. */
  onPacketSent(bytes: number, now: number, info?: CcSentInfo): void;
  /** `ackedBytes` were newly acknowledged at `now`; `rttMs` is an RTT sample (undefined when the ACK gave none). */
  onAck(ackedBytes: number, rttMs: number | undefined, now?: number, info?: CcAckInfo): void;
  /** A loss was detected (fast retransmit, SACK/RACK, QUIC thresholds). Without arguments: one congestion event now. */
  onLoss(now?: number, info?: CcLossInfo): void;
  /** The retransmission timer expired (RFC 6298 §5.5, RFC 5681 §3.1). */
  onRto(now: number): void;
  /** The peer echoed ECN-CE. */
  onEcnCe(now: number, info?: CcEcnInfo): void;
  /** The sender ran out of data to send with cwnd still open (RFC 7661, RFC 9438 §5.8). */
  onAppLimited(now: number): void;
  /** For BBR: the transport's rate estimator, so the controller can mark app-limited bubbles (tcp_bbr.c PROBE_RTT). */
  useRateEstimator?(estimator: DeliveryRateEstimator): void;
  /** Everything worth looking at, as plain data. */
  state(): CcStateSnapshot;
}

/** Options all algorithms accept. */
export interface CcCommonOptions {
  /** Sender MSS in bytes; default 1460. */
  mss?: number;
  /** A uniform [0, 1) random source, for BBR's randomised phases; default a fixed-seed PRNG (deterministic). */
  random?: () => number;
}
