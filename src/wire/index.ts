// Wire formats: zero-copy views, reprs and builders, one file per protocol.
export * from './checksum.js';
export * from './address.js';
export * from './ethernet.js';
export * from './arp.js';
export * from './ipv4.js';
export * from './ipv6.js';
export * from './icmpv4.js';
export * from './icmpv6.js';
export * from './udp.js';
export * from './tcp.js';
export * from './dissect.js';
