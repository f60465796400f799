import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { StreamingResampler, resample } from '../../src/audio/index.js';
import { createSeededRandom } from '../../src/testing/random.js';

const RATES = [8000, 16000, 22050, 24000, 44100, 48000];
/** −6 dBFS peak. */
const AMPLITUDE = 16384;

function sine(frequency: number, sampleRate: number, length: number, amplitude = AMPLITUDE): Int16Array {
  const samples = new Int16Array(length);
  for (let i = 0; i < length; i++) {
    samples[i] = Math.round(amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate));
  }
  return samples;
}

/** [start, end) of the middle 60 %, clear of the start-up and tail transients. */
function steadyRange(length: number): [number, number] {
  return [Math.floor(length * 0.2), Math.floor(length * 0.8)];
}

function steadyRms(samples: Int16Array): number {
  const [start, end] = steadyRange(samples.length);
  let sum = 0;
  for (let i = start; i < end; i++) sum += samples[i]! * samples[i]!;
  return Math.sqrt(sum / (end - start));
}

/** Amplitude of one frequency in the steady part: single-bin DFT with a Hann window (low leakage from the tone). */
function toneAmplitude(samples: Int16Array, frequency: number, sampleRate: number): number {
  const [start, end] = steadyRange(samples.length);
  let re = 0;
  let im = 0;
  let windowSum = 0;
  for (let i = start; i < end; i++) {
    const weight = 0.5 - 0.5 * Math.cos((2 * Math.PI * (i - start)) / (end - start - 1));
    const angle = (2 * Math.PI * frequency * i) / sampleRate;
    re += weight * samples[i]! * Math.cos(angle);
    im += weight * samples[i]! * Math.sin(angle);
    windowSum += weight;
  }
  return (2 * Math.hypot(re, im)) / windowSum;
}

const decibels = (ratio: number): number => 20 * Math.log10(ratio);

/** Sum of a few sines across the band plus seeded noise: exercises every filter phase with varied content. */
function speechLike(sampleRate: number, seconds: number, seed: number): Int16Array {
  const random = createSeededRandom(seed);
  const samples = new Int16Array(Math.round(sampleRate * seconds));
  const partials = [
    [140, 5000],
    [290, 3500],
    [610, 2500],
    [1230, 1500],
    [2470, 900],
    [3390, 500],
  ] as const;
  for (let i = 0; i < samples.length; i++) {
    let value = 0;
    for (const [frequency, amplitude] of partials) {
      value += amplitude * Math.sin((2 * Math.PI * frequency * i) / sampleRate);
    }
    samples[i] = Math.round(value + 3000 * (random() - 0.5));
  }
  return samples;
}

function streamInChunks(input: Int16Array, resampler: StreamingResampler, chunkSizes: readonly number[]): Int16Array {
  const parts: Int16Array[] = [];
  let offset = 0;
  for (let i = 0; offset < input.length; i++) {
    const size = chunkSizes[i % chunkSizes.length]!;
    parts.push(resampler.process(input.subarray(offset, offset + size)));
    offset += size;
  }
  parts.push(resampler.flush());
  const total = parts.reduce((sum, part) => sum + part.length, 0);
  const output = new Int16Array(total);
  let at = 0;
  for (const part of parts) {
    output.set(part, at);
    at += part.length;
  }
  return output;
}

function firstDifference(a: Int16Array, b: Int16Array): number {
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) if (a[i] !== b[i]) return i;
  return a.length === b.length ? -1 : length;
}

describe('resample: every pair of common rates (medium quality)', () => {
  for (const inputRate of RATES) {
    for (const outputRate of RATES) {
      if (inputRate === outputRate) continue;
      it(`${inputRate} -> ${outputRate} Hz keeps a 1 kHz tone's level, length and timing`, () => {
        const input = sine(1000, inputRate, inputRate); // 1 s
        const output = resample(input, inputRate, outputRate);

        // Length: within one sample of the exact duration.
        expect(Math.abs(output.length - Math.round((input.length * outputRate) / inputRate))).toBeLessThanOrEqual(1);

        // Level: the RMS of the steady part changes by less than 0.5 dB (measured: under 0.001 dB).
        expect(Math.abs(decibels(steadyRms(output) / steadyRms(input)))).toBeLessThan(0.5);

        // Time alignment: output n matches the ideal sine evaluated at n / outputRate. A delay of even one output
        // sample would leave an error of about −10 dB at 48 kHz; require the error 60 dB down (measured: ≥ 86 dB).
        const ideal = sine(1000, outputRate, output.length);
        const [start, end] = steadyRange(output.length);
        let signal = 0;
        let error = 0;
        for (let i = start; i < end; i++) {
          signal += ideal[i]! ** 2;
          error += (output[i]! - ideal[i]!) ** 2;
        }
        const snrDb = error === 0 ? Number.POSITIVE_INFINITY : 10 * Math.log10(signal / error);
        expect(snrDb).toBeGreaterThan(60);
      });
    }
  }
});

