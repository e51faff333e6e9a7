/**
 * BpfProgram — the unit every eBPF entry point produces and every engine runs — plus the engine registry and
 * the guide's BpfInterpreter / BpfJitCompiler.
 *
 * Engines: 'interpreter' and 'js' (eBPF → JavaScript) are built in; the x86-64 JIT registers 'native' with
 * {@link registerBpfEngine} (no edit here needed). Default engine: 'native' when getBackend() === 'native' and
 * a native engine is registered and available, else 'js'.
 *
 * Running: `program.run(memory)` puts `memory` in region 1, r1 = its address, r2 = its length, r10 = the top
 * of a zeroed 512-byte frame, and returns r0 as an unsigned 64-bit bigint. `program.runBatch(batch)` runs once
 * per packet of a PacketBatch (compiled once, one call for the whole batch) and returns the low 32 bits of each
 * r0. In a batch the stack is NOT cleared between packets (a verified program never reads uninitialised stack).
 */
import { getBackend } from '../backend.js';
import type { PacketBatch } from '../batch.js';
import { NetworkError } from '../errors.js';
import { assembleBpfInsns } from './asm.js';
import { disassembleBpf, disassembleBpfInsn, type BpfDisasmOptions } from './disasm.js';
import { compileClassicBpf, type CbpfInsn } from './cbpf.js';
import { loadBpfElf } from './elf.js';
import { BpfHelperTable, type BpfHelperFn } from './helpers.js';
import { BpfInterpreterEngine, type BpfExecutable, type BpfRunOptions } from './interpreter.js';
import { decodeInsns, encodeInsns, bpfInsn, type BpfInsn } from './isa.js';
import { BPF_JS_JIT_MAX_SLOTS, BpfJsJitEngine } from './jit-js.js';
import type { BpfMap } from './maps.js';
import { verifyProgram, type BpfVerifierResult, type BpfVerifyOptions } from './verifier.js';

/** Built-in engine names plus whatever is registered. */
export type BpfEngineName = 'interpreter' | 'js' | 'native' | (string & {});

/** Options of `program.run` / `runBatch`. */
export interface BpfProgramRunOptions extends BpfRunOptions {
  /** Which engine runs it (default: see module doc). */
  engine?: BpfEngineName;
}

/** A program compiled by one engine. One instance is not re-entrant (one run at a time). */
export interface BpfCompiledProgram {
  readonly engine: string;
  /** r0 of one run over `memory` (region 1). */
  run(memory: Uint8Array, options?: BpfRunOptions): bigint;
  /** Low 32 bits of r0 per packet of the batch, into `verdicts` (allocated when absent). */
  runBatch(batch: PacketBatch, verdicts?: Uint32Array, options?: BpfRunOptions): Uint32Array;
  /** Machine code, for engines that produce it (the native JIT). */
  nativeCode?(): Uint8Array;
}

/** An engine: turns a program into something runnable. */
export interface BpfEngine {
  compile(program: BpfProgram): BpfCompiledProgram;
  /** False when the engine cannot run here (e.g. the addon is missing); default true. */
  available?(): boolean;
}

const engines = new Map<string, BpfEngine>();
// Bumped whenever the registry changes, so programs drop code compiled by a replaced engine.
let engineGeneration = 0;

/** Registers (or replaces) an engine under a name ('native' is the x86-64 JIT's). */
export function registerBpfEngine(name: string, engine: BpfEngine): void {
  engines.set(name, engine);
  engineGeneration++;
}
/** Removes an engine; true if it existed. Built-in engines cannot be removed. */
export function unregisterBpfEngine(name: string): boolean {
  if (name === 'interpreter' || name === 'js') return false;
  engineGeneration++;
  return engines.delete(name);
}
/** The registered engine, if any. */
export function getBpfEngine(name: string): BpfEngine | undefined {
  return engines.get(name);
}
/** Names of the registered engines that are available here. */
export function bpfEngineNames(): string[] {
  return [...engines.entries()].filter(([, e]) => e.available?.() ?? true).map(([n]) => n);
}
/** The engine `run` uses when none is named. */
export function defaultBpfEngine(): string {
  const native = engines.get('native');
  if (getBackend() === 'native' && native && (native.available?.() ?? true)) return 'native';
  return 'js';
}

