// SimulatedCall: the caller's side of one simulated Piopiy call. Like a phone line, once the agent has joined
// it sends a 20 ms frame in real time continuously — speech when the caller says something, silence otherwise —
// and records what the agent plays. It ends the way a platform call ends: the caller hangs up, the agent leaves,
// a REST hangup, a REST transfer (the platform takes the agent out of the call), or cancel_room.
import WebSocket from 'ws';
import { bytesToInt16, int16ToBytes, interleaveStereo, resample, type WavAudio } from '../../audio/index.js';
import { isDtmfDigit, parseDtmfSequence, type DtmfDigit } from '../../frames/index.js';
import type { AgentMediaMessage, CallerMediaMessage } from '../../transports/simulator/protocol.js';
import { synthesizeSpeech, type SpeechSampleRate } from '../speech.js';

export type CallEndReason = 'caller-hangup' | 'agent-left' | 'hangup' | 'transferred' | 'cancelled';

export interface CallEnd {
  readonly reason: CallEndReason;
  /** `performance.now()` when it ended. */
  readonly at: number;
}

/**
 * @internal The caller's media when it is not the simulator's WebSocket: a LiveKit room (./livekit-line.ts), where
 * the caller is an rtc-node participant.
 */
export interface CallerMediaLine {
  sendAudio(frame: Int16Array): void;
  sendDtmf(digit: DtmfDigit): void;
  sendMessage(data: unknown): void;
  /** The call ended: the caller leaves, and the room closes when the platform ended the call. */
  close(reason: CallEndReason): void;
}

export interface TimedAudio {
  readonly audio: Int16Array;
  /** `performance.now()` when the frame was sent or received. */
  readonly at: number;
}

export interface SimulatedCallInit {
  callId: string;
  roomName: string;
  agentId: string;
  from: string;
  to: string;
  metadata: unknown;
  mediaToken: string;
  sampleRate: SpeechSampleRate;
  frameMs: number;
}

export class SimulatedCall {
  readonly callId: string;
  readonly roomName: string;
  readonly agentId: string;
  readonly from: string;
  readonly to: string;
  readonly metadata: unknown;
  /** Rate of the caller's audio. */
  readonly sampleRate: SpeechSampleRate;
  /** Caller audio sent (speech and silence), in order. */
  readonly sent: TimedAudio[] = [];
  /** Agent audio received, in order. */
  readonly received: TimedAudio[] = [];
  /** Keys the agent pressed (DTMF), in order, with `performance.now()` when each arrived. */
  readonly receivedKeys: { readonly digit: DtmfDigit; readonly at: number }[] = [];
  /** Rate of the agent's audio (from its hello). */
  agentSampleRate = 8000;
  /** Where a REST transfer sent the call (number, SIP URI or agent id), once it happened. */
  transferredTo: string | null = null;
  /** The cause and reason of the REST hangup that ended the call, if one did. */
  hangupCause: { readonly cause: string; readonly reason?: string } | null = null;
  /** When the agent's media joined, or undefined. */
  answeredAt: number | undefined;
  readonly answered: Promise<void>;
  readonly ended: Promise<CallEnd>;
  /** @internal */
  readonly mediaToken: string;

  private readonly frameSamples: number;
  private readonly silenceFrame: Int16Array;
  private socket: WebSocket | undefined;
  private line: CallerMediaLine | undefined;
  private pending: { audio: Int16Array; offset: number; done: () => void }[] = [];
  private pump: NodeJS.Timeout | undefined;
  private nextFrameAt = 0;
  private endInfo: CallEnd | undefined;
  private resolveAnswered!: () => void;
  private resolveEnded!: (end: CallEnd) => void;
  private audioListeners: ((frame: TimedAudio) => void)[] = [];
  /** Live caller audio (see feed()): chunks in order, the read offset into the first, and the unread total. */
  private live: Int16Array[] = [];
  private liveOffset = 0;
  private liveSamples = 0;
  private livePrimed = false;

  constructor(init: SimulatedCallInit) {
    this.callId = init.callId;
    this.roomName = init.roomName;
    this.agentId = init.agentId;
    this.from = init.from;
    this.to = init.to;
    this.metadata = init.metadata;
    this.mediaToken = init.mediaToken;
    this.sampleRate = init.sampleRate;
    this.frameSamples = Math.round((init.sampleRate * init.frameMs) / 1000);
    this.silenceFrame = new Int16Array(this.frameSamples);
    this.answered = new Promise((resolve) => (this.resolveAnswered = resolve));
    this.ended = new Promise((resolve) => (this.resolveEnded = resolve));
  }

  get isEnded(): boolean {
    return this.endInfo !== undefined;
  }

  get endReason(): CallEndReason | undefined {
    return this.endInfo?.reason;
  }

  /** Says text (spoken offline by Flite) or plays PCM at the caller's rate; resolves once it has been sent. */
  async say(speech: string | Int16Array): Promise<void> {
    const audio = typeof speech === 'string' ? await synthesizeSpeech(speech, { sampleRate: this.sampleRate }) : speech;
    if (this.endInfo !== undefined) throw new Error(`SimulatedCall ${this.callId}: the call has ended`);
    await new Promise<void>((resolve) => this.pending.push({ audio, offset: 0, done: resolve }));
  }

