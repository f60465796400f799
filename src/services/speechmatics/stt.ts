// SpeechmaticsSTTService: Speechmatics real-time transcription (`wss://eu2.rt.speechmatics.com/v2`), one WebSocket per
// call, on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources:
// docs/vendors/speechmatics.md. The protocol is spoken directly (the SDK would add a dependency for a handful of
// JSON messages and hide the in-band `Error` types this client maps).
//
// A socket: `StartRecognition` (audio format, language, partials, `max_delay`) on open; audio goes out only after
// `RecognitionStarted` (the base's `waitsForSessionStart`), as binary frames the server numbers (`AudioAdded`
// `seq_no`); each VAD stop sends `ForceEndOfUtterance`, whose `EndOfUtterance` (after the final `AddTranscript`)
// completes the turn; the end of the call sends `EndOfStream` with the last frame's number and closes on
// `EndOfTranscript`. Errors come in band (`{message: "Error", type, reason}`) before the close: `not_authorised`
// and the other configuration errors are final; `quota_exceeded` (concurrent sessions), `job_error`,
// `buffer_error` and the timeouts are retried like a drop.
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError, type ServiceErrorCode } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { refusedHandshakeError } from '../base/vendor-socket.js';

export const SPEECHMATICS = 'Speechmatics';

export type SpeechmaticsOperatingPoint = 'standard' | 'enhanced';

export interface SpeechmaticsSTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /** ISO language code (`transcription_config.language`), e.g. 'en', 'hi', 'ta'. Default 'en'. */
  language?: string;
  /** `operating_point`. Default 'enhanced' (the more accurate model). */
  model?: SpeechmaticsOperatingPoint;
  /** Partial transcripts while the caller speaks. Default true. */
  enablePartials?: boolean;
  /** Seconds between a word's end and its final (0.7-4). Default 0.7: the lowest latency. */
  maxDelaySecs?: number;
  /** Words to recognise (`additional_vocab`). */
  additionalVocab?: readonly string[];
  /** Any other `transcription_config` field, sent as given. */
  extraConfig?: Readonly<Record<string, unknown>>;
  /** Default 'wss://eu2.rt.speechmatics.com' (US: 'wss://us2.rt.speechmatics.com'). */
  baseUrl?: string;
}

/** What an in-band `Error` type means (docs/vendors/speechmatics.md). */
const ERROR_CODES: Readonly<Record<string, ServiceErrorCode>> = {
  not_authorised: 'auth',
  not_allowed: 'auth',
  insufficient_funds: 'quota',
  timelimit_exceeded: 'quota',
  quota_exceeded: 'rate-limited',
  invalid_message: 'bad-request',
  invalid_model: 'bad-request',
  invalid_config: 'bad-request',
  invalid_audio_type: 'bad-request',
  invalid_output_format: 'bad-request',
  protocol_error: 'bad-request',
  job_error: 'server',
  data_error: 'server',
  buffer_error: 'server',
  session_transfer: 'server',
  unknown_error: 'server',
  idle_timeout: 'connection-lost',
  session_timeout: 'connection-lost',
};

/** An in-band `Error` (type and reason) as a ServiceError. */
export function speechmaticsError(type: string, reason: string, secrets: readonly string[]): ServiceError {
  const code = ERROR_CODES[type] ?? 'server';
  const hint = code === 'auth' ? ' (check SPEECHMATICS_API_KEY)' : '';
  return new ServiceError(SPEECHMATICS, redactSecrets(`${type}: ${reason}${hint}`, secrets), { code, vendorCode: type });
}

