// The beep detector: steady tones across the voicemail range are found within ~the minimum length and their end
// reported; speech, short or quiet tones and gliding tones are not beeps.
import { describe, expect, it } from 'vitest';
import { synthesizeSpeech } from '../../src/testing/speech.js';
import { BeepDetector, type Beep } from '../../src/voicemail/index.js';

function tone(frequencyHz: number, ms: number, rate: number, amplitude = 8000, glideHzPerSec = 0): Int16Array {
  const out = new Int16Array(Math.round((ms * rate) / 1000));
  let phase = 0;
  for (let i = 0; i < out.length; i++) {
    phase += (2 * Math.PI * (frequencyHz + (glideHzPerSec * i) / rate)) / rate;
    out[i] = Math.round(amplitude * Math.sin(phase));
  }
  return out;
}

/** Feeds `audio` in 20 ms chunks; returns every report with the ms at which it came. */
function feed(detector: BeepDetector, audio: Int16Array, rate: number): { atMs: number; beep: Beep }[] {
  const reports: { atMs: number; beep: Beep }[] = [];
  const chunk = rate / 50;
  for (let offset = 0; offset < audio.length; offset += chunk) {
    const beep = detector.push(audio.subarray(offset, offset + chunk));
    if (beep !== undefined) reports.push({ atMs: ((offset + chunk) * 1000) / rate, beep });
  }
  return reports;
}

describe('BeepDetector', () => {
  it.each([400, 440, 850, 1000, 1337, 1400, 2000, 2450])('finds a %i Hz tone at 8 kHz within 140 ms and reports its end', (hz) => {
    const detector = new BeepDetector({ sampleRate: 8000 });
    const audio = new Int16Array(8000 * 2);
    audio.set(tone(hz, 500, 8000), 4000); // 0.5 s of silence, then the beep
    const reports = feed(detector, audio, 8000);
    expect(reports).toHaveLength(2);
    expect(Math.abs(reports[0]!.beep.frequencyHz - hz)).toBeLessThanOrEqual(13);
    expect(reports[0]!.atMs - 500).toBeLessThanOrEqual(140);
    expect(reports[1]!.beep.endMs).toBeGreaterThanOrEqual(1000);
    expect(reports[1]!.beep.endMs).toBeLessThanOrEqual(1040);
  });

  it('works at 16 kHz too', () => {
    const reports = feed(new BeepDetector({ sampleRate: 16000 }), tone(1000, 300, 16000), 16000);
    expect(reports[0]!.beep.frequencyHz).toBe(1000);
  });

  it('ignores a tone shorter than minBeepMs, a quiet one, and a glide', () => {
    expect(feed(new BeepDetector({ sampleRate: 8000 }), tone(1000, 80, 8000), 8000)).toEqual([]);
    expect(feed(new BeepDetector({ sampleRate: 8000 }), tone(1000, 500, 8000, 100), 8000)).toEqual([]); // -50 dBFS
    expect(feed(new BeepDetector({ sampleRate: 8000 }), tone(600, 800, 8000, 8000, 2000), 8000)).toEqual([]); // 2 kHz/s
  });

  it('takes no speech for a beep (four Flite voices)', async () => {
    for (const voice of ['kal', 'slt', 'rms', 'awb'] as const) {
      const speech = await synthesizeSpeech('Hello, you have reached the voicemail of Anna. Please leave a message.', { sampleRate: 8000, voice });
      expect(feed(new BeepDetector({ sampleRate: 8000 }), speech, 8000), voice).toEqual([]);
    }
  });

  it('refuses impossible settings', () => {
    expect(() => new BeepDetector({ sampleRate: 4000 })).toThrow(RangeError);
    expect(() => new BeepDetector({ sampleRate: 8000, minFrequencyHz: 2000, maxFrequencyHz: 1000 })).toThrow(RangeError);
  });
});
