// A small optimiser over the classic-BPF IR: shared loads (a load whose value A already holds on every
// path is dropped), dead branches (a test whose outcome the paths leading to it already decided becomes
// a jump), jump threading and unreachable-code removal. All jumps of the IR point forward, so one pass
// in program order is a complete forward data-flow analysis.
import type { IrInsn, IrLabel } from './ir.js';

/** What is known about one value (a packet load, or a load combined with constants). */
interface Fact {
  eq?: number;
  ne: Set<number>;
  /** Bits known to be zero (from a failed jset). */
  zero: number;
  /** Masks known to have a set bit (from a taken jset). */
  nonzero: Set<number>;
}

interface State {
  a: string | null;
  x: string | null;
  facts: Map<string, Fact>;
}

function cloneFact(f: Fact): Fact {
  return { eq: f.eq, ne: new Set(f.ne), zero: f.zero, nonzero: new Set(f.nonzero) };
}

function cloneState(s: State): State {
  const facts = new Map<string, Fact>();
  for (const [k, f] of s.facts) facts.set(k, cloneFact(f));
  return { a: s.a, x: s.x, facts };
}

function meet(states: State[]): State {
  const [first, ...rest] = states;
  if (!first) return { a: null, x: null, facts: new Map() };
  const out = cloneState(first);
  for (const s of rest) {
    if (out.a !== s.a) out.a = null;
    if (out.x !== s.x) out.x = null;
    for (const [k, f] of out.facts) {
      const g = s.facts.get(k);
      if (!g) {
        out.facts.delete(k);
        continue;
      }
      if (f.eq !== g.eq) f.eq = undefined;
      for (const v of f.ne) if (!g.ne.has(v)) f.ne.delete(v);
      f.zero &= g.zero;
      for (const v of f.nonzero) if (!g.nonzero.has(v)) f.nonzero.delete(v);
    }
  }
  return out;
}

function fact(s: State, key: string): Fact {
  let f = s.facts.get(key);
  if (!f) {
    f = { ne: new Set(), zero: 0, nonzero: new Set() };
    s.facts.set(key, f);
  }
  return f;
}

/** The outcome of `op A, #k` if the facts decide it, else null. */
function decide(s: State, op: string, k: number): boolean | null {
  const key = s.a;
  if (key === null) return null;
  let value: number | undefined;
  if (key.startsWith('imm:')) value = Number(key.slice(4));
  const f = s.facts.get(key);
  if (value === undefined) value = f?.eq;
  if (value !== undefined) {
    switch (op) {
      case 'jeq': return value === k;
      case 'jgt': return value > k;
      case 'jge': return value >= k;
      case 'jset': return (value & k) !== 0;
    }
  }
  if (!f) return null;
  if (op === 'jeq' && f.ne.has(k)) return false;
  if (op === 'jset') {
    if (((k & ~f.zero) >>> 0) === 0) return false;
    if (f.nonzero.has(k)) return true;
  }
  return null;
}

/** Whether the instruction sets A without reading it first. */
function overwritesA(i: IrInsn | undefined): boolean {
  return i !== undefined && (i.t === 'ld' || i.t === 'ldlen' || i.t === 'ldimm' || i.t === 'ldmem');
}

/**
 * Jump threading with facts: an edge whose state already decides the `ld K; jcc` block it enters may
 * skip that block and go straight to the decided successor, provided the landing point does not read A.
 * The skipped load had been done before on every path (its facts exist), so skipping it cannot hide an
 * out-of-packet load.
 */
