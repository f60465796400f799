// WebSocketTTSService: the machinery shared by the text-to-speech services that stream over one vendor WebSocket
// with contexts (Cartesia, ElevenLabs). The vendor subclass keeps only its protocol: how a sentence is sent, what
// cancels or finishes a context, and what the server's messages mean. This class does the rest:
// - one socket per service instance, opened when the pipeline starts (off the latency path) and reopened lazily
//   when it has dropped; the handshake's HTTP error body becomes a useful ServiceError, the key cut out of it;
// - one vendor context per utterance of the TTSService base (one per LLM response or speak frame), reused by its
//   sentences while the subclass says it can take more, replaced by a fresh one (word offsets carrying on) when
//   it cannot; closed when the base sends the utterance's `tts-stopped`, cancelled on an interruption;
// - the hand-off of each sentence's audio from the socket's message handler to `synthesize` (`SentenceStream`),
//   with a watchdog for a server gone quiet and audio held back until the first word timing arrives;
// - a sentence sent into a socket that had died unnoticed is said once more on a fresh socket; one whose socket
//   dropped in the middle goes on, on a fresh socket, from the last word begun (word timings tell which), or whole
//   without timings; a failure that leaves words unsaid throws UnsaidTextError, so a fallback can say them;
// - wire audio (PCM16, float, μ-law, A-law) decoded to PCM16, a sample split across two messages carried over.
//
// Why the protocol directly with `ws` and not the vendors' SDKs: the wire protocols are a handful of JSON messages,
// and these services need control the SDKs do not give in one place: one socket shared by every utterance, their
// own demultiplexing by context id, a cancel on barge-in without waiting for anything, and the handshake's error.
import WebSocket, { type RawData } from 'ws';
import { alawToPcm, bytesToInt16, float32ToInt16, mulawToPcm } from '../../audio/index.js';
import type { Frame, FrameDirection } from '../../frames/index.js';
import { isRecord, parseJSONText } from './http-stream.js';
import { codeForStatus, ServiceError } from './service-error.js';
import { TTSService, UnsaidTextError, type SynthesizeOptions, type TTSChunk, type TTSServiceOptions } from './tts-service.js';
import { redactSecrets } from './vendor-errors.js';

/** Most audio held back while waiting for a sentence's first word timing. */
const MAX_WORD_WAIT_MS = 300;
/** Times a sentence goes on, on a new socket, after its socket dropped in the middle of it. */
const MAX_RESUMES = 2;

// ---- the sentence in flight ---------------------------------------------------------------------------------

/**
 * The chunks of one sentence, handed from the socket's message handler to the `synthesize` generator. A watchdog
 * calls `onIdle` when the server has been quiet for the current wait (see `watch`).
 */
