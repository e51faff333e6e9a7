export * from './event-queue.js';
export * from './simulator.js';
export * from './scenarios.js';
export * from './svg.js';
export * from './figures.js';
