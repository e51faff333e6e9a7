// Congestion control: NewReno, CUBIC, BBRv1, BBRv3 behind one interface, delivery-rate estimation, and a
// discrete-event link simulator with SVG plots.
export * from './types.js';
export * from './filters.js';
export * from './delivery-rate.js';
export * from './base.js';
export * from './reno.js';
export * from './cubic.js';
export * from './bbr.js';
export * from './bbr3.js';
export * from './factory.js';
export * from './sim/index.js';
