// VADProcessor: runs a voice activity detector on the caller's audio and announces turns with
// `user-started-speaking` / `user-stopped-speaking`. It sits right after the input transport, so everything
// downstream (STT finalisation, turn aggregation, interruptions) works from the same events.
import { StreamingResampler } from '../audio/index.js';
import type { VADState } from '../audio/vad/index.js';
import { makeFrame, type Frame, type FrameDirection } from '../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../pipeline/index.js';

/** What the processor needs of a VAD analyser (SileroVADAnalyzer is one). */
export interface VoiceActivityDetector {
  readonly sampleRate: number;
  analyze(samples: Int16Array): Promise<VADState>;
  reset(): void;
}

export class VADProcessor extends FrameProcessor {
  private userSpeaking = false;
  private resampler: StreamingResampler | undefined;

  constructor(
    readonly analyzer: VoiceActivityDetector,
    options: Pick<FrameProcessorOptions, 'name'> = {},
  ) {
    super(options);
  }

  /** Whether the caller is speaking, as the detector last said. */
  get speaking(): boolean {
    return this.userSpeaking;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame.type !== 'input-audio' || direction !== 'downstream') return this.pushFrame(frame, direction);
    // Every 20 ms of every call passes here: a plain continuation (no async function) keeps it to one promise.
    return this.analyzer
      .analyze(this.toAnalyzerRate(frame.audio, frame.sampleRate))
      .then((state) => this.afterAnalysis(state, frame));
  }

  private afterAnalysis(state: VADState, frame: Frame): void | Promise<void> {
    if (state === 'speaking' && !this.userSpeaking) {
      this.userSpeaking = true;
      return this.announceThenPass('user-started-speaking', frame);
    }
    if (state === 'quiet' && this.userSpeaking) {
      this.userSpeaking = false;
      return this.announceThenPass('user-stopped-speaking', frame);
    }
    return this.pushFrame(frame, 'downstream');
  }

  private async announceThenPass(type: 'user-started-speaking' | 'user-stopped-speaking', frame: Frame): Promise<void> {
    await this.pushFrame(makeFrame(type));
    await this.pushFrame(frame, 'downstream');
  }

  private toAnalyzerRate(audio: Int16Array, rate: number): Int16Array {
    if (rate === this.analyzer.sampleRate) return audio;
    if (this.resampler === undefined || this.resampler.inputRate !== rate) {
      this.resampler = new StreamingResampler({ inputRate: rate, outputRate: this.analyzer.sampleRate });
    }
    return this.resampler.process(audio);
  }
}
