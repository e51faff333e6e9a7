// A deterministic discrete-event model of flows sharing one bottleneck: paced senders, a drop-tail FIFO with
// a byte-limited buffer, random loss on the wire, and an ACK path. Each flow has its own start time and
// round-trip propagation delay. Loss detection is SACK/RACK-like with a 3-packet reordering threshold
// (RFC 6675 DupThresh) plus an RFC 6298 retransmission timer; every transmission gets a new packet number
// (as in QUIC), and data is bulk and fungible, so a retransmission is just another packet.
//
// Nothing is allocated per event: packets live in per-flow rings of reused records, the bottleneck queue and
// the ACK pipes are typed-array rings, and the event queue is a typed-array binary heap.
import { NetworkError } from '../../errors.js';
import { DeliveryRateEstimator, newDeliveryRatePacketState, type DeliveryRatePacketState } from '../delivery-rate.js';
import { createCongestionControl, isCcAlgorithmName } from '../factory.js';
import { CcRandom } from '../filters.js';
import type { CubicOptions } from '../cubic.js';
import type { CcAckInfo, CcAlgorithmName, CcEcnInfo, CcLossInfo, CcSentInfo, CongestionControl } from '../types.js';
import { SimEventQueue } from './event-queue.js';

/** One flow of a simulation. */
export interface SimFlowConfig {
  cc: CcAlgorithmName;
  /** Round-trip propagation delay of this flow's path, ms (queueing and serialisation come on top). */
  rttMs: number;
  /** When the flow starts sending, ms. Default 0. */
  startMs?: number;
  /** Initial window in packets. Default 10 (RFC 6928). */
  initialCwndPackets?: number;
  /** Name in tables and plots. Default `${cc}-${index}`. */
  label?: string;
  /** Options passed to the controller (e.g. CUBIC's beta). */
  ccOptions?: CubicOptions;
}

/** The bottleneck link. */
export interface SimLinkConfig {
  /** Bottleneck rate, Mbit/s. */
  rateMbps: number;
  /** Buffer in bytes. */
  bufferBytes?: number;
  /** Buffer as a multiple of the BDP (rate × the smallest flow RTT); used when bufferBytes is absent. Default 1. */
  bufferBdp?: number;
  /** Probability that a packet is lost on the wire after the bottleneck (random, independent). Default 0. */
  lossRate?: number;
  /** Mark ECN-CE instead of queueing silently once the queue exceeds this many bytes (off by default). */
  ecnThresholdBytes?: number;
}

/** A whole simulation. */
export interface SimConfig {
  link: SimLinkConfig;
  flows: SimFlowConfig[];
  /** Simulated time, ms. */
  durationMs: number;
  /** Metrics ignore everything before this time, ms (startup transients). Default 0. */
  warmupMs?: number;
  /** PRNG seed (random loss, BBR's random phases). Default 1. */
  seed?: number;
  /** Bytes per packet on the wire (also the controllers' MSS). Default 1500. */
  packetBytes?: number;
  /** Time-series sampling interval, ms; 0 disables the series. Default durationMs / 400. */
  sampleIntervalMs?: number;
}

/** Time series sampled every sampleIntervalMs. */
export interface SimSeries {
  /** Sample times, ms. */
  t: number[];
  /** Bottleneck queue, bytes. */
  queueBytes: number[];
  /** Per flow: cwnd (bytes), pacing rate (Mbit/s), throughput over the last interval (Mbit/s), and controller mode. */
  flows: { cwnd: number[]; pacingMbps: number[]; throughputMbps: number[]; mode: string[] }[];
}

/** Per-flow results over the measurement window. */
export interface SimFlowResult {
  label: string;
  cc: CcAlgorithmName;
  rttMs: number;
  startMs: number;
  /** Goodput: bytes that crossed the bottleneck and were not lost afterwards, Mbit/s. */
  throughputMbps: number;
  /** This flow's fraction of all flows' throughput. */
  share: number;
  packetsSent: number;
  packetsLost: number;
  /** Lost / sent over the window (drops in the queue plus random losses). */
  lossRate: number;
  /** Mean RTT sample over the window, ms. */
  meanRttMs: number;
  /** cwnd at the end, bytes. */
  finalCwnd: number;
  /** Controller mode at the end. */
  finalMode: string;
  retransmitTimeouts: number;
}