function threadEdge(code: IrInsn[], labelAt: Map<IrLabel, number>, target: IrLabel, s: State): IrLabel {
  let cur = target;
  let a = s.a;
  let moved = false;
  for (let hops = 0; hops < 16; hops++) {
    let n = labelAt.get(cur)!;
    while (n < code.length && code[n]!.t === 'label') n++;
    const ld = code[n];
    let m = n + 1;
    while (m < code.length && code[m]!.t === 'label') m++;
    const j = code[m];
    if (ld?.t !== 'ld' || ld.mode !== 'abs' || j?.t !== 'jmp' || j.src !== 'k') break;
    // A label between the load and the jump would let other paths enter mid-block; the jump's outcome
    // still only depends on the loaded value, so it is fine to decide it here.
    const key = `abs:${ld.size}:${ld.k}`;
    if (!s.facts.has(key)) break;
    const d = decide({ a: key, x: s.x, facts: s.facts }, j.op, j.k);
    if (d === null) break;
    cur = d ? j.jt : j.jf;
    a = key;
    moved = true;
  }
  if (!moved) return target;
  let n = labelAt.get(cur)!;
  while (n < code.length && code[n]!.t === 'label') n++;
  // Landing where A is read would need A = the last skipped load; allow it only when the edge had that.
  if (!overwritesA(code[n]) && code[n]?.t !== 'ret' && a !== s.a) return target;
  return cur;
}

function onePass(code: IrInsn[]): { code: IrInsn[]; changed: boolean } {
  const labelAt = new Map<IrLabel, number>();
  code.forEach((i, n) => {
    if (i.t === 'label') labelAt.set(i.id, n);
  });
  const incoming = new Map<IrLabel, State[]>();
  const send = (l: IrLabel, s: State): void => {
    const list = incoming.get(l);
    if (list) list.push(s);
    else incoming.set(l, [s]);
  };
  const out: IrInsn[] = [];
  let changed = false;
  let s: State | null = { a: null, x: null, facts: new Map() };
  for (const insn of code) {
    if (insn.t === 'label') {
      // Every jump points forward, so all the edges into this label are known by now.
      const all: State[] = [...(s ? [s] : []), ...(incoming.get(insn.id) ?? [])];
      s = all.length ? meet(all) : null;
      out.push(insn);
      continue;
    }
    if (s === null) {
      // Unreachable: nothing falls through and no jump arrives before the next label.
      changed = true;
      continue;
    }
    switch (insn.t) {
      case 'ld': {
        const key = insn.mode === 'abs' ? `abs:${insn.size}:${insn.k}` : s.x === null ? null : `ind:${insn.size}:${insn.k}:${s.x}`;
        if (key !== null && s.a === key) {
          changed = true;
          continue;
        }
        s.a = key;
        break;
      }
      case 'ldlen':
        if (s.a === 'len') {
          changed = true;
          continue;
        }
        s.a = 'len';
        break;
      case 'ldimm':
        s.a = `imm:${insn.k >>> 0}`;
        break;
      case 'ldmem':
        s.a = null;
        break;
      case 'ldxmsh': {
        const key = `msh:${insn.k}`;
        if (s.x === key) {
          changed = true;
          continue;
        }
        s.x = key;
        break;
      }
      case 'ldximm':
        s.x = `imm:${insn.k >>> 0}`;
        break;
      case 'ldxmem':
        s.x = null;
        break;
      case 'st':
        break;
      case 'alu':
        s.a = s.a !== null && insn.src === 'k' && !s.a.startsWith('imm:') ? `${s.a}|${insn.op}:${insn.k >>> 0}` : null;
        break;
      case 'neg':
      case 'txa':
        s.a = null;
        break;
      case 'tax':
        s.x = s.a === null ? null : `a:${s.a}`;
        break;
      case 'jmp': {
        if (insn.src === 'k') {
          const d = decide(s, insn.op, insn.k);
          if (d !== null) {
            const target = d ? insn.jt : insn.jf;
            out.push({ t: 'ja', target });
            send(target, s);
            s = null;
            changed = true;
            continue;
          }
          const ts = cloneState(s);
          const fs = s;
          if (s.a !== null) {
            const tf = fact(ts, s.a);
            const ff = fact(fs, s.a);
            if (insn.op === 'jeq') {
              tf.eq = insn.k;
              ff.ne.add(insn.k);
            } else if (insn.op === 'jset') {
              tf.nonzero.add(insn.k);
              ff.zero = (ff.zero | insn.k) >>> 0;
            }
          }
          const jt = threadEdge(code, labelAt, insn.jt, ts);
          const jf = threadEdge(code, labelAt, insn.jf, fs);
          if (jt !== insn.jt || jf !== insn.jf) changed = true;
          send(jt, ts);
          send(jf, fs);
          out.push({ ...insn, jt, jf });
          s = null;
          continue;
        } else {
          send(insn.jt, cloneState(s));
          send(insn.jf, s);
        }
        out.push(insn);
        s = null;
        continue;
      }
      case 'ja':
        send(insn.target, s);
        out.push(insn);
        s = null;
        continue;
      case 'ret':
        out.push(insn);
        s = null;
        continue;
    }
    out.push(insn);
  }
  return { code: out, changed };
}

