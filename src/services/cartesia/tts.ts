// CartesiaTTSService: Cartesia Sonic over its WebSocket (`/tts/websocket`), one socket per service instance,
// opened when the pipeline starts and reopened lazily when it has dropped.
//
// Why the protocol directly with `ws` and not the Cartesia SDK: the wire protocol is a handful of JSON messages,
// and this service needs control the SDK does not give in one place: one socket shared by every utterance, its
// own demultiplexing by `context_id`, `cancel` on barge-in without waiting for anything, and the handshake's HTTP
// error body to build a useful error.
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
import { randomUUID } from 'node:crypto';
import WebSocket, { type RawData } from 'ws';
import { alawToPcm, bytesToInt16, float32ToInt16, mulawToPcm } from '../../audio/index.js';
import type { Frame, FrameDirection } from '../../frames/index.js';
import { ServiceError, TTSService, type SynthesizeOptions, type TTSChunk } from '../base/index.js';

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

/** Most audio held back while waiting for a sentence's first word timing. */
const MAX_WORD_WAIT_MS = 300;

export const CARTESIA_SAMPLE_RATES = [8000, 16000, 22050, 24000, 44100, 48000] as const;
export type CartesiaEncoding = 'pcm_s16le' | 'pcm_f32le' | 'pcm_mulaw' | 'pcm_alaw';
const ENCODINGS: readonly CartesiaEncoding[] = ['pcm_s16le', 'pcm_f32le', 'pcm_mulaw', 'pcm_alaw'];

