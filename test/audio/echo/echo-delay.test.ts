// Echo paths longer than the adaptive filter's 250 ms (a PSTN leg's round trip): the bulk delay estimator finds
// the echo and the canceller shifts the reference into the filter's window. The line here is a room (30 ms of
// path and a reflection 30 ms after it) behind a network delay, at -6 dB.
import { describe, expect, it } from 'vitest';
import { DelayEstimator } from '../../../src/audio/echo/delay-estimator.js';
import { EchoCanceller } from '../../../src/audio/echo/index.js';
import { createSeededRandom } from '../../../src/testing/random.js';
import { concatAudio, synthesizeSpeech } from '../../../src/testing/speech.js';
import { cancel, echoOf, levelDb } from './echo-helpers.js';

const noise = (seed: number, samples: number): Int16Array => {
  const random = createSeededRandom(seed);
  return Int16Array.from({ length: samples }, () => Math.round((random() * 2 - 1) * 4000));
};

describe('DelayEstimator', () => {
  it.each([
    [8000, 64, 400],
    [8000, 64, 300],
    [16000, 128, 604],
    [16000, 128, 970],
  ])('finds an echo of noise (%i Hz, %i-sample blocks) %i ms late, to the block, wherever it falls in a block', (rate, blockSamples, delayMs) => {
    // 3 s: white noise half a block late (300 ms: 37.5 blocks) is the slowest, found after 1.6-1.7 s.
    const reference = noise(7, rate * 3);
    const mic = echoOf(reference, rate, delayMs);
    const estimator = new DelayEstimator({ sampleRate: rate, blockSamples });
    const near = new Float64Array(blockSamples);
    const far = new Float64Array(blockSamples);
    for (let at = 0; at + blockSamples <= mic.length; at += blockSamples) {
      near.set(mic.subarray(at, at + blockSamples));
      for (let i = 0; i < blockSamples; i++) far[i] = reference[at + i]!;
      estimator.process(near, far);
    }
    const blockMs = (1000 * blockSamples) / rate;
    expect(Math.abs(estimator.delayBlocks! * blockMs - delayMs)).toBeLessThanOrEqual(blockMs);
  });

  it('finds nothing when the microphone hears something else than the reference (another voice, noise)', async () => {
    const rate = 8000;
    const agent = await synthesizeSpeech('Thank you for calling. Your order number is four five six seven and it will arrive on Tuesday.', { sampleRate: rate });
    const caller = await synthesizeSpeech('Please tell me the balance of my account and the date of the last payment.', { sampleRate: rate, voice: 'slt' });
    for (const mic of [caller, noise(8, agent.length)]) {
      const estimator = new DelayEstimator({ sampleRate: rate, blockSamples: 64 });
      for (let at = 0; at + 64 <= agent.length; at += 64) {
        estimator.process(Float64Array.from(mic.subarray(at, at + 64)), Float64Array.from(agent.subarray(at, at + 64)));
      }
      expect(estimator.delayBlocks).toBeUndefined();
    }
  });

  it('rejects bad options', () => {
    expect(() => new DelayEstimator({ sampleRate: 8000, blockSamples: 64, maxDelayMs: 0 })).toThrow(/maxDelayMs/);
    expect(() => new DelayEstimator({ sampleRate: 8000, blockSamples: 2 })).toThrow(/too few bands/);
  });
});

describe('EchoCanceller on a long echo path', () => {
  it.each([8000, 16000])('removes an echo of noise 400 and 600 ms late about as well as one 30 ms late (%i Hz)', (rate) => {
    const reference = noise(3, rate * 6);
    const erle = (delayMs: number): number => {
      const mic = echoOf(reference, rate, delayMs);
      const out = cancel(new EchoCanceller({ sampleRate: rate }), reference, mic);
      return levelDb(mic, rate * 4, rate * 6) - levelDb(out, rate * 4, rate * 6);
    };
    // Measured over 4-6 s: 30 ms 37.8 / 41.9 dB (8 / 16 kHz), 400 ms 30.9 / 33.5 dB, 600 ms 29.9 / 32.6 dB; before
    // the delay estimator, 0 dB at 400 and 600 ms.
    expect(erle(400)).toBeGreaterThan(25);
    expect(erle(600)).toBeGreaterThan(25);
  });

  it('removes an echo of speech 400 and 600 ms late as well as one 30 ms late', async () => {
    const rate = 16000;
    const agent = await synthesizeSpeech('Your order number is four five six seven, and it will arrive on Tuesday.', { sampleRate: rate });
    const reference = concatAudio(agent, agent);
    const erle = (delayMs: number): number => {
      const mic = echoOf(reference, rate, delayMs);
      const out = cancel(new EchoCanceller({ sampleRate: rate }), reference, mic);
      return levelDb(mic, agent.length, reference.length) - levelDb(out, agent.length, reference.length);
    };
    // Its second playing, the echo alone; measured 16.7 dB at 30 ms, 20.0 at 400 ms, 19.2 at 600 ms.
    const short = erle(30);
    expect(erle(400)).toBeGreaterThan(short - 3);
    expect(erle(600)).toBeGreaterThan(short - 3);
  });

  it('follows the path when its delay changes, and the filter cancels again', () => {
    const rate = 8000;
    const reference = noise(5, rate * 12);
    // 400 ms for the first 5 s, then 600 ms (a call rerouted, a jitter buffer grown).
    const before = echoOf(reference, rate, 400);
    const after = echoOf(reference, rate, 600);
    const switchAt = rate * 5;
    const mic = Float64Array.from(before, (v, i) => (i < switchAt ? v : after[i]!));
    const canceller = new EchoCanceller({ sampleRate: rate });
    const seen: { at: number; echoMs: number | undefined; shiftMs: number }[] = [];
    const out = cancel(canceller, reference, mic, (at) => seen.push({ at, ...canceller.delay }));
    const at = (seconds: number) => seen.find((s) => s.at >= seconds * rate)!;
    expect(at(4.5).echoMs).toBe(400);
    // The filter's window starts 3 blocks (24 ms) before the echo.
    expect(at(4.5).shiftMs).toBe(376);
    const followed = seen.find((s) => s.at >= switchAt && s.echoMs === 600);
    // Measured: 1.2 s after the change (a new lag must hold 500 ms to replace one already found).
    expect((followed!.at - switchAt) / rate).toBeLessThan(3);
    expect(at(11).shiftMs).toBe(576);
    expect(levelDb(mic, rate * 3, rate * 5) - levelDb(out, rate * 3, rate * 5)).toBeGreaterThan(25);
    expect(levelDb(mic, rate * 10, rate * 12) - levelDb(out, rate * 10, rate * 12)).toBeGreaterThan(25);
  });
});
