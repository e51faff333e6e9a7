// IR → classic BPF (struct sock_filter: code, jt, jf, k), with `ja` trampolines where a conditional jump
// reaches further than its 8-bit offsets allow, and a printer in `tcpdump -d`'s format.
import type { CbpfInsn } from '../ebpf/cbpf.js';
import { NetworkError } from '../errors.js';
import type { IrInsn, IrLabel } from './ir.js';

/** One classic BPF instruction (Linux struct sock_filter), as src/ebpf/cbpf.ts translates it. */
export type ClassicInsn = CbpfInsn;

const SIZE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10 };
const ALU: Record<string, number> = { add: 0x00, sub: 0x10, mul: 0x20, div: 0x30, or: 0x40, and: 0x50, lsh: 0x60, rsh: 0x70, mod: 0x90, xor: 0xa0 };
const JMP: Record<string, number> = { jeq: 0x10, jgt: 0x20, jge: 0x30, jset: 0x40 };

type Pending = { insn: IrInsn; pos: number };

/** Lays the IR out as classic BPF. */
export function irToClassic(ir: IrInsn[]): ClassicInsn[] {
  // Expand far conditional jumps into `jcond → ja` pairs until every offset fits in 8 bits.
  let code = ir.slice();
  for (let round = 0; round < 64; round++) {
    const pos = new Map<IrLabel, number>();
    let n = 0;
    for (const i of code) {
      if (i.t === 'label') pos.set(i.id, n);
      else n++;
    }
    let next = 0;
    const expanded: IrInsn[] = [];
    let grew = false;
    let labelSeq = -1_000_000 - round * 10_000;
    for (const i of code) {
      if (i.t === 'label') {
        expanded.push(i);
        continue;
      }
      const here = next++;
      if (i.t === 'jmp') {
        const dt = pos.get(i.jt)! - here - 1;
        const df = pos.get(i.jf)! - here - 1;
        if (dt > 255 || df > 255) {
          // jt/jf → local trampolines right after the jump.
          const lt = labelSeq--;
          const lf = labelSeq--;
          const nt = dt > 255 ? lt : i.jt;
          const nf = df > 255 ? lf : i.jf;
          expanded.push({ ...i, jt: nt, jf: nf });
          if (dt > 255) expanded.push({ t: 'label', id: lt }, { t: 'ja', target: i.jt });
          if (df > 255) expanded.push({ t: 'label', id: lf }, { t: 'ja', target: i.jf });
          grew = true;
          continue;
        }
      }
      expanded.push(i);
    }
    code = expanded;
    if (!grew) break;
  }
  const pos = new Map<IrLabel, number>();
  const real: Pending[] = [];
  for (const i of code) {
    if (i.t === 'label') pos.set(i.id, real.length);
    else real.push({ insn: i, pos: real.length });
  }
  const target = (l: IrLabel, from: number): number => {
    const p = pos.get(l);
    if (p === undefined || p <= from) throw new NetworkError('UNSUPPORTED', `internal: jump from ${from} to label ${l} is not forward`);
    return p - from - 1;
  };
  return real.map(({ insn: i, pos: n }): ClassicInsn => {
    switch (i.t) {
      case 'ld':
        return { code: 0x00 | SIZE[i.size]! | (i.mode === 'abs' ? 0x20 : 0x40), jt: 0, jf: 0, k: i.k >>> 0 };
      case 'ldlen':
        return { code: 0x80, jt: 0, jf: 0, k: 0 };
      case 'ldimm':
        return { code: 0x00, jt: 0, jf: 0, k: i.k >>> 0 };
      case 'ldmem':
        return { code: 0x60, jt: 0, jf: 0, k: i.k };
      case 'ldxmsh':
        return { code: 0xb1, jt: 0, jf: 0, k: i.k };
      case 'ldxmem':
        return { code: 0x61, jt: 0, jf: 0, k: i.k };
      case 'ldximm':
        return { code: 0x01, jt: 0, jf: 0, k: i.k >>> 0 };
      case 'st':
        return { code: 0x02, jt: 0, jf: 0, k: i.k };
      case 'alu':
        return { code: 0x04 | ALU[i.op]! | (i.src === 'x' ? 0x08 : 0), jt: 0, jf: 0, k: i.k >>> 0 };
      case 'neg':
        return { code: 0x84, jt: 0, jf: 0, k: 0 };
      case 'tax':
        return { code: 0x07, jt: 0, jf: 0, k: 0 };
      case 'txa':
        return { code: 0x87, jt: 0, jf: 0, k: 0 };
      case 'jmp':
        return { code: 0x05 | JMP[i.op]! | (i.src === 'x' ? 0x08 : 0), jt: target(i.jt, n), jf: target(i.jf, n), k: i.k >>> 0 };
      case 'ja':
        return { code: 0x05, jt: 0, jf: 0, k: target(i.target, n) };
      case 'ret':
        return { code: 0x06, jt: 0, jf: 0, k: i.k >>> 0 };
      case 'label':
        throw new NetworkError('UNSUPPORTED', 'internal: label in laid-out code');
    }
  });
}

