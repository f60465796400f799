// DeepgramFluxSTTService: Deepgram Flux, the turn-taking recogniser (`/v2/listen`), one WebSocket per call, on the
// shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources: docs/vendors/deepgram-flux.md.
//
// Flux does not send interim/final results like `/v1/listen`: it sends `TurnInfo` messages, each with the whole
// transcript of the current turn so far and an `event` (StartOfTurn, Update, EagerEndOfTurn, TurnResumed,
// EndOfTurn). How they map onto our turns (the VAD frames the turn; the user-turn aggregator commits it on
// `transcription-complete`):
// - Update, StartOfTurn, EagerEndOfTurn: the turn's transcript so far, as an interim transcription. (Eager events
//   come only with `eagerEotThreshold`; our pipeline starts no speculative reply, so they are interims too.)
// - EndOfTurn: the turn's transcript as ONE final transcription, and the end of the user's turn: every VAD stop
//   waiting on it is complete (`transcription-complete`), so the aggregator commits the turn now.
// - `endOfTurn: 'flux'` (default): Flux decides when the turn ends. A VAD stop asks for nothing; the turn waits for
//   Flux's EndOfTurn (model or `eot_timeout_ms`), and caller speech resuming before it continues the same turn.
//   The aggregator is told to wait that long (`transcriptionCompleteTimeoutMs`: Flux's timeout plus a margin). A
//   stop after Flux already ended the turn is complete at once. Without a VAD, each EndOfTurn is a turn by itself.
// - `endOfTurn: 'vad'`: our VAD decides: a stop sends `ForceEndTurn` (at once, or at Flux's StartOfTurn when Flux
//   has not yet heard the speech), which Flux answers with an EndOfTurn.
// - A VAD stop on noise Flux never took for speech is complete when an Update outside a turn covers it.
// A refused handshake is Deepgram's HTTP error (errors.ts); a fatal in-band `Error` message precedes the close and is
// what the close means. The end of the call sends `CloseStream`.
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError, type ServiceErrorCode } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { closeReasonCode, DEEPGRAM, httpServiceError } from './errors.js';
import { deepgramWebSocketBase } from './stt.js';

export type DeepgramFluxEndOfTurn = 'flux' | 'vad';

export interface DeepgramFluxSTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /** Default 'flux-general-en'; 'flux-general-multi' detects among its languages (`languageHints` bias it). */
  model?: string;
  /** Who ends the caller's turn: Flux's own end-of-turn detection (default) or our VAD (see the top of this file). */
  endOfTurn?: DeepgramFluxEndOfTurn;
  /** `eot_threshold`, 0.5 to 1.0 (1.0: Flux never ends a turn by itself). Flux's default 0.7. */
  eotThreshold?: number;
  /** `eager_eot_threshold`, 0.3 to 0.9, at most `eotThreshold`: enables EagerEndOfTurn / TurnResumed. */
  eagerEotThreshold?: number;
  /** `eot_timeout_ms`: silence after speech that ends a turn whatever the confidence, 500 to 60 000. Flux's 5000. */
  eotTimeoutMs?: number;
  /** Key terms to recognise (`keyterm`, repeated). */
  keyterms?: readonly string[];
  /** Languages to bias `flux-general-multi` toward (`language_hint`, repeated); ignored by other models. */
  languageHints?: readonly string[];
  /** `mip_opt_out`: opt out of Deepgram's Model Improvement Program. */
  mipOptOut?: boolean;
  /** Labels for usage reports (`tag`, repeated). */
  tags?: readonly string[];
  /** Any other query parameter, sent as given; arrays become repeated keys. */
  extraParams?: Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>;
  /** Default 'wss://api.deepgram.com'. */
  baseUrl?: string;
  /** KeepAlive after this long without audio. Default 5000 ms. */
  keepAliveIntervalMs?: number;
}

/** Flux's documented default `eot_timeout_ms`. */
const FLUX_EOT_TIMEOUT_MS = 5000;
/** Added to the end-of-turn timeout for the aggregator's wait: EndOfTurn's delivery after Flux's own timeout. */
const END_OF_TURN_MARGIN_MS = 1000;
const MULTILINGUAL_MODEL = 'flux-general-multi';
const KEEP_ALIVE = JSON.stringify({ type: 'KeepAlive' });
const CLOSE_STREAM = JSON.stringify({ type: 'CloseStream' });

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

function checkRange(service: string, name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(value >= min && value <= max)) throw new RangeError(`${service}: ${name} must be between ${min} and ${max}, got ${value}`);
}

/**
 * A fatal in-band `Error` (`{code, description}`) as a ServiceError. Deepgram names no list of codes for Flux; a
 * code that names auth or a bad request stops, anything else is taken as the server's trouble and retried (the
 * safest reading: a retry after a refusal that cannot pass is refused again, at the slow back-off).
 */
