// Random eBPF programs for differential testing of the engines (interpreter vs JS JIT vs x86-64 JIT):
// ALU edge values, every ALU/JMP/JMP32 op, loads/stores/atomics on the input and the stack (some in bounds,
// some just outside), legacy packet loads, calls of a deterministic user helper and of map helpers over an
// array and a hash map. Forward jumps only, so every program terminates. Seeded: the same seed gives the
// same program (test/ebpf/jit-x64-fuzz.test.ts and scripts/fuzz-jit.mjs use it).
import { bpfInsn, bpfLddw, type BpfInsn } from '../isa.js';

/** A generated case: the program, the input memory, and whether it uses the maps. */
export interface BpfFuzzCase {
  insns: BpfInsn[];
  memory: Uint8Array;
  usesMaps: boolean;
}

/** The helper id of the deterministic user helper the generated programs call. */
export const BPF_FUZZ_HELPER_ID = 100;
/** That helper: mixes its arguments (no memory access), identical on every engine. */
export function bpfFuzzHelper(r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint): bigint {
  return BigInt.asUintN(64, r1 * 3n + (r2 ^ (r5 << 7n)) - r3 + (r4 >> 3n));
}

/** Small seeded PRNG (mulberry32). */
export function bpfFuzzRng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const EDGE32 = [0, 1, -1, 2, 3, 7, 8, 31, 32, 63, 64, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, -0x80000000, -2, 1000000007];
const EDGE64 = [0n, 1n, -1n, 0x7fffffffffffffffn, -0x8000000000000000n, 0xffffffffn, 0x100000000n, 0x8000000000000000n, 0x123456789abcdef0n, -0x100000000n];

/**
 * Generates one case from a random source. `movePointer`: the program first advances the input pointer r1 by 1..8
 * bytes (as classic filters index past a header) and every access through it is shifted back, so the same offsets
 * stay near the edges while the JIT must check accesses through a moved packet pointer.
 */
