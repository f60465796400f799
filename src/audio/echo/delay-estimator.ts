// Where the echo is: the bulk delay between the agent's audio (the reference) and its echo in the caller's audio,
// up to about a second (a PSTN leg's round trip plus the room), found cheaply and apart from the adaptive filter,
// which then only has to model the 250 ms after it. Each block (about 8 ms) of both signals is reduced to the log
// energies of a dozen telephone bands over the last two blocks (so an echo delayed by a fraction of a block still
// finds most of its reference in one lag's window), one FFT for both (two real signals as one complex). Each band's
// running mean is taken out, and then each block's mean over the bands (its level, kept as one feature of its own):
// what is left is the spectral shape, which changes with every phoneme, so the lag at which the microphone's
// shapes follow the reference's is sharp; level alone (speech on, speech off) matches by chance at many lags. The
// microphone's features are correlated with the reference's at every lag of the window, each lag's statistics
// smoothed over about a second. The caller's voice, independent of the agent's, correlates at no lag: it only
// lowers the peak, so double talk makes the estimate less confident, not wrong.
//
// The estimate only moves on evidence: statistics are gathered only while the agent has been heard within the
// window (otherwise the microphone is the caller alone); a lag only counts once it has been compared over
// MIN_OVERLAP blocks; it is taken when its correlation is high, clear of every lag more than a block away, and has
// stayed the best for STABLE_MS (hysteresis). Cost per block: one 2N-point FFT and `lags x bands` multiply-adds.
import { Fft } from './fft.js';

export interface DelayEstimatorOptions {
  sampleRate: number;
  /** Samples per block (a power of two). */
  blockSamples: number;
  /** Longest echo delay looked for. Default 1000 ms. */
  maxDelayMs?: number;
}

const LOW_HZ = 250;
const HIGH_HZ = 3800;
const BANDS = 12;
// Time constant of the correlation statistics (per lag), and of the band means taken out of the features: shorter,
// so that a level that changes (the echo starting after the microphone's silence) is soon followed, not left
// as an offset that buries the correlation.
const SMOOTHING_MS = 1000;
const MEAN_MS = 100;
// A band's energy floor, as the RMS (int16 units) of white noise filling it: quieter is silence.
const FLOOR_RMS = 10;
// A lag is the echo's when its correlation reaches this and beats every lag further than a block away by MARGIN.
// (White noise half a block late correlates at about 0.4; another voice than the agent's, at any lag, reached
// 0.74 in its first second but never stood out by the margin for the STABLE_MS, in the tests' sentences.)
const MIN_CORRELATION = 0.35;
const MARGIN = 0.1;
// Blocks over which a lag must have been compared before it counts (fewer: correlations are chance).
const MIN_OVERLAP = 25;
const STABLE_MS = 100;
// Replacing an estimate takes longer: an agent that repeats itself (a line resumed after a false interruption)
// makes its echo correlate, for a moment, with the repeat too, at a lag that is no echo path.
const CHANGE_STABLE_MS = 500;

export class DelayEstimator {
  readonly blockSamples: number;
  /** Lags looked at: 0 .. lags - 1 blocks. */
  readonly lags: number;
  private readonly fft: Fft;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  /** The first bin of each band, and one past the last band's last bin. */
  private readonly bandStart: Int32Array;
  private readonly bands: number;
  private readonly bandFloor: Float64Array;
  private readonly decay: number;
  private readonly meanDecay: number;
  private readonly stableBlocks: number;
  private readonly changeStableBlocks: number;
  private readonly farMean: Float64Array;
  private readonly nearMean: Float64Array;
  private readonly nearFeature: Float64Array;
  /** The last block of each signal, for the two-block window. */
  private readonly farLast: Float64Array;
  private readonly nearLast: Float64Array;
  /** Ring of the reference's features, `lags` blocks deep, and their squared sums. */
  private readonly farHistory: Float64Array;
  private readonly farHistoryPower: Float64Array;
  private newest = 0;
  private readonly crossPower: Float64Array;
  private readonly farPower: Float64Array;
  /** Blocks over which each lag has been compared. */
  private readonly overlap: Int32Array;
  private nearPower = 0;
  /** Blocks since the reference was last above the floor (the agent last heard). */
  private farSilentBlocks = Number.POSITIVE_INFINITY;
  private blocks = 0;
  private candidate = -1;
  private candidateBlocks = 0;
  /** The estimated delay of the echo, in blocks; undefined until one is found. */
  delayBlocks: number | undefined;
  /** The correlation at the best lag after the last block (0..1; 0 while nothing is gathered). */
  correlation = 0;

