// WavStreamReader: a WAV's header taken off however the bytes are split, extra chunks skipped, the format read.
import { describe, expect, it } from 'vitest';
import { int16ToBytes, writeWav } from '../../../src/audio/index.js';
import { WavStreamError, WavStreamReader } from '../../../src/services/base/wav-stream.js';

function withListChunk(wav: Uint8Array): Uint8Array {
  // RIFF header (12) + fmt chunk (24), then a LIST chunk of odd size (padded) before `data`.
  const list = new Uint8Array([...Buffer.from('LIST'), 3, 0, 0, 0, 1, 2, 3, 0]);
  return new Uint8Array([...wav.subarray(0, 36), ...list, ...wav.subarray(36)]);
}

describe('WavStreamReader', () => {
  it('hands on exactly the samples, split at every byte boundary, skipping a padded LIST chunk', () => {
    const samples = new Int16Array([1, -2, 300, -400, 5000, -6000]);
    const wav = withListChunk(writeWav({ sampleRate: 48000, channels: 1, samples }));
    for (let cut = 0; cut <= wav.length; cut++) {
      const reader = new WavStreamReader();
      const out = Buffer.concat([reader.push(wav.subarray(0, cut)), reader.push(wav.subarray(cut))]);
      expect(out).toEqual(Buffer.from(int16ToBytes(samples)));
      expect(reader.format).toEqual({ formatTag: 1, channels: 1, sampleRate: 48000, bitsPerSample: 16 });
    }
  });

  it('refuses bytes that are not a WAV', () => {
    expect(() => new WavStreamReader().push(Buffer.from('ID3 an mp3 file, not a wav'))).toThrow(WavStreamError);
  });
});
