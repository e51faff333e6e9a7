export * from './event-queue.js';
export * from './simulator.js';
