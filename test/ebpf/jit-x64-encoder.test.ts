// The x86-64 encoder, checked against binutils: a corpus covering every instruction form the translator uses,
// with every register in every operand slot (REX.R/X/B), rsp/r12 bases (SIB), rbp/r13 bases (disp8 0),
// imm8 vs imm32, disp8 vs disp32, is assembled and disassembled with `objdump -D -b binary -mi386:x86-64`,
// and each instruction's text must equal what we meant.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { itWithTools } from '../helpers/tools.js';
import { ALU, CC, SHIFT, X64Assembler, X64Label, X64_REG_NAMES as N, type X64Mem } from '../../src/ebpf/jit-x64/x64.js';

const R = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15];
const ALU_NAMES: Record<number, string> = { 0: 'add', 1: 'or', 4: 'and', 5: 'sub', 6: 'xor', 7: 'cmp' };
const CC_NAMES = ['o', 'no', 'b', 'ae', 'e', 'ne', 'be', 'a', 's', 'ns', 'p', 'np', 'l', 'ge', 'le', 'g'];
const PTR: Record<number, string> = { 8: 'BYTE', 16: 'WORD', 32: 'DWORD', 64: 'QWORD' };

function hex(v: bigint | number): string {
  return `0x${BigInt(v).toString(16)}`;
}
function sx64(v: number): string {
  return hex(BigInt.asUintN(64, BigInt(v | 0)));
}
function sx32(v: number): string {
  return hex(v >>> 0);
}
function memText(m: X64Mem): string {
  let s = N[64][m.base]!;
  if (m.index !== undefined) s += `+${N[64][m.index]}*${m.scale ?? 1}`;
  const base7 = m.base & 7;
  if (m.disp > 0 || (m.disp === 0 && base7 === 5)) s += `+${hex(m.disp)}`;
  else if (m.disp < 0) s += `-${hex(-m.disp)}`;
  return `[${s}]`;
}

interface Item {
  emit(a: X64Assembler): void;
  /** Expected objdump -M intel text, given the item's start offset and length. */
  text: string | ((start: number, len: number) => string);
}

