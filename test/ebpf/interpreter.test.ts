// Program-level behaviour on every built-in engine (interpreter and JS JIT): helpers, maps through
// lddw pseudo sources, legacy packet loads, callx, batches, the guide's API and the engine registry.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { Worker } from 'node:worker_threads';
import { beforeAll, describe, expect, it } from 'vitest';
import {
  BpfInterpreter,
  BpfJitCompiler,
  BpfMap,
  BpfProgram,
  PacketBatch,
  assemble,
  bpfEngineNames,
  bpfHelperIds,
  bpfInsn,
  defaultBpfEngine,
  getBpfHelper,
  isNetworkError,
  registerBpfEngine,
  registerBpfHelper,
  seedBpfPrandom,
  unregisterBpfEngine,
  unregisterBpfHelper,
} from '../../src/index.js';

const engines = ['interpreter', 'js'] as const;
const none = new Uint8Array(0);

describe.each(engines)('engine %s', (engine) => {
  it('passes r1 = memory, r2 = length and returns r0 as an unsigned 64-bit bigint', () => {
    const p = assemble('ldxb %r0, [%r1+1]\nadd %r0, %r2\nexit');
    expect(p.run(new Uint8Array([9, 40, 0]), { engine })).toBe(43n);
    expect(assemble('mov %r0, -1\nexit').run(none, { engine })).toBe(0xffffffffffffffffn);
  });

  it('stores into the input memory', () => {
    const mem = new Uint8Array(8);
    assemble('stw [%r1+2], 0x11223344\nsth [%r1+6], -1\nexit').run(mem, { engine });
    expect([...mem]).toEqual([0, 0, 0x44, 0x33, 0x22, 0x11, 0xff, 0xff]);
  });

  it('calls user helpers (per program over global) with r1..r5 and can stop the program', () => {
    const p = assemble('mov %r1, 2\nmov %r2, 3\nmov %r5, -1\ncall 1000\nexit');
    registerBpfHelper(1000, (r1, r2) => r1 * r2, 'mul');
    try {
      expect(p.run(none, { engine })).toBe(6n);
      p.registerHelper(1000, (r1, _r2, _r3, _r4, r5) => r5 + r1); // wraps modulo 2^64
      expect(p.run(none, { engine })).toBe(1n);
      p.registerHelper(1000, (_r1, _r2, _r3, _r4, _r5, env) => env.exit(77n));
      expect(p.run(none, { engine })).toBe(77n);
    } finally {
      unregisterBpfHelper(1000);
    }
    try {
      assemble('call 4242\nexit').run(none, { engine });
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e, 'UNSUPPORTED')).toBe(true);
    }
  });

  it('has helpers 5 (ktime_get_ns), 6 (trace_printk) and 7 (get_prandom_u32) built in', () => {
    expect(bpfHelperIds()).toEqual(expect.arrayContaining([1, 2, 3, 5, 6, 7]));
    expect(getBpfHelper(6)?.name).toBe('trace_printk');
    const t = assemble('call 5\nmov %r6, %r0\ncall 5\nsub %r0, %r6\nexit').run(none, { engine });
    expect(t < 1_000_000_000n).toBe(true); // second read ≥ first, so no wrap-around
    const lines: string[] = [];
    // "x=%d %s\0" on the stack, then trace_printk(fmt, 8, -5, ptr to "ok")
    const msg = assemble(`
      lddw %r1, 0x0073252064253d78
      stxdw [%r10-16], %r1
      sth [%r10-4], 0x6b6f
      stb [%r10-2], 0
      mov %r1, %r10
      sub %r1, 16
      mov %r2, 8
      mov %r3, -5
      mov %r4, %r10
      sub %r4, 4
      call 6
      exit`);
    expect(msg.run(none, { engine, onTrace: (m) => lines.push(m) })).toBe(7n);
    expect(lines).toEqual(['x=-5 ok']);
    const rnd = assemble('call 7\nmov %r6, %r0\ncall 7\nrsh %r0, 32\nrsh %r6, 32\nor %r0, %r6\nexit');
    expect(rnd.run(none, { engine })).toBe(0n); // u32 results: high halves are zero
    const one = assemble('call 7\nexit');
    seedBpfPrandom(42);
    const a = one.run(none, { engine });
    seedBpfPrandom(42);
    expect(one.run(none, { engine })).toBe(a); // reproducible after seeding
  });

  it('reaches map values through lddw map_value and helpers 1–3 through map handles', () => {
    const counters = BpfMap.create({ type: 'hash', name: 'counters', keySize: 4, valueSize: 8, maxEntries: 16 });
    const globals = BpfMap.create({ type: 'array', name: '.data', keySize: 4, valueSize: 16, maxEntries: 1 });
    const p = assemble(
      `
      lddw %r6, map_value 1, 8     # &.data + 8
      ldxdw %r7, [%r6]
      add %r7, 1
      stxdw [%r6], %r7
      stw [%r10-4], 80              # key
      lddw %r1, map_fd 0
      mov %r2, %r10
      sub %r2, 4
      call 1                        # lookup
      jne %r0, 0, found
      stdw [%r10-16], 1
      lddw %r1, map_fd 0
      mov %r2, %r10
      sub %r2, 4
      mov %r3, %r10
      sub %r3, 16
      mov %r4, 0
      call 2                        # update
      mov %r0, 0
      exit
    found:
      mov %r1, 5
      lock add [%r0], %r1
      ldxdw %r0, [%r0]
      exit`,
      { maps: [counters, globals] },
    );
    expect(p.maps.get('counters')).toBe(counters);
    expect(p.run(none, { engine })).toBe(0n);
    expect(p.run(none, { engine })).toBe(6n);
    expect(p.run(none, { engine })).toBe(11n);
    expect(counters.readCounter(80)).toBe(11n);
    expect(globals.readCounter(0, 8)).toBe(3n);
    // a value pointer is bounded by the map's storage
    const oob = assemble('lddw %r6, map_value 0, 0\nldxdw %r0, [%r6+30000]\nexit', { maps: [globals] });
    expect(() => oob.run(none, { engine })).toThrow(/outside/);
    const missing = new BpfProgram([bpfInsn(0x18, 1, 1, 0, 3), bpfInsn(0), bpfInsn(0x95)]);
    expect(() => missing.run(none, { engine })).toThrow(/map 3 does not exist/);
  });

  it('refuses writes to read-only maps', () => {
    const ro = BpfMap.create({ type: 'array', name: '.rodata', keySize: 4, valueSize: 8, maxEntries: 1, flags: 0x80 });
    const p = assemble('lddw %r1, map_value 0, 0\nldxdw %r0, [%r1]\nstdw [%r1], 1\nexit', { maps: [ro] });
    expect(() => p.run(none, { engine })).toThrow(/store/);
  });

  it('runs legacy packet loads (big-endian; out of range ends the program with 0)', () => {
    const p = assemble('mov %r6, %r1\nmov %r7, 2\nldabsh 0\nmov %r8, %r0\nldindw %r7, 1\nadd %r0, %r8\nexit');
    expect(p.run(new Uint8Array([0x12, 0x34, 0, 0, 0, 0, 1]), { engine })).toBe(0x1234n + 1n);
    expect(p.run(new Uint8Array([0x12, 0x34, 0, 0, 0, 0]), { engine })).toBe(0n);
  });

  it('calls a function through callx and a code address', () => {
    const p = assemble('lddw %r3, code_addr f\nmov %r1, 20\ncallx_target: call %r3\nadd %r0, 1\nexit\nf: mov %r0, %r1\nmul %r0, 2\nexit');
    expect(p.run(none, { engine })).toBe(41n);
  });

  it('runs a batch: one verdict per packet, the packet as region 1', () => {
    const p = assemble('mov %r0, %r2\nldxb %r3, [%r1]\nlsh %r3, 8\nor %r0, %r3\nexit');
    const batch = PacketBatch.fromArray([new Uint8Array([1, 0]), new Uint8Array([2, 0, 0]), new Uint8Array([3])]);
    expect([...p.runBatch(batch, undefined, { engine })]).toEqual([0x102, 0x203, 0x301]);
    const out = new Uint32Array(8);
    expect(p.runBatch(batch, out, { engine })).toBe(out);
    expect(() => p.runBatch(batch, new Uint32Array(1), { engine })).toThrow(/verdicts/);
    // a packet cannot reach its neighbour in the batch
    const peek = assemble('ldxb %r0, [%r1+2]\nexit');
    expect(() => peek.runBatch(batch, undefined, { engine })).toThrow(/outside/);
  });
});

