// Deterministic noise for the hearing bench: white and pink noise from a seeded generator, babble made of several
// Flite voices saying other sentences at once, and the agent's own speech coming back as an echo. Mixed with the
// caller's speech at a signal-to-noise ratio measured on the speech itself.
import { createSeededRandom } from '../../src/testing/random.js';
import { synthesizeSpeech } from '../../src/testing/speech.js';

export type NoiseKind = 'white' | 'pink' | 'babble';

/** Gaussian-ish white noise (sum of 4 uniforms), unit-free floats. */
export function whiteNoise(length: number, seed: number): Float32Array {
  const random = createSeededRandom(seed);
  const out = new Float32Array(length);
  for (let i = 0; i < length; i++) out[i] = random() + random() + random() + random() - 2;
  return out;
}

/** Pink (1/f) noise: white noise through Paul Kellet's economy three-pole filter (accurate to about 0.5 dB). */
export function pinkNoise(length: number, seed: number): Float32Array {
  const white = whiteNoise(length, seed);
  let b0 = 0;
  let b1 = 0;
  let b2 = 0;
  for (let i = 0; i < length; i++) {
    const w = white[i]!;
    b0 = 0.99765 * b0 + w * 0.099046;
    b1 = 0.963 * b1 + w * 0.2965164;
    b2 = 0.57 * b2 + w * 1.0526913;
    white[i] = b0 + b1 + b2 + w * 0.1848;
  }
  return white;
}

/** Four talkers at once, each starting at a seeded offset and looping: the sound of a busy room. */
export async function babbleNoise(length: number, seed: number, sentences: readonly string[], sampleRate: 16000): Promise<Float32Array> {
  const random = createSeededRandom(seed);
  const out = new Float32Array(length);
  const voices = ['slt', 'kal16', 'slt', 'kal16'] as const;
  for (const voice of voices) {
    const text = sentences[Math.floor(random() * sentences.length)]!;
    const speech = await synthesizeSpeech(`${text}. ${sentences[Math.floor(random() * sentences.length)]!}`, { sampleRate, voice });
    const offset = Math.floor(random() * speech.length);
    for (let i = 0; i < length; i++) out[i]! += speech[(offset + i) % speech.length]!;
  }
  return out;
}

export function power(samples: ArrayLike<number>): number {
  let sum = 0;
  for (let i = 0; i < samples.length; i++) sum += samples[i]! * samples[i]!;
  return samples.length === 0 ? 0 : sum / samples.length;
}

/**
 * speech + noise scaled so that 10·log10(P_speech / P_noise) = snrDb; clipped to int16. `speechPower`: the power of
 * the speech alone when `speech` carries silence around it (default: the power of `speech`).
 */
export function mixAtSnr(speech: Int16Array, noise: ArrayLike<number>, snrDb: number, speechPower = power(speech)): Int16Array {
  const gain = Math.sqrt(speechPower / (power(noise) * 10 ** (snrDb / 10)));
  const out = new Int16Array(speech.length);
  for (let i = 0; i < speech.length; i++) {
    const v = Math.round(speech[i]! + gain * (noise[i % noise.length] ?? 0));
    out[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return out;
}

/**
 * The agent's speech leaking back into the caller's microphone: delayed by `delayMs`, with a second, weaker
 * reflection, at `levelDb` relative to the caller's speech power.
 */
export function withEcho(
  speech: Int16Array,
  agentSpeech: Int16Array,
  levelDb: number,
  delayMs: number,
  sampleRate: number,
  speechPower = power(speech),
): Int16Array {
  const delay = Math.round((delayMs * sampleRate) / 1000);
  const echo = new Float32Array(speech.length);
  for (let i = 0; i < speech.length; i++) {
    const a = i - delay;
    const b = i - 2 * delay;
    echo[i] = (a >= 0 && a < agentSpeech.length ? agentSpeech[a]! : 0) + 0.4 * (b >= 0 && b < agentSpeech.length ? agentSpeech[b]! : 0);
  }
  return mixAtSnr(speech, echo, -levelDb, speechPower);
}
