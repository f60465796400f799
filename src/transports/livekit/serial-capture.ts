// Hands audio chunks to an rtc-node AudioSource one at a time. The native source refuses a capture while the
// previous one is still waiting for room in its queue ("InvalidState - failed to capture frame": webrtc-sys
// audio_track.cpp, capture_frame), so a chunk written before the last capture resolved would be dropped — seen as
// ~180 dropped chunks in one demo call on a loaded machine. Chunks wait here instead, in order.
import type * as Rtc from '@livekit/rtc-node';

export class SerialCapture {
  private waiting: Int16Array[] = [];
  private draining = false;

  constructor(
    private readonly rtc: typeof Rtc,
    private readonly source: Rtc.AudioSource,
    private readonly sampleRate: number,
    private readonly onError: (error: unknown) => void,
  ) {}

  /** Queues one mono chunk at the source's rate. */
  write(chunk: Int16Array): void {
    // rtc-node passes `data.buffer` to native code from its start, ignoring a view's offset and length: a view
    // would send the wrong samples, so views are copied (whole arrays, what our chunker makes, are not).
    this.waiting.push(chunk.byteOffset === 0 && chunk.byteLength === chunk.buffer.byteLength ? chunk : chunk.slice());
    if (!this.draining) void this.drain();
  }

  /** Drops what waits here and in the source's queue (an interruption). */
  clear(): void {
    this.waiting = [];
    this.source.clearQueue();
  }

  /** Chunks not yet handed to the source. */
  get backlog(): number {
    return this.waiting.length;
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      for (let chunk = this.waiting.shift(); chunk !== undefined; chunk = this.waiting.shift()) {
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
}
