// The guide's PacketPipeline: a chain of predicates a frame must pass, in order, like the guide's
// `pipeline.addStage(f => f.totalSize() >= 64)`. This is the in-thread form; ParallelPacketEngine runs the
// same idea per worker with stages given as module paths (functions cannot cross threads).

/** A stage: true keeps the frame, false drops it. */
export type PacketStage<T> = (frame: T) => boolean;

/** Counters of one stage. */
export interface PacketStageStats {
  name: string;
  /** Frames the stage saw. */
  seen: number;
  /** Frames it dropped. */
  dropped: number;
}

/** An ordered chain of predicates; `process(frame)` is true when every stage keeps the frame. */
export class PacketPipeline<T = Uint8Array> {
  private readonly stages: { fn: PacketStage<T>; stats: PacketStageStats }[] = [];
  private passedCount = 0;

  /** Appends a stage; returns the pipeline for chaining. */
  addStage(stage: PacketStage<T>, name = `stage${this.stages.length}`): this {
    this.stages.push({ fn: stage, stats: { name, seen: 0, dropped: 0 } });
    return this;
  }

  /** Number of stages. */
  get length(): number {
    return this.stages.length;
  }

  /** Runs the frame through the stages, stopping at the first that drops it. */
  process(frame: T): boolean {
    for (const s of this.stages) {
      s.stats.seen++;
      if (!s.fn(frame)) {
        s.stats.dropped++;
        return false;
      }
    }
    this.passedCount++;
    return true;
  }

  /** The frames that pass, in order. */
  processAll(frames: Iterable<T>): T[] {
    const out: T[] = [];
    for (const f of frames) if (this.process(f)) out.push(f);
    return out;
  }

  /** Frames that passed every stage so far. */
  get passed(): number {
    return this.passedCount;
  }

  /** Per-stage counters (copies). */
  stageStats(): PacketStageStats[] {
    return this.stages.map((s) => ({ ...s.stats }));
  }
}
