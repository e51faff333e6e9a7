// Deep packet inspection of the first payload bytes of a flow: HTTP/1.x, TLS ClientHello, DNS, QUIC.
export * from './http.js';
export * from './tls.js';
export * from './dns.js';
export * from './quic.js';
