// `piopiy-ai/services/google`: Gemini through the Gemini API and Vertex AI, Gemini Live (speech to speech), Cloud
// Speech-to-Text and Cloud Text-to-Speech.
export * from './llm.js';
export { GEMINI_SERVICE } from './errors.js';
export { GeminiLiveService, GEMINI_LIVE_DEFAULT_MODEL, type GeminiLiveServiceOptions } from './live.js';
export * from './stt.js';
export * from './tts.js';
export * from './vertex.js';
