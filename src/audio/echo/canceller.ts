// EchoCanceller: the agent's own voice taken out of the caller's audio, as a stream. The reference is what the
// output transport plays, each chunk placed on a timeline at the time it plays (`playsAtMs`); caller audio is
// placed on the same timeline by the time it arrives. So the echo always comes later than its reference by the
// echo path's delay (network round trip, loudspeaker to microphone), whatever the order in which chunks reach the
// two sides, and a lead the output keeps ahead of real time is accounted for. The adaptive filter models `tailMs`
// of echo path; a bulk delay estimator (delay-estimator.ts) finds where the echo is, up to `maxDelayMs`, and when
// it falls outside the filter's window the reference fed to the filter is delayed by whole blocks to bring it in.
// The start-up guard (the suppressor treating the recent reference as possible echo while the filter learns) only
// acts once an echo has been heard: the filter cancelling part of the microphone, or the estimator locking on a
// delay. With no echo on the line, the caller talking over the agent's first words passes untouched.
//
// Caller audio is processed in blocks of about 8 ms; the output has the same length as the input, delayed by two
// blocks (the block being gathered and the suppressor's overlap), so timing downstream is unchanged.
import { PartitionedBlockFilter } from './adaptive-filter.js';
import { DelayEstimator } from './delay-estimator.js';
import { ResidualEchoSuppressor } from './residual-suppressor.js';

export interface EchoCancellerOptions {
  /** Rate of both the caller audio and the reference. */
  sampleRate: number;
  /** Longest echo delay modelled by the adaptive filter. Default 250 ms. */
  tailMs?: number;
  /** Longest echo delay looked for by the bulk delay estimator (the filter's tail then starts near it). Default 1000 ms. */
  maxDelayMs?: number;
}

// Caller audio whose arrival time disagrees with the running sample count by more than this has skipped (a gap
// in the stream): its place on the timeline is taken from the clock again.
const RESYNC_MS = 120;
// How much reference the timeline keeps, beyond the longest delay and the tail: any lead the output takes.
const LEAD_ROOM_MS = 1000;
// Where the estimated echo delay is placed in the filter's window when the reference is shifted: a few blocks in
// (the estimate is good to a block, and a path can have energy before its peak) ...
const DELAY_MARGIN_BLOCKS = 3;
// ... and a shift is only made when the echo is not already between 1 and 6 blocks in (hysteresis: an estimate
// that wavers by a block or two moves nothing). Near the start, not anywhere in the window: the whole tail is then
// left for the room's reverberation, and the filter was measured to converge far worse on a path deep in its
// window (a 120 ms echo: 5 dB less echo at 1-2 s unshifted, 16 dB shifted).
const MIN_DELAY_IN_WINDOW_BLOCKS = 1;
const MAX_DELAY_IN_WINDOW_BLOCKS = 6;
// How much the filter must take out of the microphone (dB) to show that an echo is there.
const ECHO_EVIDENCE_DB = 3;

export class EchoCanceller {
  readonly sampleRate: number;
  readonly blockSamples: number;
  /** The delay the canceller adds, in samples. */
  readonly latencySamples: number;
  private readonly filter: PartitionedBlockFilter;
  private readonly suppressor: ResidualEchoSuppressor;
  private readonly estimator: DelayEstimator;
  /** The reference's timeline (int16 values: Float32 holds them exactly in half the memory). */
  private readonly timeline: Float32Array;
  private readonly timelineMask: number;
  /** The timeline index just past the last reference sample written. */
  private referenceEnd = 0;
  /** The timeline index of the next caller sample; undefined before the first. */
  private nearNext: number | undefined;
  private readonly near: Float64Array;
  private readonly far: Float64Array;
  /** The reference at the microphone's own time (no shift), for the delay estimator. */
  private readonly farNow: Float64Array;
  private readonly cleaned: Float64Array;
  /** The delay (whole blocks) by which the reference fed to the filter is shifted. */
  private shiftBlocks = 0;
  /** Whether an echo has been heard on this call (see the header). */
  private echoHeard = false;
  private nearFill = 0;
  private nearBlockStart = 0;
  private pending: Int16Array;
  private pendingLength: number;

  constructor(options: EchoCancellerOptions) {
    const { sampleRate } = options;
    if (!Number.isInteger(sampleRate) || sampleRate <= 0) throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
    const tailMs = options.tailMs ?? 250;
    if (!(tailMs > 0)) throw new RangeError(`tailMs must be positive, got ${tailMs}`);
    this.sampleRate = sampleRate;
    // About 8 ms, a power of two for the FFT: 64 samples at 8 kHz, 128 at 16 kHz, 512 at 48 kHz.
    this.blockSamples = 2 ** Math.round(Math.log2(sampleRate * 0.008));
    const partitions = Math.ceil((tailMs * sampleRate) / 1000 / this.blockSamples);
    this.filter = new PartitionedBlockFilter({ blockSamples: this.blockSamples, partitions });
    this.suppressor = new ResidualEchoSuppressor(this.blockSamples);
    const maxDelayMs = options.maxDelayMs ?? 1000;
    this.estimator = new DelayEstimator({ sampleRate, blockSamples: this.blockSamples, maxDelayMs });
    const timelineSamples = 2 ** Math.ceil(Math.log2(((maxDelayMs + tailMs + LEAD_ROOM_MS) * sampleRate) / 1000));
    this.timeline = new Float32Array(timelineSamples);
    this.timelineMask = timelineSamples - 1;
    this.near = new Float64Array(this.blockSamples);
    this.far = new Float64Array(this.blockSamples);
    this.farNow = new Float64Array(this.blockSamples);
    this.cleaned = new Float64Array(this.blockSamples);
    this.latencySamples = 2 * this.blockSamples;
    this.pending = new Int16Array(4 * this.blockSamples);
    // The suppressor returns each block one block later, so one block of silence up front makes the delay two.
    this.pendingLength = this.blockSamples;
  }

