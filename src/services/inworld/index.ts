// `piopiy-ai/services/inworld`: Inworld's voices over its HTTP streaming endpoint.
export * from './tts.js';
