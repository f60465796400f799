// ElevenLabsTTSService: ElevenLabs text-to-speech over the multi-context WebSocket
// (`/v1/text-to-speech/{voice_id}/multi-stream-input`), one socket per service instance, opened when the pipeline
// starts and reopened lazily when it has dropped (ElevenLabs closes an idle socket with 1008 after
// `inactivity_timeout`, 20 s by default).
//
// Why the protocol directly with `ws` and not the ElevenLabs SDK: the SDK's realtime helper speaks the
// single-context endpoint and hides the socket; this service needs one socket shared by every utterance, its own
// demultiplexing by `contextId`, `close_context` on barge-in without waiting, and the handshake's HTTP error body.
//
// How an utterance maps onto the protocol. The TTSService base calls `synthesize` once per sentence, in order,
// with one `contextId` per LLM response (or speak frame). All sentences of an utterance go into one ElevenLabs
// context (prosody carries across them): the first message opens it (`text: " "` with the voice settings), then
// each sentence is sent with `flush: true` so it is generated at once. ElevenLabs marks no end of a flush
// (`isFinal` only comes when the context closes), so the end of a sentence's audio is told by the character
// alignment that comes with every chunk (`sync_alignment=true`): once the alignment has covered every character
// sent, the sentence is complete. Should alignment be missing or fall short, a sentence ends after `sentenceIdleMs`
// without more audio. When the base closes the utterance (its `tts-stopped` frame) or on an interruption, the
// context is closed (`close_context`) and whatever still arrives for it is dropped.
//
// Word timings come from the alignment: a word starts at its first character. Whether the server counts
// `charStartTimesMs` from each message or from the context's start is not documented and clients disagree, so by
// default it is told from the numbers themselves (see `alignmentTimeBase`); either way the offsets given to the
// pipeline are from the utterance's start, in audio time.
import WebSocket, { type RawData } from 'ws';
import { alawToPcm, bytesToInt16, mulawToPcm } from '../../audio/index.js';
import type { Frame, FrameDirection } from '../../frames/index.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';

const VENDOR = 'ElevenLabs';
const DEFAULT_BASE_URL = 'wss://api.elevenlabs.io';
const DEFAULT_TIMEOUT_MS = 10_000;
const DEFAULT_KEEP_ALIVE_MS = 10_000;
const DEFAULT_SENTENCE_IDLE_MS = 1500;
/** Most audio held back while waiting for a sentence's first word timing. */
const MAX_WORD_WAIT_MS = 300;

export const ELEVENLABS_PCM_SAMPLE_RATES = [8000, 16000, 22050, 24000, 32000, 44100, 48000] as const;
export type ElevenLabsEncoding = 'pcm' | 'ulaw' | 'alaw';

export interface ElevenLabsVoiceSettings {
  /** 0 to 1. */
  stability?: number;
  /** 0 to 1. */
  similarityBoost?: number;
  /** 0 to 1. */
  style?: number;
  useSpeakerBoost?: boolean;
  /** 0.7 to 1.2. */
  speed?: number;
}

