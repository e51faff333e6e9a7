// Captures: pcap/pcapng files, the guide's PacketCapture and CaptureFilter, and the PacketAnalyzer.
export * from './packet.js';
export * from './pcap.js';
export * from './pcapng.js';
export * from './file.js';