describe('guide API and engine registry', () => {
  const etherTypeIs4 = () =>
    new BpfProgram()
      .addInstruction(bpfInsn(0x69, 0, 1, 12)) // ldxh r0, [r1+12]
      .addInstruction(bpfInsn(0xdc, 0, 0, 0, 16)) // be16 r0
      .addInstruction(bpfInsn(0x55, 0, 0, 2, 0x0800)) // jne r0, 0x800, +2
      .addInstruction(bpfInsn(0xb7, 0, 0, 0, 1))
      .addInstruction(bpfInsn(0x95))
      .addInstruction(bpfInsn(0xb7, 0, 0, 0, 0))
      .addInstruction(bpfInsn(0x95));
  const ipv4 = new Uint8Array(60);
  ipv4[12] = 0x08;
  const arp = new Uint8Array(60);
  arp.set([0x08, 0x06], 12);

  it('BpfInterpreter.loadPacket + execute → r0', () => {
    const prog = etherTypeIs4();
    prog.verify();
    const vm = new BpfInterpreter();
    expect(vm.loadPacket(ipv4).execute(prog)).toBe(1n);
    expect(vm.loadPacket(arp).execute(prog)).toBe(0n);
    expect(prog.disassemble()).toContain('be16 %r0');
  });

  it('BpfJitCompiler compiles with the JS JIT on the TypeScript backend and exposes the source', () => {
    const jit = new BpfJitCompiler('js').compile(etherTypeIs4());
    expect(jit.engineName).toBe('js');
    expect(jit.run(ipv4)).toBe(1n);
    expect(jit.jsSource()).toContain('getUint16');
  });

  it('runs on a registered engine and drops code compiled by a replaced one', () => {
    const prog = etherTypeIs4();
    let compiled = 0;
    registerBpfEngine('fake', {
      compile: (p) => {
        compiled++;
        const inner = p.compile('interpreter');
        return { engine: 'fake', run: (m) => inner.run(m) + 100n, runBatch: (b, v) => inner.runBatch(b, v) };
      },
    });
    try {
      expect(bpfEngineNames()).toContain('fake');
      expect(prog.run(ipv4, { engine: 'fake' })).toBe(101n);
      expect(prog.run(ipv4, { engine: 'fake' })).toBe(101n);
      expect(compiled).toBe(1);
      registerBpfEngine('fake', { compile: () => ({ engine: 'fake2', run: () => 7n, runBatch: (_b, v) => v ?? new Uint32Array(0) }) });
      expect(prog.run(ipv4, { engine: 'fake' })).toBe(7n);
    } finally {
      unregisterBpfEngine('fake');
    }
    expect(() => prog.run(ipv4, { engine: 'fake' })).toThrow(/no eBPF engine/);
    expect(unregisterBpfEngine('js')).toBe(false);
    expect(['js', 'native']).toContain(defaultBpfEngine());
  });

  it('round-trips bytes and text', () => {
    const prog = etherTypeIs4();
    expect(BpfProgram.fromBytes(prog.encode()).insns).toEqual(prog.insns);
    expect(assemble(prog.disassemble()).insns).toEqual(prog.insns);
  });
});

