// `piopiy-ai/services/azure`: Azure AI Speech's voices over its text-to-speech REST endpoint.
export * from './tts.js';
