// JitterBuffer: turns caller audio as a carrier's network delivers it (bursts after a stall, packets out of order,
// packets missing or arriving after their time) into a steady stream of equal frames, one every `frameMs` on the
// call's clock, for the VAD and the STT.
//
// Packets are placed by the position the carrier gives (a sample index derived from its timestamp or sequence
// number); a carrier that gives none (the Piopiy stream) is played in arrival order. Playout starts `startDelayMs`
// after the first packet, which is the reordering window: a packet arriving later than its frame's turn is `late`
// and dropped. A frame with no audio is `lost` and concealed: the last frame repeated with a falling gain for up to
// `maxConcealMs` (a short gap then sounds like the speech around it instead of a click the VAD could take for a
// pause), silence after that. When more than `maxDelayMs` is buffered (a burst after a stall), frames are played at
// once until the delay is back at the start delay, so the added latency stays bounded and no audio is dropped.
// After `idleStopMs` with nothing received the clock stops; the next packet starts it again with the start delay.
import type { Clock, ClockTimer } from '../../runtime/clock.js';

/** A packet further ahead of playout than this many frames (1 s at 20 ms) restarts playout at it. */
const RESYNC_FRAMES = 50;

export interface JitterBufferOptions {
  /** Rate of the audio pushed and played. */
  sampleRate: number;
  /** Length of each frame played. Default 20 ms (a carrier packet). */
  frameMs?: number;
  /** Delay from the first packet to the first frame played: the reordering window. Default 40 ms (two packets). */
  startDelayMs?: number;
  /** Buffered audio beyond which frames are played at once to catch up. Default 200 ms. */
  maxDelayMs?: number;
  /** Longest gap filled from the previous frame (fading); silence after. Default 60 ms. */
  maxConcealMs?: number;
  /** Time without any packet after which playout pauses. Default 200 ms. */
  idleStopMs?: number;
  /** The clock frames are timed on (read when playout starts: a processor gets its clock at setup). */
  clock: () => Clock;
  /** Receives each frame (a new array, `frameMs` long). */
  onFrame: (frame: Int16Array) => void;
}

/** What the buffer has seen since it was made. */
export interface JitterBufferStats {
  /** Packets pushed. */
  receivedPackets: number;
  /** Packets dropped because their frames had already been played. */
  latePackets: number;
  /** Frames played. */
  playedFrames: number;
  /** Frames played with no audio received for them (concealed or silent). */
  lostFrames: number;
  /** Frames played ahead of their time to bring the delay back down after a burst. */
  catchUpFrames: number;
}

export class JitterBuffer {
  readonly frameSamples: number;
  readonly frameMs: number;
  private readonly options: JitterBufferOptions;
  private readonly startDelayMs: number;
  private readonly maxDelayFrames: number;
  private readonly startDelayFrames: number;
  private readonly maxConcealFrames: number;
  private readonly idleStopFrames: number;
  private readonly frames = new Map<number, Int16Array>();
  /** Sample position (relative to `origin`) just after the furthest audio received. */
  private endPosition = 0;
  private origin: number | undefined;
  private nextFrame = 0;
  private lastFrame: Int16Array | undefined;
  private concealRun = 0;
  private idleFrames = 0;
  private timer: ClockTimer | undefined;
  private nextTickAt = 0;
  private closed = false;
  private readonly counters: JitterBufferStats = {
    receivedPackets: 0,
    latePackets: 0,
    playedFrames: 0,
    lostFrames: 0,
    catchUpFrames: 0,
  };

  constructor(options: JitterBufferOptions) {
    if (!Number.isInteger(options.sampleRate) || options.sampleRate <= 0) {
      throw new RangeError(`JitterBuffer: sampleRate must be a positive integer, got ${options.sampleRate}`);
    }
    this.options = options;
    this.frameMs = options.frameMs ?? 20;
    this.frameSamples = Math.round((options.sampleRate * this.frameMs) / 1000);
    if (this.frameSamples <= 0) throw new RangeError(`JitterBuffer: frameMs too small, got ${this.frameMs}`);
    this.startDelayMs = Math.max(0, options.startDelayMs ?? 40);
    this.startDelayFrames = Math.ceil(this.startDelayMs / this.frameMs);
    this.maxDelayFrames = Math.max(this.startDelayFrames + 1, Math.ceil((options.maxDelayMs ?? 200) / this.frameMs));
    this.maxConcealFrames = Math.floor(Math.max(0, options.maxConcealMs ?? 60) / this.frameMs);
    this.idleStopFrames = Math.max(1, Math.ceil((options.idleStopMs ?? 200) / this.frameMs));
  }

  get stats(): Readonly<JitterBufferStats> {
    return { ...this.counters };
  }

  /** Milliseconds of audio received and not yet played. */
  get bufferedMs(): number {
    return Math.max(0, this.endPosition / this.frameSamples - this.nextFrame) * this.frameMs;
  }

