// The BBR paper's shapes, reproduced in the simulator with short simulated durations (time is scaled, the
// physics are not: 100 Mbit/s, 100 ms, the paper's loss rates; 10 Mbit/s, 40 ms, a 5-BDP buffer).
import { describe, expect, it } from 'vitest';
import { runFairnessScenario, runLossSweep, runQueueScenario, type SimRunRecord } from '../../src/cc/index.js';

function byCc(runs: SimRunRecord[], cc: string, loss?: number): SimRunRecord {
  const r = runs.find((x) => x.cc === cc && (loss === undefined || x.params.lossRate === loss));
  if (!r) throw new Error(`no run for ${cc} ${loss}`);
  return r;
}

describe('loss sweep (BBR paper Fig. 10: 100 Mbit/s, 100 ms RTT)', () => {
  it('CUBIC falls to ≤ 15 % of the link at 0.1 % random loss', () => {
    const runs = runLossSweep({ ccs: ['cubic'], lossRates: [0.001], durationMs: 60_000, warmupMs: 10_000 });
    const r = byCc(runs, 'cubic', 0.001);
    expect(r.utilisation).toBeLessThanOrEqual(0.15);
    expect(r.throughputMbps).toBeGreaterThan(0.5); // still moving data
  });

  it('BBR keeps ≥ 90 % of link × (1 − loss) up to 5 % loss', () => {
    const losses = [0.00001, 0.001, 0.01, 0.02, 0.05];
    const runs = runLossSweep({ ccs: ['bbr'], lossRates: losses, durationMs: 12_000, warmupMs: 4_000 });
    for (const loss of losses) {
      const r = byCc(runs, 'bbr', loss);
      expect(r.throughputMbps, `loss ${loss}`).toBeGreaterThanOrEqual(0.9 * 100 * (1 - loss));
      if (loss >= 0.001) expect(r.lossRate).toBeGreaterThan(loss * 0.5); // the configured loss really happened
    }
  });

  it('loss-based algorithms lose throughput monotonically as loss grows', () => {
    const runs = runLossSweep({ ccs: ['reno', 'cubic'], lossRates: [0.0001, 0.001, 0.01], durationMs: 30_000, warmupMs: 5_000 });
    for (const cc of ['reno', 'cubic']) {
      const t = [0.0001, 0.001, 0.01].map((l) => byCc(runs, cc, l).throughputMbps);
      expect(t[0]!).toBeGreaterThan(t[1]!);
      expect(t[1]!).toBeGreaterThan(t[2]!);
    }
  });
});

describe('queueing (BBR paper Figs. 6–7: 10 Mbit/s, 40 ms, 5-BDP buffer)', () => {
  const runs = runQueueScenario({ ccs: ['cubic', 'bbr', 'bbr3'], durationMs: 15_000, warmupMs: 3_000 });
  it('CUBIC keeps the deep buffer mostly full', () => {
    const cubic = byCc(runs, 'cubic');
    const full = (cubic.params.bufferBytes * 8 * 1000) / (cubic.params.rateMbps * 1e6);
    expect(cubic.queueDelayP50Ms).toBeGreaterThan(0.5 * full);
    expect(cubic.utilisation).toBeGreaterThan(0.99);
  });
  it('BBR runs with a p95 queueing delay ≤ ¼ of CUBIC’s at full utilisation', () => {
    const cubic = byCc(runs, 'cubic');
    const bbr = byCc(runs, 'bbr');
    expect(bbr.queueDelayP95Ms).toBeLessThanOrEqual(cubic.queueDelayP95Ms / 4);
    expect(bbr.utilisation).toBeGreaterThan(0.95);
  });
  it('BBRv3 also keeps the queue short', () => {
    expect(byCc(runs, 'bbr3').queueDelayP95Ms).toBeLessThanOrEqual(byCc(runs, 'cubic').queueDelayP95Ms / 4);
  });
  it('records time series for plots', () => {
    const s = byCc(runs, 'bbr').result.series;
    expect(s.t.length).toBeGreaterThan(100);
    expect(s.flows[0]!.cwnd.length).toBe(s.t.length);
    expect(s.flows[0]!.mode).toContain('PROBE_BW');
  });
});

describe('fairness', () => {
  const runs = runFairnessScenario({ ccs: ['reno', 'cubic', 'bbr'], durationMs: 40_000, warmupMs: 10_000 });
  it.each(['reno', 'cubic', 'bbr'])('two same-RTT %s flows reach Jain ≥ 0.95', (cc) => {
    const r = byCc(runs, cc);
    expect(r.flows).toHaveLength(2);
    expect(r.jain).toBeGreaterThanOrEqual(0.95);
    expect(r.utilisation).toBeGreaterThan(0.9);
  });
  it('reports BBR-vs-CUBIC shares in a shallow (0.5 BDP) and a deep (8 BDP) buffer', () => {
    const mixed = runs.filter((r) => r.cc === 'bbr+cubic');
    expect(mixed.map((r) => r.params.bufferBdp)).toEqual([0.5, 8]);
    const [shallow, deep] = mixed as [SimRunRecord, SimRunRecord];
    for (const r of mixed) expect(r.flows[0]!.share + r.flows[1]!.share).toBeCloseTo(1, 6);
    // Published shape: BBR dominates a shallow buffer; a deep buffer lets CUBIC take back a larger share.
    expect(shallow.flows[0]!.share).toBeGreaterThan(0.6);
    expect(deep.flows[0]!.share).toBeLessThan(shallow.flows[0]!.share);
  });
});
