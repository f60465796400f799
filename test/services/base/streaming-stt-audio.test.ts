import { describe, expect, it } from 'vitest';
import { RetainedAudio, type AudioSendLimits } from '../../../src/services/base/streaming-stt-audio.js';

/** A chunk of `samples` 16-bit samples whose bytes all read `tag`. */
const chunk = (start: number, samples: number, tag: number) => ({ bytes: Buffer.alloc(samples * 2, tag), start, samples });

function collect(audio: RetainedAudio, limits: AudioSendLimits): { frames: number[]; sent: number } {
  const frames: number[] = [];
  const sent = audio.sendUnsent(limits, (bytes) => frames.push(bytes.length / 2));
  return { frames, sent };
}

describe('RetainedAudio', () => {
  it('sends each chunk as it is when the vendor takes any size, without copying it', () => {
    const audio = new RetainedAudio(() => 16000);
    const first = chunk(0, 320, 1);
    audio.push(first);
    let sentBytes: Buffer | undefined;
    expect(audio.sendUnsent({ minChunkSamples: 0, maxChunkSamples: Infinity }, (b) => (sentBytes = b))).toBe(320);
    expect(sentBytes).toBe(first.bytes);
    expect(audio.hasUnsent).toBe(false);
  });

  it('joins 20 ms chunks into frames of at least the minimum, and holds a shorter rest for more audio', () => {
    const audio = new RetainedAudio(() => 16000);
    for (let i = 0; i < 7; i++) audio.push(chunk(i * 320, 320, i));
    const limits = { minChunkSamples: 800, maxChunkSamples: 16000 };
    expect(collect(audio, limits)).toEqual({ frames: [960, 960], sent: 1920 });
    expect(audio.hasUnsent).toBe(true);
    expect(collect(audio, limits)).toEqual({ frames: [], sent: 0 });
    audio.push(chunk(7 * 320, 320, 7));
    audio.push(chunk(8 * 320, 320, 8));
    expect(collect(audio, limits)).toEqual({ frames: [960], sent: 960 });
  });

  it('keeps sent audio until a final covers it, replays it after a rewind, and counts what the bound dropped', () => {
    const audio = new RetainedAudio(() => 960);
    for (let i = 0; i < 3; i++) audio.push(chunk(i * 320, 320, i));
    collect(audio, { minChunkSamples: 0, maxChunkSamples: Infinity });
    audio.release(320);
    expect(audio.firstStart).toBe(320);
    audio.rewind();
    expect(collect(audio, { minChunkSamples: 0, maxChunkSamples: Infinity }).frames).toEqual([320, 320]);
    // An outage: nothing sent, the bound (960 samples) forgets the oldest unsent audio.
    audio.rewind();
    for (let i = 3; i < 8; i++) audio.push(chunk(i * 320, 320, i));
    expect(audio.firstStart).toBe(1600);
    expect(audio.takeDropped()).toBe(4 * 320);
    expect(audio.takeDropped()).toBe(0);
  });
});