/** What a simulation measured. */
export interface SimResult {
  durationMs: number;
  warmupMs: number;
  linkRateMbps: number;
  bufferBytes: number;
  /** Sum of the flows' goodput, Mbit/s. */
  throughputMbps: number;
  /** throughputMbps / link rate. */
  utilisation: number;
  /** Median and 95th percentile of the time packets waited in the bottleneck queue, ms. */
  queueDelayP50Ms: number;
  queueDelayP95Ms: number;
  /** Lost / sent over all flows in the window. */
  lossRate: number;
  /** Jain's fairness index over the flows' throughputs: (Σx)² / (n·Σx²). */
  jain: number;
  flows: SimFlowResult[];
  series: SimSeries;
  /** Events the simulator processed. */
  events: number;
}

const K_START = 1;
const K_SEND = 2;
const K_LINK_DONE = 3;
const K_ACK = 4;
const K_RTO = 5;
const K_SAMPLE = 6;

const ST_FREE = 0;
const ST_INFLIGHT = 1;
const ST_DONE = 2;

/** Jain's fairness index of a list of allocations (1 = perfectly fair, 1/n = one takes all). */
export function jainFairnessIndex(xs: readonly number[]): number {
  let s = 0;
  let s2 = 0;
  for (const x of xs) {
    s += x;
    s2 += x * x;
  }
  return s2 > 0 ? (s * s) / (xs.length * s2) : 0;
}

class SimFlow {
  readonly cc: CongestionControl;
  readonly est = new DeliveryRateEstimator();
  readonly cfg: SimFlowConfig;
  readonly rtt: number;
  readonly start: number;
  readonly label: string;
  // Packet ring, indexed by packet number & mask.
  pkts: DeliveryRatePacketState[];
  status: Uint8Array;
  /** Which hole (lost data) a packet retransmits, or -1 for new data. */
  pktHole: Int32Array;
  // Holes: lost data in sequence order, each with the time its data was first sent, until a retransmission
  // of it is delivered. They give the cumulative ACK point (snd_una) that ends a recovery (RFC 6582).
  holeOrig = new Float64Array(256);
  holeFilled = new Uint8Array(256);
  holeHead = 0;
  holeTail = 0;
  // Holes waiting for (re)transmission, oldest first (retransmissions go before new data, RFC 6675 §5).
  retxQ = new Int32Array(256);
  retxHead = 0;
  retxCount = 0;
  mask: number;
  seqNext = 0;
  lowest = 0;
  inflight = 0;
  nextSendTime = 0;
  sendScheduled = false;
  // ACK pipe: packets that crossed the bottleneck, in arrival order (FIFO per flow).
  ackTime = new Float64Array(1024);
  ackSeq = new Int32Array(1024);
  ackCe = new Uint8Array(1024);
  ackHead = 0;
  ackCount = 0;
  // RFC 6298 retransmission timer.
  srtt = 0;
  rttvar = 0;
  minRtt = Infinity;
  rtoBackoff = 1;
  rtoDeadline = Infinity;
  rtoScheduled = false;
  rtos = 0;
  // Window accounting.
  sentW = 0;
  lostW = 0;
  bytesW = 0;
  rttSumW = 0;
  rttCntW = 0;
  bytesSinceSample = 0;
  // Reused argument records: nothing is allocated per event.
  readonly ackInfo: Required<Pick<CcAckInfo, 'bytesInFlight' | 'priorInFlight' | 'sentTime' | 'oldestUnackedSentTime' | 'rateSample'>>;
  readonly lossInfo: Required<Pick<CcLossInfo, 'lostBytes' | 'sentTime' | 'bytesInFlight' | 'txInFlight' | 'lostBeforeSend' | 'appLimited'>> = {
    lostBytes: 0, sentTime: 0, bytesInFlight: 0, txInFlight: 0, lostBeforeSend: 0, appLimited: false,
  };
  readonly sentInfo: CcSentInfo = { bytesInFlight: 0 };
  readonly ecnInfo: CcEcnInfo = { ceBytes: 0, sentTime: 0 };

