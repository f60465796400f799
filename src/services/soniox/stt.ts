// SonioxSTTService: Soniox real-time transcription (`wss://stt-rt.soniox.com/transcribe-websocket`), one WebSocket per
// call, on the shared StreamingSTTService (services/base/streaming-stt.ts). Facts and sources: docs/vendors/soniox.md.
//
// A socket: the key in `Authorization: Bearer` (the start request's `api_key` field is deprecated), the
// configuration as the first text message, then binary PCM. Soniox answers with tokens (pieces of text with
// `is_final`); final tokens are sent once and never change. They are gathered into one final transcript per turn:
// each VAD stop sends `{"type": "finalize"}`, whose `<fin>` marker token closes the turn
// (`transcription-complete`); Soniox's own endpoint token `<end>` (with `enableEndpointDetection`) closes one too.
// The end of the call sends an empty frame; Soniox answers `finished` and closes. Errors come in band
// (`{error_code, error_message}`, HTTP-like codes) just before the close, and are read by their code: 401/402/400
// are final, 408/429/5xx (503 "Cannot continue request": start a new one) are retried like a drop.
import type { TranscriptionWord } from '../../frames/index.js';
import { codeForStatus, ServiceError } from '../base/service-error.js';
import { StreamingSTTService, type StreamingSTTConnection, type StreamingSTTServiceOptions } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

export const SONIOX = 'Soniox';

export interface SonioxSTTServiceOptions extends StreamingSTTServiceOptions {
  apiKey: string;
  /** Default 'stt-rt-v5'. */
  model?: string;
  /** Languages expected (`language_hints`), e.g. ['hi', 'en']; the model detects among 60+ either way. */
  languageHints?: readonly string[];
  /** Soniox's own end-of-speech detection (`<end>` tokens). Default false: our VAD ends turns with `finalize`. */
  enableEndpointDetection?: boolean;
  /** Any other configuration field, sent as given. */
  extraConfig?: Readonly<Record<string, unknown>>;
  /** Default 'wss://stt-rt.soniox.com'. */
  baseUrl?: string;
}

interface SonioxToken {
  text?: unknown;
  start_ms?: unknown;
  end_ms?: unknown;
  confidence?: unknown;
  is_final?: unknown;
  language?: unknown;
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

/** An in-band `{error_code, error_message}` as a ServiceError (the codes are HTTP statuses). */
export function sonioxError(code: number, message: string, secrets: readonly string[]): ServiceError {
  const hint = code === 401 ? ' (check SONIOX_API_KEY)' : '';
  return new ServiceError(SONIOX, redactSecrets(`${code} ${message}${hint}`, secrets), { status: code, code: codeForStatus(code), vendorCode: String(code) });
}

export class SonioxSTTService extends StreamingSTTService {
  protected readonly vendor = SONIOX;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: SonioxSTTServiceOptions;
  private readonly baseUrl: string;
  /** Final tokens of the turn in progress, not yet pushed. */
  private finalText = '';
  private finalWords: TranscriptionWord[] = [];
  private finalEndMs: number | undefined;
  private finalLanguage: string | undefined;
  private lastError: ServiceError | undefined;

  constructor(options: SonioxSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'SONIOX_API_KEY');
    super({ ...options, model: options.model ?? 'stt-rt-v5' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.baseUrl = (options.baseUrl ?? 'wss://stt-rt.soniox.com').replace(/^http(s?):\/\//i, 'ws$1://').replace(/\/+$/, '').replace(/\/transcribe-websocket$/, '');
  }

  /** The first message of a socket. */
  get config(): Record<string, unknown> {
    const o = this.options;
    return {
      model: this.model ?? 'stt-rt-v5',
      audio_format: 'pcm_s16le',
      sample_rate: this.sampleRate,
      num_channels: 1,
      ...(o.languageHints === undefined ? {} : { language_hints: [...o.languageHints] }),
      enable_endpoint_detection: o.enableEndpointDetection ?? false,
      ...o.extraConfig,
    };
  }

  protected override connection(): StreamingSTTConnection {
    // Final tokens of a socket that died are kept: they were sent once and will not come again.
    this.flushFinal();
    this.lastError = undefined;
    return {
      url: `${this.baseUrl}/transcribe-websocket`,
      headers: { Authorization: `Bearer ${this.apiKey}` },
      // No keepalive: a call's transport sends audio (silence included) all the time; the STT keepalive message's
      // shape is not in the reference we read (docs/vendors/soniox.md).
      // An empty frame: "no more audio".
      closeMessage: '',
    };
  }

  protected override onSocketOpen(): void {
    this.sendJSON(this.config);
  }

  protected override requestFinalize(): void {
    this.sendJSON({ type: 'finalize' });
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return this.lastError ?? super.closeError(code, reason);
  }

  protected override onVendorMessage(message: Readonly<Record<string, unknown>>): void {
    const errorCode = num(message.error_code);
    if (errorCode !== undefined) {
      this.lastError = sonioxError(errorCode, typeof message.error_message === 'string' ? message.error_message : '', this.secrets);
      return;
    }
    if (Array.isArray(message.tokens)) this.onTokens(message.tokens as SonioxToken[]);
    if (message.finished === true) {
      this.flushFinal();
      this.endOfStreamReached();
    }
  }

  private onTokens(tokens: readonly SonioxToken[]): void {
    let interim = '';
    let marker: 'fin' | 'end' | undefined;
    for (const token of tokens) {
      if (typeof token.text !== 'string') continue;
      if (token.text === '<fin>' || token.text === '<end>') {
        marker = token.text === '<fin>' ? 'fin' : 'end';
        continue;
      }
      if (token.is_final !== true) {
        interim += token.text;
        continue;
      }
      this.finalText += token.text;
      if (typeof token.language === 'string') this.finalLanguage ??= token.language;
      const start = num(token.start_ms);
      const end = num(token.end_ms);
      if (start !== undefined && end !== undefined) {
        this.finalEndMs = end;
        this.addWord(token.text, start, end, num(token.confidence));
      }
    }
    if (marker !== undefined) {
      this.flushFinal();
      if (marker === 'fin') this.finalizeAnswered();
      return;
    }
    const text = (this.finalText + interim).trim();
    if (interim.trim() !== '') this.emitTranscript(text, false);
  }

  /** Tokens are pieces of words: one starting with a space begins a word, the others extend the last one. */
  private addWord(text: string, startMs: number, endMs: number, confidence: number | undefined): void {
    const last = this.finalWords.at(-1);
    const piece = text.trim();
    if (piece === '') return;
    if (last !== undefined && !/^\s/.test(text) && this.finalText.length > text.length) {
      this.finalWords[this.finalWords.length - 1] = { ...last, word: last.word + piece, end: this.toCallTime(endMs / 1000) };
      return;
    }
    this.finalWords.push({ word: piece, start: this.toCallTime(startMs / 1000), end: this.toCallTime(endMs / 1000), ...(confidence === undefined ? {} : { confidence }) });
  }

  private flushFinal(): void {
    const text = this.finalText.trim();
    const endMs = this.finalEndMs;
    const words = this.finalWords;
    const language = this.finalLanguage;
    this.finalText = '';
    this.finalWords = [];
    this.finalEndMs = undefined;
    this.finalLanguage = undefined;
    if (text !== '') this.emitTranscript(text, true, { ...(language === undefined ? {} : { language }), words });
    if (endMs !== undefined) this.finalReached(endMs / 1000);
  }
}
