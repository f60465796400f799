// Prewarming: the expensive once-per-process work (loading models, compiling WebAssembly, starting worker threads)
// done when the agent starts, before it takes calls, rather than while the first caller waits for the greeting.
// The engines keep what they load in process-wide caches (Silero's ONNX session per model file, Flite's worker
// pool, PocketSphinx's idle decoders), so filling those caches once is all a warm-up has to do; nothing is handed
// to the calls, and every call still gets its own analyzer, decoder and state.
import { SileroVADAnalyzer, type SileroSampleRate } from '../audio/vad/index.js';

/** Once-per-process work the Agent finishes before registering for calls; it may return a promise. */
export type PrewarmFunction = () => unknown;

export interface SileroPrewarmOptions {
  /** The model `vad` will use. Default: the model of the @ricky0123/vad-web package. */
  modelPath?: string;
  /** Rates to run a first inference at. Default both, 16000 and 8000 (one window each: about 2 ms). */
  sampleRates?: readonly SileroSampleRate[];
}

/**
 * Loads the Silero VAD model into the process-wide session every call's analyzer shares, and runs one window of
 * silence through it per rate (onnxruntime allocates its buffers on the first run). Rejects with the loader's
 * error when the model cannot be loaded.
 */
export async function prewarmSileroVAD(options: SileroPrewarmOptions = {}): Promise<void> {
  for (const sampleRate of options.sampleRates ?? ([16000, 8000] as const)) {
    const analyzer = await SileroVADAnalyzer.load({ sampleRate, modelPath: options.modelPath });
    await analyzer.analyze(new Int16Array(analyzer.windowSamples));
  }
}
