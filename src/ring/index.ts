// Lock-free rings and the packet pool on SharedArrayBuffer + Atomics.
export { SpscRing, spscRingByteLength, type RingOptions } from './spsc.js';
export { MpmcRing, mpmcRingByteLength } from './mpmc.js';
export { RingBuffer } from './ring-buffer.js';
export { PacketPool, type PoolBuffer } from './pool.js';
export type { RingWaitResult } from './ring-header.js';
