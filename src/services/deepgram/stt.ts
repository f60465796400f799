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
//   reported and attempts go on every 5 s). Audio not yet covered by a final result (bounded: the last
//   `reconnectBufferMs`) is kept and sent again on the new socket, audio from the outage included, so the utterance
//   in progress when the line dropped is still transcribed. Deepgram's times restart at 0 on every socket; they are
//   shifted by where that socket's audio starts in the call, so word times stay on the call's clock.
// A refused handshake with 401/403/400/402 is final (an error frame naming Deepgram, no retry loop); 429 and 5xx
// are retried like a drop.
import type { IncomingMessage } from 'node:http';
import WebSocket, { type RawData } from 'ws';
import { int16ToBytes, pcmToAlaw, pcmToMulaw } from '../../audio/index.js';
import type { Frame, FrameDirection, TranscriptionWord, UserStoppedSpeakingFrame } from '../../frames/index.js';
import { ServiceError, STTService } from '../base/index.js';
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

const MAX_ERROR_BODY_BYTES = 16 * 1024;
const ERROR_BODY_TIMEOUT_MS = 2000;

/** The body of a refused handshake, bounded in size and time. */
function readErrorBody(res: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let text = '';
    const done = (): void => {
      clearTimeout(timer);
      resolve(text);
    };
    const timer = setTimeout(done, ERROR_BODY_TIMEOUT_MS);
    res.setEncoding('utf8');
    res.on('data', (chunk: string) => {
      if (text.length < MAX_ERROR_BODY_BYTES) text += chunk;
    });
    res.once('end', done);
    res.once('error', done);
    res.once('close', done);
  });
}

