// Streaming sample-rate conversion between telephony (8/16 kHz) and engine rates (22.05/24/44.1/48 kHz).
//
// A polyphase windowed-sinc filter: for output rate / input rate = L / M (reduced), output sample n is taken at
// input time t = n·M/L, i.e. at integer input position floor(t) and phase (n·M mod L) / L. Each of the L phases has
// its own row of `taps` coefficients, a Kaiser-windowed sinc centred on t, so every output is one dot product over
// the input samples around it. Centring the kernel on t (rather than delaying it by half its length) compensates
// the group delay: a resampled signal stays time-aligned with its input, at the price of waiting for `taps / 2`
// input samples of lookahead before an output can be computed.

export type ResamplerQuality = 'low' | 'medium' | 'high';

export interface StreamingResamplerOptions {
  inputRate: number;
  outputRate: number;
  /** Trades CPU for stopband attenuation and passband width; default 'medium'. */
  quality?: ResamplerQuality;
}

interface FilterDesign {
  /** Cutoff (−6 dB point) as a fraction of the lower of the two Nyquist frequencies. */
  cutoff: number;
  /** Zero crossings of the sinc on each side of the centre: the kernel's half-length. */
  zeroCrossings: number;
  /** Kaiser window shape: larger means more stopband attenuation and a wider transition band. */
  kaiserBeta: number;
}

// Measured with windowed single-bin DFTs on 16 <-> 8 kHz (bench/resampler.bench.ts, test/audio/resampler.test.ts):
// 'medium' keeps 3 kHz within 0.01 dB and 3.4 kHz within 1 dB, and holds aliases of 4.4–8 kHz tones and images of
// 0.1–3.6 kHz tones below −90 dB; 'low' gets about −67 dB (3.4 kHz at −4 dB), 'high' below −105 dB with a flat
// passband to 3.4 kHz.
const DESIGNS: Readonly<Record<ResamplerQuality, FilterDesign>> = {
  low: { cutoff: 0.88, zeroCrossings: 8, kaiserBeta: 6 },
  medium: { cutoff: 0.92, zeroCrossings: 16, kaiserBeta: 9 },
  high: { cutoff: 0.94, zeroCrossings: 32, kaiserBeta: 10.5 },
};

/** Bounds the coefficient table (phases × taps): 2048 phases cover every ratio between the common audio rates. */
const MAX_PHASES = 2048;

/** Input samples copied into the history buffer per step: bounds the buffer while keeping compaction rare. */
const BLOCK_SAMPLES = 2048;

interface PolyphaseFilter {
  readonly phases: number;
  readonly decimation: number;
  /** Coefficients per phase: 2 · lookahead. */
  readonly taps: number;
  /** Input samples needed after floor(t): half the kernel length. */
  readonly lookahead: number;
  /** Row p: the coefficients for phase p, applied to input samples floor(t) − lookahead + 1 … floor(t) + lookahead. */
  readonly coefficients: Float32Array;
}

/** Shared by every resampler with the same ratio and quality; never written after construction. */
const filterCache = new Map<string, PolyphaseFilter>();

function greatestCommonDivisor(a: number, b: number): number {
  while (b !== 0) [a, b] = [b, a % b];
  return a;
}

/** Modified Bessel function of the first kind, order 0, by its power series (converges fast for the betas used). */
function besselI0(x: number): number {
  const quarterSquare = (x * x) / 4;
  let term = 1;
  let sum = 1;
  for (let k = 1; k < 64 && term > sum * 1e-17; k++) {
    term *= quarterSquare / (k * k);
    sum += term;
  }
  return sum;
}

