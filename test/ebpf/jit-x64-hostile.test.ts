// Hostile programs under the native x86-64 JIT, in a child process (so a fault would show as a signal, not
// take the test runner down): out-of-bounds and made-up addresses (including non-canonical ones), pointer
// arithmetic across regions, legacy loads with huge offsets, atomics on foreign memory, read-only maps,
// division traps (INT_MIN / -1, by zero), endless loops, deep recursion, bad callx targets, map helpers
// given foreign key/value pointers, writes to r10, plus 3000 random instruction streams. The child checks
// that every run ends with a NetworkError or a value, that the packet and map bytes afterwards equal the
// interpreter's (nothing else written), and that canary buffers around everything are untouched.
// It loads the compiled package from dist/ (npm test builds it first).
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { x64JitAvailable } from '../../src/ebpf/jit-x64/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const distEbpf = join(root, 'dist', 'src', 'ebpf', 'index.js');
const distJit = join(root, 'dist', 'src', 'ebpf', 'jit-x64', 'index.js');
const distErrors = join(root, 'dist', 'src', 'errors.js');

const CHILD = `
const E = await import(${JSON.stringify(pathToFileURL(distEbpf).href)});
const J = await import(${JSON.stringify(pathToFileURL(distJit).href)});
const { isNetworkError } = await import(${JSON.stringify(pathToFileURL(distErrors).href)});
const { assemble, BpfProgram, BpfMap, bpfInsn } = E;
if (!J.x64JitAvailable()) { console.log(JSON.stringify({ skipped: true })); process.exit(0); }
const canaries = Array.from({ length: 64 }, (_, i) => new Uint8Array(4096 * (1 + (i % 4))).fill(0xa5));
const mapsFor = () => [
  BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'vals' }),
  BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4, name: 'h' }),
  BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: '.rodata', flags: 0x80 }),
];
const hex = (b) => Buffer.from(b).toString('hex');
function outcome(insns, engine, packet) {
  const maps = mapsFor();
  const p = new BpfProgram(insns, { maps });
  p.registerHelper(300, () => 7n);
  const mem = packet.slice();
  let result;
  try { result = 'r0=' + p.run(mem, { engine, budget: 100000 }); }
  catch (e) { if (!isNetworkError(e)) throw new Error(engine + ' threw a non-NetworkError: ' + e); result = 'error ' + e.code; }
  return { result, mem: hex(mem), maps: maps.map((m) => [...m.entries()].map(([k, v]) => hex(k) + ':' + hex(v)).join(',')).join('|') };
}
const lookup = 'stw [%r10-4], 0\\nlddw %r1, map_fd 0\\nmov %r2, %r10\\nadd %r2, -4\\ncall 1\\njeq %r0, 0, out\\n';
const A = (s) => assemble(s).insns;
const corpus = {
  'packet read far past the end': A('ldxdw %r0, [%r1+4096]\\nexit'),
  'packet write far past the end': A('stdw [%r1+30000], 1\\nmov %r0, 0\\nexit'),
  'packet read before the start': A('ldxdw %r0, [%r1-8]\\nexit'),
  'packet read straddling the end': A('ldxdw %r0, [%r1+60]\\nexit'),
  'data-dependent offset': A('ldxb %r3, [%r1]\\nlsh %r3, 8\\nadd %r1, %r3\\nldxdw %r0, [%r1+250]\\nexit'),
  'made-up user address': A('lddw %r1, 0x00007fffdeadbeef\\nldxdw %r0, [%r1]\\nexit'),
  'null page': A('mov %r1, 0\\nstdw [%r1+16], 1\\nmov %r0, 0\\nexit'),
  'non-canonical address': A('lddw %r1, 0x8000000000000000\\nldxdw %r0, [%r1]\\nexit'),
  'address -1 (wraps with the offset)': A('mov %r1, -1\\nldxb %r0, [%r1+1]\\nexit'),
  'top of the address space, 8 bytes': A('mov %r1, -8\\nldxdw %r0, [%r1+4]\\nexit'),
  'packet pointer + 2^32': A('lddw %r2, 0x100000000\\nadd %r1, %r2\\nldxb %r0, [%r1]\\nexit'),
  'packet pointer - 2^32': A('lddw %r2, 0x100000000\\nsub %r1, %r2\\nstb [%r1], 1\\nmov %r0, 0\\nexit'),
  'stack below all frames': A('stdw [%r10-520], 1\\nmov %r0, 0\\nexit'),
  'stack above all frames': A('mov %r2, %r10\\nadd %r2, 4000\\nstdw [%r2], 1\\nmov %r0, 0\\nexit'),
  'atomic add on a made-up address': A('lddw %r1, 0x00007f0000001000\\nmov %r3, 1\\nlock add [%r1], %r3\\nmov %r0, 0\\nexit'),
  'cmpxchg past the packet': A('mov %r0, 0\\nmov %r3, 1\\nlock cmpxchg [%r1+64], %r3\\nexit'),
  'xchg on the stack guard': A('mov %r3, 1\\nlock xchg [%r10+0], %r3\\nmov %r0, 0\\nexit'),
  'fetch-or far away': A('lddw %r1, 0x0000100000000000\\nmov %r3, 1\\nlock fetch or [%r1], %r3\\nmov %r0, 0\\nexit'),
  'ld_abs huge offset': A('ldabsw 0x7ffffff0\\nexit'),
  'ld_abs negative offset': A('ldabsw -4\\nexit'),
  'ld_ind wrapping offset': A('mov %r3, -1\\nldindw %r3, 2\\nexit'),
  'map value read past its end': A(lookup + 'ldxdw %r0, [%r0+8]\\nout:\\nexit'),
  'map value write before its start': A(lookup + 'stdw [%r0-8], 1\\nout:\\nmov %r0, 0\\nexit'),
  'map value pointer walked into the next value': A(lookup + 'add %r0, 64\\nstdw [%r0], 1\\nout:\\nmov %r0, 0\\nexit'),
  'read-only map written': A('lddw %r1, map_value 2, 0\\nstdw [%r1], 1\\nmov %r0, 0\\nexit'),
  'read-only map atomic add': A('lddw %r1, map_value 2, 0\\nmov %r3, 1\\nlock add [%r1], %r3\\nmov %r0, 0\\nexit'),
  'map lookup with a foreign key pointer': A('lddw %r1, map_fd 1\\nlddw %r2, 0x00007fff00000000\\ncall 1\\nexit'),
  'map update with a foreign value pointer': A('stw [%r10-4], 0\\nlddw %r1, map_fd 1\\nmov %r2, %r10\\nadd %r2, -4\\nmov %r3, 12345\\nmov %r4, 0\\ncall 2\\nexit'),
  'map update with a key straddling the stack top': A('lddw %r1, map_fd 1\\nmov %r2, %r10\\nadd %r2, 3582\\nmov %r3, %r10\\nadd %r3, -8\\nmov %r4, 0\\ncall 2\\nexit'),
  'map delete with a null key': A('lddw %r1, map_fd 1\\nmov %r2, 0\\ncall 3\\nexit'),
  'map helper with a made-up map handle': A('lddw %r1, 0xfffffffe00000009\\nmov %r2, %r10\\ncall 1\\nexit'),
  'unknown helper': A('call 77777\\nexit'),
  'int_min / -1 (64)': A('lddw %r0, 0x8000000000000000\\nsdiv %r0, -1\\nexit'),
  'int_min % -1 (32)': A('mov32 %r0, 0x80000000\\nmov %r1, -1\\nsmod32 %r0, %r1\\nexit'),
  'division by zero register': A('mov %r0, 5\\nmov %r3, 0\\ndiv %r0, %r3\\nmod32 %r0, %r3\\nexit'),
  'endless loop': A('mov %r0, 0\\nl:\\nadd %r0, 1\\nja l\\nexit'),
  'endless loop via ja32': [bpfInsn(0xb7, 0), bpfInsn(0x06, 0, 0, 0, -1), bpfInsn(0x95)],
  'unbounded recursion': A('call local f\\nexit\\nf:\\ncall local f\\nexit'),
  'callx to garbage': A('lddw %r2, 0xffffffff00000001\\ncall %r2\\nexit'),
  'callx to a huge helper id': A('lddw %r2, 0x80000000\\ncall %r2\\nexit'),
  'write to r10 then store through it': A('mov %r10, 0\\nstdw [%r10-8], 1\\nmov %r0, 0\\nexit'),
  'r10 moved onto the packet': A('mov %r10, %r1\\nstdw [%r10-8], 1\\nldxdw %r0, [%r10+0]\\nexit'),
  'falls off the end': [bpfInsn(0xb7, 0, 0, 0, 1)],
};
const packet = new Uint8Array(64).map((_, i) => i);
const results = {};
for (const [name, insns] of Object.entries(corpus)) {
  let n, i;
  try { i = outcome(insns, 'interpreter', packet); } catch (e) { i = { result: 'rejected ' + e.code }; }
  try { n = outcome(insns, 'native', packet); } catch (e) { n = { result: 'rejected ' + e.code }; }
  results[name] = { native: n.result, interpreter: i.result, sameMemory: n.mem === i.mem && n.maps === i.maps };
}
// Random instruction streams: valid-looking opcodes, any registers, wild offsets and immediates.
let seed = 12345;
const rnd = (k) => { seed = (Math.imul(seed, 1103515245) + 12345) >>> 0; return seed % k; };
const OPS = [0x07,0x0f,0x17,0x1f,0x27,0x2f,0x37,0x3f,0x47,0x4f,0x57,0x5f,0x67,0x6f,0x77,0x7f,0x87,0x97,0x9f,0xa7,0xaf,0xb7,0xbf,0xc7,0xcf,
  0x04,0x0c,0x14,0x1c,0x24,0x2c,0x34,0x3c,0x44,0x4c,0x54,0x5c,0x64,0x6c,0x74,0x7c,0x84,0x94,0x9c,0xa4,0xac,0xb4,0xbc,0xc4,0xcc,0xd4,0xdc,0xd7,
  0x61,0x69,0x71,0x79,0x81,0x89,0x91,0x62,0x6a,0x72,0x7a,0x63,0x6b,0x73,0x7b,0xc3,0xdb,0x20,0x28,0x30,0x40,0x48,0x50,
  0x05,0x15,0x1d,0x25,0x2d,0x35,0x3d,0x45,0x4d,0x55,0x5d,0x65,0x6d,0x75,0x7d,0xa5,0xad,0xb5,0xbd,0xc5,0xcd,0xd5,0xdd,0x16,0x1e,0x06,0x85,0x8d,0x95];
const IMMS = [0, 1, -1, 8, 16, 32, 64, 0x7fffffff, -0x80000000, 1, 6, 300, 0x01, 0x41, 0xe1, 0xf1];
let randomRuns = 0, randomNative = 0;
for (let k = 0; k < 3000; k++) {
  const n = 2 + rnd(14);
  const insns = [];
  for (let j = 0; j < n; j++) {
    const op = OPS[rnd(OPS.length)];
    insns.push(bpfInsn(op, rnd(11), rnd(11), rnd(2) ? rnd(9) - 4 : (rnd(65536) - 32768), IMMS[rnd(IMMS.length)]));
  }
  insns.push(bpfInsn(0x95));
  randomRuns++;
  try { outcome(insns, 'native', packet); randomNative++; } catch (e) { if (!isNetworkError(e)) throw e; }
}
const canariesOk = canaries.every((c) => c.every((b) => b === 0xa5));
console.log(JSON.stringify({ results, randomRuns, randomNative, canariesOk }));
if (process.env.JIT_HOSTILE_DUMP) console.error(JSON.stringify(results, null, 1));
`;

