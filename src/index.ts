// `piopiy-ai`: the public entry point.
export * from './frames/index.js';
export * from './pipeline/index.js';
export * from './logging/index.js';
