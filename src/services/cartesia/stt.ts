// CartesiaSTTService: Cartesia Ink streaming speech-to-text (`wss://api.cartesia.ai/stt/websocket`, model
// `ink-whisper`), one WebSocket per call, on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts
// and sources: docs/vendors/cartesia-stt.md.
//
// A socket: the key in `X-API-Key` and the API version in `Cartesia-Version` (headers, never the URL), the model,
// language and audio format in the query; audio as binary PCM. Cartesia answers `transcript` messages (`is_final`,
// `text`, `language`, `words` with times); finals are pieces of the transcript, each sent once. A VAD stop sends
// the bare text command `finalize`: Cartesia transcribes what it holds and answers `flush_done`, which completes
// the turn (`transcription-complete`). The end of the call sends `done`; Cartesia sends the last finals, `done`, and
// closes. An in-band `error` precedes a close and is what the close means.
import type { TranscriptionWord } from '../../frames/index.js';
import { codeForStatus, ServiceError } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import type { HttpFailure } from '../base/http-stream.js';
import { redactSecrets, requireApiKey, retryAfterSecs } from '../base/vendor-errors.js';
import { CARTESIA_DEFAULT_VERSION } from './tts.js';

export const CARTESIA = 'Cartesia';

export interface CartesiaSTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /** Default 'ink-whisper'. */
  model?: string;
  /** ISO-639-1 code of the caller's language, e.g. 'hi', 'ta'. Default 'en'. */
  language?: string;
  /** `min_volume` (0 to 1): audio below it counts as silence for Cartesia's own endpointing. */
  minVolume?: number;
  /** `max_silence_duration_secs`: silence after which Cartesia ends an utterance by itself. */
  maxSilenceDurationSecs?: number;
  /** The `Cartesia-Version` header. Default '2025-04-16' (the TTS service's; its commands are `finalize` / `done`). */
  cartesiaVersion?: string;
  /** Default 'wss://api.cartesia.ai'. */
  baseUrl?: string;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);
const str = (value: unknown): string | undefined => (typeof value === 'string' && value !== '' ? value : undefined);

/** An in-band `type: "error"` message (either version's shape) as a ServiceError. */
export function cartesiaSTTError(message: Readonly<Record<string, unknown>>, secrets: readonly string[]): ServiceError {
  const status = num(message.status_code);
  const text = str(message.message) ?? str(message.error) ?? str(message.title) ?? 'unknown error';
  const hint = status === 401 ? ' (check CARTESIA_API_KEY)' : '';
  return new ServiceError(CARTESIA, redactSecrets(`${status === undefined ? '' : `${status} `}${text}${hint}`, secrets), {
    status,
    // Without a status, an error inside the stream is the service failing: retried like a drop.
    code: status === undefined ? 'server' : codeForStatus(status),
    vendorCode: str(message.error_code),
  });
}

/** A refused handshake: the status, and the message of a JSON body (2026-03-01 on) or the `Title: message` text. */
function refusal(failure: HttpFailure, secrets: readonly string[]): ServiceError {
  let text = failure.body.trim();
  let vendorCode: string | undefined;
  try {
    const body = JSON.parse(text) as Record<string, unknown>;
    text = str(body.message) ?? str(body.title) ?? text;
    vendorCode = str(body.error_code);
  } catch {
    // Older versions answer plain text.
  }
  const hint = failure.status === 401 ? ' (check CARTESIA_API_KEY)' : '';
  return new ServiceError(CARTESIA, redactSecrets(`connection refused with ${failure.status}: ${text.slice(0, 200) || 'no reason given'}${hint}`, secrets), {
    status: failure.status,
    vendorCode,
    retryAfterSecs: retryAfterSecs(failure.headers),
  });
}

export class CartesiaSTTService extends StreamingSTTService {
  readonly language: string;
  readonly cartesiaVersion: string;
  protected readonly vendor = CARTESIA;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: CartesiaSTTServiceOptions;
  private readonly baseUrl: string;
  private lastError: ServiceError | undefined;

