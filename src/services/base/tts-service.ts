// TTSService: the base of every text-to-speech integration. A subclass implements `synthesize` (text in, audio
// chunks and optionally word timings out); this class decides what to say and when:
// - LLM text is cut into sentences (SentenceAggregator) and each sentence is synthesised as soon as it is
//   complete, one after another, while the model is still streaming the rest;
// - `speak` frames are said verbatim (greeting, fillers, apologies);
// - every utterance is bracketed by `tts-started` / `tts-stopped`; `tts-text` frames carry what is said,
//   placed before the audio they belong to (per word when the vendor gives timings, else per sentence), so the
//   output transport can tell which words the caller actually heard;
// - frames that must follow the speech (`llm-response-end`, `end`) wait for it; an interruption drops
//   everything pending and aborts the synthesis in progress.
import {
  isSystemFrame,
  makeFrame,
  survivesInterruption,
  ttsAudioFrame,
  type Frame,
  type FrameDirection,
} from '../../frames/index.js';
import { FrameProcessor, type FrameProcessorOptions } from '../../pipeline/index.js';
import { SentenceAggregator } from './sentence-aggregator.js';
import { ServiceError } from './service-error.js';

export type TTSChunk =
  | { readonly type: 'audio'; readonly audio: Int16Array }
  /** A word and where it starts in this utterance's audio. */
  | { readonly type: 'word'; readonly text: string; readonly offsetMs: number };

export interface SynthesizeOptions {
  /** Identifies one utterance (an LLM response or a speak frame); vendors with contexts reuse it. */
  readonly contextId: string;
  /** Aborted on interruption: stop the request and end the iteration. */
  readonly signal: AbortSignal;
}

/**
 * A synthesis that failed after part of its text had been said, saying what had not: a fallback service then
 * says `unsaidText` with the next service, so the caller hears the rest of the sentence instead of losing it.
 */
export class UnsaidTextError extends ServiceError {
  /** The text from the first word whose audio had not arrived in full (a word cut in the middle is said again). */
  readonly unsaidText: string;
  /** Words of the failed text that had been said in full. */
  readonly wordsSaid: number;
  /** Words at the start of `unsaidText` whose timings were already given: not to be given twice. */
  readonly wordsGiven: number;

  constructor(cause: ServiceError, unsaid: { text: string; wordsSaid: number; wordsGiven: number }) {
    super(cause.service, cause.message.startsWith(`${cause.service}: `) ? cause.message.slice(cause.service.length + 2) : cause.message, {
      status: cause.status,
      code: cause.code,
      vendorCode: cause.vendorCode,
      retryable: cause.retryable,
      retryAfterSecs: cause.retryAfterSecs,
      cause,
    });
    this.name = 'UnsaidTextError';
    this.unsaidText = unsaid.text;
    this.wordsSaid = unsaid.wordsSaid;
    this.wordsGiven = unsaid.wordsGiven;
  }
}

export interface TTSServiceOptions extends Pick<FrameProcessorOptions, 'name'> {
  /** Rate of the audio `synthesize` yields (until a call picks another of `sampleRates`). */
  sampleRate: number;
  /**
   * Rates the vendor can produce. At the start of a call the service switches to the call's output rate when it is
   * one of these, so a phone call's audio is made at 8 kHz instead of being made wide and resampled.
   */
  sampleRates?: readonly number[];
  /** The user chose `sampleRate`: keep it whatever the call's output rate. */
  fixedSampleRate?: boolean;
  model?: string;
}

type Job =
  | { kind: 'text'; text: string; contextId: string }
  | { kind: 'stop'; contextId: string }
  | { kind: 'frame'; frame: Frame; direction: FrameDirection };

let lastContext = 0;

export abstract class TTSService extends FrameProcessor {
  readonly model: string | undefined;
  private outputRate: number;
  private readonly sampleRates: readonly number[];
  private readonly fixedSampleRate: boolean;
  private readonly sentences = new SentenceAggregator();
  private jobs: Job[] = [];
  private working = false;
  private synthesis: AbortController | undefined;
  /** Context of the LLM response in progress, if any. */
  private responseContext: string | undefined;
  private startedContext: string | undefined;
  /** Audio already produced for the utterance in progress (word timings are relative to its start). */
  private utteranceAudioMs = 0;
  /** An interruption cut the LLM response in progress short: its remaining text is not said. */
  private discardingResponse = false;