export interface ElevenLabsTTSServiceOptions {
  apiKey: string;
  /** The voice's id (from the ElevenLabs voice library). Required. */
  voiceId: string;
  /** Default 'eleven_flash_v2_5' (the lowest latency; multi-context is not available for eleven_v3). */
  model?: string;
  /** 'pcm' (raw s16le), 'ulaw' or 'alaw' (8 kHz only, decoded to PCM16 here). Default 'pcm'. */
  encoding?: ElevenLabsEncoding;
  /** PCM: 8000, 16000, 22050, 24000, 32000, 44100 or 48000, default 16000; μ-law and A-law: 8000. */
  sampleRate?: number;
  /** Sent when the context opens. */
  voiceSettings?: ElevenLabsVoiceSettings;
  /** ISO 639-1 code (`language_code`), for the models that take one (the v2.5 models). */
  language?: string;
  /** `auto_mode`: no chunk schedule or buffering, right for whole sentences as this service sends. Default true. */
  autoMode?: boolean;
  /** `generation_config.chunk_length_schedule` (used when autoMode is off). */
  chunkLengthSchedule?: number[];
  /** `inactivity_timeout` in seconds (ElevenLabs: default 20, at most 180); sent only when set. */
  inactivityTimeoutSecs?: number;
  /** `apply_text_normalization`. */
  applyTextNormalization?: 'auto' | 'on' | 'off';
  /** `enable_logging=false` is zero-retention mode (enterprise). */
  enableLogging?: boolean;
  seed?: number;
  /**
   * How `charStartTimesMs` are counted: from each message's first audio ('message'), from the context's start
   * ('context'), or told from the numbers ('auto', default).
   */
  alignmentTimeBase?: 'auto' | 'message' | 'context';
  /** Default 'wss://api.elevenlabs.io' (http(s) URLs are accepted and turned into ws(s); a trailing /v1 is fine). */
  baseUrl?: string;
  /** The processor's name in logs and metrics. */
  name?: string;
  /** Longest wait for the handshake, and for the first audio of a sentence. Default 10 s. */
  timeoutMs?: number;
  /** A sentence whose alignment does not say it is complete ends after this long without more audio. Default 1500 ms. */
  sentenceIdleMs?: number;
  /** How often an open context is kept alive (`{"text": ""}`) while no text is sent. Default 10 s. */
  keepAliveIntervalMs?: number;
}

// ---- the sentence in flight ---------------------------------------------------------------------------------

/**
 * The chunks of one sentence, handed from the socket's message handler to the `synthesize` generator. A watchdog
 * calls `onIdle` when the server has been quiet for the current wait.
 */
class SentenceStream {
  private readonly items: TTSChunk[] = [];
  private waiter: { resolve: (chunk: TTSChunk | undefined) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  /**
   * Audio held back until the sentence's first word timing: the base class decides on the first audio chunk
   * whether the vendor gives word timings (else it sends the whole sentence as one tts-text), and a chunk can end
   * in the middle of the sentence's first word.
   */
  private held: Int16Array[] | undefined;
  private heldSamples = 0;
  finished = false;
  /** True once the sentence's audio is known to be complete. */
  complete = false;
  /** True once the server sent anything about this sentence. */
  heard = false;
  readonly startedAt = performance.now();

  constructor(
    private readonly holdLimit: number,
    private readonly onIdle: () => void,
  ) {
    if (holdLimit > 0) this.held = [];
  }

  /** (Re)arms the watchdog: `onIdle` runs if nothing else happens for `ms`. */
  watch(ms: number): void {
    if (this.finished) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(this.onIdle, ms);
    this.watchdog.unref();
  }

  push(chunk: TTSChunk): void {
    if (this.finished) return;
    if (this.held !== undefined) {
      if (chunk.type === 'audio') {
        this.held.push(chunk.audio);
        this.heldSamples += chunk.audio.length;
        if (this.heldSamples >= this.holdLimit) this.release();
        return;
      }
      this.deliver(chunk);
      this.release();
      return;
    }
    this.deliver(chunk);
  }

  end(): void {
    if (this.finished) return;
    this.release();
    this.complete = true;
    this.finish();
  }

  stop(): void {
    this.items.length = 0;
    this.held = undefined;
    this.finish();
  }

  fail(error: Error): void {
    if (this.finished) return;
    this.release();
    this.failure = error;
    this.finish();
  }

  next(): Promise<TTSChunk | undefined> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.finished) return this.failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    for (const audio of held ?? []) this.deliver({ type: 'audio', audio });
  }

  private deliver(chunk: TTSChunk): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) waiter.resolve(chunk);
    else this.items.push(chunk);
  }

  private finish(): void {
    this.finished = true;
    clearTimeout(this.watchdog);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    if (this.failure === undefined) waiter.resolve(undefined);
    else waiter.reject(this.failure);
  }
}

type ChunkSink = Pick<SentenceStream, 'push'>;