  /**
   * One packet of audio. `position` is the sample index of its first sample in the carrier's own count (from
   * its timestamp or sequence number); without it the packet follows the audio received before it.
   */
  push(samples: Int16Array, position?: number): void {
    if (this.closed || samples.length === 0) return;
    this.counters.receivedPackets++;
    let at: number;
    if (position === undefined) {
      // No position: arrival order. Audio that comes after an underrun continues from the frame playing now.
      at = Math.max(this.endPosition, this.nextFrame * this.frameSamples);
    } else {
      this.origin ??= position;
      at = position - this.origin;
      const index = Math.floor(at / this.frameSamples);
      const paused = this.timer === undefined && this.counters.playedFrames > 0;
      if (paused || index - this.nextFrame > RESYNC_FRAMES) {
        // Playout paused (no packets for a while), or the carrier's count jumped ahead: resume at this packet.
        // Neither is a loss, and catching up over the jump would play seconds of silence at once.
        this.frames.clear();
        this.nextFrame = Math.max(this.nextFrame, index);
        this.endPosition = Math.max(this.endPosition, this.nextFrame * this.frameSamples);
      }
    }
    if (!this.write(samples, at)) this.counters.latePackets++;
    this.idleFrames = 0;
    this.start();
  }

  /** Plays at once what is buffered (the stream ended), then stops. */
  flush(): void {
    if (this.closed) return;
    const lastFrame = Math.ceil(this.endPosition / this.frameSamples);
    while (this.nextFrame < lastFrame) this.playFrame();
    this.stopTimer();
  }

  close(): void {
    this.closed = true;
    this.stopTimer();
    this.frames.clear();
  }

  /** Writes samples from relative position `at`; false when all of them were late. */
  private write(samples: Int16Array, at: number): boolean {
    let wrote = false;
    let offset = 0;
    const playedUpTo = this.nextFrame * this.frameSamples;
    if (at < playedUpTo) offset = Math.min(samples.length, playedUpTo - at);
    while (offset < samples.length) {
      const position = at + offset;
      const index = Math.floor(position / this.frameSamples);
      const within = position - index * this.frameSamples;
      let frame = this.frames.get(index);
      if (frame === undefined) {
        frame = new Int16Array(this.frameSamples);
        this.frames.set(index, frame);
      }
      const count = Math.min(this.frameSamples - within, samples.length - offset);
      frame.set(samples.subarray(offset, offset + count), within);
      offset += count;
      wrote = true;
    }
    this.endPosition = Math.max(this.endPosition, at + samples.length);
    return wrote;
  }

  private start(): void {
    if (this.timer !== undefined || this.closed) return;
    const clock = this.options.clock();
    this.nextTickAt = clock.now() + this.startDelayMs;
    this.timer = clock.setTimeout(() => this.tick(), this.startDelayMs);
  }

  private tick(): void {
    this.timer = undefined;
    this.playFrame();
    // A burst left too much buffered: play down to the start delay now rather than carry the latency all call.
    if (this.bufferedFrames() > this.maxDelayFrames) {
      while (this.bufferedFrames() > this.startDelayFrames) {
        this.counters.catchUpFrames++;
        this.playFrame();
      }
    }
    if (this.closed) return;
    if (this.bufferedFrames() <= 0 && ++this.idleFrames >= this.idleStopFrames) return; // pause until a packet
    const clock = this.options.clock();
    this.nextTickAt += this.frameMs;
    this.timer = clock.setTimeout(() => this.tick(), Math.max(0, this.nextTickAt - clock.now()));
  }

  private bufferedFrames(): number {
    return Math.ceil(this.endPosition / this.frameSamples) - this.nextFrame;
  }

  private playFrame(): void {
    const index = this.nextFrame++;
    let frame = this.frames.get(index);
    if (frame !== undefined) {
      this.frames.delete(index);
      this.lastFrame = frame;
      this.concealRun = 0;
    } else {
      this.counters.lostFrames++;
      frame = this.conceal();
    }
    this.counters.playedFrames++;
    this.options.onFrame(frame);
  }

  /** A frame for a gap: the last frame at a falling gain while the gap is short, silence after. */
  private conceal(): Int16Array {
    const frame = new Int16Array(this.frameSamples);
    const last = this.lastFrame;
    this.concealRun++;
    if (last === undefined || this.concealRun > this.maxConcealFrames) return frame;
    const gain = 1 - this.concealRun / (this.maxConcealFrames + 1);
    for (let i = 0; i < frame.length; i++) frame[i] = Math.round(last[i]! * gain);
    return frame;
  }

  private stopTimer(): void {
    if (this.timer !== undefined) this.options.clock().clearTimeout(this.timer);
    this.timer = undefined;
  }
}
