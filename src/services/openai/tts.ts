// OpenAITTSService: OpenAI text-to-speech (`POST /audio/speech`) with `response_format: "pcm"`, i.e. raw PCM16 at
// 24 kHz mono, read from the HTTP body as it streams in, so the first audio plays while the rest is still being
// produced. The output transport resamples to the line's rate.
//
// OpenAI-compatible speech APIs are presets (an `OpenAISpeechProvider`: Groq's in presets-tts.ts) of this class: another
// base URL, key variable, default model and voice, and their quirks (Groq answers WAV at the `sample_rate` asked
// instead of raw `pcm`, and takes shorter inputs).
//
// Through the official `openai` SDK rather than bare `fetch`: the SDK already hands the streamed body over
// (`response.body`), and it gives this service the same auth headers, base-URL handling and typed errors as
// OpenAILLMService, so the one error mapper (errors.ts, which also strips echoed keys) serves both. The client is
// built with `maxRetries: 0`: retrying is the framework's decision, not the HTTP client's.
import { OpenAI } from 'openai';
import type { SpeechCreateParams } from 'openai/resources/audio/speech';
import { bytesToInt16 } from '../../audio/index.js';
import { WavStreamReader } from '../base/wav-stream.js';
import type { ClockTimer } from '../../runtime/clock.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';
import { requireApiKey } from '../base/vendor-errors.js';
import { toServiceError } from './errors.js';

/** The API's fixed rate for `pcm`. */
export const OPENAI_TTS_SAMPLE_RATE = 24000;
/** Longest `input` the API takes in one request. */
export const OPENAI_TTS_MAX_INPUT_CHARS = 4096;
const DEFAULT_TIMEOUT_MS = 15_000;

export const OPENAI_TTS_VOICES = [
  'alloy', 'ash', 'ballad', 'coral', 'echo', 'fable', 'onyx', 'nova', 'sage', 'shimmer', 'verse', 'marin', 'cedar',
] as const;
export type OpenAITTSVoice = (typeof OPENAI_TTS_VOICES)[number];
export type OpenAITTSModel = 'gpt-4o-mini-tts' | 'tts-1' | 'tts-1-hd';

/** An OpenAI-compatible speech API: where it is, and how it differs from OpenAI's. */
export interface OpenAISpeechProvider {
  /** Names the vendor in errors and logs. */
  readonly vendor: string;
  readonly baseURL: string;
  /** The environment variable its key is usually in (named in the error for a missing key). */
  readonly apiKeyEnv: string;
  readonly defaultModel: string;
  readonly defaultVoice: string;
  /**
   * 'pcm': raw PCM16 at `OPENAI_TTS_SAMPLE_RATE` (OpenAI). 'wav': a WAV stream at the rate sent as `sample_rate`, one
   * of `sampleRates` (Groq, which has no `pcm`); the header is checked and cut off.
   */
  readonly format: 'pcm' | 'wav';
  /** The rates `sample_rate` takes (format 'wav' only); the call's output rate is asked when it is one. */
  readonly sampleRates?: readonly number[];
  /** The longest `input` one request takes: longer text is split at sentence or word boundaries. */
  readonly maxInputChars: number;
  /** Whether its models take `instructions`. */
  readonly instructions: boolean;
}

export const OPENAI_SPEECH_PROVIDER: OpenAISpeechProvider = {
  vendor: 'OpenAI',
  baseURL: 'https://api.openai.com/v1',
  apiKeyEnv: 'OPENAI_API_KEY',
  defaultModel: 'gpt-4o-mini-tts',
  defaultVoice: 'alloy',
  format: 'pcm',
  maxInputChars: OPENAI_TTS_MAX_INPUT_CHARS,
  instructions: true,
};