const hex = (k: number): string => `#0x${(k >>> 0).toString(16)}`;

/** Prints classic BPF the way `tcpdump -d` does. */
export function formatClassic(prog: ClassicInsn[]): string {
  const lines = prog.map((p, n) => {
    const { code, k } = p;
    const cls = code & 0x07;
    const sizeName = (c: number): string => ((c & 0x18) === 0x10 ? 'b' : (c & 0x18) === 0x08 ? 'h' : '');
    let op: string;
    let arg = '';
    let jumps = '';
    switch (cls) {
      case 0x00: {
        const mode = code & 0xe0;
        op = `ld${sizeName(code)}`;
        if (mode === 0x20) arg = `[${k}]`;
        else if (mode === 0x40) arg = `[x + ${k}]`;
        else if (mode === 0x60) arg = `M[${k}]`;
        else if (mode === 0x80) arg = '#pktlen';
        else arg = hex(k);
        break;
      }
      case 0x01:
        op = (code & 0xe0) === 0xa0 ? 'ldxb' : 'ldx';
        arg = (code & 0xe0) === 0xa0 ? `4*([${k}]&0xf)` : (code & 0xe0) === 0x60 ? `M[${k}]` : hex(k);
        break;
      case 0x02:
        op = 'st';
        arg = `M[${k}]`;
        break;
      case 0x04: {
        const names: Record<number, string> = { 0x00: 'add', 0x10: 'sub', 0x20: 'mul', 0x30: 'div', 0x40: 'or', 0x50: 'and', 0x60: 'lsh', 0x70: 'rsh', 0x80: 'neg', 0x90: 'mod', 0xa0: 'xor' };
        op = names[code & 0xf0] ?? '?';
        // libpcap's bpf_image: and/or/xor print k in hex, the other operations in decimal.
        const bitwise = op === 'and' || op === 'or' || op === 'xor';
        arg = (code & 0xf0) === 0x80 ? '' : code & 0x08 ? 'x' : bitwise ? `#0x${(k >>> 0).toString(16)}` : `#${k >>> 0}`;
        break;
      }
      case 0x05: {
        const names: Record<number, string> = { 0x00: 'ja', 0x10: 'jeq', 0x20: 'jgt', 0x30: 'jge', 0x40: 'jset' };
        op = names[code & 0xf0] ?? '?';
        if ((code & 0xf0) === 0) arg = `${n + 1 + k}`;
        else {
          arg = code & 0x08 ? 'x' : hex(k);
          jumps = `jt ${n + 1 + p.jt}\tjf ${n + 1 + p.jf}`;
        }
        break;
      }
      case 0x06:
        op = 'ret';
        arg = code & 0x10 ? 'a' : `#${k}`;
        break;
      default:
        op = code & 0x80 ? 'txa' : 'tax';
    }
    const head = `(${String(n).padStart(3, '0')}) ${op.padEnd(8)} ${arg}`;
    return jumps ? `${head.padEnd(32)} ${jumps}` : head.trimEnd();
  });
  return lines.join('\n');
}

/** Classic BPF as `tcpdump -dd` prints it ({ code, jt, jf, k } lines). */
export function formatClassicDd(prog: ClassicInsn[]): string {
  return prog.map((p) => `{ 0x${p.code.toString(16)}, ${p.jt}, ${p.jf}, 0x${(p.k >>> 0).toString(16).padStart(8, '0')} },`).join('\n');
}
