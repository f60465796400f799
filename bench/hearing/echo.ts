// The echo canceller run offline as a call would run it: the reference handed over chunk by chunk with its play
// time, the microphone's audio in 20 ms chunks with its arrival time, on the same timeline.
import { EchoCanceller } from '../../src/audio/echo/index.js';

/** `mic` with the echo of `reference` (both at `sampleRate`, starting together) taken out; output aligned with the input. */
export function cancelEchoOffline(mic: Int16Array, reference: Int16Array, sampleRate: number): Int16Array {
  const canceller = new EchoCanceller({ sampleRate });
  const chunk = sampleRate / 50;
  const total = mic.length + canceller.latencySamples;
  const input = new Int16Array(total);
  input.set(mic);
  const out = new Int16Array(total);
  for (let i = 0; i < total; i += chunk) {
    if (i < reference.length) canceller.pushReference(reference.subarray(i, i + chunk), (i * 1000) / sampleRate);
    const piece = input.subarray(i, i + chunk);
    out.set(canceller.process(piece, ((i + piece.length) * 1000) / sampleRate), i);
  }
  return out.slice(canceller.latencySamples);
}

/**
 * The echo of `reference` a room makes (as bench/hearing/noise.ts `withEcho`): `delayMs` late, a reflection
 * `reflectionMs` after it (by default as late again: twice the delay). A long line is a long `delayMs` with a
 * room's `reflectionMs` (30).
 */
export function roomEcho(reference: Int16Array, length: number, delayMs: number, gain: number, sampleRate: number, reflectionMs = delayMs): Float64Array {
  const delay = Math.round((delayMs * sampleRate) / 1000);
  const reflection = delay + Math.round((reflectionMs * sampleRate) / 1000);
  const echo = new Float64Array(length);
  for (let i = 0; i < length; i++) {
    const a = i - delay;
    const b = i - reflection;
    echo[i] = gain * ((a >= 0 && a < reference.length ? reference[a]! : 0) + 0.4 * (b >= 0 && b < reference.length ? reference[b]! : 0));
  }
  return echo;
}

/** 10 log10 of the ratio of the two signals' energies over [from, to). */
export function energyRatioDb(a: ArrayLike<number>, b: ArrayLike<number>, from = 0, to = Math.min(a.length, b.length)): number {
  let ea = 0;
  let eb = 0;
  for (let i = from; i < to; i++) {
    ea += a[i]! * a[i]!;
    eb += b[i]! * b[i]!;
  }
  return 10 * Math.log10((ea + 1e-9) / (eb + 1e-9));
}
