// The linear part of the echo canceller: a partitioned-block frequency-domain adaptive filter (multidelay block
// filter, overlap-save, gradient-constrained NLMS). The far-end reference is cut into blocks of N samples; the
// echo path, up to M blocks long (the tail), is modelled as M partitions of N+1 complex gains, one per block of
// delay, so a long tail costs M multiply-adds per bin instead of a long time-domain convolution.
//
// Double talk (the caller speaking over the agent) is handled twice. The background filter's step shrinks with
// the share of the error that is echo (the optimal NLMS step: residual echo power over error power, the residual
// being the suppressor's leak estimate times the echo estimate's power), so near-end speech, which fills the error
// but is not echo, barely moves it; until it has seen enough far-end speech it learns at the full step. And the
// foreground filter, which produces the output, only changes by
// taking the background's coefficients when the background clearly cancels more. Near-end speech makes the
// background diverge, which shows as more error than the foreground's, so the foreground keeps the echo path it
// had and the caller's voice is not learned away; a background that stays much worse is reset to the foreground.
import { Fft } from './fft.js';

export interface AdaptiveFilterOptions {
  /** Samples per block (a power of two). */
  blockSamples: number;
  /** Blocks of echo path modelled (tail = partitions x blockSamples). */
  partitions: number;
  /** NLMS step size of the background filter, in (0, 1]. Default 0.5. */
  stepSize?: number;
}

// Smoothing of the two filters' error energies (per block), and the ratios that move coefficients between them.
const ENERGY_SMOOTHING = 0.3;
const TAKE_BACKGROUND_RATIO = 0.8;
const RESET_BACKGROUND_RATIO = 4;
// Smoothing of the energies behind `cancellationDb`: about ten blocks, so one lucky block is no evidence.
const EVIDENCE_SMOOTHING = 0.1;
// The reference level (int16 units, RMS) below which the far end counts as silent: nothing to learn from.
const FAR_FLOOR_RMS = 10;
// Far-end blocks (per partition of tail) learned at the full step before the step follows the leak estimate.
const LEARNING_BLOCKS_PER_PARTITION = 2;

export class PartitionedBlockFilter {
  readonly blockSamples: number;
  readonly partitions: number;
  /** The foreground's echo estimate for the last block (time domain). */
  readonly echo: Float64Array;
  /** The last block with the foreground's echo estimate taken out. */
  readonly error: Float64Array;
  private readonly bins: number;
  private readonly fft: Fft;
  private readonly stepSize: number;
  private readonly regularization: number;
  // Reference spectra of the last M blocks (a ring; `newest` is the slot of the latest), and their summed power.
  private readonly farRe: Float64Array;
  private readonly farIm: Float64Array;
  private readonly farPower: Float64Array;
  private newest = 0;
  private readonly foreRe: Float64Array;
  private readonly foreIm: Float64Array;
  private readonly backRe: Float64Array;
  private readonly backIm: Float64Array;
  private readonly farPrevious: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly errorRe: Float64Array;
  private readonly errorIm: Float64Array;
  private readonly backError: Float64Array;
  private foreEnergy = 0;
  private backEnergy = 0;
  /** The partition whose gradient constraint is applied next (one per block, in turn: see `adaptBackground`). */
  private constrained = 0;
  /** Blocks with far-end audio seen so far. */
  private farBlocks = 0;
  // Smoothed energies of the microphone and of the background's error while the far end plays: how much of the
  // microphone the filter can explain from the reference (see `cancellationDb`).
  private nearEnergy = 0;
  private backCancelledEnergy = 0;

  constructor(options: AdaptiveFilterOptions) {
    const { blockSamples: n, partitions: m } = options;
    if (!Number.isInteger(m) || m < 1) throw new RangeError(`partitions must be a positive integer, got ${m}`);
    this.blockSamples = n;
    this.partitions = m;
    this.fft = new Fft(2 * n);
    this.bins = n + 1;
    this.stepSize = options.stepSize ?? 0.5;
    this.regularization = m * 2 * n * FAR_FLOOR_RMS * FAR_FLOOR_RMS;
    const size = m * this.bins;
    this.farRe = new Float64Array(size);
    this.farIm = new Float64Array(size);
    this.farPower = new Float64Array(this.bins);
    this.foreRe = new Float64Array(size);
    this.foreIm = new Float64Array(size);
    this.backRe = new Float64Array(size);
    this.backIm = new Float64Array(size);
    this.farPrevious = new Float64Array(n);
    this.re = new Float64Array(2 * n);
    this.im = new Float64Array(2 * n);
    this.errorRe = new Float64Array(this.bins);
    this.errorIm = new Float64Array(this.bins);
    this.backError = new Float64Array(n);
    this.echo = new Float64Array(n);
    this.error = new Float64Array(n);
  }

