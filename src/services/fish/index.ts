// `piopiy-ai/services/fish`: Fish Audio's voices over its live (MessagePack) WebSocket.
export * from './tts.js';