  constructor(cfg: SimFlowConfig, index: number, mss: number, random: () => number) {
    this.cfg = cfg;
    this.rtt = cfg.rttMs;
    this.start = cfg.startMs ?? 0;
    this.label = cfg.label ?? `${cfg.cc}-${index}`;
    this.cc = createCongestionControl(cfg.cc, (cfg.initialCwndPackets ?? 10) * mss, { ...cfg.ccOptions, mss, random });
    this.cc.useRateEstimator?.(this.est);
    this.ackInfo = { bytesInFlight: 0, priorInFlight: 0, sentTime: 0, oldestUnackedSentTime: 0, rateSample: this.est.sample };
    const cap = 1024;
    this.pkts = Array.from({ length: cap }, newDeliveryRatePacketState);
    this.status = new Uint8Array(cap);
    this.pktHole = new Int32Array(cap);
    this.mask = cap - 1;
  }

  private growHoles(): void {
    const oldCap = this.holeOrig.length;
    const cap = oldCap * 2;
    const o = new Float64Array(cap);
    const f = new Uint8Array(cap);
    for (let h = this.holeHead; h < this.holeTail; h++) {
      o[h & (cap - 1)] = this.holeOrig[h & (oldCap - 1)]!;
      f[h & (cap - 1)] = this.holeFilled[h & (oldCap - 1)]!;
    }
    this.holeOrig = o;
    this.holeFilled = f;
  }

  private pushRetx(h: number): void {
    if (this.retxCount === this.retxQ.length) {
      const q = new Int32Array(this.retxQ.length * 2);
      for (let i = 0; i < this.retxCount; i++) q[i] = this.retxQ[(this.retxHead + i) % this.retxQ.length]!;
      this.retxQ = q;
      this.retxHead = 0;
    }
    this.retxQ[(this.retxHead + this.retxCount) % this.retxQ.length] = h;
    this.retxCount++;
  }

  /** The data of a lost packet must be sent again. */
  onDataLost(hole: number, sentTime: number): void {
    if (hole < 0) {
      if (this.holeTail - this.holeHead === this.holeOrig.length) this.growHoles();
      hole = this.holeTail++;
      const m = this.holeOrig.length - 1;
      this.holeOrig[hole & m] = sentTime;
      this.holeFilled[hole & m] = 0;
    }
    this.pushRetx(hole);
  }

  /** The next packet's payload: the oldest hole awaiting retransmission, or new data (-1). */
  takeRetx(): number {
    while (this.retxCount > 0) {
      const h = this.retxQ[this.retxHead]!;
      this.retxHead = (this.retxHead + 1) % this.retxQ.length;
      this.retxCount--;
      if (h >= this.holeHead && this.holeFilled[h & (this.holeOrig.length - 1)] === 0) return h;
    }
    return -1;
  }

  /** A retransmission was delivered: its hole is filled; the cumulative point may move. */
  fillHole(h: number): void {
    const m = this.holeOrig.length - 1;
    if (h < this.holeHead) return;
    this.holeFilled[h & m] = 1;
    while (this.holeHead < this.holeTail && this.holeFilled[this.holeHead & m] === 1) this.holeHead++;
  }

  /** Send time of the oldest unacknowledged data (Infinity when nothing is outstanding). */
  oldestUnacked(): number {
    const hole = this.holeHead < this.holeTail ? this.holeOrig[this.holeHead & (this.holeOrig.length - 1)]! : Infinity;
    let t = Infinity;
    for (let s = this.lowest; s < this.seqNext; s++) {
      const slot = s & this.mask;
      if (this.status[slot] === 1) {
        if (this.pktHole[slot]! < 0) t = this.pkts[slot]!.sentTime;
        break;
      }
    }
    return hole < t ? hole : t;
  }

