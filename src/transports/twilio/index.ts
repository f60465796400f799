export * from './rest.js';
export * from './serializer.js';
export * from './signature.js';
export * from './twilio-server.js';
export * from './twiml.js';
