// The non-linear part of the echo canceller: what the adaptive filter leaves of the echo (a path that changed,
// a tail longer than the filter's, loudspeaker distortion) is removed per frequency bin. The residual echo is
// estimated as `leak x |echo estimate|^2`, where the leak is the regression of the error's power spectrum on the
// echo estimate's over time (mean-removed, so the caller's voice, uncorrelated with the agent's, does not count
// as leak). Bins where that residual dominates are attenuated; bins where the caller's voice dominates pass, so
// double talk keeps the caller audible. Analysis and synthesis use square-root Hann windows at 50% overlap, which
// add up exactly: with no echo the output is the input, one block later.
import { Fft } from './fft.js';

// How much the residual estimate is overstated before it is subtracted (an echo left audible costs a false
// barge-in; a little of the caller's voice lost over the agent's costs less), and the deepest attenuation.
const OVER_SUBTRACTION = 2;
const MIN_GAIN = 0.03;
const MEAN_SMOOTHING = 0.1;
const LEAK_SMOOTHING = 0.05;
const MIN_LEAK = 0.001;

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
  }

  /** One block of the linear filter's error and echo estimate; writes the previous block, cleaned, to `out`. */
  process(error: Float64Array, echo: Float64Array, out: Float64Array): void {
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
      const residual = OVER_SUBTRACTION * this.leak * (echoRe[k]! * echoRe[k]! + echoIm[k]! * echoIm[k]!);
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
}
