// RimeTTSService: Rime's voices (Coda, Arcana, Mist) over its JSON WebSocket (`/ws3`), one socket per service
// instance, on the shared WebSocketTTSService base (which holds the socket, the contexts and the hand-off of each
// sentence's audio); this file is Rime's protocol on top of it. Facts and sources: docs/vendors/rime.md.
//
// How an utterance maps onto the protocol. Every synthesis option (voice, model, format, rate, language) is a query
// parameter of the socket, so the messages carry only text and operations. Rime tags the audio of a synthesis with
// the most recent `contextId` it was sent, and keeps no more than one: each sentence is sent with an id of its own
// (`<utterance context>:<n>`) followed by `{"operation": "flush"}`, and the sentence ends with the `done` carrying
// its id — so a `done` or a chunk of an earlier sentence, or of an interrupted utterance, is recognised and dropped.
// An interruption is `{"operation": "clear"}` (no acknowledgement exists). Word timings are seconds from the start
// of the synthesis, so each sentence's are offset by the audio its context had before it.
import { ServiceError } from '../base/index.js';
import {
  WebSocketTTSService,
  beginSentenceRequest,
  newSentenceRequestContext,
  sentenceRequestId,
  sentenceWordOffsetMs,
  stringField,
  type HandshakeErrorDetails,
  type SentenceRequestContext,
  type SentenceStream,
  type TTSConnection,
} from '../base/websocket-tts.js';
import { isRecord } from '../base/json.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';

const VENDOR = 'Rime';
const DEFAULT_BASE_URL = 'wss://users-ws.rime.ai';
const DEFAULT_TIMEOUT_MS = 10_000;

/** The PCM rates this client asks for (Rime resamples to `samplingRate`; these are the ones a call uses). */
export const RIME_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
/** Rime's three-letter language codes (`lang`). */
export type RimeLanguage = 'eng' | 'spa' | 'fra' | 'ger' | 'hin' | (string & {});

export interface RimeTTSServiceOptions {
  apiKey: string;
  /** The voice (`speaker`), e.g. 'astra' (Coda, Arcana) or 'cove' (Mist). Required: Rime has no default voice. */
  speaker: string;
  /** `modelId`: 'coda' (default), 'arcana', 'mistv2', 'mistv3'. */
  model?: 'coda' | 'arcana' | 'mistv2' | 'mistv3' | (string & {});
  /** `lang`: 'eng', 'hin', 'spa', 'fra', 'ger'. Default: Rime's (the voice's language). */
  language?: RimeLanguage;
  /** A fixed output rate; by default the call's output rate (8 kHz on a phone line). */
  sampleRate?: (typeof RIME_SAMPLE_RATES)[number];
  /** Mist only: speech speed multiplier (`speedAlpha`, above 1 slower). */
  speedAlpha?: number;
  /** Default 'wss://users-ws.rime.ai' (http(s) URLs are turned into ws(s)). */
  baseUrl?: string;
  /** Longest wait for the handshake, and for the next message while a sentence is being synthesised. Default 10 s. */
  timeoutMs?: number;
  name?: string;
}

/** One utterance's context: the ids of its sentences derive from `id`. */
function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  // Rime's in-band error carries a message and no status: the service failing what it was sent.
  return new ServiceError(VENDOR, redactSecrets(stringField(message, 'message', 'error') ?? 'unknown error', [apiKey]), { code: 'server' });
}

export class RimeTTSService extends WebSocketTTSService<SentenceRequestContext> {
  override readonly model: string;
  readonly speaker: string;
  readonly language: string | undefined;
  private readonly baseUrl: string;
  private readonly speedAlpha: number | undefined;

