// runBatch over the same batch again and again: the native engine binds a batch's typed arrays in the shim once
// (bpfJitBind) and later runs pass only the packet count (bpfJitRunBound). Whatever happens to the batch between
// runs (new packets, rewritten bytes or lanes, other verdict arrays, a detached or resizable buffer) the verdicts
// stay the interpreter's, or the run fails with a NetworkError; on the ts backend the same checks hold for the JS JIT.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { PacketBatch } from '../../src/batch.js';
import { isNetworkError } from '../../src/errors.js';
import { BpfProgram, assemble } from '../../src/ebpf/index.js';
import { compileBpfX64, x64JitAvailable } from '../../src/ebpf/jit-x64/index.js';
import { nativeAddon } from '../../src/native.js';
import { backends, useBackend } from '../helpers/backends.js';
import { DD_PORT80 } from '../helpers/classic-programs.js';

// Stores into the packet: the shim checks the lanes (and that nothing overlaps them) before the run instead.
const STORING = 'ldxb %r0, [%r1+0]\nadd %r0, 1\nstxb [%r1+0], %r0\nexit';

function tcpFrame(dport: number, ihl = 5): Uint8Array {
  const p = new Uint8Array(64);
  const dv = new DataView(p.buffer);
  dv.setUint16(12, 0x0800);
  p[14] = 0x40 | ihl;
  p[23] = 6;
  if (14 + ihl * 4 + 4 <= p.length) dv.setUint16(14 + ihl * 4 + 2, dport);
  return p;
}

function interp(prog: BpfProgram, batch: PacketBatch): number[] {
  return Array.from(prog.runBatch(batch, new Uint32Array(batch.length), { engine: 'interpreter' }));
}

function caughtError(fn: () => unknown): unknown {
  try {
    fn();
  } catch (e) {
    return e;
  }
  return undefined;
}

