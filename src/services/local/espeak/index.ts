// espeak-ng: offline text-to-speech through the espeak-ng program (GPL: run as a separate process, never bundled).
export { EspeakTTSService } from './espeak-tts.js';
export type { EspeakTTSServiceOptions } from './espeak-tts.js';
