// Captures: pcap/pcapng files, the guide's PacketCapture and CaptureFilter, and the PacketAnalyzer.
export * from './packet.js';
export * from './pcap.js';
export * from './pcapng.js';
export * from './file.js';
export * from './link.js';
export * from './summary.js';
export * from './capture.js';
export * from './analyzer.js';
export * from './dpi/index.js';