function defaultVerdicts(batch: PacketBatch, verdicts: Uint32Array | undefined): Uint32Array {
  const n = batch.length;
  const v = verdicts ?? batch.verdicts ?? new Uint32Array(n);
  if (v.length < n) {
    throw new NetworkError('INVALID_ARGUMENT', `verdicts holds ${v.length} entries, the batch ${n}`, {
      field: 'verdicts',
      expected: n,
      actual: v.length,
    });
  }
  return v;
}

registerBpfEngine('interpreter', {
  compile(program) {
    const vm = new BpfInterpreterEngine(program);
    return {
      engine: 'interpreter',
      run: (memory, options) => vm.run(memory, options),
      runBatch: (batch, verdicts, options) =>
        vm.runMany(batch.data, batch.offsets, batch.lengths, batch.length, defaultVerdicts(batch, verdicts), options),
    };
  },
});
registerBpfEngine('js', {
  compile(program) {
    const jit = new BpfJsJitEngine(program);
    return {
      engine: 'js',
      run: (memory, options) => jit.run(memory, options),
      runBatch: (batch, verdicts, options) =>
        jit.runMany(batch.data, batch.offsets, batch.lengths, batch.length, defaultVerdicts(batch, verdicts), options),
    };
  },
});

/** Options of a new program. */
export interface BpfProgramOptions {
  name?: string;
  /** Maps in index order (index = the fd/idx that lddw src 1/2/5/6 uses). */
  maps?: readonly BpfMap[];
}

/** An eBPF program: instruction slots, its maps, its helpers, and lazily compiled engines. */
export class BpfProgram implements BpfExecutable {
  name: string;
  private slots: BpfInsn[];
  /** Maps in index order; map i is memory region 3 + i. */
  readonly mapList: BpfMap[] = [];
  /** Maps by name. */
  readonly maps = new Map<string, BpfMap>();
  /** Helpers of this program (over the global registry). */
  readonly helpers = new BpfHelperTable();
  private readonly compiled = new Map<string, BpfCompiledProgram>();
  private compiledGeneration = engineGeneration;
  // run()'s and runBatch()'s one-entry cache (a per-call caller pays no Map lookup or default-engine resolution): the
  // compiled program for `runEngine` (undefined = the default, resolved under `runBackend`).
  private runCompiled: BpfCompiledProgram | undefined;
  private runEngine: BpfEngineName | undefined;
  private runBackend = '';

  constructor(insns: readonly BpfInsn[] = [], options: BpfProgramOptions = {}) {
    this.name = options.name ?? 'prog';
    this.slots = insns.map((i) => bpfInsn(i.opcode, i.dst, i.src, i.off, i.imm));
    for (const m of options.maps ?? []) this.addMap(m);
  }

  /** The instruction slots (read-only view; use addInstruction to extend). */
  get insns(): readonly BpfInsn[] {
    return this.slots;
  }

  /** Number of 8-byte slots. */
  get length(): number {
    return this.slots.length;
  }

  /** Appends instructions (an LDDW as its two slots). Drops compiled code. */
  addInstruction(...insns: BpfInsn[]): this {
    for (const i of insns) this.slots.push(bpfInsn(i.opcode, i.dst, i.src, i.off, i.imm));
    this.compiled.clear();
    this.runCompiled = undefined;
    return this;
  }

  /** Adds a map; returns its index (the fd lddw uses). */
  addMap(map: BpfMap): number {
    if (this.maps.has(map.name)) {
      throw new NetworkError('INVALID_ARGUMENT', `program ${this.name} already has a map named ${map.name}`, { field: 'maps' });
    }
    this.mapList.push(map);
    this.maps.set(map.name, map);
    this.compiled.clear();
    this.runCompiled = undefined;
    return this.mapList.length - 1;
  }

  /** Registers a helper for this program only (overrides a global helper with that id). */
  registerHelper(id: number, fn: BpfHelperFn, name?: string): this {
    this.helpers.register(id, fn, name);
    return this;
  }

