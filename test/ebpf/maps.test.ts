import { describe, it, expect, beforeAll } from 'vitest';
import { Worker } from 'node:worker_threads';
import { existsSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { fileURLToPath, pathToFileURL } from 'node:url';
import fc from 'fast-check';
import {
  BpfMap,
  BPF_ANY,
  BPF_EXIST,
  BPF_NOEXIST,
  BPF_E2BIG,
  BPF_EEXIST,
  BPF_EINVAL,
  BPF_ENOENT,
  BpfMapHeader,
  bpfMapHash,
} from '../../src/ebpf/maps.js';
import { isNetworkError } from '../../src/errors.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const hex = (b: Uint8Array | undefined) => (b ? Buffer.from(b).toString('hex') : 'none');

describe('BpfMap: array', () => {
  it('starts zeroed, stores by index, rejects out-of-range and delete', () => {
    const m = BpfMap.create({ type: 'array', keySize: 4, valueSize: 8, maxEntries: 4, name: 'arr' });
    expect(m.kind).toBe('array');
    expect(m.name).toBe('arr');
    expect(m.size).toBe(4);
    expect(hex(m.get(2))).toBe('0000000000000000');
    m.set(2, 0x1122334455667788n);
    expect(hex(m.get(2))).toBe('8877665544332211');
    expect(m.get(4)).toBeUndefined();
    expect(m.updateElem(u32(9), 0, new Uint8Array(8), 0)).toBe(BPF_E2BIG);
    expect(m.updateElem(u32(1), 0, new Uint8Array(8), 0, BPF_NOEXIST)).toBe(BPF_EEXIST);
    expect(m.deleteElem(u32(1))).toBe(BPF_EINVAL);
    expect(() => m.delete(1)).toThrow(/cannot be deleted/);
    expect([...m.entries()].length).toBe(4);
    expect(m.lookupValueOffset(u32(3))).toBe(24);
  });
  it('rejects bad shapes with typed errors', () => {
    expect(() => BpfMap.create({ type: 'array', keySize: 8, valueSize: 8, maxEntries: 4 })).toThrow(/must be 4/);
    expect(() => BpfMap.create({ type: 'hash', keySize: 0, valueSize: 8, maxEntries: 4 })).toThrow();
    try {
      BpfMap.create({ type: 27, keySize: 4, valueSize: 4, maxEntries: 1 });
      expect.unreachable();
    } catch (e) {
      expect(isNetworkError(e, 'UNSUPPORTED')).toBe(true);
    }
    const m = BpfMap.create({ type: 'hash', keySize: 3, valueSize: 4, maxEntries: 4 });
    expect(() => m.set(1, 1)).toThrow(/number key needs/);
    expect(() => m.get(new Uint8Array(2))).toThrow(/expected 3/);
  });
});

describe('BpfMap: hash', () => {
  it('get/set/delete/entries and update flags like Linux', () => {
    const m = BpfMap.create({ type: 'hash', keySize: 2, valueSize: 4, maxEntries: 3, name: 'ports' });
    m.set(80, 1).set(443, 2);
    expect(m.size).toBe(2);
    expect(hex(m.get(80))).toBe('01000000');
    expect(m.updateElem(new Uint8Array([80, 0]), 0, u32(5), 0, BPF_NOEXIST)).toBe(BPF_EEXIST);
    expect(m.updateElem(new Uint8Array([81, 0]), 0, u32(5), 0, BPF_EXIST)).toBe(BPF_ENOENT);
    expect(m.updateElem(new Uint8Array([80, 0]), 0, u32(5), 0, 7)).toBe(BPF_EINVAL);
    m.set(22, 3);
    expect(() => m.set(23, 4)).toThrow(/full/);
    expect(m.delete(443)).toBe(true);
    expect(m.delete(443)).toBe(false);
    m.set(23, 4);
    const got = new Map([...m.entries()].map(([k, v]) => [new DataView(k.buffer).getUint16(0, true), new DataView(v.buffer).getUint32(0, true)]));
    expect(got).toEqual(new Map([[80, 1], [22, 3], [23, 4]]));
    m.clear();
    expect(m.size).toBe(0);
    expect(m.get(80)).toBeUndefined();
  });

  it('behaves like a JS Map under random operations (with tombstones and rehashing)', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('set', 'del', 'get'), fc.integer({ min: 0, max: 40 }), fc.integer({ min: 0, max: 0xffff })), { maxLength: 300 }),
        (ops) => {
          const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 2, maxEntries: 16 });
          const ref = new Map<number, number>();
          for (const [op, k, v] of ops) {
            if (op === 'set') {
              if (ref.size >= 16 && !ref.has(k)) {
                expect(() => m.set(k, v)).toThrow();
              } else {
                m.set(k, v);
                ref.set(k, v);
              }
            } else if (op === 'del') {
              expect(m.delete(k)).toBe(ref.delete(k));
            } else {
              const g = m.get(k);
              expect(g ? g[0]! | (g[1]! << 8) : undefined).toBe(ref.get(k));
            }
            expect(m.size).toBe(ref.size);
          }
          expect([...m.keys()].map((k) => new DataView(k.buffer).getUint32(0, true)).sort((a, b) => a - b)).toEqual(
            [...ref.keys()].sort((a, b) => a - b),
          );
        },
      ),
      { numRuns: 60 },
    );
  });

  it('lays out slots exactly as documented (FNV-1a hash, linear probing)', () => {
    const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 4 });
    m.set(7, 99);
    const w = new Int32Array(m.buffer);
    const slots = w[BpfMapHeader.SLOT_COUNT]!;
    expect(slots).toBe(8);
    const slotSize = w[BpfMapHeader.SLOT_SIZE]!;
    expect(slotSize).toBe(24);
    const h = bpfMapHash(u32(7), 0, 4);
    const base = w[BpfMapHeader.SLOTS_OFFSET]! + (h & (slots - 1)) * slotSize;
    expect(w[base >> 2]).toBe(1);
    expect(w[(base + 4) >> 2]! >>> 0).toBe(h);
    const idx = w[(base + 8) >> 2]!;
    expect(new Uint8Array(m.buffer, base + 16, 4)).toEqual(u32(7));
    const v = new DataView(m.buffer, w[BpfMapHeader.VALUES_OFFSET]! + idx * 8, 8);
    expect(v.getBigUint64(0, true)).toBe(99n);
    // FNV-1a test vector ("a" → 0xe40c292c).
    expect(bpfMapHash(new TextEncoder().encode('a'), 0, 1)).toBe(0xe40c292c);
  });

  it('atomicAdd creates and counts; readCounter reads', () => {
    const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 16, maxEntries: 8 });
    expect(m.atomicAdd(5, 8, 3n)).toBe(0n);
    expect(m.atomicAdd(5, 8, 4)).toBe(3n);
    expect(m.readCounter(5, 8)).toBe(7n);
    expect(m.readCounter(6, 8)).toBeUndefined();
    expect(() => m.atomicAdd(5, 3, 1)).toThrow(/aligned/);
    expect(m.atomicAdd(5, 0, 0xffffffff, 4)).toBe(0n);
    expect(m.atomicAdd(5, 0, 2, 4)).toBe(0xffffffffn);
    expect(m.readCounter(5, 0, 4)).toBe(1n);
  });
});

