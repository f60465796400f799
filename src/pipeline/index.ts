export * from './frame-processor.js';
export * from './frame-queue.js';
export type * from './observer.js';
export * from './pipeline.js';
export * from './task.js';
