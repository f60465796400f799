// CartesiaTTSService: Cartesia Sonic over its WebSocket (`/tts/websocket`), one socket per service instance,
// opened when the pipeline starts and reopened lazily when it has dropped.
//
// Why the protocol directly with `ws` and not the Cartesia SDK: see WebSocketTTSService (services/base), which
// holds the socket, the contexts' lifecycle and the hand-off of each sentence's audio; this file is Cartesia's
// protocol on top of it.
//
// How an utterance maps onto the protocol. The TTSService base calls `synthesize` once per sentence, in order,
// with one `contextId` per LLM response (or speak frame). All sentences of an utterance go into one Cartesia
// context (`continue: true`, so prosody carries across sentences), each followed by a manual flush
// (`transcript: ""`, `flush: true`): the flush makes Cartesia generate that sentence now, and its `flush_done`
// tells where the sentence's audio ends, which ends this `synthesize` call. When the base closes the utterance
// (its `tts-stopped` frame), the context is finished with `continue: false`; on an interruption it is cancelled
// (`cancel: true`, no acknowledgement exists) and anything arriving later for it is dropped.
//
// Cartesia expires a context about a second after its last audio went out; a sentence that comes later than
// that (a slow LLM) goes into a fresh context, and so does a sentence after the socket dropped. Word timestamps
// are offsets from the utterance's start in audio time either way.
import { codeForStatus, ServiceError } from '../base/index.js';
import {
  WebSocketTTSService,
  WireAudioDecoder,
  newSocketContext,
  stringField,
  type HandshakeErrorDetails,
  type SentenceStream,
  type TTSConnection,
  type TTSSocketContext,
  type WireEncoding,
} from '../base/websocket-tts.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'Cartesia';
const DEFAULT_BASE_URL = 'wss://api.cartesia.ai';
/** The version livekit pins; both error shapes (before and after 2026-03-01) are understood. */
export const CARTESIA_DEFAULT_VERSION = '2025-04-16';
const DEFAULT_TIMEOUT_MS = 10_000;
/**
 * Cartesia expires a context ~1 s after its last audio was streamed out. Past this much silence on a context, the
 * next sentence starts a new one rather than risk sending into an expired context.
 */
const CONTEXT_REUSE_WINDOW_MS = 800;

export const CARTESIA_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
export type CartesiaEncoding = 'pcm_s16le' | 'pcm_f32le' | 'pcm_mulaw' | 'pcm_alaw';
const ENCODINGS: readonly CartesiaEncoding[] = ['pcm_s16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'];

/** A stock English voice of Cartesia's (also LiveKit's plugin default), used when no voiceId is given. */
export const CARTESIA_DEFAULT_VOICE_ID = '794f9389-aac1-45b6-b726-9d9369183238';

export interface CartesiaTTSServiceOptions {
  apiKey: string;
  /**
   * The voice's id (a UUID from the Cartesia playground or API). Default: CARTESIA_DEFAULT_VOICE_ID, a stock English
   * voice, so the quick-start program works as written; choose your own for production.
   */
  voiceId?: string;
  /** Default 'sonic-3'. */
  model?: string;
  /** Language of the transcripts. Default 'en'. */
  language?: string;
  /** Output rate: 8000, 16000, 22050, 24000, 44100 or 48000. Default 16000 (wideband phone audio). */
  sampleRate?: number;
  /** Wire encoding; μ-law, A-law and float are decoded to PCM16 here. Default 'pcm_s16le'. */
  encoding?: CartesiaEncoding;
  /** sonic-3: a number from 0.6 to 2.0 (`generation_config.speed`); older models: 'slow' | 'normal' | 'fast'. */
  speed?: number | 'slow' | 'normal' | 'fast';
  /** sonic-3: 0.5 to 2.0 (`generation_config.volume`). */
  volume?: number;
  /** sonic-3: an emotion name such as 'calm' or 'excited' (`generation_config.emotion`). */
  emotion?: string;
  /** Word timestamps, which let the pipeline know which words the caller heard. Default true. */
  addTimestamps?: boolean;
  /** Cartesia's text buffering window (`max_buffer_delay_ms`); sent only when set (every sentence is flushed anyway). */
  maxBufferDelayMs?: number;
  pronunciationDictId?: string;
  /** Default 'wss://api.cartesia.ai' (http(s) URLs are accepted and turned into ws(s)). */
  baseUrl?: string;
  /** The `Cartesia-Version` header. Default '2025-04-16'. */
  cartesiaVersion?: string;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Longest wait for the handshake, and for the next message while a sentence is being synthesised. Default 10 s. */
  timeoutMs?: number;
}
const WIRE_ENCODING: Readonly<Record<CartesiaEncoding, WireEncoding>> = {
  pcm_s16le: 's16le',
  pcm_f32le: 'f32le',
  pcm_mulaw: 'mulaw',
  pcm_alaw: 'alaw',
};

