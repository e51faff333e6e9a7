/**
 * eBPF maps (array, hash, LRU hash) whose whole state lives in ONE SharedArrayBuffer with a fixed layout, so
 * worker threads (`BpfMap.attach(map.buffer)`) and native code (the x86-64 JIT's helpers) see and change the
 * same entries. Type numbers follow Linux `enum bpf_map_type` (include/uapi/linux/bpf.h).
 *
 * LAYOUT (version 1; all integers little-endian; "word i" = the u32 at byte 4·i)
 *
 *   header, 128 bytes
 *     word 0   magic 0x4d465042 ('BPFM')          word 1   layout version (1)
 *     word 2   map type (1 hash, 2 array, 9 LRU hash)
 *     word 3   key size                           word 4   value size
 *     word 5   value stride (value size rounded up to 8)
 *     word 6   max entries                        word 7   flags (BPF_F_RDONLY_PROG = 0x80: read-only to programs)
 *     word 8   slot count (hash: power of two ≥ 2 × max entries; array: 0)
 *     word 9   slot size in bytes (16 + key size rounded up to 8)
 *     word 10  live entries            (Atomics)  word 11  tombstones             (under the lock)
 *     word 12  writer lock, 0 free / 1 held (Atomics.compareExchange)
 *     word 13  seqlock counter: odd while a writer changes the slot table (Atomics)
 *     word 14  LRU clock (Atomics.add on every lookup/update of an LRU map)
 *     word 15  free-list top: how many value indices sit on the free stack (under the lock)
 *     word 16  byte offset of the slot table     word 17  byte offset of the value storage
 *     word 18  byte offset of the free stack     word 19  reserved (a futex word nobody notifies, for backoff)
 *     words 20..23 reserved (0)
 *     bytes 96..127  map name, UTF-8, NUL-padded (at most 31 bytes)
 *   slot table (hash maps), slot count × slot size, each slot:
 *     +0 u32 state (0 empty, 1 full, 2 deleted = tombstone, written last with Atomics.store)
 *     +4 u32 hash (FNV-1a 32 of the key bytes)   +8 u32 value index   +12 u32 LRU stamp (clock at last use)
 *     +16 key bytes
 *   free stack (hash maps): max entries × u32 value indices; entries [0, top) are free
 *   value storage: max entries × value stride, 64-byte aligned. An array map's value i is entry i; a hash
 *     entry's value is `values[index × stride]`. This is the map's memory region for the engines.
 *
 * PROTOCOL (what C code must do to interoperate)
 *   lookup: s = seq; if s is odd retry; probe from slot (hash & (slot count − 1)) linearly, stop at an empty
 *     slot, match a full slot with equal hash and key; re-read seq, retry if it changed. LRU maps then store the
 *     incremented clock into the slot's stamp.
 *   update/delete: take the lock (CAS 0→1), seq += 1 (odd), change the table, seq += 1 (even), release.
 *   A value found by lookup stays at its index until that key is deleted; its bytes may be changed
 *   concurrently (as in Linux: use atomic instructions for counters).
 */
import { NetworkError } from '../errors.js';
import { registerBpfHelper, type BpfHelperEnv, type BpfMapLike } from './helpers.js';

/** Linux map type numbers we implement. */
export const BPF_MAP_TYPE_HASH = 1;
export const BPF_MAP_TYPE_ARRAY = 2;
export const BPF_MAP_TYPE_LRU_HASH = 9;

/** Update flags of bpf_map_update_elem (include/uapi/linux/bpf.h). */
export const BPF_ANY = 0;
export const BPF_NOEXIST = 1;
export const BPF_EXIST = 2;
/** Map flag: programs may read but not write the values (global `.rodata`). */
export const BPF_F_RDONLY_PROG = 0x80;

/** Negative errno values returned by the element operations, as the kernel helpers return them. */
export const BPF_ENOENT = -2;
export const BPF_E2BIG = -7;
export const BPF_EEXIST = -17;
export const BPF_EINVAL = -22;

