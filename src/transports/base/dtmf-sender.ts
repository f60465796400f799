// DtmfSender: presses the agent's keys on the call one at a time, spaced out. A far end (an IVR, a PBX) reads a
// key from its tone or RFC 4733 event, and keys sent back to back can merge or be dropped, so each key is
// followed by `gapMs` of quiet; `w` is a longer pause. The output transport owns one and feeds it the keys in the
// order they are played; all waiting is on the pipeline's clock.
import type { DtmfDigit, DtmfSendKey } from '../../frames/index.js';
import { sleep, type Clock } from '../../runtime/clock.js';

export interface DtmfSenderOptions {
  /** Sends one key to the call (may resolve once the transport has sent it). */
  write: (digit: DtmfDigit) => void | Promise<void>;
  /** The clock the gaps are timed on (read at each wait: a processor gets its clock at setup). */
  clock: () => Clock;
  /** Called when a key could not be sent; the keys after it are still sent. */
  onError: (error: unknown) => void;
  /** Quiet after each key. Default 300 ms (LiveKit's agents wait as long between published keys). */
  gapMs?: number;
  /** Length of a `w`. Default 500 ms (the usual meaning of `w` in a dial string). */
  pauseMs?: number;
}

export class DtmfSender {
  private readonly options: DtmfSenderOptions;
  private readonly gapMs: number;
  private readonly pauseMs: number;
  private pending: DtmfSendKey[] = [];
  private running: Promise<void> | undefined;
  private abort = new AbortController();

  constructor(options: DtmfSenderOptions) {
    this.options = options;
    this.gapMs = Math.max(0, options.gapMs ?? 300);
    this.pauseMs = Math.max(0, options.pauseMs ?? 500);
  }

  /** Whether keys are waiting or being sent. */
  get busy(): boolean {
    return this.running !== undefined;
  }

  /** Queues a key; it is sent after the keys before it and their gaps. */
  send(key: DtmfSendKey): void {
    this.pending.push(key);
    this.running ??= this.run();
  }

  /** Resolves once every queued key has been sent (at once when idle). */
  async drained(): Promise<void> {
    while (this.running !== undefined) await this.running;
  }

  /** Drops the keys not sent yet (the call is over). */
  close(): void {
    this.pending = [];
    this.abort.abort();
    this.abort = new AbortController();
  }

  private async run(): Promise<void> {
    try {
      for (let key = this.pending.shift(); key !== undefined; key = this.pending.shift()) {
        const signal = this.abort.signal;
        if (key !== 'w') {
          try {
            await this.options.write(key);
          } catch (error) {
            this.options.onError(error);
          }
        }
        if (!(await sleep(this.options.clock(), key === 'w' ? this.pauseMs : this.gapMs, signal))) break;
      }
    } finally {
      this.running = undefined;
      // A key queued while the last gap was being cut short by close() starts a new run.
      if (this.pending.length > 0) this.running = this.run();
    }
  }
}
