// Flite: offline text-to-speech (WASI build), for tests and the offline demo.
export { FLITE_VOICE_RATES, prepareFliteText, synthesizeWithFlite } from './flite-engine.js';
export type { FliteAudio, FliteSynthesisOptions, FliteVoice } from './flite-engine.js';
export { FliteTTSService } from './flite-tts.js';
export type { FliteTTSServiceOptions } from './flite-tts.js';
export { FliteWorkerPool, sharedFliteWorkerPool } from './flite-worker-pool.js';
export type { FliteWorkerPoolOptions, FliteWorkerSynthesisOptions } from './flite-worker-pool.js';
