// StreamingSTTService: the base of streaming recognisers that hold one WebSocket per call (Deepgram, AssemblyAI, ...).
// What every such vendor needs is here, written once; a vendor class says only its protocol: the handshake
// (`connection()`), how to read a message (`onVendorMessage`), how to ask for the turn's final now
// (`requestFinalize`), what its close codes mean (`closeError`), and how audio is framed (`encodeAudio`,
// `audioSendLimits`).
//
// What the base promises:
// - the StartFrame opens the socket (the pipeline's input rate is known then); audio that comes before it is open
//   is kept and sent as soon as it is; a keepalive (the vendor's message) goes out after `keepAliveIntervalMs`
//   without sending anything;
// - a dropped socket, or a refused handshake that may pass (429, 5xx, no answer), is retried on the reconnect
//   back-off (never sooner than a Retry-After), and the audio no final result covers yet (the last
//   `reconnectBufferMs`) is sent again on the new socket, the outage's audio included, so the utterance in progress
//   is still transcribed; after `attemptsBeforeError` failed attempts one non-fatal error reports the outage and
//   attempts go on slowly. A failure that cannot pass (a refused key, a bad parameter) is one error, no retry loop;
// - the vendor's times restart at 0 on each socket: `toCallTime` shifts them onto the call's audio clock;
// - at a VAD stop the vendor is asked to finalise unless final results already reach the stop, and
//   `transcription-complete` is pushed when final results reach it or the vendor answers; the TTFB metric is the
//   time from that request to the first final transcript; `stt-usage` counts the audio seconds sent;
// - an EndFrame sends the vendor's close message and waits (bounded) for the last results; a CancelFrame leaves.
// Every timer runs on the processor's clock, so a VirtualClock drives the whole lifecycle in tests.
import type { RawData } from 'ws';
import { int16ToBytes } from '../../audio/index.js';
import type { Frame, FrameDirection, TranscriptionWord, UserStoppedSpeakingFrame } from '../../frames/index.js';
import type { HttpFailure } from './http-stream.js';
import { ServiceError } from './service-error.js';
import { RetainedAudio, type AudioSendLimits } from './streaming-stt-audio.js';
import { STTService, type STTServiceOptions } from './stt-service.js';
import { redactSecrets } from './vendor-errors.js';
import { messageText, Reconnector, VendorSocket, type VendorSocketKeepAlive } from './vendor-socket.js';

export type { AudioSendLimits } from './streaming-stt-audio.js';

export interface StreamingSTTReconnectOptions {
  /** Wait before the first attempt after a drop; doubles after each failure. Default 100 ms. */
  initialDelayMs?: number;
  /** Longest wait between the fast attempts. Default 2000 ms. */
  maxDelayMs?: number;
  /** Failed attempts after which an error is reported and attempts slow down. Default 5. */
  attemptsBeforeError?: number;
  /** Wait between attempts after that. Default 5000 ms. */
  slowDelayMs?: number;
}

export interface StreamingSTTServiceOptions extends STTServiceOptions {
  /** Most audio kept for replay after a drop. Default 5000 ms. */
  reconnectBufferMs?: number;
  reconnect?: StreamingSTTReconnectOptions;
  /** Longest wait for the handshake. Default 10 000 ms. */
  connectTimeoutMs?: number;
  /** Longest wait for the last results after the close message at the end of the call. Default 3000 ms. */
  closeTimeoutMs?: number;
}

/** One socket's handshake and lifecycle messages, as the vendor wants them. */
export interface StreamingSTTConnection {
  readonly url: string;
  readonly headers?: Readonly<Record<string, string>>;
  readonly protocols?: string | readonly string[];
  readonly keepAlive?: VendorSocketKeepAlive;
  /**
   * Sent at the end of the call (the vendor's "no more audio"; a function when it counts what was sent); the vendor
   * then sends its last results and closes (or says so: `endOfStreamReached`).
   */
  readonly closeMessage?: string | Uint8Array | (() => string | Uint8Array);
  /** The vendor's reading of a refused handshake (default: the status and body, redacted). */
  readonly refusal?: (failure: HttpFailure) => ServiceError;
}

type ConnectionState = 'idle' | 'connecting' | 'open' | 'waiting' | 'closing' | 'closed' | 'failed';

const NO_LIMITS: AudioSendLimits = { minChunkSamples: 0, maxChunkSamples: Number.POSITIVE_INFINITY };