  /**
   * How far the filter still is from having learnt the echo path: 1 before any far-end audio, falling to 0 over
   * twice the blocks learned at the full step. Until then its echo estimate cannot be trusted to be all the echo.
   */
  get learningShare(): number {
    return Math.max(0, 1 - this.farBlocks / (2 * LEARNING_BLOCKS_PER_PARTITION * this.partitions));
  }

  /**
   * How much the background filter takes out of the microphone while the far end plays (dB, smoothed over a few
   * blocks). A linear filter can only cancel what is an echo of the reference: the caller's voice alone leaves
   * this near 0 dB, an echo within the tail raises it within a few hundred ms.
   */
  get cancellationDb(): number {
    return 10 * Math.log10((this.nearEnergy + 1) / (this.backCancelledEnergy + 1));
  }

  /**
   * The reference fed to the filter moved `blocks` later (a bulk delay estimated as longer by that much): each
   * partition takes the coefficients of the one `blocks` further along, so an echo path already learnt keeps its
   * shape; what falls off the end is lost. The reference ring is rebuilt from `history(blocksBack, out)`, which
   * writes the new reference `blocksBack` blocks before the next block (1 .. partitions + 1). Learning restarts.
   */
  realign(blocks: number, history: (blocksBack: number, out: Float64Array) => void): void {
    const { bins, partitions } = this;
    for (const w of [this.foreRe, this.foreIm, this.backRe, this.backIm]) {
      if (blocks >= partitions || blocks <= -partitions) w.fill(0);
      else if (blocks > 0) w.copyWithin(0, blocks * bins).fill(0, (partitions - blocks) * bins);
      else if (blocks < 0) w.copyWithin(-blocks * bins, 0, (partitions + blocks) * bins).fill(0, 0, -blocks * bins);
    }
    this.farRe.fill(0);
    this.farIm.fill(0);
    this.farPower.fill(0);
    this.farPrevious.fill(0);
    for (let back = partitions + 1; back >= 1; back--) {
      history(back, this.backError);
      this.pushFar(this.backError);
    }
    this.farBlocks = 0;
    this.foreEnergy = 0;
    this.backEnergy = 0;
    this.nearEnergy = 0;
    this.backCancelledEnergy = 0;
  }

  /**
   * One block: `near` (microphone) and `far` (reference), N samples each; fills `echo` and `error`. `leak` is the
   * residual echo's share of the echo estimate's power (the suppressor's estimate, 0..1). Until `echoHeard`, the
   * foreground keeps its coefficients (zero on a new call): a background that fits the caller's voice over the
   * agent's, with no echo there, must not start taking it out of the output.
   */
  process(near: Float64Array, far: Float64Array, leak: number, echoHeard = true): void {
    const n = this.blockSamples;
    const farEnergy = this.pushFar(far);
    this.filter(this.foreRe, this.foreIm, this.echo);
    for (let i = 0; i < n; i++) this.error[i] = near[i]! - this.echo[i]!;
    this.filter(this.backRe, this.backIm, this.backError);
    let fore = 0;
    let back = 0;
    let echo = 0;
    let nearEnergy = 0;
    for (let i = 0; i < n; i++) {
      nearEnergy += near[i]! * near[i]!;
      const e = near[i]! - this.backError[i]!;
      this.backError[i] = e;
      back += e * e;
      fore += this.error[i]! * this.error[i]!;
      echo += this.echo[i]! * this.echo[i]!;
    }
    if (farEnergy < n * FAR_FLOOR_RMS * FAR_FLOOR_RMS) return;
    this.farBlocks++;
    this.nearEnergy += EVIDENCE_SMOOTHING * (nearEnergy - this.nearEnergy);
    // A diverged background (more error than microphone) explains nothing: counted as the microphone.
    this.backCancelledEnergy += EVIDENCE_SMOOTHING * (Math.min(nearEnergy, back) - this.backCancelledEnergy);
    const learning = this.farBlocks < LEARNING_BLOCKS_PER_PARTITION * this.partitions;
    const step = learning ? this.stepSize : this.stepSize * Math.min(1, (leak * echo) / (fore + 1));
    this.adaptBackground(step);
    this.foreEnergy += ENERGY_SMOOTHING * (fore - this.foreEnergy);
    this.backEnergy += ENERGY_SMOOTHING * (back - this.backEnergy);
    if (echoHeard && this.backEnergy < TAKE_BACKGROUND_RATIO * this.foreEnergy) {
      this.foreRe.set(this.backRe);
      this.foreIm.set(this.backIm);
      this.foreEnergy = this.backEnergy;
    } else if (this.backEnergy > RESET_BACKGROUND_RATIO * this.foreEnergy) {
      this.backRe.set(this.foreRe);
      this.backIm.set(this.foreIm);
      this.backEnergy = this.foreEnergy;
    }
  }

