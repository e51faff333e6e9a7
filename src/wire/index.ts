// Wire formats: zero-copy views, reprs and builders, one file per protocol.
export * from './checksum.js';
