export * from './llm-service.js';
export type * from './llm-stream.js';
export * from './sentence-aggregator.js';
export * from './service-error.js';
export * from './stt-service.js';
export * from './tts-service.js';
