export * from './exotel-server.js';
export * from './serializer.js';
