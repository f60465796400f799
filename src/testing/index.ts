// `piopiy-ai/testing`: tools to test agents offline.
export * from './frame-collector.js';
