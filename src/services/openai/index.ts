// `piopiy-ai/services/openai`: OpenAI and OpenAI-compatible LLMs and speech APIs.
export * from './llm.js';
export * from './presets.js';
export * from './tts.js';
export * from './stt.js';
export * from './realtime.js';
export * from './presets-tts.js';
export * from './groq-stt.js';
