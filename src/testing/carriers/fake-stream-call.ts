// One call of a fake carrier: the caller's side of a media stream as the carrier plays it, for any carrier whose
// protocol is JSON messages with media, marks and clear (Twilio, Exotel, ...). A tick per carrier packet sends a
// caller packet and plays a packet of what the agent sent; marks are echoed once the audio before them has played
// (plus the network delay), `clear` empties the buffer and echoes the pending marks, and what our side sends is
// checked by the carrier's protocol (`FakeStreamProtocol.read`): a message it refuses ends the call (1008).
import WebSocket from 'ws';

/** How a fake call ended. */
export type FakeStreamCallEndReason = 'caller-hangup' | 'hangup' | 'transferred' | 'stream-closed' | 'protocol-error';

/** What one of our messages asks of the carrier, or why the carrier refuses it (a string). */
export type FakeStreamRead = { kind: 'media'; samples: Int16Array } | { kind: 'mark'; name: string } | { kind: 'clear' } | string;

/** A carrier's stream protocol, as the fake speaks it. */
export interface FakeStreamProtocol {
  readonly sampleRate: number;
  /** Caller audio per message (Twilio 20 ms, Exotel 100 ms). */
  readonly packetMs: number;
  /** The messages that open the stream (connected, start). */
  opening(): Record<string, unknown>[];
  /** A caller packet: a JSON message, or a binary frame (Vonage). */
  media(samples: Int16Array, tick: number): Record<string, unknown> | Buffer;
  mark(name: string): Record<string, unknown>;
  dtmf(digit: string): Record<string, unknown>;
  /** The carrier's last message before it closes the stream (none: it just closes). */
  stop(): Record<string, unknown> | undefined;
  /**
   * What the carrier answers to our `clear` (none by default), and whether the marks still queued are echoed then
   * (Twilio, Exotel) or never (Plivo: only played audio is acknowledged).
   */
  cleared?(): Record<string, unknown>;
  readonly clearEchoesMarks?: boolean;
  /** The message with its sequence number (the carrier's field name), `n` counting from 1. */
  sequenced(message: Record<string, unknown>, n: number): Record<string, unknown>;
  /** One message of ours (parsed JSON object). */
  read(message: Record<string, unknown>): FakeStreamRead;
  /** One binary frame of ours; absent: the carrier refuses binary frames. */
  readBinary?(data: Buffer): FakeStreamRead;
}

export class FakeStreamCall {
  /** The caller's audio as sent, one packet per tick, from the start of the stream. */
  readonly callerFrames: Int16Array[] = [];
  /** The agent's audio as the caller heard it, one packet per tick (silence when none played). */
  readonly agentFrames: Int16Array[] = [];
  /** Messages our side sent, parsed. */
  readonly received: Record<string, unknown>[] = [];
  /** What our side sent that the carrier does not accept. */
  readonly protocolErrors: string[] = [];
  readonly ended: Promise<FakeStreamCallEndReason>;
  marksAcknowledged = 0;
  /** When each `clear` arrived, in ms of stream time. */
  readonly clearedAtMs: number[] = [];
  endReason: FakeStreamCallEndReason | undefined;
  transferredTo: string | undefined;
  protected readonly frameSamples: number;
  private resolveEnded!: (reason: FakeStreamCallEndReason) => void;
  private socket: WebSocket | undefined;
  private toSay: Int16Array[] = [];
  private sayDone: (() => void)[] = [];
  /** Agent audio and marks in the order received, not yet played. */
  private playQueue: (Int16Array | string)[] = [];
  private playOffset = 0;
  private sequence = 0;
  private tick = 0;
  private timer: NodeJS.Timeout | undefined;
  private startedAt = 0;

