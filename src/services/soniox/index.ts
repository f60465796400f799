// `piopiy-ai/services/soniox`: Soniox real-time speech-to-text.
export * from './stt.js';