export interface OpenAITTSServiceOptions {
  apiKey: string;
  /** Default 'gpt-4o-mini-tts' (the model that follows `instructions`); 'tts-1' has the lowest latency. */
  model?: OpenAITTSModel | (string & {});
  /** A built-in voice, or `{ id: 'voice_...' }` for a custom one. Default 'alloy'. */
  voice?: OpenAITTSVoice | (string & {}) | { id: string };
  /** 0.25 to 4.0; the API's default (1.0) when not set. */
  speed?: number;
  /** How to speak (tone, pace, accent). Only the gpt-4o TTS models take it; tts-1 and tts-1-hd do not. */
  instructions?: string;
  /** Default 'https://api.openai.com/v1'. */
  baseURL?: string;
  /** A fixed output rate, for providers that make several (format 'wav'); by default the call's output rate. */
  sampleRate?: number;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Longest wait for the response to start, and then between two pieces of audio. Default 15 s. */
  timeoutMs?: number;
}

/** Joins a byte stream into PCM16 samples; a sample split across two network chunks is carried over. */
class Pcm16Assembler {
  private carry: number | undefined;

  push(bytes: Uint8Array): Int16Array {
    const held = this.carry === undefined ? 0 : 1;
    const whole = (bytes.length + held) & ~1;
    if (whole === 0) {
      if (bytes.length > 0) this.carry = bytes[0];
      return new Int16Array(0);
    }
    // A fresh, even-aligned copy: the network buffer is reused by the stream and may start at an odd offset.
    const aligned = new Uint8Array(whole);
    if (this.carry !== undefined) aligned[0] = this.carry;
    aligned.set(bytes.subarray(0, whole - held), held);
    this.carry = whole - held < bytes.length ? bytes[bytes.length - 1] : undefined;
    return bytesToInt16(aligned);
  }
}

/** `text` cut into pieces the API accepts, at sentence or word boundaries where there are any. */
export function splitForSpeechInput(text: string, maxChars = OPENAI_TTS_MAX_INPUT_CHARS): string[] {
  const pieces: string[] = [];
  let rest = text.trim();
  while (rest.length > maxChars) {
    const window = rest.slice(0, maxChars + 1);
    const sentenceEnd = Math.max(window.lastIndexOf('. '), window.lastIndexOf('? '), window.lastIndexOf('! '));
    const space = window.lastIndexOf(' ');
    let cut = sentenceEnd > maxChars / 2 ? sentenceEnd + 1 : space > 0 ? space : maxChars;
    // Never leave half a surrogate pair at the end of a piece.
    if (/[\uD800-\uDBFF]/.test(rest.charAt(cut - 1))) cut -= 1;
    pieces.push(rest.slice(0, cut).trim());
    rest = rest.slice(cut).trim();
  }
  if (rest !== '') pieces.push(rest);
  return pieces;
}

function supportsInstructions(model: string): boolean {
  return model !== 'tts-1' && model !== 'tts-1-hd';
}

export class OpenAITTSService extends TTSService {
  override readonly model: string;
  readonly voice: NonNullable<OpenAITTSServiceOptions['voice']>;
  readonly speed: number | undefined;
  readonly instructions: string | undefined;
  private readonly client: OpenAI;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly provider: OpenAISpeechProvider;