  constructor(options: DelayEstimatorOptions) {
    const { sampleRate, blockSamples: n } = options;
    const maxDelayMs = options.maxDelayMs ?? 1000;
    if (!(maxDelayMs > 0)) throw new RangeError(`maxDelayMs must be positive, got ${maxDelayMs}`);
    this.blockSamples = n;
    const blockMs = (1000 * n) / sampleRate;
    this.lags = Math.ceil(maxDelayMs / blockMs) + 1;
    this.fft = new Fft(2 * n);
    this.re = new Float64Array(2 * n);
    this.im = new Float64Array(2 * n);
    const binHz = sampleRate / (2 * n);
    const high = Math.min(HIGH_HZ, 0.475 * sampleRate);
    const edges = Array.from({ length: BANDS + 1 }, (_, i) => Math.max(1, Math.round((LOW_HZ * (high / LOW_HZ) ** (i / BANDS)) / binHz)));
    const distinct = edges.filter((bin, i) => i === 0 || bin > edges[i - 1]!);
    this.bandStart = Int32Array.from(distinct);
    this.bands = distinct.length - 1;
    if (this.bands < 2) throw new RangeError(`blocks of ${n} samples at ${sampleRate} Hz leave too few bands to compare`);
    // A bin of white noise at RMS r has power 2n r^2 over the 2n-sample window (Parseval).
    this.bandFloor = Float64Array.from({ length: this.bands }, (_, b) => (distinct[b + 1]! - distinct[b]!) * 2 * n * FLOOR_RMS * FLOOR_RMS);
    this.decay = Math.exp(-blockMs / SMOOTHING_MS);
    this.meanDecay = Math.exp(-blockMs / MEAN_MS);
    this.stableBlocks = Math.max(1, Math.round(STABLE_MS / blockMs));
    this.changeStableBlocks = Math.max(1, Math.round(CHANGE_STABLE_MS / blockMs));
    this.farMean = new Float64Array(this.bands);
    this.nearMean = new Float64Array(this.bands);
    this.nearFeature = new Float64Array(this.bands);
    this.farLast = new Float64Array(n);
    this.nearLast = new Float64Array(n);
    this.farHistory = new Float64Array(this.lags * this.bands);
    this.farHistoryPower = new Float64Array(this.lags);
    this.crossPower = new Float64Array(this.lags);
    this.farPower = new Float64Array(this.lags);
    this.overlap = new Int32Array(this.lags);
  }

