// `npm run bench` / `elysia-net bench`: runs every suite in bench/suites and prints medians per variant
// with the ratio to the baseline variant (native/TS for hot paths).
import Benchmark from 'benchmark';
import { readdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { cpus } from 'node:os';
import { nativeStatus, setBackend, getBackend } from '../src/backend.js';
import type { BenchCase, BenchSuite, BenchVariant } from './harness.js';

export interface BenchOptions {
  json?: string;
  filter?: string;
  quick?: boolean;
  list?: boolean;
}

export interface BenchResult {
  suite: string;
  case: string;
  variant: string;
  unit: BenchCase['unit'];
  perOp: number;
  /** Median seconds per op over the samples. */
  medianSeconds: number;
  opsPerSec: number;
  /** Units per second at the median (pps for packets, B/s for bytes). */
  rate: number;
  rme: number;
  samples: number;
  /** rate / baseline rate, when this case has a baseline and this is not it. */
  ratio: number | null;
  baseline: string | null;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

export function formatRate(rate: number, unit: BenchCase['unit']): string {
  if (unit === 'bytes') {
    return rate >= 1e9 ? `${(rate / 1e9).toFixed(2)} GB/s` : `${(rate / 1e6).toFixed(1)} MB/s`;
  }
  const suffix = unit === 'packets' ? 'pps' : `${unit}/s`;
  if (rate >= 1e6) return `${(rate / 1e6).toFixed(2)} M${suffix}`;
  if (rate >= 1e3) return `${(rate / 1e3).toFixed(1)} K${suffix}`;
  return `${rate.toFixed(1)} ${suffix}`;
}

function progress(text: string): void {
  if (process.stderr.isTTY) process.stderr.write(`\r\x1b[K${text}`);
  else process.stderr.write(`${text}\n`);
}

function measure(v: BenchVariant, quick: boolean): Promise<{ samples: number[]; rme: number }> {
  if (v.external) {
    const s = v.external();
    return Promise.resolve({ samples: s ?? [], rme: 0 });
  }
  const opts = { maxTime: quick ? 0.3 : 1.5, minSamples: quick ? 5 : 15, initCount: 1 };
  return new Promise((resolve, reject) => {
    let bench: Benchmark;
    if (v.fn) {
      bench = new Benchmark(v.name, v.fn, opts);
    } else if (v.fnAsync) {
      const f = v.fnAsync;
      bench = new Benchmark(v.name, {
        ...opts,
        defer: true,
        fn: (d: { resolve(): void }) => {
          f().then(() => d.resolve(), (e: unknown) => reject(e));
        },
      });
    } else {
      reject(new Error(`variant ${v.name} has neither fn, fnAsync nor external`));
      return;
    }
    bench.on('complete', () => {
      const err = (bench as unknown as { error?: unknown }).error;
      if (err) reject(err);
      else resolve({ samples: bench.stats.sample.slice(), rme: bench.stats.rme });
    });
    bench.run({ async: true });
  });
}

async function loadSuites(): Promise<BenchSuite[]> {
  const dir = join(dirname(fileURLToPath(import.meta.url)), 'suites');
  const files = readdirSync(dir).filter((f) => f.endsWith('.js')).sort();
  const suites: BenchSuite[] = [];
  for (const f of files) {
    const mod = (await import(pathToFileURL(join(dir, f)).href)) as { default?: BenchSuite };
    if (mod.default) suites.push(mod.default);
  }
  return suites;
}

function pad(s: string, n: number): string {
  return s.length >= n ? s : s + ' '.repeat(n - s.length);
}

/** Runs the suites and returns every result; prints a table per suite. */
export async function runBench(options: BenchOptions = {}): Promise<BenchResult[]> {
  const suites = await loadSuites();
  const quick = options.quick ?? false;
  const filter = options.filter?.toLowerCase();
  const status = nativeStatus();
  const cpu = cpus()[0]?.model ?? 'unknown CPU';
  console.log(`elysia-net bench — ${new Date().toISOString().slice(0, 10)}, Node ${process.version}, ${cpus().length} × ${cpu}`);
  console.log(`native addon: ${status.available ? `loaded (avx2: ${status.cpu?.avx2 ? 'yes' : 'no'})` : status.reason}${quick ? ' — quick mode' : ''}`);
  const prevBackend = getBackend();
  const results: BenchResult[] = [];
  for (const suite of suites) {
    if (options.list) {
      console.log(suite.name);
      continue;
    }
    const suiteMatch = !filter || suite.name.toLowerCase().includes(filter);
    const cases = await suite.cases();
    const selected = cases.filter((c) => suiteMatch || c.name.toLowerCase().includes(filter!));
    if (selected.length === 0) {
      await suite.teardown?.();
      continue;
    }
    const rows: BenchResult[] = [];
    for (const c of selected) {
      const caseRows: BenchResult[] = [];
      for (const v of c.variants) {
        progress(`[${suite.name}] ${c.name} — ${v.name} …`);
        v.setup?.();
        const { samples, rme } = await measure(v, quick);
        if (samples.length === 0) continue;
        const med = median(samples);
        caseRows.push({
          suite: suite.name, case: c.name, variant: v.name, unit: c.unit, perOp: c.perOp,
          medianSeconds: med, opsPerSec: 1 / med, rate: c.perOp / med, rme, samples: samples.length, ratio: null, baseline: null,
        });
      }
      const baseName = c.baseline ?? (caseRows.some((r) => r.variant === 'ts') ? 'ts' : caseRows[caseRows.length - 1]?.variant);
      const base = caseRows.find((r) => r.variant === baseName);
      if (base && caseRows.length > 1) {
        for (const r of caseRows) {
          if (r !== base) {
            r.ratio = r.rate / base.rate;
            r.baseline = base.variant;
          }
        }
      }
      rows.push(...caseRows);
    }
    if (process.stderr.isTTY) process.stderr.write('\r\x1b[K');
    await suite.teardown?.();
    console.log(`\n## ${suite.name}${suite.description ? ` — ${suite.description}` : ''}`);
    const w0 = Math.max(4, ...rows.map((r) => r.case.length));
    const w1 = Math.max(7, ...rows.map((r) => r.variant.length));
    console.log(`${pad('case', w0)}  ${pad('variant', w1)}  ${pad('median rate', 16)}  ${pad('ops/s', 12)}  ${pad('±rme', 7)}  ratio`);
    for (const r of rows) {
      const ratio = r.ratio === null ? '' : `${r.ratio.toFixed(2)}× vs ${r.baseline}`;
      console.log(`${pad(r.case, w0)}  ${pad(r.variant, w1)}  ${pad(formatRate(r.rate, r.unit), 16)}  ${pad(r.opsPerSec.toExponential(3), 12)}  ${pad(`${r.rme.toFixed(1)}%`, 7)}  ${ratio}`);
    }
    results.push(...rows);
  }
  setBackend(prevBackend);
  if (options.json) {
    writeFileSync(options.json, JSON.stringify({ date: new Date().toISOString(), node: process.version, cpu, native: status, results }, null, 2));
    console.log(`\nwrote ${options.json}`);
  }
  return results;
}

export function parseBenchArgs(argv: string[]): BenchOptions {
  const o: BenchOptions = {};
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    if (a === '--json') o.json = argv[++i];
    else if (a.startsWith('--json=')) o.json = a.slice(7);
    else if (a === '--filter') o.filter = argv[++i];
    else if (a.startsWith('--filter=')) o.filter = a.slice(9);
    else if (a === '--quick') o.quick = true;
    else if (a === '--list') o.list = true;
    else throw new Error(`unknown bench option ${a} (use --json FILE, --filter NAME, --quick, --list)`);
  }
  return o;
}

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  runBench(parseBenchArgs(process.argv.slice(2))).catch((e: unknown) => {
    console.error(e);
    process.exit(1);
  });
}