function headerGetter(res: IncomingMessage): { get(name: string): string | null } {
  return {
    get: (name) => {
      const value = res.headers[name.toLowerCase()];
      return value === undefined ? null : Array.isArray(value) ? value.join(', ') : value;
    },
  };
}

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
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;

  private state: ConnectionState = 'idle';
  private socket: WebSocket | undefined;
  /** Audio not yet covered by a final result, oldest first; `unsentFrom` indexes the first not sent on this socket. */
  private retained: SentAudio[] = [];
  private retainedSamples = 0;
  private unsentFrom = 0;
  /** Samples received from the pipeline since the start: the call's audio clock. */
  private receivedSamples = 0;
  /** Where the current socket's audio starts on the call's clock. */
  private socketStartSample = 0;
  private droppedSamples = 0;
  private lastSentAt = 0;
  private keepAliveTimer: NodeJS.Timeout | undefined;
  private reconnectTimer: NodeJS.Timeout | undefined;
  private failedAttempts = 0;
  private outageReported = false;
  private opened = false;
  private finalizePending = false;
  private finalizeRequestedAt: number | undefined;
  private unreportedSamples = 0;
  private closeWaiter: (() => void) | undefined;
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
      this.finalizeRequestedAt = performance.now();
      this.sendControl('Finalize');
    } else if (this.state === 'connecting' || this.state === 'waiting') {
      this.finalizeRequestedAt = performance.now();
      this.finalizePending = true;
    }
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private connect(): void {
    this.state = 'connecting';
    const ws = new WebSocket(this.url, {
      headers: { Authorization: `Token ${this.apiKey}` },
      handshakeTimeout: this.connectTimeoutMs,
      perMessageDeflate: false,
    });
    this.socket = ws;
    let failure: ServiceError | undefined;
    ws.on('unexpected-response', (_req, res) => {
      void readErrorBody(res).then((body) => {
        failure = httpServiceError(res.statusCode ?? 0, headerGetter(res), body, this.apiKey, 'connection');
        ws.terminate();
      });
    });
    ws.on('open', () => this.onOpen(ws));
    ws.on('message', (data, isBinary) => this.onMessage(ws, data, isBinary));
    ws.on('error', (error) => {
      failure ??= new ServiceError(DEEPGRAM, `connection error: ${redactSecrets(error.message, [this.apiKey])}`, {
        code: 'connection-failed',
      });
    });
    ws.on('close', (code, reason) => this.onClose(ws, code, reason.toString('utf8'), failure));
  }

  private onOpen(ws: WebSocket): void {
    if (this.socket !== ws) return;
    if (this.state !== 'connecting') {
      ws.terminate();
      return;
    }
    this.state = 'open';
    if (this.opened) this.logger.info({ failedAttempts: this.failedAttempts }, 'Deepgram connection restored');
    this.opened = true;
    this.failedAttempts = 0;
    this.outageReported = false;
    this.socketStartSample = this.retained[0]?.start ?? this.receivedSamples;
    this.unsentFrom = 0;
    this.lastSentAt = performance.now();
    this.sendRetained();
    if (this.finalizePending) {
      this.finalizePending = false;
      this.sendControl('Finalize');
    }
    this.armKeepAlive();
  }

  private onClose(ws: WebSocket, code: number, reason: string, failure: ServiceError | undefined): void {
    if (this.socket !== ws) return;
    this.socket = undefined;
    clearTimeout(this.keepAliveTimer);
    if (this.state === 'closing') {
      this.state = 'closed';
      this.closeWaiter?.();
      return;
    }
    if (this.state !== 'open' && this.state !== 'connecting') return;
    if (failure !== undefined && !failure.retryable) {
      this.state = 'failed';
      this.retained = [];
      this.retainedSamples = 0;
      this.pushError(failure);
      return;
    }
    const cause =
      failure ??
      new ServiceError(DEEPGRAM, `stream closed with ${code}${reason === '' ? '' : ` (${redactSecrets(reason, [this.apiKey])})`}`, {
        code: 'connection-lost',
        vendorCode: closeReasonCode(reason) ?? String(code),
      });
    if (this.state === 'open') {
      this.logger.warn({ code, reason }, 'Deepgram connection lost; reconnecting');
    } else {
      this.failedAttempts++;
    }
    this.scheduleReconnect(cause);
  }

  private scheduleReconnect(cause: ServiceError): void {
    const { initialDelayMs, maxDelayMs, attemptsBeforeError, slowDelayMs } = this.reconnect;
    const attempt = this.failedAttempts;
    if (attempt >= attemptsBeforeError && !this.outageReported) {
      this.outageReported = true;
      this.pushError(
        new ServiceError(
          DEEPGRAM,
          `cannot reconnect after ${attempt} attempts (last: ${cause.message.replace(/^Deepgram: /, '')}); retrying every ${slowDelayMs} ms`,
          { status: cause.status, code: cause.code, vendorCode: cause.vendorCode, retryable: true, cause },
        ),
      );
    }
    let delay = attempt < attemptsBeforeError ? Math.min(initialDelayMs * 2 ** attempt, maxDelayMs) : slowDelayMs;
    if (cause.retryAfterSecs !== undefined) delay = Math.max(delay, cause.retryAfterSecs * 1000);
    this.state = 'waiting';
    this.reconnectTimer = setTimeout(() => {
      if (this.state === 'waiting') this.connect();
    }, delay);
  }

  /** End of the call: ask for the last results and wait (bounded) for the server to close. */
  private async finishStream(): Promise<void> {
    this.reportUsage();
    clearTimeout(this.reconnectTimer);
    const ws = this.socket;
    if (this.state !== 'open' || ws === undefined) {
      this.abandonStream();
      return;
    }
    this.state = 'closing';
    clearTimeout(this.keepAliveTimer);
    const closed = new Promise<void>((resolve) => (this.closeWaiter = resolve));
    ws.send(JSON.stringify({ type: 'CloseStream' }));
    let timer: NodeJS.Timeout | undefined;
    const timedOut = new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), this.closeTimeoutMs)));
    const late = await Promise.race([closed.then(() => false), timedOut]);
    clearTimeout(timer);
    if (late) {
      this.logger.warn({ timeoutMs: this.closeTimeoutMs }, 'Deepgram did not close the stream in time');
      this.state = 'closed';
      ws.terminate();
    }
  }

  /** Cancel or cleanup: stop now, politely if the socket is open. */
  private abandonStream(): void {
    clearTimeout(this.reconnectTimer);
    clearTimeout(this.keepAliveTimer);
    if (this.state === 'closed' || this.state === 'failed') return;
    if (this.state !== 'closing') this.reportUsage();
    const ws = this.socket;
    this.state = 'closed';
    this.socket = undefined;
    this.retained = [];
    this.retainedSamples = 0;
    this.closeWaiter?.();
    if (ws === undefined) return;
    if (ws.readyState === WebSocket.OPEN) {
      ws.send(JSON.stringify({ type: 'CloseStream' }));
      ws.close(1000);
      // A server that never answers the close frame must not hold the socket.
      setTimeout(() => ws.terminate(), 1000).unref();
    } else {
      ws.terminate();
    }
  }

  /** Forgets the previous stream: its audio, its clock and its failures. */
  private resetStream(): void {
    this.retained = [];
    this.retainedSamples = 0;
    this.unsentFrom = 0;
    this.receivedSamples = 0;
    this.socketStartSample = 0;
    this.droppedSamples = 0;
    this.failedAttempts = 0;
    this.outageReported = false;
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
    const ws = this.socket;
    if (ws === undefined || this.unsentFrom >= this.retained.length) return;
    if (this.droppedSamples > 0) {
      this.logger.warn({ droppedMs: Math.round((this.droppedSamples * 1000) / this.sampleRate) }, 'audio lost while Deepgram was unreachable');
      this.droppedSamples = 0;
    }
    for (let i = this.unsentFrom; i < this.retained.length; i++) {
      const chunk = this.retained[i]!;
      ws.send(chunk.bytes, { binary: true });
      this.unreportedSamples += chunk.samples;
    }
    this.unsentFrom = this.retained.length;
    this.lastSentAt = performance.now();
  }

  private sendControl(type: 'KeepAlive' | 'Finalize'): void {
    this.socket?.send(JSON.stringify({ type }));
    this.lastSentAt = performance.now();
  }

  private armKeepAlive(): void {
    clearTimeout(this.keepAliveTimer);
    const wait = Math.max(0, this.lastSentAt + this.keepAliveIntervalMs - performance.now());
    this.keepAliveTimer = setTimeout(() => {
      if (this.state !== 'open') return;
      if (performance.now() - this.lastSentAt >= this.keepAliveIntervalMs) this.sendControl('KeepAlive');
      this.armKeepAlive();
    }, wait);
    this.keepAliveTimer.unref();
  }

  private reportUsage(): void {
    if (this.unreportedSamples === 0) return;
    const audioSeconds = this.unreportedSamples / this.sampleRate;
    this.unreportedSamples = 0;
    this.pushMetrics({ kind: 'stt-usage', processor: this.name, model: this.model, audioSeconds });
  }

  // ---- results ------------------------------------------------------------------------------------------------

  private onMessage(ws: WebSocket, data: RawData, isBinary: boolean): void {
    if (this.socket !== ws || (this.state !== 'open' && this.state !== 'closing') || isBinary) return;
    const text = Array.isArray(data) ? Buffer.concat(data).toString('utf8') : Buffer.from(data as ArrayBuffer).toString('utf8');
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
      this.pushMetrics({ kind: 'ttfb', processor: this.name, valueMs: performance.now() - this.finalizeRequestedAt });
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
