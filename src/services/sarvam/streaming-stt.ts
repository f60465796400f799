// SarvamStreamingSTTService: Sarvam's Saaras / Saarika recognisers over the `/speech-to-text/ws` socket, one per
// call, on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources: docs/vendors/sarvam.md.
//
// The socket's configuration is its query (`language-code`, `model`, `mode`, `sample_rate`, `input_audio_codec`,
// the switches `vad_signals` and `flush_signal`), the key the `api-subscription-key` header. Audio goes as JSON text
// frames, `{"audio": {"data": <base64 PCM16>, "sample_rate", "encoding"}}`. Sarvam answers one final transcript per
// utterance (`{"type": "data"}`; this endpoint sends no interim results), and with `vad_signals` its own speech
// events (`START_SPEECH`, `END_SPEECH`), which tell this client whether Sarvam holds speech not yet transcribed.
// At a VAD stop that speech is flushed (`{"type": "flush"}`, honoured with `flush_signal=true`) and the answer's
// transcript completes the turn; with nothing held, the turn is complete at once (a flush then would have nothing to
// answer). Sarvam gives no word times: how far a final reaches is the audio sent when it was asked for (the flush)
// or when Sarvam said the speech ended, which is what the replay after a drop is cut at.
import { ServiceError } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { SARVAM, sarvamHttpError } from './errors.js';
import type { SarvamSTTMode } from './stt.js';

/** The rates the socket takes (a connection parameter; 8 kHz only that way). */
export const SARVAM_STREAMING_SAMPLE_RATES: readonly number[] = [8000, 16000];

export interface SarvamStreamingSTTServiceOptions extends Omit<StreamingSTTServiceOptions, 'model' | 'sampleRate'> {
  apiKey: string;
  /** Default 'saaras:v3'; 'saaras:v4' is the latest, 'saarika:v2.5' the legacy transcription model. */
  model?: 'saaras:v3' | 'saaras:v4' | 'saarika:v2.5' | (string & {});
  /** `language-code`: 'hi-IN', 'ta-IN', 'en-IN', ... or 'unknown' to let Sarvam detect it. Default 'unknown'. */
  language?: string;
  /** Saaras v3 / v4 only. Default: Sarvam's ('transcribe'). */
  mode?: SarvamSTTMode;
  /** Sarvam's faster end-of-speech detection (`high_vad_sensitivity`). Default: Sarvam's (off). */
  highVadSensitivity?: boolean;
  /** 8000 or 16000. Default: the call's input rate when it is one of them, else 16000 (the audio is resampled). */
  sampleRate?: 8000 | 16000;
  /** Default 'wss://api.sarvam.ai'. */
  baseUrl?: string;
}

/** A `{"type": "error"}` message's data as a ServiceError: `{error, code}` in the SDK's types, `{message, code}` in other Sarvam sockets. */
export function sarvamStreamError(data: unknown, secrets: readonly string[]): ServiceError {
  const { error, message, code } = (typeof data === 'object' && data !== null ? data : {}) as { error?: unknown; message?: unknown; code?: unknown };
  const text = typeof error === 'string' ? error : typeof message === 'string' ? message : 'error';
  const vendorCode = typeof code === 'string' || typeof code === 'number' ? String(code) : undefined;
  // The codes are the REST ones (docs/vendors/sarvam.md); anything else is taken as the server's trouble: retried.
  const kind =
    vendorCode === 'invalid_api_key_error' || vendorCode === 'authentication_error'
      ? 'auth'
      : vendorCode === 'insufficient_quota_error'
        ? 'quota'
        : vendorCode === 'rate_limit_exceeded_error'
          ? 'rate-limited'
          : vendorCode === 'invalid_request_error' || vendorCode === 'unprocessable_entity_error'
            ? 'bad-request'
            : 'server';
  const hint = kind === 'auth' ? ' (check SARVAM_API_KEY)' : '';
  return new ServiceError(SARVAM, redactSecrets(`stream error: ${text}${hint}`, secrets), { code: kind, vendorCode });
}

export class SarvamStreamingSTTService extends StreamingSTTService {
  protected readonly vendor = SARVAM;
  protected readonly secrets: readonly string[];
  override readonly model: string;
  readonly language: string;
  readonly mode: SarvamSTTMode | undefined;
  private readonly apiKey: string;
  private readonly baseUrl: string;
  private readonly fixedRate: 8000 | 16000 | undefined;
  private readonly highVadSensitivity: boolean | undefined;
  /** Samples sent on the current socket. */
  private socketSamples = 0;
  /** Sarvam said speech started and has not transcribed it yet (no END_SPEECH, flush or final since). */
  private speechOpen = false;
  /** A final is on its way (speech ended or was flushed); where the audio it covers ends (socket samples). */
  private pendingFinalAt: number | undefined;
  /** A VAD stop waits for that final. */
  private finalizeWanted = false;
  private lastError: ServiceError | undefined;

