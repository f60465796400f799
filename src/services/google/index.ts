// `piopiy-ai/services/google`: Gemini through the Gemini API.
export * from './llm.js';
export { GEMINI_SERVICE } from './errors.js';
