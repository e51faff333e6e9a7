// Windowed min/max filters and a small seeded PRNG shared by the algorithms and the simulator.

/**
 * Kathleen Nichols' windowed running max (or min), as in Linux lib/minmax.c (used by tcp_bbr.c for the
 * bottleneck-bandwidth filter): keeps the best, second-best and third-best samples of the window so the
 * estimate ages out smoothly. `time` is any monotonic counter (BBR uses packet-timed round counts).
 */
export class WindowedMinMaxFilter {
  private readonly t = new Float64Array(3);
  private readonly v = new Float64Array(3);
  private readonly better: (a: number, b: number) => boolean;

  constructor(readonly window: number, readonly kind: 'max' | 'min' = 'max', initial = kind === 'max' ? 0 : Infinity) {
    this.better = kind === 'max' ? (a, b) => a >= b : (a, b) => a <= b;
    this.reset(0, initial);
  }

  /** The current best value in the window. */
  get value(): number {
    return this.v[0]!;
  }

  /** Forgets everything and starts over with one sample. */
  reset(time: number, value: number): number {
    const t = this.t;
    const v = this.v;
    t[0] = t[1] = t[2] = time;
    v[0] = v[1] = v[2] = value;
    return value;
  }

  /** Adds a sample taken at `time` and returns the windowed best (minmax_running_max / _min). */
  update(time: number, value: number): number {
    const t = this.t;
    const v = this.v;
    // A new best, or nothing left in the window: the sample becomes all three (lib/minmax.c).
    if (this.better(value, v[0]!) || time - t[2]! > this.window) return this.reset(time, value);
    if (this.better(value, v[1]!)) {
      t[1] = t[2] = time;
      v[1] = v[2] = value;
    } else if (this.better(value, v[2]!)) {
      t[2] = time;
      v[2] = value;
    }
    return this.subwinUpdate(time, value);
  }

  // lib/minmax.c minmax_subwin_update: age the best/second-best out as the window passes.
  private subwinUpdate(time: number, value: number): number {
    const t = this.t;
    const v = this.v;
    const dt = time - t[0]!;
    if (dt > this.window) {
      t[0] = t[1]!; v[0] = v[1]!;
      t[1] = t[2]!; v[1] = v[2]!;
      t[2] = time; v[2] = value;
      if (time - t[0]! > this.window) {
        t[0] = t[1]!; v[0] = v[1]!;
        t[1] = t[2]!; v[1] = v[2]!;
      }
    } else if (t[1] === t[0] && dt > this.window / 4) {
      t[2] = t[1] = time;
      v[2] = v[1] = value;
    } else if (t[2] === t[1] && dt > this.window / 2) {
      t[2] = time;
      v[2] = value;
    }
    return v[0]!;
  }
}

/** A seeded 32-bit PRNG (mulberry32): uniform numbers in [0, 1), the same sequence for the same seed. */
export class CcRandom {
  private s: number;
  constructor(seed = 0x9e3779b9) {
    this.s = seed >>> 0;
  }
  /** The next uniform number in [0, 1). */
  next(): number {
    let z = (this.s = (this.s + 0x6d2b79f5) | 0);
    z = Math.imul(z ^ (z >>> 15), z | 1);
    z ^= z + Math.imul(z ^ (z >>> 7), z | 61);
    return ((z ^ (z >>> 14)) >>> 0) / 4294967296;
  }
  /** A bound function, for options that take `() => number`. */
  fn(): () => number {
    return () => this.next();
  }
}