export function generateBpfFuzzCase(rand: () => number, options: { maps?: boolean; movePointer?: boolean } = {}): BpfFuzzCase {
  const int = (n: number) => Math.floor(rand() * n);
  const pick = <T>(xs: readonly T[]): T => xs[int(xs.length)]!;
  const imm32 = () => (rand() < 0.6 ? pick(EDGE32) : (int(0x100000000) | 0));
  const memLen = 8 + int(40);
  const memory = new Uint8Array(memLen);
  for (let i = 0; i < memLen; i++) memory[i] = int(256);
  const useMaps = options.maps === true && rand() < 0.3;
  // Registers the body may write or read as numbers: never r1 (the input pointer), r9 (its copy, kept across
  // helper calls) or r10. Pointers differ between engines by design (host vs virtual addresses).
  const W = [0, 2, 3, 4, 5, 6, 7, 8];
  const anyReg = () => pick(W);
  const body: BpfInsn[][] = [];
  // Prologue: every register gets a value (r2 keeps the length sometimes).
  const pro: BpfInsn[] = [];
  for (const r of [0, 3, 4, 5, 6, 7, 8, ...(rand() < 0.5 ? [2] : [])]) {
    if (rand() < 0.3) pro.push(...bpfLddw(r, pick(EDGE64) ^ BigInt(int(1 << 16))));
    else pro.push(bpfInsn(0xb7, r, 0, 0, imm32()));
  }
  const n = 6 + int(26);
  for (let k = 0; k < n; k++) {
    const c = rand();
    if (c < 0.45) {
      // ALU / ALU64
      const cls = rand() < 0.5 ? 0x07 : 0x04;
      const op = pick([0x00, 0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0x80, 0x90, 0xa0, 0xb0, 0xc0, 0xd0]);
      const d = pick(W);
      if (op === 0x80) {
        body.push([bpfInsn(cls | op, d)]);
      } else if (op === 0xd0) {
        const width = pick([16, 32, 64]);
        const opc = rand() < 0.33 ? 0xd7 : rand() < 0.5 ? 0xd4 : 0xdc;
        body.push([bpfInsn(opc, d, 0, 0, width)]);
      } else {
        const x = rand() < 0.5;
        let off = 0;
        if ((op === 0x30 || op === 0x90) && rand() < 0.5) off = 1;
        if (op === 0xb0 && x && rand() < 0.3) off = pick(cls === 0x07 ? [8, 16, 32] : [8, 16]);
        body.push([bpfInsn(cls | op | (x ? 8 : 0), d, x ? anyReg() : 0, off, x ? 0 : imm32())]);
      }
    } else if (c < 0.6) {
      // conditional forward jump (patched below to a real target)
      const cls = rand() < 0.5 ? 0x05 : 0x06;
      const op = pick([0x10, 0x20, 0x30, 0x40, 0x50, 0x60, 0x70, 0xa0, 0xb0, 0xc0, 0xd0]);
      const x = rand() < 0.5;
      body.push([bpfInsn(cls | op | (x ? 8 : 0), anyReg(), x ? anyReg() : 0, -1 - int(6), x ? 0 : imm32())]);
    } else if (c < 0.78) {
      // load / store through r1 (input) or r10 (stack), near or just past the edges
      const size = pick([0x00, 0x08, 0x10, 0x18]);
      const bytes = size === 0x18 ? 8 : size === 0x00 ? 4 : size === 0x08 ? 2 : 1;
      const viaStack = rand() < 0.5;
      const base = viaStack ? 10 : 1;
      // Mostly in bounds; sometimes just outside (below the frame, past the input's end, before its start).
      const inside = rand() < 0.85;
      const off = viaStack
        ? inside ? -(bytes + 8 * int(63)) : pick([-520, -513, 0, 8])
        : inside ? int(memLen - bytes + 1) : pick([memLen - bytes + 1, memLen, -1, -3]);
      const kind = rand();
      if (kind < 0.4) {
        const sx = size !== 0x18 && rand() < 0.3;
        body.push([bpfInsn((sx ? 0x80 : 0x60) | size | 0x01, pick(W), base, off, 0)]);
      } else if (kind < 0.7) body.push([bpfInsn(0x60 | size | 0x03, base, anyReg(), off, 0)]);
      else body.push([bpfInsn(0x60 | size | 0x02, base, 0, off, imm32())]);
    } else if (c < 0.84) {
      // atomic on an aligned stack slot or input offset
      const dw = rand() < 0.5;
      const bytes = dw ? 8 : 4;
      const viaStack = rand() < 0.6;
      const off = viaStack ? -bytes * (1 + int(16)) : bytes * int(Math.max(1, Math.floor(memLen / bytes)) + 1);
      const aop = pick([0x00, 0x40, 0x50, 0xa0, 0x01, 0x41, 0x51, 0xa1, 0xe1, 0xf1]);
      body.push([bpfInsn(0xc3 | (dw ? 0x18 : 0), viaStack ? 10 : 1, anyReg(), off, aop)]);
    } else if (c < 0.88) {
      // legacy packet load (ends the program with 0 when out of range)
      const size = pick([0x00, 0x08, 0x10]);
      if (rand() < 0.5) body.push([bpfInsn(0x20 | size, 0, 0, 0, int(memLen + 4))]);
      else body.push([bpfInsn(0x40 | size, 0, pick([2, 3, 4, 5]), 0, int(memLen))]);
    } else if (c < 0.93) {
      // r1 goes to the helper as a number, then gets the input pointer back from r9.
      body.push([bpfInsn(0xb7, 1, 0, 0, imm32()), bpfInsn(0x85, 0, 0, 0, BPF_FUZZ_HELPER_ID), bpfInsn(0xbf, 1, 9)]);
    } else if (useMaps) {
      // key = a small number on the stack at r10-8; r1 = map handle, r2 = key pointer, r3 = value pointer
      const map = int(2);
      const fn = pick([1, 1, 2, 3]);
      const seq: BpfInsn[] = [
        bpfInsn(0x7a, 10, 0, -8, int(4)), // *(u64 *)(r10 - 8) = key
        bpfInsn(0x7a, 10, 0, -16, imm32()), // value bytes
        ...bpfLddw(1, BigInt(map), 1),
        bpfInsn(0xbf, 2, 10),
        bpfInsn(0x07, 2, 0, 0, -8),
        bpfInsn(0xbf, 3, 10),
        bpfInsn(0x07, 3, 0, 0, -16),
        bpfInsn(0xb7, 4, 0, 0, int(3)),
        bpfInsn(0x85, 0, 0, 0, fn),
      ];
      if (fn === 1) {
        // if (r0 != 0) r6 = *(u32 *)r0 … then restore r1
        seq.push(bpfInsn(0x15, 0, 0, 2, 0), bpfInsn(0x61, 6, 0, 0, 0), bpfInsn(0xc3, 0, 7, 0, 0x00));
        seq.push(bpfInsn(0xb7, 0, 0, 0, 5));
      }
      // r1 is the input pointer for the rest of the program: take it back from r9.
      // r2/r3 held stack pointers: make them numbers again.
      seq.push(bpfInsn(0xbf, 1, 9), bpfInsn(0xb7, 2, 0, 0, imm32()), bpfInsn(0xb7, 3, 0, 0, imm32()));
      body.push(seq);
    } else {
      body.push([bpfInsn(0x05, 0, 0, -1 - int(4), 0)]); // forward ja, patched below
    }
  }
  // Flatten, patching jump offsets (marked by off < 0 on conditional/JA) to forward targets within the body.
  const flat: BpfInsn[] = [...pro];
  flat.push(bpfInsn(0xbf, 9, 1)); // r9 = r1
  const bodyStart = flat.length;
  const starts: number[] = [];
  for (const group of body) {
    starts.push(flat.length);
    flat.push(...group);
  }
  const end = flat.length; // the final exit
  for (let gi = 0; gi < body.length; gi++) {
    const group = body[gi]!;
    if (group.length !== 1) continue;
    const insn = group[0]!;
    const cls = insn.opcode & 7;
    const isJump = (cls === 5 || cls === 6) && insn.opcode !== 0x85 && insn.opcode !== 0x95;
    if (!isJump || insn.off >= 0) continue;
    const at = starts[gi]!;
    const skip = -insn.off; // 1..6 groups ahead
    const targetGroup = gi + skip;
    const target = targetGroup < starts.length ? starts[targetGroup]! : end;
    flat[at] = bpfInsn(insn.opcode, insn.dst, insn.src, target - at - 1, insn.imm);
  }
  void bodyStart;
  flat.push(bpfInsn(0x95));
  if (options.movePointer) {
    // Drawn last, so the other cases of a seed stay what they were.
    const k = 1 + int(8);
    for (let pc = pro.length + 1; pc < flat.length; pc++) {
      const i = flat[pc]!;
      const cls = i.opcode & 7;
      const viaR1 = (cls === 1 && i.src === 1) || ((cls === 2 || cls === 3) && i.dst === 1);
      if (viaR1) flat[pc] = bpfInsn(i.opcode, i.dst, i.src, i.off - k, i.imm);
    }
    flat.splice(pro.length, 0, bpfInsn(0x07, 1, 0, 0, k)); // r1 += k, before r9 = r1 keeps the copy moved too
  }
  return { insns: flat, memory, usesMaps: useMaps };
}
