// `piopiy-ai/services/cartesia`: Cartesia Sonic text-to-speech and Ink speech-to-text over their WebSockets.
export * from './stt.js';
export * from './tts.js';
