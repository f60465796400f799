// `piopiy-ai/services/cartesia`: Cartesia Sonic text-to-speech over its WebSocket.
export * from './tts.js';
