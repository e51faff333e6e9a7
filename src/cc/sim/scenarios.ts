// The three experiments of the BBR paper (Cardwell et al., "BBR: Congestion-Based Congestion Control",
// CACM 60(2), 2017) as ready-made scenarios: the random-loss sweep (Fig. 10), queueing in a deep buffer
// (Figs. 6–7), and sharing (same-algorithm pairs; BBR against CUBIC in a shallow and a deep buffer).
import { NetworkError } from '../../errors.js';
import { CC_ALGORITHMS, isCcAlgorithmName } from '../factory.js';
import type { CcAlgorithmName } from '../types.js';
import { runLinkSimulation, type SimConfig, type SimResult } from './simulator.js';

/** The scenario names the CLI accepts. */
export type SimScenarioName = 'loss-sweep' | 'queue' | 'fairness';
export const SIM_SCENARIOS: readonly SimScenarioName[] = ['loss-sweep', 'queue', 'fairness'];

/** One run of a scenario, as the CLI's --json prints it. */
export interface SimRunRecord {
  scenario: SimScenarioName;
  /** The algorithm, or 'a+b' for a mixed pair. */
  cc: string;
  params: {
    rateMbps: number;
    rttMs: number;
    lossRate: number;
    bufferBdp: number;
    bufferBytes: number;
    durationMs: number;
    warmupMs: number;
    flows: { cc: CcAlgorithmName; rttMs: number; startMs: number }[];
    seed: number;
  };
  throughputMbps: number;
  utilisation: number;
  queueDelayP50Ms: number;
  queueDelayP95Ms: number;
  lossRate: number;
  jain: number;
  flows: { label: string; cc: CcAlgorithmName; throughputMbps: number; share: number }[];
  events: number;
  /** The full result (time series included); omitted from JSON output. */
  result: SimResult;
}

/** Options shared by the scenarios. */
export interface SimScenarioOptions {
  ccs?: readonly CcAlgorithmName[];
  /** Simulated time per run, ms; each scenario has a default long enough for its shape. */
  durationMs?: number;
  /** Start of the measurement window, ms. */
  warmupMs?: number;
  seed?: number;
  /** Time-series sampling interval, ms (default: 400 samples per run). */
  sampleIntervalMs?: number;
}

export interface SimLossSweepOptions extends SimScenarioOptions {
  /** Random loss rates (fractions). Default 0.001 % … 50 % as in the paper's Fig. 10. */
  lossRates?: readonly number[];
  rateMbps?: number;
  rttMs?: number;
  bufferBdp?: number;
}

export interface SimQueueOptions extends SimScenarioOptions {
  rateMbps?: number;
  rttMs?: number;
  bufferBdp?: number;
}

export interface SimFairnessOptions extends SimScenarioOptions {
  rateMbps?: number;
  rttMs?: number;
  /** Buffer for the same-algorithm pairs, in BDP. Default 1. */
  bufferBdp?: number;
  /** Shallow and deep buffers for the BBR-vs-CUBIC runs, in BDP. Default [0.5, 8]. */
  mixedBuffersBdp?: readonly number[];
  /** Delay before the second flow starts, ms. Default 1000. */
  secondStartMs?: number;
}

/** The paper's loss rates: 0.001 % to 50 %. */
export const LOSS_SWEEP_RATES: readonly number[] = [0.00001, 0.0001, 0.001, 0.003, 0.01, 0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.5];

function checkCcs(ccs: readonly string[]): readonly CcAlgorithmName[] {
  for (const c of ccs) {
    if (!isCcAlgorithmName(c)) throw new NetworkError('INVALID_ARGUMENT', `unknown congestion control '${c}' (use ${CC_ALGORITHMS.join(', ')})`, { field: 'cc', actual: c });
  }
  return ccs as readonly CcAlgorithmName[];
}

function record(scenario: SimScenarioName, cc: string, cfg: SimConfig, bufferBdp: number): SimRunRecord {
  const r = runLinkSimulation(cfg);
  return {
    scenario,
    cc,
    params: {
      rateMbps: cfg.link.rateMbps, rttMs: cfg.flows[0]!.rttMs, lossRate: cfg.link.lossRate ?? 0, bufferBdp, bufferBytes: r.bufferBytes,
      durationMs: cfg.durationMs, warmupMs: r.warmupMs, seed: cfg.seed ?? 1,
      flows: cfg.flows.map((f) => ({ cc: f.cc, rttMs: f.rttMs, startMs: f.startMs ?? 0 })),
    },
    throughputMbps: r.throughputMbps,
    utilisation: r.utilisation,
    queueDelayP50Ms: r.queueDelayP50Ms,
    queueDelayP95Ms: r.queueDelayP95Ms,
    lossRate: r.lossRate,
    jain: r.jain,
    flows: r.flows.map((f) => ({ label: f.label, cc: f.cc, throughputMbps: f.throughputMbps, share: f.share })),
    events: r.events,
    result: r,
  };
}

