// `piopiy-ai/services/sarvam`: Sarvam's Indian-language speech recognition (Saaras, Saarika: REST per turn, or the
// streaming socket) and voices (Bulbul).
export * from './stt.js';
export * from './streaming-stt.js';
export * from './tts.js';