  /**
   * Runs the verifier (verifier.ts) with this program's maps and helpers. Throws NetworkError
   * VERIFIER_REJECTED with detail { pc, insn, reason }; returns what the verifier found otherwise.
   * `budget`: the run-time instruction budget you will run with (lets loops the verifier cannot bound pass).
   */
  verify(options: Omit<BpfVerifyOptions, 'maps' | 'helpers'> = {}): BpfVerifierResult {
    return verifyProgram(this.slots, {
      disassemble: disassembleBpfInsn,
      ...options,
      maps: this.mapList,
      helpers: (id: number) => this.helpers.has(id),
    });
  }

  /** Compiles (once, cached) for an engine. */
  compile(engine: BpfEngineName = this.defaultEngine()): BpfCompiledProgram {
    if (this.compiledGeneration !== engineGeneration) {
      this.compiled.clear();
      this.compiledGeneration = engineGeneration;
    }
    let c = this.compiled.get(engine);
    if (c === undefined) {
      const e = engines.get(engine);
      if (e === undefined) {
        throw new NetworkError('UNSUPPORTED', `no eBPF engine named '${engine}' (have: ${[...engines.keys()].join(', ')})`, {
          field: 'engine',
          actual: engine,
        });
      }
      if (!(e.available?.() ?? true)) {
        throw new NetworkError('NATIVE_UNAVAILABLE', `eBPF engine '${engine}' is not available here`, { field: 'engine' });
      }
      c = e.compile(this);
      this.compiled.set(engine, c);
    }
    return c;
  }

  /** The engine used when none is named: {@link defaultBpfEngine}, or the interpreter for programs too large for the JS JIT. */
  defaultEngine(): BpfEngineName {
    const e = defaultBpfEngine();
    return e === 'js' && this.slots.length > BPF_JS_JIT_MAX_SLOTS ? 'interpreter' : e;
  }

  /** Runs over `memory` (r1 = its address, r2 = its length); returns r0 as an unsigned 64-bit bigint. */
  run(memory: Uint8Array, options?: BpfProgramRunOptions): bigint {
    return this.compiledFor(options?.engine).run(memory, options);
  }

  /** Runs over every packet of a batch; r0's low 32 bits per packet. */
  runBatch(batch: PacketBatch, verdicts?: Uint32Array, options?: BpfProgramRunOptions): Uint32Array {
    return this.compiledFor(options?.engine).runBatch(batch, verdicts, options);
  }

  // compile() behind the one-entry cache that run and runBatch share.
  private compiledFor(engine: BpfEngineName | undefined): BpfCompiledProgram {
    let c = this.runCompiled;
    if (
      c === undefined ||
      engine !== this.runEngine ||
      this.compiledGeneration !== engineGeneration ||
      (engine === undefined && this.runBackend !== getBackend())
    ) {
      c = this.compile(engine);
      this.runCompiled = c;
      this.runEngine = engine;
      this.runBackend = getBackend();
    }
    return c;
  }

  /** Little-endian bytecode. */
  encode(): Uint8Array {
    return encodeInsns(this.slots);
  }

  /** Assembly text that `assemble` turns back into the same slots. */
  disassemble(options?: BpfDisasmOptions): string {
    return disassembleBpf(this.slots, options);
  }

  /** Alias of {@link disassemble} (the guide's naming). */
  disassembly(): string {
    return this.disassemble();
  }

  toString(): string {
    return this.disassemble();
  }

  /** A program from raw bytecode. */
  static fromBytes(bytes: Uint8Array, options?: BpfProgramOptions): BpfProgram {
    return new BpfProgram(decodeInsns(bytes), options);
  }

  /** A program from assembly text (the conformance-suite syntax, see asm.ts). */
  static fromAssembly(source: string, options?: BpfProgramOptions): BpfProgram {
    return new BpfProgram(assembleBpfInsns(source), options);
  }

  /**
   * A program from classic BPF: the text of `tcpdump -dd` (or `-ddd`, `-d`) or parsed instructions,
   * checked and translated as Linux does (cbpf.ts, ebpf-extras). r0 = the classic return value (0 = drop).
   */
  static fromClassic(source: string | readonly CbpfInsn[], options?: BpfProgramOptions): BpfProgram {
    return new BpfProgram(compileClassicBpf(source), { name: 'cbpf', ...options });
  }