  constructor(options: RimeTTSServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'RIME_API_KEY');
    const speaker = typeof options.speaker === 'string' ? options.speaker.trim() : '';
    if (speaker === '') throw new TypeError(`${new.target.name}: speaker is required (a Rime voice, e.g. 'astra')`);
    const rates: readonly number[] = RIME_SAMPLE_RATES;
    if (options.sampleRate !== undefined && !rates.includes(options.sampleRate)) {
      throw new RangeError(`${new.target.name}: sampleRate must be one of ${rates.join(', ')}, got ${String(options.sampleRate)}`);
    }
    const model = options.model ?? 'coda';
    super({
      name: options.name,
      sampleRate: options.sampleRate ?? 16000,
      sampleRates: rates,
      fixedSampleRate: options.sampleRate !== undefined,
      model,
      vendor: VENDOR,
      // Read when a socket opens: the rate is a query parameter, and follows the call's output rate.
      url: () => this.rimeUrl(),
      headers: { Authorization: `Bearer ${apiKey}` },
      apiKey,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      // Rime sends a synthesis's timestamps after its audio chunks.
      holdAudioForWords: true,
      closedBeforeSend: 'connection closed before the text could be sent',
      // Rime generates what is left and closes the socket.
      farewell: { operation: 'eos' },
    });
    this.model = model;
    this.speaker = speaker;
    this.language = options.language;
    this.speedAlpha = options.speedAlpha;
    this.baseUrl = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '');
  }

  private rimeUrl(): string {
    const query = new URLSearchParams({ speaker: this.speaker, modelId: this.model, audioFormat: 'pcm', samplingRate: String(this.sampleRate) });
    if (this.language !== undefined) query.set('lang', this.language);
    if (this.speedAlpha !== undefined) query.set('speedAlpha', String(this.speedAlpha));
    return `${this.baseUrl}/ws3?${query.toString()}`;
  }

  protected override newContext(utterance: string, connection: TTSConnection, offsetMs: number): SentenceRequestContext {
    return newSentenceRequestContext(utterance, connection, offsetMs);
  }

  protected override sendSentence(context: SentenceRequestContext, text: string): void {
    const id = beginSentenceRequest(context);
    // Texts are concatenated in Rime's buffer: the space keeps sentences apart.
    this.send(context.connection, { text: /\s$/.test(text) ? text : `${text} `, contextId: id });
    // Rime waits for `.`, `?` or `!` before it synthesises: the flush has it say a sentence without one now.
    this.send(context.connection, { operation: 'flush' });
  }

  /** Rime's contexts are tags, nothing to close: the next utterance simply brings its own. */
  protected override finishContext(context: SentenceRequestContext): void {
    context.ended = true;
  }

  /** Drops Rime's buffered text and the synthesis in flight. */
  protected override cancelMessage(): Record<string, unknown> {
    return { operation: 'clear' };
  }

  /** Rime's handshake refusals are not documented: whichever of the usual fields is there. */
  protected override describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails {
    return { message: stringField(body, 'message', 'error', 'detail'), code: stringField(body, 'code', 'error_code') };
  }

  protected override onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void {
    const context = this.current;
    if (context === undefined || context.connection !== connection) return;
    const sentence = context.sentence;
    if (message.type === 'error') {
      // Errors carry no context id: they concern what is in flight.
      const error = streamError(message, this.apiKey);
      if (sentence !== undefined) sentence.fail(error);
      else this.logger.warn({ err: error }, 'Rime reported an error between sentences');
      return;
    }
    // Audio of an earlier sentence or an interrupted utterance (sent before Rime saw the clear) is dropped.
    if (sentence === undefined || message.contextId !== sentenceRequestId(context)) return;
    sentence.heard = true;
    sentence.watch(this.timeoutMs);
    switch (message.type) {
      case 'chunk': {
        if (typeof message.data !== 'string') return;
        const audio = this.decodeAudio(context, message.data);
        if (audio.length > 0) sentence.push({ type: 'audio', audio });
        return;
      }
      case 'timestamps':
        this.pushWords(context, sentence, message.word_timestamps);
        return;
      case 'done':
        sentence.end();
        return;
      default:
        return;
    }
  }

  private pushWords(context: SentenceRequestContext, sentence: SentenceStream, timestamps: unknown): void {
    if (!isRecord(timestamps)) return;
    const { words, start } = timestamps;
    if (!Array.isArray(words) || !Array.isArray(start)) return;
    words.forEach((word, i) => {
      const startSecs: unknown = start[i];
      if (typeof word !== 'string' || word.trim() === '' || typeof startSecs !== 'number') return;
      sentence.push({ type: 'word', text: word, offsetMs: sentenceWordOffsetMs(context, startSecs) });
    });
  }
}