export const BPF_MAP_MAGIC = 0x4d465042;
export const BPF_MAP_LAYOUT_VERSION = 1;
export const BPF_MAP_HEADER_BYTES = 128;
/** Word indices of the header (see the layout above). */
export const BpfMapHeader = {
  MAGIC: 0,
  VERSION: 1,
  TYPE: 2,
  KEY_SIZE: 3,
  VALUE_SIZE: 4,
  VALUE_STRIDE: 5,
  MAX_ENTRIES: 6,
  FLAGS: 7,
  SLOT_COUNT: 8,
  SLOT_SIZE: 9,
  COUNT: 10,
  TOMBSTONES: 11,
  LOCK: 12,
  SEQ: 13,
  LRU_CLOCK: 14,
  FREE_TOP: 15,
  SLOTS_OFFSET: 16,
  VALUES_OFFSET: 17,
  FREE_OFFSET: 18,
} as const;
const H = BpfMapHeader;
const NAME_OFFSET = 96;
const NAME_BYTES = 32;
const SLOT_EMPTY = 0;
const SLOT_FULL = 1;
const SLOT_DELETED = 2;
const SLOT_HEADER = 16;
/** Largest map we create: keeps every offset well inside 32 bits. */
const MAX_MAP_BYTES = 1 << 30;

/** Map kinds by name, or a Linux type number. */
export type BpfMapKind = 'hash' | 'array' | 'lru_hash';

/** What a new map looks like. */
export interface BpfMapOptions {
  type: BpfMapKind | number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  name?: string;
  flags?: number;
}

/** A key or value: bytes, or a number/bigint stored little-endian in the key/value size (1, 2, 4 or 8 bytes). */
export type BpfMapData = Uint8Array | number | bigint;

function kindToType(t: BpfMapKind | number): number {
  if (t === 'hash') return BPF_MAP_TYPE_HASH;
  if (t === 'array') return BPF_MAP_TYPE_ARRAY;
  if (t === 'lru_hash') return BPF_MAP_TYPE_LRU_HASH;
  return t;
}

/** The name of a Linux map type number (for messages). */
export function bpfMapTypeName(type: number): string {
  switch (type) {
    case BPF_MAP_TYPE_HASH:
      return 'hash';
    case BPF_MAP_TYPE_ARRAY:
      return 'array';
    case BPF_MAP_TYPE_LRU_HASH:
      return 'lru_hash';
    default:
      return `type ${type}`;
  }
}

function round8(n: number): number {
  return (n + 7) & ~7;
}
function nextPow2(n: number): number {
  let p = 1;
  while (p < n) p *= 2;
  return p;
}

