// eBPF → x86-64 translation. One pass over the instructions with a fixed register map in the System V
// convention (as Linux arch/x86/net/bpf_jit_comp.c and uBPF do), so helper calls need no shuffling:
//   r0 rax · r1 rdi · r2 rsi · r3 rdx · r4 rcx · r5 r8 · r6 rbx · r7 r13 · r8 r14 · r9 r15 · r10 rbp
//   r12 = context block (layout.ts) · r9 = packet index of the batch loop · r10, r11 = scratch.
// Semantics are those of the interpreter (interpreter.ts), which follows RFC 9669; where the CPU differs we
// emit the fix-up: division by zero (§4.1: quotient 0, remainder = dividend), INT_MIN / −1 (x86 #DE: handled
// before idiv), 32-bit cmpxchg leaving rax's high half, shift counts (the CPU masks CL exactly as §4.1 asks).
// Every load/store is checked against the regions (packet, stack, maps) unless proven in bounds; the batch
// loop over a PacketBatch is part of the generated code, so a batch costs one call and one prologue.
import { NetworkError } from '../../errors.js';
import {
  BPF_PSEUDO_CALL,
  BPF_PSEUDO_FUNC,
  BPF_PSEUDO_MAP_FD,
  BPF_PSEUDO_MAP_IDX,
  BPF_PSEUDO_MAP_IDX_VALUE,
  BPF_PSEUDO_MAP_VALUE,
  bpfBranchOffset,
  bpfLddwValue,
  isBpfBranch,
  type BpfInsn,
} from '../isa.js';
import { prepareBpfCode } from '../interpreter.js';
import { BPF_REGION_CODE, BPF_REGION_MAP_HANDLE } from '../memory.js';
import { CTX, JIT_HELPER_SLOTS, JIT_MAX_MAPS, JIT_STATUS, REGION, regionField } from './layout.js';
import { ALU, CC, SHIFT, X64, X64Assembler, X64Label, type X64Mem, type X64Reg } from './x64.js';

/** Slots 0..n that some branch (conditional, JA, JA32) jumps to; n = past the end. */
function branchTargets(insns: readonly BpfInsn[], lddwSecond: Uint8Array): Uint8Array {
  const n = insns.length;
  const out = new Uint8Array(n + 1);
  for (let pc = 0; pc < n; pc++) {
    const i = insns[pc]!;
    if (lddwSecond[pc] || !isBpfBranch(i)) continue;
    const t = pc + 1 + bpfBranchOffset(i);
    if (t >= 0 && t <= n) out[t] = 1;
  }
  return out;
}

/** eBPF register → x86-64 register. */
export const BPF_TO_X64: readonly X64Reg[] = [X64.rax, X64.rdi, X64.rsi, X64.rdx, X64.rcx, X64.r8, X64.rbx, X64.r13, X64.r14, X64.r15, X64.rbp];
const CTXR = X64.r12;
/** The packet index of the batch loop: kept in a register so the loop carries no memory dependency. */
const IDX = X64.r9;
const T10 = X64.r10;
const T11 = X64.r11;

/** Options of the translator. */
export interface X64TranslateOptions {
  /**
   * Leave out the bounds checks of accesses proven in bounds (stack accesses through an unmodified r10 inside
   * the current frame; legacy packet loads carry their own length test). Default true; false checks everything.
   */
  proveSafe?: boolean;
  /** Accesses the verifier proved in bounds (verifier.ts `access[pc] === BPF_ACCESS_PROVED`): no check. */
  proved?: (pc: number) => boolean;
}

/** The machine code of one program and where each eBPF instruction went. */
export interface X64Translation {
  code: Uint8Array;
  /** Offset of the entry point `int64 entry(jit_ctx*)`. */
  entryOffset: number;
  /** Offset where the code of each pc starts (-1 for the second slot of LDDW). */
  pcOffsets: Int32Array;
  /** Offset where the program body ends and the shared stubs / cold paths begin. */
  bodyEnd: number;
  /** Loads/stores compiled with a run-time check, and those proven in bounds (no check). */
  checkedAccesses: number;
  provedAccesses: number;
  /** Helper ids the program calls statically. */
  helperIds: number[];
  /**
   * Whether the batch loop checks each packet's offset + length against the batch data itself: no longer (false
   * for every program); the shim checks all lanes in one vectorised pass before the run (~1 instruction per packet
   * instead of 3 in the loop).
   */
  checksLanes: boolean;
  /**
   * No calls and no stores outside the stack frame: nothing but the verdict stores can change the lanes during a
   * run, so the shim's up-front lane check needs only the verdicts to stay off the lanes.
   */
  sideEffectFree: boolean;
}

const SIZE_INDEX: Record<number, number> = { 1: 0, 2: 1, 4: 2, 8: 3 };

function sizeOf(opcode: number): 1 | 2 | 4 | 8 {
  switch (opcode & 0x18) {
    case 0x10:
      return 1;
    case 0x08:
      return 2;
    case 0x00:
      return 4;
    default:
      return 8;
  }
}

// Jump ops → x86 condition codes (unsigned: a/ae/b/be; signed: g/ge/l/le). JSET is `test` + ne.
const JCC: Record<number, number> = {
  0x10: CC.e, 0x20: CC.a, 0x30: CC.ae, 0x40: CC.ne, 0x50: CC.ne, 0x60: CC.g, 0x70: CC.ge,
  0xa0: CC.b, 0xb0: CC.be, 0xc0: CC.l, 0xd0: CC.le,
};

/** Whether instruction `insn` writes register r10 (allowed by the structural checks, never by the verifier). */
function writesR10(insn: BpfInsn): boolean {
  const cls = insn.opcode & 7;
  if (insn.dst !== 10) return false;
  return cls === 4 || cls === 7 || cls === 1 || insn.opcode === 0x18;
}

/**
 * Translates a program to x86-64. Throws VERIFIER_REJECTED for what no engine runs (the same structural checks
 * as the interpreter, `prepareBpfCode`) and UNSUPPORTED for programs beyond the native limits (maps > 62).
 */
