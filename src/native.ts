// The one place that loads the addon. Everything else asks backend.ts.
import { createRequire } from 'node:module';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** CPU features the addon detected at load time. */
export interface CpuFeatures {
  arch: string;
  avx2: boolean;
  sse42: boolean;
  bmi2: boolean;
}

/** What the addon exports. Each later native hot path adds its functions here. */
export interface NativeAddon {
  version(): string;
  cpuFeatures(): CpuFeatures;
  /** Ones' complement sum of bytes[offset, offset+length), folded to 16 bits (not complemented). */
  checksumSum(bytes: Uint8Array, offset: number, length: number, initial: number): number;
  /** One finished checksum per packet of a batch, written to out[i]. */
  checksumBatch(data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, out: Uint16Array): void;
  /** Forces the scalar path (for tests and benchmarks): true = scalar only. */
  checksumForceScalar(scalar: boolean): void;
  /**
   * eBPF x86-64 JIT (native/jit.c): maps `code` W^X and binds its regions (stack first, then map values), the
   * out array (r0, status, pc, addr, size, index, errors, region), a JS helper dispatcher and the C helper kinds.
   */
  bpfJitCreate(
    code: Uint8Array, entryOffset: number, regions: Uint8Array[], writable: Uint8Array, out: BigUint64Array,
    jsHelper: ((id: number, r1: bigint, r2: bigint, r3: bigint, r4: bigint, r5: bigint, pc: number) => bigint | [bigint]) | null,
    nativeHelpers: Int32Array, mapBuffers: (Uint8Array | null)[], prandomState?: Uint32Array, flags?: number,
  ): object;
  /** Runs the JIT code once over `mem`; returns 1 when the run hit an error (detail in out). */
  bpfJitRun(handle: object, mem: Uint8Array, budget: number): number;
  /** Runs the JIT code over every packet of a batch; returns how many packets hit an error. */
  bpfJitRunBatch(handle: object, data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, count: number, verdicts: Uint32Array, budget: number): number;
  /**
   * Binds a batch's typed arrays to the program once (raw pointers, strong references): later runs over it take
   * only bpfJitRunBound(handle, count, budget). False when a buffer cannot be bound (a resizable ArrayBuffer).
   */
  bpfJitBind(handle: object, data: Uint8Array, offsets: Uint32Array, lengths: Uint32Array, verdicts: Uint32Array): boolean;
  /** bpfJitRunBatch over the batch bound last; throws (RangeError) when one of its buffers has been detached. */
  bpfJitRunBound(handle: object, count: number, budget: number): number;
  /** [base, len] per region as bound by the last run (host addresses, for helper address translation). */
  bpfJitRegions(handle: object): BigUint64Array;
  /** Unmaps the code now (otherwise the garbage collector does). */
  bpfJitFree(handle: object): void;
  /**
   * GRO over input packets [start, end) (native/offload.cc), on the state src/offload/gro-engine.ts lays out;
   * appends to the output arrays from outCount/outUsed, writes res = [outCount, outUsed]; returns the next input index.
   */
  groBatch(
    state: Int32Array, times: Float64Array, arena: Uint8Array, inData: Uint8Array, inOffsets: Uint32Array, inLengths: Uint32Array,
    start: number, end: number, now: number, outData: Uint8Array, outOffsets: Uint32Array, outLengths: Uint32Array,
    outCount: number, outUsed: number, outCapacity: number, align: number, meta: Int32Array, res: Float64Array,
  ): number;
  /** Flushes held GRO flows that arrived at or before olderThan (oldest first) into the output arrays; returns how many. */
  groFlush(
    state: Int32Array, times: Float64Array, arena: Uint8Array, olderThan: number, outData: Uint8Array, outOffsets: Uint32Array,
    outLengths: Uint32Array, outCount: number, outUsed: number, outCapacity: number, align: number, meta: Int32Array, res: Float64Array,
  ): number;
  /** GSO of input packets [start, end) by mss into the output arrays; res = [outCount, outUsed, error, 0]; returns the next input index. */
  gsoBatch(
    inData: Uint8Array, inOffsets: Uint32Array, inLengths: Uint32Array, start: number, end: number, mss: number, cfg: number,
    outData: Uint8Array, outOffsets: Uint32Array, outLengths: Uint32Array, outCount: number, outUsed: number, outCapacity: number,
    align: number, res: Float64Array,
  ): number;
  [name: string]: unknown;
}

/** Why the addon is or is not in use. */
export interface NativeStatus {
  available: boolean;
  reason: string;
  path: string | null;
  cpu: CpuFeatures | null;
}

function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const pkg = join(dir, 'package.json');
    if (existsSync(pkg)) {
      try {
        if ((JSON.parse(readFileSync(pkg, 'utf8')) as { name?: string }).name === 'elysia-net') return dir;
      } catch {
        // An unreadable package.json is not ours; keep walking up.
      }
    }
    const up = dirname(dir);
    if (up === dir) throw new Error('elysia-net: package root not found');
    dir = up;
  }
}

function buildLogReason(root: string): string {
  // scripts/install-native.mjs records why the build failed at install time.
  const log = join(root, '.native-build.json');
  if (!existsSync(log)) return '';
  try {
    const rec = JSON.parse(readFileSync(log, 'utf8')) as { ok?: boolean; error?: string };
    return rec.ok === false && rec.error ? ` (install-time build failed: ${rec.error})` : '';
  } catch {
    return '';
  }
}

function load(): { addon: NativeAddon | null; status: NativeStatus } {
  const root = packageRoot();
  // ELYSIA_NET_NATIVE_DIR points the loader elsewhere (tests use it to prove the TS fallback works).
  const dir = process.env.ELYSIA_NET_NATIVE_DIR ? resolve(process.env.ELYSIA_NET_NATIVE_DIR) : root;
  const require = createRequire(import.meta.url);
  try {
    const gypBuild = require('node-gyp-build') as { path(dir: string): string };
    const path = gypBuild.path(dir);
    const addon = require(path) as NativeAddon;
    return { addon, status: { available: true, reason: 'loaded', path, cpu: addon.cpuFeatures() } };
  } catch (e) {
    const msg = e instanceof Error ? e.message.split('\n')[0] ?? String(e) : String(e);
    return {
      addon: null,
      status: { available: false, reason: `native addon not loaded from ${dir}: ${msg}${buildLogReason(root)}`, path: null, cpu: null },
    };
  }
}

const loaded = load();

/** The addon, or null when it is absent. Only backend dispatch code should touch this. */
export const nativeAddon: NativeAddon | null = loaded.addon;
/** The load outcome, as nativeStatus() reports it. */
export const nativeLoadStatus: NativeStatus = loaded.status;
