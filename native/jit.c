/* The eBPF x86-64 JIT shim. The machine code is emitted in TypeScript (src/ebpf/jit-x64/); this file only
 *  - maps it: mmap RW, copy, mprotect RX (never writable and executable at once), munmap on free;
 *  - runs it over one buffer or a whole PacketBatch (the batch loop is in the generated code: one N-API call
 *    and one prologue per batch);
 *  - implements the helpers generated code calls: map lookup/update/delete over the SharedArrayBuffer layout of
 *    src/ebpf/maps.ts, ktime_get_ns, get_prandom_u32, and a dispatcher back into JavaScript for the rest.
 * Every pointer handed to a helper is checked against the program's regions before it is touched. */
#define _GNU_SOURCE
#include <errno.h>
#include <node_api.h>
#include <sched.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "jit.h"

_Static_assert(offsetof(jit_ctx, b_index) == 128, "ctx layout");
_Static_assert(offsetof(jit_ctx, one_off) == 152, "ctx layout");
_Static_assert(offsetof(jit_ctx, cur_helper) == 168, "ctx layout");
_Static_assert(offsetof(jit_ctx, call_pc) == 216, "ctx layout");
_Static_assert(offsetof(jit_ctx, b_dlen) == 240, "ctx layout");
_Static_assert(offsetof(jit_ctx, lane_bad) == 248, "ctx layout");
_Static_assert(offsetof(jit_ctx, helpers) == 256, "ctx layout");
_Static_assert(offsetof(jit_ctx, regions) == 1024, "ctx layout");
_Static_assert(sizeof(jit_region) == 64, "region layout");

#define MAX_BOUND 64 /* stack + maps */
#define BB_MAX_BUFS 4

/* A batch bound once by bpfJitBind, so that each run passes two numbers instead of four typed arrays (unwrapping
 * one costs ~400 instructions in Node, the whole batch run ~3 ns per packet). Strong references keep the buffers
 * alive; a plain ArrayBuffer can still be detached (postMessage transfer) or, if resizable, shrunk, so every run
 * first checks that each still starts where it did and is long enough for the bound views. Resizable ArrayBuffers
 * are not bound at all (as far as their `resizable` property tells). */
typedef struct bound_batch {
  napi_ref buf[BB_MAX_BUFS]; /* the distinct (Shared)ArrayBuffers behind data, offsets, lengths, verdicts */
  uint8_t detachable[BB_MAX_BUFS];
  uint8_t* base[BB_MAX_BUFS]; /* first byte of each buffer when bound */
  size_t need[BB_MAX_BUFS];   /* bytes of it the bound views reach */
  uint32_t nbufs;
  int ok;
  uint8_t* data;
  size_t dlen;
  const uint32_t* offs;
  const uint32_t* lens;
  uint64_t lanes; /* entries in both offsets and lengths */
  uint32_t* verd;
  uint64_t vlen;
} bound_batch;

typedef struct jit_prog {
  uint8_t* code;
  size_t code_size;
  size_t map_size;
  jit_entry_fn entry;
  jit_ctx* ctx;
  napi_env env;              /* set for the duration of a run (JS helper calls need it) */
  napi_ref bound[MAX_BOUND]; /* regions 1.. (stack, maps): typed arrays kept alive */
  uint8_t writable[MAX_BOUND];
  /* Regions over a SharedArrayBuffer cannot be detached: their address is resolved once, at create time. */
  uint8_t is_static[MAX_BOUND];
  uint64_t static_base[MAX_BOUND];
  uint64_t static_len[MAX_BOUND];
  uint64_t* out_static; /* the out array when it is SharedArrayBuffer-backed, else NULL */
  uint32_t nbound;
  napi_ref map_bufs[JIT_MAX_MAPS]; /* Uint8Arrays over whole map SharedArrayBuffers (header + table), or NULL */
  uint8_t* map_base[JIT_MAX_MAPS];  /* resolved at create time (shared memory is never detached) */
  size_t map_len[JIT_MAX_MAPS];
  uint32_t nmaps;
  napi_ref out_ref;  /* BigUint64Array(8): r0, status, pc, addr, size, index, errors */
  napi_ref js_helper; /* function (id, r1..r5, pc) → bigint | [bigint] (stop) */
  napi_ref prandom_ref; /* the Uint32Array(2) over a SharedArrayBuffer that src/ebpf/prandom.ts draws from */
  uint32_t* prandom;    /* its data (a SharedArrayBuffer is never detached), or NULL: the shim's own state */
  /* No calls and no stores outside the stack frame: only the verdict stores can change the lanes during a run, so
   * the packet data may overlap them (it is never written). */
  int side_effect_free;
  /* Every bound region over a SharedArrayBuffer and no maps: bind_regions has nothing to redo after its first run. */
  int regions_static;
  int regions_bound;
  int running;
  int freed;
  bound_batch bb;
} jit_prog;

/* ---------- small N-API utilities ---------- */

static napi_value throw_type(napi_env env, const char* msg) {
  napi_throw_type_error(env, NULL, msg);
  return NULL;
}
static napi_value throw_range(napi_env env, const char* msg) {
  napi_throw_range_error(env, NULL, msg);
  return NULL;
}

static int typed_arg(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len) {
  /* napi_get_typedarray_info itself fails (napi_invalid_arg) on anything but a typed array. */
  napi_typedarray_type t;
  size_t n;
  void* d;
  napi_value ab;
  size_t off;
  if (napi_get_typedarray_info(env, v, &t, &n, &d, &ab, &off) != napi_ok || t != want) return 0;
  *data = d;
  *len = n;
  return 1;
}

/* A typed array over a SharedArrayBuffer (which can never be detached, so its data pointer stays valid while
 * we hold a reference): napi_is_arraybuffer is false for a SharedArrayBuffer. */
static int typed_is_shared(napi_env env, napi_value v) {
  napi_typedarray_type t;
  size_t n, off;
  void* d;
  napi_value ab;
  bool is_ab = true;
  if (napi_get_typedarray_info(env, v, &t, &n, &d, &ab, &off) != napi_ok) return 0;
  if (napi_is_arraybuffer(env, ab, &is_ab) != napi_ok) return 0;
  return !is_ab;
}

static int get_u64(napi_env env, napi_value v, uint64_t* out) {
  double d;
  if (napi_get_value_double(env, v, &d) != napi_ok || !(d >= 0) || d > 18446744073709551615.0) return 0;
  *out = (uint64_t)d;
  return 1;
}

static void set_region(jit_region* r, uint64_t base, uint64_t len, uint64_t writable) {
  static const uint64_t sizes[4] = {1, 2, 4, 8};
  r->base = base;
  r->len = len;
  r->writable = writable;
  for (int i = 0; i < 4; i++) r->lim[i] = len >= sizes[i] ? len - sizes[i] + 1 : 0;
}