  constructor(options: SarvamStreamingSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SARVAM_API_KEY');
    if (options.sampleRate !== undefined && !SARVAM_STREAMING_SAMPLE_RATES.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: the socket takes 8000 or 16000 Hz, not ${String(options.sampleRate)}`);
    }
    const model = options.model ?? 'saaras:v3';
    super({ ...options, model });
    this.model = model;
    this.language = options.language ?? 'unknown';
    // Only the Saaras v3 / v4 models take a mode; sending one to another model is refused.
    this.mode = /^saaras:v[34]/.test(model) ? options.mode : undefined;
    this.highVadSensitivity = options.highVadSensitivity;
    this.fixedRate = options.sampleRate;
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.baseUrl = (options.baseUrl ?? 'wss://api.sarvam.ai').replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '').replace(/\/speech-to-text\/ws$/, '');
  }

  /** The call's input rate when the socket takes it (no resampling), else 16 kHz. */
  protected override get sampleRate(): number {
    if (this.fixedRate !== undefined) return this.fixedRate;
    const rate = super.sampleRate;
    return SARVAM_STREAMING_SAMPLE_RATES.includes(rate) ? rate : 16000;
  }

  /** The socket's query, as Sarvam reads it. */
  get query(): Record<string, string> {
    return {
      'language-code': this.language,
      model: this.model,
      ...(this.mode === undefined ? {} : { mode: this.mode }),
      sample_rate: String(this.sampleRate),
      // Raw PCM must be declared; other codecs Sarvam detects.
      input_audio_codec: 'pcm_s16le',
      ...(this.highVadSensitivity === undefined ? {} : { high_vad_sensitivity: String(this.highVadSensitivity) }),
      vad_signals: 'true',
      flush_signal: 'true',
    };
  }

  protected override connection(): StreamingSTTConnection {
    this.socketSamples = 0;
    this.speechOpen = false;
    this.pendingFinalAt = undefined;
    this.lastError = undefined;
    return {
      url: `${this.baseUrl}/speech-to-text/ws?${new URLSearchParams(this.query).toString()}`,
      headers: { 'api-subscription-key': this.apiKey },
      refusal: (failure) => sarvamHttpError(failure.status, failure.headers, failure.body, this.apiKey, 'stream'),
      // No keepalive: a call's transport sends audio (silence included) all the time, well within Sarvam's 60 s idle
      // limit. No close message: the reference names none for this socket, so the end of the call flushes what is
      // held and waits (bounded) for its final before closing.
      closeMessage: () => this.closingFlush(),
    };
  }

  /**
   * The end of the call's message: a flush, so held speech is transcribed now; the first final after it closes the
   * socket. With nothing held and no final on its way the socket is closed at once instead of waiting for one.
   */
  private closingFlush(): string {
    if (this.speechOpen) {
      this.speechOpen = false;
      this.pendingFinalAt = this.socketSamples;
    } else if (this.pendingFinalAt === undefined) {
      queueMicrotask(() => this.endOfStreamReached());
    }
    return JSON.stringify({ type: 'flush' });
  }

  protected override audioMessage(bytes: Buffer): string {
    this.socketSamples += bytes.length / 2;
    return JSON.stringify({ audio: { data: bytes.toString('base64'), sample_rate: this.sampleRate, encoding: 'audio/wav' } });
  }

  protected override requestFinalize(): void {
    if (this.speechOpen) {
      this.flushHeld();
      this.finalizeWanted = true;
    } else if (this.pendingFinalAt !== undefined) {
      this.finalizeWanted = true;
    } else {
      // Sarvam holds no speech: nothing more will come for this turn.
      this.finalizeAnswered();
    }
  }

  private flushHeld(): void {
    this.speechOpen = false;
    this.pendingFinalAt = this.socketSamples;
    this.sendJSON({ type: 'flush' });
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeWanted = false;
    super.onUserStartedSpeaking();
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    const data = message.data as Record<string, unknown> | undefined;
    if (message.type === 'data') this.onFinal(data);
    else if (message.type === 'events') {
      if (data?.signal_type === 'START_SPEECH') this.speechOpen = true;
      else if (data?.signal_type === 'END_SPEECH' && this.speechOpen) {
        this.speechOpen = false;
        this.pendingFinalAt = this.socketSamples;
      }
    } else if (message.type === 'error') {
      this.lastError = sarvamStreamError(data, this.secrets);
      this.logger.warn({ error: this.lastError.message }, `${SARVAM} reported an error`);
    }
  }

  private onFinal(data: Record<string, unknown> | undefined): void {
    const text = typeof data?.transcript === 'string' ? data.transcript.trim() : '';
    const detected = typeof data?.language_code === 'string' && data.language_code !== '' ? data.language_code : undefined;
    const language = detected ?? (this.language === 'unknown' ? undefined : this.language);
    this.emitTranscript(text, true, language === undefined ? {} : { language });
    // Without word times, the final covers the audio sent when it was asked for; one Sarvam sent on its own
    // (no END_SPEECH seen) covers what was sent until now.
    const reach = this.pendingFinalAt ?? this.socketSamples;
    this.pendingFinalAt = undefined;
    this.speechOpen = false;
    this.finalReached(reach / this.sampleRate);
    if (this.finalizeWanted) {
      this.finalizeWanted = false;
      this.finalizeAnswered();
    }
    this.endOfStreamReached();
  }
}
