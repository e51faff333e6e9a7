// The 313 tests of the public bpf_conformance suite (../shared/conformance/bpf), run on the interpreter, the
// JS JIT and every other registered engine (the native x86-64 JIT joins when it registers itself).
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BpfProgram, assembleBpfInsns, bpfEngineNames, decodeInsnU64, type BpfHelperFn } from '../../src/ebpf/index.js';
import { conformanceBpf } from '../helpers/conformance.js';

const { dir, files } = conformanceBpf();

interface ConformanceCase {
  name: string;
  asm: string;
  raw: bigint[] | null;
  mem: Uint8Array;
  result: bigint | null;
  error: string | null;
}

/** Parses a `.data` file (format in ../shared/conformance/bpf/README.md). */
export function parseConformance(name: string, text: string): ConformanceCase {
  const sections = new Map<string, string[]>();
  let cur: string[] | null = null;
  for (const rawLine of text.split(/\r?\n/)) {
    if (rawLine.trimStart().startsWith('--')) {
      const h = rawLine.trim();
      const key = ['asm', 'result', 'mem', 'raw', 'error'].find((k) => h.includes(k)) ?? 'doc';
      cur = [];
      sections.set(key, cur);
      continue;
    }
    cur?.push(rawLine);
  }
  const clean = (key: string) =>
    (sections.get(key) ?? []).map((l) => l.replace(/#.*$/, '').trim()).filter((l) => l !== '');
  const raw = sections.has('raw') ? clean('raw').join(' ').split(/\s+/).map((t) => BigInt(t)) : null;
  const memTokens = clean('mem').join(' ').split(/\s+/).filter((t) => t !== '');
  const mem = new Uint8Array(memTokens.map((t) => parseInt(t, 16)));
  const res = clean('result');
  const last = res[res.length - 1];
  const result = last === undefined ? null : BigInt.asUintN(64, BigInt(last));
  const err = clean('error');
  return { name, asm: (sections.get('asm') ?? []).join('\n'), raw, mem, result, error: err.length ? err.join(' ') : null };
}

/** The reference plugin's helper 5 ("unwind"): returns r1; a 0 result stops the program with r0 = 0. */
const unwind: BpfHelperFn = (r1, _r2, _r3, _r4, _r5, env) => {
  if (r1 === 0n) env.exit(0n);
  return r1;
};

const cases = files.map((f) => parseConformance(f, readFileSync(join(dir, f), 'utf8')));

describe.skipIf(files.length === 0)('bpf_conformance', () => {
  it('has all 313 tests', () => {
    expect(cases.length).toBe(313);
  });

  for (const engine of bpfEngineNames()) {
    describe(engine, () => {
      it.each(cases.map((c) => [c.name, c] as const))('%s', (_name, c) => {
        const insns = c.raw ? c.raw.map(decodeInsnU64) : assembleBpfInsns(c.asm);
        if (c.raw) expect(assembleBpfInsns(c.asm)).toEqual(insns); // the assembler agrees with the raw form
        const prog = new BpfProgram(insns);
        prog.registerHelper(5, unwind, 'unwind');
        const mem = c.mem.slice();
        if (c.error !== null) {
          expect(() => prog.run(mem, { engine })).toThrow();
          return;
        }
        expect(c.result).not.toBeNull();
        expect(prog.run(mem, { engine })).toBe(c.result);
      });
    });
  }
});
