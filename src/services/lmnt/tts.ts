// LmntTTSService: LMNT's voices over its speech-session WebSocket (`/v1/ai/speech/stream`), one socket per service
// instance, on the shared WebSocketTTSService base; this file is LMNT's protocol on top of it. Facts and sources:
// docs/vendors/lmnt.md.
//
// How an utterance maps onto the protocol. The key and every setting go in the socket's first message (`init`);
// audio comes back as binary frames, which carry no id. Each sentence is a `text` message and a `flush` with a nonce
// of its own; the sentence ends with the `flush_complete` carrying that nonce. An interruption is a `reset` with a
// nonce: until its `reset_complete` arrives, binary audio is the interrupted sentence's and is dropped. Timestamps
// start again at 0 after each flush or reset, so each sentence's words are offset by the audio its context had
// before it. An in-band error ends the socket's usefulness: it is discarded, and the next sentence opens a new one.
import { ServiceError, type ServiceErrorCode } from '../base/index.js';
import {
  WebSocketTTSService,
  newSocketContext,
  sentenceWordOffsetMs,
  stringField,
  type HandshakeErrorDetails,
  type SentenceStream,
  type SentenceTimedContext,
  type TTSConnection,
} from '../base/websocket-tts.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'LMNT';
const DEFAULT_BASE_URL = 'wss://api.lmnt.com';
const DEFAULT_TIMEOUT_MS = 10_000;

/** The rates LMNT makes. */
export const LMNT_SAMPLE_RATES = [8000, 16000, 24000] as const;

export interface LmntTTSServiceOptions {
  apiKey: string;
  /** A voice id from LMNT's voice list, e.g. 'leah', 'brandon'. Required. */
  voice: string;
  /** Two-letter ISO 639-1 code ('en', 'hi', 'ta', ...) or 'auto'. Default: LMNT's (auto-detection). */
  language?: string;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof LMNT_SAMPLE_RATES)[number];
  /** Word timestamps, which let the pipeline know which words the caller heard. Default true. */
  returnTimestamps?: boolean;
  /** Default 'wss://api.lmnt.com' (http(s) URLs are turned into ws(s)). */
  baseUrl?: string;
  /** Longest wait for the handshake, and for the next message while a sentence is being synthesised. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

interface LmntContext extends SentenceTimedContext {
  /** The nonce of the flush that ends the sentence in flight. */
  flushNonce: number;
}

/** What a socket has in flight: nonces are per socket, and so are resets not yet acknowledged. */
interface SocketState {
  nextNonce: number;
  resetsPending: number;
}

const ERROR_CODES: Readonly<Record<string, ServiceErrorCode>> = {
  authentication_error: 'auth',
  permission_error: 'auth',
  payment_required_error: 'quota',
  rate_limit_error: 'rate-limited',
  invalid_request_error: 'bad-request',
  not_found_error: 'bad-request',
  internal_server_error: 'server',
};

function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const body = isRecord(message.error) ? message.error : {};
  const vendorCode = stringField(body, 'type');
  const text = stringField(body, 'message') ?? stringField(message, 'message') ?? 'unknown error';
  const hint = vendorCode === 'authentication_error' ? ' (check LMNT_API_KEY)' : '';
  return new ServiceError(VENDOR, redactSecrets(`${text}${hint}`, [apiKey]), {
    // An error of no known kind mid-session is the service failing.
    code: (vendorCode === undefined ? undefined : ERROR_CODES[vendorCode]) ?? 'server',
    vendorCode,
  });
}

export class LmntTTSService extends WebSocketTTSService<LmntContext> {
  readonly voice: string;
  readonly language: string | undefined;
  readonly returnTimestamps: boolean;
  private readonly sockets = new WeakMap<TTSConnection, SocketState>();

