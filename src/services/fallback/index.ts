// Fallback services: a list of services of one kind, used in order. When the one in use fails before it has
// produced anything (a 5xx, a dropped socket, a refused key), the next one answers the same request, so the
// caller hears an answer instead of an apology. A service that failed is skipped for `recoverAfterMs`, then
// tried again first.
//
// An LLM switches only on a failure before any output: once words have gone out, switching would repeat or garble
// them; that failure is reported as usual (the LLM base then apologises). A TTS also switches in the middle of a
// sentence when the failing service says which words were left unsaid (UnsaidTextError): the next one says those.
// STT: see stt.ts.
import { StreamingResampler } from '../../audio/index.js';
import type { LLMContextSnapshot } from '../../frames/index.js';
import type { ProcessorSetup } from '../../pipeline/index.js';
import { LLMService, type LLMServiceOptions } from '../base/llm-service.js';
import type { LLMStreamEvent, StreamCompletionOptions } from '../base/llm-stream.js';
import { TTSService, UnsaidTextError, type SynthesizeOptions, type TTSChunk } from '../base/tts-service.js';
import { FallbackOrder, type FallbackOptions } from './order.js';

export type { FallbackOptions } from './order.js';
export { FallbackSTTService, type FallbackSTTOptions } from './stt.js';

export class FallbackLLMService extends LLMService {
  protected readonly fallback: FallbackOrder<LLMService>;

  constructor(services: readonly LLMService[], options: FallbackOptions & Partial<LLMServiceOptions> = {}) {
    super({ ...options, model: options.model ?? services.map((s) => s.model).join(' | '), name: options.name ?? 'fallback-llm' });
    this.fallback = new FallbackOrder(services, options.recoverAfterMs ?? 60_000, () => options.logger ?? this.logger, () => this.clock);
  }

  /** The services log with the call's logger too (they are not in the pipeline themselves). */
  override setup(setup: ProcessorSetup): void {
    super.setup(setup);
    for (const service of this.fallback.services) service.setup({ ...setup, observers: [] });
  }

  async *streamCompletion(context: LLMContextSnapshot, options: StreamCompletionOptions): AsyncGenerator<LLMStreamEvent> {
    const order = this.fallback.order();
    let lastError: unknown;
    for (const [i, service] of order.entries()) {
      let produced = false;
      try {
        for await (const event of service.streamCompletion(context, options)) {
          produced = true;
          yield event;
        }
        this.fallback.succeeded(service);
        return;
      } catch (error) {
        if (produced || options.signal.aborted) throw error;
        lastError = error;
        this.fallback.failed(service, error, order[i + 1]);
      }
    }
    throw lastError;
  }
}

export class FallbackTTSService extends TTSService {
  protected readonly fallback: FallbackOrder<TTSService>;
  private readonly resamplers = new Map<TTSService, StreamingResampler>();
  /**
   * Audio of the utterance in progress: all of it, and each service's part. A service's word offsets count from the
   * start of its own audio for the utterance; said by several services, they are moved onto the utterance's clock.
   */
  private utterance: { contextId: string; audioMs: number; byService: Map<TTSService, number>; preferred: TTSService | undefined } = {
    contextId: '',
    audioMs: 0,
    byService: new Map(),
    preferred: undefined,
  };

  /** Audio of every service is delivered at the first service's rate (others are resampled). */
  constructor(services: readonly TTSService[], options: FallbackOptions = {}) {
    super({ sampleRate: services[0]?.sampleRate ?? 16000, name: options.name ?? 'fallback-tts' });
    this.fallback = new FallbackOrder(services, options.recoverAfterMs ?? 60_000, () => options.logger ?? this.logger, () => this.clock);
  }

  /** The services log with the call's logger too (they are not in the pipeline themselves). */
  override setup(setup: ProcessorSetup): void {
    super.setup(setup);
    for (const service of this.fallback.services) service.setup({ ...setup, observers: [] });
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    // The first choice is read once per utterance: a switch (TTSSwitcher) never changes the voice mid-reply.
    if (this.utterance.contextId !== options.contextId) {
      this.utterance = { contextId: options.contextId, audioMs: 0, byService: new Map(), preferred: this.fallback.preferred };
    }
    const utterance = this.utterance;
    const order = this.fallback.order(utterance.preferred);
    let lastError: unknown;
    /** What is left to say, and how many of its first words already had their timings given. */
    let rest = text;
    let wordsGiven = 0;
    for (const [i, service] of order.entries()) {
      let produced = false;
      let wordsSeen = 0;
      let skip = wordsGiven;
      const shiftMs = utterance.audioMs - (utterance.byService.get(service) ?? 0);
      try {
        for await (const chunk of service.synthesize(rest, options)) {
          if (chunk.type === 'word') {
            wordsSeen++;
            if (skip > 0) {
              skip--;
              continue;
            }
            yield { type: 'word', text: chunk.text, offsetMs: chunk.offsetMs + shiftMs };
            continue;
          }
          produced = true;
          const ms = (chunk.audio.length * 1000) / service.sampleRate;
          utterance.audioMs += ms;
          utterance.byService.set(service, (utterance.byService.get(service) ?? 0) + ms);
          yield { type: 'audio', audio: this.toOwnRate(service, chunk.audio) };
        }
        this.fallback.succeeded(service);
        return;
      } catch (error) {
        if (options.signal.aborted) throw error;
        if (produced) {
          // Part of the text was said: the next service can go on only from where this one says it stopped.
          if (!(error instanceof UnsaidTextError)) throw error;
          wordsGiven = Math.max(wordsGiven - error.wordsSaid, error.wordsGiven, 0);
          rest = error.unsaidText;
        } else {
          // Timings given before any audio are not given again.
          wordsGiven = Math.max(wordsGiven, wordsSeen);
        }
        lastError = error;
        this.fallback.failed(service, error, order[i + 1]);
      }
    }
    throw lastError;
  }

  override async cleanup(): Promise<void> {
    await Promise.allSettled(this.fallback.services.map((s) => s.cleanup()));
  }

  private toOwnRate(service: TTSService, audio: Int16Array): Int16Array {
    if (service.sampleRate === this.sampleRate) return audio;
    let resampler = this.resamplers.get(service);
    if (resampler === undefined) {
      resampler = new StreamingResampler({ inputRate: service.sampleRate, outputRate: this.sampleRate });
      this.resamplers.set(service, resampler);
    }
    return resampler.process(audio);
  }
}
