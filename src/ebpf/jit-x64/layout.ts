// Byte offsets in the context block generated code runs against (struct jit_ctx in native/jit.h; jit.c checks
// them with static assertions). r12 holds the context pointer for the whole run.

/** Offsets of jit_ctx fields. */
export const CTX = {
  SAVED_RSP: 0,
  BUDGET: 8,
  BUDGET_INIT: 16,
  STATUS: 24,
  ERR_PC: 32,
  ERR_ADDR: 40,
  ERR_SIZE: 48,
  R0: 56,
  NREGIONS: 64,
  FRAME0_TOP: 72,
  STACK_LIMIT: 80,
  B_DATA: 88,
  B_OFFS: 96,
  B_LENS: 104,
  B_COUNT: 112,
  B_VERD: 120,
  B_INDEX: 128,
  ERR_COUNT: 136,
  FIRST_INDEX: 144,
  CUR_HELPER: 168,
  STOP_R0: 176,
  FIRST_STATUS: 184,
  FIRST_PC: 192,
  FIRST_ADDR: 200,
  FIRST_SIZE: 208,
  CALL_PC: 216,
  DEPTH: 232, // current local-call depth
  B_DLEN: 240, // bytes of batch data (set by the shim; the generated code no longer reads it)
  LANE_BAD: 248, // reserved (was: a packet found outside the batch data by the loop; the shim checks lanes up front)
  HELPERS: 256,
  REGIONS: 1024,
} as const;

/** Bytes per region entry and the field offsets inside it. */
export const REGION = { SIZE: 64, BASE: 0, LIM: 8, WRITABLE: 40, LEN: 48 } as const;

/** Helper table slots; ids at or above go through slot 0 (the JavaScript dispatcher). */
export const JIT_HELPER_SLOTS = 64;
/** Most maps one natively compiled program may use (regions 2 + i). */
export const JIT_MAX_MAPS = 62;
/** Run outcome kinds (ctx.status), as native/jit.h defines them. */
export const JIT_STATUS = {
  OK: 0,
  OOB: 1,
  BUDGET: 2,
  DEPTH: 3,
  HELPER: 4,
  CALLX: 5,
  STOP: 6,
  FELL_OFF: 8,
} as const;

/** The address of region `i`'s field `f` in the context. */
export function regionField(i: number, f: number): number {
  return CTX.REGIONS + i * REGION.SIZE + f;
}
