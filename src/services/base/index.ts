export * from './llm-service.js';
export type * from './llm-stream.js';
export * from './sentence-aggregator.js';
export * from './service-error.js';
export * from './stt-service.js';
export * from './segmented-stt.js';
export * from './tts-service.js';
export * from './realtime-service.js';
export type { PlayoutPosition } from './realtime-playout.js';
