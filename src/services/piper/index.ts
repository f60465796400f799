// `piopiy-ai/services/piper`: Piper voices served by Piper's own HTTP server (`python -m piper.http_server`).
export * from './tts.js';
