// The simulator's machinery: the event queue, determinism, validation, conservation, ECN marking, the SVG
// renderer and the CLI's table/JSON.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { isNetworkError } from '../../src/errors.js';
import {
  jainFairnessIndex, renderSimScenarioSvg, renderSvgChart, runLinkSimulation, runQueueScenario, SimEventQueue,
  svgNiceTicks, type SimConfig,
} from '../../src/cc/index.js';
import { formatSimTable, simRunsToJson } from '../../src/cli/sim.js';

describe('SimEventQueue', () => {
  it('pops in time order, ties first-in first-out', () => {
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0, max: 50 }), fc.integer({ min: 0, max: 1000 })), { maxLength: 300 }), (items) => {
        const q = new SimEventQueue(4);
        items.forEach(([t], i) => q.push(t, 1, i));
        const out: [number, number][] = [];
        while (q.size > 0) {
          const t = q.pop();
          out.push([t, q.poppedArg]);
        }
        const expected = items.map(([t], i) => [t, i] as [number, number]).sort((a, b) => a[0] - b[0] || a[1] - b[1]);
        expect(out).toEqual(expected);
      }),
      { numRuns: 100 },
    );
  });

  it('interleaves pushes and pops', () => {
    const q = new SimEventQueue(2);
    q.push(5, 1, 0);
    q.push(1, 2, 1);
    expect(q.pop()).toBe(1);
    expect(q.poppedKind).toBe(2);
    q.push(3, 3, 2);
    expect(q.peekTime()).toBe(3);
    expect(q.pop()).toBe(3);
    expect(q.pop()).toBe(5);
    expect(q.peekTime()).toBe(Infinity);
  });
});

describe('runLinkSimulation', () => {
  const base: SimConfig = { link: { rateMbps: 20, bufferBdp: 1, lossRate: 0.01 }, flows: [{ cc: 'cubic', rttMs: 30 }, { cc: 'bbr', rttMs: 50, startMs: 500 }], durationMs: 4000, seed: 42 };

  it('is deterministic for a seed and differs across seeds', () => {
    const a = runLinkSimulation(base);
    const b = runLinkSimulation(base);
    expect(JSON.stringify(b)).toBe(JSON.stringify(a));
    const c = runLinkSimulation({ ...base, seed: 43 });
    expect(c.flows[0]!.packetsLost).not.toBe(a.flows[0]!.packetsLost);
  });

  it('never delivers more than the link carries', () => {
    for (const cc of ['reno', 'cubic', 'bbr', 'bbr3'] as const) {
      const r = runLinkSimulation({ link: { rateMbps: 10, bufferBdp: 2 }, flows: [{ cc, rttMs: 20 }, { cc, rttMs: 60 }], durationMs: 3000 });
      expect(r.utilisation).toBeLessThanOrEqual(1 + 1e-9);
      expect(r.utilisation).toBeGreaterThan(0.5);
      expect(r.flows.reduce((s, f) => s + f.share, 0)).toBeCloseTo(1, 9);
      expect(r.events).toBeGreaterThan(1000);
    }
  });

  it('a huge buffer and no random loss lose nothing for BBR; a tiny buffer drops', () => {
    const big = runLinkSimulation({ link: { rateMbps: 10, bufferBdp: 50 }, flows: [{ cc: 'bbr', rttMs: 40 }], durationMs: 3000 });
    expect(big.lossRate).toBe(0);
    const tiny = runLinkSimulation({ link: { rateMbps: 10, bufferBytes: 3000 }, flows: [{ cc: 'cubic', rttMs: 40 }], durationMs: 3000 });
    expect(tiny.lossRate).toBeGreaterThan(0);
    expect(tiny.bufferBytes).toBe(3000);
  });

  it('ECN marking above a threshold keeps a CUBIC queue near it instead of full', () => {
    const link = { rateMbps: 10, bufferBdp: 8 };
    const plain = runLinkSimulation({ link, flows: [{ cc: 'cubic', rttMs: 40 }], durationMs: 8000, warmupMs: 2000 });
    const ecn = runLinkSimulation({ link: { ...link, ecnThresholdBytes: 20_000 }, flows: [{ cc: 'cubic', rttMs: 40 }], durationMs: 8000, warmupMs: 2000 });
    expect(ecn.queueDelayP95Ms).toBeLessThan(plain.queueDelayP95Ms / 2);
    expect(ecn.lossRate).toBeLessThan(plain.lossRate + 1e-9);
  });

  it('rejects invalid configurations with NetworkError', () => {
    const bad: SimConfig[] = [
      { ...base, durationMs: 0 },
      { ...base, link: { rateMbps: -1 } },
      { ...base, link: { rateMbps: 10, lossRate: 1 } },
      { ...base, flows: [] },
      { ...base, flows: [{ cc: 'vegas' as 'reno', rttMs: 10 }] },
      { ...base, flows: [{ cc: 'reno', rttMs: 0 }] },
    ];
    for (const cfg of bad) {
      let err: unknown;
      try {
        runLinkSimulation(cfg);
      } catch (e) {
        err = e;
      }
      expect(isNetworkError(err, 'INVALID_ARGUMENT')).toBe(true);
    }
  });

  it('jainFairnessIndex', () => {
    expect(jainFairnessIndex([5, 5])).toBe(1);
    expect(jainFairnessIndex([1, 0])).toBe(0.5);
    expect(jainFairnessIndex([3, 1])).toBeCloseTo(16 / 20, 12);
  });
});

describe('SVG and CLI output', () => {
  const runs = runQueueScenario({ ccs: ['cubic', 'bbr'], durationMs: 3000, warmupMs: 500 });

  it('renders well-formed, deterministic SVG', () => {
    const svg = renderSimScenarioSvg('queue', runs);
    expect(svg.startsWith('<svg xmlns="http://www.w3.org/2000/svg"')).toBe(true);
    expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
    expect((svg.match(/<polyline /g) ?? []).length).toBe(6); // 3 panels × 2 algorithms
    expect(svg).not.toMatch(/NaN|undefined|Infinity/);
    expect(renderSimScenarioSvg('queue', runs)).toBe(svg);
    const chart = renderSvgChart({ xLabel: 'x <1>', yLabel: 'y', xLog: true, series: [{ name: 'a&b', xs: [0.001, 0.1, 10], ys: [1, 2, 3] }] });
    expect(chart).toContain('x &lt;1&gt;');
    expect(chart).toContain('a&amp;b');
  });

  it('nice ticks', () => {
    expect(svgNiceTicks(0, 100)).toEqual([0, 20, 40, 60, 80, 100]);
    expect(svgNiceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1].map((v) => Number(v.toFixed(12))).map((v) => expect.closeTo(v, 9)));
  });

  it('prints a table and a JSON document with every run and its metrics', () => {
    const table = formatSimTable('queue', runs);
    expect(table.split('\n')).toHaveLength(4);
    expect(table).toMatch(/^queue: 10 Mbit\/s, 40 ms RTT/);
    const doc = JSON.parse(simRunsToJson('queue', runs)) as { scenario: string; runs: Record<string, unknown>[] };
    expect(doc.scenario).toBe('queue');
    expect(doc.runs).toHaveLength(2);
    for (const r of doc.runs) {
      for (const k of ['cc', 'params', 'throughputMbps', 'utilisation', 'queueDelayP95Ms', 'lossRate', 'jain']) expect(r).toHaveProperty(k);
      expect(r).not.toHaveProperty('result');
    }
  });
});
