// The compiler's intermediate form: classic BPF (an accumulator A, an index X, 16 scratch words M[]) with
// symbolic jump targets. Every packet load outside the packet ends the filter with "reject", as in
// libpcap's bpf_filter() and Linux's sk_run_filter, so `not tcp[100] = 1` rejects a short packet.

export type IrLabel = number;
export type IrSize = 1 | 2 | 4;
export type IrAluOp = 'add' | 'sub' | 'mul' | 'div' | 'mod' | 'and' | 'or' | 'xor' | 'lsh' | 'rsh';
export type IrJmpOp = 'jeq' | 'jgt' | 'jge' | 'jset';

export type IrInsn =
  | { t: 'ld'; size: IrSize; mode: 'abs' | 'ind'; k: number } // A = pkt[k] or pkt[X + k] (big-endian)
  | { t: 'ldlen' } // A = packet length
  | { t: 'ldimm'; k: number }
  | { t: 'ldmem'; k: number } // A = M[k]
  | { t: 'ldxmsh'; k: number } // X = 4 * (pkt[k] & 0xf)
  | { t: 'ldxmem'; k: number }
  | { t: 'ldximm'; k: number }
  | { t: 'st'; k: number } // M[k] = A
  | { t: 'alu'; op: IrAluOp; src: 'k' | 'x'; k: number }
  | { t: 'neg' }
  | { t: 'tax' }
  | { t: 'txa' }
  | { t: 'jmp'; op: IrJmpOp; src: 'k' | 'x'; k: number; jt: IrLabel; jf: IrLabel }
  | { t: 'ja'; target: IrLabel }
  | { t: 'ret'; k: number }
  | { t: 'label'; id: IrLabel };

/** Value the accepting filter returns, as libpcap does (the snapshot length). */
export const FILTER_ACCEPT = 262144;