function designFilter(phases: number, decimation: number, quality: ResamplerQuality): PolyphaseFilter {
  const key = `${phases}/${decimation}/${quality}`;
  const cached = filterCache.get(key);
  if (cached !== undefined) return cached;

  const { cutoff, zeroCrossings, kaiserBeta } = DESIGNS[quality];
  // Cutoff in cycles per input sample: below the output Nyquist when decimating, the input Nyquist otherwise.
  const cutoffPerInputSample = 0.5 * cutoff * Math.min(1, phases / decimation);
  const halfWidth = zeroCrossings / (2 * cutoffPerInputSample);
  const lookahead = Math.ceil(halfWidth);
  const taps = 2 * lookahead;
  const coefficients = new Float32Array(phases * taps);
  const windowNorm = besselI0(kaiserBeta);
  const row = new Float64Array(taps);

  for (let phase = 0; phase < phases; phase++) {
    let sum = 0;
    for (let j = 0; j < taps; j++) {
      // Distance from the output instant t to input sample floor(t) − lookahead + 1 + j, in input samples.
      const distance = phase / phases + lookahead - 1 - j;
      const relative = distance / halfWidth;
      let value = 0;
      if (Math.abs(relative) < 1) {
        const x = 2 * cutoffPerInputSample * distance;
        const sinc = x === 0 ? 1 : Math.sin(Math.PI * x) / (Math.PI * x);
        const taper = besselI0(kaiserBeta * Math.sqrt(1 - relative * relative)) / windowNorm;
        value = 2 * cutoffPerInputSample * sinc * taper;
      }
      row[j] = value;
      sum += value;
    }
    // Unit gain at DC for every phase, so a constant input gives a constant output with no phase-dependent ripple.
    for (let j = 0; j < taps; j++) coefficients[phase * taps + j] = row[j]! / sum;
  }

  const filter: PolyphaseFilter = { phases, decimation, taps, lookahead, coefficients };
  filterCache.set(key, filter);
  return filter;
}

function roundToInt16(value: number): number {
  const rounded = Math.round(value);
  return rounded > 32767 ? 32767 : rounded < -32768 ? -32768 : rounded;
}

/**
 * Integer upsampling (M = 1): all L outputs of input positions `firstStart` and `firstStart + 1`, then of the next
 * two positions, and so on for `blocks` pairs of positions, written from output[firstAt]. Working on two positions
 * and two phases at once lets each loaded coefficient serve two outputs and each loaded sample up to four, which
 * made the 8 -> 16 kHz path about 1.4 times faster than the pairwise loop in `emit`. Sums keep the order of
 * `StreamingResampler.emit` (even taps, odd taps, then both), so the results are identical to it.
 */
function emitUpsamplingBlocks(
  coefficients: Float32Array,
  history: Float32Array,
  taps: number,
  phases: number,
  firstStart: number,
  blocks: number,
  output: Int16Array,
  firstAt: number,
): void {
  for (let block = 0, start = firstStart, at = firstAt; block < blocks; block++, start += 2, at += 2 * phases) {
    let phase = 0;
    for (; phase + 1 < phases; phase += 2) {
      let even = 0;
      let odd = 0;
      let nextPhaseEven = 0;
      let nextPhaseOdd = 0;
      let laterEven = 0;
      let laterOdd = 0;
      let laterNextPhaseEven = 0;
      let laterNextPhaseOdd = 0;
      let x0 = history[start]!;
      for (let c = phase * taps, h = start, end = c + taps; c < end; c += 2, h += 2) {
        const x1 = history[h + 1]!;
        const x2 = history[h + 2]!;
        const c0 = coefficients[c]!;
        const c1 = coefficients[c + 1]!;
        const d0 = coefficients[c + taps]!;
        const d1 = coefficients[c + taps + 1]!;
        even += c0 * x0;
        odd += c1 * x1;
        nextPhaseEven += d0 * x0;
        nextPhaseOdd += d1 * x1;
        laterEven += c0 * x1;
        laterOdd += c1 * x2;
        laterNextPhaseEven += d0 * x1;
        laterNextPhaseOdd += d1 * x2;
        x0 = x2;
      }
      output[at + phase] = roundToInt16(even + odd);
      output[at + phase + 1] = roundToInt16(nextPhaseEven + nextPhaseOdd);
      output[at + phases + phase] = roundToInt16(laterEven + laterOdd);
      output[at + phases + phase + 1] = roundToInt16(laterNextPhaseEven + laterNextPhaseOdd);
    }
    if (phase < phases) {
      // Odd L: the last phase alone, still for both positions.
      let even = 0;
      let odd = 0;
      let laterEven = 0;
      let laterOdd = 0;
      let x0 = history[start]!;
      for (let c = phase * taps, h = start, end = c + taps; c < end; c += 2, h += 2) {
        const x1 = history[h + 1]!;
        const x2 = history[h + 2]!;
        const c0 = coefficients[c]!;
        const c1 = coefficients[c + 1]!;
        even += c0 * x0;
        odd += c1 * x1;
        laterEven += c0 * x1;
        laterOdd += c1 * x2;
        x0 = x2;
      }
      output[at + phase] = roundToInt16(even + odd);
      output[at + phases + phase] = roundToInt16(laterEven + laterOdd);
    }
  }
}