/* The region [addr, addr+size) lies in (any region from index `from`), or NULL. */
static jit_region* region_find(jit_ctx* ctx, uint64_t addr, uint64_t size, int write) {
  for (uint64_t i = 0; i < ctx->nregions; i++) {
    jit_region* r = &ctx->regions[i];
    uint64_t off = addr - r->base;
    if (addr >= r->base && off <= r->len && size <= r->len - off) {
      if (write && !r->writable) return NULL;
      return r;
    }
  }
  return NULL;
}

/* ---------- helpers callable from generated code ---------- */

static jit_prog* prog_of(jit_ctx* ctx) { return (jit_prog*)(uintptr_t)ctx->shim; }

static void helper_oob(jit_ctx* ctx, uint64_t addr, uint64_t size, int write) {
  ctx->status = JIT_ERR_OOB;
  ctx->err_pc = ctx->call_pc;
  ctx->err_addr = addr;
  ctx->err_size = size | ((uint64_t)write << 8);
}

#define MAP_HANDLE_HI 0xfffffffeull
/* Header words of a map buffer (src/ebpf/maps.ts, layout version 1). */
enum { MW_MAGIC = 0, MW_VERSION, MW_TYPE, MW_KEY, MW_VALUE, MW_STRIDE, MW_MAX, MW_FLAGS, MW_SLOTS, MW_SLOTSIZE,
       MW_COUNT, MW_TOMB, MW_LOCK, MW_SEQ, MW_CLOCK, MW_FREETOP, MW_SLOTSOFF, MW_VALUESOFF, MW_FREEOFF };
#define MAP_HASH 1
#define MAP_ARRAY 2
#define MAP_LRU 9

typedef struct map_view {
  uint8_t* b;
  int32_t* w;
  size_t len;
  int idx;
} map_view;

/* The map a handle designates, validated against its buffer size, or 0. */
static int map_of(jit_ctx* ctx, uint64_t handle, map_view* mv) {
  jit_prog* p = prog_of(ctx);
  if ((handle >> 32) != MAP_HANDLE_HI) return 0;
  uint64_t i = handle & 0xffffffffu;
  if (i >= p->nmaps || !p->map_base[i] || p->map_len[i] < 128) return 0;
  mv->b = p->map_base[i];
  mv->w = (int32_t*)p->map_base[i];
  mv->len = p->map_len[i];
  mv->idx = (int)i;
  int32_t* w = mv->w;
  if (w[MW_MAGIC] != 0x4d465042 || w[MW_VERSION] != 1) return 0;
  uint64_t values_end = (uint64_t)(uint32_t)w[MW_VALUESOFF] + (uint64_t)(uint32_t)w[MW_MAX] * (uint32_t)w[MW_STRIDE];
  uint64_t slots_end = (uint64_t)(uint32_t)w[MW_SLOTSOFF] + (uint64_t)(uint32_t)w[MW_SLOTS] * (uint32_t)w[MW_SLOTSIZE];
  uint64_t free_end = (uint64_t)(uint32_t)w[MW_FREEOFF] + 4ull * (uint32_t)w[MW_MAX];
  if (values_end > mv->len || slots_end > mv->len || (w[MW_TYPE] != MAP_ARRAY && free_end > mv->len)) return 0;
  if (w[MW_TYPE] != MAP_ARRAY && ((uint32_t)w[MW_SLOTS] & ((uint32_t)w[MW_SLOTS] - 1)) != 0) return 0;
  /* A header rewritten by someone must not make us read or write past a slot or a value. */
  if ((uint32_t)w[MW_VALUE] > (uint32_t)w[MW_STRIDE] || (uint32_t)w[MW_KEY] == 0 || (uint32_t)w[MW_KEY] > 512) return 0;
  if (w[MW_TYPE] == MAP_ARRAY && (uint32_t)w[MW_KEY] != 4) return 0;
  if (w[MW_TYPE] != MAP_ARRAY && (uint64_t)(uint32_t)w[MW_SLOTSIZE] < 16ull + (uint32_t)w[MW_KEY]) return 0;
  if (w[MW_TYPE] != MAP_ARRAY && ((uint32_t)w[MW_FREETOP] > (uint32_t)w[MW_MAX])) return 0;
  return 1;
}

static uint32_t fnv1a(const uint8_t* k, uint32_t n) {
  uint32_t h = 0x811c9dc5u;
  for (uint32_t i = 0; i < n; i++) {
    h ^= k[i];
    h *= 0x01000193u;
  }
  return h;
}

static uint8_t* slot_at(map_view* m, uint32_t i) {
  return m->b + (uint32_t)m->w[MW_SLOTSOFF] + (uint64_t)i * (uint32_t)m->w[MW_SLOTSIZE];
}

/* findSlot of maps.ts: linear probing from hash & mask, stop at an empty slot. */
static int64_t find_slot(map_view* m, const uint8_t* key, uint32_t hash) {
  uint32_t n = (uint32_t)m->w[MW_SLOTS], ks = (uint32_t)m->w[MW_KEY];
  if (n == 0) return -1;
  uint32_t mask = n - 1, i = hash & mask;
  for (uint32_t c = 0; c < n; c++, i = (i + 1) & mask) {
    uint8_t* s = slot_at(m, i);
    uint32_t st = __atomic_load_n((uint32_t*)s, __ATOMIC_ACQUIRE);
    if (st == 0) return -1;
    if (st != 1 || *(uint32_t*)(s + 4) != hash) continue;
    if (memcmp(s + 16, key, ks) == 0) return i;
  }
  return -1;
}

static void touch(map_view* m, uint32_t slot) {
  uint32_t c = (uint32_t)__atomic_add_fetch(&m->w[MW_CLOCK], 1, __ATOMIC_SEQ_CST);
  __atomic_store_n((uint32_t*)(slot_at(m, slot) + 12), c, __ATOMIC_SEQ_CST);
}

/* Offset of the key's value in the value storage, or -1 (lookupValueOffset of maps.ts). */
static int64_t map_lookup_off(map_view* m, const uint8_t* key) {
  int32_t* w = m->w;
  if (w[MW_TYPE] == MAP_ARRAY) {
    uint32_t idx;
    memcpy(&idx, key, 4);
    return idx < (uint32_t)w[MW_MAX] ? (int64_t)idx * (uint32_t)w[MW_STRIDE] : -1;
  }
  uint32_t hash = fnv1a(key, (uint32_t)w[MW_KEY]);
  for (int spins = 0;; spins++) {
    int32_t s1 = __atomic_load_n(&w[MW_SEQ], __ATOMIC_ACQUIRE);
    if (s1 & 1) {
      if (spins > 64) sched_yield();
      continue;
    }
    int64_t slot = find_slot(m, key, hash);
    int64_t off = -1;
    if (slot >= 0) off = (int64_t)*(uint32_t*)(slot_at(m, (uint32_t)slot) + 8) * (uint32_t)w[MW_STRIDE];
    if (__atomic_load_n(&w[MW_SEQ], __ATOMIC_ACQUIRE) != s1) continue;
    if (off >= 0 && (uint64_t)off + (uint32_t)w[MW_STRIDE] > (uint64_t)(uint32_t)w[MW_MAX] * (uint32_t)w[MW_STRIDE]) return -1;
    if (slot >= 0 && w[MW_TYPE] == MAP_LRU) touch(m, (uint32_t)slot);
    return off;
  }
}