  /**
   * Streams live caller audio at the caller's rate (a microphone, say): each call appends samples, which are sent
   * in real time, 20 ms a frame, like the rest of the line (speech queued by say() goes first). Unlike say() it
   * never waits: the audio is copied and buffered. A small jitter buffer (two frames) is filled before live
   * audio is sent and after it runs dry, so uneven arrival does not chop speech into pieces; audio more than
   * `maxBufferedMs` (default 200 ms) behind is dropped, oldest first, so a source whose clock runs fast cannot
   * build up delay. Audio fed before the agent answers waits in that buffer; after the call ended it is ignored.
   */
  feed(audio: Int16Array, options: { maxBufferedMs?: number } = {}): void {
    if (this.endInfo !== undefined || audio.length === 0) return;
    this.live.push(audio.slice());
    this.liveSamples += audio.length;
    const max = Math.max(this.frameSamples * 2, Math.round((this.sampleRate * (options.maxBufferedMs ?? 200)) / 1000));
    let excess = this.liveSamples - max;
    while (excess > 0) {
      const first = this.live[0]!;
      const dropped = Math.min(excess, first.length - this.liveOffset);
      this.liveOffset += dropped;
      this.liveSamples -= dropped;
      excess -= dropped;
      if (this.liveOffset >= first.length) {
        this.live.shift();
        this.liveOffset = 0;
      }
    }
  }

  /** Whether the caller still has speech queued. */
  get speaking(): boolean {
    return this.pending.length > 0;
  }

  sendDTMF(digit: string): void {
    if (this.line !== undefined) {
      if (isDtmfDigit(digit)) this.line.sendDtmf(digit);
      return;
    }
    this.sendJSON({ type: 'dtmf', digit });
  }

  /**
   * Presses keys on the phone's keypad: "123#" sends four keys; `w` waits half a second before the keys after it.
   * Throws a RangeError for anything but 0-9, *, #, A-D and w. Resolves once the last key is sent.
   */
  async pressKeys(digits: string): Promise<void> {
    for (const key of parseDtmfSequence(digits, { allowPauses: true })) {
      if (key === 'w') await new Promise((resolve) => setTimeout(resolve, 500));
      else this.sendDTMF(key);
    }
  }

  /** The keys the agent pressed so far, as one string ("123#"). */
  get receivedDigits(): string {
    return this.receivedKeys.map((k) => k.digit).join('');
  }

  /** A data message to the agent (like a LiveKit data packet). */
  sendMessage(data: unknown): void {
    if (this.line !== undefined) this.line.sendMessage(data);
    else this.sendJSON({ type: 'message', data });
  }

  hangUp(): void {
    this.end('caller-hangup', 'caller hung up');
  }

  onAgentAudio(listener: (frame: TimedAudio) => void): () => void {
    this.audioListeners.push(listener);
    return () => {
      this.audioListeners = this.audioListeners.filter((l) => l !== listener);
    };
  }

  /** Resolves when the agent's next audio frame louder than `threshold` arrives. */
  nextAgentSpeech(threshold = 500): Promise<TimedAudio> {
    return new Promise((resolve) => {
      const off = this.onAgentAudio((frame) => {
        if (frame.audio.some((s) => Math.abs(s) > threshold)) {
          off();
          resolve(frame);
        }
      });
    });
  }

  /**
   * Both sides on one timeline, as a stereo WAV: caller left, agent right, at the caller's rate. Each frame is
   * placed where it was sent or received, so gaps and overlaps (barge-in) are as the caller experienced them.
   * Each side is laid out at its own rate and resampled in one pass: a resampler per 20 ms frame would cut its
   * filter at every frame edge, a click every 20 ms.
   */
  recording(): WavAudio {
    const start = this.answeredAt ?? this.sent[0]?.at ?? 0;
    const rate = this.sampleRate;
    const place = (frames: readonly TimedAudio[], fromRate: number): Int16Array => {
      const last = frames.at(-1);
      if (last === undefined) return new Int16Array(0);
      // One second past the last frame, so its tail (and the end of the call) is not cut.
      const track = new Int16Array(Math.ceil(((last.at - start) * fromRate) / 1000) + fromRate);
      let cursor = 0;
      for (const frame of frames) {
        // One stream never overlaps itself: a frame that arrived early (timer jitter) follows the previous one.
        const position = Math.max(cursor, Math.round(((frame.at - start) * fromRate) / 1000));
        if (position >= track.length) break;
        track.set(frame.audio.subarray(0, Math.max(0, track.length - position)), position);
        cursor = position + frame.audio.length;
      }
      return resample(track, fromRate, rate);
    };
    const caller = place(this.sent, this.sampleRate);
    const agent = place(this.received, this.agentSampleRate);
    return { sampleRate: rate, channels: 2, samples: interleaveStereo(caller, agent) };
  }