describe.each(backends)('runBatch over a batch that changes between runs (%s backend)', (backend) => {
  useBackend(backend);

  it('sees packets added, bytes and lanes rewritten, and the batch cleared and refilled', () => {
    const prog = BpfProgram.fromClassic(DD_PORT80);
    const batch = new PacketBatch({ capacity: 8, byteCapacity: 8 * 64 });
    const v = new Uint32Array(8);
    batch.push(tcpFrame(80));
    batch.push(tcpFrame(81));
    expect(Array.from(prog.runBatch(batch, v).subarray(0, 2))).toEqual([0x40000, 0]);
    batch.push(tcpFrame(80, 6)); // grows: the count comes from the batch on every run
    expect(Array.from(prog.runBatch(batch, v).subarray(0, 3))).toEqual(interp(prog, batch));
    new DataView(batch.data.buffer, batch.data.byteOffset).setUint16(batch.offsets[1]! + 36, 80); // packet 1 now :80
    expect(Array.from(prog.runBatch(batch, v).subarray(0, 3))).toEqual([0x40000, 0x40000, 0x40000]);
    batch.lengths[0] = 20; // too short for the port: drop
    batch.offsets[2] = batch.offsets[1]!; // packet 2 = packet 1's bytes
    expect(Array.from(prog.runBatch(batch, v).subarray(0, 3))).toEqual(interp(prog, batch));
    batch.clear();
    expect(prog.runBatch(batch, v)).toBe(v); // no packets: nothing written, nothing read
    batch.push(tcpFrame(443));
    expect(Array.from(prog.runBatch(batch, v).subarray(0, 1))).toEqual([0]);
  });

  it('writes each run into the verdicts array it is given (fresh arrays, the batch lane, alternating batches)', () => {
    const prog = BpfProgram.fromClassic(DD_PORT80);
    const a = PacketBatch.fromArray([tcpFrame(80), tcpFrame(22)]);
    const b = PacketBatch.fromArray([tcpFrame(25), tcpFrame(80), tcpFrame(80)], { verdicts: true });
    const va = new Uint32Array(2);
    for (let round = 0; round < 3; round++) {
      expect(Array.from(prog.runBatch(a, va))).toEqual([0x40000, 0]);
      const fresh = prog.runBatch(b, new Uint32Array(3));
      expect(Array.from(fresh)).toEqual([0, 0x40000, 0x40000]);
      const lane = prog.runBatch(b); // batch.verdicts
      expect(lane).toBe(b.verdicts);
      expect(Array.from(lane)).toEqual([0, 0x40000, 0x40000]);
    }
    expect(() => prog.runBatch(b, new Uint32Array(2))).toThrowError(/verdicts holds 2/);
  });

  it('runs over a SharedArrayBuffer batch and over verdicts in a resizable ArrayBuffer', () => {
    const prog = BpfProgram.fromClassic(DD_PORT80);
    const shared = PacketBatch.fromArray([tcpFrame(80), tcpFrame(81), tcpFrame(80)], { shared: true });
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const rab = new Resizable(12, { maxByteLength: 64 });
    const v = new Uint32Array(rab, 0, 3);
    for (let i = 0; i < 2; i++) expect(Array.from(prog.runBatch(shared, v))).toEqual([0x40000, 0, 0x40000]);
    rab.resize(8); // the fixed-length view is now out of bounds: length 0
    expect(isNetworkError(caughtError(() => prog.runBatch(shared, v)))).toBe(true);
    rab.resize(12);
    expect(Array.from(prog.runBatch(shared, v))).toEqual([0x40000, 0, 0x40000]);
  });

  it('fast-check: runs over one bound batch with random packets and lanes between them agree with the interpreter', () => {
    const progs = [BpfProgram.fromClassic(DD_PORT80), assemble(STORING)];
    const batch = new PacketBatch({ capacity: 16, byteCapacity: 16 * 64 });
    const v = new Uint32Array(16);
    const pkt = fc.record({
      port: fc.constantFrom(80, 81, 443),
      ihl: fc.integer({ min: 0, max: 15 }),
      len: fc.integer({ min: 0, max: 64 }),
    });
    const step = fc.record({
      packets: fc.array(pkt, { maxLength: 16 }),
      // A lane rewritten after filling: any offset / length, inside the data or not.
      lane: fc.option(fc.record({ index: fc.nat(15), off: fc.oneof(fc.nat(1100), fc.nat()), len: fc.oneof(fc.nat(80), fc.nat()) })),
    });
    fc.assert(
      fc.property(fc.constantFrom(0, 1), fc.array(step, { minLength: 1, maxLength: 4 }), (which, steps) => {
        const prog = progs[which]!;
        for (const s of steps) {
          batch.clear();
          for (const p of s.packets) batch.push(tcpFrame(p.port, p.ihl).subarray(0, p.len));
          if (s.lane && s.lane.index < batch.length) {
            batch.offsets[s.lane.index] = s.lane.off;
            batch.lengths[s.lane.index] = s.lane.len;
          }
          // Both runs see the same bytes: the storing program's writes are undone by copying the data first.
          const before = batch.data.slice();
          const outcome = (fn: () => number[]): unknown => {
            let r: unknown;
            try {
              r = fn();
            } catch (e) {
              r = e;
            }
            batch.data.set(before);
            return r;
          };
          const want = outcome(() => interp(prog, batch));
          const got = outcome(() => Array.from(prog.runBatch(batch, v).subarray(0, batch.length)));
          if (Array.isArray(want)) expect(got).toEqual(want);
          else expect(isNetworkError(got, 'OUT_OF_BOUNDS')).toBe(true); // every engine checks the lanes before the run
        }
      }),
      { numRuns: 150 },
    );
  });
});

