// `piopiy-ai`: the public entry point. Vendor services are imported from `piopiy-ai/services/<vendor>`,
// test tools from `piopiy-ai/testing`.
export * from './frames/index.js';
export * from './pipeline/index.js';
export * from './audio/index.js';
export * from './logging/index.js';
export * from './llm/index.js';
export * from './turns/index.js';
export * from './services/base/index.js';
export * from './transports/index.js';
export * from './piopiy/index.js';
export * from './conversation/index.js';
export * from './voice-agent/index.js';
export * from './agent/index.js';
export { systemClock, type Clock, type ClockTimer } from './runtime/clock.js';