  /** Doubles the packet ring when the window outgrows it (rare; not per event). */
  growPkts(): void {
    const oldCap = this.mask + 1;
    const cap = oldCap * 2;
    const pk: DeliveryRatePacketState[] = new Array<DeliveryRatePacketState>(cap);
    const st = new Uint8Array(cap);
    const ph = new Int32Array(cap);
    for (let i = 0; i < cap; i++) pk[i] = newDeliveryRatePacketState();
    for (let s = this.lowest; s < this.seqNext; s++) {
      pk[s & (cap - 1)] = this.pkts[s & this.mask]!;
      st[s & (cap - 1)] = this.status[s & this.mask]!;
      ph[s & (cap - 1)] = this.pktHole[s & this.mask]!;
    }
    this.pkts = pk;
    this.status = st;
    this.pktHole = ph;
    this.mask = cap - 1;
  }

  pushAck(t: number, seq: number, ce: boolean): void {
    if (this.ackCount === this.ackTime.length) {
      const cap = this.ackTime.length * 2;
      const t2 = new Float64Array(cap);
      const s2 = new Int32Array(cap);
      const c2 = new Uint8Array(cap);
      for (let i = 0; i < this.ackCount; i++) {
        const j = (this.ackHead + i) % this.ackTime.length;
        t2[i] = this.ackTime[j]!;
        s2[i] = this.ackSeq[j]!;
        c2[i] = this.ackCe[j]!;
      }
      this.ackTime = t2;
      this.ackSeq = s2;
      this.ackCe = c2;
      this.ackHead = 0;
    }
    const j = (this.ackHead + this.ackCount) % this.ackTime.length;
    this.ackTime[j] = t;
    this.ackSeq[j] = seq;
    this.ackCe[j] = ce ? 1 : 0;
    this.ackCount++;
  }

  rto(): number {
    // RFC 6298 §2.3 with Linux's 200 ms minimum (TCP_RTO_MIN) instead of 1 s.
    const base = this.srtt > 0 ? this.srtt + Math.max(1, 4 * this.rttvar) : 1000;
    return Math.min(Math.max(base, 200) * this.rtoBackoff, 60_000);
  }
}

function checkConfig(cfg: SimConfig): void {
  const bad = (field: string, actual: unknown, why: string): never => {
    throw new NetworkError('INVALID_ARGUMENT', `simulation: ${field} ${why}`, { field, actual: String(actual) });
  };
  if (!(cfg.link.rateMbps > 0) || !Number.isFinite(cfg.link.rateMbps)) bad('link.rateMbps', cfg.link.rateMbps, 'must be a positive number');
  if (!(cfg.durationMs > 0) || !Number.isFinite(cfg.durationMs)) bad('durationMs', cfg.durationMs, 'must be a positive number');
  const loss = cfg.link.lossRate ?? 0;
  if (!(loss >= 0 && loss < 1)) bad('link.lossRate', loss, 'must be in [0, 1)');
  if (cfg.flows.length === 0) bad('flows', 0, 'must list at least one flow');
  for (const [i, f] of cfg.flows.entries()) {
    if (!isCcAlgorithmName(f.cc)) bad(`flows[${i}].cc`, f.cc, 'is not a known algorithm');
    if (!(f.rttMs > 0) || !Number.isFinite(f.rttMs)) bad(`flows[${i}].rttMs`, f.rttMs, 'must be a positive number');
    if ((f.startMs ?? 0) < 0) bad(`flows[${i}].startMs`, f.startMs, 'must be ≥ 0');
  }
}

/** Runs one simulation to completion and returns its metrics and time series. Deterministic for a given config. */
/** Runs one simulation to completion and returns its metrics and time series. Deterministic for a given config. */
export function runLinkSimulation(cfg: SimConfig): SimResult {
  checkConfig(cfg);
  return new LinkSimulation(cfg).run();
}

