// The eBPF x86-64 JIT: encoder (x64.ts), translator (translate.ts), the 'native' engine (engine.ts, which
// registers itself into program.ts's registry on import) and the listing (listing.ts). Only names unique
// across the package are re-exported (the encoder's short constants stay in x64.ts / layout.ts).
export { X64Assembler, X64Label, X64_REG_NAMES, type X64Mem, type X64Reg, type X64Width, type X64Cond } from './x64.js';
export { translateBpfToX64, BPF_TO_X64, type X64Translation, type X64TranslateOptions } from './translate.js';
export { X64CompiledProgram, compileBpfX64, x64JitAvailable, type X64JitCompileOptions } from './engine.js';
export { x64JitListing, type X64ListingOptions } from './listing.js';
