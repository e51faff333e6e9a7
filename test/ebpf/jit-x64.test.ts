// The native x86-64 JIT as an engine: batches, run-time errors (bounds, budget, call depth, callx), helpers in
// C over the shared map memory and helpers in TypeScript called back from machine code, the listing, the
// fallback, and the default engine per backend.
import { describe, expect, it } from 'vitest';
import v8 from 'node:v8';
import vm from 'node:vm';
import { PacketBatch } from '../../src/batch.js';
import { isNetworkError, type NetworkError } from '../../src/errors.js';
import { BpfJitCompiler, BpfMap, BpfProgram, assemble, bpfInsn, bpfLddw, seedBpfPrandom } from '../../src/ebpf/index.js';
import { X64CompiledProgram, compileBpfX64, x64JitAvailable, x64JitListing } from '../../src/ebpf/jit-x64/index.js';
import { backends, useBackend } from '../helpers/backends.js';

function caught(fn: () => unknown): NetworkError {
  try {
    fn();
  } catch (e) {
    if (isNetworkError(e)) return e;
    throw e;
  }
  throw new Error('expected a NetworkError');
}

function tcpFrame(dport: number, flags: number, len = 64): Uint8Array {
  const full = new Uint8Array(64);
  const dv = new DataView(full.buffer);
  dv.setUint16(12, 0x0800);
  full[14] = 0x45;
  full[23] = 6;
  dv.setUint16(36, dport);
  full[47] = flags;
  return full.slice(0, len);
}

const PORT80 = `
  ldabsh 12
  jne %r0, 0x800, drop
  ldabsb 23
  jne %r0, 6, drop
  ldabsb 14
  and32 %r0, 0xf
  lsh32 %r0, 2
  mov %r7, %r0
  ldindh %r7, 16
  jne %r0, 80, drop
  mov %r0, 1
  exit
drop:
  mov %r0, 0
  exit`;

describe('x86-64 JIT: code generation without the addon', () => {
  it('nativeCode() returns x86-64 bytes starting with the prologue (push rbx)', () => {
    const code = compileBpfX64(assemble(PORT80)).nativeCode();
    expect(code.length).toBeGreaterThan(100);
    expect(code[0]).toBe(0x53);
    expect(new BpfJitCompiler('js').compile(assemble(PORT80)).nativeCode()).toEqual(code);
  });

  it('the listing names every eBPF instruction and the code size', () => {
    const prog = assemble(PORT80);
    const c = compileBpfX64(prog);
    const text = x64JitListing(prog.insns, c.translation!, { objdump: false });
    expect(text).toMatch(/bytes of x86-64/);
    expect(text).toContain('ldindh %r7, 16');
    expect(text.split('\n').filter((l) => /^;\s+\d+:/.test(l))).toHaveLength(prog.length);
  });

  it('rejects malformed programs like every engine (VERIFIER_REJECTED)', () => {
    expect(caught(() => compileBpfX64(new BpfProgram([bpfInsn(0x05, 0, 0, 5)]))).code).toBe('VERIFIER_REJECTED');
  });

  it('falls back to the JS JIT, with a reason, beyond 62 maps', () => {
    const maps = Array.from({ length: 63 }, (_, i) => BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, name: `m${i}` }));
    const prog = new BpfProgram(assemble('mov %r0, 9\nexit').insns, { maps });
    const c = new X64CompiledProgram(prog);
    expect(c.fallbackReason).toMatch(/62 maps/);
    expect(c.run(new Uint8Array(4))).toBe(9n);
    expect(() => c.nativeCode()).toThrow(/62 maps/);
  });
});

