export * from './interruption-strategies.js';
export * from './user-turn-aggregator.js';
export * from './vad-processor.js';