export function deepgramFluxError(code: string, description: string, secrets: readonly string[]): ServiceError {
  let kind: ServiceErrorCode = 'server';
  if (/AUTH|CREDENTIAL|FORBIDDEN|PERMISSION/i.test(code)) kind = 'auth';
  else if (/INSUFFICIENT|BALANCE|QUOTA|PAYMENT/i.test(code)) kind = 'quota';
  else if (/RATE|TOO_MANY|CONCURRENCY/i.test(code)) kind = 'rate-limited';
  else if (/INVALID|BAD_REQUEST|UNSUPPORTED|DATA-0000/i.test(code)) kind = 'bad-request';
  else if (/TIMEOUT|NET-000/i.test(code)) kind = 'timeout';
  return new ServiceError(DEEPGRAM, redactSecrets(`Flux error ${code}${description === '' ? '' : `: ${description}`}`, secrets), { code: kind, vendorCode: code });
}

export class DeepgramFluxSTTService extends StreamingSTTService {
  readonly endOfTurn: DeepgramFluxEndOfTurn;
  protected readonly vendor = DEEPGRAM;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: DeepgramFluxSTTServiceOptions;
  private readonly baseUrl: string;
  /** Flux said StartOfTurn and not yet EndOfTurn (on the current socket). */
  private turnOpen = false;
  /** With `endOfTurn: 'vad'`: a VAD stop waits for the EndOfTurn its ForceEndTurn asks for. */
  private awaitingForcedEnd = false;
  /** ForceEndTurn went out on the current socket (a new socket, replaying the turn's audio, needs its own). */
  private forceSent = false;
  /** Flux ended a turn since the caller last began speaking (VAD): a stop now has nothing left to wait for. */
  private turnEndedSinceSpeech = false;
  private lastError: ServiceError | undefined;

