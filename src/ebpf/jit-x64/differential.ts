// Runs one generated case on several engines and reports the first difference: r0 (or the error's code and
// pc), the input memory afterwards, and the maps' contents afterwards. Used by the fuzz test and
// scripts/fuzz-jit.mjs.
import { isNetworkError } from '../../errors.js';
import { BpfMap } from '../maps.js';
import { BpfProgram } from '../program.js';
import { BPF_FUZZ_HELPER_ID, bpfFuzzHelper, type BpfFuzzCase } from './fuzz-gen.js';

/** What one engine produced. */
export interface BpfEngineOutcome {
  engine: string;
  result: string;
  memory: string;
  maps: string;
}

function hex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, '0')).join('');
}

/** The maps a fuzz case that uses maps runs with (an array and a hash, one entry each), made anew per run. */
export function bpfFuzzMaps(): BpfMap[] {
  const arr = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'arr' });
  const hash = BpfMap.create({ type: 'hash', keySize: 8, valueSize: 8, maxEntries: 4, name: 'hash' });
  arr.set(1, 0x1122334455667788n);
  hash.set(2n, 42n);
  return [arr, hash];
}

/** Runs the case on one engine. */
export function runBpfFuzzCase(c: BpfFuzzCase, engine: string): BpfEngineOutcome {
  const maps = c.usesMaps ? bpfFuzzMaps() : [];
  const prog = new BpfProgram(c.insns, { maps });
  prog.registerHelper(BPF_FUZZ_HELPER_ID, bpfFuzzHelper, 'fuzz_mix');
  const mem = c.memory.slice();
  let result: string;
  try {
    result = `r0=${prog.run(mem, { engine, budget: 100000 }).toString(16)}`;
  } catch (e) {
    if (isNetworkError(e)) result = `error ${e.code} pc=${String(e.detail.pc)}`;
    else throw e;
  }
  const mapText = maps.map((m) => [...m.entries()].map(([k, v]) => `${hex(k)}:${hex(v)}`).sort().join(',')).join(' | ');
  return { engine, result, memory: hex(mem), maps: mapText };
}

/** Runs the case on every engine: the outcomes, and null when all agree or a description of the difference. */
export function compareBpfEngines(c: BpfFuzzCase, engines: readonly string[]): { diff: string | null; outcomes: BpfEngineOutcome[] } {
  const outcomes = engines.map((e) => runBpfFuzzCase(c, e));
  const ref = outcomes[0]!;
  for (const o of outcomes.slice(1)) {
    for (const k of ['result', 'memory', 'maps'] as const) {
      if (o[k] !== ref[k]) return { diff: `${k}: ${ref.engine} says ${ref[k]}, ${o.engine} says ${o[k]}`, outcomes };
    }
  }
  return { diff: null, outcomes };
}

/** Runs the case on every engine; returns null when all agree, else a description of the difference. */
export function diffBpfEngines(c: BpfFuzzCase, engines: readonly string[]): string | null {
  return compareBpfEngines(c, engines).diff;
}
