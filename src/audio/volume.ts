// Level measurements for PCM16 audio. dBFS is relative to a full-scale amplitude of 32768, so a full-scale square
// wave measures 0 dBFS RMS and a full-scale sine −3.01 dBFS RMS.

const FULL_SCALE = 32768;

/** Root mean square in sample units (0 for an empty array). */
export function rms(samples: Int16Array): number {
  if (samples.length === 0) return 0;
  let sum = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    sum += v * v;
  }
  return Math.sqrt(sum / samples.length);
}

/** RMS level in dBFS: 20·log10(rms / 32768); −Infinity for silence or an empty array. */
export function dbfs(samples: Int16Array): number {
  return amplitudeToDbfs(rms(samples) / FULL_SCALE);
}

/** Largest absolute sample value, in sample units (32768 when the array holds −32768). */
export function peak(samples: Int16Array): number {
  let max = 0;
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    const magnitude = v < 0 ? -v : v;
    if (magnitude > max) max = magnitude;
  }
  return max;
}

/** Linear amplitude as a fraction of full scale (0 dBFS -> 1, −6.02 dBFS -> 0.5). */
export function dbfsToAmplitude(db: number): number {
  return 10 ** (db / 20);
}

/** dBFS of a linear amplitude given as a fraction of full scale (1 -> 0 dBFS, 0 -> −Infinity). */
export function amplitudeToDbfs(amplitude: number): number {
  return 20 * Math.log10(amplitude);
}
