// Real caller speech, made offline: Flite speech at the rate a test needs, plus silence and concatenation to build
// turns ("1 s silence, a sentence, 1 s silence") with known speech boundaries.
import { concatInt16, resample } from '../audio/index.js';
import { synthesizeWithFlite, type FliteVoice } from '../services/local/flite/flite-engine.js';

export type SpeechSampleRate = 8000 | 16000 | 24000 | 48000;

export interface SynthesizeSpeechOptions {
  /** Default 16000. */
  sampleRate?: SpeechSampleRate;
  /** Default 'kal16'. */
  voice?: FliteVoice;
  /** Removes leading and trailing near-silence (|sample| <= 50), so speech starts at sample 0; default true. */
  trim?: boolean;
}

const SPEECH_RATES: ReadonlySet<number> = new Set([8000, 16000, 24000, 48000]);

/** Flite leaves a little near-silence around an utterance; samples at or below this magnitude count as silent. */
const TRIM_THRESHOLD = 50;

/** The part of `samples` from the first to the last sample louder than `threshold` (empty when none is). */
function trimQuiet(samples: Int16Array, threshold: number): Int16Array {
  let start = 0;
  while (start < samples.length && Math.abs(samples[start]!) <= threshold) start++;
  let end = samples.length;
  while (end > start && Math.abs(samples[end - 1]!) <= threshold) end--;
  return samples.slice(start, end);
}

/** Speaks `text` with Flite and returns mono PCM16 at `sampleRate`. */
export async function synthesizeSpeech(text: string, options: SynthesizeSpeechOptions = {}): Promise<Int16Array> {
  const { sampleRate = 16000, voice, trim = true } = options;
  if (!SPEECH_RATES.has(sampleRate)) {
    throw new RangeError(`sampleRate must be 8000, 16000, 24000 or 48000, got ${String(sampleRate)}`);
  }
  const speech = await synthesizeWithFlite(text, voice === undefined ? {} : { voice });
  const atRate = resample(speech.samples, speech.sampleRate, sampleRate);
  return trim ? trimQuiet(atRate, TRIM_THRESHOLD) : atRate;
}

/** `ms` milliseconds of digital silence (rounded to the nearest sample). */
export function silence(ms: number, sampleRate: number): Int16Array {
  if (!Number.isFinite(ms) || ms < 0) throw new RangeError(`ms must be a finite number >= 0, got ${ms}`);
  if (!Number.isInteger(sampleRate) || sampleRate <= 0) {
    throw new RangeError(`sampleRate must be a positive integer, got ${sampleRate}`);
  }
  return new Int16Array(Math.round((ms * sampleRate) / 1000));
}

/** One new array holding the parts in order. */
export function concatAudio(...parts: Int16Array[]): Int16Array {
  return concatInt16(parts);
}