describe('resample: rejection of out-of-band content', () => {
  const aliasCases = [
    { inputRate: 16000, outputRate: 8000, frequency: 6000 },
    { inputRate: 48000, outputRate: 8000, frequency: 10000 },
    { inputRate: 44100, outputRate: 16000, frequency: 12000 },
  ];
  for (const { inputRate, outputRate, frequency } of aliasCases) {
    it(`${inputRate} -> ${outputRate} Hz removes a ${frequency} Hz tone (at least 40 dB, aiming for 60)`, () => {
      const input = sine(frequency, inputRate, inputRate);
      const output = resample(input, inputRate, outputRate);
      const attenuationDb = decibels(steadyRms(input) / Math.max(steadyRms(output), 1e-9));
      expect(attenuationDb).toBeGreaterThan(60);
    });
  }

  it('16 -> 8 kHz keeps aliases of tones just above the new Nyquist frequency 80 dB down', () => {
    // 4.4 kHz folds to 3.6 kHz, inside the telephone band: the hardest alias to remove.
    for (const frequency of [4407, 5123, 6007, 7517]) {
      const output = resample(sine(frequency, 16000, 16000), 16000, 8000);
      const alias = toneAmplitude(output, 8000 - frequency, 8000);
      expect(decibels(AMPLITUDE / alias), `${frequency} Hz`).toBeGreaterThan(80);
    }
  });

  it('8 -> 48 kHz leaves the images of a 1 kHz tone (7, 9, 15, 17, 23 kHz) at least 40 dB down', () => {
    const output = resample(sine(1000, 8000, 8000), 8000, 48000);
    const toneLevel = toneAmplitude(output, 1000, 48000);
    expect(decibels(toneLevel / AMPLITUDE)).toBeCloseTo(0, 1);
    for (const image of [7000, 9000, 15000, 17000, 23000]) {
      expect(decibels(toneLevel / toneAmplitude(output, image, 48000)), `${image} Hz`).toBeGreaterThan(60);
    }
    // And the total energy above 4.2 kHz: what remains after removing the 1 kHz component is tiny.
    const ideal = sine(1000, 48000, output.length);
    const [start, end] = steadyRange(output.length);
    let residual = 0;
    let signal = 0;
    for (let i = start; i < end; i++) {
      residual += (output[i]! - ideal[i]!) ** 2;
      signal += ideal[i]! ** 2;
    }
    expect(10 * Math.log10(signal / residual)).toBeGreaterThan(60);
  });

  it('8 -> 16 kHz images of tones up to 3.6 kHz stay 80 dB down and 3 kHz passes at full level', () => {
    for (const frequency of [507, 1507, 3007, 3607]) {
      const output = resample(sine(frequency, 8000, 16000), 8000, 16000);
      const image = toneAmplitude(output, 8000 - frequency, 16000);
      expect(decibels(AMPLITUDE / image), `${frequency} Hz`).toBeGreaterThan(80);
    }
    const passband = resample(sine(3007, 8000, 16000), 8000, 16000);
    expect(decibels(toneAmplitude(passband, 3007, 16000) / AMPLITUDE)).toBeCloseTo(0, 1);
  });

  it('quality levels trade passband width and rejection as documented', () => {
    const attenuation = (quality: 'low' | 'medium' | 'high'): number => {
      const output = resample(sine(4407, 16000, 16000), 16000, 8000, quality);
      return decibels(AMPLITUDE / toneAmplitude(output, 8000 - 4407, 8000));
    };
    const level3k4 = (quality: 'low' | 'medium' | 'high'): number => {
      const output = resample(sine(3407, 16000, 16000), 16000, 8000, quality);
      return decibels(toneAmplitude(output, 3407, 8000) / AMPLITUDE);
    };
    expect(attenuation('low')).toBeGreaterThan(60);
    expect(attenuation('medium')).toBeGreaterThan(attenuation('low'));
    expect(attenuation('high')).toBeGreaterThan(100);
    expect(level3k4('low')).toBeLessThan(level3k4('medium'));
    expect(level3k4('medium')).toBeGreaterThan(-1.5);
    expect(Math.abs(level3k4('high'))).toBeLessThan(0.1);
  });
});

