// A pure tone, and how much of it survives a media path: the signal-to-noise ratio of received audio against the
// best-fitting sine at the tone's frequency (everything the fit does not explain — codec noise, resampling
// artefacts, gaps — counts as noise).

export function sineTone(frequencyHz: number, sampleRate: number, samples: number, amplitude = 8000, startSample = 0): Int16Array {
  const tone = new Int16Array(samples);
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  for (let i = 0; i < samples; i++) tone[i] = Math.round(amplitude * Math.sin(step * (startSample + i)));
  return tone;
}

/** SNR in dB of `samples` against the least-squares sine at `frequencyHz` (phase and amplitude fitted). */
export function toneSnrDb(samples: Int16Array, frequencyHz: number, sampleRate: number): number {
  const n = samples.length;
  if (n === 0) return -Infinity;
  const step = (2 * Math.PI * frequencyHz) / sampleRate;
  let sinSum = 0;
  let cosSum = 0;
  for (let i = 0; i < n; i++) {
    sinSum += samples[i]! * Math.sin(step * i);
    cosSum += samples[i]! * Math.cos(step * i);
  }
  // Over whole periods sin and cos are orthogonal: the projections are the fit.
  const a = (2 * sinSum) / n;
  const b = (2 * cosSum) / n;
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < n; i++) {
    const fit = a * Math.sin(step * i) + b * Math.cos(step * i);
    signal += fit * fit;
    noise += (samples[i]! - fit) ** 2;
  }
  return noise === 0 ? Infinity : 10 * Math.log10(signal / noise);
}

/** The part of `samples` after the first `skipMs` of sound (above `threshold`), `windowMs` long, or undefined. */
export function steadyWindow(samples: Int16Array, sampleRate: number, skipMs: number, windowMs: number, threshold = 500): Int16Array | undefined {
  const onset = samples.findIndex((sample) => Math.abs(sample) > threshold);
  if (onset < 0) return undefined;
  const start = onset + Math.round((skipMs * sampleRate) / 1000);
  const end = start + Math.round((windowMs * sampleRate) / 1000);
  return end <= samples.length ? samples.subarray(start, end) : undefined;
}

/**
 * The median of `toneSnrDb` over `blockMs` blocks: the codec's quality, not the odd gap a loaded machine causes
 * in real-time audio (a gap spoils the blocks it falls in, not the median).
 */
export function medianToneSnrDb(samples: Int16Array, frequencyHz: number, sampleRate: number, blockMs = 100): number {
  const block = Math.round((blockMs * sampleRate) / 1000);
  const snrs: number[] = [];
  for (let start = 0; start + block <= samples.length; start += block) {
    snrs.push(toneSnrDb(samples.subarray(start, start + block), frequencyHz, sampleRate));
  }
  if (snrs.length === 0) return -Infinity;
  snrs.sort((a, b) => a - b);
  return snrs[Math.floor(snrs.length / 2)]!;
}