export abstract class StreamingSTTService extends STTService {
  /** Names the vendor in errors and logs. */
  protected abstract readonly vendor: string;
  /** Cut out of every error and log line (the API key). */
  protected abstract readonly secrets: readonly string[];
  private readonly reconnectBufferMs: number;
  private readonly slowDelayMs: number;
  private readonly reconnector: Reconnector;
  private readonly connectTimeoutMs: number;
  private readonly closeTimeoutMs: number;

  private state: ConnectionState = 'idle';
  private socket: VendorSocket | undefined;
  private readonly retained = new RetainedAudio(() => (this.reconnectBufferMs * this.sampleRate) / 1000);
  /** Samples received from the pipeline since the start: the call's audio clock. */
  private receivedSamples = 0;
  /** Where the current socket's audio starts on the call's clock. */
  private socketStartSample = 0;
  private opened = false;
  /** The socket takes audio (at once, or after the vendor's session-start answer: `waitsForSessionStart`). */
  private sessionReady = false;
  private framesSent = 0;
  /** Counts connects, so that a slow asynchronous handshake (`connection()`) knows it was superseded. */
  private connectAttempts = 0;
  private finalizePending = false;
  private finalizeRequestedAt: number | undefined;
  private unreportedSamples = 0;
  /** How far final results reach on the call's clock: the audio before it is transcribed. */
  private finalizedSample = 0;
  /** VAD stops whose audio final results do not cover yet, oldest first. */
  private unfinishedStops: { id: number; sample: number }[] = [];

  constructor(options: StreamingSTTServiceOptions) {
    super(options);
    this.reconnectBufferMs = Math.max(0, options.reconnectBufferMs ?? 5000);
    const reconnect = {
      initialDelayMs: options.reconnect?.initialDelayMs ?? 100,
      maxDelayMs: options.reconnect?.maxDelayMs ?? 2000,
      attemptsBeforeError: options.reconnect?.attemptsBeforeError ?? 5,
      slowDelayMs: options.reconnect?.slowDelayMs ?? 5000,
    };
    this.slowDelayMs = reconnect.slowDelayMs;
    this.reconnector = new Reconnector(() => this.clock, reconnect);
    this.connectTimeoutMs = options.connectTimeoutMs ?? 10_000;
    this.closeTimeoutMs = options.closeTimeoutMs ?? 3000;
  }

  // ---- what a vendor says -------------------------------------------------------------------------------------

  /**
   * The handshake of the next socket (read at each connect: the rate is known by then). A promise when the vendor
   * hands out the socket's address from an HTTP call first (Gladia's session POST); its rejection is a failed
   * attempt, read like a refused handshake.
   */
  protected abstract connection(): StreamingSTTConnection | Promise<StreamingSTTConnection>;

  /** A JSON object the vendor sent. */
  protected abstract onVendorMessage(message: Readonly<Record<string, unknown>>): void;

  /** Asks the vendor to finalise what it has now (Deepgram's `Finalize`, AssemblyAI's `ForceEndpoint`). */
  protected abstract requestFinalize(): void;

  /** The open socket closed with `code`: what that means. Default: a lost connection, retried. */
  protected closeError(code: number, reason: string): ServiceError {
    return new ServiceError(this.vendor, `stream closed with ${code}${reason === '' ? '' : ` (${redactSecrets(reason, this.secrets)})`}`, {
      code: 'connection-lost',
      vendorCode: String(code),
    });
  }

  /** Caller audio as the vendor wants it on the wire. Default: PCM16 little-endian (a copy: it may be replayed). */
  protected encodeAudio(audio: Int16Array): Buffer {
    return Buffer.from(int16ToBytes(audio));
  }

  /**
   * One frame of encoded audio as it goes on the wire, at the moment it is sent on the current socket (replays
   * included). Default: the bytes as a binary frame; a vendor that takes audio in JSON (base64) returns the text,
   * one that wraps it (AWS's event-stream messages) returns the wrapped bytes.
   */
  protected audioMessage(bytes: Buffer): string | Buffer {
    return bytes;
  }

  /** A binary message the vendor sent (AWS's event-stream messages). Default: ignored. */
  protected onVendorBinary(_data: Buffer): void {}

  /** The sizes of audio frames the vendor accepts. Default: any (each pipeline frame is sent as it comes). */
  protected get audioSendLimits(): AudioSendLimits {
    return NO_LIMITS;
  }

