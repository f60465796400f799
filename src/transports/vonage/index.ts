export * from './jwt.js';
export * from './rest.js';
export * from './serializer.js';
export * from './vonage-server.js';
