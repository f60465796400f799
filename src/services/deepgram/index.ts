// `piopiy-ai/services/deepgram`: Deepgram live speech-to-text and Aura text-to-speech.
export * from './stt.js';
export * from './tts.js';
