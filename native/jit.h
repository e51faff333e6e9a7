/* The eBPF x86-64 JIT shim: the context block generated code runs against. The byte offsets below are
 * mirrored in src/ebpf/jit-x64/layout.ts; jit.c checks them with static assertions. */
#ifndef ELYSIA_JIT_H
#define ELYSIA_JIT_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define JIT_MAX_MAPS 62
#define JIT_MAX_REGIONS (2 + JIT_MAX_MAPS) /* 0 = packet, 1 = stack, 2 + i = map i's value storage */
#define JIT_HELPER_SLOTS 64
#define JIT_STACK_BYTES 4096 /* 8 frames of 512 bytes (Linux MAX_CALL_FRAMES × MAX_BPF_STACK) */

/* Run outcome kinds (ctx.status). */
#define JIT_OK 0
#define JIT_ERR_OOB 1        /* a load/store outside every region */
#define JIT_ERR_BUDGET 2     /* back-edge instruction budget exhausted */
#define JIT_ERR_DEPTH 3      /* local call nesting deeper than 8 frames */
#define JIT_ERR_HELPER 4     /* unknown helper, or a JavaScript helper threw */
#define JIT_ERR_CALLX 5      /* callx to something that is neither a helper id nor a function */
#define JIT_STOP 6           /* a helper ended the program early (env.exit): r0 = ctx.stop_r0 */
#define JIT_ERR_R10 7        /* write to the read-only frame pointer */

typedef struct jit_region {
  uint64_t base;     /* host address of the first byte */
  uint64_t lim[4];   /* for access sizes 1, 2, 4, 8: len - size + 1, or 0 when len < size */
  uint64_t writable; /* 1 when stores are allowed */
  uint64_t len;
  uint64_t pad;
} jit_region; /* 64 bytes */

typedef struct jit_ctx {
  uint64_t saved_rsp;   /* 0 */
  int64_t budget;       /* 8 */
  int64_t budget_init;  /* 16 */
  uint64_t status;      /* 24 */
  uint64_t err_pc;      /* 32 */
  uint64_t err_addr;    /* 40 */
  uint64_t err_size;    /* 48: size | write << 8 */
  uint64_t r0;          /* 56 */
  uint64_t nregions;    /* 64 */
  uint64_t frame0_top;  /* 72: r10 of frame 0 */
  uint64_t stack_limit; /* 80: highest r10 allowed (stack base + 4096) */
  uint64_t b_data;      /* 88 */
  uint64_t b_offs;      /* 96 */
  uint64_t b_lens;      /* 104 */
  uint64_t b_count;     /* 112 */
  uint64_t b_verd;      /* 120 */
  uint64_t b_index;     /* 128 */
  uint64_t err_count;   /* 136 */
  uint64_t first_index; /* 144 */
  uint32_t one_off;     /* 152 */
  uint32_t one_len;     /* 156 */
  uint32_t one_verdict; /* 160 */
  uint32_t pad0;        /* 164 */
  uint64_t cur_helper;  /* 168 */
  uint64_t stop_r0;     /* 176 */
  uint64_t first_status; /* 184 */
  uint64_t first_pc;    /* 192 */
  uint64_t first_addr;  /* 200 */
  uint64_t first_size;  /* 208 */
  uint64_t call_pc;     /* 216: pc of the helper call in progress */
  uint64_t shim;        /* 224: back pointer to the owning jit_prog (for helpers) */
  uint64_t depth;       /* 232: local-call depth (generated code only) */
  uint64_t b_dlen;      /* 240: bytes of batch data */
  uint64_t lane_bad;    /* 248: reserved (the shim checks every lane before a run) */
  uint64_t helpers[JIT_HELPER_SLOTS]; /* 256: helper id → function; slot 0 = the generic dispatcher */
  uint64_t pad1[32];    /* 768..1023 */
  jit_region regions[JIT_MAX_REGIONS]; /* 1024 */
} jit_ctx;

typedef uint64_t (*jit_helper_fn)(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx);
typedef int64_t (*jit_entry_fn)(jit_ctx* ctx);

#ifdef __cplusplus
}
#endif
#endif
