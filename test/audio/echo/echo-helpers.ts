// Shared by the echo canceller's tests: a line's echo, levels, and a canceller run as a call would run it.
import { expect } from 'vitest';
import type { EchoCanceller } from '../../../src/audio/echo/index.js';
import { SileroVADAnalyzer, type SileroSampleRate } from '../../../src/audio/vad/index.js';
import { concatAudio } from '../../../src/testing/speech.js';

/**
 * The agent's audio back `delayMs` later at `gain`, plus a room reflection `reflectionMs` after it (0.4 of it):
 * a speakerphone's room behind a line whose round trip makes up the rest of the delay.
 */
export function echoOf(reference: Int16Array, sampleRate: number, delayMs = 30, gain = 0.5, reflectionMs = 30): Float64Array {
  const delay = Math.round((delayMs * sampleRate) / 1000);
  const reflection = delay + Math.round((reflectionMs * sampleRate) / 1000);
  return Float64Array.from(reference, (_, i) => gain * ((i >= delay ? reference[i - delay]! : 0) + 0.4 * (i >= reflection ? reference[i - reflection]! : 0)));
}

export const levelDb = (x: ArrayLike<number>, from: number, to: number): number => {
  let sum = 0;
  for (let i = from; i < to; i++) sum += x[i]! * x[i]!;
  return 10 * Math.log10(sum / (to - from) + 1e-9);
};

/**
 * Plays `reference` and feeds `mic` through a canceller in 20 ms chunks, in real-time order; output aligned with
 * the input. `onChunk` sees the canceller after each chunk (with the chunk's start, in samples).
 */
export function cancel(canceller: EchoCanceller, reference: Int16Array, mic: ArrayLike<number>, onChunk?: (at: number) => void): Int16Array {
  const rate = canceller.sampleRate;
  const chunk = rate / 50;
  const total = mic.length + canceller.latencySamples;
  const input = Int16Array.from({ length: total }, (_, i) => Math.max(-32768, Math.min(32767, Math.round(mic[i] ?? 0))));
  const out: Int16Array[] = [];
  for (let i = 0; i < total; i += chunk) {
    canceller.pushReference(reference.subarray(i, i + chunk), (i * 1000) / rate);
    const piece = input.subarray(i, i + chunk);
    const cleaned = canceller.process(piece, ((i + piece.length) * 1000) / rate);
    expect(cleaned.length).toBe(piece.length);
    out.push(cleaned);
    onChunk?.(i);
  }
  return concatAudio(...out).subarray(canceller.latencySamples, canceller.latencySamples + mic.length);
}

/** Silero over the audio in 20 ms chunks: the seconds at which it went to speaking. */
export async function speechStarts(audio: Int16Array, rate: SileroSampleRate): Promise<number[]> {
  const vad = await SileroVADAnalyzer.load({ sampleRate: rate });
  const starts: number[] = [];
  let previous = vad.state;
  for (let i = 0; i < audio.length; i += rate / 50) {
    const state = await vad.analyze(audio.subarray(i, i + rate / 50));
    if (state === 'speaking' && previous !== 'speaking') starts.push(i / rate);
    previous = state;
  }
  return starts;
}