/** FNV-1a 32-bit hash of `len` bytes at `off` (the hash every implementation of the layout must use). */
export function bpfMapHash(bytes: Uint8Array, off: number, len: number): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < len; i++) {
    h ^= bytes[off + i]!;
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/**
 * One eBPF map over a SharedArrayBuffer. Usable from TypeScript (`get/set/delete/entries`), from programs
 * (its `values` are a memory region; helpers 1–3 call {@link lookupValueOffset}/{@link updateElem}/
 * {@link deleteElem}) and from other threads (`BpfMap.attach(map.buffer)`).
 */
export class BpfMap implements BpfMapLike {
  readonly buffer: SharedArrayBuffer;
  readonly type: number;
  readonly name: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly valueStride: number;
  readonly maxEntries: number;
  readonly flags: number;
  /** The value storage (maxEntries × valueStride bytes): the map's memory region for the engines. */
  readonly values: Uint8Array;
  private readonly words: Int32Array;
  private readonly bytes: Uint8Array;
  private readonly slotCount: number;
  private readonly slotSize: number;
  private readonly slotsOffset: number;
  private readonly freeOffset: number;
  private readonly valuesOffset: number;

  private constructor(buffer: SharedArrayBuffer) {
    if (!(buffer instanceof SharedArrayBuffer) || buffer.byteLength < BPF_MAP_HEADER_BYTES) {
      throw new NetworkError('INVALID_ARGUMENT', 'not a BpfMap buffer (too small or not a SharedArrayBuffer)');
    }
    this.buffer = buffer;
    this.words = new Int32Array(buffer);
    this.bytes = new Uint8Array(buffer);
    const w = this.words;
    if (w[H.MAGIC] !== BPF_MAP_MAGIC || w[H.VERSION] !== BPF_MAP_LAYOUT_VERSION) {
      throw new NetworkError('INVALID_ARGUMENT', 'not a BpfMap buffer (bad magic or layout version)', {
        field: 'magic',
        actual: w[H.MAGIC],
      });
    }
    this.type = w[H.TYPE]!;
    this.keySize = w[H.KEY_SIZE]!;
    this.valueSize = w[H.VALUE_SIZE]!;
    this.valueStride = w[H.VALUE_STRIDE]!;
    this.maxEntries = w[H.MAX_ENTRIES]!;
    this.flags = w[H.FLAGS]!;
    this.slotCount = w[H.SLOT_COUNT]!;
    this.slotSize = w[H.SLOT_SIZE]!;
    this.slotsOffset = w[H.SLOTS_OFFSET]!;
    this.valuesOffset = w[H.VALUES_OFFSET]!;
    this.freeOffset = w[H.FREE_OFFSET]!;
    const end = this.valuesOffset + this.maxEntries * this.valueStride;
    if (end > buffer.byteLength || this.slotsOffset + this.slotCount * this.slotSize > buffer.byteLength) {
      throw new NetworkError('INVALID_ARGUMENT', 'BpfMap buffer is shorter than its header says');
    }
    this.values = new Uint8Array(buffer, this.valuesOffset, this.maxEntries * this.valueStride);
    const nameBytes = this.bytes.subarray(NAME_OFFSET, NAME_OFFSET + NAME_BYTES);
    const nul = nameBytes.indexOf(0);
    this.name = new TextDecoder().decode(nameBytes.subarray(0, nul < 0 ? NAME_BYTES : nul));
  }

  /** Creates a map. Hash and LRU maps take any key size; array keys are u32 indices (key size 4). */
  static create(options: BpfMapOptions): BpfMap {
    const type = kindToType(options.type);
    const { keySize, valueSize, maxEntries } = options;
    const flags = options.flags ?? 0;
    const name = options.name ?? '';
    if (type !== BPF_MAP_TYPE_HASH && type !== BPF_MAP_TYPE_ARRAY && type !== BPF_MAP_TYPE_LRU_HASH) {
      throw new NetworkError('UNSUPPORTED', `map type ${bpfMapTypeName(type)} is not supported (hash, array, lru_hash are)`, {
        field: 'type',
        actual: type,
      });
    }
    const bad = (field: string, v: unknown, why: string) =>
      new NetworkError('INVALID_ARGUMENT', `map ${name || '(unnamed)'}: ${field} ${String(v)} ${why}`, { field, actual: String(v) });
    if (!Number.isInteger(keySize) || keySize < 1 || keySize > 512) throw bad('keySize', keySize, 'must be 1..512');
    if (type === BPF_MAP_TYPE_ARRAY && keySize !== 4) throw bad('keySize', keySize, 'must be 4 for an array map');
    if (!Number.isInteger(valueSize) || valueSize < 1 || valueSize > 1 << 20) throw bad('valueSize', valueSize, 'must be 1..1 MiB');
    if (!Number.isInteger(maxEntries) || maxEntries < 1 || maxEntries > 1 << 24) throw bad('maxEntries', maxEntries, 'must be 1..2^24');
    const valueStride = round8(valueSize);
    const isHash = type !== BPF_MAP_TYPE_ARRAY;
    const slotCount = isHash ? nextPow2(maxEntries * 2) : 0;
    const slotSize = isHash ? SLOT_HEADER + round8(keySize) : 0;
    const slotsOffset = BPF_MAP_HEADER_BYTES;
    const freeOffset = slotsOffset + slotCount * slotSize;
    const valuesOffset = (freeOffset + (isHash ? maxEntries * 4 : 0) + 63) & ~63;
    const total = valuesOffset + maxEntries * valueStride;
    if (total > MAX_MAP_BYTES) throw bad('size', total, `bytes exceed the ${MAX_MAP_BYTES}-byte limit`);
    const sab = new SharedArrayBuffer(total);
    const w = new Int32Array(sab);
    w[H.MAGIC] = BPF_MAP_MAGIC;
    w[H.VERSION] = BPF_MAP_LAYOUT_VERSION;
    w[H.TYPE] = type;
    w[H.KEY_SIZE] = keySize;
    w[H.VALUE_SIZE] = valueSize;
    w[H.VALUE_STRIDE] = valueStride;
    w[H.MAX_ENTRIES] = maxEntries;
    w[H.FLAGS] = flags;
    w[H.SLOT_COUNT] = slotCount;
    w[H.SLOT_SIZE] = slotSize;
    w[H.SLOTS_OFFSET] = slotsOffset;
    w[H.VALUES_OFFSET] = valuesOffset;
    w[H.FREE_OFFSET] = freeOffset;
    if (isHash) {
      // The free stack pops from the top: push indices in reverse so entries fill values 0, 1, 2 … in order.
      for (let i = 0; i < maxEntries; i++) w[freeOffset / 4 + i] = maxEntries - 1 - i;
      w[H.FREE_TOP] = maxEntries;
    } else {
      w[H.COUNT] = maxEntries;
    }
    const enc = new TextEncoder().encode(name);
    let n = Math.min(enc.length, NAME_BYTES - 1);
    // Do not cut a UTF-8 sequence in half.
    while (n > 0 && n < enc.length && (enc[n]! & 0xc0) === 0x80) n--;
    new Uint8Array(sab, NAME_OFFSET, NAME_BYTES).set(enc.subarray(0, n));
    return new BpfMap(sab);
  }

  /** Opens a map another thread (or native code) created, from its buffer. */
  static attach(buffer: SharedArrayBuffer): BpfMap {
    return new BpfMap(buffer);
  }

  /** 'hash' | 'array' | 'lru_hash'. */
  get kind(): BpfMapKind {
    return bpfMapTypeName(this.type) as BpfMapKind;
  }

  /** Programs may not write the values (e.g. `.rodata`). */
  get readOnly(): boolean {
    return (this.flags & BPF_F_RDONLY_PROG) !== 0;
  }

  /** Number of entries (array maps: always maxEntries). */
  get size(): number {
    return Atomics.load(this.words, H.COUNT);
  }

  // ---- conversions -------------------------------------------------------------------------------

  private toBytes(d: BpfMapData, size: number, what: 'key' | 'value'): Uint8Array {
    if (d instanceof Uint8Array) {
      if (d.length !== size) {
        throw new NetworkError('INVALID_ARGUMENT', `map ${this.name}: ${what} has ${d.length} bytes, expected ${size}`, {
          field: what,
          expected: size,
          actual: d.length,
        });
      }
      return d;
    }
    if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
      throw new NetworkError('INVALID_ARGUMENT', `map ${this.name}: a number ${what} needs a ${what} size of 1, 2, 4 or 8 (it is ${size})`, {
        field: what,
      });
    }
    if (typeof d === 'number' && !Number.isSafeInteger(d)) {
      throw new NetworkError('INVALID_ARGUMENT', `map ${this.name}: ${what} ${d} is not an integer`, { field: what });
    }
    const out = new Uint8Array(size);
    let v = BigInt.asUintN(size * 8, BigInt(d));
    for (let i = 0; i < size; i++) {
      out[i] = Number(v & 0xffn);
      v >>= 8n;
    }
    return out;
  }

  private keyBytes(key: BpfMapData): Uint8Array {
    return this.toBytes(key, this.keySize, 'key');
  }

  // ---- the element operations (used by the helpers and by native code's mirror of them) -----------

  /**
   * Byte offset in {@link values} of the value for the key at `key[keyOff, keyOff + keySize)`, or -1.
   * Lock-free (seqlock retry). LRU maps mark the entry as used.
   */
  lookupValueOffset(key: Uint8Array, keyOff = 0): number {
    if (keyOff < 0 || keyOff + this.keySize > key.length) {
      throw new NetworkError('OUT_OF_BOUNDS', `map ${this.name}: key of ${this.keySize} bytes at ${keyOff} is outside its buffer`);
    }
    if (this.type === BPF_MAP_TYPE_ARRAY) {
      const idx = (key[keyOff]! | (key[keyOff + 1]! << 8) | (key[keyOff + 2]! << 16) | (key[keyOff + 3]! << 24)) >>> 0;
      return idx < this.maxEntries ? idx * this.valueStride : -1;
    }
    const w = this.words;
    const hash = bpfMapHash(key, keyOff, this.keySize);
    for (let spins = 0; ; spins++) {
      const s1 = Atomics.load(w, H.SEQ);
      if ((s1 & 1) !== 0) {
        this.backoff(spins);
        continue;
      }
      const slot = this.findSlot(key, keyOff, hash);
      let off = -1;
      if (slot >= 0) off = this.slotValueIndex(slot) * this.valueStride;
      if (Atomics.load(w, H.SEQ) !== s1) continue;
      if (slot >= 0 && this.type === BPF_MAP_TYPE_LRU_HASH) this.touch(slot);
      return off;
    }
  }

  /**
   * bpf_map_update_elem: stores the value at `value[valueOff, valueOff + valueSize)` under the key.
   * Returns 0 or a negative errno (EEXIST for NOEXIST on a present key, ENOENT for EXIST on an absent key,
   * E2BIG when a hash map is full, EINVAL for bad flags or an array index out of range).
   */
  updateElem(key: Uint8Array, keyOff: number, value: Uint8Array, valueOff: number, flags = BPF_ANY): number {
    if (keyOff < 0 || keyOff + this.keySize > key.length || valueOff < 0 || valueOff + this.valueSize > value.length) {
      throw new NetworkError('OUT_OF_BOUNDS', `map ${this.name}: key or value is outside its buffer`);
    }
    const f = Number(flags);
    if (f !== BPF_ANY && f !== BPF_NOEXIST && f !== BPF_EXIST) return BPF_EINVAL;
    if (this.type === BPF_MAP_TYPE_ARRAY) {
      const off = this.lookupValueOffset(key, keyOff);
      if (off < 0) return BPF_E2BIG; // Linux array_map_update_elem: index >= max_entries → -E2BIG
      if (f === BPF_NOEXIST) return BPF_EEXIST; // every array element always exists
      this.values.set(value.subarray(valueOff, valueOff + this.valueSize), off);
      return 0;
    }
    const hash = bpfMapHash(key, keyOff, this.keySize);
    this.lock();
    try {
      const slot = this.findSlot(key, keyOff, hash);
      if (slot >= 0) {
        if (f === BPF_NOEXIST) return BPF_EEXIST;
        const off = this.slotValueIndex(slot) * this.valueStride;
        this.values.set(value.subarray(valueOff, valueOff + this.valueSize), off);
        if (this.type === BPF_MAP_TYPE_LRU_HASH) this.touch(slot);
        return 0;
      }
      if (f === BPF_EXIST) return BPF_ENOENT;
      const w = this.words;
      if (Atomics.load(w, H.COUNT) >= this.maxEntries) {
        if (this.type !== BPF_MAP_TYPE_LRU_HASH) return BPF_E2BIG;
        this.beginWrite();
        this.evictOldest();
        this.endWrite();
      }
      this.beginWrite();
      try {
        if (Atomics.load(w, H.COUNT) + w[H.TOMBSTONES]! + 1 > (this.slotCount * 3) / 4) this.rehash();
        const top = w[H.FREE_TOP]! - 1;
        const idx = w[this.freeOffset / 4 + top]!;
        w[H.FREE_TOP] = top;
        const voff = idx * this.valueStride;
        this.values.fill(0, voff, voff + this.valueStride);
        this.values.set(value.subarray(valueOff, valueOff + this.valueSize), voff);
        this.insertSlot(key, keyOff, hash, idx);
        Atomics.add(w, H.COUNT, 1);
      } finally {
        this.endWrite();
      }
      return 0;
    } finally {
      this.unlock();
    }
  }

  /** bpf_map_delete_elem: 0, ENOENT when absent, EINVAL for array maps (Linux: array elements cannot be deleted). */
  deleteElem(key: Uint8Array, keyOff = 0): number {
    if (keyOff < 0 || keyOff + this.keySize > key.length) {
      throw new NetworkError('OUT_OF_BOUNDS', `map ${this.name}: key is outside its buffer`);
    }
    if (this.type === BPF_MAP_TYPE_ARRAY) return BPF_EINVAL;
    const hash = bpfMapHash(key, keyOff, this.keySize);
    this.lock();
    try {
      const slot = this.findSlot(key, keyOff, hash);
      if (slot < 0) return BPF_ENOENT;
      this.beginWrite();
      this.removeSlot(slot);
      this.endWrite();
      return 0;
    } finally {
      this.unlock();
    }
  }

  // ---- the friendly API ------------------------------------------------------------------------

  /** A copy of the value for `key`, or undefined. */
  get(key: BpfMapData): Uint8Array | undefined {
    const off = this.lookupValueOffset(this.keyBytes(key));
    return off < 0 ? undefined : this.values.slice(off, off + this.valueSize);
  }

  /** Whether `key` is present. */
  has(key: BpfMapData): boolean {
    return this.lookupValueOffset(this.keyBytes(key)) >= 0;
  }

  /** Stores `value` under `key`; throws BUFFER_FULL when a hash map is full, INVALID_ARGUMENT on other errors. */
  set(key: BpfMapData, value: BpfMapData, flags = BPF_ANY): this {
    const r = this.updateElem(this.keyBytes(key), 0, this.toBytes(value, this.valueSize, 'value'), 0, flags);
    if (r === BPF_E2BIG && this.type !== BPF_MAP_TYPE_ARRAY) {
      throw new NetworkError('BUFFER_FULL', `map ${this.name} is full (${this.maxEntries} entries)`, { field: 'maxEntries', actual: this.maxEntries });
    }
    if (r !== 0) {
      throw new NetworkError('INVALID_ARGUMENT', `map ${this.name}: update failed with errno ${-r}`, { field: 'key', actual: r });
    }
    return this;
  }

  /** Removes `key`; false when it was absent. Array maps throw UNSUPPORTED (their elements always exist). */
  delete(key: BpfMapData): boolean {
    if (this.type === BPF_MAP_TYPE_ARRAY) {
      throw new NetworkError('UNSUPPORTED', `map ${this.name}: array map elements cannot be deleted`);
    }
    return this.deleteElem(this.keyBytes(key)) === 0;
  }

  /** Removes every entry (array maps: zeroes every value). */
  clear(): void {
    if (this.type === BPF_MAP_TYPE_ARRAY) {
      this.values.fill(0);
      return;
    }
    this.lock();
    try {
      this.beginWrite();
      const w = this.words;
      this.bytes.fill(0, this.slotsOffset, this.slotsOffset + this.slotCount * this.slotSize);
      for (let i = 0; i < this.maxEntries; i++) w[this.freeOffset / 4 + i] = this.maxEntries - 1 - i;
      w[H.FREE_TOP] = this.maxEntries;
      w[H.TOMBSTONES] = 0;
      Atomics.store(w, H.COUNT, 0);
      this.endWrite();
    } finally {
      this.unlock();
    }
  }

  /** [key, value] copies of every entry (array maps: every index). A snapshot consistent per entry. */
  *entries(): IterableIterator<[Uint8Array, Uint8Array]> {
    if (this.type === BPF_MAP_TYPE_ARRAY) {
      for (let i = 0; i < this.maxEntries; i++) {
        const k = new Uint8Array(4);
        new DataView(k.buffer).setUint32(0, i, true);
        const o = i * this.valueStride;
        yield [k, this.values.slice(o, o + this.valueSize)];
      }
      return;
    }
    for (const [k, v] of this.snapshot()) yield [k, v];
  }

  /** Keys (copies). */
  *keys(): IterableIterator<Uint8Array> {
    for (const [k] of this.entries()) yield k;
  }

  [Symbol.iterator](): IterableIterator<[Uint8Array, Uint8Array]> {
    return this.entries();
  }

  /**
   * Atomically adds `delta` to the `width`-byte little-endian integer at byte `offset` of the value for `key`
   * and returns the previous value. With `create`, an absent hash key is inserted with a zero value first.
   * The same memory a program's `lock add` touches, so counters from workers, programs and here all add up.
   */
  atomicAdd(key: BpfMapData, offset: number, delta: number | bigint, width: 4 | 8 = 8, create = true): bigint {
    const kb = this.keyBytes(key);
    if (!Number.isInteger(offset) || offset < 0 || offset + width > this.valueSize || offset % width !== 0) {
      throw new NetworkError('OUT_OF_BOUNDS', `map ${this.name}: counter of ${width} bytes at ${offset} is not an aligned field of the ${this.valueSize}-byte value`, {
        offset,
        field: 'offset',
      });
    }
    let off = this.lookupValueOffset(kb);
    if (off < 0 && create && this.type !== BPF_MAP_TYPE_ARRAY) {
      this.updateElem(kb, 0, new Uint8Array(this.valueSize), 0, BPF_NOEXIST);
      off = this.lookupValueOffset(kb);
    }
    if (off < 0) {
      throw new NetworkError('INVALID_ARGUMENT', `map ${this.name}: key not present`, { field: 'key' });
    }
    const abs = this.valuesOffset + off + offset;
    if (width === 8) {
      return BigInt.asUintN(64, Atomics.add(new BigInt64Array(this.buffer, abs, 1), 0, BigInt.asIntN(64, BigInt(delta))));
    }
    return BigInt(Atomics.add(new Uint32Array(this.buffer, abs, 1), 0, Number(BigInt.asUintN(32, BigInt(delta)))) >>> 0);
  }

  /** Reads the `width`-byte little-endian unsigned integer at `offset` of `key`'s value (atomic load), or undefined. */
  readCounter(key: BpfMapData, offset = 0, width: 4 | 8 = 8): bigint | undefined {
    const off = this.lookupValueOffset(this.keyBytes(key));
    if (off < 0) return undefined;
    if (offset < 0 || offset + width > this.valueSize || offset % width !== 0) {
      throw new NetworkError('OUT_OF_BOUNDS', `map ${this.name}: counter at ${offset} is not an aligned field of the value`, { offset });
    }
    const abs = this.valuesOffset + off + offset;
    if (width === 8) return BigInt.asUintN(64, Atomics.load(new BigInt64Array(this.buffer, abs, 1), 0));
    return BigInt(Atomics.load(new Uint32Array(this.buffer, abs, 1), 0) >>> 0);
  }

  // ---- internals -----------------------------------------------------------------------------

  private slotBase(slot: number): number {
    return this.slotsOffset + slot * this.slotSize;
  }
  private slotValueIndex(slot: number): number {
    return this.words[(this.slotBase(slot) + 8) >> 2]! >>> 0;
  }

  private findSlot(key: Uint8Array, keyOff: number, hash: number): number {
    const mask = this.slotCount - 1;
    const w = this.words;
    const b = this.bytes;
    const ks = this.keySize;
    let i = hash & mask;
    for (let n = 0; n < this.slotCount; n++, i = (i + 1) & mask) {
      const base = this.slotBase(i);
      const st = Atomics.load(w, base >> 2);
      if (st === SLOT_EMPTY) return -1;
      if (st !== SLOT_FULL || w[(base + 4) >> 2]! >>> 0 !== hash) continue;
      let eq = true;
      for (let j = 0; j < ks; j++) {
        if (b[base + SLOT_HEADER + j] !== key[keyOff + j]) {
          eq = false;
          break;
        }
      }
      if (eq) return i;
    }
    return -1;
  }

  /** Under the lock and seqlock: puts the key into the first empty or deleted slot of its probe sequence. */
  private insertSlot(key: Uint8Array, keyOff: number, hash: number, valueIndex: number): void {
    const mask = this.slotCount - 1;
    const w = this.words;
    let i = hash & mask;
    for (;;) {
      const base = this.slotBase(i);
      const st = w[base >> 2]!;
      if (st !== SLOT_FULL) {
        if (st === SLOT_DELETED) w[H.TOMBSTONES] = w[H.TOMBSTONES]! - 1;
        w[(base + 4) >> 2] = hash | 0;
        w[(base + 8) >> 2] = valueIndex;
        w[(base + 12) >> 2] = Atomics.add(w, H.LRU_CLOCK, 1) + 1;
        this.bytes.set(key.subarray(keyOff, keyOff + this.keySize), base + SLOT_HEADER);
        Atomics.store(w, base >> 2, SLOT_FULL);
        return;
      }
      i = (i + 1) & mask;
    }
  }

  /** Under the lock and seqlock: tombstones a slot and frees its value index. */
  private removeSlot(slot: number): void {
    const w = this.words;
    const base = this.slotBase(slot);
    const idx = w[(base + 8) >> 2]!;
    Atomics.store(w, base >> 2, SLOT_DELETED);
    w[H.TOMBSTONES] = w[H.TOMBSTONES]! + 1;
    w[this.freeOffset / 4 + w[H.FREE_TOP]!] = idx;
    w[H.FREE_TOP] = w[H.FREE_TOP]! + 1;
    Atomics.sub(w, H.COUNT, 1);
  }

  /** Rebuilds the slot table without tombstones (live entries ≤ max entries ≤ half the slots). */
  private rehash(): void {
    const live: { key: Uint8Array; hash: number; idx: number; stamp: number }[] = [];
    const w = this.words;
    for (let i = 0; i < this.slotCount; i++) {
      const base = this.slotBase(i);
      if (w[base >> 2] === SLOT_FULL) {
        live.push({
          key: this.bytes.slice(base + SLOT_HEADER, base + SLOT_HEADER + this.keySize),
          hash: w[(base + 4) >> 2]! >>> 0,
          idx: w[(base + 8) >> 2]!,
          stamp: w[(base + 12) >> 2]!,
        });
      }
    }
    this.bytes.fill(0, this.slotsOffset, this.slotsOffset + this.slotCount * this.slotSize);
    w[H.TOMBSTONES] = 0;
    for (const e of live) {
      this.insertSlot(e.key, 0, e.hash, e.idx);
      const s = this.findSlot(e.key, 0, e.hash);
      w[(this.slotBase(s) + 12) >> 2] = e.stamp;
    }
  }

  /**
   * LRU: removes the entry used longest ago (largest clock − stamp, so clock wrap-around is harmless), by a
   * scan of every slot. O(slots) per eviction, and exact; native/jit.c (evict_oldest) does the same scan, so
   * both backends evict the same entry. (A sampled eviction would be O(1) but must change in both places.)
   */
  private evictOldest(): void {
    const w = this.words;
    const clock = Atomics.load(w, H.LRU_CLOCK) >>> 0;
    let best = -1;
    let bestAge = -1;
    for (let i = 0; i < this.slotCount; i++) {
      const base = this.slotBase(i);
      if (w[base >> 2] !== SLOT_FULL) continue;
      const age = (clock - (w[(base + 12) >> 2]! >>> 0)) >>> 0;
      if (age > bestAge) {
        bestAge = age;
        best = i;
      }
    }
    if (best >= 0) this.removeSlot(best);
  }

  private touch(slot: number): void {
    const w = this.words;
    Atomics.store(w, (this.slotBase(slot) + 12) >> 2, Atomics.add(w, H.LRU_CLOCK, 1) + 1);
  }

  private lock(): void {
    const w = this.words;
    for (let spins = 0; Atomics.compareExchange(w, H.LOCK, 0, 1) !== 0; spins++) this.backoff(spins);
  }
  private unlock(): void {
    Atomics.store(this.words, H.LOCK, 0);
  }
  private beginWrite(): void {
    Atomics.add(this.words, H.SEQ, 1);
  }
  private endWrite(): void {
    Atomics.add(this.words, H.SEQ, 1);
  }
  /** Spin briefly, then sleep 50 µs at a time (a holder on another thread finishes in microseconds). */
  private backoff(spins: number): void {
    if (spins > 64) Atomics.wait(this.words, 19 /* reserved word: never notified */, 0, 0.05);
  }

  private snapshot(): [Uint8Array, Uint8Array][] {
    const w = this.words;
    for (let spins = 0; ; spins++) {
      const s1 = Atomics.load(w, H.SEQ);
      if ((s1 & 1) !== 0) {
        this.backoff(spins);
        continue;
      }
      const out: [Uint8Array, Uint8Array][] = [];
      for (let i = 0; i < this.slotCount; i++) {
        const base = this.slotBase(i);
        if (Atomics.load(w, base >> 2) !== SLOT_FULL) continue;
        const voff = (w[(base + 8) >> 2]! >>> 0) * this.valueStride;
        out.push([
          this.bytes.slice(base + SLOT_HEADER, base + SLOT_HEADER + this.keySize),
          this.values.slice(voff, voff + this.valueSize),
        ]);
      }
      if (Atomics.load(w, H.SEQ) === s1) return out;
    }
  }
}