export function translateBpfToX64(insns: readonly BpfInsn[], mapCount: number, options: X64TranslateOptions = {}): X64Translation {
  const prep = prepareBpfCode(insns, mapCount);
  if (mapCount > JIT_MAX_MAPS) {
    throw new NetworkError('UNSUPPORTED', `the native JIT handles at most ${JIT_MAX_MAPS} maps (program has ${mapCount})`, { field: 'maps' });
  }
  const proveSafe = options.proveSafe ?? true;
  const n = insns.length;
  const { funcStart, funcLen, lddwSecond } = prep;
  const r10Fixed = !insns.some((i, pc) => !lddwSecond[pc] && writesR10(i));
  const hasLocalCalls = insns.some((i, pc) => !lddwSecond[pc] && ((i.opcode === 0x85 && i.src === BPF_PSEUDO_CALL) || i.opcode === 0x8d));
  // Function 0 is entered only at depth 0 unless something can call it (call local / callx to pc 0).
  const mainReentrant = insns.some(
    (i, pc) => !lddwSecond[pc] && (i.opcode === 0x8d || (i.opcode === 0x85 && i.src === BPF_PSEUDO_CALL && pc + 1 + i.imm === 0)),
  );
  const hasAnyCall = insns.some((i, pc) => !lddwSecond[pc] && (i.opcode === 0x85 || i.opcode === 0x8d));
  const usesR10 = hasLocalCalls || insns.some((i, pc) => !lddwSecond[pc] && (i.dst === 10 || i.src === 10));
  const funcStarts: number[] = [];
  for (let pc = 0; pc < n; pc++) if (funcStart[pc] === pc) funcStarts.push(pc);

  const a = new X64Assembler();
  const labels: X64Label[] = Array.from({ length: n }, (_, i) => new X64Label(`pc${i}`));
  const pcOffsets = new Int32Array(n).fill(-1);
  const cold: (() => void)[] = [];
  const helperIds = new Set<number>();
  let checkedAccesses = 0;
  let provedAccesses = 0;

  const L = {
    loop: new X64Label('loop'),
    done: new X64Label('done'),
    mainExit: new X64Label('main_exit'),
    errorCommon: new X64Label('error_common'),
    oob: new X64Label('oob'),
    helperStatus: new X64Label('helper_status'),
    regionCheck: new X64Label('region_check'),
    ldAbsFail: new X64Label('ldabs_fail'),
  };
  const ctx = (disp: number): X64Mem => ({ base: CTXR, disp });

  /** Whether the access at pc needs no run-time check: stack slots through an unmodified r10 inside the current
   * frame, and what the verifier proved. */
  const facts = packetLengthFacts(insns, lddwSecond, proveSafe && !hasLocalCalls);
  const byIndirectTest = proveSafe ? indirectLoadsProved(insns, lddwSecond, facts) : new Uint8Array(n);
  const isProved = (pc: number, base: number, off: number, size: number): boolean =>
    proveSafe &&
    ((base === 10 && r10Fixed && off >= -512 && off + size <= 0) || byIndirectTest[pc] === 1 || (options.proved?.(pc) ?? false));
  // Packet access sizes used by checked loads/stores: only their limits are refreshed per packet.
  const sizesUsed = new Set<number>();
  let needsPacketRegion = hasAnyCall; // C helpers check pointers against region 0 too
  const noCallsAtAll = !hasAnyCall && !hasLocalCalls;
  // Liveness and jump targets for the peepholes (not with local calls: a callee returns to many places).
  const live = proveSafe && !hasLocalCalls ? liveRegisters(insns, lddwSecond) : null;
  /**
   * Entry copies the loop does itself: `mov rX, r1` / `mov rY, r2` at pc 0 and 1 (how every classic filter starts:
   * r6 = packet, r9 = length) with r1 / r2 dead afterwards. The loop then loads the packet's base / length straight
   * into rX / rY and the movs get no code (2 instructions per packet). entryCopy[1] / [2]: rX / rY, or -1.
   */
  const entryCopy = [-1, -1, -1];
  const entryCopied = new Uint8Array(n);
  if (live && noCallsAtAll) {
    const jumpedTo = branchTargets(insns, lddwSecond);
    for (let pc = 0; pc < Math.min(2, n); pc++) {
      const i = insns[pc]!;
      if (jumpedTo[pc] || i.opcode !== 0xbf || i.off !== 0 || (i.src !== 1 && i.src !== 2) || entryCopy[i.src] !== -1) break;
      if (i.dst === 1 || i.dst === 2 || i.dst === 10 || live[pc + 1]! & (1 << i.src)) break;
      entryCopy[i.src] = i.dst;
      entryCopied[pc] = 1;
    }
  }
  /**
   * A register holding the packet length at pc when every path proved len >= size - 1: then len - size + 1
   * needs no clamping and the access is checked against it right there, instead of against a limit the loop
   * computes for every packet (classic filters keep the length in r9 / X).
   */
  const lenRegAt = (pc: number, size: number): number => {
    if (!noCallsAtAll || facts.minLen[pc]! < size - 1) return -1;
    // Only r2 (set by the loop unless copied at entry) or a copy still live here: a copy nobody else reads gets
    // no code (dead ALU).
    const r = facts.lenRegs[pc]! & ((live?.[pc] ?? 0) | (entryCopy[2]! < 0 ? 1 << 2 : 0));
    if (r <= 0) return -1;
    return 31 - Math.clz32(r & -r);
  };
  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const i = insns[pc]!;
    const cls = i.opcode & 7;
    const base = cls === 1 ? i.src : i.dst;
    if ((cls === 1 || cls === 2 || cls === 3) && !isProved(pc, base, i.off, sizeOf(i.opcode))) {
      if (lenRegAt(pc, sizeOf(i.opcode)) < 0) sizesUsed.add(sizeOf(i.opcode));
      needsPacketRegion = true;
    }
    if (cls === 0 && i.opcode !== 0x18) needsPacketRegion = true; // legacy packet loads
  }

  // ---------------- where the loop state lives ----------------
  // Without calls, x86 registers of eBPF registers the program never names are free for the whole run: the
  // batch lanes' pointers and the current packet's base / access limits go there instead of the context block
  // (no per-packet stores, no pointer reloads). r1 / r2 hold the packet base / length at entry and stay the
  // packet's when the program never writes them. With calls everything stays in the context (helpers read
  // region 0 and the packet index from it).
  const noCalls = !hasAnyCall && !hasLocalCalls;
  let mentioned = 0;
  let written = 0;
  let hasLegacyLoads = false;
  const checkedSizeCount = new Map<number, number>();
  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const i = insns[pc]!;
    if (entryCopied[pc]) {
      mentioned |= 1 << i.dst; // its write is the loop's own (the packet's base / length)
      continue;
    }
    mentioned |= (1 << i.dst) | (1 << i.src);
    written |= writtenRegs(i);
    const cls = i.opcode & 7;
    if (cls === 0 && i.opcode !== 0x18) hasLegacyLoads = true;
    const base = cls === 1 ? i.src : i.dst;
    if ((cls === 1 || cls === 2 || cls === 3) && !isProved(pc, base, i.off, sizeOf(i.opcode)) && lenRegAt(pc, sizeOf(i.opcode)) < 0) {
      checkedSizeCount.set(sizeOf(i.opcode), (checkedSizeCount.get(sizeOf(i.opcode)) ?? 0) + 1);
    }
  }
  const pool: X64Reg[] = [];
  if (noCalls) for (const r of [3, 4, 5, 8, 7, 6, 9, 10]) if (!(mentioned & (1 << r)) && (r !== 10 || !usesR10)) pool.push(BPF_TO_X64[r]!);
  // r1 / r2 copied at entry and never named again: their x86 registers are free too.
  for (const r of [1, 2]) if (entryCopy[r]! >= 0 && !(mentioned & (1 << r))) pool.push(BPF_TO_X64[r]!);
  // Where the loop puts the packet's base and length: r1 / r2, or the registers they are copied to at entry.
  const pktReg = entryCopy[1]! >= 0 ? BPF_TO_X64[entryCopy[1]!]! : X64.rdi;
  const lenReg = entryCopy[2]! >= 0 ? BPF_TO_X64[entryCopy[2]!]! : X64.rsi;
  const pktBpf = entryCopy[1]! >= 0 ? entryCopy[1]! : 1;
  const lenBpf = entryCopy[2]! >= 0 ? entryCopy[2]! : 2;
  const take = (): X64Reg | null => pool.shift() ?? null;
  /** A loop-state value: in a register, or in the context block at `disp`. */
  type Loc = { reg: X64Reg } | { disp: number };
  const locOf = (reg: X64Reg | null, disp: number): Loc => (reg === null ? { disp } : { reg });
  const pbase: Loc = noCalls && !(written & (1 << pktBpf)) ? { reg: pktReg } : locOf(noCalls ? take() : null, regionField(0, REGION.BASE));
  const offsL = locOf(take(), CTX.B_OFFS);
  const lensL = locOf(take(), CTX.B_LENS);
  const verdL = locOf(take(), CTX.B_VERD);
  const limL = new Map<number, Loc>();
  for (const [sz] of [...checkedSizeCount].sort((x, y) => y[1] - x[1])) limL.set(sz, locOf(take(), regionField(0, REGION.LIM + SIZE_INDEX[sz]! * 8)));
  const plen: Loc = noCalls && !(written & (1 << lenBpf)) ? { reg: lenReg } : locOf(noCalls && hasLegacyLoads ? take() : null, regionField(0, REGION.LEN));
  const dataL = locOf(take(), CTX.B_DATA);
  // Side-effect free: no calls, every store a stack slot of the current frame.
  let sideEffectFree = noCalls;
  for (let pc = 0; pc < n && sideEffectFree; pc++) {
    if (lddwSecond[pc]) continue;
    const i = insns[pc]!;
    const cls = i.opcode & 7;
    const sz = sizeOf(i.opcode);
    if ((cls === 2 || cls === 3) && !(i.dst === 10 && r10Fixed && i.off >= -512 && i.off + sz <= 0)) sideEffectFree = false;
  }
  /** `op reg, loc` for the ALU group. */
  const aluLoc = (op: number, reg: X64Reg, l: Loc) => {
    if ('reg' in l) a.aluRR(op, 64, reg, l.reg);
    else a.aluRM(op, 64, reg, ctx(l.disp));
  };
  /** A lane element [lane + IDX * 4]: through T10 when the lane pointer is in the context. */
  const laneElem = (l: Loc): X64Mem => {
    if ('reg' in l) return { base: l.reg, index: IDX, scale: 4, disp: 0 };
    a.load(64, T10, ctx(l.disp));
    return { base: T10, index: IDX, scale: 4, disp: 0 };
  };

  // ---------------- prologue and the batch loop ----------------
  const entryOffset = a.size;
  for (const r of [X64.rbx, X64.rbp, X64.r12, X64.r13, X64.r14, X64.r15]) a.push(r);
  a.aluRI(ALU.sub, 64, X64.rsp, 8); // return address + 6 pushes + 8 = 64: rsp 16-aligned in the loop
  a.movRR(64, CTXR, X64.rdi);
  a.store(64, ctx(CTX.SAVED_RSP), X64.rsp);
  // The packet index stays in r9 for the whole batch (saved around helper calls and divisions);
  // ctx.b_index gets a copy for helpers written in TypeScript.
  a.load(64, IDX, ctx(CTX.B_INDEX));
  for (const [l, disp] of [[offsL, CTX.B_OFFS], [lensL, CTX.B_LENS], [verdL, CTX.B_VERD], [dataL, CTX.B_DATA]] as const) {
    if ('reg' in l) a.load(64, l.reg, ctx(disp));
  }
  // Without calls nothing reads the packet index during the run: it counts from -count up to 0 over lane pointers
  // advanced by count, so the back edge is `add` + `js` (no compare with the count); error paths add count back.
  const countDown = noCalls && 'reg' in offsL && 'reg' in lensL && 'reg' in verdL;
  if (countDown) {
    a.load(64, T10, ctx(CTX.B_COUNT));
    for (const l of [offsL, lensL, verdL]) if ('reg' in l) a.lea(l.reg, { base: l.reg, index: T10, scale: 4, disp: 0 });
    a.aluRR(ALU.sub, 64, IDX, T10);
  }
  a.bind(L.loop);
  if (countDown) {
    a.testRR(64, IDX, IDX);
    a.jcc(CC.ns, L.done);
  } else {
    a.aluRM(ALU.cmp, 64, IDX, ctx(CTX.B_COUNT));
    a.jcc(CC.ae, L.done);
  }
  const loopBody = new X64Label('loop_body');
  a.bind(loopBody);
  if (hasAnyCall) a.store(64, ctx(CTX.B_INDEX), IDX);
  a.load(32, pktReg, laneElem(offsL));
  a.load(32, lenReg, laneElem(lensL));
  // offset + length inside the batch data: checked by the shim for every lane before the run.
  aluLoc(ALU.add, pktReg, dataL);
  if (!noCalls) {
    // Helpers find the packet through region 0.
    if (needsPacketRegion) {
      a.store(64, ctx(regionField(0, REGION.BASE)), X64.rdi);
      a.store(64, ctx(regionField(0, REGION.LEN)), X64.rsi);
    }
  } else {
    // The packet base for checked accesses and legacy loads, the length for legacy loads. Every checked access
    // subtracts the base, also those checked against a length register (no per-size limit, so not in sizesUsed).
    if (needsPacketRegion) {
      if ('reg' in pbase) {
        if (pbase.reg !== pktReg) a.movRR(64, pbase.reg, pktReg);
      } else a.store(64, ctx(pbase.disp), pktReg);
    }
    if (hasLegacyLoads) {
      if ('reg' in plen) {
        if (plen.reg !== lenReg) a.movRR(64, plen.reg, lenReg);
      } else a.store(64, ctx(plen.disp), lenReg);
    }
  }
  if ([...sizesUsed].some((x) => x > 1)) a.aluRR(ALU.xor, 32, T11, T11);
  for (const s of [1, 2, 4, 8]) {
    if (!sizesUsed.has(s)) continue;
    // lim = len - size + 1, or 0 when the packet is shorter than the access (then no offset passes).
    const l = limL.get(s) ?? { disp: regionField(0, REGION.LIM + SIZE_INDEX[s]! * 8) };
    const r = 'reg' in l ? l.reg : T10;
    a.movRR(64, r, lenReg);
    if (s > 1) {
      a.aluRI(ALU.sub, 64, r, s - 1);
      a.cmov(CC.b, 64, r, T11);
    }
    if (!('reg' in l)) a.store(64, ctx(l.disp), T10);
  }
  if (usesR10) a.load(64, X64.rbp, ctx(CTX.FRAME0_TOP));
  if (prep.hasBackEdges || hasLocalCalls) {
    a.load(64, T10, ctx(CTX.BUDGET_INIT));
    a.store(64, ctx(CTX.BUDGET), T10);
  }
  if (hasLocalCalls) a.storeImm(64, ctx(CTX.DEPTH), 0);
  // Every register but r1, r2, r10 starts at 0, as in the interpreter: zero those some path may read first.
  const mayReadUndefined = hasLocalCalls ? 0x3f9 : undefinedReads(insns, lddwSecond);
  for (const r of [0, 3, 4, 5, 6, 7, 8, 9]) {
    if (mayReadUndefined & (1 << r) && r !== entryCopy[1] && r !== entryCopy[2]) a.aluRR(ALU.xor, 32, BPF_TO_X64[r]!, BPF_TO_X64[r]!);
  }
  // The program body follows right here (pc 0 falls through from the loop head).

  /** main_exit (r0 in rax → verdict, next packet) and done (restore and return), placed after the body. */
  /** Verdict of this packet, then the loop's back edge to the next one (falls through when the batch is done). */
  function emitVerdictAndNext(imm?: number): void {
    if (imm === undefined) a.store(32, laneElem(verdL), X64.rax);
    else a.storeImm(32, laneElem(verdL), imm);
    a.aluRI(ALU.add, 64, IDX, 1);
    if (countDown) a.jcc(CC.s, loopBody);
    else {
      a.aluRM(ALU.cmp, 64, IDX, ctx(CTX.B_COUNT));
      a.jcc(CC.b, loopBody);
    }
  }
  function emitExitAndDone(): void {
    a.bind(L.mainExit);
    emitVerdictAndNext();
    a.bind(L.done);
    a.store(64, ctx(CTX.R0), X64.rax); // r0 of the last packet: the result of a single run
    a.load(64, X64.rsp, ctx(CTX.SAVED_RSP));
    a.load(64, X64.rax, ctx(CTX.ERR_COUNT));
    a.aluRI(ALU.add, 64, X64.rsp, 8);
    for (const r of [X64.r15, X64.r14, X64.r13, X64.r12, X64.rbp, X64.rbx]) a.pop(r);
    a.ret();
  }

  // ---------------- helpers for emitting instructions ----------------
  const R = (r: number): X64Reg => BPF_TO_X64[r]!;

  /** A run-time error at pc: fill status/pc (and size) and go to the common error path. */
  function errorStub(status: number, pc: number, extra?: () => void): X64Label {
    const l = new X64Label(`err${pc}`);
    cold.push(() => {
      a.bind(l);
      a.storeImm(64, ctx(CTX.STATUS), status);
      a.storeImm(64, ctx(CTX.ERR_PC), pc);
      extra?.();
      a.jmp(L.errorCommon);
    });
    return l;
  }

  /** Charges the budget; on exhaustion, error at pc. */
  function chargeBudget(amount: number, pc: number): void {
    a.aluMI(ALU.sub, 64, ctx(CTX.BUDGET), amount);
    a.jcc(CC.l, errorStub(JIT_STATUS.BUDGET, pc));
  }

  /**
   * Computes the checked address of an access into r11 and returns the memory operand to use.
   * Proven stack accesses use [rbp + off] directly.
   */
  function memOperand(base: number, off: number, size: 1 | 2 | 4 | 8, write: boolean, pc: number): X64Mem {
    if (isProved(pc, base, off, size)) {
      provedAccesses++;
      if (pc === fusedAdd.pc) return { base: R(fusedAdd.src), index: R(base), scale: 1, disp: off };
      return { base: R(base), disp: off };
    }
    checkedAccesses++;
    const si = SIZE_INDEX[size]!;
    // offset in the packet = address - base; in bounds when below lim[size] (an address below the base wraps).
    const m: X64Mem = { base: R(base), disp: off };
    if (off === 0) a.movRR(64, T10, R(base));
    else a.lea(T10, m);
    aluLoc(ALU.sub, T10, pbase);
    const lr = lenRegAt(pc, size);
    if (lr >= 0) {
      // lim = len - size + 1 from the length register (len >= size - 1 is proved here).
      if (size === 1) a.aluRR(ALU.cmp, 64, T10, R(lr));
      else {
        a.lea(T11, { base: R(lr), disp: 1 - size });
        a.aluRR(ALU.cmp, 64, T10, T11);
      }
    } else aluLoc(ALU.cmp, T10, limL.get(size) ?? { disp: regionField(0, REGION.LIM + si * 8) });
    const coldL = new X64Label(`chk${pc}`);
    const hot = new X64Label(`hot${pc}`);
    a.jcc(CC.ae, coldL);
    a.bind(hot);
    cold.push(() => {
      a.bind(coldL);
      a.lea(T11, m);
      a.movRI32(T10, si | (write ? 4 : 0));
      a.call(L.regionCheck);
      a.testRR(32, T10, T10);
      a.jcc(CC.e, hot);
      a.storeImm(64, ctx(CTX.ERR_PC), pc);
      a.storeImm(64, ctx(CTX.ERR_SIZE), size | (write ? 0x100 : 0));
      a.jmp(L.oob);
    });
    return m;
  }

  /** r11 = the 64-bit (or zero-extended 32-bit) value of the second operand. */
  function loadOperand(insn: BpfInsn, w: 32 | 64, into: X64Reg): void {
    if (insn.opcode & 8) a.movRR(w, into, R(insn.src));
    else if (w === 64) a.movImm(into, BigInt(insn.imm));
    else a.movRI32(into, insn.imm >>> 0);
  }

  function emitDivMod(insn: BpfInsn, w: 32 | 64, isMod: boolean): void {
    const d = R(insn.dst);
    const signed = insn.off === 1;
    const x = (insn.opcode & 8) !== 0;
    if (!x && insn.imm === 0) {
      // Known division by zero: RFC 9669 §4.1 — quotient 0, remainder = dividend (32-bit: zero-extended).
      if (!isMod) a.aluRR(ALU.xor, 32, d, d);
      else if (w === 32) a.movRR(32, d, d);
      return;
    }
    if (x) a.movRR(w, T11, R(insn.src));
    else if (w === 64) a.movRI64sx(T11, insn.imm);
    else a.movRI32(T11, insn.imm >>> 0);
    a.push(X64.rax);
    a.movRR(64, T10, X64.rdx);
    a.movRR(w, X64.rax, d);
    const zero = new X64Label();
    const neg1 = new X64Label();
    const fin = new X64Label();
    a.testRR(w, T11, T11);
    a.jcc(CC.e, zero);
    if (signed) {
      a.aluRI(ALU.cmp, w, T11, -1);
      a.jcc(CC.e, neg1);
      a.signExtendAx(w);
    } else {
      a.aluRR(ALU.xor, 32, X64.rdx, X64.rdx);
    }
    a.div(w, T11, signed);
    if (isMod) a.movRR(w, X64.rax, X64.rdx);
    a.jmp(fin);
    if (signed) {
      // x / -1 = -x (INT_MIN wraps to itself), x % -1 = 0: idiv would raise #DE on INT_MIN / -1.
      a.bind(neg1);
      if (isMod) a.aluRR(ALU.xor, 32, X64.rax, X64.rax);
      else a.neg(w, X64.rax);
      a.jmp(fin);
    }
    a.bind(zero);
    if (!isMod) a.aluRR(ALU.xor, 32, X64.rax, X64.rax);
    a.bind(fin);
    a.movRR(64, T11, X64.rax);
    a.pop(X64.rax);
    a.movRR(64, X64.rdx, T10);
    a.movRR(64, d, T11);
  }

  function emitShift(insn: BpfInsn, w: 32 | 64, op: number): void {
    const d = R(insn.dst);
    if (!(insn.opcode & 8)) {
      const count = insn.imm & (w === 64 ? 63 : 31);
      if (count !== 0) a.shiftRI(op, w, d, count);
      else if (w === 32) a.movRR(32, d, d);
      return;
    }
    const s = R(insn.src);
    if (s === X64.rcx) {
      a.shiftRCL(op, w, d);
    } else if (d === X64.rcx) {
      a.movRR(64, T11, X64.rcx);
      a.movRR(64, X64.rcx, s);
      a.shiftRCL(op, w, T11);
      a.movRR(64, X64.rcx, T11);
    } else {
      a.movRR(64, T11, X64.rcx);
      a.movRR(64, X64.rcx, s);
      a.shiftRCL(op, w, d);
      a.movRR(64, X64.rcx, T11);
    }
    // A 32-bit shift by a count of 0 must still clear the high half (RFC 9669 §4.1: 32-bit results zero-extend).
    if (w === 32) a.movRR(32, d, d);
  }

  function emitHelperCallStatic(id: number, pc: number): void {
    helperIds.add(id);
    a.storeImm(64, ctx(CTX.CALL_PC), pc);
    a.storeImm(64, ctx(CTX.CUR_HELPER), id);
    emitHelperCallSlot(id < JIT_HELPER_SLOTS ? id : 0);
  }

  // The interpreter keeps r1..r5 across helper calls (the verifier makes them unreadable anyway): save them so
  // even unverified programs see the same values on every engine; r9 (packet index) too. rsp is 16-aligned
  // in the loop and in every callee body (see emitLocalCall), and 6 pushes keep it so at the `call` (System V
  // §3.2.2). The context goes in r9, the 6th argument.
  function emitHelperCallSlot(slot: number | null): void {
    for (const r of [X64.rdi, X64.rsi, X64.rdx, X64.rcx, X64.r8, IDX]) a.push(r);
    a.movRR(64, X64.r9, CTXR);
    if (slot === null) a.callMem({ base: CTXR, index: T11, scale: 8, disp: CTX.HELPERS });
    else a.callMem(ctx(CTX.HELPERS + slot * 8));
    for (const r of [IDX, X64.r8, X64.rcx, X64.rdx, X64.rsi, X64.rdi]) a.pop(r);
    a.aluMI(ALU.cmp, 64, ctx(CTX.STATUS), 0);
    a.jcc(CC.ne, L.helperStatus);
  }

  const funcLabels = new Map<number, X64Label>();
  function emitLocalCall(target: number, pc: number): void {
    chargeBudget(funcLen[target]!, pc);
    a.aluMI(ALU.cmp, 64, ctx(CTX.DEPTH), 7);
    a.jcc(CC.ae, errorStub(JIT_STATUS.DEPTH, pc));
    a.aluMI(ALU.add, 64, ctx(CTX.DEPTH), 1);
    // r6..r9 and r10 survive the call (RFC 9669 §4.3.1 / the interpreter's frame save); 5 pushes + return
    // address = 48 bytes, so the callee body runs with rsp 16-aligned like the loop.
    for (const r of [X64.rbx, X64.r13, X64.r14, X64.r15, X64.rbp]) a.push(r);
    a.aluRI(ALU.add, 64, X64.rbp, 512);
    a.call(labels[target]!);
    for (const r of [X64.rbp, X64.r15, X64.r14, X64.r13, X64.rbx]) a.pop(r);
  }

  // ---------------- the program body ----------------
  const isTarget = branchTargets(insns, lddwSecond);
  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const i = insns[pc]!;
    if (i.opcode === 0x85 && i.src === BPF_PSEUDO_CALL) isTarget[pc + 1 + i.imm] = 1;
    if (funcStart[pc] === pc) isTarget[pc] = 1;
  }
  /**
   * `add d, s` (64-bit) right before a proved load through d, with d dead after the load (or its destination):
   * the add gets no code and the load addresses [s + d + off] (classic indirect loads add the packet base so).
   */
  const fusedAdd = { pc: -1, src: 0 };
  function tryFuseAddLoad(pc: number): boolean {
    const add = insns[pc]!;
    const ld = insns[pc + 1];
    if (!live || !ld || isTarget[pc + 1] || add.opcode !== 0x0f || add.dst === 10 || (ld.opcode & 7) !== 1 || ld.src !== add.dst) return false;
    if (live[pc + 2]! & (1 << add.dst) && ld.dst !== add.dst) return false;
    if (!isProved(pc + 1, ld.src, ld.off, sizeOf(ld.opcode))) return false;
    fusedAdd.pc = pc + 1;
    fusedAdd.src = add.src;
    return true;
  }

  // Predecessor count per pc (fall-through and jump edges), for the byte-swap peephole below.
  const preds = new Uint8Array(n + 1);
  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const i = insns[pc]!;
    const isJump = isBpfBranch(i);
    if (i.opcode !== 0x95 && !(isJump && (i.opcode & 0xf0) === 0x00)) preds[Math.min(n, pc + (i.opcode === 0x18 ? 2 : 1))]! += 1;
    if (isJump) {
      const t = pc + 1 + bpfBranchOffset(i);
      if (t >= 0 && t <= n) preds[t] = Math.min(255, preds[t]! + 1);
    }
  }
  /** Jumps whose immediate is compared byte-swapped (see swappedTests). */
  const swapImm = new Map<number, number>();
  /**
   * `ldxh d + be16 d` whose value is only ever tested for equality / jset against immediates (the EtherType
   * dispatch of classic filters: `jeq 0x86dd`, then `jeq 0x800` on the other branch): compare the raw load with
   * byte-swapped immediates instead of swapping the register. Every test must be reached only from the load (one
   * predecessor each, no loops); returns the tests' pcs, or null when the pattern does not apply.
   */
  function swappedTests(start: number, reg: number): number[] | null {
    if (!live) return null;
    const tests: number[] = [];
    const seen = new Set<number>();
    const visit = (pc: number): boolean => {
      if (pc >= n || !(live[pc]! & (1 << reg))) return true;
      if (seen.has(pc) || tests.length > 8 || preds[pc] !== 1 || (pc === start && isTarget[pc])) return false;
      seen.add(pc);
      const i = insns[pc]!;
      const op = i.opcode;
      const c = op & 7;
      const jop = op & 0xf0;
      if (op === 0x05 && i.off >= 0) return visit(pc + 1 + i.off);
      if ((c !== 5 && c !== 6) || op & 8 || i.dst !== reg || i.off < 0 || facts.jumpFate[pc] !== 0) return false;
      if (jop !== 0x10 && jop !== 0x50 && jop !== 0x40) return false;
      const imm = c === 6 ? i.imm >>> 0 : i.imm;
      if (jop !== 0x40 && (imm < 0 || imm > 0xffff)) return false;
      tests.push(pc);
      return visit(pc + 1) && visit(pc + 1 + i.off);
    };
    return visit(start) && tests.length > 0 ? tests : null;
  }

  /** Whether pc is an `exit` of the main function at depth 0 that nothing jumps to (its verdict store may be folded). */
  const mainExitAt = (pc: number): boolean =>
    pc < n && insns[pc]!.opcode === 0x95 && !isTarget[pc] && funcStart[pc] === 0 && !mainReentrant;

  /**
   * `lsh32 d, k` (k = 1..3) + `mov32 r, d` (+ `add32 r, imm`) with d dead afterwards: one `lea r32, [d*2^k + imm]`
   * (classic MSH: X = 4 * (P[k] & 0xf), then A = X + k for the indirect load). 32-bit wrap-around is lea's own.
   */
  function tryScaledLea(pc: number): boolean {
    const sh = insns[pc]!;
    const mv = insns[pc + 1];
    if (!live || !mv || isTarget[pc + 1] || sh.imm < 1 || sh.imm > 3 || sh.dst === 10) return false;
    if (mv.opcode !== 0xbc || mv.off !== 0 || mv.src !== sh.dst || mv.dst === sh.dst || mv.dst === 10) return false;
    const ad = insns[pc + 2];
    const withAdd = !!ad && !isTarget[pc + 2] && ad.opcode === 0x04 && ad.dst === mv.dst;
    if (live[pc + (withAdd ? 3 : 2)]! & (1 << sh.dst)) return false;
    a.lea32Scaled(R(mv.dst), R(sh.dst), (1 << sh.imm) as 2 | 4 | 8, withAdd ? ad.imm : 0);
    folded[pc + 1] = 1;
    if (withAdd) folded[pc + 2] = 1;
    return true;
  }

  /** Instructions folded into an earlier one's code (a load compared in memory, a load's byte swap) or the loop's. */
  const folded = entryCopied.slice();

  /**
   * `ldx{b,h,w} d, [m]` (+ `be16/be32 d`) + `jXX d, imm` with d dead afterwards: compare in memory
   * (`cmp/test [m], imm`), no register load. Equality and jset survive a byte swap (swap the immediate);
   * unsigned order tests only without one. Returns false when the pattern does not apply.
   */
  function tryFoldLoadCompare(pc: number): boolean {
    if (!live) return false;
    const ld = insns[pc]!;
    const size = sizeOf(ld.opcode);
    if ((ld.opcode & 0xe0) !== 0x60 || size === 8) return false;
    let j = pc + 1;
    let swap = false;
    const nx = insns[j];
    if (size > 1 && nx && !isTarget[j] && (nx.opcode === 0xdc || nx.opcode === 0xd7) && nx.dst === ld.dst && nx.imm === size * 8) {
      swap = true;
      j++;
    }
    const jmp = insns[j];
    if (!jmp || isTarget[j]) return false;
    const op = jmp.opcode;
    const cls = op & 7;
    const jop = op & 0xf0;
    if ((cls !== 5 && cls !== 6) || op & 8 || jmp.dst !== ld.dst || jmp.off < 0 || op === 0x85 || op === 0x8d || op === 0x95 || jop === 0x00) return false;
    const target = j + 1 + jmp.off;
    if ((live[j + 1]! | live[target]!) & (1 << ld.dst)) return false;
    const max = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    // The value compared: the loaded one zero-extended; JMP32 sees imm as u32, JMP as sign-extended 64 bits.
    const u = cls === 6 ? jmp.imm >>> 0 : jmp.imm;
    let imm: number;
    if (jop === 0x40) imm = (jmp.imm >>> 0) & max;
    else if (jop === 0x10 || jop === 0x50 || (!swap && (jop === 0x20 || jop === 0x30 || jop === 0xa0 || jop === 0xb0))) {
      if (u < 0 || u > max) return false;
      imm = u;
    } else return false;
    if (swap) imm = size === 2 ? ((imm & 0xff) << 8) | (imm >>> 8) : (((imm & 0xff) << 24) | ((imm & 0xff00) << 8) | ((imm >>> 8) & 0xff00) | (imm >>> 24)) >>> 0;
    const m = memOperand(ld.src, ld.off, size, false, pc);
    a.cmpTestMI(jop === 0x40, (size * 8) as 8 | 16 | 32, m, imm);
    a.jcc(JCC[jop]!, labels[target]!);
    for (let k = pc + 1; k <= j; k++) folded[k] = 1;
    return true;
  }

  for (let pc = 0; pc < n; pc++) {
    if (lddwSecond[pc]) continue;
    const insn = insns[pc]!;
    a.bind(labels[pc]!);
    pcOffsets[pc] = a.size;
    if (funcStart[pc] === pc) funcLabels.set(pc, labels[pc]!);
    if (folded[pc]) continue;
    const op = insn.opcode;
    const cls = op & 7;
    const d = R(insn.dst);
    // A pure ALU result nobody reads (classic filters zero A and X up front) needs no code.
    if (live && (cls === 4 || cls === 7) && insn.dst !== 10 && !(live[pc + 1]! & (1 << insn.dst))) continue;
    switch (cls) {
      case 4: // ALU (32-bit)
      case 7: {
        // ALU64
        const w: 32 | 64 = cls === 7 ? 64 : 32;
        const aop = op & 0xf0;
        const x = (op & 8) !== 0;
        switch (aop) {
          case 0x00: case 0x10: case 0x40: case 0x50: case 0xa0: {
            if (op === 0x0f && tryFuseAddLoad(pc)) break;
            const alu = aop === 0x00 ? ALU.add : aop === 0x10 ? ALU.sub : aop === 0x40 ? ALU.or : aop === 0x50 ? ALU.and : ALU.xor;
            if (x) a.aluRR(alu, w, d, R(insn.src));
            else a.aluRI(alu, w, d, insn.imm);
            break;
          }
          case 0x20:
            if (x) a.imulRR(w, d, R(insn.src));
            else a.imulRRI(w, d, d, insn.imm);
            break;
          case 0x30:
            emitDivMod(insn, w, false);
            break;
          case 0x90:
            emitDivMod(insn, w, true);
            break;
          case 0x60:
            if (op === 0x64 && tryScaledLea(pc)) break;
            emitShift(insn, w, SHIFT.shl);
            break;
          case 0x70:
            emitShift(insn, w, SHIFT.shr);
            break;
          case 0xc0:
            emitShift(insn, w, SHIFT.sar);
            break;
          case 0x80:
            a.neg(w, d);
            break;
          case 0xb0:
            if (!x && insn.dst === 0 && mainExitAt(pc + 1)) {
              // `mov r0, K; exit`: the verdict K goes to memory as an immediate; r0 itself is only needed once the
              // batch is done (the last packet's r0 is a single run's result).
              emitVerdictAndNext(insn.imm);
              a.movImm(X64.rax, w === 64 ? BigInt(insn.imm) : BigInt(insn.imm >>> 0));
              a.jmp(L.done);
              folded[pc + 1] = 1;
            } else if (!x) {
              // movImm uses `xor r, r` for 0: flags are never live across eBPF instructions here.
              if (w === 64) a.movImm(d, BigInt(insn.imm));
              else a.movImm(d, BigInt(insn.imm >>> 0));
            } else if (insn.off === 0) {
              const nx = insns[pc + 1];
              if (live && nx && !isTarget[pc + 1] && nx.opcode === (w === 64 ? 0x07 : 0x04) && nx.dst === insn.dst && insn.src !== insn.dst && live[pc + 2]! & (1 << insn.dst)) {
                // mov d, s + add d, imm = lea d, [s + imm] (32-bit: the low half, zero-extended); flags are
                // never live across eBPF instructions. Classic indirect loads compute X + k this way.
                if (w === 64) a.lea(d, { base: R(insn.src), disp: nx.imm });
                else a.lea32(d, { base: R(insn.src), disp: nx.imm });
                folded[pc + 1] = 1;
              } else a.movRR(w, d, R(insn.src));
            } else {
              // MOVSX (RFC 9669 §4.1): sign-extend the low 8/16/32 bits of src.
              a.movsxRR(insn.off as 8 | 16 | 32, w, d, R(insn.src));
            }
            break;
          case 0xd0: {
            const width = insn.imm;
            if (op === 0xd4) {
              // to little-endian: a truncation on this host
              if (width === 16) a.movzxRR(16, d, d);
              else if (width === 32) a.movRR(32, d, d);
            } else {
              // 0xdc (to big-endian) and 0xd7 (bswap): a byte swap on this host
              if (width === 16) {
                // bswap puts the swapped low 16 bits on top; the shift brings them down zero-extended.
                a.bswap(32, d);
                a.shiftRI(SHIFT.shr, 32, d, 16);
              } else if (width === 32) a.bswap(32, d);
              else a.bswap(64, d);
            }
            break;
          }
          default:
            throw new NetworkError('VERIFIER_REJECTED', `unknown ALU op 0x${op.toString(16)} at pc ${pc}`, { pc });
        }
        break;
      }
      case 0: {
        // LD: LDDW and the legacy packet loads
        if (op === 0x18) {
          const next = insns[pc + 1]!.imm >>> 0;
          switch (insn.src) {
            case 0:
              a.movImm(d, bpfLddwValue(insns, pc));
              break;
            case BPF_PSEUDO_MAP_FD:
            case BPF_PSEUDO_MAP_IDX:
              a.movImm(d, (BigInt(BPF_REGION_MAP_HANDLE) << 32n) | BigInt(insn.imm >>> 0));
              break;
            case BPF_PSEUDO_MAP_VALUE:
            case BPF_PSEUDO_MAP_IDX_VALUE:
              // The host address of the map's value storage + the offset in the second slot.
              a.load(64, d, ctx(regionField(2 + insn.imm, REGION.BASE)));
              if (next !== 0) {
                a.movRI32(T11, next);
                a.aluRR(ALU.add, 64, d, T11);
              }
              break;
            case BPF_PSEUDO_FUNC:
              a.movImm(d, (BigInt(BPF_REGION_CODE) << 32n) | BigInt((pc + 1 + insn.imm) >>> 0));
              break;
            default:
              throw new NetworkError('VERIFIER_REJECTED', `lddw src ${insn.src} at pc ${pc} is not supported`, { pc });
          }
          break;
        }
        // LD_ABS / LD_IND (RFC 9669 §5.5, Linux semantics): offset = imm (+ src, 32-bit wrap); out of range
        // ends the program with r0 = 0; the load is big-endian.
        const size = sizeOf(op);
        let m: X64Mem;
        const k = insn.imm >>> 0;
        if ((op & 0xe0) === 0x20 && k + size <= 0x7fffffff) {
          // Constant offset: one compare with the length (none when a dominating test covered it), then [base + k].
          if (!facts.ldAbsKnown[pc]) {
            if ('reg' in plen) a.aluRI(ALU.cmp, 64, plen.reg, k + size);
            else a.aluMI(ALU.cmp, 64, ctx(plen.disp), k + size);
            a.jcc(CC.b, L.ldAbsFail);
          }
          if ('reg' in pbase) m = { base: pbase.reg, disp: k };
          else {
            a.load(64, T11, ctx(pbase.disp));
            m = { base: T11, disp: k };
          }
        } else {
          if ((op & 0xe0) === 0x40) {
            a.movRR(32, T11, R(insn.src));
            a.aluRI(ALU.add, 32, T11, insn.imm);
          } else {
            a.movRI32(T11, k);
          }
          a.lea(T10, { base: T11, disp: size });
          aluLoc(ALU.cmp, T10, plen);
          a.jcc(CC.a, L.ldAbsFail);
          aluLoc(ALU.add, T11, pbase);
          m = { base: T11, disp: 0 };
        }
        if (size === 1) a.load(8, X64.rax, m);
        else if (size === 2) {
          a.load(16, X64.rax, m);
          a.rol16By8(X64.rax);
        } else {
          a.load(32, X64.rax, m);
          a.bswap(32, X64.rax);
        }
        break;
      }
      case 1: {
        // LDX (MEM and MEMSX)
        if (tryFoldLoadCompare(pc)) break;
        const size = sizeOf(op);
        const m = memOperand(insn.src, insn.off, size, false, pc);
        if ((op & 0xe0) === 0x80) a.loadSx((size * 8) as 8 | 16 | 32, d, m);
        else a.load((size * 8) as 8 | 16 | 32 | 64, d, m);
        const nx = insns[pc + 1];
        if (size === 2 && (op & 0xe0) === 0x60 && nx && !isTarget[pc + 1] && (nx.opcode === 0xdc || nx.opcode === 0xd7) && nx.dst === insn.dst && nx.imm === 16) {
          // ldxh + be16: the upper bits are already zero, a 16-bit rotate is the whole swap; none when every
          // reader is an equality test against an immediate (swapped instead).
          const tests = swappedTests(pc + 2, insn.dst);
          if (tests) for (const t of tests) swapImm.set(t, ((insns[t]!.imm & 0xff) << 8) | ((insns[t]!.imm >>> 8) & 0xff));
          else a.rol16By8(d);
          folded[pc + 1] = 1;
        }
        break;
      }
      case 2: {
        // ST imm
        const size = sizeOf(op);
        const m = memOperand(insn.dst, insn.off, size, true, pc);
        a.storeImm((size * 8) as 8 | 16 | 32 | 64, m, size === 1 ? insn.imm & 0xff : size === 2 ? insn.imm & 0xffff : insn.imm);
        break;
      }
      case 3: {
        const size = sizeOf(op);
        const s = R(insn.src);
        if ((op & 0xe0) === 0x60) {
          const m = memOperand(insn.dst, insn.off, size, true, pc);
          a.store((size * 8) as 8 | 16 | 32 | 64, m, s);
          break;
        }
        // ATOMIC (RFC 9669 §5.3), 32 or 64 bits, always `lock`ed (xchg locks implicitly).
        const w: 32 | 64 = size === 8 ? 64 : 32;
        const m = memOperand(insn.dst, insn.off, size, true, pc);
        const aop = insn.imm;
        switch (aop) {
          case 0x00: a.lockAlu(ALU.add, w, m, s); break;
          case 0x40: a.lockAlu(ALU.or, w, m, s); break;
          case 0x50: a.lockAlu(ALU.and, w, m, s); break;
          case 0xa0: a.lockAlu(ALU.xor, w, m, s); break;
          case 0x01: a.lockXadd(w, m, s); break;
          case 0xe1: a.xchgMR(w, m, s); break;
          case 0xf1:
            a.lockCmpxchg(w, m, s);
            // A 32-bit cmpxchg that succeeds leaves rax untouched; r0 must be the zero-extended old value.
            if (w === 32) a.movRR(32, X64.rax, X64.rax);
            break;
          case 0x41: case 0x51: case 0xa1: {
            // fetch-or/and/xor: a cmpxchg loop with rax as the expected value.
            const alu = aop === 0x41 ? ALU.or : aop === 0x51 ? ALU.and : ALU.xor;
            // rax is saved on the stack; a source or base register that is rax is read from there / r11.
            let mm = m;
            if (mm.base === X64.rax) {
              a.lea(T11, mm);
              mm = { base: T11, disp: 0 };
            }
            a.push(X64.rax);
            a.load(w, X64.rax, mm);
            const retry = new X64Label();
            a.bind(retry);
            a.movRR(64, T10, X64.rax);
            if (s === X64.rax) a.aluRM(alu, w, T10, { base: X64.rsp, disp: 0 });
            else a.aluRR(alu, w, T10, s);
            a.lockCmpxchg(w, mm, T10);
            a.jcc(CC.ne, retry);
            a.movRR(64, T10, X64.rax);
            a.pop(X64.rax);
            a.movRR(w, s, T10);
            break;
          }
          default:
            throw new NetworkError('VERIFIER_REJECTED', `unknown atomic op 0x${(aop >>> 0).toString(16)} at pc ${pc}`, { pc });
        }
        break;
      }
      case 5:
      case 6: {
        const jop = op & 0xf0;
        if (op === 0x95) {
          // exit: code of function 0 only ever runs at depth 0; later functions may be entered by fall-through.
          if (funcStart[pc] === 0 && !mainReentrant) {
            // The verdict store and the back edge right here: no jump to a shared exit on the hot path.
            emitVerdictAndNext();
            a.jmp(L.done);
          } else {
            const ret = new X64Label();
            a.aluMI(ALU.cmp, 64, ctx(CTX.DEPTH), 0);
            a.jcc(CC.ne, ret);
            a.jmp(L.mainExit);
            a.bind(ret);
            a.aluMI(ALU.sub, 64, ctx(CTX.DEPTH), 1);
            a.ret();
          }
          break;
        }
        if (op === 0x85) {
          if (insn.src === BPF_PSEUDO_CALL) emitLocalCall(pc + 1 + insn.imm, pc);
          else emitHelperCallStatic(insn.imm >>> 0, pc);
          break;
        }
        if (op === 0x8d) {
          emitCallx(insn, pc);
          break;
        }
        const off = op === 0x06 ? insn.imm : insn.off; // JA32 keeps its offset in imm
        const target = pc + 1 + off;
        if (jop === 0x00) {
          if (off < 0) chargeBudget(-off, pc);
          a.jmp(labels[target]!);
          break;
        }
        const w: 32 | 64 = cls === 6 ? 32 : 64;
        const x = (op & 8) !== 0;
        const fate = facts.jumpFate[pc]!;
        if (fate === 1) break; // a length test a dominating one already decided: never taken
        if (fate === 2) {
          if (off < 0) chargeBudget(-off, pc);
          a.jmp(labels[target]!);
          break;
        }
        const imm = swapImm.get(pc) ?? insn.imm;
        if (jop === 0x40) {
          if (x) a.testRR(w, d, R(insn.src));
          else a.testRI(w, d, imm);
        } else if (x) a.aluRR(ALU.cmp, w, d, R(insn.src));
        else a.aluRI(ALU.cmp, w, d, imm);
        const cc = JCC[jop];
        if (cc === undefined) throw new NetworkError('VERIFIER_REJECTED', `unknown jump 0x${op.toString(16)} at pc ${pc}`, { pc });
        if (off < 0) {
          // A taken backward jump charges the loop length to the budget (as the interpreter does).
          const skip = new X64Label();
          a.jcc(cc ^ 1, skip);
          chargeBudget(-off, pc);
          a.jmp(labels[target]!);
          a.bind(skip);
        } else {
          const nx = insns[pc + 1];
          if (off === 1 && nx && nx.opcode === 0x05 && nx.off >= 0 && !isTarget[pc + 1]) {
            // `if c goto +1; goto X` (classic jt/jf lowering) = `if !c goto X`: one branch, no jump over a jump.
            a.jcc(cc ^ 1, labels[pc + 2 + nx.off]!);
            folded[pc + 1] = 1;
          } else a.jcc(cc, labels[target]!);
        }
        break;
      }
      default:
        throw new NetworkError('VERIFIER_REJECTED', `unknown opcode 0x${op.toString(16)} at pc ${pc}`, { pc });
    }
  }
  const bodyEnd = a.size;
  // Falling off the end (no exit / jump as the last instruction).
  a.storeImm(64, ctx(CTX.STATUS), JIT_STATUS.FELL_OFF);
  a.storeImm(64, ctx(CTX.ERR_PC), n - 1);
  a.jmp(L.errorCommon);
  emitExitAndDone();

  function emitCallx(insn: BpfInsn, pc: number): void {
    // callx: a code address (high word 0xffffffff, low word a function start) is a local call; a plain number
    // below 2^31 is a helper id (the conformance suite's reading); anything else is an error.
    const after = new X64Label();
    const notCode = new X64Label();
    const bad = errorStub(JIT_STATUS.CALLX, pc, () => {
      a.store(64, ctx(CTX.ERR_ADDR), T11);
    });
    a.movRR(64, T11, R(insn.dst));
    a.movRR(64, T10, T11);
    a.shiftRI(SHIFT.shr, 64, T10, 32);
    a.aluRI(ALU.cmp, 32, T10, -1);
    a.jcc(CC.ne, notCode);
    for (const f of funcStarts) {
      const next = new X64Label();
      a.aluRI(ALU.cmp, 32, T11, f);
      a.jcc(CC.ne, next);
      emitLocalCall(f, pc);
      a.jmp(after);
      a.bind(next);
    }
    a.jmp(bad);
    a.bind(notCode);
    a.testRR(32, T10, T10);
    a.jcc(CC.ne, bad);
    a.aluRI(ALU.cmp, 32, T11, 0x7fffffff);
    a.jcc(CC.a, bad);
    a.storeImm(64, ctx(CTX.CALL_PC), pc);
    a.store(64, ctx(CTX.CUR_HELPER), T11);
    const slotOk = new X64Label();
    a.aluRI(ALU.cmp, 64, T11, JIT_HELPER_SLOTS);
    a.jcc(CC.b, slotOk);
    a.aluRR(ALU.xor, 32, T11, T11);
    a.bind(slotOk);
    emitHelperCallSlot(null);
    a.bind(after);
  }

  // ---------------- shared stubs ----------------
  // Legacy packet load out of range: the program ends with r0 = 0 (Linux semantics), from any call depth.
  a.bind(L.ldAbsFail);
  a.aluRR(ALU.xor, 32, X64.rax, X64.rax);
  a.load(64, X64.rsp, ctx(CTX.SAVED_RSP));
  a.jmp(L.mainExit);

  // A helper set a status: STOP ends the program with stop_r0; anything else is an error.
  a.bind(L.helperStatus);
  {
    const notStop = new X64Label();
    a.aluMI(ALU.cmp, 64, ctx(CTX.STATUS), JIT_STATUS.STOP);
    a.jcc(CC.ne, notStop);
    a.storeImm(64, ctx(CTX.STATUS), 0);
    a.load(64, X64.rax, ctx(CTX.STOP_R0));
    a.load(64, X64.rsp, ctx(CTX.SAVED_RSP));
    a.jmp(L.mainExit);
    a.bind(notStop);
    a.jmp(L.errorCommon);
  }

  // An out-of-bounds access: r11 = address; pc and size already stored.
  a.bind(L.oob);
  a.store(64, ctx(CTX.ERR_ADDR), T11);
  a.storeImm(64, ctx(CTX.STATUS), JIT_STATUS.OOB);
  // fall through
  a.bind(L.errorCommon);
  {
    // Record the first error of the run, count it, give the packet verdict 0 and go on with the next one;
    // a helper failure (a JavaScript exception may be pending) ends the whole run.
    const notFirst = new X64Label();
    a.load(64, X64.rsp, ctx(CTX.SAVED_RSP));
    a.aluMI(ALU.cmp, 64, ctx(CTX.ERR_COUNT), 0);
    a.jcc(CC.ne, notFirst);
    for (const [from, to] of [
      [CTX.STATUS, CTX.FIRST_STATUS],
      [CTX.ERR_PC, CTX.FIRST_PC],
      [CTX.ERR_ADDR, CTX.FIRST_ADDR],
      [CTX.ERR_SIZE, CTX.FIRST_SIZE],
    ] as const) {
      a.load(64, T11, ctx(from));
      a.store(64, ctx(to), T11);
    }
    if (countDown) {
      a.movRR(64, T11, IDX);
      a.aluRM(ALU.add, 64, T11, ctx(CTX.B_COUNT));
      a.store(64, ctx(CTX.FIRST_INDEX), T11);
    } else a.store(64, ctx(CTX.FIRST_INDEX), IDX);
    // The erring packet as region 0 (the loop may keep it in registers only): the shim reports an address in
    // it relative to the packet.
    a.load(32, T11, laneElem(offsL));
    aluLoc(ALU.add, T11, dataL);
    a.store(64, ctx(regionField(0, REGION.BASE)), T11);
    a.load(32, T11, laneElem(lensL));
    a.store(64, ctx(regionField(0, REGION.LEN)), T11);
    a.bind(notFirst);
    a.aluMI(ALU.add, 64, ctx(CTX.ERR_COUNT), 1);
    a.aluMI(ALU.cmp, 64, ctx(CTX.STATUS), JIT_STATUS.HELPER);
    a.jcc(CC.e, L.done);
    a.storeImm(64, ctx(CTX.STATUS), 0);
    a.storeImm(64, ctx(CTX.ERR_ADDR), 0);
    a.storeImm(64, ctx(CTX.ERR_SIZE), 0);
    a.aluRR(ALU.xor, 32, X64.rax, X64.rax);
    a.jmp(L.mainExit);
  }

  // region_check: r11 = address, r10 = size index | 4 if a store. Searches regions 1.. (region 0, the packet,
  // was tested inline). Out: r10 = 0 when [r11, r11 + size) lies in one region (writable for a store), else 1.
  a.bind(L.regionCheck);
  {
    const loop = new X64Label();
    const found = new X64Label();
    const fail = new X64Label();
    const ok = new X64Label();
    const out = new X64Label();
    a.push(X64.rax);
    a.push(X64.rcx);
    a.push(X64.rdx);
    a.push(T10); // [rsp] = the argument (its bit 2 = store)
    a.movRR(32, X64.rdx, T10);
    a.aluRI(ALU.and, 32, X64.rdx, 3);
    a.lea(X64.rax, { base: CTXR, disp: regionField(1, 0) });
    a.load(64, X64.rcx, ctx(CTX.NREGIONS));
    a.aluRI(ALU.sub, 64, X64.rcx, 1);
    a.bind(loop);
    a.testRR(64, X64.rcx, X64.rcx);
    a.jcc(CC.le, fail);
    a.movRR(64, T10, T11);
    a.aluRM(ALU.sub, 64, T10, { base: X64.rax, disp: REGION.BASE });
    a.aluRM(ALU.cmp, 64, T10, { base: X64.rax, index: X64.rdx, scale: 8, disp: REGION.LIM });
    a.jcc(CC.b, found);
    a.aluRI(ALU.add, 64, X64.rax, REGION.SIZE);
    a.aluRI(ALU.sub, 64, X64.rcx, 1);
    a.jmp(loop);
    a.bind(found);
    a.aluMI(ALU.and, 32, { base: X64.rsp, disp: 0 }, 4);
    a.jcc(CC.e, ok);
    a.aluMI(ALU.cmp, 64, { base: X64.rax, disp: REGION.WRITABLE }, 0);
    a.jcc(CC.e, fail);
    a.bind(ok);
    a.aluRR(ALU.xor, 32, T10, T10);
    a.jmp(out);
    a.bind(fail);
    a.movRI32(T10, 1);
    a.bind(out);
    a.aluRI(ALU.add, 64, X64.rsp, 8);
    a.pop(X64.rdx);
    a.pop(X64.rcx);
    a.pop(X64.rax);
    a.ret();
  }

  for (const c of cold) c();
  return {
    code: a.finish(),
    entryOffset,
    pcOffsets,
    bodyEnd,
    checkedAccesses,
    provedAccesses,
    helperIds: [...helperIds].sort((x, y) => x - y),
    checksLanes: false,
    sideEffectFree,
  };
}