function checkRate(name: string, rate: number, inputRate: number, outputRate: number): void {
  if (!Number.isInteger(rate) || rate <= 0) {
    throw new RangeError(`${name} must be a positive integer (asked to resample ${inputRate} Hz -> ${outputRate} Hz)`);
  }
}

/**
 * Converts a stream of mono PCM16 chunks from one sample rate to another. Chunk boundaries do not matter: feeding a
 * signal in any chunk sizes gives bit-identical output to feeding it whole. Not for interleaved multi-channel
 * audio (use one instance per channel).
 *
 * Outputs lag the input by `latencyInputSamples` (the filter's lookahead); call `flush()` at the end of the stream
 * to get the tail. Over a whole stream the output has ceil(inputLength · outputRate / inputRate) samples, each
 * time-aligned with the input.
 *
 * When both rates are equal it is a pass-through: `process` returns its input array itself (not a copy).
 */
export class StreamingResampler {
  readonly inputRate: number;
  readonly outputRate: number;
  /** Input samples an output waits for beyond its own instant (0 for a pass-through). */
  readonly latencyInputSamples: number;

  private readonly passThrough: boolean;
  /** L: output samples per `decimation` input samples. */
  private readonly phases: number;
  /** M. */
  private readonly decimation: number;
  private readonly taps: number;
  private readonly lookahead: number;
  private readonly coefficients: Float32Array;
  /** M = 1: every input position yields all L phases, which `emitUpsamplingBlocks` exploits. */
  private readonly integerUpsampling: boolean;
  private readonly wholeInputStep: number;
  private readonly phaseStep: number;

  /** Recent input as floats; history[0] is the oldest sample any pending output still needs. */
  private readonly history: Float32Array;
  private historyLength = 0;
  /** Index in `history` of floor(t) for the next output. */
  private position = 0;
  /** (next output index · M) mod L. */
  private phase = 0;
  private inputCount = 0;
  private outputCount = 0;

  constructor(options: StreamingResamplerOptions) {
    const { inputRate, outputRate, quality = 'medium' } = options;
    checkRate('inputRate', inputRate, inputRate, outputRate);
    checkRate('outputRate', outputRate, inputRate, outputRate);
    if (!(quality in DESIGNS)) throw new RangeError(`unknown resampler quality '${String(quality)}'`);
    this.inputRate = inputRate;
    this.outputRate = outputRate;
    this.passThrough = inputRate === outputRate;

    const divisor = greatestCommonDivisor(inputRate, outputRate);
    this.phases = outputRate / divisor;
    this.decimation = inputRate / divisor;
    if (this.phases > MAX_PHASES) {
      throw new RangeError(
        `cannot resample ${inputRate} Hz -> ${outputRate} Hz: the reduced ratio ${this.phases}/${this.decimation} ` +
          `needs more than ${MAX_PHASES} filter phases`,
      );
    }
    this.integerUpsampling = this.decimation === 1 && this.phases > 1;
    this.wholeInputStep = Math.floor(this.decimation / this.phases);
    this.phaseStep = this.decimation % this.phases;

    if (this.passThrough) {
      this.taps = 0;
      this.lookahead = 0;
      this.coefficients = new Float32Array(0);
      this.history = new Float32Array(0);
    } else {
      const filter = designFilter(this.phases, this.decimation, quality);
      this.taps = filter.taps;
      this.lookahead = filter.lookahead;
      this.coefficients = filter.coefficients;
      // Room for a full kernel of kept history, the zeros `flush` appends and one block of new input.
      this.history = new Float32Array(2 * this.taps + BLOCK_SAMPLES);
    }
    this.latencyInputSamples = this.lookahead;
    this.reset();
  }

