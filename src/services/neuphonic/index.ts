// `piopiy-ai/services/neuphonic`: Neuphonic's voices over its Server-Sent Events endpoint.
export * from './tts.js';