function corpus(): Item[] {
  const items: Item[] = [];
  const mems: X64Mem[] = [];
  for (const base of R) for (const disp of [0, 8, -8, 127, -128, 128, -129, 0x12345]) mems.push({ base, disp });
  mems.push({ base: 0, index: 1, scale: 4, disp: 8 }, { base: 12, index: 13, scale: 8, disp: 0 }, { base: 13, index: 9, scale: 1, disp: -300 });

  for (const op of [ALU.add, ALU.or, ALU.and, ALU.sub, ALU.xor, ALU.cmp]) {
    for (const d of R) for (const s of R) {
      items.push({ emit: (a) => a.aluRR(op, 64, d, s), text: `${ALU_NAMES[op]} ${N[64][d]},${N[64][s]}` });
      items.push({ emit: (a) => a.aluRR(op, 32, d, s), text: `${ALU_NAMES[op]} ${N[32][d]},${N[32][s]}` });
    }
    for (const d of R) for (const imm of [1, -1, 127, -128, 128, -129, 0x7fffffff, -0x80000000]) {
      items.push({ emit: (a) => a.aluRI(op, 64, d, imm), text: `${ALU_NAMES[op]} ${N[64][d]},${sx64(imm)}` });
      items.push({ emit: (a) => a.aluRI(op, 32, d, imm), text: `${ALU_NAMES[op]} ${N[32][d]},${sx32(imm)}` });
    }
  }
  for (const m of mems) {
    items.push({ emit: (a) => a.aluRM(ALU.cmp, 64, 11, m), text: `cmp r11,QWORD PTR ${memText(m)}` });
    items.push({ emit: (a) => a.aluRM(ALU.add, 32, 3, m), text: `add ebx,DWORD PTR ${memText(m)}` });
    items.push({ emit: (a) => a.aluMI(ALU.sub, 64, m, 1), text: `sub QWORD PTR ${memText(m)},0x1` });
    items.push({ emit: (a) => a.aluMI(ALU.cmp, 32, m, 1000), text: `cmp DWORD PTR ${memText(m)},0x3e8` });
  }
  for (const d of R) for (const s of R) {
    items.push({ emit: (a) => a.movRR(64, d, s), text: `mov ${N[64][d]},${N[64][s]}` });
    items.push({ emit: (a) => a.movRR(32, d, s), text: `mov ${N[32][d]},${N[32][s]}` });
    items.push({ emit: (a) => a.testRR(64, d, s), text: `test ${N[64][d]},${N[64][s]}` });
    items.push({ emit: (a) => a.imulRR(64, d, s), text: `imul ${N[64][d]},${N[64][s]}` });
    items.push({ emit: (a) => a.imulRR(32, d, s), text: `imul ${N[32][d]},${N[32][s]}` });
    items.push({ emit: (a) => a.imulRRI(64, d, s, 5), text: `imul ${N[64][d]},${N[64][s]},0x5` });
    items.push({ emit: (a) => a.imulRRI(32, d, s, 100000), text: `imul ${N[32][d]},${N[32][s]},0x186a0` });
    items.push({ emit: (a) => a.movzxRR(8, d, s), text: `movzx ${N[32][d]},${N[8][s]}` });
    items.push({ emit: (a) => a.movzxRR(16, d, s), text: `movzx ${N[32][d]},${N[16][s]}` });
    items.push({ emit: (a) => a.movsxRR(8, 64, d, s), text: `movsx ${N[64][d]},${N[8][s]}` });
    items.push({ emit: (a) => a.movsxRR(16, 64, d, s), text: `movsx ${N[64][d]},${N[16][s]}` });
    items.push({ emit: (a) => a.movsxRR(8, 32, d, s), text: `movsx ${N[32][d]},${N[8][s]}` });
    items.push({ emit: (a) => a.movsxRR(16, 32, d, s), text: `movsx ${N[32][d]},${N[16][s]}` });
    items.push({ emit: (a) => a.movsxRR(32, 64, d, s), text: `movsxd ${N[64][d]},${N[32][s]}` });
    items.push({ emit: (a) => a.cmov(CC.e, 64, d, s), text: `cmove ${N[64][d]},${N[64][s]}` });
    items.push({ emit: (a) => a.cmov(CC.ne, 32, d, s), text: `cmovne ${N[32][d]},${N[32][s]}` });
    if (d !== s) items.push({ emit: (a) => a.xchgRR(d, s), text: `xchg ${N[64][d]},${N[64][s]}` });
  }
  for (const r of R) {
    items.push({ emit: (a) => a.testRI(64, r, 0x1fff), text: `test ${N[64][r]},0x1fff` });
    items.push({ emit: (a) => a.testRI(32, r, -1), text: `test ${N[32][r]},0xffffffff` });
    items.push({ emit: (a) => a.movRI32(r, 0x12345678), text: `mov ${N[32][r]},0x12345678` });
    items.push({ emit: (a) => a.movRI64sx(r, -2), text: `mov ${N[64][r]},0xfffffffffffffffe` });
    items.push({ emit: (a) => a.movabs(r, 0x1122334455667788n), text: `movabs ${N[64][r]},0x1122334455667788` });
    items.push({ emit: (a) => a.movImm(r, 0n), text: `xor ${N[32][r]},${N[32][r]}` });
    items.push({ emit: (a) => a.movImm(r, 0xffffffffn), text: `mov ${N[32][r]},0xffffffff` });
    items.push({ emit: (a) => a.movImm(r, -5n), text: `mov ${N[64][r]},0xfffffffffffffffb` });
    items.push({ emit: (a) => a.movImm(r, 0x100000000n), text: `movabs ${N[64][r]},0x100000000` });
    items.push({ emit: (a) => a.bswap(64, r), text: `bswap ${N[64][r]}` });
    items.push({ emit: (a) => a.bswap(32, r), text: `bswap ${N[32][r]}` });
    items.push({ emit: (a) => a.rol16by8(r), text: `rol ${N[16][r]},0x8` });
    items.push({ emit: (a) => a.div(64, r, false), text: `div ${N[64][r]}` });
    items.push({ emit: (a) => a.div(32, r, false), text: `div ${N[32][r]}` });
    items.push({ emit: (a) => a.div(64, r, true), text: `idiv ${N[64][r]}` });
    items.push({ emit: (a) => a.div(32, r, true), text: `idiv ${N[32][r]}` });
    items.push({ emit: (a) => a.neg(64, r), text: `neg ${N[64][r]}` });
    items.push({ emit: (a) => a.neg(32, r), text: `neg ${N[32][r]}` });
    for (const [name, op] of Object.entries(SHIFT)) {
      items.push({ emit: (a) => a.shiftRI(op, 64, r, 1), text: `${name} ${N[64][r]},1` });
      items.push({ emit: (a) => a.shiftRI(op, 64, r, 63), text: `${name} ${N[64][r]},0x3f` });
      items.push({ emit: (a) => a.shiftRI(op, 32, r, 31), text: `${name} ${N[32][r]},0x1f` });
      items.push({ emit: (a) => a.shiftRCL(op, 64, r), text: `${name} ${N[64][r]},cl` });
      items.push({ emit: (a) => a.shiftRCL(op, 32, r), text: `${name} ${N[32][r]},cl` });
    }
    for (let cc = 0; cc < 16; cc++) items.push({ emit: (a) => a.setcc(cc, r), text: `set${CC_NAMES[cc]} ${N[8][r]}` });
    items.push({ emit: (a) => a.push(r), text: `push ${N[64][r]}` });
    items.push({ emit: (a) => a.pop(r), text: `pop ${N[64][r]}` });
    items.push({ emit: (a) => a.callReg(r), text: `call ${N[64][r]}` });
  }
  for (const m of mems) {
    const mt = memText(m);
    for (const r of [0, 4, 5, 6, 7, 8, 12, 13, 15]) {
      items.push({ emit: (a) => a.load(8, r, m), text: `movzx ${N[32][r]},BYTE PTR ${mt}` });
      items.push({ emit: (a) => a.load(16, r, m), text: `movzx ${N[32][r]},WORD PTR ${mt}` });
      items.push({ emit: (a) => a.load(32, r, m), text: `mov ${N[32][r]},DWORD PTR ${mt}` });
      items.push({ emit: (a) => a.load(64, r, m), text: `mov ${N[64][r]},QWORD PTR ${mt}` });
      items.push({ emit: (a) => a.loadSx(8, r, m), text: `movsx ${N[64][r]},BYTE PTR ${mt}` });
      items.push({ emit: (a) => a.loadSx(16, r, m), text: `movsx ${N[64][r]},WORD PTR ${mt}` });
      items.push({ emit: (a) => a.loadSx(32, r, m), text: `movsxd ${N[64][r]},DWORD PTR ${mt}` });
      for (const w of [8, 16, 32, 64] as const) items.push({ emit: (a) => a.store(w, m, r), text: `mov ${PTR[w]} PTR ${mt},${N[w][r]}` });
      items.push({ emit: (a) => a.lea(r, m), text: `lea ${N[64][r]},${mt}` });
      for (const w of [32, 64] as const) {
        for (const op of [ALU.add, ALU.or, ALU.and, ALU.xor]) {
          items.push({ emit: (a) => a.lockAlu(op, w, m, r), text: `lock ${ALU_NAMES[op]} ${PTR[w]} PTR ${mt},${N[w][r]}` });
        }
        items.push({ emit: (a) => a.lockXadd(w, m, r), text: `lock xadd ${PTR[w]} PTR ${mt},${N[w][r]}` });
        items.push({ emit: (a) => a.xchgMR(w, m, r), text: `xchg ${PTR[w]} PTR ${mt},${N[w][r]}` });
        items.push({ emit: (a) => a.lockCmpxchg(w, m, r), text: `lock cmpxchg ${PTR[w]} PTR ${mt},${N[w][r]}` });
      }
    }
    items.push({ emit: (a) => a.storeImm(8, m, 0x12), text: `mov BYTE PTR ${mt},0x12` });
    items.push({ emit: (a) => a.storeImm(16, m, 0x1234), text: `mov WORD PTR ${mt},0x1234` });
    items.push({ emit: (a) => a.storeImm(32, m, -1), text: `mov DWORD PTR ${mt},0xffffffff` });
    items.push({ emit: (a) => a.storeImm(64, m, -1), text: `mov QWORD PTR ${mt},0xffffffffffffffff` });
    items.push({ emit: (a) => a.callMem(m), text: `call QWORD PTR ${mt}` });
  }
  for (const d of R) for (const x of R) {
    if (x === 4) continue; // rsp cannot be an index
    for (const [scale, disp] of [[1, 0], [2, 16], [4, 0x10], [8, -8], [4, 0x12345]] as const) {
      const dt = disp < 0 ? `-${hex(-disp)}` : `+${hex(disp)}`;
      items.push({ emit: (a) => a.lea32Scaled(d, x, scale, disp), text: `lea ${N[32][d]},[${N[64][x]}*${scale}${dt}]` });
    }
  }
  items.push({ emit: (a) => a.signExtendAx(64), text: 'cqo' });
  items.push({ emit: (a) => a.signExtendAx(32), text: 'cdq' });
  items.push({ emit: (a) => a.ret(), text: 'ret' });
  items.push({ emit: (a) => a.int3(), text: 'int3' });
  for (let cc = 0; cc < 16; cc++) {
    items.push({ emit: (a) => a.jccRel8(cc, -2), text: (s) => `j${CC_NAMES[cc]} ${hex(s)}` });
    items.push({ emit: (a) => a.jccRel32(cc, 0x1000), text: (s, l) => `j${CC_NAMES[cc]} ${hex(s + l + 0x1000)}` });
  }
  items.push({ emit: (a) => a.jmpRel(5, false), text: (s, l) => `jmp ${hex(s + l + 5)}` });
  items.push({ emit: (a) => a.jmpRel(-0x2000, true), text: (s, l) => `jmp ${hex(s + l - 0x2000)}` });
  items.push({ emit: (a) => a.callRel(0x40), text: (s, l) => `call ${hex(s + l + 0x40)}` });
  // Labels: a backward jcc picks rel8, a forward one rel32 patched at finish().
  items.push({
    emit: (a) => {
      const l = new X64Label('back');
      a.bind(l);
      a.jcc(CC.ne, l);
    },
    text: (s) => `jne ${hex(s)}`,
  });
  return items;
}

