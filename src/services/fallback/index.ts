// Fallback services: a list of services of one kind, used in order. When the one in use fails before it has
// produced anything (a 5xx, a dropped socket, a refused key), the next one answers the same request, so the
// caller hears an answer instead of an apology. A service that failed is skipped for `recoverAfterMs`, then
// tried again first.
//
// Only a failure before any output switches over: once words or audio have gone out, switching would repeat or
// garble them; that failure is reported as usual (the LLM base then apologises, the TTS base moves on).
import { StreamingResampler } from '../../audio/index.js';
import type { LLMContextSnapshot } from '../../frames/index.js';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { LLMService, type LLMServiceOptions } from '../base/llm-service.js';
import type { LLMStreamEvent, StreamCompletionOptions } from '../base/llm-stream.js';
import { TTSService, type SynthesizeOptions, type TTSChunk } from '../base/tts-service.js';

export interface FallbackOptions {
  /** How long a failed service is skipped. Default 60 000 ms. */
  recoverAfterMs?: number;
  logger?: Logger;
  name?: string;
}

/** Which services to try, in order: the healthy ones first, then those whose rest has expired. */
class FallbackOrder<S extends { readonly name: string }> {
  private readonly failedAt = new Map<S, number>();

  constructor(
    readonly services: readonly S[],
    private readonly recoverAfterMs: number,
    private readonly logger: Logger,
  ) {
    if (services.length === 0) throw new TypeError('a fallback needs at least one service');
  }

  order(): S[] {
    const now = performance.now();
    const healthy = this.services.filter((s) => now - (this.failedAt.get(s) ?? -Infinity) >= this.recoverAfterMs);
    const resting = this.services.filter((s) => !healthy.includes(s));
    return [...healthy, ...resting];
  }

  failed(service: S, error: unknown, next: S | undefined): void {
    this.failedAt.set(service, performance.now());
    this.logger.warn(
      { err: error, failed: service.name, next: next?.name },
      next === undefined ? `${service.name} failed; no fallback left` : `${service.name} failed; switching to ${next.name}`,
    );
  }

  succeeded(service: S): void {
    this.failedAt.delete(service);
  }
}

export class FallbackLLMService extends LLMService {
  private readonly fallback: FallbackOrder<LLMService>;

  constructor(services: readonly LLMService[], options: FallbackOptions & Partial<LLMServiceOptions> = {}) {
    super({ ...options, model: options.model ?? services.map((s) => s.model).join(' | '), name: options.name ?? 'fallback-llm' });
    this.fallback = new FallbackOrder(services, options.recoverAfterMs ?? 60_000, options.logger ?? getDefaultLogger());
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
  private readonly fallback: FallbackOrder<TTSService>;
  private readonly resamplers = new Map<TTSService, StreamingResampler>();

  /** Audio of every service is delivered at the first service's rate (others are resampled). */
  constructor(services: readonly TTSService[], options: FallbackOptions = {}) {
    super({ sampleRate: services[0]?.sampleRate ?? 16000, name: options.name ?? 'fallback-tts' });
    this.fallback = new FallbackOrder(services, options.recoverAfterMs ?? 60_000, options.logger ?? getDefaultLogger());
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    const order = this.fallback.order();
    let lastError: unknown;
    for (const [i, service] of order.entries()) {
      let produced = false;
      try {
        for await (const chunk of service.synthesize(text, options)) {
          produced = true;
          yield chunk.type === 'audio' ? { type: 'audio', audio: this.toOwnRate(service, chunk.audio) } : chunk;
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
