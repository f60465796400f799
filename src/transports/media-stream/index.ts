export * from './jitter-buffer.js';
export * from './media-stream-transport.js';
export * from './serializer.js';
export type { MediaStreamSessionBase } from './stream-sessions.js';
export * from './json-serializer.js';