/**
 * Registers (bit r) some path may read before writing them, from the entry (r1, r2, r10 are set there).
 * A forward "definitely written" analysis over the control-flow graph; helper calls read r1..r5 (the helper
 * sees them), exit reads r0. Only these need zeroing at the start of each run.
 */
function undefinedReads(insns: readonly BpfInsn[], lddwSecond: Uint8Array): number {
  const n = insns.length;
  const ALL = 0x7ff;
  const def = new Int32Array(n).fill(-1); // -1 = not reached yet
  def[0] = (1 << 1) | (1 << 2) | (1 << 10);
  let need = 0;
  const work: number[] = [0];
  const reach = (pc: number, d: number) => {
    if (pc < 0 || pc >= n) return;
    const prev = def[pc]!;
    const next = prev === -1 ? d : prev & d;
    if (next !== prev) {
      def[pc] = next;
      work.push(pc);
    }
  };
  while (work.length > 0) {
    const pc = work.pop()!;
    if (lddwSecond[pc]) continue;
    const insn = insns[pc]!;
    const d = def[pc]! & ALL;
    const op = insn.opcode;
    const cls = op & 7;
    let reads = 0;
    let writes = 0;
    const succ: number[] = [];
    const bit = (r: number) => 1 << r;
    switch (cls) {
      case 4:
      case 7: {
        const aop = op & 0xf0;
        if (aop !== 0xb0) reads |= bit(insn.dst);
        if (op & 8 && aop !== 0xd0) reads |= bit(insn.src);
        writes |= bit(insn.dst);
        succ.push(pc + 1);
        break;
      }
      case 0:
        if (op === 0x18) {
          writes |= bit(insn.dst);
          succ.push(pc + 2);
        } else {
          if ((op & 0xe0) === 0x40) reads |= bit(insn.src);
          writes |= 1;
          succ.push(pc + 1);
        }
        break;
      case 1:
        reads |= bit(insn.src);
        writes |= bit(insn.dst);
        succ.push(pc + 1);
        break;
      case 2:
        reads |= bit(insn.dst);
        succ.push(pc + 1);
        break;
      case 3:
        reads |= bit(insn.dst) | bit(insn.src);
        if ((op & 0xe0) === 0xc0) {
          if (insn.imm === 0xf1) {
            reads |= 1;
            writes |= 1;
          } else if (insn.imm & 1) writes |= bit(insn.src);
        }
        succ.push(pc + 1);
        break;
      default: {
        // JMP / JMP32
        if (op === 0x95) {
          reads |= 1;
        } else if (op === 0x85 || op === 0x8d) {
          reads |= 0x3e | (op === 0x8d ? bit(insn.dst) : 0);
          writes |= 1;
          succ.push(pc + 1);
        } else {
          const off = op === 0x06 ? insn.imm : insn.off;
          if ((op & 0xf0) !== 0x00) {
            reads |= bit(insn.dst);
            if (op & 8) reads |= bit(insn.src);
            succ.push(pc + 1);
          }
          succ.push(pc + 1 + off);
        }
      }
    }
    need |= reads & ~d;
    for (const s of succ) reach(s, d | writes);
  }
  return need & ~((1 << 1) | (1 << 2) | (1 << 10));
}

