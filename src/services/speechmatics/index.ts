// `piopiy-ai/services/speechmatics`: Speechmatics real-time speech-to-text, and its (preview) text-to-speech.
export * from './stt.js';
export * from './tts.js';