// The event loop's state lives in fields, not closure variables: V8 keeps double fields unboxed, while a
// captured `let now` would allocate a heap number on every event.
class LinkSimulation {
  private readonly pkt: number;
  private readonly duration: number;
  private readonly warmup: number;
  private readonly rateBps: number;
  private readonly txMs: number;
  private readonly buffer: number;
  private readonly lossRate: number;
  private readonly ecnThresh: number;
  private readonly rng: CcRandom;
  private readonly flows: SimFlow[];
  private readonly q = new SimEventQueue(256);
  // Bottleneck FIFO ring.
  private qCap: number;
  private qFlow: Int32Array;
  private qSeq: Int32Array;
  private qEnq: Float64Array;
  private qCe: Uint8Array;
  private qHead = 0;
  private qLen = 0;
  private queueBytes = 0;
  private linkBusy = false;
  // Queueing-delay histogram over the window.
  private readonly maxWait: number;
  private readonly bins = 20000;
  private readonly bin: number;
  private readonly hist: Uint32Array;
  private histN = 0;
  private readonly sampleEvery: number;
  private readonly series: SimSeries;
  private events = 0;
  private now = 0;

  constructor(private readonly cfg: SimConfig) {
    this.pkt = cfg.packetBytes ?? 1500;
    this.duration = cfg.durationMs;
    this.warmup = Math.min(cfg.warmupMs ?? 0, this.duration);
    this.rateBps = cfg.link.rateMbps * 1e6;
    this.txMs = (this.pkt * 8 * 1000) / this.rateBps;
    const minRtt = Math.min(...cfg.flows.map((f) => f.rttMs));
    const bdpBytes = (this.rateBps / 8) * (minRtt / 1000);
    this.buffer = Math.max(this.pkt, Math.floor(cfg.link.bufferBytes ?? (cfg.link.bufferBdp ?? 1) * bdpBytes));
    this.lossRate = cfg.link.lossRate ?? 0;
    this.ecnThresh = cfg.link.ecnThresholdBytes ?? Infinity;
    const seed = cfg.seed ?? 1;
    this.rng = new CcRandom(seed);
    this.flows = cfg.flows.map((f, i) => new SimFlow(f, i, this.pkt, new CcRandom((seed * 7919 + i * 104729) >>> 0).fn()));
    this.qCap = Math.max(64, 2 ** Math.ceil(Math.log2(this.buffer / this.pkt + 2)));
    this.qFlow = new Int32Array(this.qCap);
    this.qSeq = new Int32Array(this.qCap);
    this.qEnq = new Float64Array(this.qCap);
    this.qCe = new Uint8Array(this.qCap);
    this.maxWait = (this.buffer * 8 * 1000) / this.rateBps + this.txMs;
    this.bin = Math.max(this.maxWait / this.bins, 1e-6);
    this.hist = new Uint32Array(this.bins + 1);
    this.sampleEvery = cfg.sampleIntervalMs ?? this.duration / 400;
    this.series = { t: [], queueBytes: [], flows: this.flows.map(() => ({ cwnd: [], pacingMbps: [], throughputMbps: [], mode: [] })) };
  }

  private enqueue(fi: number, seq: number): void {
    const pkt = this.pkt;
    if (this.queueBytes + pkt > this.buffer) return; // tail drop: the sender learns of it from later ACKs
    if (this.qLen === this.qCap) this.growQueue();
    const j = (this.qHead + this.qLen) & (this.qCap - 1);
    this.qFlow[j] = fi;
    this.qSeq[j] = seq;
    this.qEnq[j] = this.now;
    this.qCe[j] = this.queueBytes > this.ecnThresh ? 1 : 0;
    this.qLen++;
    this.queueBytes += pkt;
    if (!this.linkBusy) this.startTx();
  }

  private growQueue(): void {
    const cap = this.qCap * 2;
    const f2 = new Int32Array(cap); const s2 = new Int32Array(cap); const e2 = new Float64Array(cap); const c2 = new Uint8Array(cap);
    for (let i = 0; i < this.qLen; i++) {
      const j = (this.qHead + i) & (this.qCap - 1);
      f2[i] = this.qFlow[j]!; s2[i] = this.qSeq[j]!; e2[i] = this.qEnq[j]!; c2[i] = this.qCe[j]!;
    }
    this.qFlow = f2; this.qSeq = s2; this.qEnq = e2; this.qCe = c2; this.qHead = 0; this.qCap = cap;
  }

