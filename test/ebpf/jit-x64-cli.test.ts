// `elysia-net bpf asm|disasm|run|jit`, driven in-process through commander with console output captured.
import { afterAll, afterEach, describe, expect, it, vi } from 'vitest';
import { Command } from 'commander';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { registerBpfCommands } from '../../src/cli/bpf.js';
import { readCaptureSync } from '../../src/capture/file.js';
import { assemble } from '../../src/ebpf/index.js';
import { x64JitAvailable } from '../../src/ebpf/jit-x64/index.js';

const fixtures = join(dirname(fileURLToPath(import.meta.url)), '..', 'fixtures');
const PROG = 'ldabsh 12\njne %r0, 0x800, drop\nldabsb 23\njne %r0, 6, drop\nmov %r0, 1\nexit\ndrop:\nmov %r0, 0\nexit\n';

async function cli(...args: string[]): Promise<string> {
  const lines: string[] = [];
  const spy = vi.spyOn(console, 'log').mockImplementation((...a: unknown[]) => {
    lines.push(a.map(String).join(' '));
  });
  try {
    const program = new Command().exitOverride();
    registerBpfCommands(program);
    await program.parseAsync(['node', 'elysia-net', 'bpf', ...args]);
  } finally {
    spy.mockRestore();
  }
  return lines.join('\n');
}

describe('elysia-net bpf', () => {
  const dir = mkdtempSync(join(tmpdir(), 'bpf-cli-'));
  const src = join(dir, 'ip-tcp.s');
  writeFileSync(src, PROG);
  afterEach(() => vi.restoreAllMocks());

  it('asm prints 8-byte instructions in hex and writes raw bytecode that disasm reads back', async () => {
    const hex = await cli('asm', src);
    expect(hex.split('\n')).toHaveLength(assemble(PROG).length);
    expect(hex.split('\n')[0]).toBe('280000000c000000');
    const bin = join(dir, 'p.bin');
    await cli('asm', src, '-o', bin);
    expect(readFileSync(bin)).toEqual(Buffer.from(assemble(PROG).encode()));
    expect(await cli('disasm', bin)).toContain('ldabsh 12');
  });

  it('run counts the accepted packets of a capture, the same on every engine', async () => {
    const cap = join(fixtures, 'ebpf', 'mix.pcap');
    const packets = readCaptureSync(new Uint8Array(readFileSync(cap)));
    const prog = assemble(PROG);
    const want = packets.filter((p) => prog.run(p.data, { engine: 'interpreter' }) !== 0n).length;
    for (const engine of ['interpreter', 'js', ...(x64JitAvailable() ? ['native'] : [])]) {
      expect(await cli('run', src, '--pcap', cap, '-e', engine)).toMatch(new RegExp(`^${want} of ${packets.length} packets accepted \\(engine ${engine}`));
    }
  });

  it('jit summarises and --dump lists every instruction with its machine code', async () => {
    expect(await cli('jit', src)).toMatch(new RegExp(`^${assemble(PROG).length} eBPF instructions → \\d+ bytes of x86-64`));
    const dump = await cli('jit', src, '--dump', '--hex');
    expect(dump).toContain(';    0: ldabsh 12');
    expect(dump).toContain('shared stubs');
    const out = join(dir, 'code.bin');
    await cli('jit', src, '-o', out);
    expect(readFileSync(out)[0]).toBe(0x53); // push rbx
  });

  it('unknown file types are refused with a clear error', async () => {
    const bad = join(dir, 'x.txt');
    writeFileSync(bad, 'hello');
    await expect(cli('disasm', bad)).rejects.toThrow(/unknown program file type/);
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));
});