function objdumpLines(code: Uint8Array): { off: number; len: number; text: string }[] {
  const dir = mkdtempSync(join(tmpdir(), 'x64enc-'));
  try {
    const f = join(dir, 'code.bin');
    writeFileSync(f, code);
    const r = spawnSync('objdump', ['-D', '-b', 'binary', '-mi386:x86-64', '-M', 'intel', '--insn-width=16', f], { encoding: 'utf8', maxBuffer: 256 << 20 });
    expect(r.status).toBe(0);
    const out: { off: number; len: number; text: string }[] = [];
    for (const line of r.stdout.split('\n')) {
      const m = /^\s*([0-9a-f]+):\t([0-9a-f ]+?)\s*\t(.*)$/.exec(line);
      if (!m) continue;
      out.push({ off: parseInt(m[1]!, 16), len: m[2]!.trim().split(/\s+/).length, text: m[3]!.replace(/\s+/g, ' ').trim() });
    }
    return out;
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('x86-64 encoder', () => {
  itWithTools(['objdump'], 'every corpus instruction disassembles to what was meant', () => {
    const items = corpus();
    const a = new X64Assembler();
    const spans: { start: number; len: number; item: Item }[] = [];
    for (const item of items) {
      const start = a.size;
      item.emit(a);
      spans.push({ start, len: a.size - start, item });
    }
    const code = a.finish();
    const lines = objdumpLines(code);
    const byOff = new Map(lines.map((l) => [l.off, l]));
    const bad: string[] = [];
    for (const { start, len, item } of spans) {
      const want = typeof item.text === 'string' ? item.text : item.text(start, len);
      const got = byOff.get(start);
      const bytes = Array.from(code.subarray(start, start + len), (b) => b.toString(16).padStart(2, '0')).join(' ');
      if (!got || got.len !== len || got.text !== want.replace(/\s+/g, ' ')) {
        bad.push(`${bytes}: want "${want}", objdump says "${got?.text ?? '(nothing at this offset)'}"${got && got.len !== len ? ` (${got.len} bytes, emitted ${len})` : ''}`);
      }
    }
    expect(bad.slice(0, 20)).toEqual([]);
    expect(spans.length).toBeGreaterThan(5000);
  }, 60_000);

  it('forward labels are patched as rel32 and backward ones use rel8 when near', () => {
    const a = new X64Assembler();
    const fwd = new X64Label('fwd');
    a.jmp(fwd); // e9 + rel32
    a.ret();
    a.bind(fwd);
    a.jcc(CC.e, fwd); // backward, near: 74 fe
    const code = a.finish();
    expect(Array.from(code)).toEqual([0xe9, 1, 0, 0, 0, 0xc3, 0x74, 0xfe]);
  });

  it('rejects displacements beyond 32 bits and unbound labels', () => {
    const a = new X64Assembler();
    expect(() => a.load(64, 0, { base: 1, disp: 2 ** 33 })).toThrow(/32 bits/);
    const b = new X64Assembler();
    b.jmp(new X64Label('nowhere'));
    expect(() => b.finish()).toThrow(/never bound/);
  });
});
