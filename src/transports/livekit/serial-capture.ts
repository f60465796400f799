// Hands audio chunks to an rtc-node AudioSource one at a time. The native source refuses a capture while the
// previous one is still waiting for room in its queue ("InvalidState - failed to capture frame": webrtc-sys
// audio_track.cpp, capture_frame), so a chunk written before the last capture resolved would be dropped — seen as
// ~180 dropped chunks in one demo call on a loaded machine. Chunks wait here instead, in order.
// Each capture resolves through rtc-node's FFI callback, one event-loop turn or more: on a loaded machine that round
// trip outlasts a 20 ms chunk, so one chunk per capture fell behind real time and the backlog grew without bound
// (2.5 s after 10 s at load 18: the caller's speech reached the agent seconds late). Chunks that waited are
// therefore handed over together, up to `maxBatchMs` per capture (with the agent's 200 ms lead, a batch still
// fits the source's 300 ms queue: LIVEKIT_SOURCE_QUEUE_MS). Once the source's queue is full, captures resolve at
// the pace it plays, real time: a backlog left by a stall then never shrinks, and the source, run dry meanwhile, has
// played silence in its place: each stall adds its length to the line's delay for good. A live line that sends all the time (the simulated caller: silence
// between its words) therefore drops silent chunks while more than `dropSilenceAheadMs` is ahead of real time: it
// catches up in its pauses, as a phone network's jitter buffer does, and speech is never cut. The first
// `minPauseMs` of each pause is kept, so words and turns stay apart (a VAD needs 0.2 s of silence to end a turn). (Issue 15: without it
// the caller's backlog reached 0.1 / 0.5 / 2.3 s with 1 / 2 / 4 callers in one process.) `maxBacklogMs` bounds the
// backlog by dropping the oldest audio, speech too; the agent's voice keeps every chunk (no bound: its output
// transport paces it, and it pauses between utterances).
import type * as Rtc from '@livekit/rtc-node';

/** A chunk whose samples all stay within this (about −54 dBFS) is silence, for `dropSilenceAheadMs`. */
const SILENT_PEAK = 64;

function isSilent(chunk: Int16Array): boolean {
  for (let i = 0; i < chunk.length; i++) if (chunk[i]! > SILENT_PEAK || chunk[i]! < -SILENT_PEAK) return false;
  return true;
}

export class SerialCapture {
  private waiting: Int16Array[] = [];
  private draining = false;
  private waitingSamples = 0;
  private readonly maxBatchSamples: number;
  private readonly maxBacklogSamples: number;
  private readonly dropSilenceAheadMs: number;
  private readonly minPauseMs: number;
  /** Silence written since the last sound (ms). */
  private pauseMs = 0;
  /** Chunks dropped because the backlog was over `maxBacklogMs`. */
  dropped = 0;
  /** Silent chunks dropped because the line was more than `dropSilenceAheadMs` ahead of real time. */
  droppedSilent = 0;

  constructor(
    private readonly rtc: typeof Rtc,
    private readonly source: Rtc.AudioSource,
    private readonly sampleRate: number,
    private readonly onError: (error: unknown) => void,
    options: { maxBatchMs?: number; maxBacklogMs?: number; dropSilenceAheadMs?: number; minPauseMs?: number } = {},
  ) {
    this.dropSilenceAheadMs = options.dropSilenceAheadMs ?? Infinity;
    this.minPauseMs = options.minPauseMs ?? 300;
    this.maxBatchSamples = Math.max(1, Math.round((sampleRate * (options.maxBatchMs ?? 50)) / 1000));
    this.maxBacklogSamples = options.maxBacklogMs === undefined ? Infinity : Math.round((sampleRate * options.maxBacklogMs) / 1000);
  }

  /** Queues one mono chunk at the source's rate. */
  write(chunk: Int16Array): void {
    if (this.dropSilenceAheadMs !== Infinity) {
      if (!isSilent(chunk)) this.pauseMs = 0;
      else if (this.pauseMs >= this.minPauseMs && this.aheadMs > this.dropSilenceAheadMs) {
        this.droppedSilent++;
        return;
      } else this.pauseMs += (chunk.length * 1000) / this.sampleRate;
    }
    // rtc-node passes `data.buffer` to native code from its start, ignoring a view's offset and length: a view
    // would send the wrong samples, so views are copied (whole arrays, what our chunker makes, are not).
    this.waiting.push(chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice());
    this.waitingSamples += chunk.length;
    while (this.waitingSamples > this.maxBacklogSamples && this.waiting.length > 1) {
      this.waitingSamples -= this.waiting.shift()!.length;
      this.dropped++;
    }
    if (!this.draining) void this.drain();
  }

  /** Drops what waits here and in the source's queue (an interruption). */
  clear(): void {
    this.waiting = [];
    this.waitingSamples = 0;
    this.source.clearQueue();
  }

  /**
   * Audio written and not yet played (ms): what waits here, and the source's queue as rtc-node reckons it (captured
   * audio less the real time since, never below zero: a source run dry plays silence and loses no lead).
   */
  get aheadMs(): number {
    return (this.waitingSamples * 1000) / this.sampleRate + this.source.queuedDuration;
  }

  /** Chunks not yet handed to the source. */
  get backlog(): number {
    return this.waiting.length;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let chunk = this.nextBatch(); chunk !== undefined; chunk = this.nextBatch()) {
        try {
          await this.source.captureFrame(new this.rtc.AudioFrame(chunk, this.sampleRate, 1, chunk.length));
        } catch (error) {
          this.onError(error);
        }
      }
    } finally {
      this.draining = false;
    }
  }

  /** The first waiting chunk, joined with those after it while the batch stays within `maxBatchSamples`. */
  private nextBatch(): Int16Array | undefined {
    const first = this.waiting[0];
    if (first === undefined) return undefined;
    let count = 1;
    let samples = first.length;
    while (count < this.waiting.length && samples + this.waiting[count]!.length <= this.maxBatchSamples) {
      samples += this.waiting[count]!.length;
      count++;
    }
    const taken = this.waiting.splice(0, count);
    this.waitingSamples -= samples;
    if (count === 1) return first;
    const batch = new Int16Array(samples);
    let offset = 0;
    for (const chunk of taken) {
      batch.set(chunk, offset);
      offset += chunk.length;
    }
    return batch;
  }
}
