export * from './call-session.js';
export * from './input-transport.js';
export * from './output-transport.js';
export * from './transport.js';
