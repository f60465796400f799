// `piopiy-ai/services/google`: Gemini through the Gemini API, and Gemini Live (speech to speech).
export * from './llm.js';
export { GEMINI_SERVICE } from './errors.js';
export { GeminiLiveService, GEMINI_LIVE_DEFAULT_MODEL, type GeminiLiveServiceOptions } from './live.js';
