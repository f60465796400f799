// MediaStreamTransport: one phone call's media over a carrier's WebSocket (the Piopiy stream, Twilio Media Streams,
// ...). The carrier's protocol is its serializer's business; what every carrier path shares lives here:
// - caller audio goes through a JitterBuffer, so the VAD and the STT get a steady 20 ms stream in order;
// - agent audio is paced with a small lead over real time (`leadMs`, default 80 ms: a few packets of network
//   hiccup do not starve the carrier's playout, and at most that much is sent but unplayed when the caller
//   interrupts — `clear` drops it);
// - played, not sent: where the carrier acknowledges playback, a mark follows each chunk and audio not yet
//   acknowledged counts as unheard at an interruption, so the assistant's message is trimmed to what the caller
//   heard. Without acknowledgements, audio written ahead of real time counts as unheard.
import type WebSocket from 'ws';
import { getDefaultLogger, type Logger } from '../../logging/index.js';
import { isDtmfDigit, type Frame, type FrameDirection } from '../../frames/index.js';
import { BaseInputTransport } from '../base/input-transport.js';
import { BaseOutputTransport } from '../base/output-transport.js';
import { TransportEventEmitter, type CallTransport, type TransportAudioFormats } from '../base/transport.js';
import { sleep, type Clock } from '../../runtime/clock.js';
import { JitterBuffer, type JitterBufferOptions, type JitterBufferStats } from './jitter-buffer.js';
import type { MediaStreamEvent, MediaStreamMessage, MediaStreamSerializer, MediaStreamStart } from './serializer.js';

/** The jitter buffer's tunables. */
export type MediaStreamJitterOptions = Pick<JitterBufferOptions, 'startDelayMs' | 'maxDelayMs' | 'maxConcealMs' | 'idleStopMs'>;

export interface MediaStreamTransportOptions {
  logger?: Logger;
  /** Size of the audio chunks sent. Default 20 ms (a carrier packet). */
  chunkMs?: number;
  /** How far ahead of real time agent audio may be sent. Default 80 ms (see the top of this file). */
  leadMs?: number;
  jitter?: MediaStreamJitterOptions;
  /** The stream's metadata when the protocol has no start message (`startsImmediately`). */
  start?: MediaStreamStart;
}

const DEFAULT_LEAD_MS = 80;
/** WebSocket.OPEN, without importing ws's runtime here. */
const OPEN = 1;

class MediaStreamInput extends BaseInputTransport {
  private jitter: JitterBuffer | undefined;

  constructor(
    private readonly rate: number,
    private readonly jitterOptions: MediaStreamJitterOptions | undefined,
  ) {
    super({ name: 'media-stream-input' });
  }

  get jitterStats(): JitterBufferStats | undefined {
    return this.jitter?.stats;
  }

  /** Caller audio from the carrier, as it arrived; played into the pipeline by the jitter buffer. */
  receive(samples: Int16Array, position: number | undefined): void {
    if (!this.accepting) return;
    this.jitter ??= new JitterBuffer({
      ...this.jitterOptions,
      sampleRate: this.rate,
      clock: () => this.clock,
      onFrame: (frame) => this.pushAudio(frame, this.rate),
    });
    this.jitter.push(samples, position);
  }

  /** The stream ended: what is buffered goes in now. */
  flush(): void {
    this.jitter?.flush();
  }

  protected override processFrame(frame: Frame, direction: FrameDirection): void | Promise<void> {
    if (frame.type === 'end' || frame.type === 'cancel') this.jitter?.close();
    return super.processFrame(frame, direction);
  }

  override async cleanup(): Promise<void> {
    this.jitter?.close();
    await super.cleanup();
  }
}

class MediaStreamOutput extends BaseOutputTransport {
  constructor(
    private readonly stream: MediaStreamTransport,
    options: { chunkMs?: number; leadMs: number },
  ) {
    super({ name: 'media-stream-output', ...options });
  }

  protected override writeAudio(chunk: Int16Array): void {
    this.stream.sendAudio(chunk);
  }

  protected override onInterrupted(): void {
    this.stream.clear();
  }

  protected override unplayedMs(): number {
    return Math.max(this.writtenAheadMs, this.stream.unacknowledgedChunks * this.chunkMs);
  }

  /** The call's clock (the system's until the pipeline starts). */
  get callClock(): Clock {
    return this.clock;
  }
}

export class MediaStreamTransport implements CallTransport {
  readonly input: BaseInputTransport;
  readonly output: BaseOutputTransport;
  readonly events = new TransportEventEmitter();
  readonly audioFormats: TransportAudioFormats;
  /** Resolves with the stream's metadata once the carrier started it. */
  readonly started: Promise<MediaStreamStart>;
  protected readonly socket: WebSocket;
  protected readonly serializer: MediaStreamSerializer;
  protected readonly logger: Logger;
  private readonly mediaInput: MediaStreamInput;
  private readonly mediaOutput: MediaStreamOutput;
  private playedOutWaiters: (() => void)[] = [];
  private startInfo: MediaStreamStart | undefined;
  private resolveStarted!: (start: MediaStreamStart) => void;
  private connected = false;
  private ended = false;
  private markCount = 0;
  /** Names of the marks sent and not yet echoed, oldest first (one per chunk). */
  private pendingMarks: string[] = [];
  private badMessagesReported = 0;

