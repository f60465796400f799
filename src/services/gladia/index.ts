// `piopiy-ai/services/gladia`: Gladia real-time speech-to-text (live v2).
export * from './stt.js';
