// `elysia-net bpf asm|disasm|run|jit`: assemble, disassemble, run eBPF programs over a capture, and show what
// the x86-64 JIT makes of them. Programs come from assembly (.s/.asm), ELF objects from clang (.o), raw
// bytecode (.bin) or `tcpdump -dd` output (.dd).
import type { Command } from 'commander';
import { readFileSync, writeFileSync } from 'node:fs';
import { extname } from 'node:path';
import { PacketBatch } from '../batch.js';
import { NetworkError } from '../errors.js';
import { openCapture } from '../capture/file.js';
import { BpfProgram, defaultBpfEngine } from '../ebpf/index.js';
import { X64CompiledProgram, x64JitListing } from '../ebpf/jit-x64/index.js';

/** Loads a program from a file by its extension. */
export function loadBpfProgramFile(path: string, section?: string): BpfProgram {
  const bytes = readFileSync(path);
  const ext = extname(path).toLowerCase();
  if (ext === '.s' || ext === '.asm') return BpfProgram.fromAssembly(bytes.toString('utf8'));
  if (ext === '.dd') return BpfProgram.fromClassic(bytes.toString('utf8'));
  if (ext === '.o' || (bytes.length >= 4 && bytes[0] === 0x7f && bytes[1] === 0x45 && bytes[2] === 0x4c && bytes[3] === 0x46)) {
    return BpfProgram.fromElf(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length), section);
  }
  if (ext === '.bin') return BpfProgram.fromBytes(new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
  throw new NetworkError('UNSUPPORTED', `${path}: unknown program file type (use .s/.asm, .o, .bin or .dd)`, { field: 'file' });
}

export function registerBpfCommands(program: Command): void {
  const bpf = program.command('bpf').description('eBPF programs: assemble, disassemble, run over a capture, show the x86-64 JIT code');

  bpf
    .command('asm <file>')
    .description('assemble eBPF text into bytecode (hex to stdout, or raw bytes with -o)')
    .option('-o, --output <file>', 'write the little-endian bytecode here')
    .action((file: string, opts: { output?: string }) => {
      const prog = BpfProgram.fromAssembly(readFileSync(file, 'utf8'));
      const bytes = prog.encode();
      if (opts.output) {
        writeFileSync(opts.output, bytes);
        console.log(`${prog.length} instructions, ${bytes.length} bytes → ${opts.output}`);
      } else {
        for (let i = 0; i < bytes.length; i += 8) console.log(Buffer.from(bytes.subarray(i, i + 8)).toString('hex'));
      }
    });

  bpf
    .command('disasm <file>')
    .description('disassemble a program (.o, .bin, .s, .dd)')
    .option('-s, --section <name>', 'ELF section holding the program')
    .action((file: string, opts: { section?: string }) => {
      console.log(loadBpfProgramFile(file, opts.section).disassemble());
    });

  bpf
    .command('run <file>')
    .description('run a program over every packet of a pcap/pcapng file and count the verdicts')
    .requiredOption('--pcap <file>', 'capture to read')
    .option('-s, --section <name>', 'ELF section holding the program')
    .option('-e, --engine <name>', 'interpreter | js | native (default: native on the native backend, else js)')
    .option('-v, --verbose', 'print the verdict (r0) of every packet')
    .option('--budget <n>', 'instruction budget per packet', (v) => Number(v))
    .action(async (file: string, opts: { pcap: string; section?: string; engine?: string; verbose?: boolean; budget?: number }) => {
      const prog = loadBpfProgramFile(file, opts.section);
      const engine = opts.engine ?? defaultBpfEngine();
      const reader = await openCapture(opts.pcap);
      let total = 0;
      let accepted = 0;
      const started = process.hrtime.bigint();
      let batch = new PacketBatch({ capacity: 1024, byteCapacity: 1024 * 2048 });
      const flush = () => {
        if (batch.length === 0) return;
        const v = prog.runBatch(batch, new Uint32Array(batch.length), { engine, budget: opts.budget });
        for (let i = 0; i < batch.length; i++) {
          if (v[i] !== 0) accepted++;
          if (opts.verbose) console.log(`${total + i + 1}\t${v[i]}`);
        }
        total += batch.length;
        batch.clear();
      };
      for await (const p of reader) {
        if (batch.tryPush(p.data) < 0) {
          flush();
          if (batch.tryPush(p.data) < 0) {
            // A packet bigger than the batch: a batch of its own.
            batch = new PacketBatch({ capacity: 1, byteCapacity: p.data.length });
            batch.push(p.data);
            flush();
            batch = new PacketBatch({ capacity: 1024, byteCapacity: 1024 * 2048 });
          }
        }
      }
      flush();
      const ns = Number(process.hrtime.bigint() - started);
      console.log(`${accepted} of ${total} packets accepted (engine ${engine}, ${(ns / 1e6).toFixed(1)} ms including reading)`);
    });

  bpf
    .command('jit <file>')
    .description('compile with the x86-64 JIT; --dump prints each eBPF instruction with its machine code')
    .option('-s, --section <name>', 'ELF section holding the program')
    .option('--dump', 'print the listing')
    .option('--hex', 'show machine code as hex bytes even when objdump is available')
    .option('--checked', 'keep a run-time check on every memory access (ignore the verifier proofs)')
    .option('-o, --output <file>', 'write the raw machine code here')
    .action((file: string, opts: { section?: string; dump?: boolean; hex?: boolean; checked?: boolean; output?: string }) => {
      const prog = loadBpfProgramFile(file, opts.section);
      const c = new X64CompiledProgram(prog, { proofs: opts.checked ? 'all-checked' : 'verifier' });
      if (!c.translation) throw new NetworkError('UNSUPPORTED', `not compiled natively: ${c.fallbackReason ?? ''}`);
      if (opts.output) writeFileSync(opts.output, c.translation.code);
      if (opts.dump) console.log(x64JitListing(prog.insns, c.translation, { objdump: !opts.hex }));
      else {
        const t = c.translation;
        console.log(
          `${prog.length} eBPF instructions → ${t.code.length} bytes of x86-64; ${t.checkedAccesses} checked and ${t.provedAccesses} proved memory accesses; ` +
            `verifier ${c.verified ? 'accepted' : 'did not accept (every access checked)'}${c.fallbackReason ? `; runs use the JS JIT: ${c.fallbackReason}` : ''}`,
        );
      }
    });
}