  /**
   * A program from a relocatable object of `clang -O2 -g -target bpf -c` (elf.ts, ebpf-extras): the program
   * in `section` (a section or function name; default the first), its maps (program.maps) and global data.
   * `sharedMaps` reuses maps by name (several programs of one object sharing a map).
   */
  static fromElf(bytes: Uint8Array, section?: string, options: { sharedMaps?: ReadonlyMap<string, BpfMap> } = {}): BpfProgram {
    const l = loadBpfElf(bytes, section, { maps: options.sharedMaps });
    return new BpfProgram(l.insns, { name: l.name, maps: l.maps });
  }
}

/** Assembles text into a BpfProgram (see asm.ts for the syntax). */
export function assemble(source: string, options?: BpfProgramOptions): BpfProgram {
  return BpfProgram.fromAssembly(source, options);
}

/** The guide's interpreter: `vm.loadPacket(p); vm.execute(program)` → r0 (1n = accept). */
export class BpfInterpreter {
  private packet: Uint8Array = new Uint8Array(0);
  private readonly cache = new WeakMap<BpfProgram, BpfInterpreterEngine>();
  /** Options for every execute (budget, trace sink). */
  options: BpfRunOptions = {};

  /** Sets the packet the next execute runs over (not copied). */
  loadPacket(packet: Uint8Array): this {
    this.packet = packet;
    return this;
  }

  /** Runs the program over the loaded packet; returns r0. */
  execute(program: BpfProgram): bigint {
    let vm = this.cache.get(program);
    if (vm === undefined) {
      vm = new BpfInterpreterEngine(program);
      this.cache.set(program, vm);
    }
    return vm.run(this.packet, this.options);
  }
}

/**
 * The guide's JIT compiler. `compile(program)` compiles with the default engine ('native' on the native
 * backend when the x86-64 JIT is registered, else the eBPF → JavaScript JIT); `run`/`runBatch` use it;
 * `nativeCode()` returns the x86-64 bytes of the native JIT's emitter (pure TypeScript, so it works without
 * the addon) and throws UNSUPPORTED when no native JIT is registered.
 */
export class BpfJitCompiler {
  private program: BpfProgram | undefined;
  private compiledProgram: BpfCompiledProgram | undefined;

  constructor(private readonly engine?: BpfEngineName) {}

  compile(program: BpfProgram): this {
    this.program = program;
    this.compiledProgram = program.compile(this.engine ?? program.defaultEngine());
    return this;
  }

  private need(): { program: BpfProgram; compiled: BpfCompiledProgram } {
    if (!this.program || !this.compiledProgram) {
      throw new NetworkError('INVALID_ARGUMENT', 'BpfJitCompiler: call compile(program) first', {});
    }
    return { program: this.program, compiled: this.compiledProgram };
  }

  /** Which engine compiled the program. */
  get engineName(): string {
    return this.need().compiled.engine;
  }

  run(memory: Uint8Array, options?: BpfRunOptions): bigint {
    return this.need().compiled.run(memory, options);
  }

  runBatch(batch: PacketBatch, verdicts?: Uint32Array, options?: BpfRunOptions): Uint32Array {
    return this.need().compiled.runBatch(batch, verdicts, options);
  }

  /** The JavaScript source the JS JIT generated for the program. */
  jsSource(): string {
    return new BpfJsJitEngine(this.need().program).source;
  }

  /** x86-64 machine code from the native JIT's emitter. */
  nativeCode(): Uint8Array {
    const { program, compiled } = this.need();
    if (compiled.nativeCode) return compiled.nativeCode();
    const native = engines.get('native');
    if (!native) throw new NetworkError('UNSUPPORTED', 'no native eBPF JIT is registered (jit-x64)', {});
    const c = native.compile(program);
    if (!c.nativeCode) throw new NetworkError('UNSUPPORTED', 'the native eBPF engine does not expose machine code', {});
    return c.nativeCode();
  }
}