describe('BpfMap: LRU hash', () => {
  it('evicts the least recently used entry when full', () => {
    const m = BpfMap.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 3 });
    m.set(1, 1).set(2, 2).set(3, 3);
    m.get(1); // 2 is now the oldest
    m.set(4, 4);
    expect(m.has(2)).toBe(false);
    expect(m.has(1) && m.has(3) && m.has(4)).toBe(true);
    m.set(3, 33); // update refreshes 3; oldest is 1
    m.set(5, 5);
    expect(m.has(1)).toBe(false);
    expect(m.size).toBe(3);
  });

  it('in a large map keeps the recently used entries', () => {
    const m = BpfMap.create({ type: 'lru_hash', keySize: 4, valueSize: 4, maxEntries: 1000 });
    for (let k = 0; k < 1000; k++) m.set(k, k);
    for (let k = 0; k < 100; k++) m.get(k); // recently used
    for (let k = 1000; k < 1300; k++) m.set(k, k);
    expect(m.size).toBe(1000);
    for (let k = 0; k < 100; k++) expect(m.has(k), `key ${k}`).toBe(true);
    for (let k = 1000; k < 1300; k++) expect(m.has(k)).toBe(true);
  });
});

describe('BpfMap: shared with a worker thread', () => {
  const root = fileURLToPath(new URL('../..', import.meta.url));
  const dist = `${root}dist/src/ebpf/maps.js`;
  beforeAll(() => {
    // Workers load compiled code (DESIGN.md); `npm test` builds first, a bare vitest run may not have.
    if (!existsSync(dist)) spawnSync('npx', ['tsc', '-p', root], { cwd: root, stdio: 'ignore' });
  });

  it('sees entries written here, and its writes and atomic adds land in the same memory', async () => {
    const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 1024, name: 'shared' });
    m.set(1, 111n);
    const code = `
      const { parentPort, workerData } = require('node:worker_threads');
      import(workerData.url).then(({ BpfMap }) => {
        const m = BpfMap.attach(workerData.buffer);
        const seen = m.get(1);
        for (let i = 0; i < 20000; i++) m.atomicAdd(i % 8 + 100, 0, 1n);
        for (let i = 0; i < 200; i++) m.set(1000 + i, BigInt(i));
        parentPort.postMessage({ name: m.name, seen: Buffer.from(seen).readBigUInt64LE(0).toString() });
      });`;
    const worker = new Worker(code, { eval: true, workerData: { buffer: m.buffer, url: pathToFileURL(dist).href } });
    // Race the worker: both threads add to the same counters.
    for (let i = 0; i < 20000; i++) m.atomicAdd((i % 8) + 100, 0, 1n);
    const msg = await new Promise<{ name: string; seen: string }>((resolve, reject) => {
      worker.once('message', resolve);
      worker.once('error', reject);
    });
    await worker.terminate();
    expect(msg).toEqual({ name: 'shared', seen: '111' });
    for (let k = 100; k < 108; k++) expect(m.readCounter(k)).toBe(5000n);
    for (let i = 0; i < 200; i++) expect(m.readCounter(1000 + i)).toBe(BigInt(i));
    expect(m.size).toBe(1 + 8 + 200);
  });
});

