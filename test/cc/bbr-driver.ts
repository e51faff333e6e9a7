// Drives a BBR controller with hand-made rate samples, one "round" (a window of ACKs) at a time.
import { newDeliveryRateSample, type CongestionControl } from '../../src/cc/index.js';

export interface RoundOpts {
  /** Delivery rate of the samples, bytes/s. */
  rate: number;
  /** RTT sample of every ACK, ms. */
  rtt: number;
  /** Bytes in flight reported with every ACK. */
  inflight: number;
  acks?: number;
  /** Bytes lost reported in the rate sample of every ACK of this round. */
  lostPerAck?: number;
  /** Round duration, ms (default: rtt). */
  durationMs?: number;
  /** Called after each ACK. */
  each?: () => void;
  appLimited?: boolean;
}

export class BbrDriver {
  delivered = 0;
  now = 0;
  constructor(readonly cc: CongestionControl, readonly mss = 1000) {}

  round(o: RoundOpts): void {
    const acks = o.acks ?? 10;
    const prior = this.delivered;
    const dur = o.durationMs ?? o.rtt;
    for (let i = 0; i < acks; i++) {
      this.now += dur / acks;
      this.delivered += this.mss;
      const rs = newDeliveryRateSample();
      rs.deliveryRate = o.rate;
      rs.delivered = (o.rate * o.rtt) / 1000;
      rs.interval = o.rtt;
      rs.valid = true;
      rs.priorDelivered = prior;
      rs.newlyAcked = this.mss;
      rs.newlyLost = o.lostPerAck ?? 0;
      rs.lost = o.lostPerAck ?? 0;
      rs.txInFlight = o.inflight;
      rs.priorInFlight = o.inflight;
      rs.rtt = o.rtt;
      rs.isAppLimited = o.appLimited ?? false;
      this.cc.onAck(this.mss, o.rtt, this.now, { rateSample: rs, bytesInFlight: o.inflight, priorInFlight: o.inflight });
      o.each?.();
    }
  }
}
