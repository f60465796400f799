// `piopiy-ai/services/azure`: Azure AI Speech — its voices over the text-to-speech REST endpoint, and recognition
// over the REST API for short audio.
export * from './tts.js';
export * from './stt.js';
