// Offloads: GRO/LRO (merge on receive) and GSO/TSO (split on send), TCP and UDP, with virtio_net_hdr metadata.
export * from './virtio.js';
export * from './gro.js';
export * from './gso.js';
