// BaseInputTransport: the first processor of a call's pipeline. Implementations call `pushAudio` with caller
// audio as it arrives (any chunk size, at their own rate); it is resampled to the pipeline's input rate and sent
// downstream as `input-audio` frames. Audio that arrives before the pipeline started is dropped: it would only
// delay the conversation. With `noiseSuppression`, caller audio goes through a noise suppressor (per call: its own
// engine state) right here, before the VAD and the STT see it.
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
  private resampler: StreamingResampler | undefined;
  private noiseFilter: NoiseSuppressionFilter | undefined;
  private stopped = false;

  constructor(options: Pick<FrameProcessorOptions, 'name'> & { noiseSuppression?: NoiseSuppressionKind } = {}) {
    super(options);
    this.noiseSuppression = options.noiseSuppression;
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
    if (this.noiseFilter !== undefined) audio = this.noiseFilter.process(audio);
    void this.queueFrame(inputAudioFrame(audio, start.audioInSampleRate));
    return true;
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
    if (frame.type === 'start' && this.noiseSuppression !== undefined && this.noiseFilter === undefined) {
      return this.startNoiseSuppression(this.noiseSuppression, frame.audioInSampleRate).then(() => this.pushFrame(frame, direction));
    }
    if (frame.type === 'end' || frame.type === 'cancel') {
      this.stopped = true;
      this.noiseFilter?.destroy();
      this.noiseFilter = undefined;
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
