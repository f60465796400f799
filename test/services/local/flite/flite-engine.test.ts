import { spawnSync } from 'node:child_process';
import { mkdtemp, readdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { dbfs } from '../../../../src/audio/index.js';
import {
  FLITE_VOICE_RATES,
  prepareFliteText,
  synthesizeWithFlite,
  type FliteVoice,
} from '../../../../src/services/local/flite/index.js';

const TEN_WORDS = 'Please hold the line while I connect you to an agent.';
const VOICES = Object.keys(FLITE_VOICE_RATES) as FliteVoice[];

function seconds(audio: { samples: Int16Array; sampleRate: number }): number {
  return audio.samples.length / audio.sampleRate;
}

describe('synthesizeWithFlite', () => {
  it('documents kal at 8 kHz and the other voices at 16 kHz', () => {
    expect(FLITE_VOICE_RATES).toEqual({ kal: 8000, kal16: 16000, slt: 16000, rms: 16000, awb: 16000 });
  });

  it.each(VOICES)('speaks a ten-word sentence with the %s voice at its rate', async (voice) => {
    const audio = await synthesizeWithFlite(TEN_WORDS, { voice });
    expect(audio.sampleRate).toBe(FLITE_VOICE_RATES[voice]);
    expect(seconds(audio)).toBeGreaterThan(0.8);
    expect(seconds(audio)).toBeLessThan(4);
    expect(dbfs(audio.samples)).toBeGreaterThan(-30);
  });

  it('uses kal16 by default', async () => {
    const audio = await synthesizeWithFlite('Hello there.');
    expect(audio.sampleRate).toBe(16000);
    const kal16 = await synthesizeWithFlite('Hello there.', { voice: 'kal16' });
    expect(audio.samples).toEqual(kal16.samples);
  });

  it('takes longer to say more words', async () => {
    const short = await synthesizeWithFlite('Yes.');
    const long = await synthesizeWithFlite(`${TEN_WORDS} ${TEN_WORDS}`);
    expect(seconds(short)).toBeLessThan(1);
    expect(seconds(long)).toBeGreaterThan(2 * seconds(short));
  });

  it('rejects empty and blank text', async () => {
    await expect(synthesizeWithFlite('')).rejects.toThrow(/empty/);
    await expect(synthesizeWithFlite(' \n\t ')).rejects.toThrow(/empty/);
  });

  it('rejects an unknown voice, listing the voices', async () => {
    await expect(synthesizeWithFlite('Hello', { voice: 'bogus' as FliteVoice })).rejects.toThrow(
      /unknown voice 'bogus'.*kal, kal16, slt, rms, awb/,
    );
  });

  it('speaks text with quotes, newlines, a leading dash and shell metacharacters', async () => {
    const audio = await synthesizeWithFlite(`-v "Quoted" and 'single'\nsecond line; $HOME && echo \`x\` | rm *`);
    expect(seconds(audio)).toBeGreaterThan(1);
    expect(dbfs(audio.samples)).toBeGreaterThan(-30);
  });

  it('does not crash on non-ASCII text and says accented words as their plain letters', async () => {
    const accented = await synthesizeWithFlite('café naïve résumé');
    const plain = await synthesizeWithFlite('cafe naive resume');
    expect(accented.samples).toEqual(plain.samples);
    // Flite says nothing for scripts it has no rules for: an empty result, not an error.
    const japanese = await synthesizeWithFlite('日本語');
    expect(japanese.sampleRate).toBe(16000);
    expect(japanese.samples.length).toBe(0);
    const mixed = await synthesizeWithFlite('Hello 世界 \u{1F600} \u0000 world');
    expect(seconds(mixed)).toBeGreaterThan(0.5);
  });

  it('normalises typographic punctuation and control characters for Flite', () => {
    expect(prepareFliteText('don\u2019t \u201cstop\u201d \u2014 now\u2026')).toBe(`don't "stop" - now...`);
    expect(prepareFliteText('a\u0000b\u0007c\nd')).toBe('a b c\nd');
  });

  it('runs 20 syntheses at once and cleans up its temporary directories', async () => {
    // A temporary folder of this test's own: other test files running at the same time use Flite too.
    const ownTmp = await mkdtemp(join(tmpdir(), 'flite-engine-test-'));
    const sharedTmp = process.env.TMPDIR;
    process.env.TMPDIR = ownTmp;
    try {
      const texts = Array.from({ length: 20 }, (_, i) => `This is caller number ${i + 1}.`);
      const results = await Promise.all(
        texts.map((text, i) => synthesizeWithFlite(text, { voice: VOICES[i % VOICES.length]! })),
      );
      for (const [i, audio] of results.entries()) {
        expect(audio.sampleRate).toBe(FLITE_VOICE_RATES[VOICES[i % VOICES.length]!]);
        expect(seconds(audio)).toBeGreaterThan(0.8);
      }
      expect(await readdir(ownTmp)).toEqual([]);
    } finally {
      if (sharedTmp === undefined) delete process.env.TMPDIR;
      else process.env.TMPDIR = sharedTmp;
      await rm(ownTmp, { recursive: true, force: true });
    }
  });

  it('hides only the WASI ExperimentalWarning', () => {
    const engine = fileURLToPath(new URL('../../../../src/services/local/flite/index.ts', import.meta.url));
    const script =
      `const { synthesizeWithFlite } = await import(${JSON.stringify(engine)});` +
      `await synthesizeWithFlite('hi'); process.emitWarning('still shown', 'ExperimentalWarning');` +
      `process.emitWarning('WASI is an experimental feature (not from Node)', 'CustomWarning');`;
    const result = spawnSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      cwd: fileURLToPath(new URL('../../../../', import.meta.url)),
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(result.status).toBe(0);
    expect(result.stderr).not.toMatch(/ExperimentalWarning: WASI/);
    expect(result.stderr).toMatch(/ExperimentalWarning: still shown/);
    expect(result.stderr).toMatch(/CustomWarning: WASI is an experimental feature \(not from Node\)/);
  });
});
