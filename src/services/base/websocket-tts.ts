// WebSocketTTSService: the machinery shared by the text-to-speech services that stream over one vendor WebSocket
// with contexts (Cartesia, ElevenLabs). The vendor subclass keeps only its protocol: how a sentence is sent, what
// cancels or finishes a context, and what the server's messages mean. The rest is here and beside it:
// - the socket (websocket-tts-connection.ts, on VendorSocket): one per service instance, opened when the pipeline
//   starts (off the latency path) and reopened lazily when it has dropped; a refused handshake is a ServiceError
//   with the vendor's message and code, the key cut out of it;
// - the contexts (websocket-tts-contexts.ts): one vendor context per utterance of the TTSService base, reused by
//   its sentences while the subclass says it can take more; finished when the base stops the utterance (the
//   `onUtteranceStopped` hook), cancelled on an interruption;
// - the hand-off of each sentence's audio from the socket's message handler to `synthesize` (SentenceStream,
//   tts-sentence-stream.ts), with a watchdog for a server gone quiet and audio held back until the first word
//   timing arrives;
// - here: a sentence sent into a socket that had died unnoticed is said once more on a fresh socket; one whose
//   socket dropped in the middle goes on, on a fresh socket, from the last word begun (WordProgress,
//   word-progress.ts), or whole without timings; a failure that leaves words unsaid throws UnsaidTextError, so a
//   fallback can say them;
// - wire audio (PCM16, float, μ-law, A-law) decoded to PCM16 (wire-audio.ts).
//
// Why the protocol directly with `ws` and not the vendors' SDKs: the wire protocols are a handful of JSON messages,
// and these services need control the SDKs do not give in one place: one socket shared by every utterance, their
// own demultiplexing by context id, a cancel on barge-in without waiting for anything, and the handshake's error.
import type { Frame, FrameDirection } from '../../frames/index.js';
import { ServiceError } from './service-error.js';
import { SentenceStream } from './tts-sentence-stream.js';
import { TTSService, UnsaidTextError, type SynthesizeOptions, type TTSChunk, type TTSServiceOptions } from './tts-service.js';
import { TTSConnector, type HandshakeErrorDetails, type TTSConnection } from './websocket-tts-connection.js';
import { UtteranceContexts, type TTSSocketContext } from './websocket-tts-contexts.js';
import { WordProgress } from './word-progress.js';

export { stringField } from './json.js';
export { SentenceStream } from './tts-sentence-stream.js';
export type { HandshakeErrorDetails, TTSConnection } from './websocket-tts-connection.js';
export {
  beginSentenceRequest,
  newSentenceRequestContext,
  newSocketContext,
  sentenceRequestId,
  sentenceWordOffsetMs,
  type SentenceRequestContext,
  type SentenceTimedContext,
  type TTSSocketContext,
} from './websocket-tts-contexts.js';
export { WireAudioDecoder, type WireEncoding } from './wire-audio.js';
export { WordProgress } from './word-progress.js';

/** Most audio held back while waiting for a sentence's first word timing. */
const MAX_WORD_WAIT_MS = 300;
/** Times a sentence goes on, on a new socket, after its socket dropped in the middle of it. */
const MAX_RESUMES = 2;

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

export interface WebSocketTTSServiceOptions extends TTSServiceOptions {
  /** Names the vendor in errors and logs. */
  vendor: string;
  /** The socket's URL; a function when it depends on the call's sample rate (read when a socket opens). */
  url: string | (() => string);
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
  /** After this long without sending, `keepAliveMessage` is asked for a message; never when undefined. */
  keepAliveIntervalMs?: number;
  /** Sent just before the socket is closed on cleanup. */
  farewell?: Readonly<Record<string, unknown>>;
  /** Sent first on every new socket (the key and settings, for a vendor that takes them in a message); bytes go as a binary frame. */
  greeting?: () => Readonly<Record<string, unknown>> | Uint8Array;
}

