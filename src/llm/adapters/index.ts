export * from './anthropic.js';
export * from './gemini.js';
export * from './openai.js';
export { parseToolArguments } from './parse.js';
export type { JSONObject } from './parse.js';
