// `piopiy-ai/services/elevenlabs`: ElevenLabs text-to-speech over the multi-context WebSocket, and Scribe speech-to-text (REST).
export * from './tts.js';
export * from './stt.js';
