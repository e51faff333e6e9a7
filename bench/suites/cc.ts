// The link simulator's event rate (goal: ≥ 1 M events/s) and the per-ACK cost of each controller.
// Not a native hot path: there is no native twin, so there is one variant per case ('ts').
import { defineSuite, type BenchCase } from '../harness.js';
import { createCongestionControl, CC_ALGORITHMS } from '../../src/cc/factory.js';
import { runLinkSimulation, type SimConfig } from '../../src/cc/sim/simulator.js';
import { DeliveryRateEstimator, newDeliveryRatePacketState } from '../../src/cc/delivery-rate.js';

let sink = 0;

function simCase(name: string, cfg: SimConfig): BenchCase {
  // Events per run are deterministic: count them once, then time whole runs.
  const events = runLinkSimulation(cfg).events;
  return {
    name: `${name} (${(events / 1000).toFixed(0)} k events/run)`,
    unit: 'events',
    perOp: events,
    variants: [{ name: 'ts', fn: () => { sink += runLinkSimulation(cfg).events; } }],
  };
}

export default defineSuite({
  name: 'cc',
  description: 'link simulator event rate; congestion-control per-ACK cost',
  cases(): BenchCase[] {
    const cases: BenchCase[] = [
      simCase('sim: BBR, 100 Mbit/s, 100 ms, 1 % loss, 5 s', {
        link: { rateMbps: 100, bufferBdp: 1, lossRate: 0.01 }, flows: [{ cc: 'bbr', rttMs: 100 }], durationMs: 5000, sampleIntervalMs: 0,
      }),
      simCase('sim: CUBIC, 100 Mbit/s, 20 ms, 1 BDP, 5 s', {
        link: { rateMbps: 100, bufferBdp: 1 }, flows: [{ cc: 'cubic', rttMs: 20 }], durationMs: 5000, sampleIntervalMs: 0,
      }),
      simCase('sim: 4 flows (reno, cubic, bbr, bbr3), 50 Mbit/s, 2 BDP, 5 s', {
        link: { rateMbps: 50, bufferBdp: 2 }, flows: CC_ALGORITHMS.map((cc, i) => ({ cc, rttMs: 20 + 10 * i, startMs: 100 * i })), durationMs: 5000, sampleIntervalMs: 0,
      }),
    ];
    // One ACK with a rate sample through each controller (the cost a transport pays per ACK).
    for (const alg of CC_ALGORITHMS) {
      const cc = createCongestionControl(alg, 14600, { mss: 1460 });
      const est = new DeliveryRateEstimator();
      const pkts = Array.from({ length: 1024 }, newDeliveryRatePacketState);
      let now = 0;
      let seq = 0;
      let inflight = 0;
      const info = { bytesInFlight: 0, priorInFlight: 0, sentTime: 0, rateSample: est.sample };
      cases.push({
        name: `${alg}: send + ACK with rate sample`,
        unit: 'ops',
        perOp: 1000,
        variants: [{
          name: 'ts',
          fn: () => {
            for (let i = 0; i < 1000; i++) {
              const p = pkts[seq & 1023]!;
              est.onPacketSent(p, now, 1460, inflight);
              cc.onPacketSent(1460, now);
              inflight += 1460;
              const q = pkts[(seq - 20) & 1023]!;
              now += 0.1;
              if (seq >= 20) {
                est.beginAck(inflight);
                est.onPacketDelivered(q, now);
                inflight -= 1460;
                est.generate(1);
                info.bytesInFlight = inflight;
                info.priorInFlight = inflight + 1460;
                info.sentTime = q.sentTime;
                cc.onAck(1460, 2, now, info);
              }
              seq++;
            }
            sink += cc.cwnd;
          },
        }],
      });
    }
    return cases;
  },
  teardown() {
    if (sink === 0.5) console.log(sink);
  },
});
