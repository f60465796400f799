import { describe, expect, it } from 'vitest';
import { EchoCanceller } from '../../../src/audio/echo/index.js';
import { Fft } from '../../../src/audio/echo/fft.js';
import { createSeededRandom } from '../../../src/testing/random.js';
import { concatAudio, silence, synthesizeSpeech } from '../../../src/testing/speech.js';
import { cancel, echoOf, levelDb } from './echo-helpers.js';

describe('Fft', () => {
  it('matches a direct DFT and inverts exactly', () => {
    const fft = new Fft(16);
    const random = createSeededRandom(5);
    const x = Float64Array.from({ length: 16 }, () => random() - 0.5);
    const re = Float64Array.from(x);
    const im = new Float64Array(16);
    fft.forward(re, im);
    for (let k = 0; k < 16; k++) {
      let sr = 0;
      let si = 0;
      for (let n = 0; n < 16; n++) {
        sr += x[n]! * Math.cos((-2 * Math.PI * k * n) / 16);
        si += x[n]! * Math.sin((-2 * Math.PI * k * n) / 16);
      }
      expect(re[k]).toBeCloseTo(sr, 10);
      expect(im[k]).toBeCloseTo(si, 10);
    }
    fft.inverse(re, im);
    for (let n = 0; n < 16; n++) expect(re[n]).toBeCloseTo(x[n]!, 12);
    expect(() => new Fft(12)).toThrow(/power of two/);
  });
});

describe('EchoCanceller', () => {
  it.each([8000, 16000])('removes a synthetic echo of noise by more than 25 dB once converged (%i Hz)', (rate) => {
    const random = createSeededRandom(3);
    const reference = Int16Array.from({ length: rate * 4 }, () => Math.round((random() * 2 - 1) * 4000));
    const mic = echoOf(reference, rate);
    const out = cancel(new EchoCanceller({ sampleRate: rate }), reference, mic);
    // Measured: 34-37 dB over the last two seconds (the filter with the residual suppressor).
    expect(levelDb(mic, rate * 2, rate * 4) - levelDb(out, rate * 2, rate * 4)).toBeGreaterThan(25);
  });

  it('removes an echo of speech and keeps the caller talking over it (double talk)', async () => {
    const rate = 16000;
    const agent = await synthesizeSpeech('Your order number is four five six seven, and it will arrive on Tuesday.', { sampleRate: rate });
    const caller = await synthesizeSpeech('What is the balance of my account?', { sampleRate: rate, voice: 'slt' });
    const reference = concatAudio(agent, agent);
    const echo = echoOf(reference, rate);
    const callerAt = agent.length + rate / 2;
    const callerEnd = callerAt + caller.length;
    const near = new Float64Array(reference.length);
    near.set(caller, callerAt);
    const mic = Float64Array.from(echo, (v, i) => v + near[i]!);

    const out = cancel(new EchoCanceller({ sampleRate: rate }), reference, mic);
    // Echo alone, after the first sentence taught the filter: measured 32 dB less.
    const echoOnly = [callerEnd + rate / 10, reference.length] as const;
    expect(levelDb(mic, ...echoOnly) - levelDb(out, ...echoOnly)).toBeGreaterThan(15);
    // Over the caller's sentence: what is left besides the caller's own voice (residual echo and distortion of the
    // caller) is far below the caller, and measured 6.4 dB below the echo that was there: the caller is kept, and
    // even while the caller talks the echo is reduced.
    const distortion = Float64Array.from({ length: caller.length }, (_, i) => out[callerAt + i]! - caller[i]!);
    const echoInCall = levelDb(echo, callerAt, callerEnd);
    expect(levelDb(caller, 0, caller.length) - levelDb(distortion, 0, caller.length)).toBeGreaterThan(20);
    expect(levelDb(distortion, 0, caller.length)).toBeLessThan(echoInCall - 3);
  });

  it('passes caller audio unchanged (delayed) while the agent is silent, whatever the chunk sizes', () => {
    const rate = 8000;
    const random = createSeededRandom(9);
    const audio = Int16Array.from({ length: rate }, () => Math.round((random() * 2 - 1) * 8000));
    const canceller = new EchoCanceller({ sampleRate: rate });
    const input = concatAudio(audio, silence(1000 * (canceller.latencySamples / rate), rate));
    const out: Int16Array[] = [];
    let at = 0;
    for (const size of [1, 37, 160, 333, 7]) {
      for (; at + size <= input.length - 400; at += size) out.push(canceller.process(input.subarray(at, at + size), ((at + size) * 1000) / rate));
    }
    out.push(canceller.process(input.subarray(at), (input.length * 1000) / rate));
    const cleaned = concatAudio(...out).subarray(canceller.latencySamples);
    let worst = 0;
    for (let i = 0; i < audio.length; i++) worst = Math.max(worst, Math.abs(cleaned[i]! - audio[i]!));
    expect(worst).toBeLessThanOrEqual(1);
  });

  it('places the reference by when it plays, not when it was handed over (an output writing ahead)', () => {
    const rate = 8000;
    const random = createSeededRandom(4);
    const reference = Int16Array.from({ length: rate * 3 }, () => Math.round((random() * 2 - 1) * 4000));
    const mic = echoOf(reference, rate);
    const canceller = new EchoCanceller({ sampleRate: rate });
    const chunk = rate / 50;
    const out: Int16Array[] = [];
    // Each chunk handed over half a second before it plays (a sink with a long lead), with its play time.
    const leadSamples = rate / 2;
    for (let i = 0; i < mic.length; i += chunk) {
      if (i === 0) canceller.pushReference(reference.subarray(0, leadSamples), 0);
      const ahead = i + leadSamples;
      canceller.pushReference(reference.subarray(ahead, ahead + chunk), (ahead * 1000) / rate);
      out.push(canceller.process(Int16Array.from(mic.subarray(i, i + chunk), (v) => Math.round(v)), ((i + chunk) * 1000) / rate));
    }
    const cleaned = concatAudio(...out);
    const shifted = [rate * 2, rate * 3 - canceller.latencySamples] as const;
    const late = Float64Array.from({ length: shifted[1] - shifted[0] }, (_, i) => cleaned[shifted[0] + i + canceller.latencySamples]!);
    expect(levelDb(mic, ...shifted) - levelDb(late, 0, late.length)).toBeGreaterThan(20);
  });

  it('rejects bad options', () => {
    expect(() => new EchoCanceller({ sampleRate: 0 })).toThrow(/sampleRate/);
    expect(() => new EchoCanceller({ sampleRate: 8000, tailMs: 0 })).toThrow(/tailMs/);
    expect(() => new EchoCanceller({ sampleRate: 8000, maxDelayMs: -1 })).toThrow(/maxDelayMs/);
  });
});