/** Jump threading, same-target branches, jumps to the next instruction, unused labels. */
function tidy(code: IrInsn[]): { code: IrInsn[]; changed: boolean } {
  let changed = false;
  const at = new Map<IrLabel, number>();
  code.forEach((i, n) => {
    if (i.t === 'label') at.set(i.id, n);
  });
  // The first instruction a label leads to.
  const firstReal = (l: IrLabel): IrInsn | undefined => {
    let n = at.get(l)!;
    while (n < code.length && code[n]!.t === 'label') n++;
    return code[n];
  };
  const resolve = (l: IrLabel): IrLabel => {
    for (let hops = 0; hops < 64; hops++) {
      const i = firstReal(l);
      if (i?.t !== 'ja') return l;
      l = i.target;
    }
    return l;
  };
  const out: IrInsn[] = [];
  for (const insn of code) {
    if (insn.t === 'jmp') {
      const jt = resolve(insn.jt);
      const jf = resolve(insn.jf);
      if (jt !== insn.jt || jf !== insn.jf) changed = true;
      if (jt === jf) {
        out.push({ t: 'ja', target: jt });
        changed = true;
      } else {
        out.push({ ...insn, jt, jf });
      }
    } else if (insn.t === 'ja') {
      const target = resolve(insn.target);
      const dest = firstReal(target);
      if (dest?.t === 'ret') {
        out.push({ t: 'ret', k: dest.k });
        changed = true;
      } else {
        if (target !== insn.target) changed = true;
        out.push({ t: 'ja', target });
      }
    } else {
      out.push(insn);
    }
  }
  // Drop `ja L` when L follows immediately (only labels in between).
  const out2: IrInsn[] = [];
  for (let n = 0; n < out.length; n++) {
    const insn = out[n]!;
    if (insn.t === 'ja') {
      let m = n + 1;
      let falls = false;
      while (m < out.length && out[m]!.t === 'label') {
        if ((out[m] as { id: IrLabel }).id === insn.target) falls = true;
        m++;
      }
      if (falls) {
        changed = true;
        continue;
      }
    }
    out2.push(insn);
  }
  // Remove labels nothing jumps to.
  const used = new Set<IrLabel>();
  for (const i of out2) {
    if (i.t === 'jmp') {
      used.add(i.jt);
      used.add(i.jf);
    } else if (i.t === 'ja') used.add(i.target);
  }
  const out3 = out2.filter((i) => i.t !== 'label' || used.has(i.id));
  if (out3.length !== out2.length) changed = true;
  return { code: out3, changed };
}

/**
 * Indices of loads that cannot fall outside the packet because every path to them already loaded at
 * least as far into it (a cBPF load past the end ends the filter, so such loads may only be removed
 * when they are known to succeed).
 */
