import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { AudioChunker, chunkAudio, concatInt16 } from '../../src/audio/index.js';

function ramp(length: number, start = 1): Int16Array {
  return Int16Array.from({ length }, (_, i) => (start + i) % 32768);
}

function collectFrames(): { frames: Int16Array[]; onFrame: (frame: Int16Array) => void } {
  const frames: Int16Array[] = [];
  return { frames, onFrame: (frame) => frames.push(frame) };
}

describe('AudioChunker', () => {
  it('sizes frames for 10/20/40 ms at 8 and 16 kHz, mono and stereo', () => {
    const expected: [number, number, number, number][] = [
      [8000, 10, 1, 80],
      [8000, 20, 1, 160],
      [8000, 40, 1, 320],
      [16000, 10, 1, 160],
      [16000, 20, 1, 320],
      [16000, 40, 1, 640],
      [16000, 20, 2, 640],
      [44100, 10, 1, 441],
    ];
    for (const [sampleRate, frameMs, channels, frameSamples] of expected) {
      expect(new AudioChunker({ sampleRate, frameMs, channels }).frameSamples).toBe(frameSamples);
    }
    expect(new AudioChunker({ sampleRate: 8000 }).frameSamples).toBe(160); // default 20 ms mono
  });

  it('rejects frame lengths that are not a whole, positive number of samples', () => {
    expect(() => new AudioChunker({ sampleRate: 8000, frameMs: 0.1 })).toThrow(RangeError); // 0.8 samples
    expect(() => new AudioChunker({ sampleRate: 44100, frameMs: 20.01 })).toThrow(/20.01 ms frame at 44100 Hz/);
    expect(() => new AudioChunker({ sampleRate: 8000, frameMs: 0 })).toThrow(RangeError);
    expect(() => new AudioChunker({ sampleRate: 8000, frameMs: -20 })).toThrow(RangeError);
    expect(() => new AudioChunker({ sampleRate: 8000, frameMs: Number.NaN })).toThrow(RangeError);
    expect(() => new AudioChunker({ sampleRate: 0 })).toThrow(RangeError);
    expect(() => new AudioChunker({ sampleRate: 8000, channels: 0 })).toThrow(RangeError);
    expect(() => chunkAudio(new Int16Array(10), 22050, 10)).toThrow(RangeError); // 220.5 samples
  });

  it('carries leftovers across pushes: the emitted frames concatenate to the input', () => {
    const input = ramp(1000);
    const chunker = new AudioChunker({ sampleRate: 8000, frameMs: 10 });
    const { frames, onFrame } = collectFrames();
    chunker.push(input.subarray(0, 50), onFrame);
    expect(frames.length).toBe(0);
    expect(chunker.pendingSamples).toBe(50);
    chunker.push(input.subarray(50, 130), onFrame); // completes one frame, 50 left over
    expect(frames.length).toBe(1);
    expect(chunker.pendingSamples).toBe(50);
    chunker.push(input.subarray(130, 1000), onFrame); // 920 samples: 11 frames, 40 left
    expect(frames.length).toBe(12);
    expect(chunker.pendingSamples).toBe(40);
    for (const frame of frames) expect(frame.length).toBe(80);
    expect(Array.from(concatInt16(frames))).toEqual(Array.from(input.subarray(0, 960)));
  });

  it('keeps every frame intact for any push sizes (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 700 }), { maxLength: 30 }), (sizes) => {
        const chunker = new AudioChunker({ sampleRate: 16000, frameMs: 20 });
        const { frames, onFrame } = collectFrames();
        const total = sizes.reduce((a, b) => a + b, 0);
        const input = ramp(total);
        let offset = 0;
        for (const size of sizes) {
          chunker.push(input.subarray(offset, offset + size), onFrame);
          offset += size;
        }
        expect(frames.every((frame) => frame.length === 320)).toBe(true);
        expect(chunker.pendingSamples).toBe(total % 320);
        chunker.flush(onFrame, { pad: false });
        expect(Array.from(concatInt16(frames))).toEqual(Array.from(input));
      }),
      { numRuns: 100, seed: 42 },
    );
  });

  it('emits frames the receiver may keep: later pushes do not overwrite them', () => {
    const chunker = new AudioChunker({ sampleRate: 8000, frameMs: 10 });
    const { frames, onFrame } = collectFrames();
    const input = ramp(100);
    chunker.push(input.subarray(0, 60), onFrame);
    chunker.push(input.subarray(60, 100), onFrame); // frame assembled from the pending buffer
    chunker.push(new Int16Array(200).fill(-1), onFrame);
    expect(Array.from(frames[0]!)).toEqual(Array.from(input.subarray(0, 80)));
    input.fill(0); // frames are copies, not views of the pushed array
    expect(frames[0]![5]).toBe(6);
  });

  it('flush zero-pads the last partial frame by default', () => {
    const chunker = new AudioChunker({ sampleRate: 8000, frameMs: 10 });
    const { frames, onFrame } = collectFrames();
    chunker.push(ramp(90), onFrame);
    chunker.flush(onFrame);
    expect(frames.length).toBe(2);
    expect(frames[1]!.length).toBe(80);
    expect(Array.from(frames[1]!.subarray(0, 10))).toEqual(Array.from(ramp(10, 81)));
    expect(frames[1]!.subarray(10).every((v) => v === 0)).toBe(true);
    expect(chunker.pendingSamples).toBe(0);
  });

  it('flush with pad false emits the partial frame short; with nothing pending it emits nothing', () => {
    const chunker = new AudioChunker({ sampleRate: 8000, frameMs: 10 });
    const { frames, onFrame } = collectFrames();
    chunker.push(ramp(90), onFrame);
    chunker.flush(onFrame, { pad: false });
    expect(frames.map((f) => f.length)).toEqual([80, 10]);
    chunker.flush(onFrame);
    expect(frames.length).toBe(2);
  });

  it('reset drops the pending samples', () => {
    const chunker = new AudioChunker({ sampleRate: 8000, frameMs: 10 });
    const { frames, onFrame } = collectFrames();
    chunker.push(ramp(50), onFrame);
    chunker.reset();
    expect(chunker.pendingSamples).toBe(0);
    chunker.push(ramp(80, 1000), onFrame);
    expect(frames.length).toBe(1);
    expect(frames[0]![0]).toBe(1000);
  });
});

describe('chunkAudio', () => {
  it('splits a whole signal into frames, zero-padding the last', () => {
    const frames = chunkAudio(ramp(400), 8000, 20);
    expect(frames.map((f) => f.length)).toEqual([160, 160, 160]);
    expect(frames[2]![79]).toBe(400);
    expect(frames[2]![80]).toBe(0);
    expect(chunkAudio(new Int16Array(0), 8000)).toEqual([]);
  });

  it('frames stereo audio by whole sample frames', () => {
    const frames = chunkAudio(ramp(16000 * 2 * 0.05), 16000, 20, 2); // 50 ms of stereo
    expect(frames.map((f) => f.length)).toEqual([640, 640, 640]);
  });
});
