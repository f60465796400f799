// `piopiy-ai/services/deepgram`: Deepgram live speech-to-text (Nova and Flux) and Aura text-to-speech.
export * from './flux.js';
export * from './stt.js';
export * from './tts.js';
