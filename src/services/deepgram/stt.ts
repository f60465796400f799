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
// are retried like a drop. The socket itself (handshake, refusal, keepalive, bounded close, reconnect timing) is
// the shared VendorSocket and Reconnector (services/base/vendor-socket.ts); this file is Deepgram's protocol and
// the call's audio.
import type { RawData } from 'ws';
import { int16ToBytes, pcmToAlaw, pcmToMulaw } from '../../audio/index.js';
import type { Frame, FrameDirection, TranscriptionWord, UserStoppedSpeakingFrame } from '../../frames/index.js';
import { ServiceError, STTService } from '../base/index.js';
import { redactSecrets, requireApiKey } from '../base/vendor-errors.js';
import { messageText, Reconnector, VendorSocket } from '../base/vendor-socket.js';
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

type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closing' | 'closed' | 'failed';

interface SentAudio {
  readonly bytes: Buffer;
  /** Position of the first sample on the call's audio clock (samples since the start). */
  readonly start: number;
  readonly samples: number;
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

export class DeepgramSTTService extends STTService {
  readonly language: string;
  readonly encoding: DeepgramSTTEncoding;
  private readonly apiKey: string;
  private readonly options: DeepgramSTTServiceOptions;
  private readonly baseUrl: string;
  private readonly keepAliveIntervalMs: number;
  private readonly reconnectBufferMs: number;
  private readonly reconnect: Required<DeepgramReconnectOptions>;
  private readonly reconnector: Reconnector;
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;

  private state: ConnectionState = 'idle';
  private socket: VendorSocket | undefined;
  /** Audio not yet covered by a final result, oldest first; `unsentFrom` indexes the first not sent on this socket. */
  private retained: SentAudio[] = [];
  private retainedSamples = 0;
  private unsentFrom = 0;
  /** Samples received from the pipeline since the start: the call's audio clock. */
  private receivedSamples = 0;
  /** Where the current socket's audio starts on the call's clock. */
  private socketStartSample = 0;
  private droppedSamples = 0;
  private opened = false;
  private finalizePending = false;
  private finalizeRequestedAt: number | undefined;
  private unreportedSamples = 0;
  /** How far final results reach on the call's clock: the audio before it is transcribed. */
  private finalizedSample = 0;
  /** VAD stops whose audio final results do not cover yet, oldest first (see completeStops). */
  private unfinishedStops: { id: number; sample: number }[] = [];