describe('StreamingResampler: streaming', () => {
  const pairs: [number, number][] = [
    [8000, 16000],
    [16000, 8000],
    [24000, 8000],
    [44100, 16000],
    [8000, 22050],
    [48000, 44100],
  ];

  for (const [inputRate, outputRate] of pairs) {
    it(`${inputRate} -> ${outputRate} Hz in random chunks of 1–500 samples is bit-identical to one shot`, () => {
      const input = speechLike(inputRate, 2, inputRate);
      const whole = resample(input, inputRate, outputRate);
      const resampler = new StreamingResampler({ inputRate, outputRate });
      fc.assert(
        fc.property(fc.array(fc.integer({ min: 1, max: 500 }), { minLength: 1, maxLength: 64 }), (chunkSizes) => {
          const streamed = streamInChunks(input, resampler, chunkSizes);
          expect(firstDifference(streamed, whole)).toBe(-1);
        }),
        { numRuns: 8, seed: 1234 },
      );
    });
  }

  it('has no discontinuity at chunk boundaries: a 440 Hz sine never steps more than its slope allows', () => {
    const input = sine(440, 8000, 16000, 30000);
    const resampler = new StreamingResampler({ inputRate: 8000, outputRate: 16000 });
    const output = streamInChunks(input, resampler, [1, 7, 160, 3, 499]);
    // Largest change between consecutive samples of the ideal sine, plus rounding.
    const maxStep = 30000 * 2 * Math.sin((Math.PI * 440) / 16000) + 2;
    const [start, end] = steadyRange(output.length);
    for (let i = start; i < end; i++) expect(Math.abs(output[i + 1]! - output[i]!)).toBeLessThanOrEqual(maxStep);
  });

  it('holds outputs back by latencyInputSamples of lookahead and releases them on flush', () => {
    const resampler = new StreamingResampler({ inputRate: 8000, outputRate: 16000 });
    const latency = resampler.latencyInputSamples;
    expect(latency).toBeGreaterThan(0);
    expect(resampler.process(new Int16Array(latency)).length).toBe(0);
    // One more input sample makes the first output (t = 0) and its neighbour at t = 0.5 computable.
    expect(resampler.process(new Int16Array(1)).length).toBe(2);
    expect(resampler.flush().length).toBe(2 * (latency + 1) - 2);
  });

  it('over a whole stream outputs ceil(input · L / M) samples, whatever the chunking', () => {
    for (const [inputRate, outputRate] of pairs) {
      for (const length of [0, 1, 2, 3, 159, 160, 441, 1000]) {
        const resampler = new StreamingResampler({ inputRate, outputRate });
        const output = streamInChunks(new Int16Array(length).fill(1000), resampler, [7, 1]);
        expect(output.length, `${inputRate} -> ${outputRate}, ${length} samples`).toBe(
          Math.ceil((length * outputRate) / inputRate),
        );
      }
    }
  });

  it('a constant input gives the same constant output (unit gain at DC for every phase)', () => {
    const output = resample(new Int16Array(4410).fill(-12345), 44100, 48000);
    const [start, end] = steadyRange(output.length);
    for (let i = start; i < end; i++) expect(output[i]).toBe(-12345);
  });

  it('clamps to the int16 range instead of wrapping around', () => {
    // A full-scale square wave overshoots (Gibbs) after filtering; the overshoot must saturate.
    const square = new Int16Array(8000);
    for (let i = 0; i < square.length; i++) square[i] = Math.floor(i / 20) % 2 === 0 ? 32767 : -32768;
    const output = resample(square, 8000, 16000);
    let maximum = -Infinity;
    let minimum = Infinity;
    for (const v of output) {
      maximum = Math.max(maximum, v);
      minimum = Math.min(minimum, v);
    }
    expect(maximum).toBe(32767);
    expect(minimum).toBe(-32768);
    // Wrap-around would show as a jump of nearly 65536 between neighbours.
    for (let i = 1; i < output.length; i++) expect(Math.abs(output[i]! - output[i - 1]!)).toBeLessThan(40000);
  });

  it('processInto writes into a caller buffer sized by maxOutputLength and rejects a short one', () => {
    const input = speechLike(16000, 0.5, 9);
    const expected = resample(input, 16000, 8000);
    const resampler = new StreamingResampler({ inputRate: 16000, outputRate: 8000 });
    const output = new Int16Array(resampler.maxOutputLength(320));
    const collected: number[] = [];
    for (let i = 0; i < input.length; i += 320) {
      const written = resampler.processInto(input.subarray(i, i + 320), output);
      expect(written).toBeLessThanOrEqual(resampler.maxOutputLength(320));
      collected.push(...output.subarray(0, written));
    }
    collected.push(...resampler.flush());
    expect(collected).toEqual(Array.from(expected));

    const fresh = new StreamingResampler({ inputRate: 16000, outputRate: 8000 });
    fresh.process(new Int16Array(1000));
    expect(() => fresh.processInto(new Int16Array(320), new Int16Array(10))).toThrow(RangeError);
    // The rejected call consumed nothing: the stream continues as if it had not happened.
    const a = new StreamingResampler({ inputRate: 16000, outputRate: 8000 });
    a.process(new Int16Array(1000));
    expect(Array.from(fresh.process(input.subarray(0, 320)))).toEqual(Array.from(a.process(input.subarray(0, 320))));
  });

  it('reset and flush start a new stream that gives the same output again', () => {
    const input = speechLike(8000, 0.3, 3);
    const resampler = new StreamingResampler({ inputRate: 8000, outputRate: 24000 });
    const first = streamInChunks(input, resampler, [100]);
    const second = streamInChunks(input, resampler, [37]);
    expect(firstDifference(first, second)).toBe(-1);
    resampler.process(input.subarray(0, 500));
    resampler.reset();
    expect(firstDifference(streamInChunks(input, resampler, [160]), first)).toBe(-1);
  });

  it('shares one read-only coefficient table between instances: two interleaved streams do not interfere', () => {
    const a = speechLike(16000, 0.5, 1);
    const b = speechLike(16000, 0.5, 2);
    const ra = new StreamingResampler({ inputRate: 16000, outputRate: 8000 });
    const rb = new StreamingResampler({ inputRate: 16000, outputRate: 8000 });
    const outA: number[] = [];
    const outB: number[] = [];
    for (let i = 0; i < a.length; i += 320) {
      outA.push(...ra.process(a.subarray(i, i + 320)));
      outB.push(...rb.process(b.subarray(i, i + 320)));
    }
    outA.push(...ra.flush());
    outB.push(...rb.flush());
    expect(outA).toEqual(Array.from(resample(a, 16000, 8000)));
    expect(outB).toEqual(Array.from(resample(b, 16000, 8000)));
  });
});