// Every engine checks the lanes before it runs (the shim in C, the TypeScript engines with checkBatchLanes): the same
// error, and no verdict written.
const ENGINES = [...(x64JitAvailable() ? ['native' as const] : []), 'js' as const, 'interpreter' as const];
describe.each(ENGINES)('%s engine: bound batches that go bad between runs', (engine) => {
  const RUN = { engine } as const;
  it('a program that stores into packets still has its lanes checked on every run of a bound batch', () => {
    const prog = assemble(STORING);
    const batch = PacketBatch.fromArray([Uint8Array.of(1), Uint8Array.of(5)]);
    const v = new Uint32Array(2);
    expect(Array.from(prog.runBatch(batch, v, RUN))).toEqual([2, 6]);
    expect(Array.from(prog.runBatch(batch, v, RUN))).toEqual([3, 7]);
    batch.offsets[1] = batch.data.length; // now outside the data
    const bytes = batch.data.slice();
    expect(isNetworkError(caughtError(() => prog.runBatch(batch, v, RUN)), 'OUT_OF_BOUNDS')).toBe(true);
    expect(Array.from(v)).toEqual([3, 7]); // refused before the run: no verdict, no packet byte written
    expect(batch.data).toEqual(bytes);
    batch.offsets[1] = batch.data.length - 1;
    batch.data[batch.data.length - 1] = 40;
    expect(Array.from(prog.runBatch(batch, v, RUN))).toEqual([4, 41]);
  });

  it('a program that only reads packets meets a lane outside the data with the same error, naming the packet', () => {
    const prog = BpfProgram.fromClassic(DD_PORT80);
    const batch = PacketBatch.fromArray([tcpFrame(80), tcpFrame(81), tcpFrame(80)]);
    const v = new Uint32Array(3);
    batch.lengths[2] = batch.data.length; // starts inside, ends past the data
    const e = caughtError(() => prog.runBatch(batch, v, RUN));
    expect(e).toMatchObject({ code: 'OUT_OF_BOUNDS', detail: { field: 'offsets', index: 2, expected: batch.data.length } });
    batch.lengths[2] = 64;
    expect(Array.from(prog.runBatch(batch, v, RUN))).toEqual([0x40000, 0, 0x40000]);
  });

  it('a detached verdicts or batch buffer is a NetworkError, and the program runs other batches afterwards', () => {
    const prog = BpfProgram.fromClassic(DD_PORT80);
    const batch = PacketBatch.fromArray([tcpFrame(80), tcpFrame(81)]);
    const v = new Uint32Array(2);
    expect(Array.from(prog.runBatch(batch, v, RUN))).toEqual([0x40000, 0]);
    structuredClone(v.buffer, { transfer: [v.buffer] });
    expect(isNetworkError(caughtError(() => prog.runBatch(batch, v, RUN)))).toBe(true);
    const v2 = new Uint32Array(2);
    expect(Array.from(prog.runBatch(batch, v2, RUN))).toEqual([0x40000, 0]);
    structuredClone(batch.buffer, { transfer: [batch.buffer as ArrayBuffer] });
    expect(isNetworkError(caughtError(() => prog.runBatch(batch, v2, RUN)))).toBe(true);
    const other = PacketBatch.fromArray([tcpFrame(22), tcpFrame(80)]);
    expect(Array.from(prog.runBatch(other, v2, RUN))).toEqual([0, 0x40000]);
  });

});

