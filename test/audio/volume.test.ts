import { describe, expect, it } from 'vitest';
import { amplitudeToDbfs, dbfs, dbfsToAmplitude, peak, rms } from '../../src/audio/index.js';

function sine(amplitude: number, length: number, cyclesPerSample = 1000 / 8000): Int16Array {
  return Int16Array.from({ length }, (_, i) => Math.round(amplitude * Math.sin(2 * Math.PI * cyclesPerSample * i)));
}

describe('rms, dbfs, peak', () => {
  it('a full-scale square wave measures 0 dBFS RMS', () => {
    const square = Int16Array.from({ length: 800 }, (_, i) => (Math.floor(i / 4) % 2 === 0 ? 32767 : -32768));
    expect(rms(square)).toBeCloseTo(32767.5, 0);
    expect(dbfs(square)).toBeCloseTo(0, 3);
    expect(peak(square)).toBe(32768);
  });

  // What is asserted: a sine whose peak is at −6.02 dBFS (amplitude 16384) has an RMS level 3.01 dB lower.
  it('a sine peaking at −6.02 dBFS measures −9.03 dBFS RMS (−6.02 ± 0.05 once its −3.01 dB is added back)', () => {
    // 1 kHz at 8 kHz: 8 samples per cycle, 100 whole cycles, so the RMS is exactly amplitude / √2 up to rounding.
    const tone = sine(16384, 800);
    expect(rms(tone)).toBeCloseTo(16384 / Math.SQRT2, 0);
    expect(dbfs(tone)).toBeCloseTo(-9.03, 1);
    expect(Math.abs(dbfs(tone) + 3.0103 - -6.0206)).toBeLessThan(0.05);
    expect(peak(tone)).toBe(16384);
  });

  it('a −20 dBFS-RMS sine has the amplitude dbfsToAmplitude predicts', () => {
    const amplitude = 32768 * dbfsToAmplitude(-20 + 3.0103);
    expect(dbfs(sine(amplitude, 8000, 0.0123))).toBeCloseTo(-20, 1);
  });

  it('silence and empty input measure 0 RMS, −Infinity dBFS and 0 peak', () => {
    expect(rms(new Int16Array(160))).toBe(0);
    expect(dbfs(new Int16Array(160))).toBe(Number.NEGATIVE_INFINITY);
    expect(rms(new Int16Array(0))).toBe(0);
    expect(dbfs(new Int16Array(0))).toBe(Number.NEGATIVE_INFINITY);
    expect(peak(new Int16Array(0))).toBe(0);
  });

  it('measures a constant and a single sample exactly', () => {
    expect(rms(new Int16Array(10).fill(-300))).toBe(300);
    expect(peak(Int16Array.from([3, -7, 5]))).toBe(7);
    expect(dbfs(Int16Array.from([16384]))).toBeCloseTo(-6.0206, 4);
  });
});

describe('dB conversions', () => {
  it('convert between dBFS and fractions of full scale', () => {
    expect(dbfsToAmplitude(0)).toBe(1);
    expect(dbfsToAmplitude(-20)).toBeCloseTo(0.1, 12);
    expect(dbfsToAmplitude(-6.0206)).toBeCloseTo(0.5, 4);
    expect(amplitudeToDbfs(1)).toBe(0);
    expect(amplitudeToDbfs(0.5)).toBeCloseTo(-6.0206, 4);
    expect(amplitudeToDbfs(0)).toBe(Number.NEGATIVE_INFINITY);
  });

  it('are inverses of each other', () => {
    for (const db of [-96, -40, -12.5, -3, 0, 6]) expect(amplitudeToDbfs(dbfsToAmplitude(db))).toBeCloseTo(db, 10);
  });
});