  /** A socket opened, before the kept audio is sent on it (a vendor's configuration message goes here). */
  protected onSocketOpen(): void {}

  /** True when audio may go out only after the vendor answers the configuration (`sessionStarted`). */
  protected get waitsForSessionStart(): boolean {
    return false;
  }

  // ---- what a vendor calls ------------------------------------------------------------------------------------

  protected sendJSON(message: Readonly<Record<string, unknown>>): boolean {
    return this.socket?.sendJSON(message) ?? false;
  }

  /** A plain text frame (a vendor whose commands are bare words: Cartesia's `finalize`). */
  protected sendText(text: string): boolean {
    return this.socket?.send(text, false) ?? false;
  }

  /** Audio frames sent on the current socket (a vendor that numbers them: Speechmatics' `last_seq_no`). */
  protected get audioFramesSent(): number {
    return this.framesSent;
  }

  /** The vendor accepted the session's configuration: the kept audio goes out now. */
  protected sessionStarted(): void {
    if (this.state !== 'open' || this.sessionReady) return;
    this.sessionReady = true;
    this.sendRetained();
    if (this.finalizePending) {
      this.finalizePending = false;
      this.requestFinalize();
    }
  }

  /** The vendor said its last results are sent (an end-of-transcript message): the socket is closed now. */
  protected endOfStreamReached(): void {
    if (this.state === 'closing') void this.socket?.close();
  }

  /** A time on the current socket's clock (seconds), on the call's clock. */
  protected toCallTime(socketSecs: number): number {
    return socketSecs + this.socketStartSample / this.sampleRate;
  }

  /**
   * Final results now cover the socket's audio up to `socketSecs`: that audio will not be replayed, and VAD stops
   * it reaches are complete.
   */
  protected finalReached(socketSecs: number): void {
    const sample = this.socketStartSample + Math.floor(socketSecs * this.sampleRate);
    this.retained.release(sample);
    this.finalizedSample = Math.max(this.finalizedSample, sample);
    const reach = this.finalizedSample + this.finalizeSlackSamples;
    while (this.unfinishedStops.length > 0 && this.unfinishedStops[0]!.sample <= reach) {
      this.pushTranscriptionComplete(this.unfinishedStops.shift()!.id);
    }
  }

  /** The vendor answered the finalise request: every stop sent before it is complete. */
  protected finalizeAnswered(): void {
    this.reportFinalizeLatency();
    for (const stop of this.unfinishedStops) this.pushTranscriptionComplete(stop.id);
    this.unfinishedStops = [];
  }

  /** The first final after a finalise request: the TTFB metric (from the request to now). */
  protected reportFinalizeLatency(): void {
    if (this.finalizeRequestedAt === undefined) return;
    this.pushMetrics({ kind: 'ttfb', processor: this.name, valueMs: this.clock.now() - this.finalizeRequestedAt });
    this.finalizeRequestedAt = undefined;
  }

  /** A transcript; word times are already on the call's clock (`toCallTime`). */
  protected emitTranscript(text: string, final: boolean, extra: { language?: string; words?: readonly TranscriptionWord[] } = {}): void {
    if (text.trim() === '') return;
    if (final) this.reportFinalizeLatency();
    this.pushTranscription(text, final, extra);
  }

  // ---- the pipeline -------------------------------------------------------------------------------------------

