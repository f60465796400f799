// MemoryTransport: a call whose other end is in the same process — for tests, the demo and benchmarks. The
// caller side (`transport.caller`) behaves like a phone line: once connected it sends a 20 ms frame in real
// time continuously — speech when it has some to say, digital silence otherwise (VAD needs the silence after
// speech to notice the end of a turn) — and receives the agent's audio as the output transport plays it.
import { concatInt16 } from '../../audio/index.js';
import { parseDtmfSequence, type DtmfDigit } from '../../frames/index.js';
import { sleep, systemClock, type Clock, type ClockTimer } from '../../runtime/clock.js';
import { BaseInputTransport } from '../base/input-transport.js';
import { BaseOutputTransport, type OutputTransportOptions } from '../base/output-transport.js';
import { TransportEventEmitter, type CallTransport, type TransportAudioFormats } from '../base/transport.js';
import { EchoLine, type EchoLineOptions } from './echo-line.js';

export interface MemoryTransportOptions extends Pick<OutputTransportOptions, 'chunkMs' | 'botStopGraceMs' | 'dtmfGapMs'> {
  /** Rate of the audio the caller sends. Default 16000. */
  callerSampleRate?: number;
  /** Rate the caller hears the agent at. Default 8000. */
  agentSampleRate?: number;
  /** Length of the caller's frames. Default 20 ms. */
  callerFrameMs?: number;
  /**
   * Keep every frame sent and every chunk received (`caller.sent` / `caller.received`). Default true; false for
   * long runs and benchmarks, where that history would grow by ~3 MB per call-minute.
   */
  keepHistory?: boolean;
  /**
   * The clock the caller's line sends frames on and stamps what it sends and receives with. Give the same clock
   * as the VoiceAgent's (`action({ clock })`) to run the call in simulated time. Default: the system clock.
   */
  clock?: Clock;
  /**
   * A speakerphone: the agent's audio comes back into what the caller's line sends, `delayMs` after the caller
   * received it, `levelDb` quieter (with a weaker reflection at twice the delay). Default: no echo.
   */
  echo?: EchoLineOptions;
  name?: string;
}

export interface CallerConnectOptions {
  /**
   * true (default): the line sends a frame every `callerFrameMs` by itself (speech queued with `say`, else
   * silence). false: it sends nothing by itself; the caller sends every frame with `send`, on its own clock.
   */
  autoSend?: boolean;
}

export interface ReceivedChunk {
  readonly audio: Int16Array;
  readonly sampleRate: number;
  /** The transport clock's `now()` when the output transport wrote it. */
  readonly at: number;
}

export class MemoryOutputTransport extends BaseOutputTransport {
  constructor(
    private readonly sink: (chunk: Int16Array, sampleRate: number) => void,
    options: OutputTransportOptions = {},
    private readonly keySink?: (digit: DtmfDigit) => void,
  ) {
    super(options);
  }

  override get canSendDTMF(): boolean {
    return this.keySink !== undefined;
  }

  protected override writeAudio(chunk: Int16Array, sampleRate: number): void {
    this.sink(chunk, sampleRate);
  }

  protected override writeDTMF(digit: DtmfDigit): void | Promise<void> {
    if (this.keySink === undefined) return super.writeDTMF(digit);
    this.keySink(digit);
  }
}

/** The caller's end of a MemoryTransport. */
export class MemoryCaller {
  /** Agent audio received, in order. */
  readonly received: ReceivedChunk[] = [];
  /** Caller audio sent, in order, with the time each frame was sent (speech and silence). */
  readonly sent: { audio: Int16Array; at: number }[] = [];
  /** Keys the agent pressed, in order, with the transport clock's time each arrived. */
  readonly receivedKeys: { digit: DtmfDigit; at: number }[] = [];
  private readonly frameSamples: number;
  private pending: { audio: Int16Array; offset: number; done: () => void }[] = [];
  private pump: ClockTimer | undefined;
  private nextFrameAt = 0;
  private audioListeners: ((chunk: ReceivedChunk) => void)[] = [];
  private connected = false;
  private autoSend = true;
  private readonly silenceFrame: Int16Array;
  private readonly echoLine: EchoLine | undefined;

