// One call of the fake Twilio (./twilio.ts): the caller's side of a Media Stream as Twilio plays it. A 20 ms tick
// sends a caller packet and plays 20 ms of what the agent sent; marks are echoed once the audio before them has
// played (plus the network delay), `clear` empties the buffer and echoes the pending marks, and what our side sends
// is checked as Twilio would (docs/carriers.md).
import { randomUUID } from 'node:crypto';
import WebSocket from 'ws';
import { mulawToPcm, pcmToMulaw } from '../../audio/index.js';

export type FakeTwilioCallEndReason = 'caller-hangup' | 'hangup' | 'transferred' | 'stream-closed' | 'protocol-error';

const FRAME_SAMPLES = 160; // 20 ms of 8 kHz μ-law, Twilio's packet
const FRAME_MS = 20;

export class FakeTwilioCall {
  readonly callSid = `CA${randomUUID().replace(/-/g, '')}`;
  readonly streamSid = `MZ${randomUUID().replace(/-/g, '')}`;
  /** The caller's audio as sent, one 20 ms frame per tick, from the start of the stream (8 kHz). */
  readonly callerFrames: Int16Array[] = [];
  /** The agent's audio as the caller heard it, one 20 ms frame per tick (silence when none played). */
  readonly agentFrames: Int16Array[] = [];
  /** Messages our side sent, parsed. */
  readonly received: Record<string, unknown>[] = [];
  /** What our side sent that Twilio does not accept. */
  readonly protocolErrors: string[] = [];
  readonly ended: Promise<FakeTwilioCallEndReason>;
  marksAcknowledged = 0;
  /** When each `clear` arrived, in ms of stream time. */
  readonly clearedAtMs: number[] = [];
  endReason: FakeTwilioCallEndReason | undefined;
  transferredTo: string | undefined;
  private resolveEnded!: (reason: FakeTwilioCallEndReason) => void;
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
    readonly from: string,
    readonly to: string,
    readonly accountSid: string,
    private readonly networkDelayMs: number,
  ) {
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get isEnded(): boolean {
    return this.endReason !== undefined;
  }

  /** Milliseconds since the stream started. */
  get elapsedMs(): number {
    return this.tick * FRAME_MS;
  }

  /** The caller says `audio` (8 kHz PCM16) starting with the next packet; resolves when all of it was sent. */
  say(audio: Int16Array): Promise<void> {
    if (this.isEnded) return Promise.resolve();
    for (let i = 0; i < audio.length; i += FRAME_SAMPLES) {
      const frame = new Int16Array(FRAME_SAMPLES);
      frame.set(audio.subarray(i, i + FRAME_SAMPLES));
      this.toSay.push(frame);
    }
    return new Promise((resolve) => this.sayDone.push(resolve));
  }

  /** The caller presses a key. */
  pressKey(digit: string): void {
    this.sendEvent({ event: 'dtmf', streamSid: this.streamSid, dtmf: { track: 'inbound_track', digit } });
  }

  /** The caller hangs up: Twilio sends `stop` and closes the stream. */
  hangUp(): void {
    this.end('caller-hangup');
  }

  /** Milliseconds of agent audio the caller heard between `sinceMs` and `untilMs` (stream time). */
  agentSpeechMs(sinceMs = 0, untilMs = Infinity): number {
    let frames = 0;
    const end = Math.min(this.agentFrames.length, Math.ceil(untilMs / FRAME_MS));
    for (let i = Math.ceil(sinceMs / FRAME_MS); i < end; i++) if (isAudible(this.agentFrames[i]!)) frames++;
    return frames * FRAME_MS;
  }

  /** Both sides as a stereo recording at 8 kHz (caller left, agent right), interleaved. */
  recording(): { sampleRate: number; channels: 2; samples: Int16Array } {
    const frames = Math.max(this.callerFrames.length, this.agentFrames.length);
    const samples = new Int16Array(frames * FRAME_SAMPLES * 2);
    for (let f = 0; f < frames; f++) {
      const caller = this.callerFrames[f];
      const agent = this.agentFrames[f];
      for (let i = 0; i < FRAME_SAMPLES; i++) {
        samples[(f * FRAME_SAMPLES + i) * 2] = caller?.[i] ?? 0;
        samples[(f * FRAME_SAMPLES + i) * 2 + 1] = agent?.[i] ?? 0;
      }
    }
    return { sampleRate: 8000, channels: 2, samples };
  }

  /** @internal Opens the stream the TwiML named. */
  async connect(url: string, parameters: Record<string, string>, signature: string | undefined): Promise<void> {
    const socket = new WebSocket(url, { headers: signature === undefined ? {} : { 'x-twilio-signature': signature } });
    this.socket = socket;
    await new Promise<void>((resolve, reject) => {
      socket.once('open', () => resolve());
      socket.once('unexpected-response', (_request, response) => reject(new Error(`the stream was refused: HTTP ${response.statusCode}`)));
      socket.once('error', reject);
    });
    socket.on('message', (data, isBinary) => this.onMessage(data as Buffer, isBinary));
    socket.on('close', () => this.end('stream-closed'));
    this.sendEvent({ event: 'connected', protocol: 'Call', version: '1.0.0' });
    this.sendEvent({
      event: 'start',
      streamSid: this.streamSid,
      start: {
        accountSid: this.accountSid,
        streamSid: this.streamSid,
        callSid: this.callSid,
        tracks: ['inbound'],
        customParameters: parameters,
        mediaFormat: { encoding: 'audio/x-mulaw', sampleRate: 8000, channels: 1 },
      },
    });
    this.startedAt = performance.now();
    this.schedule();
  }

  /** @internal Ends the call (REST, the caller, or a protocol error). */
  end(reason: FakeTwilioCallEndReason, transferredTo?: string): void {
    if (this.isEnded) return;
    this.endReason = reason;
    this.transferredTo = transferredTo;
    clearTimeout(this.timer);
    const socket = this.socket;
    if (socket !== undefined && socket.readyState === WebSocket.OPEN) {
      if (reason === 'protocol-error') socket.close(1008, 'invalid message');
      else {
        this.sendEvent({ event: 'stop', streamSid: this.streamSid, stop: { accountSid: this.accountSid, callSid: this.callSid } });
        socket.close(1000);
      }
    }
    for (const resolve of this.sayDone.splice(0)) resolve();
    this.resolveEnded(reason);
  }

  /** One 20 ms tick, drift-corrected on real time: a caller packet out, a frame of agent audio played. */
  private schedule(): void {
    const due = this.startedAt + (this.tick + 1) * FRAME_MS;
    this.timer = setTimeout(() => {
      this.step();
      if (!this.isEnded) this.schedule();
    }, Math.max(0, due - performance.now()));
  }

  private step(): void {
    const frame = this.toSay.shift() ?? new Int16Array(FRAME_SAMPLES);
    if (this.toSay.length === 0) for (const resolve of this.sayDone.splice(0)) resolve();
    this.callerFrames.push(frame);
    this.sendEvent({
      event: 'media',
      streamSid: this.streamSid,
      media: { track: 'inbound', chunk: String(this.tick + 1), timestamp: String(this.tick * FRAME_MS), payload: Buffer.from(pcmToMulaw(frame)).toString('base64') },
    });
    this.agentFrames.push(this.playFrame());
    this.tick++;
  }

  /** Plays 20 ms from the queue; marks reached are echoed after the network delay. */
  private playFrame(): Int16Array {
    const out = new Int16Array(FRAME_SAMPLES);
    let filled = 0;
    for (;;) {
      const head = this.playQueue[0];
      if (typeof head === 'string') {
        this.playQueue.shift();
        this.echoMark(head, this.networkDelayMs + (filled * 1000) / 8000);
        continue;
      }
      if (head === undefined || filled === FRAME_SAMPLES) break;
      const count = Math.min(FRAME_SAMPLES - filled, head.length - this.playOffset);
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
      this.sendEvent({ event: 'mark', streamSid: this.streamSid, mark: { name } });
    }, delayMs);
  }

  private onMessage(data: Buffer, isBinary: boolean): void {
    if (this.isEnded) return;
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
    if (message.streamSid !== this.streamSid) {
      this.reject(`a ${String(message.event)} for another streamSid`);
      return;
    }
    const problem = invalidMessage(message);
    if (problem !== undefined) {
      this.reject(problem);
      return;
    }
    // Delivered after the network's delay (timers of equal delay fire in order, so the order is kept).
    if (this.networkDelayMs > 0) setTimeout(() => this.deliver(message), this.networkDelayMs);
    else this.deliver(message);
  }

  private deliver(message: Record<string, unknown>): void {
    if (this.isEnded) return;
    switch (message.event) {
      case 'media': {
        const payload = (message.media as { payload: string }).payload;
        this.playQueue.push(mulawToPcm(new Uint8Array(Buffer.from(payload, 'base64'))));
        return;
      }
      case 'mark':
        this.playQueue.push((message.mark as { name: string }).name);
        return;
      case 'clear': {
        this.clearedAtMs.push(this.elapsedMs);
        const marks = this.playQueue.filter((entry): entry is string => typeof entry === 'string');
        this.playQueue = [];
        this.playOffset = 0;
        for (const name of marks) this.echoMark(name, this.networkDelayMs);
        return;
      }
    }
  }

  private reject(problem: string): void {
    this.protocolErrors.push(problem);
    this.end('protocol-error');
  }

  private sendEvent(message: Record<string, unknown>): void {
    const socket = this.socket;
    if (socket === undefined || socket.readyState !== WebSocket.OPEN) return;
    const sequenced = message.event === 'connected' ? message : { ...message, sequenceNumber: String(++this.sequence) };
    socket.send(JSON.stringify(sequenced));
  }
}

/** What Twilio would not accept in a message of ours, or undefined. */
function invalidMessage(message: Record<string, unknown>): string | undefined {
  switch (message.event) {
    case 'media': {
      const payload = (message.media as { payload?: unknown } | undefined)?.payload;
      const base64 = typeof payload === 'string' && payload !== '' && payload.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(payload);
      return base64 ? undefined : 'a media event without a valid base64 payload';
    }
    case 'mark':
      return typeof (message.mark as { name?: unknown } | undefined)?.name === 'string' ? undefined : 'a mark without a name';
    case 'clear':
      return undefined;
    default:
      return `an unknown event ${JSON.stringify(message.event)}`;
  }
}

function isAudible(frame: Int16Array): boolean {
  for (let i = 0; i < frame.length; i++) if (Math.abs(frame[i]!) > 200) return true;
  return false;
}
