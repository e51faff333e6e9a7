// `elysia-net bpf compile 'EXPR'`: a tcpdump expression compiled by src/filter, printed as eBPF (default),
// as classic BPF like `tcpdump -d` (--classic) or `tcpdump -dd` (--dd).
import type { Command } from 'commander';
import { encodeInsnU64 } from '../ebpf/isa.js';
import { NetworkError } from '../errors.js';
import { compileFilterFull, formatClassic, formatClassicDd } from '../filter/index.js';

interface CompileOptions {
  linktype: string;
  classic?: boolean;
  dd?: boolean;
  optimize: boolean;
  raw?: boolean;
}

/** Adds `compile` to the `bpf` command group (registered by src/cli/bpf.ts). */
export function registerFilterCommands(program: Command): void {
  const bpf = program.commands.find((c) => c.name() === 'bpf') ?? program.command('bpf').description('eBPF programs');
  bpf
    .command('compile')
    .description('compile a tcpdump (pcap-filter) expression to verified eBPF and print it')
    .argument('<expression...>', "the filter, e.g. 'tcp dst port 80 and not src net 10.0.0.0/8'")
    .option('--linktype <n>', 'linktype of the capture (1 Ethernet, 101 raw IP, 113 Linux SLL, 276 SLL2)', '1')
    .option('--classic', 'print the classic BPF it lowers from, like tcpdump -d')
    .option('--dd', 'print classic BPF as C array lines, like tcpdump -dd')
    .option('--raw', 'print the eBPF instructions as 64-bit hex words (the conformance suite format)')
    .option('--no-optimize', 'skip the optimiser')
    .action((words: string[], opts: CompileOptions) => {
      const linktype = Number(opts.linktype);
      if (!Number.isInteger(linktype) || linktype < 0) throw new NetworkError('INVALID_ARGUMENT', `--linktype must be a number, got '${opts.linktype}'`);
      const { program: prog, classic } = compileFilterFull(words.join(' '), { linktype, optimize: opts.optimize });
      if (opts.classic) console.log(formatClassic(classic));
      else if (opts.dd) console.log(formatClassicDd(classic));
      else if (opts.raw) console.log(prog.insns.map((i) => `0x${encodeInsnU64(i).toString(16).padStart(16, '0')}`).join('\n'));
      else console.log(prog.disassemble());
    });
}
