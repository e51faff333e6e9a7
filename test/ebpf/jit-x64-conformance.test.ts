// The 313 tests of ../shared/conformance/bpf on the native x86-64 JIT, with its code really running natively
// (no fallback) — and once more with every access checked (no proofs), so both code shapes are covered.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpfProgram, assembleBpfInsns, decodeInsnU64, type BpfHelperFn } from '../../src/ebpf/index.js';
import { X64CompiledProgram, x64JitAvailable } from '../../src/ebpf/jit-x64/index.js';
import { conformanceBpf } from '../helpers/conformance.js';


function parse(text: string): { asm: string; raw: bigint[] | null; mem: Uint8Array; result: bigint | null; error: boolean } {
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const line of text.split(/\r?\n/)) {
    if (line.trimStart().startsWith('--')) {
      const key = ['asm', 'result', 'mem', 'raw', 'error'].find((k) => line.includes(k)) ?? 'doc';
      cur = [];
      sections.set(key, cur);
      continue;
    }
    cur?.push(line);
  }
  const clean = (k: string) => (sections.get(k) ?? []).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
  const raw = sections.has('raw') ? clean('raw').join(' ').split(/\s+/).map((t) => BigInt(t)) : null;
  const mem = new Uint8Array(clean('mem').join(' ').split(/\s+/).filter((t) => t !== '').map((t) => parseInt(t, 16)));
  const res = clean('result');
  const last = res[res.length - 1];
  return { asm: (sections.get('asm') ?? []).join('\n'), raw, mem, result: last === undefined ? null : BigInt.asUintN(64, BigInt(last)), error: clean('error').length > 0 };
}

// The reference plugin's helper 5 ("unwind"), as in conformance.test.ts: 0 stops the program with r0 = 0.
const unwind: BpfHelperFn = (r1, _r2, _r3, _r4, _r5, env) => {
  if (r1 === 0n) env.exit(0n);
  return r1;
};

const { dir, files } = conformanceBpf();
const cases = files.map((f) => [f, parse(readFileSync(join(dir, f), 'utf8'))] as const);

describe.skipIf(files.length === 0 || !x64JitAvailable())('bpf_conformance on the x86-64 JIT', () => {
  it('has all 313 tests', () => expect(cases.length).toBe(313));

  for (const proofs of ['verifier', 'all-checked'] as const) {
    it.each(cases)(`${proofs}: %s`, (_f, c) => {
      const prog = new BpfProgram(c.raw ? c.raw.map(decodeInsnU64) : assembleBpfInsns(c.asm));
      prog.registerHelper(5, unwind, 'unwind');
      const compiled = new X64CompiledProgram(prog, { proofs });
      expect(compiled.fallbackReason).toBeNull();
      if (c.error) {
        expect(() => compiled.run(c.mem.slice())).toThrow();
        return;
      }
      expect(compiled.run(c.mem.slice())).toBe(c.result);
    });
  }
});
