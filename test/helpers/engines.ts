// ParallelPacketEngines made by a test file: closed after each test, and a clear error up front when the
// workers' compiled entry (dist/) is missing.
import { afterEach, beforeAll } from 'vitest';
import { existsSync } from 'node:fs';
import { ParallelPacketEngine, flowKeyString } from '../../src/parallel/index.js';
import { formatIpAddressBytes } from '../../src/wire/address.js';

/** Registers the hooks in the calling file; returns the factory its tests use instead of `new`. */
export function trackedEngines(): (...args: ConstructorParameters<typeof ParallelPacketEngine>) => ParallelPacketEngine {
  const engines: ParallelPacketEngine[] = [];
  beforeAll(() => {
    if (!existsSync(new URL('../../dist/src/parallel/worker.js', import.meta.url))) throw new Error('dist/ missing: run `npx tsc -p .` (npm test does)');
  });
  afterEach(async () => {
    await Promise.all(engines.splice(0).map((e) => e.close({ drain: false })));
  });
  return (...args) => {
    const e = new ParallelPacketEngine(...args);
    engines.push(e);
    return e;
  };
}

/** The engine's flow key of a synthetic flow (test/parallel/synth.mjs). */
export interface SynthFlow { v: 4 | 6; proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number }
export const synthFlowKey = (f: SynthFlow): string =>
  flowKeyString(f.v, f.proto, formatIpAddressBytes(f.src), formatIpAddressBytes(f.dst), f.sport, f.dport);