  constructor(socket: WebSocket, serializer: MediaStreamSerializer, options: MediaStreamTransportOptions = {}) {
    this.socket = socket;
    this.serializer = serializer;
    this.audioFormats = serializer.audioFormats;
    this.logger = options.logger ?? getDefaultLogger();
    this.mediaInput = new MediaStreamInput(serializer.audioFormats.input.sampleRate, options.jitter);
    this.input = this.mediaInput;
    this.mediaOutput = new MediaStreamOutput(this, { chunkMs: options.chunkMs, leadMs: options.leadMs ?? DEFAULT_LEAD_MS });
    this.output = this.mediaOutput;
    this.started = new Promise((resolve) => (this.resolveStarted = resolve));
    if (serializer.startsImmediately) {
      if (options.start === undefined) throw new TypeError(`${serializer.carrier} stream: the stream's metadata (start) is required`);
      this.onStart(options.start);
    }
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.onEnded('the carrier closed the stream'));
    socket.on('error', (error) => {
      this.logger.warn({ err: error }, `${serializer.carrier} stream: socket error`);
      this.onEnded('stream socket error');
    });
  }

  get callerConnected(): boolean {
    return this.connected;
  }

  /** The stream's metadata (undefined until the carrier started it). */
  get start(): MediaStreamStart | undefined {
    return this.startInfo;
  }

  /** What the jitter buffer has seen of the caller's audio (undefined before any arrived). */
  get jitterStats(): JitterBufferStats | undefined {
    return this.mediaInput.jitterStats;
  }

  /** @internal Chunks sent whose playback the carrier has not acknowledged yet. */
  get unacknowledgedChunks(): number {
    return this.pendingMarks.length;
  }

  /** @internal Sends one chunk of agent audio, followed by a mark where the carrier acknowledges playback. */
  sendAudio(chunk: Int16Array): void {
    if (!this.send(this.serializer.encodeAudio(chunk)) || !this.serializer.acknowledgesPlayback) return;
    const name = String(++this.markCount);
    const mark = this.serializer.encodeMark(name);
    if (mark !== undefined && this.send(mark)) this.pendingMarks.push(name);
  }

  /** Drops the audio the carrier holds; marks still pending will never count as played. */
  clear(): void {
    const message = this.serializer.encodeClear();
    if (message !== undefined) this.send(message);
    this.setPendingMarks([]);
  }

  /**
   * Resolves once the carrier has played everything sent (all marks acknowledged), the stream ended, or
   * `timeoutMs` passed: before a hang-up or a transfer, so the caller hears the last words. True when played out.
   */
  async playedOut(timeoutMs = 2000): Promise<boolean> {
    // The output's own queue first (written ahead by at most leadMs), then the carrier's acknowledgements.
    const clock = this.mediaOutput.callClock;
    const deadline = clock.now() + timeoutMs;
    while (this.mediaOutput.queuedAudioMs > 0 && !this.ended && clock.now() < deadline) {
      await sleep(clock, this.mediaOutput.chunkMs);
    }
    if (this.pendingMarks.length === 0 || this.ended) return this.pendingMarks.length === 0;
    const waited = new Promise<boolean>((resolve) => this.playedOutWaiters.push(() => resolve(true)));
    return Promise.race([waited, sleep(clock, Math.max(0, deadline - clock.now())).then(() => this.pendingMarks.length === 0)]);
  }

  async close(): Promise<void> {
    if (this.socket.readyState === OPEN) {
      const last = this.serializer.encodeEnd();
      if (last !== undefined) this.send(last);
      this.socket.close(1000);
    }
    this.onEnded('closed by the agent');
  }

  /** Sends a message if the socket is open; false when it is not. */
  protected send(message: MediaStreamMessage): boolean {
    if (this.socket.readyState !== OPEN) return false;
    this.socket.send(message);
    return true;
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    let events: readonly MediaStreamEvent[];
    try {
      events = this.serializer.decode(data, isBinary);
    } catch (error) {
      // One bad message must not end a call; a flood of them must not flood the log.
      if (this.badMessagesReported++ < 5) this.logger.warn({ err: error }, `${this.serializer.carrier} stream: a message was ignored`);
      return;
    }
    for (const event of events) this.onEvent(event);
  }

  private onEvent(event: MediaStreamEvent): void {
    switch (event.type) {
      case 'start':
        this.onStart(event.start);
        return;
      case 'audio':
        this.mediaInput.receive(event.samples, event.position);
        return;
      case 'dtmf':
        // From the network: one keypad key or nothing.
        if (!isDtmfDigit(event.digit)) return;
        this.input.pushDTMF(event.digit);
        this.events.emit('dtmf', event.digit);
        return;
      case 'mark': {
        // Marks come back in the order sent: this one acknowledges every mark before it too.
        const index = this.pendingMarks.indexOf(event.name);
        if (index >= 0) this.setPendingMarks(this.pendingMarks.slice(index + 1));
        return;
      }
      case 'stop':
        this.mediaInput.flush();
        this.onEnded(event.reason);
        return;
      case 'message':
        this.input.pushMessage(event.message);
        this.events.emit('message', event.message);
        return;
    }
  }

  private setPendingMarks(marks: string[]): void {
    this.pendingMarks = marks;
    if (marks.length > 0) return;
    const waiters = this.playedOutWaiters;
    this.playedOutWaiters = [];
    for (const resolve of waiters) resolve();
  }

  private onStart(start: MediaStreamStart): void {
    if (this.startInfo !== undefined) return;
    this.startInfo = start;
    this.connected = !this.ended;
    this.resolveStarted(start);
    if (this.connected) this.events.emit('caller-joined');
  }

  private onEnded(reason: string): void {
    if (this.ended) return;
    this.ended = true;
    const wasConnected = this.connected;
    this.connected = false;
    this.setPendingMarks([]);
    const stats = this.jitterStats;
    if (stats !== undefined) this.logger.debug({ jitter: stats }, `${this.serializer.carrier} stream: caller audio`);
    if (wasConnected) this.events.emit('caller-left', reason);
  }
}
