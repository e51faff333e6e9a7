// Delivery-rate estimation as BBR needs it: draft-cheng-iccrg-delivery-rate-estimation (the algorithm of
// Linux net/ipv4/tcp_rate.c). A transport keeps one DeliveryRateEstimator per connection, stamps every packet
// it sends, reports every packet delivered or lost, and gets one rate sample per ACK.
// Units: bytes, milliseconds, bytes per second.

/** Per-packet state the estimator stamps at send time (draft §3.2 "P.*"); the transport stores it with the packet. */
export interface DeliveryRatePacketState {
  /** C.delivered when the packet was sent. */
  delivered: number;
  /** C.delivered_time when the packet was sent; -Infinity once the packet has been counted as delivered or lost. */
  deliveredTime: number;
  /** C.first_sent_time when the packet was sent: the start of the send interval it belongs to. */
  firstSentTime: number;
  /** Send time. */
  sentTime: number;
  /** Bytes of the packet. */
  size: number;
  /** The connection was application-limited when this packet was sent. */
  isAppLimited: boolean;
  /** Bytes in flight right after this packet was sent (BBRv3 `tx_in_flight`). */
  txInFlight: number;
  /** C.lost when the packet was sent (BBRv3 uses C.lost − P.lost). */
  lost: number;
}

/** One rate sample (draft §3.3 "rs.*"), refilled for every ACK. */
export interface DeliveryRateSample {
  /** delivered / interval, bytes per second; 0 when the sample is invalid. */
  deliveryRate: number;
  /** Bytes delivered over the sample interval. */
  delivered: number;
  /** max(sendElapsed, ackElapsed), ms; -1 when the sample was discarded. */
  interval: number;
  sendElapsed: number;
  ackElapsed: number;
  /** C.delivered of the newest packet acknowledged (drives BBR's round counting). */
  priorDelivered: number;
  priorTime: number;
  /** The newest acknowledged packet was sent while application-limited. */
  isAppLimited: boolean;
  /** Bytes newly acknowledged by this ACK. */
  newlyAcked: number;
  /** Bytes newly marked lost while processing this ACK. */
  newlyLost: number;
  /** tx_in_flight of the newest acknowledged packet. */
  txInFlight: number;
  /** Bytes lost between the newest acknowledged packet's send and now (C.lost − P.lost). */
  lost: number;
  /** RTT sample of this ACK, ms; -1 when none. */
  rtt: number;
  /** Bytes in flight before this ACK. */
  priorInFlight: number;
  /** The sample can be used (enough time elapsed: interval ≥ min RTT, draft §3.3). */
  valid: boolean;
}

function emptySample(): DeliveryRateSample {
  return {
    deliveryRate: 0, delivered: 0, interval: -1, sendElapsed: 0, ackElapsed: 0, priorDelivered: 0, priorTime: 0,
    isAppLimited: false, newlyAcked: 0, newlyLost: 0, txInFlight: 0, lost: 0, rtt: -1, priorInFlight: 0, valid: false,
  };
}

/** A fresh packet-state record (the simulator allocates these once and reuses them). */
export function newDeliveryRatePacketState(): DeliveryRatePacketState {
  return { delivered: 0, deliveredTime: 0, firstSentTime: 0, sentTime: 0, size: 0, isAppLimited: false, txInFlight: 0, lost: 0 };
}

/**
 * The connection-level half of draft-cheng-iccrg-delivery-rate-estimation. Allocation-free per packet:
 * the caller owns the per-packet records and the sample object is reused.
 */
export class DeliveryRateEstimator {
  /** C.delivered: bytes delivered so far. */
  delivered = 0;
  /** C.delivered_time. */
  deliveredTime = 0;
  /** C.first_sent_time. */
  firstSentTime = 0;
  /** C.app_limited: 0, or the C.delivered value that marks the end of an app-limited bubble (draft §3.4). */
  appLimited = 0;
  /** C.lost: bytes declared lost so far. */
  lost = 0;
  private readonly rs: DeliveryRateSample = emptySample();
  private hasData = false;

  /**
   * Stamps a packet as it is sent (draft §3.2 "SendPacket"). `bytesInFlightBefore` is the pipe before this
   * packet: when nothing is in flight the send and delivery clocks restart, so idle time never counts.
   */
  onPacketSent(p: DeliveryRatePacketState, now: number, size: number, bytesInFlightBefore: number): void {
    if (bytesInFlightBefore === 0) {
      this.firstSentTime = now;
      this.deliveredTime = now;
    }
    p.firstSentTime = this.firstSentTime;
    p.deliveredTime = this.deliveredTime;
    p.delivered = this.delivered;
    p.isAppLimited = this.appLimited !== 0;
    p.sentTime = now;
    p.size = size;
    p.txInFlight = bytesInFlightBefore + size;
    p.lost = this.lost;
  }

  /** Starts the per-ACK sample; call before the onPacketDelivered calls of one ACK. */
  beginAck(priorInFlight: number): void {
    const rs = this.rs;
    this.hasData = false;
    rs.priorTime = 0;
    rs.newlyAcked = 0;
    rs.newlyLost = 0;
    rs.rtt = -1;
    rs.priorInFlight = priorInFlight;
  }

