// BaseInputTransport: the first processor of a call's pipeline. Implementations call `pushAudio` with caller
// audio as it arrives (any chunk size, at their own rate); it is resampled to the pipeline's input rate and sent
// downstream as `input-audio` frames. Audio that arrives before the pipeline started is dropped: it would only
// delay the conversation. With `echoCancellation`, the agent's own voice is taken out of the caller's audio (the
// output transport hands its chunks over with `pushEchoReference`); with `noiseSuppression`, caller audio then goes
// through a noise suppressor. Both keep per-call state and run right here, before the VAD and the STT see the audio;
// the echo canceller first, since it needs the echo as the room made it (linear), which a denoiser would not keep.
import { EchoCanceller } from '../../audio/echo/index.js';
import { StreamingResampler } from '../../audio/index.js';
import { NoiseSuppressionFilter, type NoiseSuppressionKind } from '../../audio/noise/index.js';
import { inputAudioFrame, isDtmfDigit, makeFrame, type Frame } from '../../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';

export class BaseInputTransport extends FrameProcessor {
  /**
   * Noise suppression of the caller's audio: 'gtcrn' (a small neural network at 16 kHz) or 'rnnoise' (48 kHz); off
   * when undefined (the default). Set before the call starts (VoiceAgent's `noiseSuppression` does).
   */
  noiseSuppression: NoiseSuppressionKind | undefined;
  /**
   * Echo cancellation of the agent's own voice in the caller's audio (off by default). Set before the call starts
   * (VoiceAgent's `echoCancellation` does, and connects the output transport's chunks to `pushEchoReference`).
   */
  echoCancellation: boolean;
  private resampler: StreamingResampler | undefined;
  private noiseFilter: NoiseSuppressionFilter | undefined;
  private echoCanceller: EchoCanceller | undefined;
  private referenceResampler: StreamingResampler | undefined;
  private stopped = false;

  constructor(options: Pick<FrameProcessorOptions, 'name'> & { noiseSuppression?: NoiseSuppressionKind; echoCancellation?: boolean } = {}) {
    super(options);
    this.noiseSuppression = options.noiseSuppression;
    this.echoCancellation = options.echoCancellation ?? false;
  }

  /** The pipeline's input rate (from the StartFrame; 16000 before it). */
  get sampleRate(): number {
    return this.startParams?.audioInSampleRate ?? 16000;
  }

  /** Whether the pipeline has started and not stopped: audio pushed now is used. */
  get accepting(): boolean {
    return this.startParams !== undefined && !this.stopped;
  }

  /** Caller audio (mono PCM16 at `sampleRate`) into the pipeline. Returns false when it was dropped. */
  pushAudio(samples: Int16Array, sampleRate: number): boolean {
    const start = this.startParams;
    if (start === undefined || this.stopped || samples.length === 0) return false;
    let audio = samples;
    if (sampleRate !== start.audioInSampleRate) {
      if (this.resampler === undefined || this.resampler.inputRate !== sampleRate) {
        this.resampler = new StreamingResampler({ inputRate: sampleRate, outputRate: start.audioInSampleRate });
      }
      audio = this.resampler.process(samples);
      if (audio.length === 0) return true;
    }
    if (this.echoCanceller !== undefined) audio = this.echoCanceller.process(audio, this.clock.now());
    if (this.noiseFilter !== undefined) audio = this.noiseFilter.process(audio);
    void this.queueFrame(inputAudioFrame(audio, start.audioInSampleRate));
    return true;
  }

  /**
   * The agent's audio as it plays (mono PCM16 at `sampleRate`, starting at `playsAtMs` on the call's clock): the
   * echo canceller's reference. Ignored unless echo cancellation runs.
   */
  pushEchoReference(samples: Int16Array, sampleRate: number, playsAtMs: number): void {
    const canceller = this.echoCanceller;
    if (canceller === undefined || this.stopped) return;
    if (sampleRate === canceller.sampleRate) {
      canceller.pushReference(samples, playsAtMs);
      return;
    }
    if (this.referenceResampler === undefined || this.referenceResampler.inputRate !== sampleRate) {
      this.referenceResampler = new StreamingResampler({ inputRate: sampleRate, outputRate: canceller.sampleRate });
    }
    const resampler = this.referenceResampler;
    // What the resampler returns now started that much earlier (its delay): placed later, the reference would come
    // after its own echo on a short path, and the filter, which only looks back, could not cancel it.
    canceller.pushReference(resampler.process(samples), playsAtMs - (resampler.latencyInputSamples * 1000) / sampleRate);
  }

  /**
   * A key the caller pressed, into the pipeline. Returns false when it was dropped: the pipeline is not running, or
   * the value is not one keypad key (0-9, *, #, A-D; it may come from the network, so it is checked here).
   */
  pushDTMF(digit: string): boolean {
    if (!this.accepting || !isDtmfDigit(digit)) return false;
    void this.queueFrame(makeFrame('input-dtmf', { digit }));
    return true;
  }

  pushMessage(message: unknown): void {
    if (this.accepting) void this.queueFrame(makeFrame('input-transport-message', { message }));
  }

  protected override processFrame(frame: Frame, direction: Parameters<FrameProcessor['queueFrame']>[1]): void | Promise<void> {
    if (frame.type === 'start' && this.echoCancellation && this.echoCanceller === undefined) {
      this.echoCanceller = new EchoCanceller({ sampleRate: frame.audioInSampleRate });
    }
    if (frame.type === 'start' && this.noiseSuppression !== undefined && this.noiseFilter === undefined) {
      return this.startNoiseSuppression(this.noiseSuppression, frame.audioInSampleRate).then(() => this.pushFrame(frame, direction));
    }
    if (frame.type === 'end' || frame.type === 'cancel') {
      this.stopped = true;
      this.noiseFilter?.destroy();
      this.noiseFilter = undefined;
      this.echoCanceller = undefined;
    }
    return this.pushFrame(frame, direction);
  }

  /**
   * Made before the start goes downstream (a few ms once the engine's code is loaded; audio pushed meanwhile passes
   * unfiltered). A failure leaves the audio as it is: the call is worth more than the filter.
   */
  private async startNoiseSuppression(kind: NoiseSuppressionKind, sampleRate: number): Promise<void> {
    try {
      this.noiseFilter = await NoiseSuppressionFilter.create(kind, sampleRate);
    } catch (error) {
      this.logger.error({ err: error }, 'noise suppression could not start; the caller is heard without it');
    }
  }
}