  constructor(options: TTSServiceOptions) {
    super({ name: options.name });
    this.outputRate = options.sampleRate;
    this.sampleRates = options.sampleRates ?? [];
    this.fixedSampleRate = options.fixedSampleRate ?? false;
    this.model = options.model;
  }

  /** Rate of the audio `synthesize` yields now. */
  get sampleRate(): number {
    return this.outputRate;
  }

  /** The rate changed for the call starting: a vendor that puts it in its requests or URL rebuilds them here. */
  protected onSampleRateChanged(_sampleRate: number): void {}

  /** Synthesises one piece of text (a sentence or a speak frame's text). Throw ServiceError on vendor errors. */
  abstract synthesize(text: string, options: SynthesizeOptions): AsyncIterable<TTSChunk>;

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'upstream') return this.pushFrame(frame, direction);
    switch (frame.type) {
      case 'start':
        this.adoptOutputRate(frame.audioOutSampleRate);
        return this.passInOrder(frame, direction);
      case 'llm-response-start':
        this.sentences.reset();
        this.discardingResponse = false;
        this.responseContext = `${this.name}-${++lastContext}`;
        return this.passInOrder(frame, direction);
      case 'llm-text': {
        // Text of the interrupted response still arriving (sent before the LLM saw the interruption) must not
        // start a new utterance: the caller asked the bot to stop.
        if (this.discardingResponse) return;
        const contextId = (this.responseContext ??= `${this.name}-${++lastContext}`);
        for (const text of this.sentences.push(frame.text)) this.enqueue({ kind: 'text', text, contextId });
        return;
      }
      case 'llm-response-end': {
        this.discardingResponse = false;
        const contextId = this.responseContext;
        this.responseContext = undefined;
        const rest = this.sentences.flush();
        if (contextId !== undefined) {
          if (rest !== undefined) this.enqueue({ kind: 'text', text: rest, contextId });
          this.enqueue({ kind: 'stop', contextId });
        }
        this.enqueue({ kind: 'frame', frame, direction });
        return;
      }
      case 'speak': {
        const contextId = `${this.name}-${++lastContext}`;
        const aggregator = new SentenceAggregator();
        const parts = aggregator.push(`${frame.text} `);
        const rest = aggregator.flush();
        for (const text of rest === undefined ? parts : [...parts, rest]) this.enqueue({ kind: 'text', text, contextId });
        this.enqueue({ kind: 'stop', contextId });
        return;
      }
      case 'end':
        this.enqueue({ kind: 'frame', frame, direction });
        return;
      case 'interruption':
      case 'cancel': {
        // Pending speech is dropped, but not the frames an interruption keeps (a tool's result, the end of the
        // call): dropping a queued `end` left the task waiting for it forever when the caller barged in on a
        // goodbye.
        this.jobs =
          frame.type === 'cancel' ? [] : this.jobs.filter((job) => job.kind === 'frame' && survivesInterruption(job.frame));
        this.discardingResponse = frame.type === 'interruption' && this.responseContext !== undefined;
        this.sentences.reset();
        this.responseContext = undefined;
        this.synthesis?.abort();
        const stoppedContext = this.startedContext;
        this.startedContext = undefined;
        // The interruption goes first: a tts-stopped sent before it reached the output transport while audio was
        // still queued there, was queued behind that audio and discarded with it by the interruption.
        const result = this.pushFrame(frame, direction);
        if (stoppedContext !== undefined) void this.stopUtterance(stoppedContext);
        return result;
      }
      default:
        return this.passInOrder(frame, direction);
    }
  }

  /**
   * Passes a frame on in order: behind the speech still pending, unless it is a system frame (those overtake, as
   * everywhere in the pipeline). Passed on at once, an `llm-response-start` or a tool result overtook the audio of
   * the previous response still being synthesised.
   */
  private passInOrder(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (this.working && !isSystemFrame(frame)) {
      this.jobs.push({ kind: 'frame', frame, direction });
      return;
    }
    return this.pushFrame(frame, direction);
  }

  /** Makes the call's output rate this service's, when the vendor can and the user did not choose a rate. */
  private adoptOutputRate(callRate: number): void {
    if (this.fixedSampleRate || callRate === this.outputRate || !this.sampleRates.includes(callRate)) return;
    this.outputRate = callRate;
    this.onSampleRateChanged(callRate);
  }

  override async cleanup(): Promise<void> {
    this.jobs = [];
    this.synthesis?.abort();
  }

  /**
   * The utterance `contextId` is over: its `tts-stopped` goes out right after this returns. A vendor with contexts
   * of its own closes the utterance's one here. Default: nothing.
   */
  protected onUtteranceStopped(_contextId: string): void {}

  private stopUtterance(contextId: string): void | Promise<void> {
    this.onUtteranceStopped(contextId);
    return this.pushFrame(makeFrame('tts-stopped', { contextId }));
  }

  private enqueue(job: Job): void {
    this.jobs.push(job);
    if (!this.working) void this.work();
  }

  private async work(): Promise<void> {
    this.working = true;
    try {
      for (let job = this.jobs.shift(); job !== undefined; job = this.jobs.shift()) {
        if (job.kind === 'frame') {
          await this.pushFrame(job.frame, job.direction);
        } else if (job.kind === 'stop') {
          if (this.startedContext === job.contextId) {
            this.startedContext = undefined;
            await this.stopUtterance(job.contextId);
          }
        } else {
          await this.say(job.text, job.contextId);
        }
      }
    } finally {
      this.working = false;
    }
  }

  private async say(text: string, contextId: string): Promise<void> {
    const synthesis = new AbortController();
    this.synthesis = synthesis;
    if (this.startedContext !== contextId) {
      if (this.startedContext !== undefined) await this.stopUtterance(this.startedContext);
      this.startedContext = contextId;
      this.utteranceAudioMs = 0;
      await this.pushFrame(makeFrame('tts-started', { contextId }));
    }
    this.startTtfbMetrics();
    this.startProcessingMetrics();
    const words: { text: string; offsetMs: number }[] = [];
    let hasWordTimings = false;
    // Word offsets count from the start of the utterance, so the clock carries on across its sentences.
    let audioMs = this.utteranceAudioMs;
    let sentenceTextSent = false;
    try {
      for await (const chunk of this.synthesize(text, { contextId, signal: synthesis.signal })) {
        if (synthesis.signal.aborted) break;
        if (chunk.type === 'word') {
          hasWordTimings = true;
          words.push({ text: chunk.text, offsetMs: chunk.offsetMs });
          continue;
        }
        this.stopTtfbMetrics();
        if (chunk.audio.length === 0) continue;
        const chunkMs = (chunk.audio.length * 1000) / this.sampleRate;
        if (hasWordTimings) {
          // Place each word just before the audio chunk in which it starts.
          while (words.length > 0 && words[0]!.offsetMs < audioMs + chunkMs) {
            const word = words.shift()!;
            await this.pushFrame(makeFrame('tts-text', { text: word.text, contextId, offsetMs: word.offsetMs }));
          }
        } else if (!sentenceTextSent) {
          sentenceTextSent = true;
          await this.pushFrame(makeFrame('tts-text', { text, contextId }));
        }
        await this.pushFrame(ttsAudioFrame(chunk.audio, this.sampleRate, contextId));
        audioMs += chunkMs;
        this.utteranceAudioMs = audioMs;
      }
      if (!synthesis.signal.aborted) {
        for (const word of words) {
          await this.pushFrame(makeFrame('tts-text', { text: word.text, contextId, offsetMs: word.offsetMs }));
        }
      }
    } catch (error) {
      if (!synthesis.signal.aborted) this.pushError(error);
    } finally {
      this.stopProcessingMetrics();
      if (this.synthesis === synthesis) this.synthesis = undefined;
    }
    if (!synthesis.signal.aborted) {
      this.pushMetrics({ kind: 'tts-usage', processor: this.name, model: this.model, characters: text.length });
    }
  }
}