  constructor(options: LmntTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'LMNT_API_KEY');
    const voice = typeof options.voice === 'string' ? options.voice.trim() : '';
    if (voice === '') throw new TypeError(`${new.target.name}: voice is required (an LMNT voice id, e.g. 'leah')`);
    const rates: readonly number[] = LMNT_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    const returnTimestamps = options.returnTimestamps ?? true;
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '');
    super({
      name: options.name,
      sampleRate: options.sampleRate ?? 16000,
      sampleRates: rates,
      fixedSampleRate: options.sampleRate !== undefined,
      vendor: VENDOR,
      url: `${base}/v1/ai/speech/stream`,
      // The key travels in the `init` message, not the handshake.
      headers: {},
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      holdAudioForWords: returnTimestamps,
      closedBeforeSend: 'connection closed before the text could be sent',
      greeting: () => this.initMessage(),
      farewell: { type: 'finish' },
    });
    this.voice = voice;
    this.language = options.language;
    this.returnTimestamps = returnTimestamps;
  }

  private initMessage(): Record<string, unknown> {
    return {
      type: 'init',
      'X-API-Key': this.apiKey,
      voice: this.voice,
      format: 'pcm_s16le',
      sample_rate: this.sampleRate,
      return_timestamps: this.returnTimestamps,
      ...(this.language === undefined ? {} : { language: this.language }),
    };
  }

  private state(connection: TTSConnection): SocketState {
    let state = this.sockets.get(connection);
    if (state === undefined) {
      state = { nextNonce: 1, resetsPending: 0 };
      this.sockets.set(connection, state);
    }
    return state;
  }

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): LmntContext {
    return { ...newSocketContext(utterance, connection, offsetMs), flushNonce: 0, sentenceStartMs: 0 };
  }

  protected override sendSentence(context: LmntContext, text: string): void {
    const state = this.state(context.connection);
    context.flushNonce = state.nextNonce++;
    context.sentenceStartMs = context.audioMs;
    this.send(context.connection, { type: 'text', text: /\s$/.test(text) ? text : `${text} ` });
    this.send(context.connection, { type: 'flush', nonce: context.flushNonce });
  }

  /** Nothing to close on LMNT's side: a session is one stream of text. */
  protected override finishContext(context: LmntContext): void {
    context.ended = true;
  }

  /** Drops LMNT's buffered text and the speech in flight; its audio until `reset_complete` is dropped here. */
  protected override cancelMessage(context: LmntContext): Record<string, unknown> {
    const state = this.state(context.connection);
    state.resetsPending += 1;
    return { type: 'reset', nonce: state.nextNonce++ };
  }

  /** LMNT's handshake refusals are not documented: whichever of the usual fields is there. */
  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    const error = isRecord(body.error) ? body.error : body;
    return { message: stringField(error, 'message', 'detail'), code: stringField(error, 'type', 'code') };
  }

  protected override onServerBinary(connection: TTSConnection, data: Buffer): void {
    const context = this.current;
    if (context === undefined || context.connection !== connection || this.state(connection).resetsPending > 0) return;
    const sentence = context.sentence;
    if (sentence === undefined) return;
    sentence.heard = true;
    sentence.watch(this.timeoutMs);
    const audio = this.decodeAudio(context, data);
    if (audio.length > 0) sentence.push({ type: 'audio', audio });
  }

  protected override onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void {
    const state = this.state(connection);
    if (message.type === 'reset_complete') {
      state.resetsPending = Math.max(0, state.resetsPending - 1);
      return;
    }
    const context = this.current;
    const sentence = context?.connection === connection ? context.sentence : undefined;
    if (message.type === 'error') {
      const error = streamError(message, this.apiKey);
      // Kept to explain the close that may follow; the socket is not trusted with another sentence.
      connection.lastError = error;
      if (sentence !== undefined) sentence.fail(error);
      else this.logger.warn({ err: error }, 'LMNT reported an error between sentences');
      return;
    }
    if (context === undefined || sentence === undefined || state.resetsPending > 0) return;
    sentence.heard = true;
    sentence.watch(this.timeoutMs);
    if (message.type === 'timestamps') this.pushWords(context, sentence, message.timestamps);
    else if (message.type === 'flush_complete' && message.nonce === context.flushNonce) sentence.end();
  }

  private pushWords(context: LmntContext, sentence: SentenceStream, timestamps: unknown): void {
    if (!this.returnTimestamps || !Array.isArray(timestamps)) return;
    for (const item of timestamps) {
      if (!isRecord(item) || typeof item.text !== 'string' || typeof item.start !== 'number' || item.text.trim() === '') continue;
      sentence.push({ type: 'word', text: item.text.trim(), offsetMs: sentenceWordOffsetMs(context, item.start) });
    }
  }
}