export interface CartesiaTTSServiceOptions {
  apiKey: string;
  /** The voice's id (a UUID from the Cartesia playground or API). Required. */
  voiceId: string;
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

// ---- the sentence in flight ---------------------------------------------------------------------------------

/**
 * The chunks of one sentence, handed from the socket's message handler to the `synthesize` generator. A watchdog
 * fails it when the server goes quiet for `timeoutMs`.
 */
class SentenceStream {
  private readonly items: TTSChunk[] = [];
  /**
   * Audio held back until the sentence's first word timing arrives: the base class decides on the first audio
   * chunk whether the vendor gives word timings (else it sends the whole sentence as one tts-text), and Cartesia
   * sends a chunk's timestamps after the chunk.
   */
  private held: Int16Array[] | undefined;
  private heldSamples = 0;
  private waiter: { resolve: (chunk: TTSChunk | undefined) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  finished = false;
  /** True once the vendor said the sentence's audio is complete. */
  complete = false;
  /** True once the server sent anything about this sentence. */
  heard = false;

  constructor(
    readonly flushId: number,
    private readonly timeoutMs: number,
    private readonly onTimeout: () => void,
    /** Samples of audio to hold back at most while waiting for the first word timing; 0 holds nothing. */
    private readonly holdLimit = 0,
  ) {
    if (holdLimit > 0) this.held = [];
    this.touch();
  }

  /** Called on every message for this sentence: the server is alive. */
  touch(): void {
    if (this.finished) return;
    clearTimeout(this.watchdog);
    this.watchdog = setTimeout(this.onTimeout, this.timeoutMs);
    this.watchdog.unref();
  }

  push(chunk: TTSChunk): void {
    if (this.finished) return;
    if (this.held !== undefined) {
      if (chunk.type === 'audio') {
        this.held.push(chunk.audio);
        this.heldSamples += chunk.audio.length;
        // Timings that do not come (an older API version, say) must not hold the whole sentence back.
        if (this.heldSamples >= this.holdLimit) this.release();
        return;
      }
      this.deliver(chunk);
      this.release();
      return;
    }
    this.deliver(chunk);
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

  /** The sentence is complete: what is buffered is still yielded. */
  end(): void {
    if (this.finished) return;
    this.release();
    this.complete = true;
    this.finish();
  }

  /** Interrupted: nothing more is yielded, not even what is buffered. */
  stop(): void {
    this.items.length = 0;
    this.held = undefined;
    this.finish();
  }

  /** Failed: what is buffered is yielded, then `error` is thrown. */
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

/** One Cartesia context: all or part of one utterance of the base class. */
interface CartesiaContext {
  /** The `context_id` on the wire. */
  readonly id: string;
  /** The base class's utterance id. */
  readonly utterance: string;
  readonly socket: WebSocket;
  /** Audio of the utterance said in earlier contexts (after an expiry or a reconnect), for word offsets. */
  readonly offsetMs: number;
  /** Audio received in this context. */
  audioMs: number;
  flushes: number;
  /** When the server last sent something for this context (or the context was opened). */
  lastActivityAt: number;
  /** Cartesia ended the context (`done`, or an error with `done: true`): it takes no more input. */
  ended: boolean;
  sentence: SentenceStream | undefined;
  decoder: PcmDecoder;
}

// ---- wire audio to PCM16 ------------------------------------------------------------------------------------

/** Decodes one context's audio; a sample split across two messages is carried over. */
class PcmDecoder {
  private carry = new Uint8Array(0);

  constructor(private readonly encoding: CartesiaEncoding) {}

  decode(bytes: Uint8Array): Int16Array {
    if (this.encoding === 'pcm_mulaw') return mulawToPcm(bytes);
    if (this.encoding === 'pcm_alaw') return alawToPcm(bytes);
    const width = this.encoding === 'pcm_f32le' ? 4 : 2;
    let data = bytes;
    if (this.carry.length > 0) {
      data = new Uint8Array(this.carry.length + bytes.length);
      data.set(this.carry);
      data.set(bytes, this.carry.length);
    }
    const whole = data.length - (data.length % width);
    // Copies (a typed-array constructor copies; Buffer#slice would not): the decoded base64 may live in Node's
    // shared buffer pool, which later allocations overwrite, and the copy is aligned for the typed-array view.
    this.carry = new Uint8Array(data.subarray(whole));
    const aligned = new Uint8Array(data.subarray(0, whole));
    if (width === 2) return bytesToInt16(aligned);
    const view = new DataView(aligned.buffer);
    const floats = new Float32Array(whole / 4);
    for (let i = 0; i < floats.length; i++) floats[i] = view.getFloat32(i * 4, true);
    return float32ToInt16(floats);
  }
}

// ---- errors -------------------------------------------------------------------------------------------------

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

function retryableStatus(status: number | undefined): boolean {
  return status === undefined || status === 408 || status === 429 || status >= 500;
}

/** A handshake answered with an HTTP error: JSON (`{error_code, title, message}`) or plain text, by version. */
function handshakeError(status: number, body: string, retryAfter: string | undefined, apiKey: string): ServiceError {
  let message = body.trim();
  let code: string | undefined;
  try {
    const parsed: unknown = JSON.parse(body);
    if (isRecord(parsed)) {
      message = stringField(parsed, 'message', 'error', 'title', 'detail') ?? message;
      code = stringField(parsed, 'error_code', 'code');
    }
  } catch {
    // Plain text ("Title: message") is the older versions' error body.
  }
  const secs = Number.parseFloat(retryAfter ?? '');
  return new ServiceError(VENDOR, redact(`${status} ${message === '' ? 'handshake rejected' : message}`, apiKey), {
    status,
    code,
    retryable: retryableStatus(status),
    retryAfterSecs: Number.isFinite(secs) && secs >= 0 ? secs : undefined,
  });
}

/** An in-stream `type: "error"` event, in either generation's shape. */
function streamError(message: Record<string, unknown>, apiKey: string): ServiceError {
  const status = typeof message.status_code === 'number' ? message.status_code : undefined;
  const text = stringField(message, 'message', 'error', 'title') ?? 'unknown error';
  return new ServiceError(VENDOR, redact(status === undefined ? text : `${status} ${text}`, apiKey), {
    status,
    code: stringField(message, 'error_code'),
    retryable: retryableStatus(status),
  });
}

function connectionClosed(code: number, reason: string): ServiceError {
  const why = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
  return new ServiceError(VENDOR, `connection closed (${why})`, { code: 'connection_closed', retryable: true });
}

/** Resolves with the promise's value, or undefined as soon as `signal` aborts. */
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

/** A text frame's content (ws hands it over as a Buffer, or as fragments). */
function rawText(data: RawData): string {
  if (Array.isArray(data)) return Buffer.concat(data).toString('utf8');
  return Buffer.from(data instanceof ArrayBuffer ? new Uint8Array(data) : data).toString('utf8');
}

function socketUrl(baseUrl: string): string {
  const base = baseUrl.replace(/^http/, 'ws').replace(/\/+$/, '');
  return `${base}/tts/websocket`;
}

// ---- the service ----------------------------------------------------------------------------------------------

export class CartesiaTTSService extends TTSService {
  override readonly model: string;
  readonly voiceId: string;
  readonly language: string;
  readonly encoding: CartesiaEncoding;
  readonly addTimestamps: boolean;
  readonly cartesiaVersion: string;
  readonly url: string;
  private readonly apiKey: string;
  private readonly timeoutMs: number;
  /** The fields every generation request of this service repeats (Cartesia wants them identical within a context). */
  private readonly requestFields: Readonly<Record<string, unknown>>;
  private socket: WebSocket | undefined;
  private connecting: Promise<WebSocket> | undefined;
  /** The context of the utterance being said, if any. */
  private current: CartesiaContext | undefined;
  private closed = false;

  constructor(options: CartesiaTTSServiceOptions) {
    const apiKey = typeof options.apiKey === 'string' ? options.apiKey.trim() : '';
    if (apiKey === '') {
      throw new TypeError(`${new.target.name}: apiKey is required (e.g. { apiKey: process.env.CARTESIA_API_KEY })`);
    }
    const voiceId = typeof options.voiceId === 'string' ? options.voiceId.trim() : '';
    if (voiceId === '') {
      throw new TypeError(`${new.target.name}: voiceId is required (the id of a Cartesia voice, e.g. from play.cartesia.ai)`);
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
    super({ name: options.name, sampleRate, model });
    this.model = model;
    this.voiceId = voiceId;
    this.language = options.language ?? 'en';
    this.encoding = encoding;
    this.addTimestamps = options.addTimestamps ?? true;
    this.cartesiaVersion = options.cartesiaVersion ?? CARTESIA_DEFAULT_VERSION;
    this.url = socketUrl(options.baseUrl ?? DEFAULT_BASE_URL);
    this.apiKey = apiKey;
    this.timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;

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

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' || frame.type === 'llm-response-start' || frame.type === 'user-stopped-speaking') {
        // Open (or reopen) the socket before the first sentence needs it, off the latency path.
        this.warmUp();
      } else if (frame.type === 'interruption' || frame.type === 'cancel') {
        this.cancelCurrent();
      }
    }
    return super.processFrame(frame, direction);
  }

  /** Watches the base class's frames for the end of an utterance: its context is finished then. */
  protected override pushFrame(frame: Frame, direction: FrameDirection = 'downstream'): void | Promise<void> {
    if (frame.type === 'tts-stopped' && direction === 'downstream' && frame.contextId !== undefined) {
      this.onUtteranceEnd(frame.contextId);
    }
    return super.pushFrame(frame, direction);
  }

  /** The base class closed utterance `utterance`: no more input goes into its Cartesia context. */
  protected onUtteranceEnd(utterance: string): void {
    const context = this.current;
    if (context === undefined || context.utterance !== utterance) return;
    this.current = undefined;
    if (!context.ended) this.sendQuietly(context.socket, { ...this.requestFields, context_id: context.id, transcript: '', continue: false });
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.closed = true;
    this.current?.sentence?.stop();
    this.current = undefined;
    const socket = this.socket;
    this.socket = undefined;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) socket.close(1000);
    else socket?.terminate();
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    const { contextId: utterance, signal } = options;
    if (signal.aborted || text.trim() === '') return;
    for (let attempt = 1; ; attempt++) {
      const socket = await unlessAborted(this.connect(), signal);
      if (socket === undefined) return;
      const context = this.contextFor(utterance, socket);
      context.flushes += 1;
      const holdLimit = this.addTimestamps ? Math.round((MAX_WORD_WAIT_MS * this.sampleRate) / 1000) : 0;
      const sentence: SentenceStream = new SentenceStream(context.flushes, this.timeoutMs, () => this.onStall(context, sentence), holdLimit);
      context.sentence = sentence;
      const onAbort = (): void => {
        if (this.current === context) this.current = undefined;
        this.cancel(context);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        // Transcripts of a context are concatenated verbatim: the space keeps sentences apart.
        const transcript = /\s$/.test(text) ? text : `${text} `;
        this.send(socket, { ...this.requestFields, context_id: context.id, transcript, continue: true });
        this.send(socket, { ...this.requestFields, context_id: context.id, transcript: '', continue: true, flush: true });
        for (let chunk = await sentence.next(); chunk !== undefined; chunk = await sentence.next()) yield chunk;
        return;
      } catch (error) {
        // A socket that had died unnoticed (closed by the server while idle, the close not yet seen) took the
        // sentence and gave nothing back: said once more on a fresh socket, it costs the caller nothing.
        const stale = error instanceof ServiceError && error.code === 'connection_closed' && !sentence.heard;
        if (attempt === 1 && stale && !signal.aborted) continue;
        throw error;
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (context.sentence === sentence) context.sentence = undefined;
        // Cut short (a failure, or a consumer that stopped early): the rest of the sentence must not leak into the
        // next one, which goes into a fresh context.
        if (!sentence.complete) this.cancel(context);
        sentence.stop();
      }
    }
  }

  /** The context the next sentence of `utterance` goes into: the utterance's own, unless it can take no more. */
  private contextFor(utterance: string, socket: WebSocket): CartesiaContext {
    let context = this.current;
    if (context !== undefined && context.utterance !== utterance) {
      // The previous utterance was not closed through tts-stopped (it failed, say): close it now.
      this.onUtteranceEnd(context.utterance);
      context = undefined;
    }
    if (context === undefined) {
      context = this.openContext(utterance, socket, 0);
    } else if (context.socket !== socket || context.ended || performance.now() - context.lastActivityAt > CONTEXT_REUSE_WINDOW_MS) {
      // Lost with its socket, finished by Cartesia, or expired: the rest of the utterance gets a fresh context,
      // its word offsets carrying on from the audio already said.
      this.cancel(context);
      context = this.openContext(utterance, socket, context.offsetMs + context.audioMs);
    }
    this.current = context;
    return context;
  }

  // ---- contexts -----------------------------------------------------------------------------------------------

  private openContext(utterance: string, socket: WebSocket, offsetMs: number): CartesiaContext {
    return {
      id: randomUUID(),
      utterance,
      socket,
      offsetMs,
      audioMs: 0,
      flushes: 0,
      lastActivityAt: performance.now(),
      ended: false,
      sentence: undefined,
      decoder: new PcmDecoder(this.encoding),
    };
  }

  /** Cartesia stops generating for the context (no acknowledgement exists); anything still arriving is dropped. */
  private cancel(context: CartesiaContext): void {
    context.sentence?.stop();
    if (!context.ended) this.sendQuietly(context.socket, { context_id: context.id, cancel: true });
    context.ended = true;
  }

  /** Barge-in: the utterance in progress is over. */
  private cancelCurrent(): void {
    const context = this.current;
    this.current = undefined;
    if (context !== undefined) this.cancel(context);
  }

  private onStall(context: CartesiaContext, sentence: SentenceStream): void {
    sentence.fail(new ServiceError(VENDOR, `no audio for ${this.timeoutMs} ms`, { code: 'timeout', retryable: true }));
    // A socket that stopped answering mid-sentence is not trusted with the next one.
    if (this.socket === context.socket) this.socket = undefined;
    context.socket.terminate();
  }

  // ---- the socket ---------------------------------------------------------------------------------------------

  private warmUp(): void {
    if (this.closed) return;
    this.connect().catch((error: unknown) => {
      // Reported by the next synthesis, which tries again.
      this.logger.debug({ err: error }, 'Cartesia: could not open the socket ahead of time');
    });
  }

  private connect(): Promise<WebSocket> {
    if (this.closed) return Promise.reject(new ServiceError(VENDOR, 'service is closed', { code: 'closed', retryable: false }));
    if (this.socket !== undefined && this.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.socket);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<WebSocket> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, {
        headers: { 'X-API-Key': this.apiKey, 'Cartesia-Version': this.cartesiaVersion },
        handshakeTimeout: this.timeoutMs,
      });
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
          this.logger.debug({ err: error }, 'Cartesia socket error');
        }
      });
      socket.on('open', () => {
        if (this.closed) {
          socket.close(1000);
          fail(new ServiceError(VENDOR, 'service is closed', { code: 'closed', retryable: false }));
          return;
        }
        settled = true;
        this.socket = socket;
        resolve(socket);
      });
      socket.on('message', (data, isBinary) => this.onMessage(socket, data, isBinary));
      socket.on('close', (code, reason) => this.onClose(socket, code, reason.toString('utf8')));
    });
  }

  private onClose(socket: WebSocket, code: number, reason: string): void {
    if (this.socket === socket) this.socket = undefined;
    const context = this.current;
    if (context?.socket === socket) context.sentence?.fail(connectionClosed(code, reason));
  }

  private send(socket: WebSocket, message: Record<string, unknown>): void {
    if (socket.readyState !== WebSocket.OPEN) {
      throw new ServiceError(VENDOR, 'connection closed before the request could be sent', { code: 'connection_closed', retryable: true });
    }
    socket.send(JSON.stringify(message));
  }

  /** For messages whose loss does not matter (the socket is gone, and the context with it). */
  private sendQuietly(socket: WebSocket, message: Record<string, unknown>): void {
    if (socket.readyState === WebSocket.OPEN) socket.send(JSON.stringify(message));
  }

  // ---- what the server sends ------------------------------------------------------------------------------------

  private onMessage(socket: WebSocket, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      this.logger.warn('Cartesia sent a message that is not JSON; ignored');
      return;
    }
    if (!isRecord(message)) return;
    const context = this.current;
    const contextId = message.context_id;
    if (context === undefined || context.socket !== socket) return;
    if (contextId !== context.id) {
      // An error about no context in particular (a malformed request) concerns the sentence in flight.
      if (message.type === 'error' && contextId === undefined) context.sentence?.fail(streamError(message, this.apiKey));
      return;
    }
    context.lastActivityAt = performance.now();
    const sentence = context.sentence;
    if (sentence !== undefined) {
      sentence.heard = true;
      sentence.touch();
    }
    switch (message.type) {
      case 'chunk': {
        if (typeof message.data !== 'string') return;
        const audio = context.decoder.decode(Buffer.from(message.data, 'base64'));
        context.audioMs += (audio.length * 1000) / this.sampleRate;
        if (audio.length > 0) sentence?.push({ type: 'audio', audio });
        return;
      }
      case 'timestamps':
        if (sentence !== undefined) this.pushWords(context, sentence, message.word_timestamps);
        return;
      case 'flush_done': {
        const flushId = typeof message.flush_id === 'number' ? message.flush_id : Number.POSITIVE_INFINITY;
        if (sentence !== undefined && flushId >= sentence.flushId) sentence.end();
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
