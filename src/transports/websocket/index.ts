export * from './piopiy-stream.js';