  constructor(options: DeepgramSTTServiceOptions) {
    const apiKey = requireApiKey(options.apiKey, new.target.name, 'DEEPGRAM_API_KEY');
    if (options.sampleRate !== undefined && !(Number.isInteger(options.sampleRate) && options.sampleRate > 0)) {
      throw new RangeError(`${new.target.name}: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    if (options.endpointingMs !== undefined && options.endpointingMs !== false && !(options.endpointingMs >= 0)) {
      throw new RangeError(`${new.target.name}: endpointingMs must be >= 0 or false, got ${options.endpointingMs}`);
    }
    super({ name: options.name, model: options.model ?? 'nova-3', sampleRate: options.sampleRate, userId: options.userId });
    this.apiKey = apiKey;
    this.options = options;
    this.language = options.language ?? 'en-US';
    this.encoding = options.encoding ?? 'linear16';
    this.baseUrl = deepgramWebSocketBase(options.baseUrl ?? 'wss://api.deepgram.com');
    this.keepAliveIntervalMs = Math.max(1, options.keepAliveIntervalMs ?? 5000);
    this.reconnectBufferMs = Math.max(0, options.reconnectBufferMs ?? 5000);
    this.reconnect = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 2000,
      attemptsBeforeError: options.reconnect?.attemptsBeforeError ?? 5,
      slowDelayMs: options.reconnect?.slowDelayMs ?? 5000,
    };
    this.reconnector = new Reconnector(() => this.clock, this.reconnect);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 3000;
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

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' && (this.state === 'idle' || this.state === 'closed' || this.state === 'failed')) {
        // A start after the stream was closed (a fallback taking this service back) begins a new stream.
        if (this.state !== 'idle') this.resetStream();
        this.connect();
      }
      else if (frame.type === 'end') await this.finishStream();
      else if (frame.type === 'cancel') this.abandonStream();
    }
    await super.processFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.abandonStream();
    await super.cleanup();
  }

  protected override processAudio(audio: Int16Array): void {
    if (this.state === 'closing' || this.state === 'closed' || this.state === 'failed') return;
    const chunk: SentAudio = { bytes: this.encode(audio), start: this.receivedSamples, samples: audio.length };
    this.receivedSamples += audio.length;
    this.retain(chunk);
    if (this.state === 'open') this.sendRetained();
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeRequestedAt = undefined;
    // A Finalize held back by a reconnection would now cut the new utterance short.
    this.finalizePending = false;
  }

  /** Deepgram's final results say how far they reach, and `Finalize` makes it finalise the rest at once. */
  override get reportsTranscriptionComplete(): boolean {
    return true;
  }

  protected override onUserStoppedSpeaking(stop: UserStoppedSpeakingFrame): void {
    this.reportUsage();
    const stopSample = this.receivedSamples;
    if (this.state !== 'open' && this.state !== 'connecting' && this.state !== 'waiting') {
      // No stream to finalise: nothing more will come for this audio.
      this.pushTranscriptionComplete(stop.id);
      return;
    }
    if (this.finalizedSample + this.finalizeSlackSamples >= stopSample) {
      // Final results already cover the turn (Deepgram's own endpointing): a Finalize would flush nothing. Not
      // sent, so that a reply to it cannot be mistaken for the next turn's.
      this.pushTranscriptionComplete(stop.id);
      return;
    }
    this.unfinishedStops.push({ id: stop.id, sample: stopSample });
    if (this.state === 'open') {
      this.finalizeRequestedAt = this.clock.now();
      this.sendControl('Finalize');
    } else if (this.state === 'connecting' || this.state === 'waiting') {
      this.finalizeRequestedAt = this.clock.now();
      this.finalizePending = true;
    }
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private connect(): void {
    this.state = 'connecting';
    const socket: VendorSocket = new VendorSocket(
      {
        vendor: DEEPGRAM,
        url: this.url,
        headers: { Authorization: `Token ${this.apiKey}` },
        secrets: [this.apiKey],
        handshakeTimeoutMs: this.connectTimeoutMs,
        perMessageDeflate: false,
        refusal: (failure) => httpServiceError(failure.status, failure.headers, failure.body, this.apiKey, 'connection'),
        // Deepgram closes a stream after 10 s without audio or a message (NET-0001).
        keepAlive: { idleMs: this.keepAliveIntervalMs, message: () => KEEP_ALIVE },
        closeMessage: CLOSE_STREAM,
        clock: this.clock,
      },
      {
        onMessage: (data, isBinary) => this.onMessage(socket, data, isBinary),
        onClose: (code, reason) => this.onClose(socket, code, reason),
        onError: (error) => this.logger.debug({ err: error }, 'Deepgram socket error'),
      },
    );
    this.socket = socket;
    socket.open().then(
      () => this.onOpen(socket),
      (error: unknown) => this.onConnectFailed(socket, error),
    );
  }

  private onOpen(socket: VendorSocket): void {
    if (this.socket !== socket || this.state !== 'connecting') {
      socket.terminate();
      return;
    }
    this.state = 'open';
    if (this.opened) this.logger.info({ failedAttempts: this.reconnector.failedAttempts }, 'Deepgram connection restored');
    this.opened = true;
    this.reconnector.succeeded();
    this.socketStartSample = this.retained[0]?.start ?? this.receivedSamples;
    this.unsentFrom = 0;
    this.sendRetained();
    if (this.finalizePending) {
      this.finalizePending = false;
      this.sendControl('Finalize');
    }
  }

  /** The handshake failed: refused (with Deepgram's status), timed out, or no connection at all. */
  private onConnectFailed(socket: VendorSocket, error: unknown): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state !== 'connecting') return;
    const cause = error instanceof ServiceError ? error : new ServiceError(DEEPGRAM, String(error), { code: 'connection-failed' });
    this.reconnectAfter(cause, true);
  }

  private onClose(socket: VendorSocket, code: number, reason: string): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state === 'closing') {
      this.state = 'closed';
      return;
    }
    if (this.state !== 'open') return;
    this.logger.warn({ code, reason }, 'Deepgram connection lost; reconnecting');
    const cause = new ServiceError(DEEPGRAM, `stream closed with ${code}${reason === '' ? '' : ` (${redactSecrets(reason, [this.apiKey])})`}`, {
      code: 'connection-lost',
      vendorCode: closeReasonCode(reason) ?? String(code),
    });
    this.reconnectAfter(cause, false);
  }

  /**
   * The next attempt, when the retry policy says one may help (reported once when the fast attempts are used up);
   * otherwise the stream has failed for good (a refused key, a bad parameter): one error, no retry loop.
   */
  private reconnectAfter(cause: ServiceError, attemptFailed: boolean): void {
    const plan = this.reconnector.schedule(cause, attemptFailed, () => {
      if (this.state === 'waiting') this.connect();
    });
    if (plan === undefined) {
      this.state = 'failed';
      this.retained = [];
      this.retainedSamples = 0;
      this.pushError(cause);
      return;
    }
    this.state = 'waiting';
    if (plan.report) {
      const { slowDelayMs } = this.reconnect;
      this.pushError(
        new ServiceError(
          DEEPGRAM,
          `cannot reconnect after ${plan.failedAttempts} attempts (last: ${cause.message.replace(/^Deepgram: /, '')}); retrying every ${slowDelayMs} ms`,
          { status: cause.status, code: cause.code, vendorCode: cause.vendorCode, retryable: true, cause },
        ),
      );
    }
  }

  /** End of the call: ask for the last results and wait (bounded) for the server to close. */
  private async finishStream(): Promise<void> {
    this.reportUsage();
    this.reconnector.cancel();
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined) {
      this.abandonStream();
      return;
    }
    this.state = 'closing';
    // CloseStream, then Deepgram sends the last results and closes; a server that does not is cut off.
    const closedInTime = await socket.close({ serverCloses: true, timeoutMs: this.closeTimeoutMs });
    if (!closedInTime && this.state === 'closing') {
      this.logger.warn({ timeoutMs: this.closeTimeoutMs }, 'Deepgram did not close the stream in time');
      this.state = 'closed';
    }
  }

  /** Cancel or cleanup: stop now, politely if the socket is open. */
  private abandonStream(): void {
    this.reconnector.cancel();
    if (this.state === 'closed' || this.state === 'failed') return;
    if (this.state !== 'closing') this.reportUsage();
    const socket = this.socket;
    this.state = 'closed';
    this.socket = undefined;
    this.retained = [];
    this.retainedSamples = 0;
    // CloseStream and a close; a server that never answers the close frame does not hold the socket past 1 s.
    if (socket !== undefined) void socket.close();
  }

  /** Forgets the previous stream: its audio, its clock and its failures. */
  private resetStream(): void {
    this.retained = [];
    this.retainedSamples = 0;
    this.unsentFrom = 0;
    this.receivedSamples = 0;
    this.socketStartSample = 0;
    this.droppedSamples = 0;
    this.reconnector.reset();
    this.opened = false;
    this.finalizePending = false;
    this.finalizeRequestedAt = undefined;
    this.unreportedSamples = 0;
    this.finalizedSample = 0;
    this.unfinishedStops = [];
  }

  // ---- audio --------------------------------------------------------------------------------------------------

  private encode(audio: Int16Array): Buffer {
    if (this.encoding === 'mulaw' || this.encoding === 'alaw') {
      const codes = this.encoding === 'mulaw' ? pcmToMulaw(audio) : pcmToAlaw(audio);
      return Buffer.from(codes.buffer, codes.byteOffset, codes.byteLength);
    }
    // A copy: the frame's samples may be reused by whoever sent them, and these bytes may be replayed later.
    return Buffer.from(int16ToBytes(audio));
  }

  private retain(chunk: SentAudio): void {
    this.retained.push(chunk);
    this.retainedSamples += chunk.samples;
    const limit = (this.reconnectBufferMs * this.sampleRate) / 1000;
    while (this.retained.length > 1 && this.retainedSamples - this.retained[0]!.samples >= limit) {
      const oldest = this.retained.shift()!;
      this.retainedSamples -= oldest.samples;
      if (this.unsentFrom > 0) this.unsentFrom--;
      else this.droppedSamples += oldest.samples;
    }
  }

  /** Forgets audio that a final result covers: it will not need replaying. */
  private releaseTranscribed(untilSample: number): void {
    while (this.unsentFrom > 0 && this.retained.length > 0 && this.retained[0]!.start + this.retained[0]!.samples <= untilSample) {
      this.retainedSamples -= this.retained.shift()!.samples;
      this.unsentFrom--;
    }
  }

  private sendRetained(): void {
    const socket = this.socket;
    if (socket === undefined || this.unsentFrom >= this.retained.length) return;
    if (this.droppedSamples > 0) {
      this.logger.warn({ droppedMs: Math.round((this.droppedSamples * 1000) / this.sampleRate) }, 'audio lost while Deepgram was unreachable');
      this.droppedSamples = 0;
    }
    for (let i = this.unsentFrom; i < this.retained.length; i++) {
      const chunk = this.retained[i]!;
      socket.send(chunk.bytes);
      this.unreportedSamples += chunk.samples;
    }
    this.unsentFrom = this.retained.length;
  }

  private sendControl(type: 'Finalize'): void {
    this.socket?.sendJSON({ type });
  }

  private reportUsage(): void {
    if (this.unreportedSamples === 0) return;
    const audioSeconds = this.unreportedSamples / this.sampleRate;
    this.unreportedSamples = 0;
    this.pushMetrics({ kind: 'stt-usage', processor: this.name, model: this.model, audioSeconds });
  }

  // ---- results ------------------------------------------------------------------------------------------------

  private onMessage(socket: VendorSocket, data: RawData, isBinary: boolean): void {
    if (this.socket !== socket || (this.state !== 'open' && this.state !== 'closing') || isBinary) return;
    const text = messageText(data);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.logger.warn({ length: text.length }, 'Deepgram sent a text frame that is not JSON; ignored');
      return;
    }
    if (typeof message !== 'object' || message === null) return;
    const record = message as Record<string, unknown>;
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
        this.logger.debug({ type: record.type }, 'Deepgram: message ignored');
    }
  }

  /** A time on the current socket's clock, in seconds on the call's clock. */
  private toCallTime(socketSecs: number): number {
    return socketSecs + this.socketStartSample / this.sampleRate;
  }

  private onResults(results: DeepgramResults): void {
    const isFinal = results.is_final === true;
    const start = num(results.start);
    const duration = num(results.duration);
    if (isFinal && start !== undefined && duration !== undefined) {
      const finalEnd = this.socketStartSample + Math.floor((start + duration) * this.sampleRate);
      this.releaseTranscribed(finalEnd);
      this.finalizedSample = Math.max(this.finalizedSample, finalEnd);
    }
    const alternative = results.channel?.alternatives?.[0];
    const transcript = typeof alternative?.transcript === 'string' ? alternative.transcript.trim() : '';
    if (isFinal && this.finalizeRequestedAt !== undefined && (transcript !== '' || results.from_finalize === true)) {
      this.pushMetrics({ kind: 'ttfb', processor: this.name, valueMs: this.clock.now() - this.finalizeRequestedAt });
      this.finalizeRequestedAt = undefined;
    }
    if (transcript !== '') this.pushTranscript(transcript, isFinal, alternative);
    if (isFinal) this.completeStops(results.from_finalize === true);
  }

  /** Some slack for the rounding of `start`/`duration` (milliseconds): 10 ms of audio. */
  private get finalizeSlackSamples(): number {
    return Math.ceil(this.sampleRate / 100);
  }

  /**
   * Says `transcription-complete` for each VAD stop whose audio the final results now reach, or for every
   * waiting stop on the answer to a Finalize (which flushes all the audio sent before it).
   */
  private completeStops(finalizeAnswered: boolean): void {
    const reach = this.finalizedSample + this.finalizeSlackSamples;
    while (this.unfinishedStops.length > 0 && (finalizeAnswered || this.unfinishedStops[0]!.sample <= reach)) {
      this.pushTranscriptionComplete(this.unfinishedStops.shift()!.id);
    }
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
    this.pushTranscription(transcript, isFinal, { language, words });
  }
}