/** One open socket and what it last said went wrong. */
interface Connection {
  readonly socket: WebSocket;
  /** The last in-band error, kept to explain the close that follows it. */
  lastError: ServiceError | undefined;
  lastSentAt: number;
  keepAlive: NodeJS.Timeout | undefined;
}

/** One ElevenLabs context: all or part of one utterance of the base class. */
interface ElevenLabsContext {
  /** The `context_id` on the wire. */
  readonly id: string;
  readonly utterance: string;
  readonly connection: Connection;
  /** Audio of the utterance said in earlier contexts (after a reconnect), for word offsets. */
  readonly offsetMs: number;
  audioMs: number;
  opened: boolean;
  /** Closed by us or by the server: it takes no more text. */
  ended: boolean;
  /** Non-blank characters sent, and covered by the alignment received so far. */
  sentChars: number;
  alignedChars: number;
  /** The word being assembled from the alignment, and where it starts. */
  word: string;
  wordStartMs: number;
  sentence: SentenceStream | undefined;
  /** What arrived after the previous sentence was taken as complete: it opens the next one. */
  late: TTSChunk[];
  /** Half a PCM16 sample left over from the previous message. */
  carry: number | undefined;
}

// ---- helpers --------------------------------------------------------------------------------------------------

function redact(message: string, apiKey: string): string {
  return apiKey.length >= 4 ? message.split(apiKey).join('[redacted]') : message;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stringField(record: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

function nonBlankLength(text: string): number {
  let count = 0;
  for (const ch of text) if (!/\s/.test(ch)) count++;
  return count;
}

/** Error codes after which trying again cannot help. */
const FINAL_ERRORS = new Set(['invalid_api_key', 'quota_exceeded', 'detected_unusual_activity', 'payment_required', 'invalid_request', 'voice_not_found', 'model_not_found']);
const STATUS_OF: Readonly<Record<string, number>> = {
  invalid_api_key: 401,
  quota_exceeded: 402,
  too_many_concurrent_requests: 429,
};

/** An in-band error (`{"message", "error", "code"}`). */
function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const code = stringField(message, 'error') ?? (isRecord(message.error) ? stringField(message.error, 'status', 'type') : undefined);
  const text = stringField(message, 'message') ?? (isRecord(message.error) ? stringField(message.error, 'message') : undefined) ?? code ?? 'unknown error';
  return new ServiceError(VENDOR, redact(text, apiKey), {
    status: code === undefined ? undefined : STATUS_OF[code],
    code,
    retryable: code === undefined || !FINAL_ERRORS.has(code),
  });
}

/** A handshake answered with an HTTP error (`{"detail": {"status", "message"}}`, or text). */
function handshakeError(status: number, body: string, retryAfter: string | undefined, apiKey: string): ServiceError {
  let message = body.trim();
  let code: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed)) {
      const detail = parsed.detail;
      if (isRecord(detail)) {
        message = stringField(detail, 'message') ?? message;
        code = stringField(detail, 'status', 'code');
      } else {
        message = stringField(parsed, 'detail', 'message', 'error') ?? message;
        code = stringField(parsed, 'error', 'code');
      }
    }
  } catch {
    // Not JSON: the text is the message.
  }
  const secs = Number.parseFloat(retryAfter ?? '');
  return new ServiceError(VENDOR, redact(`${status} ${message === '' ? 'handshake rejected' : message}`, apiKey), {
    status,
    code,
    retryable: status === 408 || status === 429 || status >= 500,
    retryAfterSecs: Number.isFinite(secs) && secs >= 0 ? secs : undefined,
  });
}

function connectionClosed(code: number, reason: string): ServiceError {
  const why = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
  return new ServiceError(VENDOR, `connection closed (${why})`, { code: 'connection_closed', retryable: true });
}

