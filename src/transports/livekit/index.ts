export * from './livekit-transport.js';
