// STT services. `STTService` is the base of streaming recognisers (audio in continuously, transcripts out when
// the vendor sends them); `SegmentedSTTService` is the base of request/response recognisers, fed one user turn
// at a time (from VAD start, with a little audio before it, to VAD stop). Both pass every frame on, caller
// audio included, so processors after them can still measure speech.
//
// A service that knows when the caller's audio up to a VAD stop is fully transcribed says so with a
// `transcription-complete` frame (`reportsTranscriptionComplete`): the turn aggregator then ends the turn on it,
// not on the first final result, which a streaming vendor may send in the middle of a sentence.
import { StreamingResampler } from '../../audio/index.js';
import { makeFrame, type Frame, type FrameDirection, type TranscriptionWord, type UserStoppedSpeakingFrame } from '../../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';

export interface STTServiceOptions extends Pick<FrameProcessorOptions, 'name'> {
  /** Rate the recogniser wants; caller audio at another rate is resampled. Default: the pipeline's input rate. */
  sampleRate?: number;
  model?: string;
  /** Id put on transcripts (the caller). Default 'caller'. */
  userId?: string;
}

export abstract class STTService extends FrameProcessor {
  readonly model: string | undefined;
  protected readonly userId: string;
  private readonly wantedRate: number | undefined;
  private resampler: StreamingResampler | undefined;

  constructor(options: STTServiceOptions = {}) {
    super({ name: options.name });
    this.wantedRate = options.sampleRate;
    this.model = options.model;
    this.userId = options.userId ?? 'caller';
  }

  /** The rate audio reaches `processAudio` at. */
  protected get sampleRate(): number {
    return this.wantedRate ?? this.startParams?.audioInSampleRate ?? 16000;
  }

  /** Caller audio, at `sampleRate`. */
  protected abstract processAudio(audio: Int16Array): void | Promise<void>;

  /** VAD says the caller started speaking. */
  protected onUserStartedSpeaking(): void | Promise<void> {}

  /**
   * VAD says the caller stopped speaking (`stop` is that frame): a streaming service can ask its vendor to
   * finalise now.
   */
  protected onUserStoppedSpeaking(_stop: UserStoppedSpeakingFrame): void | Promise<void> {}

  /**
   * True when this service tells, with a `transcription-complete` frame after each VAD stop, that the audio up
   * to that stop is transcribed. A service that pushes every final for a turn before its `onUserStoppedSpeaking`
   * returns sets `completesOnReturn`; one that finalises later calls `pushTranscriptionComplete` itself. False
   * by default: the turn aggregator then ends a turn on the first final result after VAD stop.
   */
  get reportsTranscriptionComplete(): boolean {
    return this.completesOnReturn;
  }

  /**
   * How long the turn aggregator should wait after a VAD stop for `transcription-complete`, when the vendor decides
   * the end of the turn itself and may take longer than the aggregator's default (Deepgram Flux). Undefined: the
   * aggregator's default.
   */
  get transcriptionCompleteTimeoutMs(): number | undefined {
    return undefined;
  }

  /** The finals for a turn are all pushed once `onUserStoppedSpeaking` returns. */
  protected get completesOnReturn(): boolean {
    return false;
  }

  /** Every final for the caller's audio up to the VAD stop `stopFrameId` has been pushed. */
  protected pushTranscriptionComplete(stopFrameId: number): void {
    void this.pushFrame(makeFrame('transcription-complete', { stopFrameId }));
  }

  protected pushTranscription(
    text: string,
    final: boolean,
    extra: { language?: string; words?: readonly TranscriptionWord[] } = {},
  ): void {
    if (text.trim() === '') return;
    void this.pushFrame(makeFrame('transcription', { text, final, userId: this.userId, ...extra }));
  }

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === 'downstream') {
      switch (frame.type) {
        case 'input-audio': {
          const audio = this.toWantedRate(frame.audio, frame.sampleRate);
          if (audio.length > 0) await this.processAudio(audio);
          break;
        }
        case 'user-started-speaking':
          await this.onUserStartedSpeaking();
          break;
        case 'user-stopped-speaking':
          await this.onUserStoppedSpeaking(frame);
          await this.pushFrame(frame, direction);
          if (this.completesOnReturn) this.pushTranscriptionComplete(frame.id);
          return;
        default:
          break;
      }
    }
    await this.pushFrame(frame, direction);
  }

  private toWantedRate(audio: Int16Array, rate: number): Int16Array {
    const wanted = this.sampleRate;
    if (rate === wanted) return audio;
    if (this.resampler === undefined || this.resampler.inputRate !== rate) {
      this.resampler = new StreamingResampler({ inputRate: rate, outputRate: wanted });
    }
    return this.resampler.process(audio);
  }
}
