// `piopiy-ai/services/hume`: Hume's Octave voices through its streamed-JSON endpoint.
export * from './tts.js';
