export * from './interruption-strategies.js';
export * from './vad-processor.js';
