// `piopiy-ai/services/gradium`: Gradium's voices over its multiplexed JSON WebSocket.
export * from './tts.js';
