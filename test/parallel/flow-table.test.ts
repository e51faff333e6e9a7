// FlowTable: the per-batch touched list (snapshot of one batch without scanning every slot), tag 0 (totals
// only), the IPv4 fast path against IPv6 keys, overflow — checked against a Map model.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { FlowTable, locateFlowTuple, type FlowStat } from '../../src/parallel/index.js';
// @ts-expect-error -- plain ESM helper without types
import { frameFor, makeFlows } from './synth.mjs';

interface Flow { v: 4 | 6; proto: number; src: Uint8Array; dst: Uint8Array; sport: number; dport: number; vlan: number; ext: boolean }

const flows = makeFlows(64, 13) as Flow[];
const frames = flows.map((f) => frameFor(f) as Uint8Array);

/** Records packet k (a flow index) of `wire` bytes under `tag`; returns the flow's key or null (non-IP). */
function record(t: FlowTable, k: number, wire: number, tag: number): string | null {
  const tuple = new Int32Array(4);
  const b = frames[k]!;
  if (locateFlowTuple(b, 0, b.length, tuple) === 0) return null;
  t.record(b, tuple, k * 2654435761, wire, tag);
  return String(k);
}

/** Each flow's text key, learnt from a table of its own (the format is the table's). */
function keyOf(k: number): string {
  const one = new FlowTable(2);
  record(one, k, 1, 1);
  return one.snapshot(0)[0]?.key ?? '';
}
const keyText = flows.map((_, k) => keyOf(k));

const norm = (xs: FlowStat[]) => xs.map((f) => `${f.key} ${f.packets} ${f.bytes}`).sort();

describe('FlowTable', () => {
  it('a batch snapshot from the touched list equals the model; totals too; tag 0 counts only totals', () => {
    fc.assert(
      fc.property(
        fc.array(fc.array(fc.tuple(fc.nat(63), fc.integer({ min: 1, max: 1500 })), { maxLength: 200 }), { minLength: 1, maxLength: 6 }),
        fc.array(fc.tuple(fc.nat(63), fc.integer({ min: 1, max: 1500 })), { maxLength: 30 }),
        (batches, untagged) => {
          const t = new FlowTable(256);
          const total = new Map<number, [number, number]>();
          const add = (m: Map<number, [number, number]>, k: number, w: number) => {
            const c = m.get(k) ?? [0, 0];
            m.set(k, [c[0] + 1, c[1] + w]);
          };
          const expect1 = (m: Map<number, [number, number]>) => [...m].map(([k, [p, b]]) => `${keyText[k]} ${p} ${b}`).sort();
          let tag = 0;
          for (const batch of batches) {
            tag++;
            const mine = new Map<number, [number, number]>();
            batch.forEach(([k, w], i) => {
              record(t, k, w, tag);
              add(mine, k, w);
              add(total, k, w);
              // Packets without a batch (tag 0, e.g. send()) interleave: they count only in the totals.
              const u = untagged[i];
              if (u) {
                record(t, u[0], u[1], 0);
                add(total, u[0], u[1]);
              }
            });
            const listed = t.snapshot(0, tag);
            expect(norm(listed)).toEqual(expect1(mine));
            // What a worker publishes at the end of its share (publishBatch) reads back the same, in the same
            // order, also after a second publish (the copying path publishes once per staging chunk).
            t.publishBatch(tag);
            expect(t.snapshot(0, tag)).toEqual(listed);
            t.publishBatch(tag);
            expect(t.snapshot(0, tag)).toEqual(listed);
          }
          expect(norm(t.snapshot(0))).toEqual(expect1(total));
          // The order of a batch snapshot is the slot order, as a full scan's would be.
          const full = t.snapshot(0).map((f) => f.key);
          const last = t.snapshot(0, tag).map((f) => f.key);
          expect(last).toEqual(full.filter((k) => last.includes(k)));
        },
      ),
      { numRuns: 60 },
    );
  });

  it('a tag nothing was recorded under has no flows (no scan of every slot), published or not', () => {
    const t = new FlowTable(64);
    record(t, 1, 100, 5);
    expect(t.snapshot(0, 6)).toEqual([]);
    t.publishBatch(6);
    expect(t.snapshot(0, 6)).toEqual([]);
    // A publish of another tag leaves tag 5 to the touched list: its flows still read right.
    expect(t.snapshot(0, 5).map((f) => [f.packets, f.bytes])).toEqual([[1, 100]]);
    record(t, 2, 50, 5);
    expect(t.snapshot(0, 5).map((f) => f.bytes).sort((x, y) => x - y)).toEqual([50, 100]);
  });

  it('fills to 3/4 of its capacity, then counts new flows as overflow; known flows still count', () => {
    const t = new FlowTable(16);
    let keys = 0;
    for (let k = 0; k < 64; k++) if (record(t, k, 64, 1) !== null) keys++;
    expect(t.size).toBe(12);
    expect(t.overflow).toBe(keys - 12);
    const before = t.snapshot(0).reduce((a, f) => a + f.packets, 0);
    const first = t.snapshot(0)[0]!;
    const k = flows.findIndex((_, i) => keyOf(i) === first.key);
    record(t, k, 64, 2);
    expect(t.snapshot(0).reduce((a, f) => a + f.packets, 0)).toBe(before + 1);
    expect(t.snapshot(0, 2).map((f) => f.key)).toEqual([first.key]);
  });
});
