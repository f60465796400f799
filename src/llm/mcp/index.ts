export * from './tool-source.js';
export * from './tool-set.js';
export type { McpToolResult } from './result-text.js';