  constructor(options: CartesiaSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'CARTESIA_API_KEY');
    if (options.minVolume !== undefined && !(options.minVolume >= 0 && options.minVolume <= 1)) {
      throw new RangeError(`${new.target.name}: minVolume must be between 0 and 1, got ${options.minVolume}`);
    }
    if (options.maxSilenceDurationSecs !== undefined && !(options.maxSilenceDurationSecs > 0)) {
      throw new RangeError(`${new.target.name}: maxSilenceDurationSecs must be > 0, got ${options.maxSilenceDurationSecs}`);
    }
    super({ ...options, model: options.model ?? 'ink-whisper' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.language = options.language ?? 'en';
    this.cartesiaVersion = options.cartesiaVersion ?? CARTESIA_DEFAULT_VERSION;
    this.baseUrl = (options.baseUrl ?? 'wss://api.cartesia.ai').replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '').replace(/\/stt\/websocket$/, '');
  }

  /** The socket's URL (no secret in it: the key goes in a header). */
  get url(): string {
    const o = this.options;
    const params = new URLSearchParams({ model: this.model ?? 'ink-whisper', language: this.language, encoding: 'pcm_s16le', sample_rate: String(this.sampleRate) });
    if (o.minVolume !== undefined) params.set('min_volume', String(o.minVolume));
    if (o.maxSilenceDurationSecs !== undefined) params.set('max_silence_duration_secs', String(o.maxSilenceDurationSecs));
    return `${this.baseUrl}/stt/websocket?${params.toString()}`;
  }

  protected override connection(): StreamingSTTConnection {
    this.lastError = undefined;
    return {
      url: this.url,
      headers: { 'X-API-Key': this.apiKey, 'Cartesia-Version': this.cartesiaVersion },
      refusal: (failure) => refusal(failure, this.secrets),
      // No keepalive: Cartesia closes after minutes without input, and a call's transport sends audio (silence
      // included) all the time; the reference names no keepalive command for STT.
      closeMessage: 'done',
    };
  }

  protected override requestFinalize(): void {
    this.sendText('finalize');
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    switch (message.type) {
      case 'transcript':
        this.onTranscript(message);
        return;
      case 'flush_done':
        this.finalizeAnswered();
        return;
      case 'done':
        this.endOfStreamReached();
        return;
      case 'error':
        this.lastError = cartesiaSTTError(message, this.secrets);
        this.logger.warn({ status: message.status_code, code: this.lastError.code }, `${CARTESIA} STT reported an error`);
        return;
      default:
        this.logger.debug({ type: redactSecrets(String(message.type), this.secrets) }, `${CARTESIA} STT: message ignored`);
    }
  }

  private onTranscript(message: Readonly<Record<string, unknown>>): void {
    const text = typeof message.text === 'string' ? message.text.trim() : '';
    const final = message.is_final === true;
    const language = str(message.language) ?? this.language;
    const words = this.words(message.words);
    this.emitTranscript(text, final, { language, words });
    // Word times are read as seconds from the socket's start. The reference does not say whether they count from
    // the socket or the utterance; from the socket is the safe reading: an utterance's times are never later, so
    // at worst less audio is released and more replayed after a drop, and nothing is lost.
    const end = words.at(-1)?.end;
    if (final && end !== undefined) this.finalReached(end - this.toCallTime(0));
  }

  private words(raw: unknown): TranscriptionWord[] {
    if (!Array.isArray(raw)) return [];
    const words: TranscriptionWord[] = [];
    for (const w of raw as { word?: unknown; start?: unknown; end?: unknown }[]) {
      const start = num(w.start);
      const end = num(w.end);
      const word = typeof w.word === 'string' ? w.word.trim() : '';
      if (word === '' || start === undefined || end === undefined) continue;
      words.push({ word, start: this.toCallTime(start), end: this.toCallTime(end) });
    }
    return words;
  }
}
