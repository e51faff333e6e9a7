import { describe, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PacketBatch } from '../../src/batch.js';
import { readCaptureSync } from '../../src/capture/index.js';
import { BpfProgram } from '../../src/ebpf/index.js';
import { compileFilter } from '../../src/filter/index.js';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const cli = (...args: string[]): string => execFileSync(process.execPath, [join(root, 'dist', 'src', 'cli', 'index.js'), ...args], { encoding: 'utf8' });

describe('elysia-net bpf compile', () => {
  it('prints eBPF, classic (-d style) and -dd lines; the -dd program filters like the compiled one', () => {
    const expr = 'tcp dst port 80 or (vlan and udp port 53)';
    expect(cli('bpf', 'compile', expr)).toMatch(/exit/);
    expect(cli('bpf', 'compile', '--classic', 'tcp dst port 80')).toMatch(/^\(000\) ldh +\[12\]/);
    const dd = cli('bpf', 'compile', '--dd', expr);
    const fromDd = BpfProgram.fromClassic(dd);
    const ours = compileFilter(expr);
    const pkts = readCaptureSync(readFileSync(join(root, 'test', 'fixtures', 'filter', 'mix.pcap'))).map((p) => p.data);
    const batch = PacketBatch.fromArray(pkts);
    const a = fromDd.runBatch(batch, new Uint32Array(batch.length), { engine: 'interpreter' });
    const b = ours.runBatch(batch, new Uint32Array(batch.length), { engine: 'interpreter' });
    expect(Array.from(a)).toEqual(Array.from(b));
    expect(a.some((v) => v !== 0)).toBe(true);
  });

  it('fails with the parse position on a bad expression', () => {
    let stderr = '';
    try {
      cli('bpf', 'compile', 'tcp port');
    } catch (e) {
      stderr = String((e as { stderr?: string }).stderr);
    }
    expect(stderr).toMatch(/offset 8/);
  });
});