  constructor(options: OpenAITTSServiceOptions, provider: OpenAISpeechProvider = OPENAI_SPEECH_PROVIDER) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, provider.apiKeyEnv);
    const model = options.model ?? provider.defaultModel;
    if (options.speed !== undefined && !(options.speed >= 0.25 && options.speed <= 4)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.25 and 4.0, got ${options.speed}`);
    }
    if (options.instructions !== undefined && !(provider.instructions && supportsInstructions(model))) {
      throw new TypeError(`${new.target.name}: instructions are not supported by ${model}${provider.instructions ? '; use gpt-4o-mini-tts' : ''}`);
    }
    const rates = provider.format === 'wav' ? (provider.sampleRates ?? []) : [];
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ') || String(OPENAI_TTS_SAMPLE_RATE)}, got ${options.sampleRate}`);
    }
    super({
      name: options.name,
      sampleRate: options.sampleRate ?? (provider.format === 'wav' ? 24000 : OPENAI_TTS_SAMPLE_RATE),
      ...(rates.length > 0 ? { sampleRates: rates } : {}),
      fixedSampleRate: options.sampleRate !== undefined,
      model,
    });
    this.provider = provider;
    this.model = model;
    this.voice = options.voice ?? provider.defaultVoice;
    this.speed = options.speed;
    this.instructions = options.instructions;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.client = new OpenAI({
      apiKey,
      baseURL: options.baseURL ?? provider.baseURL,
      maxRetries: 0,
      timeout: this.timeoutMs,
    });
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    for (const piece of splitForSpeechInput(text, this.provider.maxInputChars)) {
      if (options.signal.aborted) return;
      yield* this.synthesizePiece(piece, options.signal);
    }
  }

  private requestBody(input: string): SpeechCreateParams {
    const body: SpeechCreateParams = { model: this.model, input, voice: this.voice, response_format: this.provider.format };
    // Not in OpenAI's API (the SDK sends the body as given): the rate of the WAV a 'wav' provider makes.
    if (this.provider.format === 'wav') Object.assign(body, { sample_rate: this.sampleRate });
    if (this.speed !== undefined) body.speed = this.speed;
    if (this.instructions !== undefined) body.instructions = this.instructions;
    return body;
  }

  private async *synthesizePiece(input: string, signal: AbortSignal): AsyncGenerator<TTSChunk> {
    // Our own controller: an abort from the caller, a stall, or the consumer leaving early all end the request.
    const controller = new AbortController();
    const abort = (): void => controller.abort();
    signal.addEventListener('abort', abort, { once: true });
    let idleTimer: ClockTimer | undefined;
    let stalled = false;
    const clock = this.clock;
    const rearmIdleTimer = (): void => {
      clock.clearTimeout(idleTimer);
      idleTimer = clock.setTimeout(() => {
        stalled = true;
        controller.abort();
      }, this.timeoutMs);
      idleTimer.unref();
    };
    const pcm = new Pcm16Assembler();
    const wav = this.provider.format === 'wav' ? new WavStreamReader() : undefined;
    const vendor = this.provider.vendor;
    try {
      // Armed before the request too: a server that never answers is cut on the call's clock, like a silent stream.
      rearmIdleTimer();
      const response = await this.client.audio.speech.create(this.requestBody(input), { signal: controller.signal });
      if (response.body === null) throw new ServiceError(vendor, 'speech response has no body', { code: 'protocol' });
      // Typed `any` by the fetch typings; the body of a binary response is bytes.
      const reader = (response.body as ReadableStream<Uint8Array>).getReader();
      rearmIdleTimer();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        rearmIdleTimer();
        const audio = pcm.push(wav === undefined ? value : this.wavSamples(wav, value));
        if (audio.length > 0) yield { type: 'audio', audio };
      }
      // A trailing odd byte is half a sample: nothing playable, so it is dropped.
    } catch (err) {
      if (signal.aborted) return;
      if (err instanceof ServiceError) throw err;
      if (stalled) throw new ServiceError(vendor, `speech stream stalled: no audio for ${this.timeoutMs} ms`, { code: 'timeout' });
      throw toServiceError(vendor, err, this.apiKey);
    } finally {
      clock.clearTimeout(idleTimer);
      signal.removeEventListener('abort', abort);
      // Closes the connection when the consumer stopped early (a no-op once the body has been read to the end).
      controller.abort();
    }
  }

  /** The sample bytes of a WAV stream's next piece; the header is checked against the rate asked (PCM16 mono). */
  private wavSamples(wav: WavStreamReader, bytes: Uint8Array): Uint8Array {
    const hadFormat = wav.format !== undefined;
    let samples: Uint8Array;
    try {
      samples = wav.push(bytes);
    } catch (error) {
      throw new ServiceError(this.provider.vendor, `unreadable audio: ${error instanceof Error ? error.message : String(error)}`, { code: 'protocol' });
    }
    const format = wav.format;
    if (!hadFormat && format !== undefined && (format.formatTag !== 1 || format.bitsPerSample !== 16 || format.channels !== 1 || format.sampleRate !== this.sampleRate)) {
      throw new ServiceError(this.provider.vendor, `audio not as asked (${JSON.stringify(format)}), wanted PCM16 mono at ${this.sampleRate} Hz`, { code: 'protocol' });
    }
    return samples;
  }
}
