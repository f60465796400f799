// `piopiy-ai/services/sarvam`: Sarvam's Indian-language speech recognition (Saaras, Saarika) and voices (Bulbul).
export * from './stt.js';
export * from './tts.js';
