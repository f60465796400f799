// `piopiy-ai/services/elevenlabs`: ElevenLabs text-to-speech over the multi-context WebSocket, and Scribe speech-to-text
// (REST per turn, or the realtime WebSocket).
export * from './tts.js';
export * from './stt.js';
export * from './realtime-stt.js';
