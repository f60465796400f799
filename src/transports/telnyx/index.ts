export * from './rest.js';
export * from './serializer.js';
export * from './signature.js';
export * from './telnyx-server.js';