static uint64_t js_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx);

static uint64_t h_map_lookup(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  map_view m;
  if (!map_of(ctx, r1, &m)) return js_dispatch(r1, r2, r3, r4, r5, ctx);
  uint32_t ks = (uint32_t)m.w[MW_KEY];
  if (!region_find(ctx, r2, ks, 0)) {
    helper_oob(ctx, r2, ks, 0);
    return 0;
  }
  int64_t off = map_lookup_off(&m, (const uint8_t*)(uintptr_t)r2);
  if (off < 0) return 0;
  jit_region* vr = &ctx->regions[2 + m.idx];
  return vr->base + (uint64_t)off;
}

static void map_lock(int32_t* w) {
  for (int spins = 0;; spins++) {
    int32_t zero = 0;
    if (__atomic_compare_exchange_n(&w[MW_LOCK], &zero, 1, 0, __ATOMIC_ACQUIRE, __ATOMIC_RELAXED)) return;
    if (spins > 64) sched_yield();
  }
}
static void map_unlock(int32_t* w) { __atomic_store_n(&w[MW_LOCK], 0, __ATOMIC_RELEASE); }
static void seq_bump(int32_t* w) { __atomic_add_fetch(&w[MW_SEQ], 1, __ATOMIC_SEQ_CST); }

static void remove_slot(map_view* m, uint32_t slot) {
  int32_t* w = m->w;
  uint8_t* s = slot_at(m, slot);
  uint32_t idx = *(uint32_t*)(s + 8);
  __atomic_store_n((uint32_t*)s, 2, __ATOMIC_SEQ_CST);
  w[MW_TOMB]++;
  ((uint32_t*)(m->b + (uint32_t)w[MW_FREEOFF]))[(uint32_t)w[MW_FREETOP]] = idx;
  w[MW_FREETOP]++;
  __atomic_sub_fetch(&w[MW_COUNT], 1, __ATOMIC_SEQ_CST);
}

static void insert_slot(map_view* m, const uint8_t* key, uint32_t hash, uint32_t vidx, int has_stamp, uint32_t stamp) {
  int32_t* w = m->w;
  uint32_t mask = (uint32_t)w[MW_SLOTS] - 1, i = hash & mask;
  for (;;) {
    uint8_t* s = slot_at(m, i);
    uint32_t st = *(uint32_t*)s;
    if (st != 1) {
      if (st == 2) w[MW_TOMB]--;
      *(uint32_t*)(s + 4) = hash;
      *(uint32_t*)(s + 8) = vidx;
      uint32_t c = (uint32_t)__atomic_add_fetch(&w[MW_CLOCK], 1, __ATOMIC_SEQ_CST);
      *(uint32_t*)(s + 12) = has_stamp ? stamp : c;
      memcpy(s + 16, key, (uint32_t)w[MW_KEY]);
      __atomic_store_n((uint32_t*)s, 1, __ATOMIC_SEQ_CST);
      return;
    }
    i = (i + 1) & mask;
  }
}

/* Rebuilds the slot table without tombstones (rehash of maps.ts); returns 0 when memory is short. */
static int rehash(map_view* m) {
  int32_t* w = m->w;
  uint32_t n = (uint32_t)w[MW_SLOTS], ss = (uint32_t)w[MW_SLOTSIZE];
  uint8_t* copy = (uint8_t*)malloc((size_t)n * ss);
  if (!copy) return 0;
  memcpy(copy, slot_at(m, 0), (size_t)n * ss);
  memset(slot_at(m, 0), 0, (size_t)n * ss);
  w[MW_TOMB] = 0;
  for (uint32_t i = 0; i < n; i++) {
    uint8_t* s = copy + (size_t)i * ss;
    if (*(uint32_t*)s == 1) insert_slot(m, s + 16, *(uint32_t*)(s + 4), *(uint32_t*)(s + 8), 1, *(uint32_t*)(s + 12));
  }
  free(copy);
  return 1;
}

static void evict_oldest(map_view* m) {
  int32_t* w = m->w;
  uint32_t clock = (uint32_t)__atomic_load_n(&w[MW_CLOCK], __ATOMIC_SEQ_CST);
  int64_t best = -1;
  int64_t best_age = -1;
  for (uint32_t i = 0; i < (uint32_t)w[MW_SLOTS]; i++) {
    uint8_t* s = slot_at(m, i);
    if (*(uint32_t*)s != 1) continue;
    int64_t age = (uint32_t)(clock - *(uint32_t*)(s + 12));
    if (age > best_age) {
      best_age = age;
      best = i;
    }
  }
  if (best >= 0) remove_slot(m, (uint32_t)best);
}

#define E_NOENT 2
#define E_2BIG 7
#define E_EXIST 17
#define E_INVAL 22

static uint64_t neg(int e) { return (uint64_t)(-(int64_t)e); }

