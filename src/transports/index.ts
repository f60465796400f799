export * from './base/index.js';
export * from './memory/index.js';
