// FliteTTSService: offline text-to-speech with Flite. Each sentence is synthesised whole on a worker thread (a WASI
// run blocks its thread, see flite-worker-pool.ts) and then played out in 40 ms chunks, so an interruption stops
// the audio within one chunk.
import type { Frame, FrameDirection } from '../../../frames/index.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../../base/index.js';
import { FLITE_VOICE_RATES, type FliteVoice } from './flite-engine.js';
import { sharedFliteWorkerPool, type FliteWorkerPool } from './flite-worker-pool.js';

export interface FliteTTSServiceOptions {
  /** 'kal' speaks at 8 kHz, the others at 16 kHz. Default 'kal16'. */
  voice?: FliteVoice;
  name?: string;
  /** Where syntheses run. Default: the process-wide pool shared by every FliteTTSService. */
  pool?: FliteWorkerPool;
}

const CHUNK_MS = 40;

export class FliteTTSService extends TTSService {
  readonly voice: FliteVoice;
  private readonly pool: FliteWorkerPool;

  constructor(options: FliteTTSServiceOptions = {}) {
    const voice = options.voice ?? 'kal16';
    const sampleRate = FLITE_VOICE_RATES[voice] as number | undefined;
    if (sampleRate === undefined) {
      throw new RangeError(
        `flite: unknown voice '${String(voice)}'; the voices are ${Object.keys(FLITE_VOICE_RATES).join(', ')}`,
      );
    }
    super({ name: options.name, sampleRate, model: `flite-${voice}` });
    this.voice = voice;
    this.pool = options.pool ?? sharedFliteWorkerPool();
  }

  /**
   * Loads Flite once for the whole process (a worker thread compiling its 21 MB WebAssembly program: about
   * 0.1-0.4 s), so the first call's greeting does not wait for it: pass it to the Agent's `prewarm`. Uses the
   * shared pool every FliteTTSService uses by default, or `pool`. Rejects when Flite cannot be loaded.
   */
  static async prewarm(options: { voice?: FliteVoice; pool?: FliteWorkerPool } = {}): Promise<void> {
    await (options.pool ?? sharedFliteWorkerPool()).warmUp(options.voice ?? 'kal16');
  }

  override async *synthesize(text: string, { signal }: SynthesizeOptions): AsyncIterable<TTSChunk> {
    // Nothing to say (the engine would reject it as empty): no audio, not an error.
    if (text.trim() === '') return;
    let samples: Int16Array;
    try {
      ({ samples } = await this.pool.synthesize(text, { voice: this.voice, signal }));
    } catch (error) {
      if (signal.aborted) return;
      throw new ServiceError(this.name, error instanceof Error ? error.message : String(error), {
        retryable: false,
        cause: error,
      });
    }
    const chunkSamples = Math.round((this.sampleRate * CHUNK_MS) / 1000);
    for (let start = 0; start < samples.length; start += chunkSamples) {
      if (signal.aborted) return;
      yield { type: 'audio', audio: samples.slice(start, start + chunkSamples) };
    }
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    // Loading Flite into a worker takes a moment: start it with the pipeline rather than on the first sentence.
    if (frame.type === 'start') {
      this.pool.warmUp(this.voice).catch((error: unknown) => {
        this.logger.warn({ err: error }, 'flite: warming up the worker failed');
      });
    }
    return super.processFrame(frame, direction);
  }
}