/** Registers (bit r) an instruction writes; `calls` adds r0..r5 for helper and local calls. */
function writtenRegs(insn: BpfInsn): number {
  const op = insn.opcode;
  const cls = op & 7;
  const bit = (r: number) => 1 << r;
  switch (cls) {
    case 4:
    case 7:
    case 1:
      return bit(insn.dst);
    case 0:
      return op === 0x18 ? bit(insn.dst) : 1; // lddw, or LD_ABS/LD_IND into r0
    case 3:
      if ((op & 0xe0) !== 0xc0) return 0;
      if (insn.imm === 0xf1) return 1; // cmpxchg: r0
      return insn.imm & 1 ? bit(insn.src) : 0; // fetch variants write src
    case 5:
    case 6:
      return op === 0x85 || op === 0x8d ? 0x3f : 0;
    default:
      return 0;
  }
}

/** What the packet-length analysis decided per pc. */
interface LengthFacts {
  /** Conditional jumps whose outcome is known: 1 = never taken (no code), 2 = always taken (a plain jmp). */
  jumpFate: Uint8Array;
  /** Per pc: the registers holding the packet length (bitmask; 0 when unknown) and the proved minimum length. */
  lenRegs: Int32Array;
  /** Per pc: the registers holding the packet's start address (r1 at entry and its 64-bit copies). */
  pktRegs: Int32Array;
  minLen: Float64Array;
  /** LD_ABS instructions whose `k + size <= len` test a dominating test already made. */
  ldAbsKnown: Uint8Array;
}