describe.skipIf(!x64JitAvailable())('x86-64 JIT: hostile programs in a child process', () => {
  it('nothing escapes: no signal, errors or values only, memory identical to the interpreter, canaries intact', () => {
    if (!existsSync(distEbpf) || !existsSync(distJit)) {
      if (process.env.CI) throw new Error('dist/ is missing: npm test builds it before running the tests');
      console.warn('skipping the child-process hostile run: build dist/ first (npm run build)');
      return;
    }
    const dir = mkdtempSync(join(tmpdir(), 'jit-hostile-'));
    try {
      const file = join(dir, 'child.mjs');
      writeFileSync(file, CHILD);
      const r = spawnSync(process.execPath, [file], { encoding: 'utf8', timeout: 120_000, maxBuffer: 16 << 20 });
      expect(r.signal).toBeNull();
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = JSON.parse(r.stdout) as {
        skipped?: boolean;
        results: Record<string, { native: string; interpreter: string; sameMemory: boolean }>;
        randomRuns: number;
        randomNative: number;
        canariesOk: boolean;
      };
      if (out.skipped) return;
      expect(out.canariesOk).toBe(true);
      const names = Object.keys(out.results);
      expect(names.length).toBeGreaterThan(40);
      // Pointer arithmetic across 2^32 lands in another region of the TypeScript engines' virtual address
      // space (region id = high word) but in no region at all natively: native is stricter there.
      const stricter = new Set(['packet pointer + 2^32']);
      for (const name of names) {
        const res = out.results[name]!;
        expect(res.native, name).toMatch(/^(r0=|error [A-Z_]+$|rejected [A-Z_]+$)/);
        if (!res.interpreter.startsWith('r0=')) expect(res.native, name).toBe(res.interpreter);
        else if (!res.native.startsWith('r0=')) expect(stricter.has(name), `${name}: native ${res.native}, interpreter ${res.interpreter}`).toBe(true);
        if (!stricter.has(name)) expect(res.sameMemory, name).toBe(true);
      }
      // The division cases are values on every engine (no SIGFPE), equal to the interpreter's.
      for (const name of ['int_min / -1 (64)', 'int_min % -1 (32)', 'division by zero register']) {
        expect(out.results[name]!.native).toBe(out.results[name]!.interpreter);
      }
      expect(out.randomRuns).toBe(3000);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 180_000);
});
