// `elysia-net sim loss-sweep|queue|fairness [--cc reno,cubic,bbr,bbr3] [--json] [--svg FILE]`: runs the BBR
// paper's experiments in the link simulator, prints a table (or one JSON document) and writes SVG figures.
import type { Command } from 'commander';
import { writeFileSync } from 'node:fs';
import { NetworkError } from '../errors.js';
import { CC_ALGORITHMS, isCcAlgorithmName } from '../cc/factory.js';
import type { CcAlgorithmName } from '../cc/types.js';
import { renderSimScenarioSvg } from '../cc/sim/figures.js';
import { runSimScenario, SIM_SCENARIOS, type SimRunRecord, type SimScenarioName } from '../cc/sim/scenarios.js';

interface SimCliOptions {
  cc?: string;
  json?: boolean;
  svg?: string;
  duration?: string;
  seed?: string;
  loss?: string;
  rate?: string;
  rtt?: string;
  buffer?: string;
  quick?: boolean;
}

function num(v: string | undefined, field: string): number | undefined {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isFinite(n)) throw new NetworkError('INVALID_ARGUMENT', `--${field} needs a number, got '${v}'`, { field, actual: v });
  return n;
}

function pad(s: string, n: number, right = false): string {
  return s.length >= n ? s : right ? ' '.repeat(n - s.length) + s : s + ' '.repeat(n - s.length);
}

/** The table the CLI prints for a scenario's runs. */
export function formatSimTable(scenario: SimScenarioName, runs: SimRunRecord[]): string {
  const head = ['cc', 'loss %', 'buffer', 'Mbit/s', 'util %', 'q p50 ms', 'q p95 ms', 'lost %', 'jain', 'shares'];
  const rows = runs.map((r) => [
    r.cc,
    String(Number((r.params.lossRate * 100).toPrecision(2))),
    `${r.params.bufferBdp} BDP`,
    r.throughputMbps.toFixed(2),
    (r.utilisation * 100).toFixed(1),
    r.queueDelayP50Ms.toFixed(1),
    r.queueDelayP95Ms.toFixed(1),
    (r.lossRate * 100).toFixed(3),
    r.jain.toFixed(3),
    r.flows.length > 1 ? r.flows.map((f) => `${f.label} ${(f.share * 100).toFixed(1)}%`).join(', ') : '',
  ]);
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
  const line = (cells: string[]): string => cells.map((c, i) => pad(c, widths[i]!, i > 0 && i < 9)).join('  ').trimEnd();
  const first = runs[0]?.params;
  const title = first ? `${scenario}: ${first.rateMbps} Mbit/s, ${first.rttMs} ms RTT, ${first.durationMs / 1000} s simulated (metrics after ${first.warmupMs / 1000} s)` : scenario;
  return [title, line(head), ...rows.map(line)].join('\n');
}

/** The JSON document `--json` prints: every run with its parameters and metrics (no time series). */
export function simRunsToJson(scenario: SimScenarioName, runs: SimRunRecord[]): string {
  return JSON.stringify({ scenario, runs: runs.map(({ result: _r, ...rest }) => rest) }, null, 2);
}

export function registerSimCommands(program: Command): void {
  program
    .command('sim')
    .description(`run a link-simulator scenario (${SIM_SCENARIOS.join(' | ')}) and print a table`)
    .argument('<scenario>', SIM_SCENARIOS.join(' | '))
    .option('--cc <list>', `algorithms, comma-separated (${CC_ALGORITHMS.join(',')})`, CC_ALGORITHMS.join(','))
    .option('--json', 'print one JSON document with every run')
    .option('--svg <file>', 'write an SVG figure')
    .option('--duration <ms>', 'simulated time per run, ms')
    .option('--seed <n>', 'PRNG seed', '1')
    .option('--loss <list>', 'loss-sweep: loss rates as fractions, comma-separated')
    .option('--rate <mbps>', 'bottleneck rate, Mbit/s')
    .option('--rtt <ms>', 'round-trip propagation delay, ms')
    .option('--buffer <bdp>', 'buffer size in BDPs')
    .option('--quick', 'short runs (a few seconds simulated)')
    .action((scenario: string, opts: SimCliOptions) => {
      if (!(SIM_SCENARIOS as readonly string[]).includes(scenario)) {
        throw new NetworkError('INVALID_ARGUMENT', `unknown scenario '${scenario}' (use ${SIM_SCENARIOS.join(', ')})`, { field: 'scenario', actual: scenario });
      }
      const name = scenario as SimScenarioName;
      const ccs = (opts.cc ?? '').split(',').map((s) => s.trim()).filter(Boolean);
      for (const c of ccs) {
        if (!isCcAlgorithmName(c)) throw new NetworkError('INVALID_ARGUMENT', `unknown congestion control '${c}' (use ${CC_ALGORITHMS.join(', ')})`, { field: 'cc', actual: c });
      }
      const quickDuration = name === 'loss-sweep' ? 20_000 : name === 'queue' ? 10_000 : 20_000;
      const durationMs = num(opts.duration, 'duration') ?? (opts.quick ? quickDuration : undefined);
      const lossRates = opts.loss?.split(',').map((s) => num(s.trim(), 'loss')!);
      const runs = runSimScenario(name, {
        ccs: ccs as CcAlgorithmName[],
        durationMs,
        seed: num(opts.seed, 'seed'),
        lossRates,
        rateMbps: num(opts.rate, 'rate'),
        rttMs: num(opts.rtt, 'rtt'),
        bufferBdp: num(opts.buffer, 'buffer'),
        sampleIntervalMs: name === 'loss-sweep' ? 0 : undefined,
      });
      if (opts.svg) writeFileSync(opts.svg, renderSimScenarioSvg(name, runs));
      if (opts.json) console.log(simRunsToJson(name, runs));
      else {
        console.log(formatSimTable(name, runs));
        if (opts.svg) console.log(`wrote ${opts.svg}`);
      }
    });
}
