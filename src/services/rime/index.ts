// `piopiy-ai/services/rime`: Rime's voices over its JSON WebSocket.
export * from './tts.js';