  protected override async processFrame(frame: Frame, direction: FrameDirection): Promise<void> {
    if (direction === 'downstream') {
      if (frame.type === 'start' && (this.state === 'idle' || this.state === 'closed' || this.state === 'failed')) {
        // A start after the stream was closed (a fallback taking this service back) begins a new stream.
        if (this.state !== 'idle') this.resetStream();
        this.connect();
      } else if (frame.type === 'end') await this.finishStream();
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
    this.retained.push({ bytes: this.encodeAudio(audio), start: this.receivedSamples, samples: audio.length });
    this.receivedSamples += audio.length;
    if (this.state === 'open' && this.sessionReady) this.sendRetained();
  }

  protected override onUserStartedSpeaking(): void {
    this.finalizeRequestedAt = undefined;
    // A finalise held back by a reconnection would now cut the new utterance short.
    this.finalizePending = false;
  }

  /** Final results say how far they reach, and the finalise request makes the vendor finalise the rest at once. */
  override get reportsTranscriptionComplete(): boolean {
    return true;
  }

  protected override onUserStoppedSpeaking(stop: UserStoppedSpeakingFrame): void {
    const stopSample = this.receivedSamples;
    this.reportUsage();
    if (this.state !== 'open' && this.state !== 'connecting' && this.state !== 'waiting') {
      // No stream to finalise: nothing more will come for this audio.
      this.pushTranscriptionComplete(stop.id);
      return;
    }
    if (this.finalizedSample + this.finalizeSlackSamples >= stopSample) {
      // Final results already cover the turn: a finalise would flush nothing, and its answer could be taken for
      // the next turn's.
      this.pushTranscriptionComplete(stop.id);
      return;
    }
    this.unfinishedStops.push({ id: stop.id, sample: stopSample });
    this.finalizeRequestedAt = this.clock.now();
    if (this.state === 'open' && this.sessionReady) this.requestFinalize();
    else this.finalizePending = true;
  }

  // ---- connection ---------------------------------------------------------------------------------------------

  private connect(): void {
    this.state = 'connecting';
    const spec = this.connection();
    if (!(spec instanceof Promise)) {
      this.openSocket(spec);
      return;
    }
    const attempt = ++this.connectAttempts;
    // A cancel, or a newer attempt, while the address was being asked for leaves this one unused.
    const current = (): boolean => attempt === this.connectAttempts && this.state === 'connecting' && this.socket === undefined;
    spec.then(
      (ready) => {
        if (current()) this.openSocket(ready);
      },
      (error: unknown) => {
        if (current()) this.onConnectFailed(undefined, error);
      },
    );
  }

  private openSocket(spec: StreamingSTTConnection): void {
    const socket: VendorSocket = new VendorSocket(
      {
        vendor: this.vendor,
        url: spec.url,
        ...(spec.headers === undefined ? {} : { headers: spec.headers }),
        ...(spec.protocols === undefined ? {} : { protocols: spec.protocols }),
        secrets: this.secrets,
        handshakeTimeoutMs: this.connectTimeoutMs,
        perMessageDeflate: false,
        ...(spec.refusal === undefined ? {} : { refusal: spec.refusal }),
        ...(spec.keepAlive === undefined ? {} : { keepAlive: spec.keepAlive }),
        ...(spec.closeMessage === undefined ? {} : { closeMessage: spec.closeMessage }),
        clock: this.clock,
      },
      {
        onMessage: (data, isBinary) => this.onMessage(socket, data, isBinary),
        onClose: (code, reason) => this.onClose(socket, code, reason),
        onError: (error) => this.logger.debug({ err: error }, `${this.vendor} socket error`),
      },
    );
    this.socket = socket;
    socket.open().then(
      () => this.onOpen(socket),
      (error: unknown) => this.onConnectFailed(socket, error),
    );
  }

  private onOpen(socket: VendorSocket): void {
    // Already taken as open: a message or the close came before the open promise's callback (openedEarly).
    if (this.socket === socket && this.state !== 'connecting') return;
    if (this.socket !== socket || this.state !== 'connecting') {
      socket.terminate();
      return;
    }
    this.state = 'open';
    if (this.opened) this.logger.info({ failedAttempts: this.reconnector.failedAttempts }, `${this.vendor} connection restored`);
    this.opened = true;
    this.reconnector.succeeded();
    this.socketStartSample = this.retained.firstStart ?? this.receivedSamples;
    this.retained.rewind();
    this.framesSent = 0;
    this.sessionReady = false;
    this.onSocketOpen();
    if (!this.waitsForSessionStart) this.sessionStarted();
  }

  /** The handshake failed: refused (with the vendor's status), timed out, or no connection at all. */
  private onConnectFailed(socket: VendorSocket | undefined, error: unknown): void {
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state !== 'connecting') return;
    const cause = error instanceof ServiceError ? error : new ServiceError(this.vendor, String(error), { code: 'connection-failed' });
    this.reconnectAfter(cause, true);
  }

  /**
   * A vendor that speaks first (an error, a session message) can be heard, and can close, in the same tick as the
   * upgrade, before `open()`'s promise calls back: the socket is taken as open then, so nothing it says is lost.
   */
  private openedEarly(socket: VendorSocket): void {
    if (this.socket === socket && this.state === 'connecting') this.onOpen(socket);
  }

  private onClose(socket: VendorSocket, code: number, reason: string): void {
    this.openedEarly(socket);
    if (this.socket !== socket) return;
    this.socket = undefined;
    if (this.state === 'closing') {
      this.state = 'closed';
      return;
    }
    if (this.state !== 'open') return;
    const cause = this.closeError(code, reason);
    if (cause.retryable) this.logger.warn({ code, reason: redactSecrets(reason, this.secrets) }, `${this.vendor} connection lost; reconnecting`);
    this.reconnectAfter(cause, false);
  }