function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
  if (signal.aborted) return Promise.resolve(undefined);
  return new Promise((resolve, reject) => {
    const onAbort = (): void => resolve(undefined);
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        resolve(value);
      },
      (error: unknown) => {
        signal.removeEventListener('abort', onAbort);
        reject(error instanceof Error ? error : new Error(String(error)));
      },
    );
  });
}

function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function checkUnit(service: string, name: string, value: number | undefined, min: number, max: number): void {
  if (value !== undefined && !(value >= min && value <= max)) {
    throw new RangeError(`${service}: ${name} must be between ${min} and ${max}, got ${value}`);
  }
}

let lastContextNumber = 0;

// ---- the service ----------------------------------------------------------------------------------------------

export class ElevenLabsTTSService extends TTSService {
  override readonly model: string;
  readonly voiceId: string;
  readonly encoding: ElevenLabsEncoding;
  /** The `output_format` asked for. */
  readonly outputFormat: string;
  readonly url: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  private readonly sentenceIdleMs: number;
  private readonly keepAliveIntervalMs: number;
  private readonly alignmentTimeBase: 'auto' | 'message' | 'context';
  /** Sent with the first message of every context. */
  private readonly contextSettings: Readonly<Record<string, unknown>>;
  private connection: Connection | undefined;
  private connecting: Promise<Connection> | undefined;
  private current: ElevenLabsContext | undefined;
  private closed = false;

