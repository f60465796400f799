// `piopiy-ai/services/google`: Gemini through the Gemini API, Gemini Live (speech to speech), and Cloud Speech-to-Text.
export * from './llm.js';
export { GEMINI_SERVICE } from './errors.js';
export { GeminiLiveService, GEMINI_LIVE_DEFAULT_MODEL, type GeminiLiveServiceOptions } from './live.js';
export * from './stt.js';
export * from './vertex.js';
