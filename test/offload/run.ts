// Drives GRO through the batch path (native or TS by backend) or the single-frame path and collects packets.
import { PacketBatch } from '../../src/batch.js';
import { GroContext, createOffloadMetaLane, offloadMetaAt, type GroPacket } from '../../src/offload/index.js';

export type GroMode = 'batch' | 'single';

export function groRun(ctx: GroContext, frames: Uint8Array[], mode: GroMode, opts: { batchSize?: number; now?: number; flush?: boolean } = {}): GroPacket[] {
  const now = opts.now ?? 0;
  const out: GroPacket[] = [];
  if (mode === 'single') {
    for (const f of frames) out.push(...ctx.aggregate(f, now));
    if (opts.flush !== false) out.push(...ctx.flush());
    return out;
  }
  const bs = opts.batchSize ?? 64;
  const output = new PacketBatch({ capacity: 4096, byteCapacity: 8 << 20 });
  const meta = createOffloadMetaLane(output.capacity);
  const collect = () => {
    for (let i = 0; i < output.length; i++) out.push({ frame: output.get(i).slice(), gso: offloadMetaAt(meta, i) });
    output.clear();
  };
  for (let i = 0; i < frames.length; i += bs) {
    const input = PacketBatch.fromArray(frames.slice(i, i + bs));
    let start = 0;
    for (;;) {
      const r = ctx.aggregateBatch(input, output, { start, now, meta });
      collect();
      if (r.next >= input.length) break;
      start = r.next;
    }
  }
  if (opts.flush !== false) {
    while (ctx.heldFlows > 0) {
      ctx.flushBatch(output, meta);
      collect();
    }
  }
  return out;
}

export function hex(b: Uint8Array): string {
  return Buffer.from(b).toString('hex');
}