  constructor(
    private readonly transport: MemoryTransport,
    readonly sampleRate: number,
    frameMs: number,
    private readonly keepHistory = true,
    private readonly clock: Clock = systemClock,
    echo?: EchoLineOptions,
  ) {
    this.frameSamples = Math.round((sampleRate * frameMs) / 1000);
    this.silenceFrame = new Int16Array(this.frameSamples);
    this.echoLine = echo === undefined ? undefined : new EchoLine(echo, sampleRate);
  }

  get isConnected(): boolean {
    return this.connected;
  }

  /**
   * Picks up: the line starts sending (silence until `say`; nothing with `autoSend: false`), and the agent is
   * told the caller joined.
   */
  connect(options: CallerConnectOptions = {}): void {
    if (this.connected) return;
    this.connected = true;
    this.autoSend = options.autoSend ?? true;
    if (this.autoSend) {
      this.nextFrameAt = this.clock.now();
      this.sendFrame();
    }
    this.transport.callerJoined();
  }

  /** Queues speech (at the caller's rate); resolves once its last frame has been sent. */
  say(audio: Int16Array): Promise<void> {
    if (!this.connected) return Promise.reject(new Error('MemoryCaller.say: the caller is not connected'));
    if (!this.autoSend) return Promise.reject(new Error('MemoryCaller.say: connected with autoSend: false; use send()'));
    return new Promise((resolve) => this.pending.push({ audio, offset: 0, done: resolve }));
  }

  /**
   * Sends one frame of audio (at the caller's rate) now: for a caller connected with `autoSend: false` that keeps
   * its own clock. The array is not copied: it must not be modified afterwards. Returns false when the frame was
   * not taken (not connected, or the pipeline is not running).
   */
  send(audio: Int16Array): boolean {
    if (!this.connected) return false;
    if (this.autoSend) throw new Error('MemoryCaller.send: the line sends by itself; connect({ autoSend: false }) first');
    if (this.keepHistory) this.sent.push({ audio, at: this.clock.now() });
    return this.transport.input.pushAudio(audio, this.sampleRate);
  }

  /** Whether the caller still has speech queued. */
  get speaking(): boolean {
    return this.pending.length > 0;
  }

  /** The keys the agent pressed so far, as one string ("123#"). */
  get receivedDigits(): string {
    return this.receivedKeys.map((k) => k.digit).join('');
  }

  sendDTMF(digit: string): void {
    if (this.transport.input.pushDTMF(digit)) this.transport.events.emit('dtmf', digit);
  }

  /**
   * Presses keys as a phone keypad does: "123#" sends four keys; `w` waits half a second (on the transport's
   * clock) before the keys after it. Throws a RangeError for anything but 0-9, *, #, A-D and w. Resolves once the
   * last key is pressed.
   */
  async pressKeys(digits: string): Promise<void> {
    for (const key of parseDtmfSequence(digits, { allowPauses: true })) {
      if (key === 'w') await sleep(this.clock, 500);
      else this.sendDTMF(key);
    }
  }

  /** Hangs up: the line stops and the agent is told the caller left. */
  hangUp(reason = 'caller hung up'): void {
    if (!this.connected) return;
    this.stopLine();
    this.transport.callerLeft(reason);
  }

  onAudio(listener: (chunk: ReceivedChunk) => void): () => void {
    this.audioListeners.push(listener);
    return () => {
      this.audioListeners = this.audioListeners.filter((l) => l !== listener);
    };
  }