  /** @internal The agent's media connected for this call. */
  attach(socket: WebSocket): void {
    if (this.endInfo !== undefined || this.socket !== undefined) {
      socket.close(1008, this.endInfo !== undefined ? 'call ended' : 'already joined');
      return;
    }
    this.socket = socket;
    socket.on('message', (data, isBinary) => this.onAgentMessage(data as Buffer, isBinary));
    socket.on('close', () => this.end('agent-left'));
    socket.on('error', () => this.end('agent-left'));
    this.answeredAt = performance.now();
    this.sendJSON({ type: 'caller-joined', sampleRate: this.sampleRate });
    this.nextFrameAt = performance.now();
    this.sendFrame();
    this.resolveAnswered();
  }

  /** @internal The agent joined the call's LiveKit room: the caller's line starts sending. */
  attachLine(line: CallerMediaLine, agentSampleRate: number): void {
    if (this.endInfo !== undefined || this.line !== undefined || this.socket !== undefined) {
      line.close(this.endInfo?.reason ?? 'cancelled');
      return;
    }
    this.line = line;
    this.agentSampleRate = agentSampleRate;
    this.answeredAt = performance.now();
    this.nextFrameAt = performance.now();
    this.sendFrame();
    this.resolveAnswered();
  }

  /** @internal Agent audio from the LiveKit line. */
  agentAudio(audio: Int16Array): void {
    const frame = { audio, at: performance.now() };
    this.received.push(frame);
    for (const listener of this.audioListeners) listener(frame);
  }

  /** @internal A key the agent pressed, from the LiveKit line. */
  agentKey(digit: DtmfDigit): void {
    this.receivedKeys.push({ digit, at: performance.now() });
  }

  /** @internal Ends the call; the agent is told why (its media is closed). */
  end(reason: CallEndReason, message: string = reason): void {
    if (this.endInfo !== undefined) return;
    this.endInfo = { reason, at: performance.now() };
    if (this.pump !== undefined) clearTimeout(this.pump);
    this.pump = undefined;
    for (const item of this.pending.splice(0)) item.done();
    this.live = [];
    this.liveSamples = 0;
    this.liveOffset = 0;
    if (reason !== 'agent-left') this.sendJSON({ type: 'caller-left', reason: message });
    this.socket?.close(1000);
    this.line?.close(reason);
    this.resolveEnded(this.endInfo);
  }

  private sendJSON(message: CallerMediaMessage): void {
    if (this.socket?.readyState === WebSocket.OPEN) this.socket.send(JSON.stringify(message));
  }

  private onAgentMessage(data: Buffer, isBinary: boolean): void {
    if (isBinary) {
      if (data.length % 2 !== 0) return;
      const frame = { audio: bytesToInt16(data), at: performance.now() };
      this.received.push(frame);
      for (const listener of this.audioListeners) listener(frame);
      return;
    }
    try {
      const message = JSON.parse(data.toString('utf8')) as AgentMediaMessage;
      if (message.type === 'hello' && Number.isInteger(message.sampleRate) && message.sampleRate > 0) {
        this.agentSampleRate = message.sampleRate;
      } else if (message.type === 'dtmf' && isDtmfDigit(message.digit)) {
        this.receivedKeys.push({ digit: message.digit, at: performance.now() });
      }
    } catch {
      // A malformed control message from the agent is ignored, as a platform would.
    }
  }

  private sendFrame(): void {
    this.pump = undefined;
    if (this.endInfo !== undefined) return;
    if (this.line === undefined && this.socket?.readyState !== WebSocket.OPEN) return;
    const frame = this.nextSpeechFrame() ?? this.nextLiveFrame() ?? this.silenceFrame;
    this.sent.push({ audio: frame, at: performance.now() });
    if (this.line !== undefined) this.line.sendAudio(frame);
    else this.socket?.send(int16ToBytes(frame));
    this.nextFrameAt += (this.frameSamples * 1000) / this.sampleRate;
    this.pump = setTimeout(() => this.sendFrame(), Math.max(0, this.nextFrameAt - performance.now()));
  }

  /** The next frame of live audio, or undefined while the jitter buffer is (re)filling. */
  private nextLiveFrame(): Int16Array | undefined {
    if (!this.livePrimed && this.liveSamples < this.frameSamples * 2) return undefined;
    if (this.liveSamples < this.frameSamples) {
      this.livePrimed = false;
      return undefined;
    }
    this.livePrimed = true;
    const frame = new Int16Array(this.frameSamples);
    let filled = 0;
    while (filled < this.frameSamples) {
      const chunk = this.live[0]!;
      const n = Math.min(chunk.length - this.liveOffset, this.frameSamples - filled);
      frame.set(chunk.subarray(this.liveOffset, this.liveOffset + n), filled);
      filled += n;
      this.liveOffset += n;
      if (this.liveOffset >= chunk.length) {
        this.live.shift();
        this.liveOffset = 0;
      }
    }
    this.liveSamples -= this.frameSamples;
    return frame;
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
