import { describe, expect, it } from 'vitest';
import { dbfs } from '../../src/audio/index.js';
import { synthesizeWithFlite } from '../../src/services/local/flite/index.js';
import { concatAudio, silence, synthesizeSpeech, type SpeechSampleRate } from '../../src/testing/speech.js';

const TEXT = 'Can you hear me now?';

describe('synthesizeSpeech', () => {
  it.each([8000, 16000, 24000, 48000] as const)('returns the same speech resampled to %i Hz', async (rate) => {
    const native = await synthesizeSpeech(TEXT, { sampleRate: 16000 });
    const speech = await synthesizeSpeech(TEXT, { sampleRate: rate });
    const untrimmed = await synthesizeSpeech(TEXT, { sampleRate: rate, trim: false });
    const nativeUntrimmed = await synthesizeSpeech(TEXT, { sampleRate: 16000, trim: false });
    expect(untrimmed.length).toBe(Math.ceil((nativeUntrimmed.length * rate) / 16000));
    // Trimmed: the faint tail Flite leaves hovers around the threshold, so where it is cut varies by a few tens of ms.
    expect(Math.abs(speech.length / rate - native.length / 16000)).toBeLessThan(0.04);
    expect(dbfs(speech)).toBeGreaterThan(-35);
    expect(Math.abs(dbfs(speech) - dbfs(native))).toBeLessThan(1.5);
  });

  it('defaults to 16 kHz kal16, trimmed', async () => {
    const flite = await synthesizeWithFlite(TEXT, { voice: 'kal16' });
    const speech = await synthesizeSpeech(TEXT);
    expect(speech.length).toBeLessThan(flite.samples.length);
    expect(speech.length).toBeGreaterThan(flite.samples.length * 0.7);
  });

  it('trims leading and trailing near-silence', async () => {
    for (const sampleRate of [8000, 16000] as const) {
      const trimmed = await synthesizeSpeech(TEXT, { sampleRate });
      expect(Math.abs(trimmed[0]!)).toBeGreaterThan(50);
      expect(Math.abs(trimmed[trimmed.length - 1]!)).toBeGreaterThan(50);
      const untrimmed = await synthesizeSpeech(TEXT, { sampleRate, trim: false });
      expect(Math.abs(untrimmed[0]!)).toBeLessThanOrEqual(50);
      expect(untrimmed.length).toBeGreaterThan(trimmed.length);
    }
  });

  it('passes the voice on', async () => {
    const kal = await synthesizeSpeech(TEXT, { voice: 'kal' });
    const slt = await synthesizeSpeech(TEXT, { voice: 'slt' });
    expect(kal).not.toEqual(slt);
  });

  it('rejects rates other than 8, 16, 24 and 48 kHz', async () => {
    await expect(synthesizeSpeech(TEXT, { sampleRate: 22050 as SpeechSampleRate })).rejects.toThrow(RangeError);
  });
});

describe('silence and concatAudio', () => {
  it('makes silence of the asked duration', () => {
    const quiet = silence(250, 8000);
    expect(quiet).toHaveLength(2000);
    expect(quiet.every((v) => v === 0)).toBe(true);
    expect(silence(0, 16000)).toHaveLength(0);
    expect(silence(0.5, 16000)).toHaveLength(8);
    expect(() => silence(-1, 16000)).toThrow(RangeError);
    expect(() => silence(10, 0)).toThrow(RangeError);
  });

  it('joins parts in order into a new array', () => {
    const a = Int16Array.of(1, 2);
    const b = Int16Array.of(3);
    const joined = concatAudio(a, silence(0.25, 8000), b, silence(0.25, 8000));
    expect(Array.from(joined)).toEqual([1, 2, 0, 0, 3, 0, 0]);
    joined[0] = 9;
    expect(a[0]).toBe(1);
    expect(concatAudio()).toHaveLength(0);
  });
});