/**
 * Which tests of the packet length are already decided. Classic filters (tcpdump -dd through classicToEbpf, or
 * LD_ABS) test `len >= k` before each load, often with a smaller k after a larger one on the same path. A
 * forward analysis over the control-flow graph tracks which registers hold the length (r2 at entry, copies by
 * mov/mov32 — lengths are below 2^32) and the smallest length every path to a pc has proved; a `jlt len, K`
 * with K at most that bound can never be taken. Edges that cannot be taken are not followed (so facts are not
 * weakened by dead paths). Programs with local calls are left alone (functions have no single entry state).
 */
function packetLengthFacts(insns: readonly BpfInsn[], lddwSecond: Uint8Array, enabled: boolean): LengthFacts {
  const n = insns.length;
  const jumpFate = new Uint8Array(n);
  const ldAbsKnown = new Uint8Array(n);
  if (!enabled || n === 0) return { jumpFate, ldAbsKnown, lenRegs: new Int32Array(n), minLen: new Float64Array(n), pktRegs: new Int32Array(n) };
  // State per pc: the length registers (bitmask) and the proven minimum length; -1 = not reached yet.
  const regs = new Int32Array(n).fill(-1);
  const minLen = new Float64Array(n);
  const pkt = new Int32Array(n);
  regs[0] = 1 << 2;
  minLen[0] = 0;
  pkt[0] = 1 << 1;
  const work: number[] = [0];
  let curPkt = 0; // the packet-pointer registers after the instruction being processed
  const reach = (pc: number, r: number, m: number) => {
    if (pc < 0 || pc >= n) return;
    if (regs[pc] === -1) {
      regs[pc] = r;
      minLen[pc] = m;
      pkt[pc] = curPkt;
      work.push(pc);
      return;
    }
    const nr = regs[pc]! & r;
    const nm = Math.min(minLen[pc]!, m);
    const np = pkt[pc]! & curPkt;
    if (nr !== regs[pc] || nm !== minLen[pc] || np !== pkt[pc]) {
      regs[pc] = nr;
      minLen[pc] = nm;
      pkt[pc] = np;
      work.push(pc);
    }
  };
  while (work.length > 0) {
    const pc = work.pop()!;
    if (lddwSecond[pc]) continue;
    const insn = insns[pc]!;
    const r = regs[pc]!;
    const m = minLen[pc]!;
    const op = insn.opcode;
    const cls = op & 7;
    // Packet-pointer registers: copied by a 64-bit mov, lost on any other write.
    curPkt = pkt[pc]! & ~writtenRegs(insn);
    if (op === 0xbf && insn.off === 0 && pkt[pc]! & (1 << insn.src)) curPkt |= 1 << insn.dst;
    if (cls === 5 || cls === 6) {
      const jop = op & 0xf0;
      if (op === 0x95) continue; // exit
      if (op === 0x85 || op === 0x8d) {
        reach(pc + 1, r & ~writtenRegs(insn), m);
        continue;
      }
      const off = op === 0x06 ? insn.imm : insn.off;
      if (jop === 0x00) {
        reach(pc + 1 + off, r, m);
        continue;
      }
      const lenTest = !(op & 8) && (r & (1 << insn.dst)) !== 0 && insn.imm >= 0;
      const k = insn.imm;
      // [taken iff len satisfies this against k]; bounds each edge proves.
      let fate = 0;
      let takenMin = m;
      let fallMin = m;
      if (lenTest) {
        switch (jop) {
          case 0xa0: // jlt: taken iff len < k
            if (m >= k) fate = 1;
            fallMin = Math.max(m, k);
            break;
          case 0x30: // jge: taken iff len >= k
            if (m >= k) fate = 2;
            takenMin = Math.max(m, k);
            break;
          case 0xb0: // jle: taken iff len <= k
            if (m > k) fate = 1;
            fallMin = Math.max(m, k + 1);
            break;
          case 0x20: // jgt: taken iff len > k
            if (m > k) fate = 2;
            takenMin = Math.max(m, k + 1);
            break;
          default:
            break;
        }
      }
      // The fate must hold for every state that reaches pc: recompute it from the final (weakest) state.
      jumpFate[pc] = fate;
      if (fate !== 1) reach(pc + 1 + off, r, takenMin);
      if (fate !== 2) reach(pc + 1, r, fallMin);
      continue;
    }
    let nm = m;
    if (cls === 0 && op !== 0x18) {
      const size = sizeOf(op);
      if ((op & 0xe0) === 0x20) {
        const need = (insn.imm >>> 0) + size;
        ldAbsKnown[pc] = m >= need ? 1 : 0;
        if (need <= 0x7fffffff) nm = Math.max(m, need); // shorter packets end the program here
      }
    }
    let nr = r & ~writtenRegs(insn);
    if ((op === 0xbf || op === 0xbc) && insn.off === 0 && r & (1 << insn.src)) nr |= 1 << insn.dst;
    reach(op === 0x18 ? pc + 2 : pc + 1, nr, nm);
  }
  // Unreached pcs (-1) know nothing.
  for (let pc = 0; pc < n; pc++) if (regs[pc]! < 0) regs[pc] = 0;
  return { jumpFate, ldAbsKnown, lenRegs: regs, minLen, pktRegs: pkt };
}

