// Offline engines: no key, no network. Flite (TTS, pure npm), espeak-ng (TTS, a separate process where installed),
// PocketSphinx (STT, Debian packages loaded in-process).
export * from './espeak/index.js';
export * from './flite/index.js';
export * from './pocketsphinx/index.js';