static uint64_t h_map_update(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  map_view m;
  if (!map_of(ctx, r1, &m)) return js_dispatch(r1, r2, r3, r4, r5, ctx);
  int32_t* w = m.w;
  uint32_t ks = (uint32_t)w[MW_KEY], vs = (uint32_t)w[MW_VALUE], stride = (uint32_t)w[MW_STRIDE];
  if (!region_find(ctx, r2, ks, 0)) {
    helper_oob(ctx, r2, ks, 0);
    return 0;
  }
  if (!region_find(ctx, r3, vs, 0)) {
    helper_oob(ctx, r3, vs, 0);
    return 0;
  }
  const uint8_t* key = (const uint8_t*)(uintptr_t)r2;
  const uint8_t* val = (const uint8_t*)(uintptr_t)r3;
  uint64_t f = r4;
  if (f > 2) return neg(E_INVAL);
  uint8_t* values = m.b + (uint32_t)w[MW_VALUESOFF];
  if (w[MW_TYPE] == MAP_ARRAY) {
    int64_t off = map_lookup_off(&m, key);
    if (off < 0) return neg(E_2BIG);
    if (f == 1) return neg(E_EXIST);
    memmove(values + off, val, vs);
    return 0;
  }
  uint32_t hash = fnv1a(key, ks);
  map_lock(w);
  uint64_t ret = 0;
  int64_t slot = find_slot(&m, key, hash);
  if (slot >= 0) {
    if (f == 1) {
      ret = neg(E_EXIST);
    } else {
      uint32_t idx = *(uint32_t*)(slot_at(&m, (uint32_t)slot) + 8);
      memmove(values + (uint64_t)idx * stride, val, vs);
      if (w[MW_TYPE] == MAP_LRU) touch(&m, (uint32_t)slot);
    }
    map_unlock(w);
    return ret;
  }
  if (f == 2) {
    map_unlock(w);
    return neg(E_NOENT);
  }
  if (__atomic_load_n(&w[MW_COUNT], __ATOMIC_SEQ_CST) >= w[MW_MAX]) {
    if (w[MW_TYPE] != MAP_LRU) {
      map_unlock(w);
      return neg(E_2BIG);
    }
    seq_bump(w);
    evict_oldest(&m);
    seq_bump(w);
  }
  seq_bump(w);
  if ((uint64_t)(__atomic_load_n(&w[MW_COUNT], __ATOMIC_SEQ_CST) + w[MW_TOMB] + 1) * 4 > (uint64_t)(uint32_t)w[MW_SLOTS] * 3) {
    if (!rehash(&m)) {
      seq_bump(w);
      map_unlock(w);
      return neg(E_2BIG);
    }
  }
  int32_t top = w[MW_FREETOP] - 1;
  if (top < 0) {
    seq_bump(w);
    map_unlock(w);
    return neg(E_2BIG);
  }
  uint32_t idx = ((uint32_t*)(m.b + (uint32_t)w[MW_FREEOFF]))[top];
  w[MW_FREETOP] = top;
  if (idx >= (uint32_t)w[MW_MAX]) idx = 0; /* a corrupt free stack must not send us outside the values */
  memset(values + (uint64_t)idx * stride, 0, stride);
  memmove(values + (uint64_t)idx * stride, val, vs);
  insert_slot(&m, key, hash, idx, 0, 0);
  __atomic_add_fetch(&w[MW_COUNT], 1, __ATOMIC_SEQ_CST);
  seq_bump(w);
  map_unlock(w);
  return 0;
}

static uint64_t h_map_delete(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  map_view m;
  if (!map_of(ctx, r1, &m)) return js_dispatch(r1, r2, r3, r4, r5, ctx);
  int32_t* w = m.w;
  uint32_t ks = (uint32_t)w[MW_KEY];
  if (!region_find(ctx, r2, ks, 0)) {
    helper_oob(ctx, r2, ks, 0);
    return 0;
  }
  if (w[MW_TYPE] == MAP_ARRAY) return neg(E_INVAL);
  const uint8_t* key = (const uint8_t*)(uintptr_t)r2;
  uint32_t hash = fnv1a(key, ks);
  map_lock(w);
  int64_t slot = find_slot(&m, key, hash);
  if (slot < 0) {
    map_unlock(w);
    return neg(E_NOENT);
  }
  seq_bump(w);
  remove_slot(&m, (uint32_t)slot);
  seq_bump(w);
  map_unlock(w);
  return 0;
}