describe('StreamingResampler: rates', () => {
  it('passes audio through unchanged at equal rates: process returns the input array itself', () => {
    const resampler = new StreamingResampler({ inputRate: 16000, outputRate: 16000 });
    const input = speechLike(16000, 0.1, 5);
    expect(resampler.process(input)).toBe(input);
    expect(resampler.flush().length).toBe(0);
    expect(resampler.latencyInputSamples).toBe(0);
    const out = new Int16Array(input.length + 5);
    expect(resampler.processInto(input, out)).toBe(input.length);
    expect(Array.from(out.subarray(0, input.length))).toEqual(Array.from(input));
    expect(resample(input, 16000, 16000)).toBe(input);
  });

  it('exposes its rates', () => {
    const resampler = new StreamingResampler({ inputRate: 22050, outputRate: 8000, quality: 'high' });
    expect(resampler.inputRate).toBe(22050);
    expect(resampler.outputRate).toBe(8000);
  });

  it('rejects zero, negative, non-integer and unsupported rates with a RangeError naming them', () => {
    expect(() => new StreamingResampler({ inputRate: 0, outputRate: 8000 })).toThrow(RangeError);
    expect(() => new StreamingResampler({ inputRate: 8000, outputRate: -16000 })).toThrow(/8000 Hz -> -16000 Hz/);
    expect(() => new StreamingResampler({ inputRate: 8000.5, outputRate: 16000 })).toThrow(RangeError);
    expect(() => new StreamingResampler({ inputRate: Number.NaN, outputRate: 16000 })).toThrow(RangeError);
    // 44101 / 8000 does not reduce: 44101 phases, beyond the 2048 supported.
    expect(() => new StreamingResampler({ inputRate: 8000, outputRate: 44101 })).toThrow(/8000 Hz -> 44101 Hz/);
    expect(() => resample(new Int16Array(10), 8000, 44101)).toThrow(RangeError);
  });

  it('supports every direction between 8, 16, 22.05, 24, 32, 44.1 and 48 kHz', () => {
    const rates = [...RATES, 32000];
    for (const inputRate of rates) {
      for (const outputRate of rates) {
        expect(() => new StreamingResampler({ inputRate, outputRate, quality: 'high' })).not.toThrow();
      }
    }
  });
});
