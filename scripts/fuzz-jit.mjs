#!/usr/bin/env node
// Differential fuzzing of the eBPF engines at scale (the test suite runs a few thousand cases):
//   node scripts/fuzz-jit.mjs [--cases 1000000] [--seed 0] [--three-way]
// Each case is a random program (src/ebpf/jit-x64/fuzz-gen.ts) run on the interpreter and the native x86-64
// JIT (plus the JS JIT with --three-way, ~7 ms a case because it compiles through new Function); r0 or the
// error (code, pc), the input memory and the map contents must agree. Needs `npm run build` and the addon.
// Prints progress every 10^4 cases; exits 1 with the seed and the disassembly of the first mismatch.
import { pathToFileURL } from 'node:url';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const load = (p) => import(pathToFileURL(join(root, 'dist', 'src', p)).href);
const E = await load('ebpf/index.js');
const J = await load('ebpf/jit-x64/index.js');
const G = await load('ebpf/jit-x64/fuzz-gen.js');
const D = await load('ebpf/jit-x64/differential.js');

const args = process.argv.slice(2);
const opt = (name, def) => {
  const i = args.indexOf(name);
  return i >= 0 ? Number(args[i + 1]) : def;
};
const cases = opt('--cases', 1_000_000);
const first = opt('--seed', 0);
const engines = ['interpreter', ...(args.includes('--three-way') ? ['js'] : []), 'native'];
if (!J.x64JitAvailable()) {
  console.error('the native JIT is not available here (build the addon: node scripts/install-native.mjs)');
  process.exit(2);
}
const t0 = Date.now();
let errors = 0;
for (let k = 0; k < cases; k++) {
  const seed = first + k;
  // Odd seeds move the input pointer first (accesses through a moved packet pointer are checked differently).
  const movePointer = (seed & 1) === 1;
  const c = G.generateBpfFuzzCase(G.bpfFuzzRng(seed), { maps: true, movePointer });
  const { diff, outcomes } = D.compareBpfEngines(c, engines);
  if (outcomes[0].result.startsWith('error')) errors++;
  if (diff) {
    console.error(`MISMATCH at seed ${seed}${movePointer ? ' (movePointer)' : ''}: ${diff}`);
    console.error(E.disassembleBpf(c.insns));
    console.error(`memory: ${Buffer.from(c.memory).toString('hex')}`);
    process.exit(1);
  }
  // Let the event loop turn now and then: native handles are released by finalizers that run there.
  if ((k + 1) % 1000 === 0) await new Promise((r) => setImmediate(r));
  if ((k + 1) % 10000 === 0) {
    const s = (Date.now() - t0) / 1000;
    console.log(`${k + 1} cases agree on ${engines.join(', ')} (${errors} ended in run-time errors), ${s.toFixed(0)} s, ${((k + 1) / s).toFixed(0)} cases/s`);
  }
}
console.log(`all ${cases} cases agree (seeds ${first}..${first + cases - 1}) in ${((Date.now() - t0) / 1000).toFixed(0)} s`);