static uint64_t h_ktime(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  /* The clock process.hrtime.bigint() reads (libuv uv_hrtime: CLOCK_MONOTONIC). */
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint32_t rng_own[2] = {1, 2};
static uint64_t h_prandom(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  /* prandomU32 of src/ebpf/prandom.ts on the same two words, so seedBpfPrandom gives every engine the same
   * sequence: xorshift128+ on 32-bit halves, not cryptographic (Linux prandom_u32 is not either). */
  jit_prog* p = prog_of(ctx);
  uint32_t* st = p->prandom ? p->prandom : rng_own;
  uint32_t x = st[0];
  const uint32_t y = st[1];
  st[0] = y;
  x ^= x << 23;
  x ^= x >> 17;
  x ^= y ^ (y >> 26);
  st[1] = x;
  return (uint32_t)(y + x);
}

/* Any helper without a C implementation: call the JavaScript function given at create time. */
static uint64_t js_dispatch(uint64_t r1, uint64_t r2, uint64_t r3, uint64_t r4, uint64_t r5, jit_ctx* ctx) {
  jit_prog* p = prog_of(ctx);
  napi_env env = p->env;
  napi_value fn, recv, argv[7], result;
  if (!p->js_helper || napi_get_reference_value(env, p->js_helper, &fn) != napi_ok || !fn) {
    ctx->status = JIT_ERR_HELPER;
    ctx->err_pc = ctx->call_pc;
    return 0;
  }
  napi_get_undefined(env, &recv);
  napi_create_double(env, (double)ctx->cur_helper, &argv[0]);
  napi_create_bigint_uint64(env, r1, &argv[1]);
  napi_create_bigint_uint64(env, r2, &argv[2]);
  napi_create_bigint_uint64(env, r3, &argv[3]);
  napi_create_bigint_uint64(env, r4, &argv[4]);
  napi_create_bigint_uint64(env, r5, &argv[5]);
  napi_create_double(env, (double)ctx->call_pc, &argv[6]);
  if (napi_call_function(env, recv, fn, 7, argv, &result) != napi_ok) {
    ctx->status = JIT_ERR_HELPER;
    ctx->err_pc = ctx->call_pc;
    return 0;
  }
  uint64_t v = 0;
  bool lossless;
  bool is_array = false;
  napi_is_array(env, result, &is_array);
  if (is_array) {
    /* [r0]: the helper ended the program (env.exit). */
    napi_value e;
    if (napi_get_element(env, result, 0, &e) == napi_ok && napi_get_value_bigint_uint64(env, e, &v, &lossless) == napi_ok) {
      ctx->status = JIT_STOP;
      ctx->stop_r0 = v;
      return v;
    }
  } else if (napi_get_value_bigint_uint64(env, result, &v, &lossless) == napi_ok) {
    return v;
  }
  ctx->status = JIT_ERR_HELPER;
  ctx->err_pc = ctx->call_pc;
  napi_throw_type_error(env, NULL, "eBPF helper did not return a bigint");
  return 0;
}

/* ---------- load, bind, run, free ---------- */

static void bb_clear(napi_env env, bound_batch* bb) {
  for (uint32_t i = 0; i < bb->nbufs; i++) if (bb->buf[i]) napi_delete_reference(env, bb->buf[i]);
  memset(bb, 0, sizeof(*bb));
}

static void prog_release(napi_env env, jit_prog* p) {
  if (p->freed) return;
  bb_clear(env, &p->bb);
  p->freed = 1;
  if (p->code) munmap(p->code, p->map_size);
  p->code = NULL;
  p->entry = NULL;
  for (uint32_t i = 0; i < p->nbound; i++) if (p->bound[i]) napi_delete_reference(env, p->bound[i]);
  for (uint32_t i = 0; i < p->nmaps; i++) if (p->map_bufs[i]) napi_delete_reference(env, p->map_bufs[i]);
  if (p->out_ref) napi_delete_reference(env, p->out_ref);
  if (p->js_helper) napi_delete_reference(env, p->js_helper);
  if (p->prandom_ref) napi_delete_reference(env, p->prandom_ref);
  p->nbound = p->nmaps = 0;
  p->out_ref = p->js_helper = p->prandom_ref = NULL;
  p->prandom = NULL;
  free(p->ctx);
  p->ctx = NULL;
}

static void prog_finalize(napi_env env, void* data, void* hint) {
  jit_prog* p = (jit_prog*)data;
  prog_release(env, p);
  free(p);
}

/* bpfJitCreate(code, entryOffset, regions[], writable, out, jsHelper|null, nativeHelpers Int32Array(64), mapBuffers[],
 *              prandomState?: Uint32Array(2) over a SharedArrayBuffer, flags?: 1 = no calls, no stores outside the stack frame) */
static napi_value JitCreate(napi_env env, napi_callback_info info) {
  size_t argc = 10;
  napi_value argv[10];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  if (argc < 8) return throw_type(env, "bpfJitCreate needs 8 arguments");
  void* code;
  size_t code_len;
  if (!typed_arg(env, argv[0], napi_uint8_array, &code, &code_len) || code_len == 0) return throw_type(env, "code must be a non-empty Uint8Array");
  uint64_t entry_off;
  if (!get_u64(env, argv[1], &entry_off) || entry_off >= code_len) return throw_range(env, "entry offset outside the code");
  bool is_arr;
  uint32_t nreg = 0, nmaps = 0;
  if (napi_is_array(env, argv[2], &is_arr) != napi_ok || !is_arr) return throw_type(env, "regions must be an array");
  napi_get_array_length(env, argv[2], &nreg);
  if (nreg < 1 || nreg > MAX_BOUND) return throw_range(env, "1..64 regions (stack first, then maps)");
  void* wr;
  size_t wr_len;
  if (!typed_arg(env, argv[3], napi_uint8_array, &wr, &wr_len) || wr_len < nreg) return throw_type(env, "writable must be a Uint8Array with one flag per region");
  void* outp;
  size_t out_len;
  if (!typed_arg(env, argv[4], napi_biguint64_array, &outp, &out_len) || out_len < 8) return throw_type(env, "out must be a BigUint64Array(8)");
  napi_valuetype ht;
  napi_typeof(env, argv[5], &ht);
  if (ht != napi_function && ht != napi_null && ht != napi_undefined) return throw_type(env, "jsHelper must be a function or null");
  void* nh;
  size_t nh_len;
  if (!typed_arg(env, argv[6], napi_int32_array, &nh, &nh_len) || nh_len != JIT_HELPER_SLOTS) return throw_type(env, "nativeHelpers must be an Int32Array(64)");
  if (napi_is_array(env, argv[7], &is_arr) != napi_ok || !is_arr) return throw_type(env, "mapBuffers must be an array");
  napi_get_array_length(env, argv[7], &nmaps);
  if (nmaps > JIT_MAX_MAPS || nmaps + 1 > nreg) return throw_range(env, "too many maps");
  void* rng = NULL;
  size_t rng_len = 0;
  if (argc >= 9) {
    napi_valuetype rt;
    napi_typeof(env, argv[8], &rt);
    if (rt != napi_undefined && rt != napi_null &&
        (!typed_arg(env, argv[8], napi_uint32_array, &rng, &rng_len) || rng_len < 2 || !typed_is_shared(env, argv[8])))
      return throw_type(env, "prandomState must be a Uint32Array(2) over a SharedArrayBuffer");
  }

  jit_prog* p = (jit_prog*)calloc(1, sizeof(jit_prog));
  if (!p) return throw_range(env, "out of memory");
  p->ctx = (jit_ctx*)aligned_alloc(64, sizeof(jit_ctx));
  if (!p->ctx) {
    free(p);
    return throw_range(env, "out of memory");
  }
  memset(p->ctx, 0, sizeof(jit_ctx));
  /* W^X: writable while we copy, then read+execute only. */
  long page = sysconf(_SC_PAGESIZE);
  size_t msize = (code_len + (size_t)page - 1) & ~((size_t)page - 1);
  void* mem = mmap(NULL, msize, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (mem == MAP_FAILED) {
    free(p->ctx);
    free(p);
    return throw_range(env, "mmap failed");
  }
  memset(mem, 0xcc, msize); /* int3 padding */
  memcpy(mem, code, code_len);
  if (mprotect(mem, msize, PROT_READ | PROT_EXEC) != 0) {
    munmap(mem, msize);
    free(p->ctx);
    free(p);
    return throw_range(env, "mprotect failed");
  }
  p->code = (uint8_t*)mem;
  p->code_size = code_len;
  p->map_size = msize;
  p->entry = (jit_entry_fn)(void*)(p->code + entry_off);
  p->nbound = nreg;
  for (uint32_t i = 0; i < nreg; i++) {
    napi_value v;
    napi_get_element(env, argv[2], i, &v);
    void* d;
    size_t l;
    if (!typed_arg(env, v, napi_uint8_array, &d, &l)) {
      p->nbound = i;
      prog_release(env, p);
      free(p);
      return throw_type(env, "each region must be a Uint8Array");
    }
    napi_create_reference(env, v, 1, &p->bound[i]);
    p->writable[i] = ((uint8_t*)wr)[i] ? 1 : 0;
    if (typed_is_shared(env, v)) {
      p->is_static[i] = 1;
      p->static_base[i] = (uint64_t)(uintptr_t)d;
      p->static_len[i] = d ? l : 0;
    }
  }
  p->nmaps = nmaps;
  for (uint32_t i = 0; i < nmaps; i++) {
    napi_value v;
    napi_get_element(env, argv[7], i, &v);
    napi_valuetype t;
    napi_typeof(env, v, &t);
    /* A Uint8Array over the map's whole SharedArrayBuffer (N-API gives no data pointer for a SharedArrayBuffer
     * itself): resolved once, a SharedArrayBuffer is never detached. */
    void* md = NULL;
    size_t ml = 0;
    if (t == napi_object && typed_arg(env, v, napi_uint8_array, &md, &ml) && typed_is_shared(env, v) && md) {
      napi_create_reference(env, v, 1, &p->map_bufs[i]);
      p->map_base[i] = (uint8_t*)md;
      p->map_len[i] = ml;
    }
  }
  napi_create_reference(env, argv[4], 1, &p->out_ref);
  if (rng) {
    napi_create_reference(env, argv[8], 1, &p->prandom_ref);
    p->prandom = (uint32_t*)rng;
  }
  uint64_t flags = 0;
  if (argc >= 10) get_u64(env, argv[9], &flags);
  p->side_effect_free = (flags & 1) != 0;
  p->regions_static = 1;
  for (uint32_t i = 0; i < p->nbound; i++) p->regions_static &= p->is_static[i];
  if (typed_is_shared(env, argv[4])) p->out_static = (uint64_t*)outp;
  /* Weak (refcount 0): the helper closure refers to the JavaScript object that owns this handle, so a strong
   * reference would be a GC root keeping both alive forever. The owner keeps the closure alive itself. */
  if (ht == napi_function) napi_create_reference(env, argv[5], 0, &p->js_helper);
  jit_ctx* ctx = p->ctx;
  ctx->shim = (uint64_t)(uintptr_t)p;
  for (int i = 0; i < JIT_HELPER_SLOTS; i++) {
    jit_helper_fn f = js_dispatch;
    switch (((int32_t*)nh)[i]) {
      case 1: f = h_map_lookup; break;
      case 2: f = h_map_update; break;
      case 3: f = h_map_delete; break;
      case 5: f = h_ktime; break;
      case 7: f = h_prandom; break;
      default: break;
    }
    ctx->helpers[i] = (uint64_t)(uintptr_t)f;
  }
  napi_value ext;
  if (napi_create_external(env, p, prog_finalize, NULL, &ext) != napi_ok) {
    prog_release(env, p);
    free(p);
    return throw_range(env, "could not create the handle");
  }
  return ext;
}

static jit_prog* prog_arg(napi_env env, napi_value v) {
  napi_valuetype t;
  if (napi_typeof(env, v, &t) != napi_ok || t != napi_external) return NULL;
  void* d = NULL;
  napi_get_value_external(env, v, &d);
  return (jit_prog*)d;
}

/* Resolves every bound region's current address (buffers may have been detached since: length 0 then). */
static int bind_regions(napi_env env, jit_prog* p) {
  jit_ctx* ctx = p->ctx;
  if (p->regions_bound) return 1;
  for (uint32_t i = 0; i < p->nbound; i++) {
    if (p->is_static[i]) {
      jit_region* r = &ctx->regions[1 + i];
      if (r->base != p->static_base[i] || r->len != p->static_len[i]) set_region(r, p->static_base[i], p->static_len[i], p->writable[i]);
      continue;
    }
    napi_value v;
    void* d = NULL;
    size_t l = 0;
    if (napi_get_reference_value(env, p->bound[i], &v) != napi_ok || !v || !typed_arg(env, v, napi_uint8_array, &d, &l)) l = 0;
    set_region(&ctx->regions[1 + i], (uint64_t)(uintptr_t)d, d ? l : 0, p->writable[i]);
  }
  ctx->nregions = 1 + p->nbound;
  jit_region* stk = &ctx->regions[1];
  if (stk->len < JIT_STACK_BYTES) return 0;
  ctx->frame0_top = stk->base + 512;
  ctx->stack_limit = stk->base + JIT_STACK_BYTES;
  p->regions_bound = p->regions_static;
  return 1;
}

static void write_out(napi_env env, jit_prog* p, uint64_t errors) {
  uint64_t* o = p->out_static;
  if (!o) {
    napi_value v;
    void* d;
    size_t l;
    if (napi_get_reference_value(env, p->out_ref, &v) != napi_ok || !typed_arg(env, v, napi_biguint64_array, &d, &l) || l < 8) return;
    o = (uint64_t*)d;
  }
  jit_ctx* c = p->ctx;
  o[0] = c->r0;
  o[1] = c->first_status;
  o[2] = c->first_pc;
  /* Addresses are reported relative to their region so the TypeScript side can rebuild a virtual address. */
  o[3] = c->first_addr;
  o[4] = c->first_size;
  o[5] = c->first_index;
  o[6] = errors;
  o[7] = 0;
  for (uint64_t i = 0; i < c->nregions; i++) {
    jit_region* r = &c->regions[i];
    if (errors && c->first_addr >= r->base && c->first_addr - r->base <= r->len) {
      o[7] = i + 1; /* region index + 1; o[3] becomes the offset in it */
      o[3] = c->first_addr - r->base;
      break;
    }
  }
}

static napi_value run_common(napi_env env, jit_prog* p, uint64_t budget) {
  jit_ctx* ctx = p->ctx;
  ctx->budget_init = (int64_t)(budget > (uint64_t)INT64_MAX ? INT64_MAX : budget);
  ctx->b_index = 0;
  ctx->err_count = 0;
  ctx->first_status = 0;
  ctx->first_pc = ctx->first_addr = ctx->first_size = ctx->first_index = 0;
  ctx->status = 0;
  ctx->r0 = 0;
  p->env = env;
  p->running = 1;
  p->entry(ctx);
  p->running = 0;
  p->env = NULL;
  uint64_t errors = ctx->err_count;
  write_out(env, p, errors);
  bool pending = false;
  napi_is_exception_pending(env, &pending);
  if (pending) return NULL;
  napi_value r;
  napi_create_double(env, (double)errors, &r);
  return r;
}

#define BUSY_RUNNING "this JIT program is already running (re-entrant run from a helper)"

/* The arguments of a call whose first one is a live JIT handle; NULL (with a TypeError/RangeError pending) when it
 * is not one, or when the program is running and `busy` (the message) forbids that. */
static jit_prog* live_prog(napi_env env, napi_callback_info info, size_t* argc, napi_value* argv, const char* busy) {
  napi_get_cb_info(env, info, argc, argv, NULL, NULL);
  jit_prog* p = *argc >= 1 ? prog_arg(env, argv[0]) : NULL;
  if (!p || p->freed) return throw_type(env, "not a live JIT handle"), NULL;
  if (busy && p->running) return throw_range(env, busy), NULL;
  return p;
}

/* bpfJitRun(handle, mem: Uint8Array, budget) → error count (0 or 1); out[0] = r0. */
static napi_value JitRun(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  jit_prog* p = live_prog(env, info, &argc, argv, BUSY_RUNNING);
  if (!p) return NULL;
  void* mem;
  size_t len;
  if (argc < 2 || !typed_arg(env, argv[1], napi_uint8_array, &mem, &len)) return throw_type(env, "memory must be a Uint8Array");
  if (len > 0xffffffffu) return throw_range(env, "memory larger than 4 GiB");
  uint64_t budget;
  if (argc < 3 || !get_u64(env, argv[2], &budget)) return throw_type(env, "budget must be a non-negative number");
  if (!bind_regions(env, p)) return throw_range(env, "the stack region is missing or detached");
  jit_ctx* ctx = p->ctx;
  /* A single run starts on a zeroed stack, as program.run does on every engine (batches do not clear it). */
  memset((void*)(uintptr_t)ctx->regions[1].base, 0, ctx->regions[1].len);
  ctx->one_off = 0;
  ctx->one_len = (uint32_t)len;
  ctx->b_data = (uint64_t)(uintptr_t)mem;
  ctx->b_offs = (uint64_t)(uintptr_t)&ctx->one_off;
  ctx->b_lens = (uint64_t)(uintptr_t)&ctx->one_len;
  ctx->b_verd = (uint64_t)(uintptr_t)&ctx->one_verdict;
  ctx->b_count = 1;
  ctx->b_dlen = len;
  set_region(&ctx->regions[0], (uint64_t)(uintptr_t)mem, len, 1);
  return run_common(env, p, budget);
}

/* Whether every packet [o[i], o[i] + l[i]) lies inside dlen bytes, checked for the whole batch before the run (the
 * generated loop then needs no per-packet check: 3 instructions each). No early exit and 32-bit lanes, so the
 * compiler vectorises it, with AVX2 where the CPU has it (a clone picked at load time): about 1 instruction per
 * packet. With dlen < 2^32, o + l <= dlen is o <= dlen && l <= dlen - o. */
__attribute__((target_clones("avx2", "default"))) static int lanes_inside(const uint32_t* o, const uint32_t* l, uint64_t count, uint64_t dlen) {
  if (dlen > 0xffffffffull) {
    for (uint64_t i = 0; i < count; i++)
      if ((uint64_t)o[i] + l[i] > dlen) return 0;
    return 1;
  }
  const uint32_t d = (uint32_t)dlen;
  uint32_t bad = 0;
  /* x > y as max(x, y) != y: vpmaxud + vpxor per test, no sign-bias tricks (9 instructions per 8 packets). */
  for (uint64_t i = 0; i < count; i++) {
    const uint32_t oi = o[i], li = l[i], room = d - oi;
    bad |= ((oi > d ? oi : d) ^ d) | ((li > room ? li : room) ^ room);
  }
  return bad == 0;
}

static int overlaps(const void* a, uint64_t alen, const void* b, uint64_t blen) {
  uintptr_t x = (uintptr_t)a, y = (uintptr_t)b;
  return alen && blen && x < y + blen && y < x + alen;
}

/* Lanes checked up front must stay as checked: neither the verdicts written during the run nor the program's
 * stores to packet data may land on them (a program without side effects never stores to packet data). */
static int lanes_stay_put(const void* offs, const void* lens, uint64_t count, const void* verd, const void* data, uint64_t dlen,
                          int side_effect_free) {
  if (overlaps(verd, count * 4, offs, count * 4) || overlaps(verd, count * 4, lens, count * 4)) return 0;
  return side_effect_free || (!overlaps(data, dlen, offs, count * 4) && !overlaps(data, dlen, lens, count * 4));
}

/* The batch run shared by bpfJitRunBatch and bpfJitRunBound once their arguments are unwrapped: the
 * lanes are checked, the regions bound and the loop state stored in the ctx. */
static napi_value run_lanes(napi_env env, jit_prog* p, void* data, size_t dlen, const uint32_t* offs, const uint32_t* lens,
                            uint64_t count, void* verd, uint64_t budget) {
  if (!lanes_inside(offs, lens, count, dlen)) return throw_range(env, "a packet lies outside the batch data");
  if (!lanes_stay_put(offs, lens, count, verd, data, dlen, p->side_effect_free))
    return throw_range(env, p->side_effect_free ? "the verdicts overlap the offsets or lengths"
                                                : "the verdicts or the packet data overlap the offsets or lengths");
  if (!bind_regions(env, p)) return throw_range(env, "the stack region is missing or detached");
  jit_ctx* ctx = p->ctx;
  ctx->b_data = (uint64_t)(uintptr_t)data;
  ctx->b_offs = (uint64_t)(uintptr_t)offs;
  ctx->b_lens = (uint64_t)(uintptr_t)lens;
  ctx->b_verd = (uint64_t)(uintptr_t)verd;
  ctx->b_count = count;
  ctx->b_dlen = dlen;
  /* Region 0 is re-pointed at each packet by the generated loop; writable like the TypeScript input region. */
  ctx->regions[0].writable = 1;
  return run_common(env, p, budget);
}

/* bpfJitRunBatch(handle, data, offsets, lengths, count, verdicts, budget) → packets that hit an error. */
static napi_value JitRunBatch(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  jit_prog* p = live_prog(env, info, &argc, argv, BUSY_RUNNING);
  if (!p) return NULL;
  if (argc < 7) return throw_type(env, "bpfJitRunBatch needs 7 arguments");
  void *data, *offs, *lens, *verd;
  size_t dlen, olen, llen, vlen;
  if (!typed_arg(env, argv[1], napi_uint8_array, &data, &dlen)) return throw_type(env, "data must be a Uint8Array");
  if (!typed_arg(env, argv[2], napi_uint32_array, &offs, &olen)) return throw_type(env, "offsets must be a Uint32Array");
  if (!typed_arg(env, argv[3], napi_uint32_array, &lens, &llen)) return throw_type(env, "lengths must be a Uint32Array");
  uint64_t count, budget;
  if (!get_u64(env, argv[4], &count)) return throw_type(env, "count must be a non-negative number");
  if (!typed_arg(env, argv[5], napi_uint32_array, &verd, &vlen)) return throw_type(env, "verdicts must be a Uint32Array");
  if (!get_u64(env, argv[6], &budget)) return throw_type(env, "budget must be a non-negative number");
  if (count > olen || count > llen || count > vlen) return throw_range(env, "count exceeds the offsets, lengths or verdicts arrays");
  return run_lanes(env, p, data, dlen, (const uint32_t*)offs, (const uint32_t*)lens, count, verd, budget);
}

/* Adds the buffer behind a typed array (its data at `data`, `off` bytes into the buffer, `bytes` long) to the binding,
 * once per distinct buffer; 0 when it cannot be bound. */
static int bb_add(napi_env env, bound_batch* bb, napi_value ab, void* data, size_t off, size_t bytes) {
  uint8_t* base = data ? (uint8_t*)data - off : NULL;
  for (uint32_t i = 0; i < bb->nbufs; i++) {
    napi_value v;
    bool same = false;
    if (napi_get_reference_value(env, bb->buf[i], &v) == napi_ok && v && napi_strict_equals(env, v, ab, &same) == napi_ok && same) {
      if (!bb->base[i]) bb->base[i] = base;
      if (bytes && base != bb->base[i]) return 0;
      if (off + bytes > bb->need[i]) bb->need[i] = off + bytes;
      return 1;
    }
  }
  if (bb->nbufs >= BB_MAX_BUFS) return 0;
  bool is_ab = false; /* false for a SharedArrayBuffer: never detached, never shrunk (a growable one only grows) */
  if (napi_is_arraybuffer(env, ab, &is_ab) != napi_ok) return 0;
  if (is_ab) {
    napi_value r;
    bool resizable = false;
    if (napi_get_named_property(env, ab, "resizable", &r) == napi_ok) napi_get_value_bool(env, r, &resizable);
    if (resizable) return 0;
  }
  if (napi_create_reference(env, ab, 1, &bb->buf[bb->nbufs]) != napi_ok) return 0;
  bb->base[bb->nbufs] = base;
  bb->need[bb->nbufs] = bytes ? off + bytes : 0;
  bb->detachable[bb->nbufs++] = is_ab ? 1 : 0;
  return 1;
}

/* A typed array of the wanted type with its buffer (napi_get_typedarray_info moves an on-heap array's data off the
 * heap when asked for the buffer, so the data pointer stays put from then on). */
static int typed_buf(napi_env env, napi_value v, napi_typedarray_type want, void** data, size_t* len, napi_value* ab, size_t* off) {
  napi_typedarray_type t;
  if (napi_get_typedarray_info(env, v, &t, len, data, ab, off) != napi_ok || t != want) return 0;
  return 1;
}

/* bpfJitBind(handle, data, offsets, lengths, verdicts) → true when bound (runs then need only bpfJitRunBound), false
 * when a buffer cannot be bound (resizable): the caller keeps using bpfJitRunBatch. */
static napi_value JitBind(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  jit_prog* p = live_prog(env, info, &argc, argv, "cannot bind a batch while this JIT program runs");
  if (!p) return NULL;
  if (argc < 5) return throw_type(env, "bpfJitBind needs 5 arguments");
  bb_clear(env, &p->bb);
  void *data, *offs, *lens, *verd;
  size_t dlen, olen, llen, vlen;
  napi_value ab[4];
  size_t off[4];
  if (!typed_buf(env, argv[1], napi_uint8_array, &data, &dlen, &ab[0], &off[0])) return throw_type(env, "data must be a Uint8Array");
  if (!typed_buf(env, argv[2], napi_uint32_array, &offs, &olen, &ab[1], &off[1])) return throw_type(env, "offsets must be a Uint32Array");
  if (!typed_buf(env, argv[3], napi_uint32_array, &lens, &llen, &ab[2], &off[2])) return throw_type(env, "lengths must be a Uint32Array");
  if (!typed_buf(env, argv[4], napi_uint32_array, &verd, &vlen, &ab[3], &off[3])) return throw_type(env, "verdicts must be a Uint32Array");
  bound_batch* bb = &p->bb;
  napi_value r;
  void* ptrs[4] = {data, offs, lens, verd};
  size_t bytes[4] = {dlen, olen * 4, llen * 4, vlen * 4};
  for (int i = 0; i < 4; i++) {
    if (!bb_add(env, bb, ab[i], ptrs[i], off[i], ptrs[i] ? bytes[i] : 0)) {
      bb_clear(env, bb);
      napi_get_boolean(env, false, &r);
      return r;
    }
  }
  bb->data = (uint8_t*)data;
  bb->dlen = data ? dlen : 0;
  bb->offs = (const uint32_t*)offs;
  bb->lens = (const uint32_t*)lens;
  bb->lanes = offs && lens ? (olen < llen ? olen : llen) : 0;
  bb->verd = (uint32_t*)verd;
  bb->vlen = verd ? vlen : 0;
  bb->ok = 1;
  napi_get_boolean(env, true, &r);
  return r;
}

/* bpfJitRunBound(handle, count, budget) → packets that hit an error: bpfJitRunBatch over the batch bound last. */
static napi_value JitRunBound(napi_env env, napi_callback_info info) {
  size_t argc = 3;
  napi_value argv[3];
  jit_prog* p = live_prog(env, info, &argc, argv, BUSY_RUNNING);
  if (!p) return NULL;
  bound_batch* bb = &p->bb;
  if (!bb->ok) return throw_range(env, "no batch is bound to this JIT program");
  for (uint32_t i = 0; i < bb->nbufs; i++) {
    if (!bb->detachable[i]) continue;
    /* Detached: length 0 (and no data); shrunk: shorter than the views reach. */
    napi_value v;
    void* d = NULL;
    size_t len = 0;
    if (napi_get_reference_value(env, bb->buf[i], &v) != napi_ok || !v || napi_get_arraybuffer_info(env, v, &d, &len) != napi_ok ||
        len < bb->need[i] || (bb->need[i] && (uint8_t*)d != bb->base[i])) {
      bb_clear(env, bb);
      return throw_range(env, "a buffer of the bound batch has been detached (transferred) or shrunk");
    }
  }
  uint64_t count, budget;
  if (argc < 3 || !get_u64(env, argv[1], &count) || !get_u64(env, argv[2], &budget))
    return throw_type(env, "count and budget must be non-negative numbers");
  if (count > bb->lanes || count > bb->vlen) return throw_range(env, "count exceeds the offsets, lengths or verdicts arrays");
  return run_lanes(env, p, bb->data, bb->dlen, bb->offs, bb->lens, count, bb->verd, budget);
}

/* bpfJitRegionBases(handle) → BigUint64Array of [base, len] per region as bound by the last run (helpers use it). */
static napi_value JitRegions(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  jit_prog* p = live_prog(env, info, &argc, argv, NULL);
  if (!p) return NULL;
  jit_ctx* c = p->ctx;
  size_t n = c->nregions ? c->nregions : 1;
  napi_value ab, arr;
  void* d;
  napi_create_arraybuffer(env, (n + 1) * 16, &d, &ab);
  uint64_t* o = (uint64_t*)d;
  for (size_t i = 0; i < n; i++) {
    o[2 * i] = c->regions[i].base;
    o[2 * i + 1] = c->regions[i].len;
  }
  o[2 * n] = c->b_index; /* the packet being run */
  o[2 * n + 1] = 0;
  napi_create_typedarray(env, napi_biguint64_array, (n + 1) * 2, ab, 0, &arr);
  return arr;
}

static napi_value JitFree(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  napi_get_cb_info(env, info, &argc, argv, NULL, NULL);
  jit_prog* p = argc >= 1 ? prog_arg(env, argv[0]) : NULL;
  if (!p) return throw_type(env, "not a JIT handle");
  if (p->running) return throw_range(env, "cannot free a running JIT program");
  prog_release(env, p);
  return NULL;
}

#define JIT_PROP ((napi_property_attributes)(napi_writable | napi_enumerable | napi_configurable))

void elysia_register_jit(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"bpfJitCreate", NULL, JitCreate, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitRun", NULL, JitRun, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitRunBatch", NULL, JitRunBatch, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitBind", NULL, JitBind, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitRunBound", NULL, JitRunBound, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitRegions", NULL, JitRegions, NULL, NULL, NULL, JIT_PROP, NULL},
      {"bpfJitFree", NULL, JitFree, NULL, NULL, NULL, JIT_PROP, NULL},
  };
  napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props);
}
