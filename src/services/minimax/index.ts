// `piopiy-ai/services/minimax`: MiniMax's voices over its T2A v2 HTTP stream.
export * from './tts.js';
