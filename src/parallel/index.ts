// Multi-core packet processing: RSS distribution, the guide's pipeline/distributor, and the piscina engine.
export { RSS_DEFAULT_KEY, RSS_SYMMETRIC_KEY, ToeplitzHasher, toeplitzHasher, rssHash, rssInput } from './rss.js';
export { locateFlowTuple, TUPLE_VERSION, TUPLE_PROTOCOL, TUPLE_ADDR, TUPLE_PORTS, type FlowLinkType } from './flow-key.js';
export { FlowTable, flowKeyString, type FlowStat } from './flow-table.js';
export { PacketPipeline, type PacketStage, type PacketStageStats } from './pipeline.js';
export {
  PacketDistributor,
  RSS_RETA_SIZE,
  rssIndirectionTable,
  frameRssHash,
  type DistributableFrame,
  type PacketDistributorOptions,
} from './distributor.js';
export {
  ParallelPacketEngine,
  type BackpressurePolicy,
  type EngineStage,
  type ParallelEngineOptions,
  type WorkerPacketStats,
  type ParallelBatchResult,
  type ParallelEngineStats,
} from './engine.js';
export type { StagePacketInfo, PacketStageModule } from './worker.js';
export type { EngineFilterSpec } from './engine-layout.js';