  /**
   * The next attempt, when the retry policy says one may help (reported once when the fast attempts are used up);
   * otherwise the stream has failed for good: one error, no retry loop.
   */
  private reconnectAfter(cause: ServiceError, attemptFailed: boolean): void {
    const plan = this.reconnector.schedule(cause, attemptFailed, () => {
      if (this.state === 'waiting') this.connect();
    });
    if (plan === undefined) {
      this.state = 'failed';
      this.retained.clear();
      this.pushError(cause);
      return;
    }
    this.state = 'waiting';
    if (plan.report) {
      const last = cause.message.startsWith(`${this.vendor}: `) ? cause.message.slice(this.vendor.length + 2) : cause.message;
      this.pushError(
        new ServiceError(this.vendor, `cannot reconnect after ${plan.failedAttempts} attempts (last: ${last}); retrying every ${this.slowDelayMs} ms`, {
          status: cause.status,
          code: cause.code,
          vendorCode: cause.vendorCode,
          retryable: true,
          cause,
        }),
      );
    }
  }

  /** End of the call: the vendor's close message, then a bounded wait for its last results and close. */
  private async finishStream(): Promise<void> {
    this.reconnector.cancel();
    const socket = this.socket;
    if (this.state !== 'open' || socket === undefined) {
      this.abandonStream();
      return;
    }
    this.reportUsage();
    this.state = 'closing';
    const closedInTime = await socket.close({ serverCloses: true, timeoutMs: this.closeTimeoutMs });
    if (!closedInTime && this.state === 'closing') {
      this.logger.warn({ timeoutMs: this.closeTimeoutMs }, `${this.vendor} did not close the stream in time`);
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
    this.retained.clear();
    // The close message and a close; a server that never answers the close frame does not hold the socket past 1 s.
    if (socket !== undefined) void socket.close();
  }

  /** Forgets the previous stream: its audio, its clock and its failures. */
  private resetStream(): void {
    this.retained.clear();
    this.receivedSamples = 0;
    this.socketStartSample = 0;
    this.reconnector.reset();
    this.opened = false;
    this.finalizePending = false;
    this.finalizeRequestedAt = undefined;
    this.unreportedSamples = 0;
    this.finalizedSample = 0;
    this.unfinishedStops = [];
  }

  // ---- audio and results --------------------------------------------------------------------------------------

  private sendRetained(): void {
    const socket = this.socket;
    if (socket === undefined || !this.retained.hasUnsent) return;
    const dropped = this.retained.takeDropped();
    if (dropped > 0) {
      this.logger.warn({ droppedMs: Math.round((dropped * 1000) / this.sampleRate) }, `audio lost while ${this.vendor} was unreachable`);
    }
    this.unreportedSamples += this.retained.sendUnsent(this.audioSendLimits, (bytes) => {
      if (socket.send(this.audioMessage(bytes))) this.framesSent++;
    });
  }

  private reportUsage(): void {
    if (this.unreportedSamples === 0) return;
    const audioSeconds = this.unreportedSamples / this.sampleRate;
    this.unreportedSamples = 0;
    this.pushMetrics({ kind: 'stt-usage', processor: this.name, model: this.model, audioSeconds });
  }

  /** Some slack for the rounding of vendor times (milliseconds): 10 ms of audio. */
  private get finalizeSlackSamples(): number {
    return Math.ceil(this.sampleRate / 100);
  }

  private onMessage(socket: VendorSocket, data: RawData, isBinary: boolean): void {
    this.openedEarly(socket);
    if (this.socket !== socket || (this.state !== 'open' && this.state !== 'closing')) return;
    if (isBinary) {
      this.onVendorBinary(Array.isArray(data) ? Buffer.concat(data) : Buffer.isBuffer(data) ? data : Buffer.from(data));
      return;
    }
    const text = messageText(data);
    let message: unknown;
    try {
      message = JSON.parse(text);
    } catch {
      this.logger.warn({ length: text.length }, `${this.vendor} sent a text frame that is not JSON; ignored`);
      return;
    }
    if (typeof message === 'object' && message !== null && !Array.isArray(message)) this.onVendorMessage(message as Record<string, unknown>);
  }
}