  /** Upper bound on the outputs one `process` / `processInto` call with `inputLength` samples can produce. */
  maxOutputLength(inputLength: number): number {
    return Math.ceil((inputLength * this.phases) / this.decimation);
  }

  /**
   * Feeds `input` and returns every output sample that became available, in a new array (the input array itself
   * when both rates are equal).
   */
  process(input: Int16Array): Int16Array {
    if (this.passThrough) return input;
    const output = new Int16Array(this.availableOutputs(input.length));
    this.processInto(input, output);
    return output;
  }

  /**
   * Feeds `input` and writes the outputs that became available to the start of `output`, returning how many.
   * Allocates nothing. Throws a RangeError, before consuming any input, when `output` is too small; an array of
   * `maxOutputLength(input.length)` samples is always large enough.
   */
  processInto(input: Int16Array, output: Int16Array): number {
    const needed = this.passThrough ? input.length : this.availableOutputs(input.length);
    if (output.length < needed) {
      throw new RangeError(`resampler output array too small: needs ${needed} samples, has ${output.length}`);
    }
    if (this.passThrough) {
      output.set(input);
      return input.length;
    }
    let written = 0;
    let consumed = 0;
    while (consumed < input.length) {
      const count = Math.min(this.history.length - this.historyLength, input.length - consumed);
      const history = this.history;
      for (let i = 0, h = this.historyLength; i < count; i++, h++) history[h] = input[consumed + i]!;
      this.historyLength += count;
      consumed += count;
      written += this.emit(output, written, Number.POSITIVE_INFINITY);
      this.discardConsumedHistory();
    }
    this.inputCount += input.length;
    return written;
  }

  /**
   * Ends the stream: returns the outputs still held back by the lookahead (computed as if the input continued with
   * silence), then resets so the instance can start a new stream.
   */
  flush(): Int16Array {
    if (this.passThrough) return new Int16Array(0);
    // Outputs whose instant lies inside the input: n · M / L < inputCount.
    const total = Math.ceil((this.inputCount * this.phases) / this.decimation);
    const output = new Int16Array(Math.max(0, total - this.outputCount));
    this.history.fill(0, this.historyLength, this.historyLength + this.lookahead);
    this.historyLength += this.lookahead;
    this.emit(output, 0, output.length);
    this.reset();
    return output;
  }

  /** Forgets all input: the next sample starts a new stream. */
  reset(): void {
    // The first output (t = 0) needs lookahead − 1 samples before input 0: silence.
    const lead = Math.max(0, this.lookahead - 1);
    this.history.fill(0, 0, lead);
    this.historyLength = lead;
    this.position = lead;
    this.phase = 0;
    this.inputCount = 0;
    this.outputCount = 0;
  }

  /** Exact number of outputs `inputLength` more samples make available: those whose kernel end is in the input. */
  private availableOutputs(inputLength: number): number {
    const lastFloor = this.historyLength + inputLength - 1 - this.lookahead - this.position;
    if (lastFloor < 0) return 0;
    // Count of n ≥ 0 with floor((phase + n·M) / L) <= lastFloor.
    return Math.ceil(((lastFloor + 1) * this.phases - this.phase) / this.decimation);
  }