  private startTx(): void {
    this.linkBusy = true;
    const now = this.now;
    if (now >= this.warmup) {
      const wait = now - this.qEnq[this.qHead]!;
      this.hist[Math.min(this.bins, Math.floor(wait / this.bin))]!++;
      this.histN++;
    }
    this.q.push(now + this.txMs, K_LINK_DONE, 0);
  }

  private armRto(f: SimFlow, fi: number): void {
    f.rtoDeadline = this.now + f.rto();
    if (!f.rtoScheduled) {
      f.rtoScheduled = true;
      this.q.push(f.rtoDeadline, K_RTO, fi);
    }
  }

  private trySend(f: SimFlow, fi: number): void {
    const now = this.now;
    const pkt = this.pkt;
    if (now < f.start) return;
    if (now < f.nextSendTime) {
      if (!f.sendScheduled) {
        f.sendScheduled = true;
        this.q.push(f.nextSendTime, K_SEND, fi);
      }
      return;
    }
    if (f.inflight + pkt > f.cc.cwnd) return; // cwnd-limited: the next ACK sends
    if (f.seqNext - f.lowest > f.mask) f.growPkts();
    const seq = f.seqNext++;
    const slot = seq & f.mask;
    const before = f.inflight;
    f.est.onPacketSent(f.pkts[slot]!, now, pkt, before);
    f.status[slot] = ST_INFLIGHT;
    f.pktHole[slot] = f.takeRetx();
    f.inflight += pkt;
    f.sentInfo.bytesInFlight = f.inflight;
    f.cc.onPacketSent(pkt, now, f.sentInfo);
    if (now >= this.warmup) f.sentW++;
    let rate = f.cc.pacingRate();
    if (!(rate > 0) || !Number.isFinite(rate)) rate = (f.cc.cwnd * 1000) / f.rtt;
    f.nextSendTime = now + (pkt * 1000) / rate;
    if (f.rtoDeadline === Infinity || before === 0) this.armRto(f, fi);
    this.enqueue(fi, seq);
    f.sendScheduled = true;
    this.q.push(f.nextSendTime, K_SEND, fi);
  }

  private markLost(f: SimFlow, s: number): void {
    const slot = s & f.mask;
    const p = f.pkts[slot]!;
    f.status[slot] = ST_DONE;
    f.inflight -= this.pkt;
    if (p.sentTime >= this.warmup) f.lostW++;
    const lostBefore = p.lost;
    f.onDataLost(f.pktHole[slot]!, p.sentTime);
    f.est.onPacketLost(p);
    const li = f.lossInfo;
    li.lostBytes = this.pkt;
    li.sentTime = p.sentTime;
    li.bytesInFlight = f.inflight;
    li.txInFlight = p.txInFlight;
    li.lostBeforeSend = lostBefore;
    li.appLimited = p.isAppLimited;
    f.cc.onLoss(this.now, li);
  }