/**
 * Loads proved in bounds by the program's own test in the sequence classicToEbpf emits for an indirect load
 * (cbpf.ts, LD_IND / LDX_IND): `A = <32-bit ALU>; B = A; B += S; if B > len goto fail; A += pkt; ldx [A + off]`
 * with off + size <= S. A is below 2^32 (a 32-bit result), so B = A + S does not wrap, and falling through the
 * test means A + S <= len: [pkt + A + off, + size) lies in the packet. No jump may enter the sequence after its
 * first instruction, so the values are the ones computed there.
 */
function indirectLoadsProved(insns: readonly BpfInsn[], lddwSecond: Uint8Array, facts: LengthFacts): Uint8Array {
  const n = insns.length;
  const out = new Uint8Array(n);
  // Calls: leave everything to the run-time checks.
  if (insns.some((i, pc) => !lddwSecond[pc] && (i.opcode === 0x85 || i.opcode === 0x8d))) return out;
  const target = branchTargets(insns, lddwSecond);
  for (let L = 5; L < n; L++) {
    const ld = insns[L]!;
    if (lddwSecond[L] || (ld.opcode & 0xe7) !== 0x61 || ld.off < 0) continue; // LDX MEM b/h/w/dw
    const a = ld.src;
    const addPkt = insns[L - 1]!;
    const test = insns[L - 2]!;
    const addS = insns[L - 3]!;
    const copy = insns[L - 4]!;
    const def = insns[L - 5]!;
    const b = copy.dst;
    const len = test.src;
    const p = addPkt.src;
    if (target[L] || target[L - 1] || target[L - 2] || target[L - 3] || target[L - 4]) continue;
    if ((def.opcode & 7) !== 4 || def.dst !== a || lddwSecond[L - 5]) continue;
    if (copy.opcode !== 0xbf || copy.off !== 0 || copy.src !== a || b === a) continue;
    if (addS.opcode !== 0x07 || addS.dst !== b || addS.imm < 0) continue;
    if (test.opcode !== 0x2d || test.dst !== b || test.off < 0) continue;
    if (addPkt.opcode !== 0x0f || addPkt.dst !== a || p === a || p === b || len === a || len === b) continue;
    if (!(facts.lenRegs[L - 2]! & (1 << len)) || !(facts.pktRegs[L - 1]! & (1 << p))) continue;
    if (ld.off + sizeOf(ld.opcode) > addS.imm) continue;
    out[L] = 1;
  }
  return out;
}