  /**
   * Computes outputs while their kernels fit in the history, up to `limit`; returns how many.
   *
   * Outputs are computed several at a time when possible: in blocks for integer upsampling, otherwise in pairs.
   * When a pair uses the same input window or the same coefficient row, each value loaded serves two products, and
   * in every case the loop overhead is shared. Every path sums an output's products in the same order (even taps,
   * odd taps, then the two partial sums), so results do not depend on how outputs were grouped, and hence not on
   * chunk boundaries.
   */
  private emit(output: Int16Array, offset: number, limit: number): number {
    const { coefficients, history, taps, lookahead, phases, wholeInputStep, phaseStep } = this;
    const lastStart = this.historyLength - taps;
    let start = this.position - lookahead + 1;
    let phase = this.phase;
    let count = 0;
    while (start <= lastStart && count < limit) {
      if (this.integerUpsampling && phase === 0) {
        const blocks = Math.min((lastStart - start + 1) >> 1, Math.floor((limit - count) / (2 * phases)));
        if (blocks > 0) {
          emitUpsamplingBlocks(coefficients, history, taps, phases, start, blocks, output, offset + count);
          count += 2 * phases * blocks;
          start += 2 * blocks;
          continue;
        }
      }
      let nextStart = start + wholeInputStep;
      let nextPhase = phase + phaseStep;
      if (nextPhase >= phases) {
        nextPhase -= phases;
        nextStart++;
      }
      const row = phase * taps;
      let even = 0;
      let odd = 0;
      if (nextStart > lastStart || count + 1 >= limit) {
        for (let k = 0; k < taps; k += 2) {
          even += coefficients[row + k]! * history[start + k]!;
          odd += coefficients[row + k + 1]! * history[start + k + 1]!;
        }
        output[offset + count] = roundToInt16(even + odd);
        count++;
        start = nextStart;
        phase = nextPhase;
        continue;
      }
      const nextRow = nextPhase * taps;
      let nextEven = 0;
      let nextOdd = 0;
      if (nextStart === start) {
        for (let k = 0; k < taps; k += 2) {
          const x0 = history[start + k]!;
          const x1 = history[start + k + 1]!;
          even += coefficients[row + k]! * x0;
          odd += coefficients[row + k + 1]! * x1;
          nextEven += coefficients[nextRow + k]! * x0;
          nextOdd += coefficients[nextRow + k + 1]! * x1;
        }
      } else if (nextPhase === phase && nextStart === start + 2) {
        // Halving (16 -> 8 kHz, 48 -> 24 kHz): the second window's samples are the first window's two taps later.
        let x0 = history[start]!;
        let x1 = history[start + 1]!;
        for (let k = 0; k < taps; k += 2) {
          const c0 = coefficients[row + k]!;
          const c1 = coefficients[row + k + 1]!;
          const y0 = history[start + k + 2]!;
          const y1 = history[start + k + 3]!;
          even += c0 * x0;
          odd += c1 * x1;
          nextEven += c0 * y0;
          nextOdd += c1 * y1;
          x0 = y0;
          x1 = y1;
        }
      } else if (nextPhase === phase) {
        for (let k = 0; k < taps; k += 2) {
          const c0 = coefficients[row + k]!;
          const c1 = coefficients[row + k + 1]!;
          even += c0 * history[start + k]!;
          odd += c1 * history[start + k + 1]!;
          nextEven += c0 * history[nextStart + k]!;
          nextOdd += c1 * history[nextStart + k + 1]!;
        }
      } else {
        for (let k = 0; k < taps; k += 2) {
          even += coefficients[row + k]! * history[start + k]!;
          odd += coefficients[row + k + 1]! * history[start + k + 1]!;
          nextEven += coefficients[nextRow + k]! * history[nextStart + k]!;
          nextOdd += coefficients[nextRow + k + 1]! * history[nextStart + k + 1]!;
        }
      }
      output[offset + count] = roundToInt16(even + odd);
      output[offset + count + 1] = roundToInt16(nextEven + nextOdd);
      count += 2;
      start = nextStart + wholeInputStep;
      phase = nextPhase + phaseStep;
      if (phase >= phases) {
        phase -= phases;
        start++;
      }
    }
    this.position = start + lookahead - 1;
    this.phase = phase;
    this.outputCount += count;
    return count;
  }

  /** Drops history no pending output needs, so the buffer has room for the next block. */
  private discardConsumedHistory(): void {
    const drop = Math.min(this.position - this.lookahead + 1, this.historyLength);
    if (drop <= 0) return;
    this.history.copyWithin(0, drop, this.historyLength);
    this.historyLength -= drop;
    this.position -= drop;
  }
}

/** Resamples a whole mono signal at once (process + flush). Equal rates return the input itself. */
export function resample(
  samples: Int16Array,
  inputRate: number,
  outputRate: number,
  quality: ResamplerQuality = 'medium',
): Int16Array {
  const resampler = new StreamingResampler({ inputRate, outputRate, quality });
  if (inputRate === outputRate) return samples;
  const body = resampler.process(samples);
  const tail = resampler.flush();
  const result = new Int16Array(body.length + tail.length);
  result.set(body);
  result.set(tail, body.length);
  return result;
}