  /** The agent's audio (at `sampleRate`) that starts playing at `playsAtMs` on the call's clock. */
  pushReference(samples: Int16Array, playsAtMs: number): void {
    let start = Math.round((playsAtMs * this.sampleRate) / 1000);
    // Chunks that follow on within a millisecond are one stream (a resampler's output varies by a sample or so):
    // placed end to end, with no sample of silence or overlap between them.
    if (Math.abs(start - this.referenceEnd) <= this.sampleRate / 1000) start = this.referenceEnd;
    const size = this.timeline.length;
    if (start + samples.length <= this.referenceEnd - size) return; // older than the timeline keeps
    // Silence between the last reference and this one: nothing played there.
    for (let i = Math.max(this.referenceEnd, start - size); i < start; i++) this.timeline[i & this.timelineMask] = 0;
    for (let i = 0; i < samples.length; i++) this.timeline[(start + i) & this.timelineMask] = samples[i]!;
    this.referenceEnd = Math.max(this.referenceEnd, start + samples.length);
  }

  /** Caller audio that arrived at `nowMs` (its last sample then); returns as many samples, echo removed. */
  process(input: Int16Array, nowMs: number): Int16Array {
    const arrivedStart = Math.round((nowMs * this.sampleRate) / 1000) - input.length;
    if (this.nearNext === undefined || Math.abs(this.nearNext - arrivedStart) > (RESYNC_MS * this.sampleRate) / 1000) {
      this.nearNext = arrivedStart;
      if (this.nearFill === 0) this.nearBlockStart = arrivedStart;
    }
    const n = this.blockSamples;
    for (let i = 0; i < input.length; i++) {
      if (this.nearFill === 0) this.nearBlockStart = this.nearNext + i;
      this.near[this.nearFill++] = input[i]!;
      if (this.nearFill === n) {
        this.nearFill = 0;
        this.processBlock();
      }
    }
    this.nearNext += input.length;
    const count = Math.min(input.length, this.pendingLength);
    const output = new Int16Array(input.length);
    output.set(this.pending.subarray(0, count));
    this.pending.copyWithin(0, count, this.pendingLength);
    this.pendingLength -= count;
    return output;
  }

  /** The adaptive filter's current residual-echo leak estimate (for diagnostics and tests). */
  get leak(): number {
    return this.suppressor.leak;
  }

  /** The echo's delay as estimated (ms; undefined until found), and the shift of the filter's window (ms). */
  get delay(): { echoMs: number | undefined; shiftMs: number; echoHeard: boolean } {
    const blockMs = (1000 * this.blockSamples) / this.sampleRate;
    const echo = this.estimator.delayBlocks;
    return { echoMs: echo === undefined ? undefined : echo * blockMs, shiftMs: this.shiftBlocks * blockMs, echoHeard: this.echoHeard };
  }

  private processBlock(): void {
    this.readReference(this.nearBlockStart, this.farNow);
    this.estimator.process(this.near, this.farNow);
    this.followDelay();
    this.readReference(this.nearBlockStart - this.shiftBlocks * this.blockSamples, this.far);
    this.filter.process(this.near, this.far, this.suppressor.leak, this.echoHeard);
    if (!this.echoHeard) this.echoHeard = this.estimator.delayBlocks !== undefined || this.filter.cancellationDb >= ECHO_EVIDENCE_DB;
    // No echo heard: nothing to guard against, whatever the filter has still to learn.
    const learningShare = this.echoHeard ? this.filter.learningShare : 0;
    this.suppressor.process(this.filter.error, this.filter.echo, this.far, learningShare, this.cleaned);
    this.emit();
  }

  /** The reference from timeline index `start`, one block, into `out` (silence where none was played or kept). */
  private readReference(start: number, out: Float64Array): void {
    const size = this.timeline.length;
    for (let i = 0; i < out.length; i++) {
      const at = start + i;
      out[i] = at >= 0 && at < this.referenceEnd && at >= this.referenceEnd - size ? this.timeline[at & this.timelineMask]! : 0;
    }
  }

  /** The filter's window moved when the estimated echo delay falls outside it (see the constants). */
  private followDelay(): void {
    const delay = this.estimator.delayBlocks;
    if (delay === undefined) return;
    const inWindow = delay - this.shiftBlocks;
    if (inWindow >= MIN_DELAY_IN_WINDOW_BLOCKS && inWindow <= MAX_DELAY_IN_WINDOW_BLOCKS) return;
    const shift = Math.max(0, delay - DELAY_MARGIN_BLOCKS);
    if (shift === this.shiftBlocks) return;
    const n = this.blockSamples;
    const start = this.nearBlockStart - shift * n;
    this.filter.realign(shift - this.shiftBlocks, (blocksBack, out) => this.readReference(start - blocksBack * n, out));
    this.shiftBlocks = shift;
  }

  private emit(): void {
    const n = this.blockSamples;
    if (this.pendingLength + n > this.pending.length) {
      const grown = new Int16Array(this.pending.length * 2);
      grown.set(this.pending.subarray(0, this.pendingLength));
      this.pending = grown;
    }
    for (let i = 0; i < n; i++) {
      const v = Math.round(this.cleaned[i]!);
      this.pending[this.pendingLength + i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
    }
    this.pendingLength += n;
  }
}
