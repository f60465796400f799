export * from './frames.js';
export type * from './llm.js';
export type * from './metrics.js';
export * from './dtmf.js';