export abstract class WebSocketTTSService<C extends TTSSocketContext> extends TTSService {
  protected readonly vendor: string;
  private readonly socketUrl: string | (() => string);
  protected readonly apiKey: string;
  protected readonly timeoutMs: number;
  private readonly holdsAudioForWords: boolean;
  private readonly closedBeforeSend: string;
  private readonly connector: TTSConnector;
  private readonly contexts: UtteranceContexts<C>;

  constructor(options: WebSocketTTSServiceOptions) {
    super(options);
    this.socketUrl = options.url;
    this.vendor = options.vendor;
    this.apiKey = options.apiKey;
    this.timeoutMs = options.timeoutMs;
    this.holdsAudioForWords = options.holdAudioForWords;
    this.closedBeforeSend = options.closedBeforeSend;
    this.connector = new TTSConnector({
      vendor: options.vendor,
      url: () => this.url,
      headers: options.headers,
      apiKey: options.apiKey,
      handshakeTimeoutMs: options.timeoutMs,
      farewell: options.farewell,
      keepAliveIntervalMs: options.keepAliveIntervalMs,
      keepAliveMessage: (connection) => this.keepAliveMessage(connection),
      describeHandshakeError: (body) => this.describeHandshakeError(body),
      greeting: options.greeting,
      onMessage: (connection, message) => this.onServerMessage(connection, message),
      onBinary: (connection, data) => this.onServerBinary(connection, data),
      onClose: (connection, code, reason) => this.onClose(connection, code, reason),
      clock: () => this.clock,
      logger: () => this.logger,
    });
    this.contexts = new UtteranceContexts<C>({
      newContext: (utterance, connection, offsetMs) => this.newContext(utterance, connection, offsetMs),
      canContinue: (context) => this.canContinue(context),
      sendCancel: (context) => {
        const message = this.cancelMessage(context);
        if (message !== undefined) this.sendQuietly(context.connection, message);
      },
      finish: (context) => this.finishContext(context),
    });
  }

  /** The vendor socket's URL for the current sample rate. */
  get url(): string {
    return typeof this.socketUrl === 'string' ? this.socketUrl : this.socketUrl();
  }

  /** Samples of a sentence held back until its first word timing arrives (300 ms at the current rate). */
  private holdLimit(): number {
    return this.holdsAudioForWords ? Math.round((MAX_WORD_WAIT_MS * this.sampleRate) / 1000) : 0;
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

  /** A binary frame from the server on `connection` (audio, for some vendors). Default: ignored. */
  protected onServerBinary(_connection: TTSConnection, _data: Buffer): void {}

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
    this.connector.discard(context.connection);
  }

  /** Whether `error` says the socket had died before the sentence was sent (then it is said again, once). */
  protected isStaleSocketError(error: ServiceError): boolean {
    return error.code === 'connection-lost';
  }

  /** Whether `error` says the socket went away in the middle of a sentence (then the rest is said on a new one). */
  protected isDroppedConnection(error: ServiceError): boolean {
    return error.code === 'connection-lost';
  }

  /**
   * Asked after `keepAliveIntervalMs` without sending on `connection`: the message that keeps it (or the context in
   * progress) alive, or undefined when there is nothing to keep alive. Default: nothing.
   */
  protected keepAliveMessage(_connection: TTSConnection): Record<string, unknown> | undefined {
    return undefined;
  }

  /** The context of the utterance being said, if any. */
  protected get current(): C | undefined {
    return this.contexts.current;
  }

  /** The vendor stops generating for the context; anything still arriving for it is dropped. */
  protected cancelContext(context: C): void {
    this.contexts.cancel(context);
  }

  /** Audio of `context` (base64 text, or the bytes of a binary frame) decoded to PCM16 and counted in the context's audio. */
  protected decodeAudio(context: C, data: string | Buffer): Int16Array {
    const audio = context.decoder.decode(typeof data === 'string' ? Buffer.from(data, 'base64') : data);
    context.audioMs += (audio.length * 1000) / this.sampleRate;
    return audio;
  }

