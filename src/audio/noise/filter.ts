// NoiseSuppressionFilter: caller audio through a noise-suppression engine, as a stream. Audio arrives at the
// call's input rate in chunks of any size; the engine works at its own rate in fixed frames, so the filter
// resamples (only when the rates differ), cuts frames, and resamples back. It adds the engine's frame as latency
// (16 ms for GTCRN, 10 ms for RNNoise) plus the resamplers' few samples, and returns exactly as many samples as it
// was given (the stream starts with that much silence), so timing downstream is unchanged.
import { StreamingResampler } from '../resampler.js';
import { createNoiseSuppressionEngine, type NoiseSuppressionEngine, type NoiseSuppressionKind } from './engines.js';

export class NoiseSuppressionFilter {
  private readonly toEngine: StreamingResampler | undefined;
  private readonly fromEngine: StreamingResampler | undefined;
  private readonly frame: Float32Array;
  private frameFill = 0;
  /** Denoised audio at the input rate not yet returned. */
  private pending: Int16Array;
  private pendingLength = 0;
  private destroyed = false;

  private constructor(
    private readonly engine: NoiseSuppressionEngine,
    readonly sampleRate: number,
  ) {
    if (engine.sampleRate !== sampleRate) {
      this.toEngine = new StreamingResampler({ inputRate: sampleRate, outputRate: engine.sampleRate });
      this.fromEngine = new StreamingResampler({ inputRate: engine.sampleRate, outputRate: sampleRate });
    }
    this.frame = new Float32Array(engine.frameSamples);
    // A fixed delay: the output starts with as much silence as the engine's frame and the resamplers hold back, so
    // every later chunk finds its samples denoised already.
    const engineToInput = sampleRate / engine.sampleRate;
    const latency =
      Math.ceil(engine.frameSamples * engineToInput) +
      (this.toEngine?.latencyInputSamples ?? 0) +
      Math.ceil((this.fromEngine?.latencyInputSamples ?? 0) * engineToInput) +
      2;
    this.pending = new Int16Array(Math.max(latency * 2, sampleRate / 10));
    this.pendingLength = latency;
    this.latencySamples = latency;
  }

  /** The delay the filter adds, in samples at `sampleRate`. */
  readonly latencySamples: number;

  /** A filter for one call's audio at `sampleRate` (its own engine state). */
  static async create(kind: NoiseSuppressionKind, sampleRate: number): Promise<NoiseSuppressionFilter> {
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
    return new NoiseSuppressionFilter(await createNoiseSuppressionEngine(kind), sampleRate);
  }

  get kind(): NoiseSuppressionKind {
    return this.engine.kind;
  }

  /** Denoises a chunk; returns a new array of the same length (delayed by the filter's latency). */
  process(input: Int16Array): Int16Array {
    if (this.destroyed) throw new Error('the noise suppression filter has been destroyed');
    const atEngine = this.toEngine === undefined ? input : this.toEngine.process(input);
    const frame = this.frame;
    for (let i = 0; i < atEngine.length; i++) {
      frame[this.frameFill++] = atEngine[i]!;
      if (this.frameFill === frame.length) {
        this.engine.processFrame(frame);
        this.frameFill = 0;
        this.emit(frame);
      }
    }
    const count = Math.min(input.length, this.pendingLength);
    const output = new Int16Array(input.length);
    output.set(this.pending.subarray(0, count));
    this.pending.copyWithin(0, count, this.pendingLength);
    this.pendingLength -= count;
    return output;
  }

  /** Releases the engine's state; later `process` calls throw. */
  destroy(): void {
    if (this.destroyed) return;
    this.destroyed = true;
    this.engine.destroy();
  }

  private emit(frame: Float32Array): void {
    const samples = new Int16Array(frame.length);
    for (let i = 0; i < frame.length; i++) {
      const v = Math.round(frame[i]!);
      samples[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    const back = this.fromEngine === undefined ? samples : this.fromEngine.process(samples);
    if (this.pendingLength + back.length > this.pending.length) {
      const grown = new Int16Array(Math.max(this.pending.length * 2, this.pendingLength + back.length));
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    this.pending.set(back, this.pendingLength);
    this.pendingLength += back.length;
  }
}