  /** A packet was (selectively or cumulatively) acknowledged (draft §3.3 "UpdateRateSample"). */
  onPacketDelivered(p: DeliveryRatePacketState, now: number): void {
    if (p.deliveredTime === -Infinity) return; // already counted when it was SACKed
    const rs = this.rs;
    this.delivered += p.size;
    this.deliveredTime = now;
    rs.newlyAcked += p.size;
    // The most recently sent packet defines the sample (draft §3.3 IsNewestPacket; tcp_rate.c tcp_rate_skb_delivered).
    if (!this.hasData || p.sentTime >= this.firstSentTime) {
      this.hasData = true;
      rs.priorDelivered = p.delivered;
      rs.priorTime = p.deliveredTime;
      rs.isAppLimited = p.isAppLimited;
      rs.sendElapsed = p.sentTime - p.firstSentTime;
      rs.ackElapsed = now - p.deliveredTime;
      rs.txInFlight = p.txInFlight;
      rs.lost = this.lost - p.lost;
      this.firstSentTime = p.sentTime;
    }
    p.deliveredTime = -Infinity;
  }

  /** A packet was declared lost. */
  onPacketLost(p: DeliveryRatePacketState): void {
    this.lost += p.size;
    this.rs.newlyLost += p.size;
    p.deliveredTime = -Infinity;
  }

  /**
   * Marks the connection application-limited (draft §3.4): samples taken until the data in flight now is
   * delivered are flagged, so BBR does not let them lower its bandwidth estimate.
   */
  markAppLimited(bytesInFlight: number): void {
    this.appLimited = this.delivered + bytesInFlight || 1;
  }

  /**
   * Finishes the per-ACK sample (draft §3.3 "GenerateRateSample"). `minRttMs` discards samples over intervals
   * shorter than the path's minimum RTT, which would overestimate the rate (ACK compression).
   */
  generate(minRttMs: number, rttMs = -1): DeliveryRateSample {
    const rs = this.rs;
    rs.rtt = rttMs;
    // The app-limited bubble is gone once everything that was in flight at the mark is delivered.
    if (this.appLimited !== 0 && this.delivered > this.appLimited) this.appLimited = 0;
    rs.valid = false;
    rs.deliveryRate = 0;
    if (!this.hasData) {
      rs.interval = -1;
      rs.delivered = 0;
      return rs;
    }
    // Use the longer of the send and ACK intervals: neither can be faster than the bottleneck (draft §3.3).
    rs.interval = Math.max(rs.sendElapsed, rs.ackElapsed);
    rs.delivered = this.delivered - rs.priorDelivered;
    if (rs.interval < minRttMs || rs.interval <= 0) {
      rs.interval = -1;
      return rs;
    }
    rs.deliveryRate = (rs.delivered * 1000) / rs.interval;
    rs.valid = true;
    return rs;
  }

  /** The sample of the last generate() call. */
  get sample(): DeliveryRateSample {
    return this.rs;
  }
}

/**
 * A coarse estimator for callers that only report `onAck(bytes, rtt, now)` (the guide's API): the rate of
 * acknowledged bytes over roughly the last RTT. Per-packet stamping (DeliveryRateEstimator) is better.
 */
export class AckRateEstimator {
  private readonly times = new Float64Array(64);
  private readonly counts = new Float64Array(64);
  private head = 0;
  private size = 0;
  /** Bytes acknowledged so far. */
  delivered = 0;

  /** Records an ACK and returns [rate bytes/s or 0, delivered at the window start]. */
  onAck(bytes: number, now: number, windowMs: number, out: DeliveryRateSample): DeliveryRateSample {
    const prior = this.delivered;
    this.delivered += bytes;
    // Drop entries older than the window, keeping the newest one outside it as the interval start.
    while (this.size > 1) {
      const second = (this.head + 1) & 63;
      if (now - this.times[second]! >= windowMs) {
        this.head = second;
        this.size--;
      } else break;
    }
    const start = this.size > 0 ? this.times[this.head]! : now;
    const startDelivered = this.size > 0 ? this.counts[this.head]! : prior;
    if (this.size === 64) {
      this.head = (this.head + 1) & 63;
      this.size--;
    }
    const slot = (this.head + this.size) & 63;
    this.times[slot] = now;
    this.counts[slot] = this.delivered;
    this.size++;
    const interval = now - start;
    out.newlyAcked = bytes;
    out.priorDelivered = startDelivered;
    out.delivered = this.delivered - startDelivered;
    out.interval = interval > 0 ? interval : -1;
    out.deliveryRate = interval > 0 && interval >= windowMs * 0.5 ? (out.delivered * 1000) / interval : 0;
    out.valid = out.deliveryRate > 0;
    out.isAppLimited = false;
    return out;
  }
}

/** A new, empty sample object (for transports that build samples themselves). */
export function newDeliveryRateSample(): DeliveryRateSample {
  return emptySample();
}
