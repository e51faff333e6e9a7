// The public face of elysia-net: everything public is importable from here and from its module's subpath.
export * from './errors.js';
export * from './backend.js';
export type { NativeStatus, CpuFeatures } from './native.js';
export * from './batch.js';
export * from './wire/index.js';
export * from './ebpf/index.js';
export * from './capture/index.js';
export * from './filter/index.js';
export * from './cc/index.js';
export * from './offload/index.js';
export * from './ring/index.js';
export * from './parallel/index.js';