describe.skipIf(!x64JitAvailable())('x86-64 JIT: running', () => {
  it('runBatch gives the interpreter verdicts on a mixed batch', () => {
    const prog = assemble(PORT80);
    const pkts = [tcpFrame(80, 2), tcpFrame(443, 2), tcpFrame(80, 0x10, 40), tcpFrame(80, 2, 20), new Uint8Array(0), tcpFrame(8080, 2)];
    const batch = PacketBatch.fromArray(pkts);
    const native = prog.runBatch(batch, new Uint32Array(pkts.length), { engine: 'native' });
    const interp = prog.runBatch(batch, new Uint32Array(pkts.length), { engine: 'interpreter' });
    expect(Array.from(native)).toEqual(Array.from(interp));
    expect(Array.from(native)).toEqual([1, 0, 1, 0, 0, 0]);
  });

  it('a 64-bit r0 comes back whole from a single run', () => {
    expect(assemble('lddw %r0, 0x8877665544332211\nexit').run(new Uint8Array(0), { engine: 'native' })).toBe(0x8877665544332211n);
  });

  it('an out-of-bounds load in packet 2 of a batch reports the same error as the interpreter', () => {
    const prog = assemble('ldxw %r0, [%r1+8]\nexit');
    const batch = PacketBatch.fromArray([new Uint8Array(16), new Uint8Array(12), new Uint8Array(10)]);
    const n = caught(() => prog.runBatch(batch, undefined, { engine: 'native' }));
    const i = caught(() => prog.runBatch(batch, undefined, { engine: 'interpreter' }));
    expect(n.code).toBe('OUT_OF_BOUNDS');
    expect(n.message).toBe(i.message);
    expect(n.detail).toEqual(i.detail);
  });

  it('stores outside the stack frame region and to read-only maps are stopped', () => {
    const below = caught(() => assemble('stw [%r10-516], 1\nmov %r0, 0\nexit').run(new Uint8Array(4), { engine: 'native' }));
    expect(below.code).toBe('OUT_OF_BOUNDS');
    expect(below.detail.write).toBe(true);
    const ro = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 1, name: 'ro', flags: 0x80 });
    const prog = new BpfProgram([...bpfLddw(1, 0n, 2), bpfInsn(0x62, 1, 0, 0, 7), bpfInsn(0xb7, 0), bpfInsn(0x95)], { maps: [ro] });
    const e = caught(() => prog.run(new Uint8Array(0), { engine: 'native' }));
    const ei = caught(() => prog.run(new Uint8Array(0), { engine: 'interpreter' }));
    expect(e.message).toBe(ei.message);
    expect(ro.get(0)).toEqual(new Uint8Array(8));
  });

  it('an endless loop ends with BUDGET_EXCEEDED at the interpreter pc', () => {
    const prog = assemble('mov %r0, 0\nloop:\nadd %r0, 1\nja loop\nexit');
    const n = caught(() => prog.run(new Uint8Array(0), { engine: 'native', budget: 1000 }));
    const i = caught(() => prog.run(new Uint8Array(0), { engine: 'interpreter', budget: 1000 }));
    expect(n.code).toBe('BUDGET_EXCEEDED');
    expect(n.message).toBe(i.message);
  });

  it('a bounded loop runs to the end within its budget', () => {
    const prog = assemble('mov %r0, 0\nmov %r1, 0\nloop:\nadd %r0, %r1\nadd %r1, 1\njlt %r1, 1000, loop\nexit');
    expect(prog.run(new Uint8Array(0), { engine: 'native' })).toBe(499500n);
  });

  it('unbounded recursion stops at call depth 8, like the interpreter', () => {
    const prog = assemble('call local f\nexit\nf:\ncall local f\nexit');
    const n = caught(() => prog.run(new Uint8Array(0), { engine: 'native' }));
    const i = caught(() => prog.run(new Uint8Array(0), { engine: 'interpreter' }));
    expect(n.message).toBe(i.message);
    expect(n.detail.pc).toBe(i.detail.pc);
  });

  it('callx to a non-function value is an error; callx to a code address calls it', () => {
    const bad = assemble('lddw %r2, 0x123456789\ncall %r2\nexit');
    expect(caught(() => bad.run(new Uint8Array(0), { engine: 'native' })).message).toBe(caught(() => bad.run(new Uint8Array(0), { engine: 'interpreter' })).message);
    const good = new BpfProgram([...bpfLddw(2, 3n, 4), bpfInsn(0x8d, 2), bpfInsn(0x95), bpfInsn(0xb7, 0, 0, 0, 42), bpfInsn(0x95)]);
    // lddw src 4 imm 3 → pc 0 + 1 + 3 = 4: the function `mov r0, 42; exit`.
    expect(good.run(new Uint8Array(0), { engine: 'native' })).toBe(good.run(new Uint8Array(0), { engine: 'interpreter' }));
    expect(good.run(new Uint8Array(0), { engine: 'native' })).toBe(42n);
  });

  it('C map helpers count SYNs per port in a hash map shared with TypeScript', () => {
    // key = dst port (u32) on the stack; lookup; if absent insert 1, else atomic add 1.
    const src = `
      ldabsb 47
      jset %r0, 0x2, syn
      mov %r0, 0
      exit
    syn:
      ldabsh 36
      stxw [%r10-4], %r0
      stdw [%r10-16], 1
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, insert
      mov %r1, 1
      lock add [%r0], %r1
      mov %r0, 1
      exit
    insert:
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      mov %r0, 1
      exit`;
    const pkts = Array.from({ length: 300 }, (_, i) => tcpFrame([80, 443, 22][i % 3]!, i % 2 ? 2 : 0x10));
    const batch = PacketBatch.fromArray(pkts);
    const counts = (engine: string) => {
      const map = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: 'syn' });
      const prog = new BpfProgram(assemble(src).insns, { maps: [map] });
      prog.runBatch(batch, undefined, { engine });
      return [80, 443, 22].map((p) => map.readCounter(p, 0, 8));
    };
    expect(counts('native')).toEqual(counts('interpreter'));
    expect(counts('native')).toEqual([50n, 50n, 50n]);
  });

  it('map lookup / update / delete over shared maps run in C: no call back into JavaScript', () => {
    const m = BpfMap.create({ name: 'h', type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 });
    // key 7 at fp-4, value 9 at fp-16: update(h, &k, &v, 0); lookup(h, &k) → *r0; delete(h, &k); r0 += 100 * found
    const prog = new BpfProgram(
      [
        bpfInsn(0x62, 10, 0, -4, 7),
        bpfInsn(0x7a, 10, 0, -16, 9),
        ...bpfLddw(1, 0n, 1),
        bpfInsn(0xbf, 2, 10, 0, 0),
        bpfInsn(0x07, 2, 0, 0, -4),
        bpfInsn(0xbf, 3, 10, 0, 0),
        bpfInsn(0x07, 3, 0, 0, -16),
        bpfInsn(0xb7, 4, 0, 0, 0),
        bpfInsn(0x85, 0, 0, 0, 2),
        ...bpfLddw(1, 0n, 1),
        bpfInsn(0xbf, 2, 10, 0, 0),
        bpfInsn(0x07, 2, 0, 0, -4),
        bpfInsn(0x85, 0, 0, 0, 1),
        bpfInsn(0x15, 0, 0, 5, 0),
        bpfInsn(0x79, 6, 0, 0, 0),
        ...bpfLddw(1, 0n, 1),
        bpfInsn(0xbf, 2, 10, 0, 0),
        bpfInsn(0x07, 2, 0, 0, -4),
        bpfInsn(0x85, 0, 0, 0, 3),
        bpfInsn(0xbf, 0, 6, 0, 0),
        bpfInsn(0x95, 0, 0, 0, 0),
      ],
      { maps: [m] },
    );
    const want = prog.run(new Uint8Array(4), { engine: 'interpreter' });
    expect(want).toBe(9n);
    const c = new X64CompiledProgram(prog);
    let back = 0;
    const spy = c as unknown as { callJsHelper: (...a: unknown[]) => unknown };
    const orig = spy.callJsHelper.bind(c);
    spy.callJsHelper = (...a: unknown[]) => {
      back++;
      return orig(...a);
    };
    expect(c.run(new Uint8Array(4))).toBe(want);
    expect(back).toBe(0);
    expect(m.size).toBe(0);
  });

  it('hash churn (tombstones, rehash) and LRU eviction in C leave the same maps as the interpreter', () => {
    // Per packet: key = byte 0; byte 1 = 1 → update (value = byte 2), 2 → delete, else lookup.
    const src = `
      ldxb %r6, [%r1+0]
      ldxb %r7, [%r1+1]
      ldxb %r8, [%r1+2]
      stxw [%r10-4], %r6
      stxdw [%r10-16], %r8
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      jeq %r7, 1, upd
      jeq %r7, 2, del
      call 1
      jeq %r0, 0, out
      ldxdw %r0, [%r0]
      exit
    upd:
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      exit
    del:
      call 3
      exit
    out:
      exit`;
    let seed = 7;
    const rnd = (n: number) => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return (seed >>> 8) % n;
    };
    const pkts = Array.from({ length: 3000 }, () => Uint8Array.of(rnd(40), rnd(3), rnd(256), 0));
    const batch = PacketBatch.fromArray(pkts);
    for (const type of ['hash', 'lru_hash'] as const) {
      const run = (engine: string) => {
        const map = BpfMap.create({ type, keySize: 4, valueSize: 8, maxEntries: 16, name: 'churn' });
        const prog = new BpfProgram(assemble(src).insns, { maps: [map] });
        const v = prog.runBatch(batch, new Uint32Array(pkts.length), { engine });
        return { verdicts: Array.from(v), entries: [...map.entries()].map(([k, x]) => `${k.join('.')}=${x.join('.')}`).sort() };
      };
      expect(run('native')).toEqual(run('interpreter'));
    }
  });

  it('array map update/lookup/delete in C agree with the interpreter', () => {
    const src = `
      stw [%r10-4], 2
      stdw [%r10-16], 77
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      mov %r6, %r0
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      call 3
      lsh %r0, 8
      or %r6, %r0
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      call 1
      jeq %r0, 0, out
      ldxdw %r0, [%r0]
      add %r0, %r6
    out:
      exit`;
    const run = (engine: string) => {
      const map = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'a' });
      const r = new BpfProgram(assemble(src).insns, { maps: [map] }).run(new Uint8Array(0), { engine });
      return [r, map.get(2)];
    };
    expect(run('native')).toEqual(run('interpreter'));
  });

  it('TypeScript helpers are called back with translated pointers; env.exit stops the run', () => {
    // helper 200: sums r2 bytes at r1 (read through env, i.e. by virtual address) and returns it.
    const sum = (r1: bigint, r2: bigint, _3: bigint, _4: bigint, _5: bigint, env: { read(a: bigint, n: number): Uint8Array }) =>
      BigInt(env.read(r1, Number(r2)).reduce((a, b) => a + b, 0));
    const prog = assemble('stdw [%r10-8], 0x01020304\nmov %r1, %r10\nadd %r1, -8\nmov %r2, 8\ncall 200\nexit');
    prog.registerHelper(200, sum);
    expect(prog.run(new Uint8Array(0), { engine: 'native' })).toBe(10n);
    // A result that looks like a virtual address (region 1, offset 5) is still just a number.
    const numeric = assemble('call 203\nexit');
    numeric.registerHelper(203, () => 0x100000005n);
    expect(numeric.run(new Uint8Array(16), { engine: 'native' })).toBe(0x100000005n);
    const stopper = assemble('mov %r0, 3\ncall 201\nmov %r0, 4\nexit');
    stopper.registerHelper(201, (_1, _2, _3, _4, _5, env) => env.exit(99n));
    expect(stopper.run(new Uint8Array(0), { engine: 'native' })).toBe(99n);
  });

  it('helpers called from nested local calls see an aligned stack (a TypeScript helper walks it)', () => {
    const prog = assemble('mov %r1, 5\ncall local f\nexit\nf:\ncall local g\nadd %r0, 1\nexit\ng:\nmov %r1, 7\ncall 300\nmov %r6, %r0\ncall 5\nmov %r0, %r6\nexit');
    prog.registerHelper(300, (r1) => r1 * 10n + BigInt(new Error('walk the stack').stack!.length > 0 ? 1 : 0));
    expect(prog.run(new Uint8Array(8), { engine: 'native' })).toBe(72n);
    expect(prog.run(new Uint8Array(8), { engine: 'interpreter' })).toBe(72n);
  });

  it('a throwing TypeScript helper propagates its error and leaves the engine usable', () => {
    const prog = assemble('call 202\nexit');
    let fail = true;
    prog.registerHelper(202, () => {
      if (fail) throw new Error('helper failed');
      return 5n;
    });
    expect(() => prog.run(new Uint8Array(0), { engine: 'native' })).toThrow('helper failed');
    fail = false;
    expect(prog.run(new Uint8Array(0), { engine: 'native' })).toBe(5n);
    const unknown = caught(() => assemble('call 9999\nexit').run(new Uint8Array(0), { engine: 'native' }));
    expect(unknown.code).toBe('UNSUPPORTED');
  });

  it('a helper that runs the same program again gets a NetworkError; its own RangeError passes through unchanged', () => {
    const prog = assemble('call 204\nexit');
    prog.registerHelper(204, () => prog.run(new Uint8Array(0), { engine: 'native' }));
    expect(caught(() => prog.run(new Uint8Array(0), { engine: 'native' })).code).toBe('INVALID_ARGUMENT');
    prog.registerHelper(204, () => {
      throw new RangeError('mine');
    });
    expect(() => prog.run(new Uint8Array(0), { engine: 'native' })).toThrow(RangeError);
    prog.registerHelper(204, () => 8n);
    expect(prog.run(new Uint8Array(0), { engine: 'native' })).toBe(8n);
  });

  it('trace_printk reaches onTrace from native code', () => {
    // "hi %d\0" on the stack
    const prog = assemble('lddw %r1, 0x0064252069680000\nstxdw [%r10-8], %r1\nmov %r1, %r10\nadd %r1, -6\nmov %r2, 6\nmov %r3, 42\ncall 6\nexit');
    const lines: string[] = [];
    prog.run(new Uint8Array(0), { engine: 'native', onTrace: (m) => lines.push(m) });
    const ref: string[] = [];
    prog.run(new Uint8Array(0), { engine: 'interpreter', onTrace: (m) => ref.push(m) });
    expect(lines).toEqual(ref);
    expect(lines[0]).toBe('hi 42');
  });

  it('checked and verifier-proved code give the same verdicts', () => {
    const prog = assemble(`
      mov %r0, 0
      jlt %r2, 40, out
      ldxh %r3, [%r1+12]
      ldxb %r4, [%r1+23]
      add %r3, %r4
      ldxw %r4, [%r1+36]
      add %r3, %r4
      mov %r0, %r3
    out:
      exit`);
    const proved = new X64CompiledProgram(prog, { proofs: 'verifier' });
    const checked = new X64CompiledProgram(prog, { proofs: 'all-checked' });
    expect(proved.verified).toBe(true);
    expect(proved.translation!.provedAccesses).toBeGreaterThan(checked.translation!.provedAccesses);
    const batch = PacketBatch.fromArray([tcpFrame(80, 2), tcpFrame(1234, 2, 39), tcpFrame(0xffff, 0xff, 40)]);
    expect(Array.from(proved.runBatch(batch, new Uint32Array(3)))).toEqual(Array.from(checked.runBatch(batch, new Uint32Array(3))));
  });

  it('compiled programs that ran are garbage-collected (the shim holds nothing that points back at them)', async () => {
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    let collected = 0;
    const registry = new FinalizationRegistry(() => {
      collected++;
    });
    for (let k = 0; k < 200; k++) {
      const prog = assemble('call 205\nexit');
      prog.registerHelper(205, () => 1n); // a TypeScript helper: the shim keeps a reference to its dispatcher
      const c = new X64CompiledProgram(prog);
      c.run(new Uint8Array(8));
      registry.register(c, k);
    }
    for (let i = 0; i < 10 && collected < 150; i++) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(collected).toBeGreaterThan(150);
  });

  it('dispose() unmaps the code; the next run maps it again', () => {
    const c = compileBpfX64(assemble('mov %r0, 1\nexit'));
    expect(c.run(new Uint8Array(0))).toBe(1n);
    c.dispose();
    expect(c.run(new Uint8Array(0))).toBe(1n);
  });
});