  private onAck(f: SimFlow, fi: number, seq: number, ce: boolean): void {
    const now = this.now;
    const slot = seq & f.mask;
    if (seq < f.lowest || f.status[slot] !== ST_INFLIGHT) return; // already declared lost (after an RTO): spurious
    const p = f.pkts[slot]!;
    const rtt = now - p.sentTime;
    // RFC 6298 §2 for the timer (the controllers keep their own estimates).
    if (f.srtt === 0) {
      f.srtt = rtt;
      f.rttvar = rtt / 2;
    } else {
      f.rttvar = 0.75 * f.rttvar + 0.25 * Math.abs(f.srtt - rtt);
      f.srtt = 0.875 * f.srtt + 0.125 * rtt;
    }
    if (rtt < f.minRtt) f.minRtt = rtt;
    f.rtoBackoff = 1;
    if (now >= this.warmup) {
      f.rttSumW += rtt;
      f.rttCntW++;
    }
    const prior = f.inflight;
    f.est.beginAck(prior);
    f.status[slot] = ST_DONE;
    f.inflight -= this.pkt;
    const sentTime = p.sentTime;
    const hole = f.pktHole[slot]!;
    if (hole >= 0) f.fillHole(hole);
    f.est.onPacketDelivered(p, now);
    // RFC 6675 DupThresh = 3 in packets: anything sent ≥ 3 packets before a delivered one is lost (FIFO path).
    while (f.lowest < f.seqNext) {
      const s = f.lowest;
      const st = f.status[s & f.mask]!;
      if (st === ST_INFLIGHT) {
        if (s > seq - 3) break;
        this.markLost(f, s);
      }
      f.status[s & f.mask] = ST_FREE;
      f.lowest++;
    }
    if (ce) {
      f.ecnInfo.ceBytes = this.pkt;
      f.ecnInfo.sentTime = sentTime;
      f.cc.onEcnCe(now, f.ecnInfo);
    }
    f.est.generate(f.minRtt, rtt);
    const ai = f.ackInfo;
    ai.bytesInFlight = f.inflight;
    ai.priorInFlight = prior;
    ai.sentTime = sentTime;
    ai.oldestUnackedSentTime = f.oldestUnacked();
    f.cc.onAck(this.pkt, rtt, now, ai);
    f.rtoDeadline = f.inflight > 0 ? now + f.rto() : Infinity;
    if (!f.sendScheduled) this.trySend(f, fi);
  }

  private onRto(f: SimFlow, fi: number): void {
    const now = this.now;
    f.rtoScheduled = false;
    if (f.inflight <= 0 || f.rtoDeadline === Infinity) return;
    if (f.rtoDeadline > now + 1e-9) {
      f.rtoScheduled = true;
      this.q.push(f.rtoDeadline, K_RTO, fi);
      return;
    }
    // RFC 6298 §5.4–5.7: everything outstanding is presumed lost; back the timer off.
    f.rtos++;
    for (let s = f.lowest; s < f.seqNext; s++) {
      const slot = s & f.mask;
      if (f.status[slot] === ST_INFLIGHT) {
        const p = f.pkts[slot]!;
        f.status[slot] = ST_DONE;
        if (p.sentTime >= this.warmup) f.lostW++;
        f.onDataLost(f.pktHole[slot]!, p.sentTime);
        f.est.onPacketLost(p);
      }
    }
    f.inflight = 0;
    f.cc.onRto(now);
    f.rtoBackoff = Math.min(f.rtoBackoff * 2, 64);
    f.rtoDeadline = Infinity;
    f.nextSendTime = now;
    if (!f.sendScheduled) this.trySend(f, fi); // else the pending pacing event sends within one interval
  }

  private sample(): void {
    const series = this.series;
    series.t.push(this.now);
    series.queueBytes.push(this.queueBytes);
    for (let i = 0; i < this.flows.length; i++) {
      const f = this.flows[i]!;
      const s = series.flows[i]!;
      s.cwnd.push(f.cc.cwnd);
      s.pacingMbps.push((f.cc.pacingRate() * 8) / 1e6);
      s.throughputMbps.push((f.bytesSinceSample * 8) / 1000 / this.sampleEvery);
      s.mode.push(f.cc.state().mode);
      f.bytesSinceSample = 0;
    }
  }

  private linkDone(): void {
    const qh = this.qHead;
    const fi = this.qFlow[qh]!;
    const seq = this.qSeq[qh]!;
    const ce = this.qCe[qh] === 1;
    this.qHead = (qh + 1) & (this.qCap - 1);
    this.qLen--;
    this.queueBytes -= this.pkt;
    const f = this.flows[fi]!;
    // Random loss on the wire after the bottleneck: the packet used link time but never arrives.
    if (this.lossRate === 0 || this.rng.next() >= this.lossRate) {
      if (this.now >= this.warmup) f.bytesW += this.pkt;
      f.bytesSinceSample += this.pkt;
      const at = this.now + f.rtt;
      if (f.ackCount === 0) this.q.push(at, K_ACK, fi);
      f.pushAck(at, seq, ce);
    }
    if (this.qLen > 0) this.startTx();
    else this.linkBusy = false;
  }

