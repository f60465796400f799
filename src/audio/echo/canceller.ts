// EchoCanceller: the agent's own voice taken out of the caller's audio, as a stream. The reference is what the
// output transport plays, each chunk placed on a timeline at the time it plays (`playsAtMs`); caller audio is
// placed on the same timeline by the time it arrives. So the echo always comes later than its reference by the
// echo path's delay (network round trip, loudspeaker to microphone), whatever the order in which chunks reach the
// two sides, and a lead the output keeps ahead of real time is accounted for. The adaptive filter models `tailMs`
// of that delay; a path longer than the tail is only caught by the residual suppressor.
//
// Caller audio is processed in blocks of about 8 ms; the output has the same length as the input, delayed by two
// blocks (the block being gathered and the suppressor's overlap), so timing downstream is unchanged.
import { PartitionedBlockFilter } from './adaptive-filter.js';
import { ResidualEchoSuppressor } from './residual-suppressor.js';

export interface EchoCancellerOptions {
  /** Rate of both the caller audio and the reference. */
  sampleRate: number;
  /** Longest echo delay modelled by the adaptive filter. Default 250 ms. */
  tailMs?: number;
}

// Caller audio whose arrival time disagrees with the running sample count by more than this has skipped (a gap
// in the stream): its place on the timeline is taken from the clock again.
const RESYNC_MS = 120;
// How much reference the timeline keeps: the tail plus any lead the output takes, with room to spare.
const TIMELINE_MS = 2000;

export class EchoCanceller {
  readonly sampleRate: number;
  readonly blockSamples: number;
  /** The delay the canceller adds, in samples. */
  readonly latencySamples: number;
  private readonly filter: PartitionedBlockFilter;
  private readonly suppressor: ResidualEchoSuppressor;
  private readonly timeline: Float64Array;
  private readonly timelineMask: number;
  /** The timeline index just past the last reference sample written. */
  private referenceEnd = 0;
  /** The timeline index of the next caller sample; undefined before the first. */
  private nearNext: number | undefined;
  private readonly near: Float64Array;
  private readonly far: Float64Array;
  private readonly cleaned: Float64Array;
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
    const timelineSamples = 2 ** Math.ceil(Math.log2((TIMELINE_MS * sampleRate) / 1000));
    this.timeline = new Float64Array(timelineSamples);
    this.timelineMask = timelineSamples - 1;
    this.near = new Float64Array(this.blockSamples);
    this.far = new Float64Array(this.blockSamples);
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

  private processBlock(): void {
    const n = this.blockSamples;
    const size = this.timeline.length;
    for (let i = 0; i < n; i++) {
      const at = this.nearBlockStart + i;
      this.far[i] = at >= 0 && at < this.referenceEnd && at >= this.referenceEnd - size ? this.timeline[at & this.timelineMask]! : 0;
    }
    this.filter.process(this.near, this.far, this.suppressor.leak);
    this.suppressor.process(this.filter.error, this.filter.echo, this.far, this.filter.learningShare, this.cleaned);
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
