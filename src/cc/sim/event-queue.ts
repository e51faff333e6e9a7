// The simulator's event queue: a binary min-heap over parallel typed arrays (no object per event), ordered
// by time and then by insertion order, so equal-time events run first-in first-out and every run of the same
// configuration is identical.

/** A binary-heap priority queue of (time, kind, arg) events. */
export class SimEventQueue {
  private time: Float64Array;
  private order: Float64Array;
  private kind: Uint8Array;
  private arg: Int32Array;
  private n = 0;
  private counter = 0;
  /** Kind and argument of the last popped event. */
  poppedKind = 0;
  poppedArg = 0;

  constructor(capacity = 1024) {
    this.time = new Float64Array(capacity);
    this.order = new Float64Array(capacity);
    this.kind = new Uint8Array(capacity);
    this.arg = new Int32Array(capacity);
  }

  get size(): number {
    return this.n;
  }

  /** Time of the earliest event (Infinity when empty). */
  peekTime(): number {
    return this.n > 0 ? this.time[0]! : Infinity;
  }

  private grow(): void {
    const cap = this.time.length * 2;
    const t = new Float64Array(cap); t.set(this.time); this.time = t;
    const o = new Float64Array(cap); o.set(this.order); this.order = o;
    const k = new Uint8Array(cap); k.set(this.kind); this.kind = k;
    const a = new Int32Array(cap); a.set(this.arg); this.arg = a;
  }

  push(t: number, kind: number, arg: number): void {
    if (this.n === this.time.length) this.grow();
    const time = this.time;
    const order = this.order;
    const ord = this.counter++;
    // Sift up: move parents down until the slot for the new event is found.
    let i = this.n++;
    while (i > 0) {
      const p = (i - 1) >> 1;
      const pt = time[p]!;
      if (pt < t || (pt === t && order[p]! < ord)) break;
      time[i] = pt;
      order[i] = order[p]!;
      this.kind[i] = this.kind[p]!;
      this.arg[i] = this.arg[p]!;
      i = p;
    }
    time[i] = t;
    order[i] = ord;
    this.kind[i] = kind;
    this.arg[i] = arg;
  }

  /** Removes the earliest event; returns its time and leaves kind/arg in poppedKind/poppedArg. */
  pop(): number {
    const time = this.time;
    const order = this.order;
    const kind = this.kind;
    const arg = this.arg;
    const top = time[0]!;
    this.poppedKind = kind[0]!;
    this.poppedArg = arg[0]!;
    const last = --this.n;
    if (last > 0) {
      const t = time[last]!;
      const o = order[last]!;
      const k = kind[last]!;
      const a = arg[last]!;
      // Sift down the former last element from the root.
      let i = 0;
      for (;;) {
        let c = 2 * i + 1;
        if (c >= last) break;
        const r = c + 1;
        if (r < last && (time[r]! < time[c]! || (time[r] === time[c] && order[r]! < order[c]!))) c = r;
        const ct = time[c]!;
        if (t < ct || (t === ct && o < order[c]!)) break;
        time[i] = ct;
        order[i] = order[c]!;
        kind[i] = kind[c]!;
        arg[i] = arg[c]!;
        i = c;
      }
      time[i] = t;
      order[i] = o;
      kind[i] = k;
      arg[i] = a;
    }
    return top;
  }

  clear(): void {
    this.n = 0;
    this.counter = 0;
  }
}