describe('BpfMap.attach', () => {
  it('rejects buffers that are not maps', () => {
    expect(() => BpfMap.attach(new SharedArrayBuffer(256))).toThrow(/magic/);
    expect(() => BpfMap.attach(new SharedArrayBuffer(8))).toThrow(/too small/);
  });
  it('keeps flags semantic: BPF_ANY/BPF_EXIST update in place', () => {
    const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    expect(m.updateElem(u32(1), 0, u32(1), 0, BPF_ANY)).toBe(0);
    expect(m.updateElem(u32(1), 0, u32(2), 0, BPF_EXIST)).toBe(0);
    expect(hex(m.get(1))).toBe('02000000');
  });
});

describe('BpfMap: helpers 1-3 from programs', async () => {
  await import('../../src/ebpf/jit-x64/index.js'); // registers the 'native' engine when the addon is built
  const { assemble, bpfEngineNames } = await import('../../src/ebpf/program.js');
  // Counts packets per first byte in a hash map: lookup, insert when absent (update NOEXIST), atomic add.
  const src = `
    ldxb %r6, [%r1]
    stxw [%r10-4], %r6
    lddw %r1, map_fd 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jne %r0, 0, have
    stdw [%r10-16], 0
    lddw %r1, map_fd 0
    mov %r2, %r10
    add %r2, -4
    mov %r3, %r10
    add %r3, -16
    mov %r4, 1
    call 2
    lddw %r1, map_fd 0
    mov %r2, %r10
    add %r2, -4
    call 1
    jeq %r0, 0, out
  have:
    mov %r1, 1
    lock add [%r0], %r1
    ldxdw %r0, [%r0]
    exit
  out:
    mov %r0, 0
    exit`;
  it('an LRU map evicts the same entries whichever engine (TS or native helpers) updates it', () => {
    // Insert key = packet[0] (update), then look up key = packet[1] (refreshes it): a mix of both.
    const src = `
      ldxb %r6, [%r1]
      ldxb %r7, [%r1+1]
      stxw [%r10-4], %r6
      stdw [%r10-16], 1
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      mov %r3, %r10
      add %r3, -16
      mov %r4, 0
      call 2
      stxw [%r10-4], %r7
      lddw %r1, map_fd 0
      mov %r2, %r10
      add %r2, -4
      call 1
      mov %r0, 0
      exit`;
    const results = bpfEngineNames().map((engine) => {
      // More entries than any sampling window, so an approximate eviction on one side would show.
      const m = BpfMap.create({ type: 'lru_hash', keySize: 4, valueSize: 8, maxEntries: 80, name: 'lru' });
      const p = assemble(src, { maps: [m] });
      p.verify();
      for (let i = 0; i < 400; i++) p.run(new Uint8Array([(i * 7) % 199, (i * 5) % 97]), { engine });
      return [...m.keys()].map((k) => k[0]!).sort((a, b) => a - b);
    });
    for (const r of results) expect(r).toEqual(results[0]);
    expect(results[0]!.length).toBe(80);
  });

  it.each(bpfEngineNames())('count packets per key on %s, visible from TypeScript', (engine) => {
    const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, name: 'count' });
    const prog = assemble(src, { maps: [m] });
    prog.verify();
    for (const b of [1, 2, 1, 1, 3]) prog.run(new Uint8Array([b]), { engine });
    expect(m.readCounter(1)).toBe(3n);
    expect(m.readCounter(2)).toBe(1n);
    expect(prog.run(new Uint8Array([3]), { engine })).toBe(2n);
    // delete from a program
    const del = assemble('stw [%r10-4], 1\nlddw %r1, map_fd 0\nmov %r2, %r10\nadd %r2, -4\ncall 3\nexit', { maps: [m] });
    del.verify();
    expect(del.run(new Uint8Array(1), { engine })).toBe(0n);
    expect(m.has(1)).toBe(false);
    expect(del.run(new Uint8Array(1), { engine })).toBe(BigInt.asUintN(64, -2n));
  });
});