/** One Cartesia context: all or part of one utterance of the base class. */
interface CartesiaContext extends TTSSocketContext {
  /** Flushes sent into this context; the sentence in flight ends with the `flush_done` of the last one. */
  flushes: number;
  /** When the server last sent something for this context (or the context was opened). */
  lastActivityAt: number;
}

// ---- errors -------------------------------------------------------------------------------------------------

/** An in-stream `type: "error"` event, in either generation's shape. */
function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const status = typeof message.status_code === 'number' ? message.status_code : undefined;
  const text = stringField(message, 'message', 'error', 'title') ?? 'unknown error';
  return new ServiceError(VENDOR, redactSecrets(status === undefined ? text : `${status} ${text}`, [apiKey]), {
    status,
    // Without a status, an error mid-stream is the service failing.
    code: status === undefined ? 'server' : codeForStatus(status),
    vendorCode: stringField(message, 'error_code'),
  });
}

function socketUrl(baseUrl: string): string {
  const base = baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '');
  return `${base}/tts/websocket`;
}

// ---- the service ----------------------------------------------------------------------------------------------

export class CartesiaTTSService extends WebSocketTTSService<CartesiaContext> {
  override readonly model: string;
  readonly voiceId: string;
  readonly language: string;
  readonly encoding: CartesiaEncoding;
  readonly addTimestamps: boolean;
  readonly cartesiaVersion: string;
  /** The fields every generation request of this service repeats (Cartesia wants them identical within a context). */
  private requestFields: Readonly<Record<string, unknown>>;

