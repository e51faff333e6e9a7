// The contract every benchmark suite follows. Suites live in bench/suites/*.ts, one file each, and
// export `default defineSuite({...})`; bench/index.ts finds and runs them all.
import { availableBackends, setBackend, type Backend } from '../src/backend.js';

/** One way of doing a case's work: a backend, an engine, an external baseline. */
export interface BenchVariant {
  name: string;
  /** Synchronous work: one call = `perOp` units. */
  fn?: () => void;
  /** Asynchronous work (resolves when one op is done); used when fn is absent. */
  fnAsync?: () => Promise<void>;
  /** Run once before this variant is measured (e.g. select a backend, warm a cache). */
  setup?: () => void;
  /**
   * Instead of timing in-process, return medians measured elsewhere (e.g. a C baseline program).
   * Returns seconds per op samples.
   */
  external?: () => number[] | null;
}

/** One measured thing, e.g. "checksum 1500 B". */
export interface BenchCase {
  name: string;
  /** What `perOp` counts: packets → pps, bytes → B/s, others → ops of that kind per second. */
  unit: 'packets' | 'bytes' | 'items' | 'events' | 'ops';
  /** Units done by one call of a variant's fn. */
  perOp: number;
  variants: BenchVariant[];
  /** The variant ratios are against; default 'ts' when present, else the last variant. */
  baseline?: string;
}

export interface BenchSuite {
  name: string;
  description?: string;
  cases(): BenchCase[] | Promise<BenchCase[]>;
  teardown?(): void | Promise<void>;
}

export function defineSuite(suite: BenchSuite): BenchSuite {
  return suite;
}

/** One variant per available backend ('native' first), each selecting its backend before it runs. */
export function backendVariants(make: (backend: Backend) => () => void): BenchVariant[] {
  return availableBackends().map((b) => ({ name: b, setup: () => setBackend(b), fn: make(b) }));
}
