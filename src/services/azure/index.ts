// `piopiy-ai/services/azure`: Azure AI Speech recognition (REST for short audio).
export * from './stt.js';