  private ackArrived(fi: number): void {
    const f = this.flows[fi]!;
    const j = f.ackHead;
    const seq = f.ackSeq[j]!;
    const ce = f.ackCe[j] === 1;
    f.ackHead = (j + 1) % f.ackTime.length;
    f.ackCount--;
    if (f.ackCount > 0) this.q.push(f.ackTime[f.ackHead]!, K_ACK, fi);
    this.onAck(f, fi, seq, ce);
  }

  run(): SimResult {
    const q = this.q;
    const flows = this.flows;
    const duration = this.duration;
    for (let i = 0; i < flows.length; i++) q.push(flows[i]!.start, K_START, i);
    if (this.sampleEvery > 0) q.push(this.sampleEvery, K_SAMPLE, 0);
    while (q.size > 0 && q.peekTime() <= duration) {
      this.now = q.pop();
      this.events++;
      const arg = q.poppedArg;
      switch (q.poppedKind) {
        case K_LINK_DONE:
          this.linkDone();
          break;
        case K_ACK:
          this.ackArrived(arg);
          break;
        case K_SEND: {
          const f = flows[arg]!;
          f.sendScheduled = false;
          this.trySend(f, arg);
          break;
        }
        case K_RTO:
          this.onRto(flows[arg]!, arg);
          break;
        case K_START: {
          const f = flows[arg]!;
          f.nextSendTime = this.now;
          this.trySend(f, arg);
          break;
        }
        case K_SAMPLE:
          this.sample();
          if (this.now + this.sampleEvery <= duration) q.push(this.now + this.sampleEvery, K_SAMPLE, 0);
          break;
        default:
          break;
      }
    }
    return this.results();
  }

  private percentile(p: number): number {
    if (this.histN === 0) return 0;
    const target = Math.ceil(p * this.histN);
    let acc = 0;
    for (let i = 0; i <= this.bins; i++) {
      acc += this.hist[i]!;
      if (acc >= target) return i === 0 ? 0 : (i + 0.5) * this.bin;
    }
    return this.maxWait;
  }

  private results(): SimResult {
    const duration = this.duration;
    const warmup = this.warmup;
    const windowMs = duration - warmup;
    const flowResults: SimFlowResult[] = this.flows.map((f) => {
      const active = Math.max(1e-9, duration - Math.max(warmup, f.start));
      const st = f.cc.state();
      return {
        label: f.label, cc: f.cfg.cc, rttMs: f.rtt, startMs: f.start, throughputMbps: (f.bytesW * 8) / 1000 / active, share: 0,
        packetsSent: f.sentW, packetsLost: f.lostW, lossRate: f.sentW > 0 ? f.lostW / f.sentW : 0,
        meanRttMs: f.rttCntW > 0 ? f.rttSumW / f.rttCntW : 0, finalCwnd: f.cc.cwnd, finalMode: st.mode, retransmitTimeouts: f.rtos,
      };
    });
    const totalBytes = this.flows.reduce((a, f) => a + f.bytesW, 0);
    const throughput = windowMs > 0 ? (totalBytes * 8) / 1000 / windowMs : 0;
    const sumFlow = flowResults.reduce((a, r) => a + r.throughputMbps, 0);
    for (const r of flowResults) r.share = sumFlow > 0 ? r.throughputMbps / sumFlow : 0;
    const sent = this.flows.reduce((a, f) => a + f.sentW, 0);
    const lost = this.flows.reduce((a, f) => a + f.lostW, 0);
    return {
      durationMs: duration, warmupMs: warmup, linkRateMbps: this.cfg.link.rateMbps, bufferBytes: this.buffer,
      throughputMbps: throughput, utilisation: throughput / this.cfg.link.rateMbps,
      queueDelayP50Ms: this.percentile(0.5), queueDelayP95Ms: this.percentile(0.95),
      lossRate: sent > 0 ? lost / sent : 0,
      jain: jainFairnessIndex(flowResults.map((r) => r.throughputMbps)),
      flows: flowResults, series: this.series, events: this.events,
    };
  }
}