  /** One block: `near` (the microphone) and `far` (the reference at the same time, no delay), N samples each. */
  process(near: Float64Array, far: Float64Array): void {
    const { blockSamples: n, re, im, bands, farHistory, nearFeature } = this;
    for (let i = 0; i < n; i++) {
      re[i] = this.farLast[i]!;
      im[i] = this.nearLast[i]!;
      re[n + i] = far[i]!;
      im[n + i] = near[i]!;
    }
    this.farLast.set(far);
    this.nearLast.set(near);
    this.fft.forward(re, im);
    const size = 2 * n;
    this.newest = (this.newest + 1) % this.lags;
    const base = this.newest * bands;
    let farActive = false;
    // The means start at the first block's values and average all blocks until the smoothing takes over.
    const meanStep = Math.max(1 - this.meanDecay, 1 / (this.blocks + 1));
    let farLevel = 0;
    let nearLevel = 0;
    for (let b = 0; b < bands; b++) {
      let farEnergy = 0;
      let nearEnergy = 0;
      // far[k] = (Z[k] + conj Z[2n-k]) / 2 and near[k] = (Z[k] - conj Z[2n-k]) / 2i: their powers, times 4.
      for (let k = this.bandStart[b]!; k < this.bandStart[b + 1]!; k++) {
        const zr = re[k]!;
        const zi = im[k]!;
        const cr = re[size - k]!;
        const ci = im[size - k]!;
        farEnergy += (zr + cr) * (zr + cr) + (zi - ci) * (zi - ci);
        nearEnergy += (zi + ci) * (zi + ci) + (zr - cr) * (zr - cr);
      }
      const floor = this.bandFloor[b]!;
      if (farEnergy > 4 * floor) farActive = true;
      // Energies over two blocks (this one and the last): an echo delayed by a fraction of a block then still
      // finds most of its reference in one lag's window (with one block, half a block late, white noise's
      // block-to-block shapes would not correlate at all).
      const farLog = Math.log(farEnergy / 4 + floor);
      const nearLog = Math.log(nearEnergy / 4 + floor);
      this.farMean[b]! += meanStep * (farLog - this.farMean[b]!);
      this.nearMean[b]! += meanStep * (nearLog - this.nearMean[b]!);
      farHistory[base + b] = farLog - this.farMean[b]!;
      nearFeature[b] = nearLog - this.nearMean[b]!;
      farLevel += farHistory[base + b]!;
      nearLevel += nearFeature[b]!;
    }
    // Shape: the block's level taken out of every band, and kept once, in the first band's place.
    farLevel /= bands;
    nearLevel /= bands;
    let farPower = 0;
    for (let b = 0; b < bands; b++) {
      farHistory[base + b]! -= b === 0 ? 0 : farLevel;
      nearFeature[b]! -= b === 0 ? 0 : nearLevel;
      farPower += farHistory[base + b]! * farHistory[base + b]!;
    }
    this.farHistoryPower[this.newest] = farPower;
    this.blocks++;
    this.farSilentBlocks = farActive ? 0 : this.farSilentBlocks + 1;
    // The agent not heard for the whole window: the microphone is the caller alone, no evidence either way.
    if (this.farSilentBlocks >= this.lags) return;
    this.correlate();
  }

  /** The statistics of every lag updated with this block, then the best lag judged. */
  private correlate(): void {
    const { bands, lags, decay, nearFeature, overlap } = this;
    let nearPower = 0;
    for (let b = 0; b < bands; b++) nearPower += nearFeature[b]! * nearFeature[b]!;
    this.nearPower = decay * this.nearPower + nearPower;
    let best = -1;
    let bestCorrelation = 0;
    for (let lag = 0; lag < lags; lag++) {
      const slot = (this.newest - lag + lags) % lags;
      const base = slot * bands;
      let cross = 0;
      for (let b = 0; b < bands; b++) cross += nearFeature[b]! * this.farHistory[base + b]!;
      const crossPower = decay * this.crossPower[lag]! + cross;
      const farPower = decay * this.farPower[lag]! + this.farHistoryPower[slot]!;
      this.crossPower[lag] = crossPower;
      this.farPower[lag] = farPower;
      // A lag longer than the blocks seen so far compares with nothing yet.
      if (lag < this.blocks) overlap[lag]!++;
      if (overlap[lag]! >= MIN_OVERLAP && crossPower > 0 && crossPower * crossPower > bestCorrelation * bestCorrelation * farPower * this.nearPower) {
        bestCorrelation = crossPower / Math.sqrt(farPower * this.nearPower);
        best = lag;
      }
    }
    this.correlation = bestCorrelation;
    if (best < 0 || bestCorrelation < MIN_CORRELATION || this.runnerUp(best) > bestCorrelation - MARGIN) {
      this.candidateBlocks = 0;
      return;
    }
    if (Math.abs(best - this.candidate) <= 1) this.candidateBlocks++;
    else {
      this.candidate = best;
      this.candidateBlocks = 1;
    }
    const current = this.delayBlocks;
    const needed = current === undefined || Math.abs(best - current) <= 1 ? this.stableBlocks : this.changeStableBlocks;
    if (this.candidateBlocks >= needed) this.delayBlocks = best;
  }

  /** The best correlation at a lag more than a block away from `best`. */
  private runnerUp(best: number): number {
    let runnerUp = 0;
    for (let lag = 0; lag < this.lags; lag++) {
      const crossPower = this.crossPower[lag]!;
      if (Math.abs(lag - best) <= 1 || this.overlap[lag]! < MIN_OVERLAP || crossPower <= 0) continue;
      const correlation = crossPower / Math.sqrt(this.farPower[lag]! * this.nearPower);
      if (correlation > runnerUp) runnerUp = correlation;
    }
    return runnerUp;
  }
}