describe.skipIf(!x64JitAvailable())('x86-64 JIT shim: bpfJitBind / bpfJitRunBound', () => {
  function bound(src = STORING) {
    const c = compileBpfX64(assemble(src));
    const batch = PacketBatch.fromArray([Uint8Array.of(1), Uint8Array.of(2)]);
    const v = new Uint32Array(2);
    c.runBatch(batch, v);
    const h = (c as unknown as { handle: object }).handle;
    return { c, batch, v, h, addon: nativeAddon! };
  }

  it('throws RangeError (never touches memory) when a bound buffer was detached or the count exceeds the lanes', () => {
    const { batch, v, h, addon } = bound();
    expect(addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, v)).toBe(true);
    expect(addon.bpfJitRunBound(h, 2, 1000)).toBe(0);
    expect(() => addon.bpfJitRunBound(h, 3, 1000)).toThrow(RangeError);
    const short = new Uint32Array(1);
    addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, short);
    expect(() => addon.bpfJitRunBound(h, 2, 1000)).toThrow(RangeError); // more than the verdicts hold
    expect(addon.bpfJitRunBound(h, 1, 1000)).toBe(0);
    structuredClone(short.buffer, { transfer: [short.buffer] });
    expect(() => addon.bpfJitRunBound(h, 1, 1000)).toThrow(/detached/);
    expect(() => addon.bpfJitRunBound(h, 1, 1000)).toThrow(RangeError); // and the binding is gone
    addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, v);
    structuredClone(batch.buffer, { transfer: [batch.buffer as ArrayBuffer] });
    expect(() => addon.bpfJitRunBound(h, 0, 1000)).toThrow(/detached/);
  });

  it('refuses to bind a resizable ArrayBuffer, type-checks its arguments, and forgets the binding on free', () => {
    const { c, batch, v, h, addon } = bound('ldxb %r0, [%r1+0]\nexit');
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer;
    const rv = new Uint32Array(new Resizable(8, { maxByteLength: 64 }), 0, 2);
    expect(addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, rv)).toBe(false);
    expect(() => addon.bpfJitRunBound(h, 1, 1000)).toThrow(/no batch is bound/);
    expect(() => addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, new Int32Array(2) as unknown as Uint32Array)).toThrow(TypeError);
    expect(() => addon.bpfJitBind(h, batch.offsets as unknown as Uint8Array, batch.offsets, batch.lengths, v)).toThrow(TypeError);
    expect(addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, v)).toBe(true);
    expect(() => addon.bpfJitRunBound(h, -1, 1000)).toThrow(TypeError);
    c.dispose();
    expect(() => addon.bpfJitRunBound(h, 1, 1000)).toThrow(TypeError); // not a live handle
    // The engine makes a new handle and binds again.
    expect(Array.from(c.runBatch(batch, v))).toEqual([1, 2]);
  });

  it('checks every lane before the run: a bad lane leaves no verdict written; verdicts over the lanes are refused', () => {
    const { h, addon } = bound('ldxb %r0, [%r1+0]\nexit'); // side-effect free
    const buf = new ArrayBuffer(64);
    const data = new Uint8Array(buf); // the data spans the lanes: allowed, the program never stores
    const offs = new Uint32Array(buf, 0, 3);
    const lens = new Uint32Array(buf, 16, 3);
    offs.set([40, 41, 42]);
    lens.set([1, 1, 1]);
    data.set([7, 8, 9], 40);
    const v = new Uint32Array(3);
    expect(addon.bpfJitRunBatch(h, data, offs, lens, 3, v, 1000)).toBe(0);
    expect(Array.from(v)).toEqual([7, 8, 9]);
    v.fill(0);
    offs[2] = 64; // the last packet lies past the data
    expect(() => addon.bpfJitRunBatch(h, data, offs, lens, 3, v, 1000)).toThrow(RangeError);
    expect(Array.from(v)).toEqual([0, 0, 0]);
    offs[2] = 42;
    const overLens = new Uint32Array(buf, 20, 3); // verdict 0 would rewrite length 1
    expect(() => addon.bpfJitRunBatch(h, data, offs, lens, 3, overLens, 1000)).toThrow(/verdicts overlap/);
    for (let i = 0; i < 30; i++) {
      // Lane counts around the vector width, the bad lane anywhere.
      const n = 1 + i;
      const d = new Uint8Array(n);
      const o = Uint32Array.from({ length: n }, (_, k) => k);
      const l = new Uint32Array(n).fill(1);
      const bad = i % n;
      o[bad] = i % 2 === 0 ? n : 0xffffffff;
      expect(() => addon.bpfJitRunBatch(h, d, o, l, n, new Uint32Array(n), 1000)).toThrow(RangeError);
      o[bad] = bad;
      l[bad] = i % 3 === 0 ? 2 : 0xffffffff;
      if (bad === n - 1 || l[bad] !== 2) expect(() => addon.bpfJitRunBatch(h, d, o, l, n, new Uint32Array(n), 1000)).toThrow(RangeError);
      l[bad] = 1;
      expect(addon.bpfJitRunBatch(h, d, o, l, n, new Uint32Array(n), 1000)).toBe(0);
    }
  });

  it('a resizable buffer bound anyway (its resizable property lied) that shrinks is refused before the run', () => {
    const { batch, h, addon } = bound('ldxb %r0, [%r1+0]\nexit');
    const Resizable = ArrayBuffer as unknown as new (n: number, o: { maxByteLength: number }) => ArrayBuffer & { resize(n: number): void };
    const rab = new Resizable(8, { maxByteLength: 64 });
    const rv = new Uint32Array(rab, 0, 2);
    const desc = Object.getOwnPropertyDescriptor(ArrayBuffer.prototype, 'resizable');
    Object.defineProperty(ArrayBuffer.prototype, 'resizable', { get: () => false, configurable: true });
    try {
      expect(addon.bpfJitBind(h, batch.data, batch.offsets, batch.lengths, rv)).toBe(true);
    } finally {
      if (desc) Object.defineProperty(ArrayBuffer.prototype, 'resizable', desc);
    }
    expect(addon.bpfJitRunBound(h, 2, 1000)).toBe(0);
    expect(Array.from(rv)).toEqual([1, 2]);
    rab.resize(4); // the verdicts' second word is gone
    expect(() => addon.bpfJitRunBound(h, 1, 1000)).toThrow(/shrunk/);
  });

  it('binds lanes that live in buffers of their own (not a PacketBatch layout)', () => {
    const { h, addon } = bound('ldxb %r0, [%r1+0]\nexit');
    const data = Uint8Array.of(5, 6, 7);
    const offs = Uint32Array.of(2, 0);
    const lens = Uint32Array.of(1, 1);
    const v = new Uint32Array(2);
    expect(addon.bpfJitBind(h, data, offs, lens, v)).toBe(true);
    expect(addon.bpfJitRunBound(h, 2, 1000)).toBe(0);
    expect(Array.from(v)).toEqual([7, 5]);
    offs[1] = 3; // outside the data: the generated loop's own lane check
    expect(() => addon.bpfJitRunBound(h, 2, 1000)).toThrow(RangeError);
  });
});