function safeLoads(code: IrInsn[]): Set<number> {
  const safe = new Set<number>();
  const incoming = new Map<IrLabel, number[]>();
  const send = (l: IrLabel, v: number): void => {
    const list = incoming.get(l);
    if (list) list.push(v);
    else incoming.set(l, [v]);
  };
  let known: number | null = 0; // bytes known to exist in the packet; null = unreachable
  code.forEach((insn, n) => {
    if (insn.t === 'label') {
      const all = [...(known === null ? [] : [known]), ...(incoming.get(insn.id) ?? [])];
      known = all.length ? Math.min(...all) : null;
      return;
    }
    if (known === null) return;
    switch (insn.t) {
      case 'ld':
        if (insn.mode === 'abs') {
          if (insn.k + insn.size <= known) safe.add(n);
          known = Math.max(known, insn.k + insn.size);
        }
        break;
      case 'ldxmsh':
        if (insn.k + 1 <= known) safe.add(n);
        known = Math.max(known, insn.k + 1);
        break;
      case 'ldlen':
      case 'ldimm':
      case 'ldmem':
        safe.add(n);
        break;
      case 'jmp':
        send(insn.jt, known);
        send(insn.jf, known);
        known = null;
        break;
      case 'ja':
        send(insn.target, known);
        known = null;
        break;
      case 'ret':
        known = null;
        break;
      default:
        break;
    }
  });
  return safe;
}

/** Drops loads into A (or X) whose value nothing reads, when they cannot fail. */
function deadLoads(code: IrInsn[]): { code: IrInsn[]; changed: boolean } {
  const safe = safeLoads(code);
  const liveAtLabel = new Map<IrLabel, { a: boolean; x: boolean }>();
  // Jumps point forward, so a reverse walk sees every label before the jumps into it.
  let liveA = false;
  let liveX = false;
  const drop = new Set<number>();
  for (let n = code.length - 1; n >= 0; n--) {
    const i = code[n]!;
    switch (i.t) {
      case 'label':
        liveAtLabel.set(i.id, { a: liveA, x: liveX });
        break;
      case 'ret':
        liveA = false;
        liveX = false;
        break;
      case 'ja': {
        const l = liveAtLabel.get(i.target)!;
        liveA = l.a;
        liveX = l.x;
        break;
      }
      case 'jmp': {
        const t = liveAtLabel.get(i.jt)!;
        const f = liveAtLabel.get(i.jf)!;
        liveA = true;
        liveX = t.x || f.x || i.src === 'x';
        break;
      }
      case 'ld':
        if (!liveA && safe.has(n) && i.mode === 'abs') drop.add(n);
        else {
          liveA = false;
          if (i.mode === 'ind') liveX = true;
        }
        break;
      case 'ldlen':
      case 'ldimm':
      case 'ldmem':
        if (!liveA) drop.add(n);
        else liveA = false;
        break;
      case 'ldxmsh':
      case 'ldximm':
      case 'ldxmem':
        if (!liveX && safe.has(n)) drop.add(n);
        else if (!liveX && i.t !== 'ldxmsh') drop.add(n);
        else liveX = false;
        break;
      case 'st':
        liveA = true;
        break;
      case 'alu':
        liveA = true;
        if (i.src === 'x') liveX = true;
        break;
      case 'neg':
        liveA = true;
        break;
      case 'tax':
        liveA = liveX || liveA;
        liveX = false;
        break;
      case 'txa':
        liveA = false;
        liveX = true;
        break;
    }
  }
  if (drop.size === 0) return { code, changed: false };
  return { code: code.filter((_, n) => !drop.has(n)), changed: true };
}

/** Optimises IR until nothing changes (bounded). */
export function optimizeFilterIr(code: IrInsn[]): IrInsn[] {
  let cur = code;
  for (let round = 0; round < 20; round++) {
    const a = onePass(cur);
    const b = tidy(a.code);
    const c = deadLoads(b.code);
    cur = c.code;
    if (!a.changed && !b.changed && !c.changed) break;
  }
  return cur;
}
