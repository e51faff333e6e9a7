// tcpdump / pcap-filter(7) expressions compiled to verified eBPF.
import { NetworkError } from '../errors.js';
import { classicToEbpf } from '../ebpf/cbpf.js';
import { BpfProgram } from '../ebpf/program.js';
import { irToClassic, type ClassicInsn } from './classic.js';
import { generateFilterIr } from './gencode.js';
import { optimizeFilterIr } from './optimize.js';
import { parseFilter } from './parser.js';

export type { FilterExpr, FilterArith, FilterId, FilterQualifiers, FilterProto, FilterDir } from './ast.js';
export { parseFilter, FILTER_CONSTANTS } from './parser.js';
export { tokenizeFilter, type FilterToken } from './lexer.js';
export { formatClassic, formatClassicDd, irToClassic, type ClassicInsn } from './classic.js';
export { linkOffsets } from './gencode.js';
export { FILTER_ACCEPT } from './ir.js';

/** Options of {@link compileFilter}. */
export interface CompileFilterOptions {
  /** The capture's linktype (libpcap DLT/LINKTYPE number). Default 1, Ethernet. */
  linktype?: number;
  /** Run the optimiser (default true). */
  optimize?: boolean;
}

/** A compiled filter: the eBPF program plus the classic BPF it was lowered from. */
export interface CompiledFilter {
  program: BpfProgram;
  classic: ClassicInsn[];
}

/** Compiles an expression to classic BPF (what `tcpdump -d` would print, from our own code generator). */
export function compileFilterClassic(expression: string, options: CompileFilterOptions = {}): ClassicInsn[] {
  if (typeof expression !== 'string') throw new NetworkError('INVALID_ARGUMENT', 'a filter expression must be a string');
  const ir = generateFilterIr(parseFilter(expression), options.linktype ?? 1);
  return irToClassic(options.optimize === false ? ir : optimizeFilterIr(ir));
}

/**
 * Compiles a pcap-filter(7) expression to a verified eBPF program: r1 = the frame, r2 = its length, r0 ≠ 0
 * means "accept" (262144, the snapshot length, as libpcap returns).
 */
export function compileFilter(expression: string, options: CompileFilterOptions = {}): BpfProgram {
  return compileFilterFull(expression, options).program;
}

/** Like compileFilter, also returning the classic BPF it came from. */
export function compileFilterFull(expression: string, options: CompileFilterOptions = {}): CompiledFilter {
  const classic = compileFilterClassic(expression, options);
  const program = new BpfProgram(classicToEbpf(classic), { name: `filter: ${expression}` });
  program.verify();
  return { program, classic };
}
