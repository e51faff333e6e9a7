// A readable listing of the native code: each eBPF instruction followed by the x86-64 it became. With
// binutils' objdump on the PATH the machine code is shown as Intel-syntax instructions, else as hex bytes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { disassembleBpfInsn } from '../disasm.js';
import type { BpfInsn } from '../isa.js';
import type { X64Translation } from './translate.js';

interface DecodedLine {
  off: number;
  bytes: string;
  text: string;
}

function objdumpDecode(code: Uint8Array): DecodedLine[] | null {
  let dir: string | null = null;
  try {
    dir = mkdtempSync(join(tmpdir(), 'elysia-jit-'));
    const f = join(dir, 'code.bin');
    writeFileSync(f, code);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', '--insn-width=16', f], { encoding: 'utf8', maxBuffer: 64 << 20 });
    if (r.status !== 0 || typeof r.stdout !== 'string') return null;
    const out: DecodedLine[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
      if (m) out.push({ off: parseInt(m[1]!, 16), bytes: m[2]!.trim(), text: m[3]!.replace(/\s+/g, ' ').trim() });
    }
    return out;
  } catch {
    return null;
  } finally {
    if (dir) rmSync(dir, { recursive: true, force: true });
  }
}

function hexLines(code: Uint8Array, from: number, to: number): DecodedLine[] {
  const out: DecodedLine[] = [];
  for (let o = from; o < to; o += 16) {
    const b = Array.from(code.subarray(o, Math.min(to, o + 16)), (x) => x.toString(16).padStart(2, '0')).join(' ');
    out.push({ off: o, bytes: b, text: '' });
  }
  return out;
}

/** Options of {@link x64JitListing}. */
export interface X64ListingOptions {
  /** Decode with objdump when available (default true); false prints hex bytes. */
  objdump?: boolean;
}

/** The listing: per eBPF pc, its assembly, then the x86-64 instructions it compiled to; then the shared stubs. */
export function x64JitListing(insns: readonly BpfInsn[], t: X64Translation, options: X64ListingOptions = {}): string {
  const code = t.code;
  const decoded = options.objdump === false ? null : objdumpDecode(code);
  const textOf = new Map<number, string>();
  for (let pc = 0; pc < insns.length; pc++) {
    if (t.pcOffsets[pc]! < 0) continue;
    try {
      textOf.set(pc, disassembleBpfInsn(insns, pc).replace(/\n/g, ' / '));
    } catch {
      textOf.set(pc, '(undecodable)');
    }
  }
  const starts: { off: number; title: string }[] = [{ off: 0, title: '; prologue, batch loop, exits' }];
  for (let pc = 0; pc < insns.length; pc++) {
    if (t.pcOffsets[pc]! >= 0) starts.push({ off: t.pcOffsets[pc]!, title: `; ${String(pc).padStart(4)}: ${textOf.get(pc) ?? ''}` });
  }
  starts.push({ off: t.bodyEnd, title: '; shared stubs and cold paths (bounds-check slow path, errors)' });
  starts.sort((x, y) => x.off - y.off);
  const lines: string[] = [
    `; ${code.length} bytes of x86-64, entry at 0x${t.entryOffset.toString(16)}; ${t.checkedAccesses} checked and ${t.provedAccesses} proved memory accesses`,
  ];
  for (let i = 0; i < starts.length; i++) {
    const from = starts[i]!.off;
    const to = i + 1 < starts.length ? starts[i + 1]!.off : code.length;
    lines.push(starts[i]!.title);
    const body = decoded ? decoded.filter((d) => d.off >= from && d.off < to) : hexLines(code, from, to);
    for (const d of body) lines.push(`  ${d.off.toString(16).padStart(5, '0')}:  ${d.bytes.padEnd(decoded ? 36 : 48)} ${d.text}`.trimEnd());
  }
  return lines.join('\n');
}
