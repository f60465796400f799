// FakeTTSService with recorded audio: every text is said as the given recording, in chunks that are views of it.
import { describe, expect, it } from 'vitest';
import { FakeTTSService } from '../../src/testing/fake-services.js';
import type { TTSChunk } from '../../src/services/base/tts-service.js';

async function collect(tts: FakeTTSService, text: string, signal = new AbortController().signal): Promise<TTSChunk[]> {
  const chunks: TTSChunk[] = [];
  for await (const chunk of tts.synthesize(text, { contextId: 'c1', signal })) chunks.push(chunk);
  return chunks;
}

describe('FakeTTSService({ audio })', () => {
  const recording = Int16Array.from({ length: 1000 }, (_, i) => i - 500);

  it('yields the whole recording for any text, in chunkMs pieces, without copying', async () => {
    const tts = new FakeTTSService({ sampleRate: 16000, audio: recording, chunkMs: 20 });
    expect(tts.durationMs('hi')).toBeCloseTo(62.5);
    const chunks = await collect(tts, 'Hello there.');
    const audio = chunks.flatMap((c) => (c.type === 'audio' ? [c.audio] : []));
    expect(audio.map((a) => a.length)).toEqual([320, 320, 320, 40]);
    expect(audio.every((a) => a.buffer === recording.buffer)).toBe(true);
    expect(Array.from(audio.flatMap((a) => Array.from(a)))).toEqual(Array.from(recording));
    expect(tts.spoken).toEqual(['Hello there.']);
  });

  it('spreads word timings over the recording and stops when aborted', async () => {
    const tts = new FakeTTSService({ sampleRate: 16000, audio: recording, chunkMs: 20, wordTimestamps: true });
    const words = (await collect(tts, 'ab cd')).flatMap((c) => (c.type === 'word' ? [c] : []));
    expect(words.map((w) => w.text)).toEqual(['ab', 'cd']);
    expect(words[1]!.offsetMs).toBeCloseTo((3 / 5) * 62.5);
    const aborted = new AbortController();
    aborted.abort();
    expect(await collect(tts, 'more', aborted.signal)).toEqual([]);
  });
});
