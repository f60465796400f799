// `piopiy-ai/services/anthropic`: Claude through the Anthropic Messages API.
export * from './llm.js';
export { ANTHROPIC_SERVICE } from './errors.js';
