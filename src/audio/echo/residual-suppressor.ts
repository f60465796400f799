// The non-linear part of the echo canceller: what the adaptive filter leaves of the echo (a path that changed,
// a tail longer than the filter's, loudspeaker distortion) is removed per frequency bin. The residual echo is
// estimated as `leak x |echo estimate|^2`, where the leak is the regression of the error's power spectrum on the
// echo estimate's over time (mean-removed, so the caller's voice, uncorrelated with the agent's, does not count
// as leak). Bins where that residual dominates are attenuated; bins where the caller's voice dominates pass, so
// double talk keeps the caller audible. While the adaptive filter is still learning (its estimate is not yet the
// echo), the recent far-end spectrum itself (peak-held over about the tail) counts as possible echo, in proportion
// to how much is left to learn: the first words of the agent's first sentence do not leak through as a barge-in.
// (The canceller passes a learning share of 0 until an echo has been heard, so a line with no echo is left alone.)
// Analysis and synthesis use square-root Hann windows at 50% overlap, which
// add up exactly: with no echo the output is the input, one block later.
import { Fft } from './fft.js';

// How much the residual estimate is overstated before it is subtracted (an echo left audible costs a false
// barge-in; a little of the caller's voice lost over the agent's costs less), and the deepest attenuation.
const OVER_SUBTRACTION = 2;
const MIN_GAIN = 0.03;
const MEAN_SMOOTHING = 0.1;
const LEAK_SMOOTHING = 0.05;
const MIN_LEAK = 0.001;
// While learning, the far end's spectrum counts as echo at this power gain (-6 dB, a loud speakerphone's echo).
const LEARNING_ECHO_GAIN = 0.25;
// Per-block decay of the far-end peak hold: about 150 ms at 8 ms blocks.
const FAR_HOLD_DECAY = 0.95;

export class ResidualEchoSuppressor {
  readonly blockSamples: number;
  private readonly fft: Fft;
  private readonly window: Float64Array;
  private readonly errorPrevious: Float64Array;
  private readonly echoPrevious: Float64Array;
  private readonly overlap: Float64Array;
  private readonly re: Float64Array;
  private readonly im: Float64Array;
  private readonly echoRe: Float64Array;
  private readonly echoIm: Float64Array;
  private readonly errorMean: Float64Array;
  private readonly echoMean: Float64Array;
  private readonly farPrevious: Float64Array;
  private readonly farRe: Float64Array;
  private readonly farIm: Float64Array;
  private readonly farHeld: Float64Array;
  private covariance = 0;
  private variance = 0;
  /** The current residual echo leak estimate (0..1): the share of the echo estimate's power left in the error. */
  leak = 1;

  constructor(blockSamples: number) {
    const n = blockSamples;
    this.blockSamples = n;
    this.fft = new Fft(2 * n);
    this.window = Float64Array.from({ length: 2 * n }, (_, i) => Math.sin((Math.PI * i) / (2 * n)));
    this.errorPrevious = new Float64Array(n);
    this.echoPrevious = new Float64Array(n);
    this.overlap = new Float64Array(n);
    this.re = new Float64Array(2 * n);
    this.im = new Float64Array(2 * n);
    this.echoRe = new Float64Array(2 * n);
    this.echoIm = new Float64Array(2 * n);
    this.errorMean = new Float64Array(n + 1);
    this.echoMean = new Float64Array(n + 1);
    this.farPrevious = new Float64Array(n);
    this.farRe = new Float64Array(2 * n);
    this.farIm = new Float64Array(2 * n);
    this.farHeld = new Float64Array(n + 1);
  }

  /**
   * One block of the linear filter's error and echo estimate, and the far end's block; writes the previous block,
   * cleaned, to `out`. `learningShare` (0..1) is how much the filter has still to learn (see the header).
   */
  process(error: Float64Array, echo: Float64Array, far: Float64Array, learningShare: number, out: Float64Array): void {
    const { blockSamples: n, window, re, im, echoRe, echoIm } = this;
    for (let i = 0; i < n; i++) {
      re[i] = this.errorPrevious[i]! * window[i]!;
      re[n + i] = error[i]! * window[n + i]!;
      echoRe[i] = this.echoPrevious[i]! * window[i]!;
      echoRe[n + i] = echo[i]! * window[n + i]!;
    }
    im.fill(0);
    echoIm.fill(0);
    this.errorPrevious.set(error);
    this.echoPrevious.set(echo);
    this.fft.forward(re, im);
    this.fft.forward(echoRe, echoIm);
    if (learningShare > 0) this.holdFar(far);

    let covariance = 0;
    let variance = 0;
    for (let k = 0; k <= n; k++) {
      const errorPower = re[k]! * re[k]! + im[k]! * im[k]!;
      const echoPower = echoRe[k]! * echoRe[k]! + echoIm[k]! * echoIm[k]!;
      const errorDeviation = errorPower - this.errorMean[k]!;
      const echoDeviation = echoPower - this.echoMean[k]!;
      covariance += errorDeviation * echoDeviation;
      variance += echoDeviation * echoDeviation;
      this.errorMean[k]! += MEAN_SMOOTHING * errorDeviation;
      this.echoMean[k]! += MEAN_SMOOTHING * echoDeviation;
    }
    this.covariance += LEAK_SMOOTHING * (covariance - this.covariance);
    this.variance += LEAK_SMOOTHING * (variance - this.variance);
    // Until the echo estimate has varied enough to regress on, assume the worst (all of it left).
    if (this.variance > 0) this.leak = Math.min(1, Math.max(MIN_LEAK, this.covariance / this.variance));

    for (let k = 0; k <= n; k++) {
      const errorPower = re[k]! * re[k]! + im[k]! * im[k]!;
      const echoPower = echoRe[k]! * echoRe[k]! + echoIm[k]! * echoIm[k]!;
      const residual = OVER_SUBTRACTION * (this.leak * echoPower + (learningShare > 0 ? learningShare * LEARNING_ECHO_GAIN * this.farHeld[k]! : 0));
      const gain = errorPower > residual ? Math.max(MIN_GAIN, 1 - residual / errorPower) : MIN_GAIN;
      re[k]! *= gain;
      im[k]! *= gain;
    }
    for (let k = 1; k < n; k++) {
      re[2 * n - k] = re[k]!;
      im[2 * n - k] = -im[k]!;
    }
    im[0] = 0;
    im[n] = 0;
    this.fft.inverse(re, im);
    for (let i = 0; i < n; i++) {
      out[i] = this.overlap[i]! + re[i]! * window[i]!;
      this.overlap[i] = re[n + i]! * window[n + i]!;
    }
  }

  /** The far end's windowed spectrum into the peak hold. */
  private holdFar(far: Float64Array): void {
    const { blockSamples: n, window, farRe, farIm } = this;
    for (let i = 0; i < n; i++) {
      farRe[i] = this.farPrevious[i]! * window[i]!;
      farRe[n + i] = far[i]! * window[n + i]!;
    }
    farIm.fill(0);
    this.farPrevious.set(far);
    this.fft.forward(farRe, farIm);
    for (let k = 0; k <= n; k++) {
      const power = farRe[k]! * farRe[k]! + farIm[k]! * farIm[k]!;
      const held = this.farHeld[k]! * FAR_HOLD_DECAY;
      this.farHeld[k] = power > held ? power : held;
    }
  }
}
