// DeepgramSTTService: Deepgram live transcription, one WebSocket (`/v1/listen`) per call.
//
// The protocol is spoken directly with `ws` rather than through @deepgram/sdk: it is one socket carrying binary audio
// out, JSON results in and four small control messages, and what this service must get right lives below the SDK's
// surface: the HTTP status of a refused handshake (401 must stop, 429 must back off), close codes and their vendor
// reasons, and exactly which audio each socket received (for replay after a drop). The SDK would add a dependency
// and a layer between this code and those events, and nothing the protocol does not already give.
//
// A call:
// - the StartFrame opens the socket (the pipeline's input rate is known then); audio that arrives before it is open
//   is kept and sent as soon as it is;
// - caller audio goes out as binary frames as it arrives; when none went out for `keepAliveIntervalMs` (a muted
//   caller, a transport that sends nothing in silence) a KeepAlive keeps the server from closing with NET-0001;
// - VAD stop sends Finalize, so the turn's final transcript comes at once instead of after Deepgram's endpointing;
// - an EndFrame sends CloseStream and waits (bounded) for the last results and the server's close, so the final
//   words of the call are not lost; a CancelFrame sends CloseStream and leaves;
// - a dropped socket is reopened with backoff (100 ms, doubling; after 5 failed attempts a non-fatal error is
//   reported and attempts go on every 5 s; the wait is never shorter than a 429's Retry-After). Audio not yet covered by a final result (bounded: the last
//   `reconnectBufferMs`) is kept and sent again on the new socket, audio from the outage included, so the utterance
//   in progress when the line dropped is still transcribed. Deepgram's times restart at 0 on every socket; they are
//   shifted by where that socket's audio starts in the call, so word times stay on the call's clock.
// A refused handshake with 401/403/400/402 is final (an error frame naming Deepgram, no retry loop); 429 and 5xx
// are retried like a drop. The stream's lifecycle (connect, keepalive, replay after a drop, finalise at VAD stop,
// bounded close, metrics) is the shared StreamingSTTService (services/base/streaming-stt.ts); this file is
// Deepgram's protocol.
import { int16ToBytes, pcmToAlaw, pcmToMulaw } from '../../audio/index.js';
import type { TranscriptionWord } from '../../frames/index.js';
import { ServiceError } from '../base/index.js';
import { StreamingSTTService, type StreamingSTTConnection } from '../base/streaming-stt.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { closeReasonCode, DEEPGRAM, httpServiceError } from './errors.js';

export type DeepgramSTTEncoding = 'linear16' | 'mulaw' | 'alaw';

export interface DeepgramReconnectOptions {
  /** Wait before the first attempt after a drop; doubles after each failure. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest wait between the fast attempts. Default 2000 ms. */
  maxDelayMs?: number;
  /** Failed attempts after which an error is reported and attempts slow down. Default 5. */
  attemptsBeforeError?: number;
  /** Wait between attempts after that. Default 5000 ms. */
  slowDelayMs?: number;
}

export interface DeepgramSTTServiceOptions {
  apiKey: string;
  /**
   * Default 'nova-3': Deepgram's current general model (the Python piopiy SDK defaults to 'nova-3-general', the same
   * model by its long name; its docs show 'nova-2'). 'nova-2-phonecall' is tuned for 8 kHz calls.
   */
  model?: string;
  /** BCP-47, or 'multi' for code-switching (nova-2/3). Default 'en-US'. */
  language?: string;
  /** Rate sent to Deepgram; caller audio at another rate is resampled. Default: the pipeline's input rate. */
  sampleRate?: number;
  /** Default 'linear16'; 'mulaw'/'alaw' halve the bandwidth of 8 kHz phone audio. */
  encoding?: DeepgramSTTEncoding;
  /** Partial transcripts while the caller speaks. Default true. */
  interimResults?: boolean;
  /** Default true. */
  smartFormat?: boolean;
  /** Default true. */
  punctuate?: boolean;
  /** Silence (ms) after which Deepgram marks speech final, or false to disable. Default 300 (Deepgram's is 10). */
  endpointingMs?: number | false;
  /** Gap (ms) after the last word that sends UtteranceEnd; only with interim results. Default 1000; false: off. */
  utteranceEndMs?: number | false;
  /** Ask for SpeechStarted events. Default false (the pipeline's VAD detects speech). */
  vadEvents?: boolean;
  /** Boosted words, `word` or `word:boost` (nova-2 and older models). */
  keywords?: readonly string[];
  /** Key terms to recognise (nova-3). */
  keyterms?: readonly string[];
  profanityFilter?: boolean;
  fillerWords?: boolean;
  numerals?: boolean;
  /** Any other query parameter, sent as given; arrays become repeated keys. */
  extraParams?: Readonly<Record<string, string | number | boolean | readonly (string | number)[]>>;
  /** Default 'wss://api.deepgram.com' (self-hosted: 'ws://host:8080'). */
  baseUrl?: string;
  /** KeepAlive after this long without audio. Default 5000 ms (Deepgram closes after 10 s of nothing). */
  keepAliveIntervalMs?: number;
  /** Most audio kept for replay after a drop. Default 5000 ms. */
  reconnectBufferMs?: number;
  reconnect?: DeepgramReconnectOptions;
  /** Longest wait for the handshake. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Longest wait for the last results after CloseStream at the end of the call. Default 3000 ms. */
  closeTimeoutMs?: number;
  /** Id put on transcripts. Default 'caller'. */
  userId?: string;
  /** The processor's name in logs and metrics. */
  name?: string;
}