  constructor(options: ElevenLabsTTSServiceOptions) {
    const service = new.target.name;
    const apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
    if (apiKey === '') throw new TypeError(`${service}: apiKey is required (e.g. { apiKey: process.env.ELEVENLABS_API_KEY })`);
    const voiceId = typeof options.voiceId === 'string' ? options.voiceId.trim() : '';
    if (voiceId === '') throw new TypeError(`${service}: voiceId is required (the id of an ElevenLabs voice, from the voice library)`);
    const encoding = options.encoding ?? 'pcm';
    let sampleRate: number;
    let outputFormat: string;
    if (encoding === 'pcm') {
      sampleRate = options.sampleRate ?? 16000;
      if (!(ELEVENLABS_PCM_SAMPLE_RATES as readonly number[]).includes(sampleRate)) {
        throw new RangeError(`${service}: sampleRate must be one of ${ELEVENLABS_PCM_SAMPLE_RATES.join(', ')} for pcm, got ${sampleRate}`);
      }
      outputFormat = `pcm_${sampleRate}`;
    } else if (encoding === 'ulaw' || encoding === 'alaw') {
      sampleRate = options.sampleRate ?? 8000;
      if (sampleRate !== 8000) throw new RangeError(`${service}: ${encoding} is only available at 8000 Hz, got ${sampleRate}`);
      outputFormat = `${encoding}_8000`;
    } else {
      throw new RangeError(`${service}: encoding must be 'pcm', 'ulaw' or 'alaw', got ${String(encoding)}`);
    }
    const voice = options.voiceSettings ?? {};
    checkUnit(service, 'voiceSettings.stability', voice.stability, 0, 1);
    checkUnit(service, 'voiceSettings.similarityBoost', voice.similarityBoost, 0, 1);
    checkUnit(service, 'voiceSettings.style', voice.style, 0, 1);
    checkUnit(service, 'voiceSettings.speed', voice.speed, 0.7, 1.2);
    checkUnit(service, 'inactivityTimeoutSecs', options.inactivityTimeoutSecs, 1, 180);
    const model = options.model ?? 'eleven_flash_v2_5';
    super({ name: options.name, sampleRate, model });
    this.model = model;
    this.voiceId = voiceId;
    this.encoding = encoding;
    this.outputFormat = outputFormat;
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
    this.sentenceIdleMs = options.sentenceIdleMs ?? DEFAULT_SENTENCE_IDLE_MS;
    this.keepAliveIntervalMs = options.keepAliveIntervalMs ?? DEFAULT_KEEP_ALIVE_MS;
    this.alignmentTimeBase = options.alignmentTimeBase ?? 'auto';

    const query = new URLSearchParams({ model_id: model, output_format: outputFormat, sync_alignment: 'true', auto_mode: String(options.autoMode ?? true) });
    if (options.language !== undefined) query.set('language_code', options.language);
    if (options.inactivityTimeoutSecs !== undefined) query.set('inactivity_timeout', String(options.inactivityTimeoutSecs));
    if (options.applyTextNormalization !== undefined) query.set('apply_text_normalization', options.applyTextNormalization);
    if (options.enableLogging !== undefined) query.set('enable_logging', String(options.enableLogging));
    if (options.seed !== undefined) query.set('seed', String(options.seed));
    const base = (options.baseUrl ?? DEFAULT_BASE_URL).replace(/^http/, 'ws').replace(/\/+$/, '').replace(/\/v1$/, '');
    this.url = `${base}/v1/text-to-speech/${encodeURIComponent(voiceId)}/multi-stream-input?${query.toString()}`;

    const settings: Record<string, unknown> = {};
    const voiceSettings: Record<string, unknown> = {};
    if (voice.stability !== undefined) voiceSettings.stability = voice.stability;
    if (voice.similarityBoost !== undefined) voiceSettings.similarity_boost = voice.similarityBoost;
    if (voice.style !== undefined) voiceSettings.style = voice.style;
    if (voice.useSpeakerBoost !== undefined) voiceSettings.use_speaker_boost = voice.useSpeakerBoost;
    if (voice.speed !== undefined) voiceSettings.speed = voice.speed;
    if (Object.keys(voiceSettings).length > 0) settings.voice_settings = voiceSettings;
    if (options.chunkLengthSchedule !== undefined) settings.generation_config = { chunk_length_schedule: options.chunkLengthSchedule };
    this.contextSettings = settings;
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' || frame.type === 'llm-response-start' || frame.type === 'user-stopped-speaking') {
        // Open (or reopen, after an idle close) the socket before the first sentence needs it.
        this.warmUp();
      } else if (frame.type === 'interruption' || frame.type === 'cancel') {
        this.closeCurrent();
      }
    }
    return super.processFrame(frame, direction);
  }

  /** Watches the base class's frames for the end of an utterance: its context is closed then. */
  protected override pushFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    if (frame.type === 'tts-stopped' && direction === 'downstream' && frame.contextId !== undefined) {
      this.onUtteranceEnd(frame.contextId);
    }
    return super.pushFrame(frame, direction);
  }

  /** The base class closed utterance `utterance`: so is its ElevenLabs context. */
  protected onUtteranceEnd(utterance: string): void {
    if (this.current?.utterance === utterance) this.closeCurrent();
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.closed = true;
    this.current?.sentence?.stop();
    this.current = undefined;
    const connection = this.connection;
    this.connection = undefined;
    if (connection === undefined) return;
    clearInterval(connection.keepAlive);
    if (connection.socket.readyState === WebSocket.OPEN) {
      connection.socket.send(JSON.stringify({ close_socket: true }));
      connection.socket.close(1000);
    } else {
      connection.socket.terminate();
    }
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    const { contextId: utterance, signal } = options;
    const characters = nonBlankLength(text);
    if (signal.aborted || characters === 0) return;
    for (let attempt = 1; ; attempt++) {
      const connection = await unlessAborted(this.connect(), signal);
      if (connection === undefined) return;
      const context = this.contextFor(utterance, connection);
      const holdLimit = Math.round((MAX_WORD_WAIT_MS * this.sampleRate) / 1000);
      const sentence: SentenceStream = new SentenceStream(holdLimit, () => this.onIdle(context, sentence));
      context.sentence = sentence;
      for (const chunk of context.late.splice(0)) sentence.push(chunk);
      // An alignment that overshot the previous sentence (a repeated pass) must not end this one early.
      context.alignedChars = Math.min(context.alignedChars, context.sentChars);
      context.sentChars += characters;
      const onAbort = (): void => {
        if (this.current === context) this.current = undefined;
        this.close(context);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        if (!context.opened) {
          this.send(connection, { text: ' ', context_id: context.id, ...this.contextSettings });
          context.opened = true;
        }
        // Each piece of text should end with a space; `flush` has it generated now rather than buffered.
        this.send(connection, { text: /\s$/.test(text) ? text : `${text} `, context_id: context.id, flush: true });
        sentence.watch(this.timeoutMs);
        for (let chunk = await sentence.next(); chunk !== undefined; chunk = await sentence.next()) yield chunk;
        // Said in full: an earlier error on this socket explains nothing that comes later.
        connection.lastError = undefined;
        return;
      } catch (error) {
        // A socket that had died unnoticed (ElevenLabs closes idle ones) took the sentence and gave nothing back:
        // said once more on a fresh socket, it costs the caller nothing.
        const stale =
          error instanceof ServiceError && !sentence.heard && (error.code === 'connection_closed' || error.code === 'input_timeout_exceeded');
        if (attempt === 1 && stale && !signal.aborted) continue;
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (context.sentence === sentence) context.sentence = undefined;
        // Cut short: the rest of the sentence must not leak into the next one, which goes into a fresh context.
        if (!sentence.complete) this.close(context);
        sentence.stop();
      }
    }
  }

  // ---- contexts -----------------------------------------------------------------------------------------------

  private contextFor(utterance: string, connection: Connection): ElevenLabsContext {
    let context = this.current;
    if (context !== undefined && context.utterance !== utterance) {
      // The previous utterance was not closed through tts-stopped (it failed, say): close it now.
      this.close(context);
      context = undefined;
    }
    if (context === undefined) {
      context = this.newContext(utterance, connection, 0);
    } else if (context.connection !== connection || context.ended) {
      // Lost with its socket, or closed: the rest of the utterance gets a fresh context, its word offsets carrying
      // on from the audio already said.
      this.close(context);
      context = this.newContext(utterance, connection, context.offsetMs + context.audioMs);
    }
    this.current = context;
    return context;
  }

  private newContext(utterance: string, connection: Connection, offsetMs: number): ElevenLabsContext {
    return {
      id: `ctx-${(++lastContextNumber).toString(36)}-${Date.now().toString(36)}`,
      utterance,
      connection,
      offsetMs,
      audioMs: 0,
      opened: false,
      ended: false,
      sentChars: 0,
      alignedChars: 0,
      word: '',
      wordStartMs: 0,
      sentence: undefined,
      late: [],
      carry: undefined,
    };
  }

  /** ElevenLabs ends the context (its final message is then ignored); anything still arriving for it is dropped. */
  private close(context: ElevenLabsContext): void {
    context.sentence?.stop();
    if (!context.ended && context.opened) this.sendQuietly(context.connection, { context_id: context.id, close_context: true });
    context.ended = true;
  }

  private closeCurrent(): void {
    const context = this.current;
    this.current = undefined;
    if (context !== undefined) this.close(context);
  }

  /** The watchdog: no first audio within timeoutMs is a failure; no more audio for sentenceIdleMs ends the sentence. */
  private onIdle(context: ElevenLabsContext, sentence: SentenceStream): void {
    if (sentence.heard) {
      this.flushWord(context, sentence);
      sentence.end();
      return;
    }
    sentence.fail(new ServiceError(VENDOR, `no audio for ${this.timeoutMs} ms`, { code: 'timeout', retryable: true }));
    // A socket that stopped answering is not trusted with the next sentence.
    if (this.connection === context.connection) this.connection = undefined;
    context.connection.socket.terminate();
  }

  // ---- the socket ---------------------------------------------------------------------------------------------

  private warmUp(): void {
    if (this.closed) return;
    this.connect().catch((error: unknown) => {
      this.logger.debug({ err: error }, 'ElevenLabs: could not open the socket ahead of time');
    });
  }

  private connect(): Promise<Connection> {
    if (this.closed) return Promise.reject(new ServiceError(VENDOR, 'service is closed', { code: 'closed', retryable: false }));
    if (this.connection !== undefined && this.connection.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.connection);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<Connection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, { headers: { 'xi-api-key': this.apiKey }, handshakeTimeout: this.timeoutMs });
      const connection: Connection = { socket, lastError: undefined, lastSentAt: performance.now(), keepAlive: undefined };
      let settled = false;
      const fail = (error: ServiceError): void => {
        if (settled) return;
        settled = true;
        reject(error);
      };
      socket.on('unexpected-response', (_request, response) => {
        let body = '';
        response.setEncoding('utf8');
        response.on('data', (piece: string) => (body += piece));
        response.on('end', () => {
          const retryAfter: string | string[] | undefined = response.headers['retry-after'];
          fail(handshakeError(response.statusCode ?? 0, body, typeof retryAfter === 'string' ? retryAfter : retryAfter?.[0], this.apiKey));
          socket.terminate();
        });
      });
      socket.on('error', (error) => {
        if (!settled) {
          fail(new ServiceError(VENDOR, `connection failed: ${redact(error.message, this.apiKey)}`, { code: 'connection_error', retryable: true }));
        } else {
          this.logger.debug({ err: error }, 'ElevenLabs socket error');
        }
      });
      socket.on('open', () => {
        if (this.closed) {
          socket.close(1000);
          fail(new ServiceError(VENDOR, 'service is closed', { code: 'closed', retryable: false }));
          return;
        }
        settled = true;
        connection.keepAlive = setInterval(() => this.keepAlive(connection), this.keepAliveIntervalMs);
        connection.keepAlive.unref();
        this.connection = connection;
        resolve(connection);
      });
      socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
      socket.on('close', (code, reason) => this.onClose(connection, code, reason.toString('utf8')));
    });
  }

  /** Keeps the open context alive while the LLM is slow to give the next sentence (`{"text": ""}` does not close it). */
  private keepAlive(connection: Connection): void {
    const context = this.current;
    if (context === undefined || context.connection !== connection || !context.opened || context.ended) return;
    if (performance.now() - connection.lastSentAt < this.keepAliveIntervalMs * 0.9) return;
    this.sendQuietly(connection, { text: '', context_id: context.id });
  }

  private onClose(connection: Connection, code: number, reason: string): void {
    clearInterval(connection.keepAlive);
    if (this.connection === connection) this.connection = undefined;
    const context = this.current;
    if (context?.connection !== connection) return;
    context.ended = true;
    const sentence = context.sentence;
    if (sentence === undefined) return;
    // The in-band error that preceded the close (a bad key, an idle timeout) explains it best.
    sentence.fail(connection.lastError ?? connectionClosed(code, reason));
  }

  private send(connection: Connection, message: Record<string, unknown>): void {
    if (connection.socket.readyState !== WebSocket.OPEN) {
      // Closed right after it opened: the server said why (a bad key, say) just before.
      throw connection.lastError ?? new ServiceError(VENDOR, 'connection closed before the text could be sent', { code: 'connection_closed', retryable: true });
    }
    connection.socket.send(JSON.stringify(message));
    connection.lastSentAt = performance.now();
  }

  private sendQuietly(connection: Connection, message: Record<string, unknown>): void {
    if (connection.socket.readyState === WebSocket.OPEN) this.send(connection, message);
  }

  // ---- what the server sends ------------------------------------------------------------------------------------

  private onMessage(connection: Connection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      this.logger.warn('ElevenLabs sent a message that is not JSON; ignored');
      return;
    }
    if (!isRecord(message)) return;
    const contextId = message.contextId ?? message.context_id;
    const context = this.current;
    const mine = context !== undefined && context.connection === connection && contextId === context.id;
    const isError = typeof message.error === 'string' || isRecord(message.error);
    if (isError) {
      const error = streamError(message, this.apiKey);
      // An error about no context in particular concerns the socket and the sentence in flight; one about a
      // context already left behind (its late close, say) concerns neither.
      if (!mine && contextId !== undefined) {
        this.logger.debug({ err: error }, 'ElevenLabs reported an error about a finished context');
        return;
      }
      connection.lastError = error;
      if (context?.connection === connection && context.sentence !== undefined) context.sentence.fail(error);
      else this.logger.debug({ err: error }, 'ElevenLabs reported an error outside a sentence');
      return;
    }
    if (!mine) return;
    const sentence = context.sentence;
    if (typeof message.audio === 'string' && message.audio !== '') {
      this.onAudio(context, sentence, message);
    }
    if (message.isFinal === true || message.is_final === true) {
      context.ended = true;
      if (sentence !== undefined) {
        this.flushWord(context, sentence);
        sentence.end();
      }
    }
  }

  private onAudio(context: ElevenLabsContext, sentence: SentenceStream | undefined, message: Record<string, unknown>): void {
    const audio = this.decode(context, Buffer.from(message.audio as string, 'base64'));
    const audioBeforeMs = context.audioMs;
    context.audioMs += (audio.length * 1000) / this.sampleRate;
    // Audio after the sentence was taken as complete (its tail, or a repeated alignment pass) belongs to the
    // utterance all the same: it opens the next sentence, in order.
    const sink = sentence ?? { push: (chunk: TTSChunk) => context.late.push(chunk) };
    if (sentence !== undefined) sentence.heard = true;
    const alignment = [message.alignment, message.normalizedAlignment, message.normalized_alignment].find(isRecord);
    if (alignment !== undefined) this.onAlignment(context, sink, alignment, audioBeforeMs);
    if (audio.length > 0) sink.push({ type: 'audio', audio });
    if (sentence === undefined) return;
    if (context.alignedChars >= context.sentChars) {
      this.flushWord(context, sentence);
      sentence.end();
    } else {
      sentence.watch(this.sentenceIdleMs);
    }
  }

  /** Words from a message's character alignment, and how many characters it covered. */
  private onAlignment(context: ElevenLabsContext, sentence: ChunkSink, alignment: Record<string, unknown>, audioBeforeMs: number): void {
    const chars = alignment.chars;
    const starts = alignment.charStartTimesMs ?? alignment.charsStartTimesMs ?? alignment.char_start_times_ms;
    if (!Array.isArray(chars) || !Array.isArray(starts)) return;
    const first: unknown = starts[0];
    const relative =
      this.alignmentTimeBase === 'message' ||
      (this.alignmentTimeBase === 'auto' && audioBeforeMs > 0 && typeof first === 'number' && first < audioBeforeMs / 2);
    const base = context.offsetMs + (relative ? audioBeforeMs : 0);
    chars.forEach((ch, i) => {
      const start: unknown = starts[i];
      if (typeof ch !== 'string') return;
      if (/^\s*$/.test(ch)) {
        this.flushWord(context, sentence);
        return;
      }
      context.alignedChars += nonBlankLength(ch);
      if (context.word === '') context.wordStartMs = base + (typeof start === 'number' ? start : 0);
      context.word += ch;
    });
  }

  private flushWord(context: ElevenLabsContext, sentence: ChunkSink): void {
    if (context.word === '') return;
    sentence.push({ type: 'word', text: context.word, offsetMs: Math.round(context.wordStartMs * 1000) / 1000 });
    context.word = '';
  }

  private decode(context: ElevenLabsContext, bytes: Uint8Array): Int16Array {
    if (this.encoding === 'ulaw') return mulawToPcm(bytes);
    if (this.encoding === 'alaw') return alawToPcm(bytes);
    const held = context.carry === undefined ? 0 : 1;
    const whole = (bytes.length + held) & ~1;
    // A fresh copy: aligned for the view, and not sharing Node's buffer pool, which later allocations overwrite.
    const aligned = new Uint8Array(whole);
    if (context.carry !== undefined) aligned[0] = context.carry;
    aligned.set(bytes.subarray(0, whole - held), held);
    context.carry = whole - held < bytes.length ? bytes[bytes.length - 1] : undefined;
    return bytesToInt16(aligned);
  }
}