  constructor(options: CartesiaTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'CARTESIA_API_KEY');
    const voiceId = options.voiceId === undefined ? CARTESIA_DEFAULT_VOICE_ID : String(options.voiceId).trim();
    if (voiceId === '') {
      throw new TypeError(`${new.target.name}: voiceId must not be empty (the id of a Cartesia voice, e.g. from play.cartesia.ai)`);
    }
    const sampleRate = options.sampleRate ?? 16000;
    if (!(CARTESIA_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${CARTESIA_SAMPLE_RATES.join(', ')}, got ${sampleRate}`);
    }
    const encoding = options.encoding ?? 'pcm_s16le';
    if (!ENCODINGS.includes(encoding)) {
      throw new RangeError(`${new.target.name}: encoding must be one of ${ENCODINGS.join(', ')}, got ${String(encoding)}`);
    }
    if (typeof options.speed === 'number' && !(options.speed >= 0.6 && options.speed <= 2)) {
      throw new RangeError(`${new.target.name}: speed must be between 0.6 and 2.0, got ${options.speed}`);
    }
    if (options.volume !== undefined && !(options.volume >= 0.5 && options.volume <= 2)) {
      throw new RangeError(`${new.target.name}: volume must be between 0.5 and 2.0, got ${options.volume}`);
    }
    const model = options.model ?? 'sonic-3';
    const addTimestamps = options.addTimestamps ?? true;
    const cartesiaVersion = options.cartesiaVersion ?? CARTESIA_DEFAULT_VERSION;
    super({
      name: options.name,
      sampleRate,
      // Cartesia makes any of its rates directly: a call's own output rate unless the user chose one.
      sampleRates: CARTESIA_SAMPLE_RATES,
      fixedSampleRate: options.sampleRate !== undefined,
      model,
      vendor: VENDOR,
      url: socketUrl(options.baseUrl ?? DEFAULT_BASE_URL),
      headers: { 'X-API-Key': apiKey, 'Cartesia-Version': cartesiaVersion },
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Cartesia sends a chunk's timestamps after the chunk.
      holdAudioForWords: addTimestamps,
      closedBeforeSend: 'connection closed before the request could be sent',
    });
    this.model = model;
    this.voiceId = voiceId;
    this.language = options.language ?? 'en';
    this.encoding = encoding;
    this.addTimestamps = addTimestamps;
    this.cartesiaVersion = cartesiaVersion;

    const fields: Record<string, unknown> = {
      model_id: model,
      voice: { mode: 'id', id: voiceId },
      output_format: { container: 'raw', encoding, sample_rate: sampleRate },
      language: this.language,
      add_timestamps: this.addTimestamps,
    };
    const generationConfig: Record<string, unknown> = {};
    if (typeof options.speed === 'number') generationConfig.speed = options.speed;
    else if (options.speed !== undefined) fields.speed = options.speed;
    if (options.volume !== undefined) generationConfig.volume = options.volume;
    if (options.emotion !== undefined) generationConfig.emotion = options.emotion;
    if (Object.keys(generationConfig).length > 0) fields.generation_config = generationConfig;
    if (options.maxBufferDelayMs !== undefined) fields.max_buffer_delay_ms = options.maxBufferDelayMs;
    if (options.pronunciationDictId !== undefined) fields.pronunciation_dict_id = options.pronunciationDictId;
    this.requestFields = fields;
  }

  protected override onSampleRateChanged(sampleRate: number): void {
    this.requestFields = {
      ...this.requestFields,
      output_format: { container: 'raw', encoding: this.encoding, sample_rate: sampleRate },
    };
  }

  // ---- contexts -----------------------------------------------------------------------------------------------

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): CartesiaContext {
    const decoder = new WireAudioDecoder(WIRE_ENCODING[this.encoding]);
    return { ...newSocketContext(utterance, connection, offsetMs, decoder), flushes: 0, lastActivityAt: this.clock.now() };
  }

  /** Finished by Cartesia, or expired: the rest of the utterance goes into a fresh context. */
  protected override canContinue(context: CartesiaContext): boolean {
    return this.clock.now() - context.lastActivityAt <= CONTEXT_REUSE_WINDOW_MS;
  }

  /** The sentence goes into the context, then a flush has Cartesia generate it now. */
  protected override sendSentence(context: CartesiaContext, text: string): void {
    context.flushes += 1;
    // Transcripts of a context are concatenated verbatim: the space keeps sentences apart.
    const transcript = /\s$/.test(text) ? text : `${text} `;
    this.send(context.connection, { ...this.requestFields, context_id: context.id, transcript, continue: true });
    this.send(context.connection, { ...this.requestFields, context_id: context.id, transcript: '', continue: true, flush: true });
  }

  /** The utterance is over: its context is finished with `continue: false`. */
  protected override finishContext(context: CartesiaContext): void {
    if (!context.ended) this.sendQuietly(context.connection, { ...this.requestFields, context_id: context.id, transcript: '', continue: false });
  }

  /** Cartesia stops generating for the context (no acknowledgement exists). */
  protected override cancelMessage(context: CartesiaContext): Record<string, unknown> {
    return { context_id: context.id, cancel: true };
  }

  /** JSON (`{error_code, title, message}`) in the newer versions; plain text ("Title: message") in the older ones. */
  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    return { message: stringField(body, 'message', 'error', 'title', 'detail'), code: stringField(body, 'error_code', 'code') };
  }

  // ---- what the server sends ------------------------------------------------------------------------------------

  protected override onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void {
    const context = this.current;
    const contextId = message.context_id;
    if (context === undefined || context.connection !== connection) return;
    if (contextId !== context.id) {
      // An error about no context in particular (a malformed request) concerns the sentence in flight.
      if (message.type === 'error' && contextId === undefined) context.sentence?.fail(streamError(message, this.apiKey));
      return;
    }
    context.lastActivityAt = this.clock.now();
    const sentence = context.sentence;
    if (sentence !== undefined) {
      sentence.heard = true;
      // The server is alive: the watchdog waits afresh.
      sentence.watch(this.timeoutMs);
    }
    switch (message.type) {
      case 'chunk': {
        if (typeof message.data !== 'string') return;
        const audio = this.decodeAudio(context, message.data);
        if (audio.length > 0) sentence?.push({ type: 'audio', audio });
        return;
      }
      case 'timestamps':
        if (sentence !== undefined) this.pushWords(context, sentence, message.word_timestamps);
        return;
      case 'flush_done': {
        const flushId = typeof message.flush_id === 'number' ? message.flush_id : Number.POSITIVE_INFINITY;
        // The sentence in flight is the one of the context's last flush.
        if (sentence !== undefined && flushId >= context.flushes) sentence.end();
        return;
      }
      case 'done':
        context.ended = true;
        sentence?.end();
        return;
      case 'error': {
        const error = streamError(message, this.apiKey);
        if (message.done === true) context.ended = true;
        if (sentence !== undefined) sentence.fail(error);
        else this.logger.warn({ err: error }, 'Cartesia reported an error between sentences');
        return;
      }
      default:
        // phoneme_timestamps and whatever a newer version adds.
        return;
    }
  }

  private pushWords(context: CartesiaContext, sentence: SentenceStream, timestamps: unknown): void {
    if (!this.addTimestamps || !isRecord(timestamps)) return;
    const { words, start } = timestamps;
    if (!Array.isArray(words) || !Array.isArray(start)) return;
    words.forEach((word, i) => {
      const startSecs: unknown = start[i];
      if (typeof word !== 'string' || typeof startSecs !== 'number') return;
      const offsetMs = context.offsetMs + startSecs * 1000;
      sentence.push({ type: 'word', text: word, offsetMs: Math.round(offsetMs * 1000) / 1000 });
    });
  }
}