describe('atomics on maps shared with a worker thread', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dist = `${root}dist/src/index.js`;
  beforeAll(() => {
    // Workers load compiled code; `npm test` compiles first, a bare vitest run may not have.
    if (!existsSync(dist)) spawnSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
  });

  it('lock add from two threads running the same program loses no update', async () => {
    const counters = BpfMap.create({ type: 'array', name: 'hits', keySize: 4, valueSize: 16, maxEntries: 1 });
    const source = `
        lddw %r6, map_value 0, 0
        mov %r7, 0
      L:
        mov %r1, 1
        lock add [%r6], %r1
        lock add32 [%r6+8], %r1
        add %r7, 1
        jlt %r7, 200000, L
        exit`;
    // The worker signals when it starts and when it is done through a shared flag, and the main thread keeps
    // running the program until then, so both threads really race on the same 16 bytes.
    const flag = new Int32Array(new SharedArrayBuffer(8));
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ BpfMap, assemble }) => {
        const map = BpfMap.attach(workerData.buffer);
        const p = assemble(workerData.source, { maps: [map] });
        Atomics.store(workerData.flag, 0, 1);
        for (let k = 0; k < 3; k++) p.run(new Uint8Array(0), { engine: 'interpreter' });
        Atomics.store(workerData.flag, 1, 1);
        parentPort.postMessage('done');
      });`;
    const worker = new Worker(code, {
      eval: true,
      workerData: { buffer: counters.buffer, url: pathToFileURL(dist).href, source, flag },
    });
    const p = assemble(source, { maps: [counters] });
    const done = new Promise<string>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    const deadline = Date.now() + 30_000;
    while (Atomics.load(flag, 0) === 0 && Date.now() < deadline) Atomics.wait(flag, 0, 0, 5);
    let runs = 0;
    while (Atomics.load(flag, 1) === 0 && Date.now() < deadline) {
      p.run(none, { engine: 'js' });
      runs++;
    }
    await done;
    await worker.terminate();
    const want = BigInt(runs + 3) * 200000n;
    expect(runs).toBeGreaterThan(0);
    expect(counters.readCounter(0, 0, 8)).toBe(want);
    expect(counters.readCounter(0, 8, 4)).toBe(want & 0xffffffffn);
  });
});
