// Figures for the scenarios: the loss sweep as throughput against loss rate (BBR paper Fig. 10), the
// queue scenario as queueing delay / cwnd / throughput over time (Figs. 6–7), fairness as per-flow throughput.
import type { SimRunRecord, SimScenarioName } from './scenarios.js';
import { renderSvgFigure, type SvgChartSpec, type SvgSeries } from './svg.js';

function movingAverage(ys: readonly number[], k: number): number[] {
  const out: number[] = [];
  let acc = 0;
  for (let i = 0; i < ys.length; i++) {
    acc += ys[i]!;
    if (i >= k) acc -= ys[i - k]!;
    out.push(acc / Math.min(i + 1, k));
  }
  return out;
}

function lossSweepFigure(runs: SimRunRecord[]): string {
  const byCc = new Map<string, SimRunRecord[]>();
  for (const r of runs) byCc.set(r.cc, [...(byCc.get(r.cc) ?? []), r]);
  const series: SvgSeries[] = [...byCc].map(([cc, rs]) => ({
    name: cc, xs: rs.map((r) => r.params.lossRate * 100), ys: rs.map((r) => r.throughputMbps),
  }));
  const first = runs[0];
  if (first) {
    const losses = [...new Set(runs.map((r) => r.params.lossRate))].sort((a, b) => a - b);
    series.push({ name: 'link × (1 − loss)', xs: losses.map((l) => l * 100), ys: losses.map((l) => first.params.rateMbps * (1 - l)), color: '#999', dashed: true });
  }
  const p = first?.params;
  return renderSvgFigure([{
    title: p ? `Throughput vs random loss — ${p.rateMbps} Mbit/s, ${p.rttMs} ms RTT, ${p.bufferBdp} BDP buffer` : 'Throughput vs random loss',
    xLabel: 'random loss rate (%)', yLabel: 'throughput (Mbit/s)', xLog: true, series, yMin: 0,
    yMax: p ? p.rateMbps * 1.05 : undefined, height: 360,
  }]);
}

function queueFigure(runs: SimRunRecord[]): string {
  const p = runs[0]?.params;
  const rateBps = (p?.rateMbps ?? 1) * 1e6;
  const delay: SvgSeries[] = [];
  const cwnd: SvgSeries[] = [];
  const tput: SvgSeries[] = [];
  for (const r of runs) {
    const s = r.result.series;
    const xs = s.t.map((t) => t / 1000);
    delay.push({ name: r.cc, xs, ys: s.queueBytes.map((b) => (b * 8 * 1000) / rateBps) });
    cwnd.push({ name: r.cc, xs, ys: s.flows[0]!.cwnd.map((c) => c / 1000) });
    tput.push({ name: r.cc, xs, ys: movingAverage(s.flows[0]!.throughputMbps, 4) });
  }
  const title = p ? `${p.rateMbps} Mbit/s, ${p.rttMs} ms RTT, ${p.bufferBdp} BDP buffer` : '';
  const panels: SvgChartSpec[] = [
    { title: `Queueing delay — ${title}`, xLabel: 'time (s)', yLabel: 'queueing delay (ms)', series: delay, yMin: 0 },
    { title: 'Congestion window', xLabel: 'time (s)', yLabel: 'cwnd (kB)', series: cwnd, yMin: 0 },
    { title: 'Throughput', xLabel: 'time (s)', yLabel: 'Mbit/s', series: tput, yMin: 0 },
  ];
  return renderSvgFigure(panels);
}

function fairnessFigure(runs: SimRunRecord[]): string {
  const panels: SvgChartSpec[] = runs.map((r) => {
    const s = r.result.series;
    const xs = s.t.map((t) => t / 1000);
    return {
      title: `${r.cc}: ${r.params.bufferBdp} BDP buffer — Jain ${r.jain.toFixed(3)}, shares ${r.flows.map((f) => `${f.label} ${(f.share * 100).toFixed(0)} %`).join(', ')}`,
      xLabel: 'time (s)', yLabel: 'Mbit/s', yMin: 0, yMax: r.params.rateMbps * 1.05, height: 240,
      series: r.result.flows.map((f, i) => ({ name: f.label, xs, ys: movingAverage(s.flows[i]!.throughputMbps, 8) })),
    };
  });
  return renderSvgFigure(panels);
}

/** The SVG figure for a scenario's runs (time series need sampleIntervalMs > 0). */
export function renderSimScenarioSvg(name: SimScenarioName, runs: SimRunRecord[]): string {
  switch (name) {
    case 'loss-sweep':
      return lossSweepFigure(runs);
    case 'queue':
      return queueFigure(runs);
    case 'fairness':
      return fairnessFigure(runs);
    default:
      return renderSvgFigure([]);
  }
}