// ---- helpers 1–3 (Linux numbers, include/uapi/linux/bpf.h), over the program's maps ----

function helperMap(env: BpfHelperEnv, handle: bigint, id: number): BpfMapLike {
  const m = env.mapByHandle(handle);
  if (m === undefined) {
    throw new NetworkError('INVALID_ARGUMENT', `helper ${id} at pc ${env.pc}: r1 0x${handle.toString(16)} is not a map of this program`, {
      pc: env.pc,
      helper: id,
    });
  }
  return m;
}

/** map_lookup_elem(map, key) → address of the value or 0 (NULL). */
export function bpfMapLookupElemHelper(r1: bigint, r2: bigint, _r3: bigint, _r4: bigint, _r5: bigint, env: BpfHelperEnv): bigint {
  const m = helperMap(env, r1, 1);
  const off = m.lookupValueOffset(env.read(r2, m.keySize), 0);
  return off < 0 ? 0n : env.mapValueAddress(m, off);
}

/** map_update_elem(map, key, value, flags) → 0 or a negative errno. */
export function bpfMapUpdateElemHelper(r1: bigint, r2: bigint, r3: bigint, r4: bigint, _r5: bigint, env: BpfHelperEnv): bigint {
  const m = helperMap(env, r1, 2);
  const flags = r4 > 2n ? -1 : Number(r4);
  return BigInt.asUintN(64, BigInt(m.updateElem(env.read(r2, m.keySize), 0, env.read(r3, m.valueSize), 0, flags)));
}

/** map_delete_elem(map, key) → 0 or a negative errno. */
export function bpfMapDeleteElemHelper(r1: bigint, r2: bigint, _r3: bigint, _r4: bigint, _r5: bigint, env: BpfHelperEnv): bigint {
  const m = helperMap(env, r1, 3);
  return BigInt.asUintN(64, BigInt(m.deleteElem(env.read(r2, m.keySize), 0)));
}

registerBpfHelper(1, bpfMapLookupElemHelper, 'map_lookup_elem');
registerBpfHelper(2, bpfMapUpdateElemHelper, 'map_update_elem');
registerBpfHelper(3, bpfMapDeleteElemHelper, 'map_delete_elem');
