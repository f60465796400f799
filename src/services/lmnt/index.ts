// `piopiy-ai/services/lmnt`: LMNT's voices over its speech-session WebSocket.
export * from './tts.js';
