export * from './rest-api.js';
export * from './simulated-call.js';
export * from './simulator.js';
export * from './transfers.js';