interface SpeechmaticsResult {
  type?: unknown;
  start_time?: unknown;
  end_time?: unknown;
  alternatives?: { content?: unknown; confidence?: unknown; language?: unknown }[];
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export class SpeechmaticsSTTService extends StreamingSTTService {
  readonly language: string;
  protected readonly vendor = SPEECHMATICS;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: SpeechmaticsSTTServiceOptions;
  private readonly baseUrl: string;
  private forcePending = false;
  private lastError: ServiceError | undefined;

  constructor(options: SpeechmaticsSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SPEECHMATICS_API_KEY');
    const maxDelay = options.maxDelaySecs;
    if (maxDelay !== undefined && !(maxDelay >= 0.7 && maxDelay <= 4)) {
      throw new RangeError(`${new.target.name}: maxDelaySecs must be within 0.7-4, got ${maxDelay}`);
    }
    super({ ...options, model: options.model ?? 'enhanced' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.language = options.language ?? 'en';
    this.baseUrl = (options.baseUrl ?? 'wss://eu2.rt.speechmatics.com').replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '').replace(/\/v2$/, '');
  }

  /** The `StartRecognition` message of a socket. */
  get startRecognition(): Record<string, unknown> {
    const o = this.options;
    return {
      message: 'StartRecognition',
      audio_format: { type: 'raw', encoding: 'pcm_s16le', sample_rate: this.sampleRate },
      transcription_config: {
        language: this.language,
        operating_point: this.model ?? 'enhanced',
        enable_partials: o.enablePartials ?? true,
        max_delay: o.maxDelaySecs ?? 0.7,
        ...(o.additionalVocab === undefined ? {} : { additional_vocab: [...o.additionalVocab] }),
        ...o.extraConfig,
      },
    };
  }

  protected override connection(): StreamingSTTConnection {
    this.forcePending = false;
    this.lastError = undefined;
    return {
      url: `${this.baseUrl}/v2`,
      headers: { Authorization: `Bearer ${this.apiKey}` },
      refusal: (failure) => {
        const error = refusedHandshakeError(SPEECHMATICS, failure, this.secrets);
        return failure.status === 401 ? new ServiceError(SPEECHMATICS, `${error.message} (check SPEECHMATICS_API_KEY)`, { status: 401 }) : error;
      },
      closeMessage: () => JSON.stringify({ message: 'EndOfStream', last_seq_no: this.audioFramesSent }),
    };
  }

  protected override get waitsForSessionStart(): boolean {
    return true;
  }

  protected override onSocketOpen(): void {
    this.sendJSON(this.startRecognition);
  }

  protected override requestFinalize(): void {
    this.forcePending = true;
    this.sendJSON({ message: 'ForceEndOfUtterance' });
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    switch (message.message) {
      case 'RecognitionStarted':
        this.sessionStarted();
        return;
      case 'AddPartialTranscript':
      case 'AddTranscript':
        this.onTranscript(message, message.message === 'AddTranscript');
        return;
      case 'EndOfUtterance':
        if (this.forcePending) {
          this.forcePending = false;
          this.finalizeAnswered();
        }
        return;
      case 'EndOfTranscript':
        this.endOfStreamReached();
        return;
      case 'Error':
        this.lastError = speechmaticsError(String(message.type), typeof message.reason === 'string' ? message.reason : '', this.secrets);
        return;
      case 'AudioAdded':
        return;
      default:
        this.logger.debug({ message: redactSecrets(String(message.message), this.secrets), type: message.type }, 'Speechmatics: message ignored');
    }
  }

  private onTranscript(message: Readonly<Record<string, unknown>>, final: boolean): void {
    const metadata = message.metadata as { transcript?: unknown; end_time?: unknown } | undefined;
    const transcript = typeof metadata?.transcript === 'string' ? metadata.transcript.trim() : '';
    const words: TranscriptionWord[] = [];
    let language: string | undefined;
    if (Array.isArray(message.results)) {
      for (const result of message.results as SpeechmaticsResult[]) {
        const alternative = result.alternatives?.[0];
        const start = num(result.start_time);
        const end = num(result.end_time);
        if (result.type !== 'word' || typeof alternative?.content !== 'string' || start === undefined || end === undefined) continue;
        if (typeof alternative.language === 'string') language ??= alternative.language;
        const confidence = num(alternative.confidence);
        words.push({ word: alternative.content, start: this.toCallTime(start), end: this.toCallTime(end), ...(final && confidence !== undefined ? { confidence } : {}) });
      }
    }
    this.emitTranscript(transcript, final, { language: language ?? this.language, words });
    const reach = num(metadata?.end_time);
    if (final && reach !== undefined) this.finalReached(reach);
  }
}