interface DeepgramWord {
  word?: unknown;
  punctuated_word?: unknown;
  start?: unknown;
  end?: unknown;
  confidence?: unknown;
}

interface DeepgramResults {
  type: 'Results';
  start?: unknown;
  duration?: unknown;
  is_final?: unknown;
  speech_final?: unknown;
  from_finalize?: unknown;
  channel?: { alternatives?: DeepgramAlternative[] };
}

interface DeepgramAlternative {
  transcript?: unknown;
  languages?: unknown;
  words?: unknown;
}

const KEEP_ALIVE = JSON.stringify({ type: 'KeepAlive' });
const CLOSE_STREAM = JSON.stringify({ type: 'CloseStream' });

/** `wss://host[:port]` from what a user may pass (an http(s) URL, a trailing slash, the full `/v1/listen` path). */
export function deepgramWebSocketBase(url: string): string {
  return url
    .trim()
    .replace(/^http(s?):\/\//i, 'ws$1://')
    .replace(/\/+$/, '')
    .replace(/\/v1\/(listen|speak)$/, '');
}

const num = (value: unknown): number | undefined => (typeof value === 'number' && Number.isFinite(value) ? value : undefined);

export class DeepgramSTTService extends StreamingSTTService {
  readonly language: string;
  readonly encoding: DeepgramSTTEncoding;
  protected readonly vendor = DEEPGRAM;
  protected readonly secrets: readonly string[];
  private readonly apiKey: string;
  private readonly options: DeepgramSTTServiceOptions;
  private readonly baseUrl: string;
  private readonly keepAliveIntervalMs: number;

  constructor(options: DeepgramSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'DEEPGRAM_API_KEY');
    if (options.sampleRate !== undefined && !(Number.isInteger(options.sampleRate) && options.sampleRate > 0)) {
      throw new RangeError(`${new.target.name}: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    if (options.endpointingMs !== undefined && options.endpointingMs !== false && !(options.endpointingMs >= 0)) {
      throw new RangeError(`${new.target.name}: endpointingMs must be >= 0 or false, got ${options.endpointingMs}`);
    }
    super({ ...options, model: options.model ?? 'nova-3' });
    this.apiKey = apiKey;
    this.secrets = [apiKey];
    this.options = options;
    this.language = options.language ?? 'en-US';
    this.encoding = options.encoding ?? 'linear16';
    this.baseUrl = deepgramWebSocketBase(options.baseUrl ?? 'wss://api.deepgram.com');
    this.keepAliveIntervalMs = Math.max(1, options.keepAliveIntervalMs ?? 5000);
  }

  /** The `/v1/listen` URL this service connects to (no secret in it: the key goes in a header). */
  get url(): string {
    const o = this.options;
    const interim = o.interimResults ?? true;
    const params = new URLSearchParams({
      model: this.model ?? 'nova-3',
      language: this.language,
      encoding: this.encoding,
      sample_rate: String(this.sampleRate),
      channels: '1',
      interim_results: String(interim),
      punctuate: String(o.punctuate ?? true),
      smart_format: String(o.smartFormat ?? true),
      endpointing: String(o.endpointingMs ?? 300),
    });
    const utteranceEndMs = o.utteranceEndMs ?? 1000;
    // Deepgram only sends UtteranceEnd alongside interim results.
    if (interim && utteranceEndMs !== false) params.set('utterance_end_ms', String(utteranceEndMs));
    if (o.vadEvents === true) params.set('vad_events', 'true');
    if (o.profanityFilter !== undefined) params.set('profanity_filter', String(o.profanityFilter));
    if (o.fillerWords !== undefined) params.set('filler_words', String(o.fillerWords));
    if (o.numerals !== undefined) params.set('numerals', String(o.numerals));
    for (const keyword of o.keywords ?? []) params.append('keywords', keyword);
    for (const keyterm of o.keyterms ?? []) params.append('keyterm', keyterm);
    for (const [name, value] of Object.entries(o.extraParams ?? {})) {
      params.delete(name);
      if (Array.isArray(value)) for (const v of value as readonly (string | number)[]) params.append(name, String(v));
      else params.set(name, String(value));
    }
    return `${this.baseUrl}/v1/listen?${params.toString()}`;
  }

  protected override connection(): StreamingSTTConnection {
    return {
      url: this.url,
      headers: { Authorization: `Token ${this.apiKey}` },
      refusal: (failure) => httpServiceError(failure.status, failure.headers, failure.body, this.apiKey, 'connection'),
      // Deepgram closes a stream after 10 s without audio or a message (NET-0001).
      keepAlive: { idleMs: this.keepAliveIntervalMs, message: () => KEEP_ALIVE },
      closeMessage: CLOSE_STREAM,
    };
  }

  protected override requestFinalize(): void {
    this.sendJSON({ type: 'Finalize' });
  }

  protected override closeError(code: number, reason: string): ServiceError {
    return new ServiceError(DEEPGRAM, `stream closed with ${code}${reason === '' ? '' : ` (${redactSecrets(reason, this.secrets)})`}`, {
      code: 'connection-lost',
      vendorCode: closeReasonCode(reason) ?? String(code),
    });
  }

  protected override encodeAudio(audio: Int16Array): Buffer {
    if (this.encoding === 'mulaw' || this.encoding === 'alaw') {
      const codes = this.encoding === 'mulaw' ? pcmToMulaw(audio) : pcmToAlaw(audio);
      return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    }
    // A copy: the frame's samples may be reused by whoever sent them, and these bytes may be replayed later.
    return Buffer.from(int16ToBytes(audio));
  }

  protected override onVendorMessage(record: Readonly<Record<string, unknown>>): void {
    switch (record.type) {
      case 'Results':
        this.onResults(record as unknown as DeepgramResults);
        return;
      case 'SpeechStarted':
        this.logger.debug({ timestamp: this.toCallTime(num(record.timestamp) ?? 0) }, 'Deepgram: speech started');
        return;
      case 'UtteranceEnd':
        this.logger.debug({ lastWordEnd: this.toCallTime(num(record.last_word_end) ?? 0) }, 'Deepgram: utterance end');
        return;
      case 'Metadata':
        this.logger.debug({ requestId: record.request_id, duration: record.duration }, 'Deepgram: stream metadata');
        return;
      default:
        this.logger.debug({ type: redactSecrets(String(record.type), this.secrets) }, 'Deepgram: message ignored');
    }
  }

  private onResults(results: DeepgramResults): void {
    const isFinal = results.is_final === true;
    const fromFinalize = results.from_finalize === true;
    const alternative = results.channel?.alternatives?.[0];
    const transcript = typeof alternative?.transcript === 'string' ? alternative.transcript.trim() : '';
    // An empty answer to Finalize still ends the wait: its latency is the TTFB.
    if (isFinal && fromFinalize) this.reportFinalizeLatency();
    if (transcript !== '') this.pushTranscript(transcript, isFinal, alternative);
    if (!isFinal) return;
    const start = num(results.start);
    const duration = num(results.duration);
    if (start !== undefined && duration !== undefined) this.finalReached(start + duration);
    if (fromFinalize) this.finalizeAnswered();
  }

  private pushTranscript(transcript: string, isFinal: boolean, alternative: DeepgramAlternative | undefined): void {
    const languages = alternative?.languages;
    const language = Array.isArray(languages) && typeof languages[0] === 'string' ? languages[0] : this.language;
    const words: TranscriptionWord[] = [];
    if (Array.isArray(alternative?.words)) {
      for (const w of alternative.words as DeepgramWord[]) {
        const wordStart = num(w.start);
        const wordEnd = num(w.end);
        const spelled = typeof w.punctuated_word === 'string' ? w.punctuated_word : w.word;
        if (typeof spelled !== 'string' || wordStart === undefined || wordEnd === undefined) continue;
        const confidence = num(w.confidence);
        words.push({
          word: spelled,
          start: this.toCallTime(wordStart),
          end: this.toCallTime(wordEnd),
          ...(confidence === undefined ? {} : { confidence }),
        });
      }
    }
    this.emitTranscript(transcript, isFinal, { language, words });
  }
}