  /** Transforms [previous block, this block] of the reference into the ring; returns the block's energy. */
  private pushFar(far: Float64Array): number {
    const { blockSamples: n, bins, re, im } = this;
    let energy = 0;
    for (let i = 0; i < n; i++) {
      re[i] = this.farPrevious[i]!;
      re[n + i] = far[i]!;
      energy += far[i]! * far[i]!;
    }
    im.fill(0);
    this.farPrevious.set(far);
    this.fft.forward(re, im);
    this.newest = (this.newest + 1) % this.partitions;
    const base = this.newest * bins;
    for (let k = 0; k < bins; k++) {
      const oldRe = this.farRe[base + k]!;
      const oldIm = this.farIm[base + k]!;
      // The power of the whole ring, kept up to date: add the new block's, remove the one it replaces.
      const power = this.farPower[k]! + re[k]! * re[k]! + im[k]! * im[k]! - oldRe * oldRe - oldIm * oldIm;
      this.farPower[k] = power > 0 ? power : 0;
      this.farRe[base + k] = re[k]!;
      this.farIm[base + k] = im[k]!;
    }
    return energy;
  }

  /** The echo estimate of the filter (wRe, wIm) for the latest block, in the time domain, into `out`. */
  private filter(wRe: Float64Array, wIm: Float64Array, out: Float64Array): void {
    const { bins, partitions, re, im } = this;
    re.fill(0);
    im.fill(0);
    for (let p = 0; p < partitions; p++) {
      const farBase = ((this.newest - p + partitions) % partitions) * bins;
      const wBase = p * bins;
      for (let k = 0; k < bins; k++) {
        const xr = this.farRe[farBase + k]!;
        const xi = this.farIm[farBase + k]!;
        const wr = wRe[wBase + k]!;
        const wi = wIm[wBase + k]!;
        re[k]! += wr * xr - wi * xi;
        im[k]! += wr * xi + wi * xr;
      }
    }
    this.toTime();
    // Overlap-save: the second half is the linear convolution of this block.
    out.set(re.subarray(this.blockSamples));
  }

  /**
   * NLMS step of the background filter on the latest error, then the gradient constraint on one partition in turn
   * (constraining all of them every block would cost 2M transforms; in turn, the wrap-around each partition gathers
   * between two constraints stays small, and convergence is barely slower).
   */
  private adaptBackground(step: number): void {
    const { blockSamples: n, bins, partitions, re, im } = this;
    re.fill(0, 0, n);
    re.set(this.backError, n);
    im.fill(0);
    this.fft.forward(re, im);
    for (let k = 0; k < bins; k++) {
      const scale = step / (this.farPower[k]! + this.regularization);
      this.errorRe[k] = re[k]! * scale;
      this.errorIm[k] = im[k]! * scale;
    }
    for (let p = 0; p < partitions; p++) {
      const farBase = ((this.newest - p + partitions) % partitions) * bins;
      const wBase = p * bins;
      for (let k = 0; k < bins; k++) {
        const xr = this.farRe[farBase + k]!;
        const xi = this.farIm[farBase + k]!;
        const er = this.errorRe[k]!;
        const ei = this.errorIm[k]!;
        // conj(X) * E
        this.backRe[wBase + k]! += xr * er + xi * ei;
        this.backIm[wBase + k]! += xr * ei - xi * er;
      }
    }
    // The constraint: a partition's impulse response is N samples long; the circular wrap beyond is cut.
    const wBase = this.constrained * bins;
    this.constrained = (this.constrained + 1) % partitions;
    re.set(this.backRe.subarray(wBase, wBase + bins));
    im.set(this.backIm.subarray(wBase, wBase + bins));
    this.toTime();
    re.fill(0, n);
    im.fill(0);
    this.fft.forward(re, im);
    for (let k = 0; k < bins; k++) {
      this.backRe[wBase + k] = re[k]!;
      this.backIm[wBase + k] = im[k]!;
    }
  }

  /** `re`/`im` bins 0..N (of a real signal's spectrum) to the time domain, in `re`. */
  private toTime(): void {
    const { blockSamples: n, re, im } = this;
    for (let k = 1; k < n; k++) {
      re[2 * n - k] = re[k]!;
      im[2 * n - k] = -im[k]!;
    }
    im[0] = 0;
    im[n] = 0;
    this.fft.inverse(re, im);
  }
}