  /** Resolves with the next agent audio chunk that arrives. */
  nextAudio(): Promise<ReceivedChunk> {
    return new Promise((resolve) => {
      const off = this.onAudio((chunk) => {
        off();
        resolve(chunk);
      });
    });
  }

  /** All agent audio received so far, concatenated. */
  receivedAudio(): Int16Array {
    return concatInt16(this.received.map((c) => c.audio));
  }

  /** @internal Called by the output transport's sink. */
  deliver(audio: Int16Array, sampleRate: number): void {
    this.echoLine?.heard(audio, sampleRate, this.clock.now());
    if (!this.keepHistory && this.audioListeners.length === 0) return;
    const chunk = { audio, sampleRate, at: this.clock.now() };
    if (this.keepHistory) this.received.push(chunk);
    for (const listener of this.audioListeners) listener(chunk);
  }

  /** @internal Called by the output transport when the agent presses a key. */
  deliverKey(digit: DtmfDigit): void {
    this.receivedKeys.push({ digit, at: this.clock.now() });
  }

  /** @internal */
  stopLine(): void {
    this.connected = false;
    this.clock.clearTimeout(this.pump);
    this.pump = undefined;
    for (const item of this.pending) item.done();
    this.pending = [];
  }

  private sendFrame(): void {
    this.pump = undefined;
    if (!this.connected) return;
    const spoken = this.nextSpeechFrame() ?? this.silenceFrame;
    const frame = this.echoLine === undefined ? spoken : this.echoLine.addTo(spoken, this.clock.now());
    if (this.keepHistory) this.sent.push({ audio: frame, at: this.clock.now() });
    this.transport.input.pushAudio(frame, this.sampleRate);
    this.nextFrameAt += (this.frameSamples * 1000) / this.sampleRate;
    this.pump = this.clock.setTimeout(() => this.sendFrame(), Math.max(0, this.nextFrameAt - this.clock.now()));
  }

  private nextSpeechFrame(): Int16Array | undefined {
    const item = this.pending[0];
    if (item === undefined) return undefined;
    const frame = new Int16Array(this.frameSamples);
    frame.set(item.audio.subarray(item.offset, item.offset + this.frameSamples));
    item.offset += this.frameSamples;
    if (item.offset >= item.audio.length) {
      this.pending.shift();
      item.done();
    }
    return frame;
  }
}

export class MemoryTransport implements CallTransport {
  readonly input: BaseInputTransport;
  readonly output: MemoryOutputTransport;
  readonly audioFormats: TransportAudioFormats;
  readonly events = new TransportEventEmitter();
  readonly caller: MemoryCaller;
  private connected = false;

  constructor(options: MemoryTransportOptions = {}) {
    const name = options.name ?? 'memory';
    this.audioFormats = {
      input: { sampleRate: options.callerSampleRate ?? 16000, encoding: 'pcm16' },
      output: { sampleRate: options.agentSampleRate ?? 8000, encoding: 'pcm16' },
    };
    this.input = new BaseInputTransport({ name: `${name}-input` });
    this.output = new MemoryOutputTransport(
      (chunk, rate) => this.caller.deliver(chunk, rate),
      { name: `${name}-output`, chunkMs: options.chunkMs, botStopGraceMs: options.botStopGraceMs, dtmfGapMs: options.dtmfGapMs },
      (digit) => this.caller.deliverKey(digit),
    );
    this.caller = new MemoryCaller(
      this,
      options.callerSampleRate ?? 16000,
      options.callerFrameMs ?? 20,
      options.keepHistory ?? true,
      options.clock,
      options.echo,
    );
  }

  get callerConnected(): boolean {
    return this.connected;
  }

  async close(): Promise<void> {
    this.caller.stopLine();
    this.connected = false;
  }

  /** @internal */
  callerJoined(): void {
    this.connected = true;
    this.events.emit('caller-joined');
  }

  /** @internal */
  callerLeft(reason: string): void {
    this.connected = false;
    this.events.emit('caller-left', reason);
  }
}
