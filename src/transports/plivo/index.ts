export * from './plivo-server.js';
export * from './rest.js';
export * from './serializer.js';
export * from './signature.js';
export * from './xml.js';
