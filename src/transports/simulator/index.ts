export * from './protocol.js';
export * from './simulator-transport.js';