export class SentenceStream {
  private readonly items: TTSChunk[] = [];
  /**
   * Audio held back until the sentence's first word timing arrives: the base class decides on the first audio
   * chunk whether the vendor gives word timings (else it sends the whole sentence as one tts-text), and a vendor may
   * send a chunk's timings after the chunk, or end a chunk in the middle of the sentence's first word.
   */
  private held: Int16Array[] | undefined;
  private heldSamples = 0;
  private waiter: { resolve: (chunk: TTSChunk | undefined) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private watchdog: NodeJS.Timeout | undefined;
  finished = false;
  /** True once the sentence's audio is known to be complete. */
  complete = false;
  /** True once the server sent anything about this sentence. */
  heard = false;

  constructor(
    /** Samples of audio to hold back at most while waiting for the first word timing; 0 holds nothing. */
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

// ---- which words of a sentence were heard --------------------------------------------------------------------

/** A word as matched against the vendor's word timings: lower case, letters and digits only. */
function wordKey(word: string): string {
  return word.toLowerCase().replace(/[^\p{L}\p{N}]/gu, '');
}

/**
 * The words of one sentence and the vendor's timing of each, matched in order, so that a sentence cut short can
 * go on from the first word not heard in full. Timings that do not follow the text (a vendor that spells numbers
 * out, say) make the match give up: then no word counts as said.
 */
export class WordProgress {
  private readonly tokens: readonly string[];
  private readonly keys: readonly string[];
  private readonly starts: (number | undefined)[] = [];
  private next = 0;
  private lost = false;

  constructor(text: string) {
    this.tokens = text.split(/\s+/).filter((t) => t !== '');
    this.keys = this.tokens.map(wordKey);
  }

  get words(): number {
    return this.tokens.length;
  }

  /** Words whose timing arrived (and the marks between them); 0 once the timings stopped following the text. */
  get matched(): number {
    return this.lost ? 0 : this.next;
  }

  /**
   * Records a word timing; returns the index of the word it is (the next of the sentence), or -1 when it is not
   * one: a timing from the end of the previous sentence arriving late, or one that does not follow the text.
   */
  note(word: string, offsetMs: number): number {
    const key = wordKey(word);
    if (this.lost || key === '') return -1;
    let i = this.next;
    // A dash or other mark with no letters is not a word every vendor times.
    while (i < this.keys.length && this.keys[i] === '') i++;
    if (i < this.keys.length && this.keys[i] === key) {
      this.starts[i] = offsetMs;
      this.next = i + 1;
      return i;
    }
    if (this.next > 0) this.lost = true;
    return -1;
  }

  /** Words heard in full once the audio up to `receivedMs` arrived: those before the last word begun by then. */
  wordsSaidBy(receivedMs: number): number {
    if (this.lost) return 0;
    let said = 0;
    for (let i = 0; i < this.next; i++) {
      const start = this.starts[i];
      if (start !== undefined && start < receivedMs) said = i;
    }
    return said;
  }

  /** The sentence from its word `index` on. */
  textFrom(index: number): string {
    return this.tokens.slice(index).join(' ');
  }
}

// ---- wire audio to PCM16 ------------------------------------------------------------------------------------

/** Raw little-endian PCM16, raw little-endian float32, G.711 μ-law or G.711 A-law. */
export type WireEncoding = 's16le' | 'f32le' | 'mulaw' | 'alaw';

/** Decodes one context's audio to PCM16; a sample split across two messages is carried over. */
export class WireAudioDecoder {
  private carry = new Uint8Array(0);

  constructor(private readonly encoding: WireEncoding) {}

  decode(bytes: Uint8Array): Int16Array {
    if (this.encoding === 'mulaw') return mulawToPcm(bytes);
    if (this.encoding === 'alaw') return alawToPcm(bytes);
    const width = this.encoding === 'f32le' ? 4 : 2;
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

// ---- helpers ------------------------------------------------------------------------------------------------

/** The first of the named fields that holds a non-empty string. */
export function stringField(record: Record<string, unknown>, ...names: string[]): string | undefined {
  for (const name of names) {
    const value = record[name];
    if (typeof value === 'string' && value !== '') return value;
  }
  return undefined;
}

/** Resolves with the promise's value, or undefined as soon as `signal` aborts. */
export function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal): Promise<T | undefined> {
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

// ---- sockets and contexts -----------------------------------------------------------------------------------

/** One open socket and what it last said went wrong. */
export interface TTSConnection {
  readonly socket: WebSocket;
  /** The last in-band error the subclass saw, kept to explain the close that follows it. */
  lastError: ServiceError | undefined;
  lastSentAt: number;
  keepAlive: NodeJS.Timeout | undefined;
}

/** One vendor context: all or part of one utterance of the TTSService base. */
export interface TTSSocketContext {
  /** The context id on the wire. */
  readonly id: string;
  /** The base class's utterance id. */
  readonly utterance: string;
  readonly connection: TTSConnection;
  /** Audio of the utterance said in earlier contexts (after an expiry or a reconnect), for word offsets. */
  readonly offsetMs: number;
  /** Audio received in this context. */
  audioMs: number;
  /** Closed by us or by the server: it takes no more input. */
  ended: boolean;
  sentence: SentenceStream | undefined;
  readonly decoder: WireAudioDecoder;
}

/** What an HTTP error body of the handshake says, as far as the vendor's shape tells. */
export interface HandshakeErrorDetails {
  message: string | undefined;
  code: string | undefined;
}

export interface WebSocketTTSServiceOptions extends TTSServiceOptions {
  /** Names the vendor in errors and logs. */
  vendor: string;
  url: string;
  /** The handshake's headers (the API key among them). */
  headers: Readonly<Record<string, string>>;
  /** Cut out of every error message. */
  apiKey: string;
  /** Longest wait for the handshake, and for the first audio of a sentence. */
  timeoutMs: number;
  /** Hold up to 300 ms of a sentence's audio back until its first word timing arrives. */
  holdAudioForWords: boolean;
  /** The message of the error thrown when the socket closed before a message could be sent. */
  closedBeforeSend: string;
  /** How often `keepAlive` runs while a socket is open; never when undefined. */
  keepAliveIntervalMs?: number;
  /** Sent just before the socket is closed on cleanup. */
  farewell?: Readonly<Record<string, unknown>>;
}

export abstract class WebSocketTTSService<C extends TTSSocketContext> extends TTSService {
  readonly url: string;
  protected readonly vendor: string;
  protected readonly apiKey: string;
  protected readonly timeoutMs: number;
  private readonly headers: Readonly<Record<string, string>>;
  private readonly holdLimit: number;
  private readonly closedBeforeSend: string;
  private readonly keepAliveIntervalMs: number | undefined;
  private readonly farewell: Readonly<Record<string, unknown>> | undefined;
  private connection: TTSConnection | undefined;
  private connecting: Promise<TTSConnection> | undefined;
  /** The context of the utterance being said, if any. */
  protected current: C | undefined;
  private closed = false;

  constructor(options: WebSocketTTSServiceOptions) {
    super({ name: options.name, sampleRate: options.sampleRate, model: options.model });
    this.url = options.url;
    this.vendor = options.vendor;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.headers = options.headers;
    this.holdLimit = options.holdAudioForWords ? Math.round((MAX_WORD_WAIT_MS * this.sampleRate) / 1000) : 0;
    this.closedBeforeSend = options.closedBeforeSend;
    this.keepAliveIntervalMs = options.keepAliveIntervalMs;
    this.farewell = options.farewell;
  }

  // ---- the vendor's protocol --------------------------------------------------------------------------------

  /** A new context for `utterance` on `connection`, its word offsets starting at `offsetMs`. */
  protected abstract newContext(utterance: string, connection: TTSConnection, offsetMs: number): C;

  /** Sends one sentence into `context` (its `sentence` is already set); throws when the socket is closed. */
  protected abstract sendSentence(context: C, text: string): void;

  /** The message that makes the vendor drop a context, or undefined when there is nothing to tell it. */
  protected abstract cancelMessage(context: C): Record<string, unknown> | undefined;

  /** A message from the server (parsed JSON object) on `connection`. */
  protected abstract onServerMessage(connection: TTSConnection, message: Record<string, unknown>): void;

  /** The message and code of a handshake's HTTP error body given as JSON. */
  protected abstract describeHandshakeError(body: Record<string, unknown>): HandshakeErrorDetails;

  /** The utterance of `context` is over: no more input goes into it. Default: it is cancelled. */
  protected finishContext(context: C): void {
    this.cancelContext(context);
  }

  /** Whether the next sentence of its utterance may still go into `context` (an open one on the same socket). */
  protected canContinue(_context: C): boolean {
    return true;
  }

  /**
   * The sentence's watchdog fired. Default: the server stopped answering mid-sentence, which fails the sentence, and
   * the socket is not trusted with the next one.
   */
  protected onSentenceIdle(context: C, sentence: SentenceStream): void {
    sentence.fail(new ServiceError(this.vendor, `no audio for ${this.timeoutMs} ms`, { code: 'timeout' }));
    if (this.connection === context.connection) this.connection = undefined;
    context.connection.socket.terminate();
  }

  /** Whether `error` says the socket had died before the sentence was sent (then it is said again, once). */
  protected isStaleSocketError(error: ServiceError): boolean {
    return error.code === 'connection-lost';
  }

  /** Runs every `keepAliveIntervalMs` while `connection` is open. */
  protected keepAlive(_connection: TTSConnection, _intervalMs: number): void {}

  // ---- the base class's frames ------------------------------------------------------------------------------

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' || frame.type === 'llm-response-start' || frame.type === 'user-stopped-speaking') {
        // Open (or reopen, after an idle close) the socket before the first sentence needs it, off the latency path.
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

  /** The base class closed utterance `utterance`: no more input goes into its context. */
  protected onUtteranceEnd(utterance: string): void {
    const context = this.current;
    if (context === undefined || context.utterance !== utterance) return;
    this.current = undefined;
    this.finishContext(context);
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
      if (this.farewell !== undefined) connection.socket.send(JSON.stringify(this.farewell));
      connection.socket.close(1000);
    } else {
      connection.socket.terminate();
    }
  }

  async *synthesize(text: string, options: SynthesizeOptions): AsyncGenerator<TTSChunk> {
    const { contextId: utterance, signal } = options;
    if (signal.aborted || text.trim() === '') return;
    /** What the attempt sends: the sentence, then what was left unsaid when a socket dropped in the middle of it. */
    let input = text;
    /** Word timings at the start of `input` already given by an attempt that was cut short. */
    let wordsGiven = 0;
    let resumes = 0;
    for (let attempt = 1; ; attempt++) {
      let connection: TTSConnection | undefined;
      try {
        connection = await unlessAborted(this.connect(), signal);
      } catch (error) {
        // No socket for the rest of a sentence already begun: what is left is said by a fallback, if any.
        if (input === text || !(error instanceof ServiceError)) throw error;
        throw new UnsaidTextError(error, { text: input, wordsSaid: 0, wordsGiven });
      }
      if (connection === undefined) return;
      const context = this.contextFor(utterance, connection);
      const sentence: SentenceStream = new SentenceStream(this.holdLimit, () => this.onSentenceIdle(context, sentence));
      const progress = new WordProgress(input);
      context.sentence = sentence;
      const onAbort = (): void => {
        if (this.current === context) this.current = undefined;
        this.cancelContext(context);
      };
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        this.sendSentence(context, input);
        sentence.watch(this.timeoutMs);
        for (let chunk = await sentence.next(); chunk !== undefined; chunk = await sentence.next()) {
          // A word an earlier attempt already gave (the one cut in the middle) is not given twice.
          if (chunk.type === 'word') {
            const index = progress.note(chunk.text, chunk.offsetMs);
            if (index >= 0 && index < wordsGiven) continue;
          }
          yield chunk;
        }
        // Said in full: an earlier error on this socket explains nothing that comes later.
        connection.lastError = undefined;
        return;
      } catch (error) {
        if (signal.aborted || !(error instanceof ServiceError)) throw error;
        if (!sentence.heard) {
          // A socket that had died unnoticed (closed by the server while idle, the close not yet seen) took the
          // sentence and gave nothing back: said once more on a fresh socket, it costs the caller nothing.
          if (attempt === 1 && this.isStaleSocketError(error)) continue;
          if (input === text) throw error;
          throw new UnsaidTextError(error, { text: input, wordsSaid: 0, wordsGiven });
        }
        // Part of it was said. What comes next starts at the last word whose audio had begun to arrive (a word cut
        // in the middle is said whole; words before it were heard in full); with no usable word timings, the
        // whole sentence is said again. Why the whole sentence and not a guess from the audio's length: skipping
        // a word the caller never heard can change the meaning (a number, a "not"), while hearing the beginning
        // of a sentence twice is heard as the speaker starting over.
        const wordsSaid = progress.wordsSaidBy(context.offsetMs + context.audioMs);
        const rest = progress.textFrom(wordsSaid);
        const given = Math.max(wordsGiven, progress.matched) - wordsSaid;
        if (rest === '') return;
        if (this.isDroppedConnection(error) && resumes < MAX_RESUMES) {
          resumes++;
          this.logger.warn(
            { wordsSaid, words: progress.words, resumes },
            `${this.vendor}: socket dropped mid-sentence; saying the rest of it on a new socket`,
          );
          input = rest;
          wordsGiven = Math.max(0, given);
          continue;
        }
        throw new UnsaidTextError(error, { text: rest, wordsSaid, wordsGiven: Math.max(0, given) });
      } finally {
        signal.removeEventListener('abort', onAbort);
        if (context.sentence === sentence) context.sentence = undefined;
        // Cut short (a failure, or a consumer that stopped early): the rest of the sentence must not leak into the
        // next one, which goes into a fresh context.
        if (!sentence.complete) this.cancelContext(context);
        sentence.stop();
      }
    }
  }

  /** Whether `error` says the socket went away in the middle of a sentence (then the rest is said on a new one). */
  protected isDroppedConnection(error: ServiceError): boolean {
    return error.code === 'connection-lost';
  }

  // ---- contexts ---------------------------------------------------------------------------------------------

  /** The context the next sentence of `utterance` goes into: the utterance's own, unless it can take no more. */
  private contextFor(utterance: string, connection: TTSConnection): C {
    let context = this.current;
    if (context !== undefined && context.utterance !== utterance) {
      // The previous utterance was not closed through tts-stopped (it failed, say): close it now.
      this.onUtteranceEnd(context.utterance);
      context = undefined;
    }
    if (context === undefined) {
      context = this.newContext(utterance, connection, 0);
    } else if (context.connection !== connection || context.ended || !this.canContinue(context)) {
      // Lost with its socket, ended, or expired: the rest of the utterance gets a fresh context, its word offsets
      // carrying on from the audio already said.
      this.cancelContext(context);
      context = this.newContext(utterance, connection, context.offsetMs + context.audioMs);
    }
    this.current = context;
    return context;
  }

  /** The vendor stops generating for the context; anything still arriving for it is dropped. */
  protected cancelContext(context: C): void {
    context.sentence?.stop();
    if (!context.ended) {
      const message = this.cancelMessage(context);
      if (message !== undefined) this.sendQuietly(context.connection, message);
    }
    context.ended = true;
  }

  /** Barge-in: the utterance in progress is over. */
  private cancelCurrent(): void {
    const context = this.current;
    this.current = undefined;
    if (context !== undefined) this.cancelContext(context);
  }

  /** `base64` audio of `context` decoded to PCM16 and counted in the context's audio. */
  protected decodeAudio(context: C, base64: string): Int16Array {
    const audio = context.decoder.decode(Buffer.from(base64, 'base64'));
    context.audioMs += (audio.length * 1000) / this.sampleRate;
    return audio;
  }

  // ---- the socket -------------------------------------------------------------------------------------------

  private warmUp(): void {
    if (this.closed) return;
    this.connect().catch((error: unknown) => {
      // Reported by the next synthesis, which tries again.
      this.logger.debug({ err: error }, `${this.vendor}: could not open the socket ahead of time`);
    });
  }

  private connect(): Promise<TTSConnection> {
    if (this.closed) return Promise.reject(this.closedError());
    if (this.connection !== undefined && this.connection.socket.readyState === WebSocket.OPEN) return Promise.resolve(this.connection);
    this.connecting ??= this.open().finally(() => {
      this.connecting = undefined;
    });
    return this.connecting;
  }

  private open(): Promise<TTSConnection> {
    return new Promise((resolve, reject) => {
      const socket = new WebSocket(this.url, { headers: { ...this.headers }, handshakeTimeout: this.timeoutMs });
      const connection: TTSConnection = { socket, lastError: undefined, lastSentAt: performance.now(), keepAlive: undefined };
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
          fail(this.handshakeError(response.statusCode ?? 0, body, typeof retryAfter === 'string' ? retryAfter : retryAfter?.[0]));
          socket.terminate();
        });
      });
      socket.on('error', (error) => {
        if (!settled) {
          fail(new ServiceError(this.vendor, `connection failed: ${redactSecrets(error.message, [this.apiKey])}`, { code: 'connection-failed' }));
        } else {
          this.logger.debug({ err: error }, `${this.vendor} socket error`);
        }
      });
      socket.on('open', () => {
        if (this.closed) {
          socket.close(1000);
          fail(this.closedError());
          return;
        }
        settled = true;
        const every = this.keepAliveIntervalMs;
        if (every !== undefined) {
          connection.keepAlive = setInterval(() => this.keepAlive(connection, every), every);
          connection.keepAlive.unref();
        }
        this.connection = connection;
        resolve(connection);
      });
      socket.on('message', (data, isBinary) => this.onMessage(connection, data, isBinary));
      socket.on('close', (code, reason) => this.onClose(connection, code, reason.toString('utf8')));
    });
  }

  private closedError(): ServiceError {
    return new ServiceError(this.vendor, 'service is closed', { code: 'closed' });
  }

  /** A handshake answered with an HTTP error: JSON in the vendor's shape, or plain text. */
  private handshakeError(status: number, body: string, retryAfter: string | undefined): ServiceError {
    let message = body.trim();
    let vendorCode: string | undefined;
    const parsed = parseJSONText(body);
    if (isRecord(parsed)) {
      const details = this.describeHandshakeError(parsed);
      message = details.message ?? message;
      vendorCode = details.code;
    }
    const secs = Number.parseFloat(retryAfter ?? '');
    return new ServiceError(this.vendor, redactSecrets(`${status} ${message === '' ? 'handshake rejected' : message}`, [this.apiKey]), {
      status,
      code: codeForStatus(status),
      vendorCode,
      retryAfterSecs: Number.isFinite(secs) && secs >= 0 ? secs : undefined,
    });
  }

  private onClose(connection: TTSConnection, code: number, reason: string): void {
    clearInterval(connection.keepAlive);
    if (this.connection === connection) this.connection = undefined;
    const context = this.current;
    if (context?.connection !== connection) return;
    context.ended = true;
    const sentence = context.sentence;
    if (sentence === undefined) return;
    // The in-band error that preceded the close (a bad key, an idle timeout) explains it best.
    const why = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
    sentence.fail(connection.lastError ?? new ServiceError(this.vendor, `connection closed (${why})`, { code: 'connection-lost' }));
  }

  protected send(connection: TTSConnection, message: Record<string, unknown>): void {
    if (connection.socket.readyState !== WebSocket.OPEN) {
      // Closed right after it opened: the server may have said why (a bad key, say) just before.
      throw connection.lastError ?? new ServiceError(this.vendor, this.closedBeforeSend, { code: 'connection-lost' });
    }
    connection.socket.send(JSON.stringify(message));
    connection.lastSentAt = performance.now();
  }

  /** For messages whose loss does not matter (the socket is gone, and the context with it). */
  protected sendQuietly(connection: TTSConnection, message: Record<string, unknown>): void {
    if (connection.socket.readyState === WebSocket.OPEN) this.send(connection, message);
  }

  private onMessage(connection: TTSConnection, data: RawData, isBinary: boolean): void {
    if (isBinary) return;
    let message: unknown;
    try {
      message = JSON.parse(rawText(data));
    } catch {
      this.logger.warn(`${this.vendor} sent a message that is not JSON; ignored`);
      return;
    }
    if (!isRecord(message)) return;
    this.onServerMessage(connection, message);
  }
}
