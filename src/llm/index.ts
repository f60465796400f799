export * from './context.js';
export * from './function-schema.js';
export * from './json-schema.js';
export * from './tools.js';
export * from './adapters/index.js';
export * from './tools-schema.js';
export * from './dtmf-tool.js';
export * from './mcp/index.js';
