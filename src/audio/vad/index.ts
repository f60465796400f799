// Voice activity detection: the debouncing state machine and the Silero v5 model behind it.
export { DEFAULT_VAD_PARAMS, VADAnalyzer, resolveVADParams, windowLoudness } from './vad-analyzer.js';
export type { VADAnalyzerOptions, VADParams, VADState } from './vad-analyzer.js';
export { SileroVADAnalyzer, defaultSileroModelPath } from './silero.js';
export type { SileroInferenceThread, SileroSampleRate, SileroVADOptions } from './silero.js';
export type { SileroRuntimeName } from './silero-runtime.js';
