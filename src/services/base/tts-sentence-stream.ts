// SentenceStream: the hand-off of one sentence's audio and word timings from a WebSocket TTS's message handler
// (which the socket drives) to its `synthesize` generator (which the TTSService base pulls), with a watchdog for a
// server gone quiet, and the sentence's first audio held back until its first word timing arrives (up to a limit).
// Its timer runs on the service's clock.
import { systemClock, type Clock, type ClockTimer } from '../../runtime/clock.js';
import type { TTSChunk } from './tts-service.js';

/**
 * The chunks of one sentence, handed from the socket's message handler to the `synthesize` generator. A watchdog
 * calls `onIdle` when the server has been quiet for the current wait (see `watch`).
 */
export class SentenceStream {
  private readonly items: TTSChunk[] = [];
  /**
   * Audio held back until the sentence's first word timing arrives: the base class decides on the first audio
   * chunk whether the vendor gives word timings (else it sends the whole sentence as one tts-text), and a vendor may
   * send a chunk's timings after the chunk, or end a chunk in the middle of the sentence's first word.
   */
  private held: Int16Array[] | undefined;
  private heldSamples = 0;
  private waiter: { resolve: (chunk: TTSChunk | undefined) => void; reject: (error: Error) => void } | undefined;
  private failure: Error | undefined;
  private watchdog: ClockTimer | undefined;
  finished = false;
  /** True once the sentence's audio is known to be complete. */
  complete = false;
  /** True once the server sent anything about this sentence. */
  heard = false;

  constructor(
    /** Samples of audio to hold back at most while waiting for the first word timing; 0 holds nothing. */
    private readonly holdLimit: number,
    private readonly onIdle: () => void,
    /** The watchdog's time: the service's clock. */
    private readonly clock: Clock = systemClock,
  ) {
    if (holdLimit > 0) this.held = [];
  }

  /** (Re)arms the watchdog: `onIdle` runs if nothing else happens for `ms`. */
  watch(ms: number): void {
    if (this.finished) return;
    this.clock.clearTimeout(this.watchdog);
    this.watchdog = this.clock.setTimeout(this.onIdle, ms);
    this.watchdog.unref();
  }

  push(chunk: TTSChunk): void {
    if (this.finished) return;
    if (this.held !== undefined) {
      if (chunk.type === 'audio') {
        this.held.push(chunk.audio);
        this.heldSamples += chunk.audio.length;
        // Timings that do not come (an older API version, say) must not hold the whole sentence back.
        if (this.heldSamples >= this.holdLimit) this.release();
        return;
      }
      this.deliver(chunk);
      this.release();
      return;
    }
    this.deliver(chunk);
  }

  /** The sentence is complete: what is buffered is still yielded. */
  end(): void {
    if (this.finished) return;
    this.release();
    this.complete = true;
    this.finish();
  }

  /** Interrupted: nothing more is yielded, not even what is buffered. */
  stop(): void {
    this.items.length = 0;
    this.held = undefined;
    this.finish();
  }

  /** Failed: what is buffered is yielded, then `error` is thrown. */
  fail(error: Error): void {
    if (this.finished) return;
    this.release();
    this.failure = error;
    this.finish();
  }

  next(): Promise<TTSChunk | undefined> {
    const item = this.items.shift();
    if (item !== undefined) return Promise.resolve(item);
    if (this.finished) return this.failure === undefined ? Promise.resolve(undefined) : Promise.reject(this.failure);
    return new Promise((resolve, reject) => (this.waiter = { resolve, reject }));
  }

  private release(): void {
    const held = this.held;
    this.held = undefined;
    for (const audio of held ?? []) this.deliver({ type: 'audio', audio });
  }

  private deliver(chunk: TTSChunk): void {
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter !== undefined) waiter.resolve(chunk);
    else this.items.push(chunk);
  }

  private finish(): void {
    this.finished = true;
    this.clock.clearTimeout(this.watchdog);
    const waiter = this.waiter;
    this.waiter = undefined;
    if (waiter === undefined) return;
    if (this.failure === undefined) waiter.resolve(undefined);
    else waiter.reject(this.failure);
  }
}