  constructor(
    private readonly protocol: FakeStreamProtocol,
    private readonly networkDelayMs: number,
  ) {
    this.frameSamples = (protocol.sampleRate * protocol.packetMs) / 1000;
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get isEnded(): boolean {
    return this.endReason !== undefined;
  }

  /** Milliseconds since the stream started. */
  get elapsedMs(): number {
    return this.tick * this.protocol.packetMs;
  }

  /** The caller says `audio` (PCM16 at the stream's rate) from the next packet; resolves when all of it was sent. */
  say(audio: Int16Array): Promise<void> {
    if (this.isEnded) return Promise.resolve();
    for (let i = 0; i < audio.length; i += this.frameSamples) {
      const frame = new Int16Array(this.frameSamples);
      frame.set(audio.subarray(i, i + this.frameSamples));
      this.toSay.push(frame);
    }
    return new Promise((resolve) => this.sayDone.push(resolve));
  }

  /** The caller presses a key. */
  pressKey(digit: string): void {
    this.sendEvent(this.protocol.dtmf(digit));
  }

  /** The caller hangs up: the carrier sends `stop` and closes the stream. */
  hangUp(): void {
    this.end('caller-hangup');
  }

  /** Milliseconds of agent audio the caller heard between `sinceMs` and `untilMs` (stream time). */
  agentSpeechMs(sinceMs = 0, untilMs = Infinity): number {
    const packetMs = this.protocol.packetMs;
    let frames = 0;
    const end = Math.min(this.agentFrames.length, Math.ceil(untilMs / packetMs));
    for (let i = Math.ceil(sinceMs / packetMs); i < end; i++) frames += audibleShare(this.agentFrames[i]!, this.protocol.sampleRate / 50);
    return Math.round(frames * packetMs);
  }

  /** Both sides as a stereo recording at the stream's rate (caller left, agent right), interleaved. */
  recording(): { sampleRate: number; channels: 2; samples: Int16Array } {
    const frames = Math.max(this.callerFrames.length, this.agentFrames.length);
    const n = this.frameSamples;
    const samples = new Int16Array(frames * n * 2);
    for (let f = 0; f < frames; f++) {
      const caller = this.callerFrames[f];
      const agent = this.agentFrames[f];
      for (let i = 0; i < n; i++) {
        samples[(f * n + i) * 2] = caller?.[i] ?? 0;
        samples[(f * n + i) * 2 + 1] = agent?.[i] ?? 0;
      }
    }
    return { sampleRate: this.protocol.sampleRate, channels: 2, samples };
  }

  /** @internal Opens the stream at `url` with the request `headers` the carrier sends. */
  async connect(url: string, headers: Record<string, string>): Promise<void> {
    const socket = new WebSocket(url, { headers });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`the stream was refused: HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.onStreamClosed());
    for (const message of this.protocol.opening()) this.sendEvent(message);
    this.startedAt = performance.now();
    this.schedule();
  }

  /** @internal Ends the call (REST, the caller, the call flow, or a protocol error). */
  end(reason: FakeStreamCallEndReason, transferredTo?: string): void {
    if (this.isEnded) return;
    this.endReason = reason;
    this.transferredTo = transferredTo;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      if (reason === 'protocol-error') socket.close(1008, 'invalid message');
      else {
        const stop = this.protocol.stop();
        if (stop !== undefined) this.sendEvent(stop);
        socket.close(1000);
      }
    }
    for (const resolve of this.sayDone.splice(0)) resolve();
    this.resolveEnded(reason);
  }

  /** The agent closed the stream (or it broke). What the carrier does next is the carrier's: by default, nothing. */
  protected onStreamClosed(): void {
    this.end('stream-closed');
  }

  /** One tick, drift-corrected on real time: a caller packet out, a packet of agent audio played. */
  private schedule(): void {
    const due = this.startedAt + (this.tick + 1) * this.protocol.packetMs;
    this.timer = setTimeout(() => {
      this.step();
      if (!this.isEnded) this.schedule();
    }, Math.max(0, due - performance.now()));
  }

  private step(): void {
    const frame = this.toSay.shift() ?? new Int16Array(this.frameSamples);
    if (this.toSay.length === 0) for (const resolve of this.sayDone.splice(0)) resolve();
    this.callerFrames.push(frame);
    this.sendEvent(this.protocol.media(frame, this.tick));
    this.agentFrames.push(this.playFrame());
    this.tick++;
  }

  /** Plays a packet from the queue; marks reached are echoed after the network delay. */
  private playFrame(): Int16Array {
    const out = new Int16Array(this.frameSamples);
    let filled = 0;
    for (;;) {
      const head = this.playQueue[0];
      if (typeof head === 'string') {
        this.playQueue.shift();
        this.echoMark(head, this.networkDelayMs + (filled * 1000) / this.protocol.sampleRate);
        continue;
      }
      if (head === undefined || filled === this.frameSamples) break;
      const count = Math.min(this.frameSamples - filled, head.length - this.playOffset);
      out.set(head.subarray(this.playOffset, this.playOffset + count), filled);
      filled += count;
      this.playOffset += count;
      if (this.playOffset === head.length) {
        this.playQueue.shift();
        this.playOffset = 0;
      }
    }
    return out;
  }

  private echoMark(name: string, delayMs: number): void {
    setTimeout(() => {
      if (this.isEnded) return;
      this.marksAcknowledged++;
      this.sendEvent(this.protocol.mark(name));
    }, delayMs);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.isEnded) return;
    if (isBinary && this.protocol.readBinary !== undefined) {
      this.accept(this.protocol.readBinary(data));
      return;
    }
    let message: Record<string, unknown>;
    try {
      if (isBinary) throw new Error('binary');
      message = JSON.parse(data.toString('utf8')) as Record<string, unknown>;
      if (typeof message !== 'object' || message === null) throw new Error('not an object');
    } catch {
      this.reject('a message that is not a JSON object');
      return;
    }
    this.received.push(message);
    this.accept(this.protocol.read(message));
  }

  private accept(read: FakeStreamRead): void {
    if (typeof read === 'string') {
      this.reject(read);
      return;
    }
    // Delivered after the network's delay (timers of equal delay fire in order, so the order is kept).
    if (this.networkDelayMs > 0) setTimeout(() => this.deliver(read), this.networkDelayMs);
    else this.deliver(read);
  }

  private deliver(read: Exclude<FakeStreamRead, string>): void {
    if (this.isEnded) return;
    switch (read.kind) {
      case 'media':
        this.playQueue.push(read.samples);
        return;
      case 'mark':
        this.playQueue.push(read.name);
        return;
      case 'clear': {
        this.clearedAtMs.push(this.elapsedMs);
        const marks = this.playQueue.filter((entry): entry is string => typeof entry === 'string');
        this.playQueue = [];
        this.playOffset = 0;
        if (this.protocol.clearEchoesMarks !== false) for (const name of marks) this.echoMark(name, this.networkDelayMs);
        const cleared = this.protocol.cleared?.();
        if (cleared !== undefined) setTimeout(() => this.sendEvent(cleared), this.networkDelayMs);
        return;
      }
    }
  }

  private reject(problem: string): void {
    this.protocolErrors.push(problem);
    this.end('protocol-error');
  }

  private sendEvent(message: Record<string, unknown> | Buffer): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    if (Buffer.isBuffer(message)) {
      socket.send(message, { binary: true });
      return;
    }
    socket.send(JSON.stringify(message.event === 'connected' ? message : this.protocol.sequenced(message, ++this.sequence)));
  }
}

/** A `mark` or `clear` of ours (the same shape at every carrier so far), or why the carrier refuses the message. */
export function readMarkOrClear(message: Record<string, unknown>): FakeStreamRead {
  switch (message.event) {
    case 'mark': {
      const name = (message.mark as { name?: unknown } | undefined)?.name;
      return typeof name === 'string' ? { kind: 'mark', name } : 'a mark without a name';
    }
    case 'clear':
      return { kind: 'clear' };
    default:
      return `an unknown event ${JSON.stringify(message.event)}`;
  }
}

/** A base64 string the carriers accept: non-empty, padded, of the base64 alphabet. */
export function isBase64Payload(payload: unknown): payload is string {
  return typeof payload === 'string' && payload !== '' && payload.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(payload);
}

/** Share of a packet's 20 ms slices that are audible (Twilio's packet is one slice, Exotel's five). */
function audibleShare(frame: Int16Array, sliceSamples: number): number {
  const slices = Math.max(1, Math.round(frame.length / sliceSamples));
  const size = Math.ceil(frame.length / slices);
  let audible = 0;
  for (let s = 0; s < slices; s++) {
    for (let i = s * size; i < Math.min(frame.length, (s + 1) * size); i++) {
      if (Math.abs(frame[i]!) > 200) {
        audible++;
        break;
      }
    }
  }
  return audible / slices;
}