/** Registers (bit r) an instruction reads. */
function readRegs(insn: BpfInsn): number {
  const op = insn.opcode;
  const cls = op & 7;
  const bit = (r: number) => 1 << r;
  switch (cls) {
    case 4:
    case 7: {
      const aop = op & 0xf0;
      let r = aop === 0xb0 ? 0 : bit(insn.dst);
      if (op & 8 && aop !== 0xd0) r |= bit(insn.src);
      return r;
    }
    case 0:
      return op === 0x18 ? 0 : (op & 0xe0) === 0x40 ? bit(insn.src) : 0;
    case 1:
      return bit(insn.src);
    case 2:
      return bit(insn.dst);
    case 3:
      return bit(insn.dst) | bit(insn.src) | ((op & 0xe0) === 0xc0 && insn.imm === 0xf1 ? 1 : 0);
    default: {
      if (op === 0x95) return 1;
      if (op === 0x85) return 0x3e;
      if (op === 0x8d) return 0x3e | bit(insn.dst);
      if ((op & 0xf0) === 0x00) return 0;
      return bit(insn.dst) | (op & 8 ? bit(insn.src) : 0);
    }
  }
}

/**
 * Registers live on entry to each pc (backward analysis to a fixed point; r10 always live). Null for programs
 * with local calls (a callee's exit returns to many places), where nothing is treated as dead.
 */
function liveRegisters(insns: readonly BpfInsn[], lddwSecond: Uint8Array): Int32Array {
  const n = insns.length;
  const liveIn = new Int32Array(n + 1);
  const succ = (pc: number): number[] => {
    const i = insns[pc]!;
    const op = i.opcode;
    const cls = op & 7;
    if (op === 0x18) return [pc + 2];
    if (cls !== 5 && cls !== 6) return [pc + 1];
    if (op === 0x95) return [];
    if (op === 0x85 || op === 0x8d) return [pc + 1];
    const off = op === 0x06 ? i.imm : i.off;
    return (op & 0xf0) === 0x00 ? [pc + 1 + off] : [pc + 1, pc + 1 + off];
  };
  for (let changed = true; changed; ) {
    changed = false;
    for (let pc = n - 1; pc >= 0; pc--) {
      if (lddwSecond[pc]) continue;
      const i = insns[pc]!;
      let out = 0;
      for (const s of succ(pc)) if (s >= 0 && s <= n) out |= liveIn[s]!;
      const v = readRegs(i) | (out & ~writtenRegs(i)) | (1 << 10);
      if (v !== liveIn[pc]) {
        liveIn[pc] = v;
        changed = true;
      }
    }
  }
  return liveIn;
}
