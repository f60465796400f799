// `piopiy-ai/services/elevenlabs`: ElevenLabs text-to-speech over the multi-context WebSocket.
export * from './tts.js';