describe.each(backends)('default engine on the %s backend', (backend) => {
  useBackend(backend);
  it('program.runBatch uses the native JIT on native, the JS JIT on ts, with identical verdicts', () => {
    const prog = assemble(PORT80);
    const compiled = prog.compile();
    expect(compiled.engine).toBe(backend === 'native' && x64JitAvailable() ? 'native' : 'js');
    const batch = PacketBatch.fromArray([tcpFrame(80, 2), tcpFrame(81, 2), tcpFrame(80, 2, 30)]);
    expect(Array.from(prog.runBatch(batch, new Uint32Array(3)))).toEqual([1, 0, 0]);
  });
});

describe.each(backends)('get_prandom_u32 (helper 7) on the %s backend', (backend) => {
  useBackend(backend);
  it('after seedBpfPrandom the default engine draws the interpreter sequence, and engines continue one sequence', () => {
    // r0 = two draws packed (first << 32 | second): the batch path runs the helper from the generated loop.
    const prog = assemble('call 7\nmov %r6, %r0\ncall 7\nlsh %r6, 32\nor %r0, %r6\nexit');
    const draw = (engine?: string) => prog.run(new Uint8Array(0), engine ? { engine } : {});
    seedBpfPrandom(1234);
    const ref = [draw('interpreter'), draw('interpreter'), draw('interpreter')];
    expect(new Set(ref).size).toBe(3);
    seedBpfPrandom(1234);
    expect([draw(), draw(), draw()]).toEqual(ref);
    // Alternating engines continue the same sequence (one shared generator state).
    seedBpfPrandom(1234);
    expect([draw(), draw('interpreter'), draw('js')]).toEqual(ref);
    const batch = PacketBatch.fromArray([new Uint8Array(1), new Uint8Array(1), new Uint8Array(1)]);
    const one = assemble('call 7\nexit');
    seedBpfPrandom(99);
    const want = [0, 1, 2].map(() => Number(one.run(new Uint8Array(0), { engine: 'interpreter' })));
    seedBpfPrandom(99);
    expect(Array.from(one.runBatch(batch, new Uint32Array(3)))).toEqual(want);
  });
});