  protected send(connection: TTSConnection, message: Record<string, unknown>): void {
    if (!connection.socket.sendJSON(message)) {
      // Closed right after it opened: the server may have said why (a bad key, say) just before.
      throw connection.lastError ?? new ServiceError(this.vendor, this.closedBeforeSend, { code: 'connection-lost' });
    }
  }

  /** Sends `data` as a binary frame (a vendor whose messages are not JSON); throws when the socket is closed. */
  protected sendBinary(connection: TTSConnection, data: Uint8Array): void {
    if (!connection.socket.send(data, true)) {
      throw connection.lastError ?? new ServiceError(this.vendor, this.closedBeforeSend, { code: 'connection-lost' });
    }
  }

  /**
   * For a vendor with one session per socket: `connection` takes no more sentences once the one sent is said (it
   * closes by itself). The next sentence gets a new socket, opened now, off the latency path.
   */
  protected retire(connection: TTSConnection): void {
    this.connector.retire(connection);
    this.warmUp();
  }

  /** `connection` is destroyed at once (a vendor whose only way to stop a synthesis is to end its socket). */
  protected discard(connection: TTSConnection): void {
    this.connector.discard(connection);
  }

  /** For messages whose loss does not matter (the socket is gone, and the context with it). */
  protected sendQuietly(connection: TTSConnection, message: Record<string, unknown>): void {
    connection.socket.sendJSON(message);
  }

  // ---- the base class's frames ------------------------------------------------------------------------------

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' || frame.type === 'llm-response-start' || frame.type === 'user-stopped-speaking') {
        // Open (or reopen, after an idle close) the socket before the first sentence needs it, off the latency path.
        this.warmUp();
      } else if (frame.type === 'interruption' || frame.type === 'cancel') {
        this.contexts.cancelCurrent();
      }
    }
    return super.processFrame(frame, direction);
  }

  /** The base class stopped the utterance: its context is finished. */
  protected override onUtteranceStopped(utterance: string): void {
    this.contexts.endUtterance(utterance);
  }

  override async cleanup(): Promise<void> {
    await super.cleanup();
    this.contexts.clear();
    this.connector.close();
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
        connection = await unlessAborted(this.connector.connect(), signal);
      } catch (error) {
        // No socket for the rest of a sentence already begun: what is left is said by a fallback, if any.
        if (input === text || !(error instanceof ServiceError)) throw error;
        throw new UnsaidTextError(error, { text: input, wordsSaid: 0, wordsGiven });
      }
      if (connection === undefined) return;
      const context = this.contexts.contextFor(utterance, connection);
      const sentence: SentenceStream = new SentenceStream(this.holdLimit(), () => this.onSentenceIdle(context, sentence), this.clock);
      const progress = new WordProgress(input);
      context.sentence = sentence;
      const onAbort = (): void => this.contexts.drop(context);
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
        if (!sentence.complete) this.contexts.cancel(context);
        sentence.stop();
      }
    }
  }

  // ---- the socket -------------------------------------------------------------------------------------------

  private warmUp(): void {
    if (this.connector.closed) return;
    this.connector.connect().catch((error: unknown) => {
      // Reported by the next synthesis, which tries again.
      this.logger.debug({ err: error }, `${this.vendor}: could not open the socket ahead of time`);
    });
  }

  private onClose(connection: TTSConnection, code: number, reason: string): void {
    const context = this.contexts.current;
    if (context?.connection !== connection) return;
    context.ended = true;
    const sentence = context.sentence;
    if (sentence === undefined) return;
    // The in-band error that preceded the close (a bad key, an idle timeout) explains it best.
    const why = reason === '' ? `code ${code}` : `code ${code}: ${reason}`;
    sentence.fail(connection.lastError ?? new ServiceError(this.vendor, `connection closed (${why})`, { code: 'connection-lost' }));
  }
}
