// The eBPF module: RFC 9669 instruction set, assembler/disassembler, memory model, helpers, interpreter,
// eBPF → JavaScript JIT and BpfProgram (ebpf-core); maps, verifier, ELF loader, classic BPF, builder
// (ebpf-extras) add their `export *` lines here.
export * from './isa.js';
export * from './asm.js';
export * from './disasm.js';
export * from './memory.js';
export * from './helpers.js';
export * from './arith.js';
export * from './interpreter.js';
export * from './jit-js.js';
export * from './program.js';
export * from './maps.js';
export * from './verifier.js';
export * from './cbpf.js';
export * from './btf.js';
export * from './elf.js';
export * from './builder.js';
export * from './jit-x64/index.js';