  constructor(options: DeepgramFluxSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'DEEPGRAM_API_KEY');
    checkRange(new.target.name, 'eotThreshold', options.eotThreshold, 0.5, 1);
    checkRange(new.target.name, 'eagerEotThreshold', options.eagerEotThreshold, 0.3, 0.9);
    checkRange(new.target.name, 'eotTimeoutMs', options.eotTimeoutMs, 500, 60_000);
    if (options.eagerEotThreshold !== undefined && options.eagerEotThreshold > (options.eotThreshold ?? 0.7)) {
      throw new RangeError(`${new.target.name}: eagerEotThreshold (${options.eagerEotThreshold}) must not exceed eotThreshold (${options.eotThreshold ?? 0.7})`);
    }
    super({ ...options, model: options.model ?? 'flux-general-en' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.endOfTurn = options.endOfTurn ?? 'flux';
    this.baseUrl = deepgramWebSocketBase(options.baseUrl ?? 'wss://api.deepgram.com').replace(/\/v2\/listen$/, '');
  }

  /** The `/v2/listen` URL (no secret in it: the key goes in a header). */
  get url(): string {
    const o = this.options;
    const model = this.model ?? 'flux-general-en';
    const params = new URLSearchParams({ model, encoding: 'linear16', sample_rate: String(this.sampleRate) });
    if (o.eotThreshold !== undefined) params.set('eot_threshold', String(o.eotThreshold));
    if (o.eagerEotThreshold !== undefined) params.set('eager_eot_threshold', String(o.eagerEotThreshold));
    if (o.eotTimeoutMs !== undefined) params.set('eot_timeout_ms', String(o.eotTimeoutMs));
    if (o.mipOptOut !== undefined) params.set('mip_opt_out', String(o.mipOptOut));
    for (const keyterm of o.keyterms ?? []) params.append('keyterm', keyterm);
    for (const tag of o.tags ?? []) params.append('tag', tag);
    // Deepgram documents language hints for the multilingual model only.
    if (model === MULTILINGUAL_MODEL) for (const hint of o.languageHints ?? []) params.append('language_hint', hint);
    for (const [name, value] of Object.entries(o.extraParams ?? {})) {
      params.delete(name);
      if (Array.isArray(value)) for (const v of value as readonly (string | number)[]) params.append(name, String(v));
      else params.set(name, String(value));
    }
    return `${this.baseUrl}/v2/listen?${params.toString()}`;
  }

  /** With Flux ending turns, the aggregator waits for its EndOfTurn up to Flux's own timeout and a margin. */
  override get transcriptionCompleteTimeoutMs(): number | undefined {
    if (this.endOfTurn === 'vad') return undefined;
    return (this.options.eotTimeoutMs ?? FLUX_EOT_TIMEOUT_MS) + END_OF_TURN_MARGIN_MS;
  }

  protected override connection(): StreamingSTTConnection {
    // A new socket starts in Flux's initial state; a stop still waiting is met by the replayed audio's turn.
    this.turnOpen = false;
    this.forceSent = false;
    this.lastError = undefined;
    return {
      url: this.url,
      headers: { Authorization: `Token ${this.apiKey}` },
      refusal: (failure) => httpServiceError(failure.status, failure.headers, failure.body, this.apiKey, 'Flux connection'),
      // Deepgram closes a stream after 10 s without audio or a message (NET-0001).
      keepAlive: { idleMs: Math.max(1, this.options.keepAliveIntervalMs ?? 5000), message: () => KEEP_ALIVE },
      closeMessage: CLOSE_STREAM,
    };
  }

  protected override onUserStartedSpeaking(): void {
    this.turnEndedSinceSpeech = false;
    // The caller goes on: the next VAD stop asks again.
    this.awaitingForcedEnd = false;
    super.onUserStartedSpeaking();
  }

  protected override requestFinalize(): void {
    if (!this.turnOpen && this.turnEndedSinceSpeech) {
      // Flux ended the caller's turn before the VAD noticed the silence.
      this.finalizeAnswered();
      return;
    }
    // Otherwise the stop waits for Flux's EndOfTurn, which completes every stop before it.
    if (this.endOfTurn !== 'vad') return;
    this.awaitingForcedEnd = true;
    // Before Flux has heard the speech (no StartOfTurn yet), ForceEndTurn would be ignored: it goes at StartOfTurn.
    if (this.turnOpen) this.forceEndTurn();
  }

  private forceEndTurn(): void {
    this.forceSent = true;
    this.sendJSON({ type: 'ForceEndTurn' });
  }

  protected override closeError(code: number, reason: string): ServiceError {
    if (this.lastError !== undefined) return this.lastError;
    return new ServiceError(DEEPGRAM, `Flux stream closed with ${code}${reason === '' ? '' : ` (${redactSecrets(reason, this.secrets)})`}`, {
      code: 'connection-lost',
      vendorCode: closeReasonCode(reason) ?? String(code),
    });
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    switch (message.type) {
      case 'TurnInfo':
        this.onTurnInfo(message);
        return;
      case 'Error': {
        const code = typeof message.code === 'string' ? message.code : 'UNKNOWN';
        this.lastError = deepgramFluxError(code, typeof message.description === 'string' ? message.description : '', this.secrets);
        this.logger.warn({ code: redactSecrets(code, this.secrets) }, 'Deepgram Flux reported a fatal error');
        return;
      }
      case 'Connected':
        this.logger.debug({ requestId: message.request_id }, 'Deepgram Flux: connected');
        return;
      default:
        this.logger.debug({ type: redactSecrets(String(message.type), this.secrets) }, 'Deepgram Flux: message ignored');
    }
  }

  private onTurnInfo(info: Readonly<Record<string, unknown>>): void {
    const transcript = typeof info.transcript === 'string' ? info.transcript.trim() : '';
    const windowEnd = num(info.audio_window_end);
    switch (info.event) {
      case 'StartOfTurn':
        this.turnOpen = true;
        // Flux heard the speech only now: a VAD stop already waiting ends the turn at once ('vad' mode).
        if (this.awaitingForcedEnd && !this.forceSent) this.forceEndTurn();
        this.emitTranscript(transcript, false, this.extra(info));
        return;
      case 'Update':
        if (this.turnOpen) this.emitTranscript(transcript, false, this.extra(info));
        // Outside a turn, an Update says the audio up to its window's end held no speech: a stop there is complete.
        else if (windowEnd !== undefined) this.finalReached(windowEnd);
        return;
      case 'EagerEndOfTurn':
        this.emitTranscript(transcript, false, this.extra(info));
        return;
      case 'TurnResumed':
        this.logger.debug({ turnIndex: info.turn_index }, 'Deepgram Flux: turn resumed');
        return;
      case 'EndOfTurn':
        this.onEndOfTurn(transcript, info, windowEnd);
        return;
      default:
        this.logger.debug({ event: redactSecrets(String(info.event), this.secrets) }, 'Deepgram Flux: TurnInfo event ignored');
    }
  }

  private onEndOfTurn(transcript: string, info: Readonly<Record<string, unknown>>, windowEnd: number | undefined): void {
    this.turnOpen = false;
    this.turnEndedSinceSpeech = true;
    this.awaitingForcedEnd = false;
    this.forceSent = false;
    this.emitTranscript(transcript, true, this.extra(info));
    if (windowEnd !== undefined) this.finalReached(windowEnd);
    // Flux has transcribed everything up to now: every VAD stop still waiting is complete.
    this.finalizeAnswered();
  }

  /** The language (`languages` on flux-general-multi; English on the English model) and the timed words. */
  private extra(info: Readonly<Record<string, unknown>>): { language?: string; words: TranscriptionWord[] } {
    const languages = info.languages;
    const detected = Array.isArray(languages) && typeof languages[0] === 'string' ? languages[0] : undefined;
    const language = detected ?? ((this.model ?? '').endsWith('-en') ? 'en' : undefined);
    const words: TranscriptionWord[] = [];
    if (Array.isArray(info.words)) {
      for (const w of info.words as { word?: unknown; start?: unknown; end?: unknown; confidence?: unknown }[]) {
        const start = num(w.start);
        const end = num(w.end);
        // The reference's words carry only `word` and `confidence`; times are used when present.
        if (typeof w.word !== 'string' || start === undefined || end === undefined) continue;
        const confidence = num(w.confidence);
        words.push({ word: w.word, start: this.toCallTime(start), end: this.toCallTime(end), ...(confidence === undefined ? {} : { confidence }) });
      }
    }
    return { ...(language === undefined ? {} : { language }), words };
  }
}
