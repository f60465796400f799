export * from './interruption-strategies.js';
export * from './backchannels.js';
export * from './vad-processor.js';
