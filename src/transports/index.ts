export * from './base/index.js';
export * from './livekit/index.js';
export * from './memory/index.js';
export * from './simulator/index.js';
export * from './websocket/index.js';
export * from './media-stream/index.js';
export * from './twilio/index.js';
export * from './exotel/index.js';