/** Fig. 10: one flow on 100 Mbit/s, 100 ms RTT, with random loss from 0.001 % to 50 %. */
export function runLossSweep(opts: SimLossSweepOptions = {}): SimRunRecord[] {
  const ccs = checkCcs(opts.ccs ?? CC_ALGORITHMS);
  const rate = opts.rateMbps ?? 100;
  const rtt = opts.rttMs ?? 100;
  const bdp = opts.bufferBdp ?? 1;
  const duration = opts.durationMs ?? 60_000;
  const warmup = opts.warmupMs ?? Math.min(10_000, duration / 4);
  const runs: SimRunRecord[] = [];
  for (const cc of ccs) {
    for (const loss of opts.lossRates ?? LOSS_SWEEP_RATES) {
      runs.push(record('loss-sweep', cc, {
        link: { rateMbps: rate, bufferBdp: bdp, lossRate: loss }, flows: [{ cc, rttMs: rtt }],
        durationMs: duration, warmupMs: warmup, seed: opts.seed ?? 1, sampleIntervalMs: opts.sampleIntervalMs ?? 0,
      }, bdp));
    }
  }
  return runs;
}

/** Figs. 6–7: one flow on 10 Mbit/s, 40 ms RTT, with a buffer of several BDPs (default 5). */
export function runQueueScenario(opts: SimQueueOptions = {}): SimRunRecord[] {
  const ccs = checkCcs(opts.ccs ?? CC_ALGORITHMS);
  const bdp = opts.bufferBdp ?? 5;
  const duration = opts.durationMs ?? 30_000;
  const warmup = opts.warmupMs ?? Math.min(5_000, duration / 4);
  return ccs.map((cc) => record('queue', cc, {
    link: { rateMbps: opts.rateMbps ?? 10, bufferBdp: bdp }, flows: [{ cc, rttMs: opts.rttMs ?? 40 }],
    durationMs: duration, warmupMs: warmup, seed: opts.seed ?? 1, sampleIntervalMs: opts.sampleIntervalMs,
  }, bdp));
}

/**
 * Sharing: for each algorithm two flows with the same RTT (the second starts a little later), then BBR
 * against CUBIC in a shallow and a deep buffer.
 */
export function runFairnessScenario(opts: SimFairnessOptions = {}): SimRunRecord[] {
  const ccs = checkCcs(opts.ccs ?? CC_ALGORITHMS);
  const rate = opts.rateMbps ?? 20;
  const rtt = opts.rttMs ?? 40;
  const duration = opts.durationMs ?? 60_000;
  const second = opts.secondStartMs ?? 1000;
  const warmup = opts.warmupMs ?? Math.min(Math.max(10_000, second), duration / 2);
  const bdp = opts.bufferBdp ?? 1;
  const seed = opts.seed ?? 1;
  const runs: SimRunRecord[] = [];
  for (const cc of ccs) {
    runs.push(record('fairness', cc, {
      link: { rateMbps: rate, bufferBdp: bdp }, flows: [{ cc, rttMs: rtt }, { cc, rttMs: rtt, startMs: second }],
      durationMs: duration, warmupMs: warmup, seed, sampleIntervalMs: opts.sampleIntervalMs,
    }, bdp));
  }
  const bbrs = ccs.filter((c) => c === 'bbr' || c === 'bbr3');
  if (ccs.includes('cubic')) {
    for (const b of bbrs) {
      for (const buf of opts.mixedBuffersBdp ?? [0.5, 8]) {
        runs.push(record('fairness', `${b}+cubic`, {
          link: { rateMbps: rate, bufferBdp: buf }, flows: [{ cc: b, rttMs: rtt }, { cc: 'cubic', rttMs: rtt, startMs: second }],
          durationMs: duration, warmupMs: warmup, seed, sampleIntervalMs: opts.sampleIntervalMs,
        }, buf));
      }
    }
  }
  return runs;
}

/** Runs a scenario by name. */
export function runSimScenario(name: SimScenarioName, opts: SimLossSweepOptions & SimQueueOptions & SimFairnessOptions = {}): SimRunRecord[] {
  switch (name) {
    case 'loss-sweep':
      return runLossSweep(opts);
    case 'queue':
      return runQueueScenario(opts);
    case 'fairness':
      return runFairnessScenario(opts);
    default:
      throw new NetworkError('INVALID_ARGUMENT', `unknown scenario '${String(name)}' (use ${SIM_SCENARIOS.join(', ')})`, { field: 'scenario', actual: String(name) });
  }
}
