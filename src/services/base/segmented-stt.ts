// SegmentedSTTService: the base of request/response recognisers, fed one user turn at a time (from VAD start, with
// a little audio before it, to VAD stop). It owns the turn's audio buffer, the metrics (TTFB, audio seconds) and
// the one request in flight: a deadline on the call's clock (so simulated time drives it like every other timer)
// and an abort on cleanup, after which nobody waits for the answer. A vendor service only says how one turn
// becomes text (`transcribe`), using `withDeadline` around its request.
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError } from './service-error.js';
import { STTService, type STTServiceOptions } from './stt-service.js';

export interface SegmentedSTTServiceOptions extends STTServiceOptions {
  /** Audio kept from before VAD start, so the first syllable is not cut. Default 300 ms. */
  preRollMs?: number;
  /** Longest turn sent in one request. Default 30 s. */
  maxSegmentSecs?: number;
}

/** One turn's answer: its text, and the language the vendor heard when it says (a detected one, say). */
export interface SegmentedTranscript {
  readonly text: string;
  readonly language?: string;
}

export abstract class SegmentedSTTService extends STTService {
  private readonly preRollMs: number;
  private readonly maxSegmentSecs: number;
  private chunks: Int16Array[] = [];
  private bufferedSamples = 0;
  private speaking = false;
  private readonly inFlight = new Set<AbortController>();
  /** The language the last answer named; put on its transcript. */
  private answerLanguage: string | undefined;

  constructor(options: SegmentedSTTServiceOptions = {}) {
    super(options);
    this.preRollMs = options.preRollMs ?? 300;
    this.maxSegmentSecs = options.maxSegmentSecs ?? 30;
  }

  /** A turn's transcript is pushed before `onUserStoppedSpeaking` returns. */
  protected override get completesOnReturn(): boolean {
    return true;
  }

  /**
   * Transcribes one user turn of audio at `sampleRate`: its text ('' when nothing was said), or the text with the
   * language the vendor reported.
   */
  protected abstract transcribe(audio: Int16Array, sampleRate: number): Promise<string | SegmentedTranscript>;

  /**
   * Runs one vendor request under a deadline of `timeoutMs` on this processor's clock: past it, the request is
   * aborted and a `timeout` ServiceError naming `vendor` thrown. Resolves `undefined` when cleanup aborted the
   * request (the call is over). Other failures are `send`'s to map.
   */
  protected async withDeadline<T>(vendor: string, timeoutMs: number, send: (signal: AbortSignal) => Promise<T>): Promise<T | undefined> {
    const controller = new AbortController();
    this.inFlight.add(controller);
    let timedOut = false;
    const timer = this.clock.setTimeout(() => {
      timedOut = true;
      controller.abort();
    }, timeoutMs);
    try {
      return await send(controller.signal);
    } catch (error) {
      if (timedOut) throw new ServiceError(vendor, `no transcript within ${timeoutMs} ms`, { code: 'timeout' });
      if (controller.signal.aborted) return undefined;
      throw error;
    } finally {
      this.clock.clearTimeout(timer);
      this.inFlight.delete(controller);
    }
  }

  protected override processAudio(audio: Int16Array): void {
    this.chunks.push(audio);
    this.bufferedSamples += audio.length;
    const limit = this.speaking ? this.maxSegmentSecs * this.sampleRate : (this.preRollMs * this.sampleRate) / 1000;
    while (this.chunks.length > 1 && this.bufferedSamples - this.chunks[0]!.length >= limit) {
      this.bufferedSamples -= this.chunks.shift()!.length;
    }
  }

  protected override onUserStartedSpeaking(): void {
    this.speaking = true;
  }

  protected override async onUserStoppedSpeaking(): Promise<void> {
    this.speaking = false;
    const segment = new Int16Array(this.bufferedSamples);
    let offset = 0;
    for (const chunk of this.chunks) {
      segment.set(chunk, offset);
      offset += chunk.length;
    }
    this.chunks = [];
    this.bufferedSamples = 0;
    this.startTtfbMetrics();
    try {
      const answer = await this.transcribe(segment, this.sampleRate);
      this.stopTtfbMetrics();
      this.pushMetrics({
        kind: 'stt-usage',
        processor: this.name,
        model: this.model,
        audioSeconds: segment.length / this.sampleRate,
      });
      const { text, language } = typeof answer === 'string' ? { text: answer, language: undefined } : answer;
      this.answerLanguage = language;
      this.pushTranscription(text, true);
    } catch (error) {
      this.pushError(error);
    }
  }

  /** The answer's language goes on its transcript unless the caller of this method named one. */
  protected override pushTranscription(
    text: string,
    final: boolean,
    extra: { language?: string; words?: readonly TranscriptionWord[] } = {},
  ): void {
    super.pushTranscription(text, final, this.answerLanguage === undefined ? extra : { language: this.answerLanguage, ...extra });
  }

  override async cleanup(): Promise<void> {
    for (const controller of this.inFlight) controller.abort();
    this.inFlight.clear();
    await super.cleanup();
  }
}
