import { describe, expect, it } from 'vitest';
import {
  bytesToInt16,
  concatInt16,
  durationMs,
  extractChannel,
  float32ToInt16,
  int16ToBytes,
  int16ToFloat32,
  interleaveStereo,
  samplesForMs,
  toMono,
} from '../../src/audio/index.js';

describe('bytesToInt16', () => {
  it('reads little-endian PCM16 as a zero-copy view at an even offset', () => {
    const bytes = Buffer.from([0x01, 0x00, 0xff, 0xff, 0x00, 0x80, 0xff, 0x7f]);
    const samples = bytesToInt16(bytes);
    expect(Array.from(samples)).toEqual([1, -1, -32768, 32767]);
    // Shared memory: a write through either view shows in the other.
    samples[0] = 0x0203;
    expect(bytes[0]).toBe(0x03);
    expect(bytes[1]).toBe(0x02);
    bytes[2] = 0x05;
    bytes[3] = 0x00;
    expect(samples[1]).toBe(5);
  });

  it('views a slice of a larger buffer at its own offset', () => {
    const whole = new Uint8Array([9, 9, 0x10, 0x00, 0x20, 0x00, 9, 9]);
    const samples = bytesToInt16(whole.subarray(2, 6));
    expect(Array.from(samples)).toEqual([16, 32]);
    expect(samples.buffer).toBe(whole.buffer);
  });

  it('copies when the bytes start at an odd offset (an Int16Array cannot)', () => {
    const backing = Buffer.from([0xaa, 0x34, 0x12, 0xcd, 0xab]);
    const odd = backing.subarray(1);
    expect(odd.byteOffset % 2).toBe(1);
    const samples = bytesToInt16(odd);
    expect(Array.from(samples)).toEqual([0x1234, 0xabcd - 0x10000]);
    samples[0] = 0;
    expect(backing[1]).toBe(0x34); // a copy: the source is untouched
  });

  it('rejects an odd byte length with a RangeError that says so', () => {
    expect(() => bytesToInt16(new Uint8Array(3))).toThrow(RangeError);
    expect(() => bytesToInt16(new Uint8Array(3))).toThrow(/even.*3 bytes/);
  });

  it('returns an empty array for no bytes', () => {
    expect(bytesToInt16(new Uint8Array(0)).length).toBe(0);
  });
});

describe('int16ToBytes', () => {
  it('gives the little-endian bytes as a zero-copy Buffer', () => {
    const samples = Int16Array.from([1, -2, 0x1234]);
    const bytes = int16ToBytes(samples);
    expect(Buffer.isBuffer(bytes)).toBe(true);
    expect(Array.from(bytes)).toEqual([0x01, 0x00, 0xfe, 0xff, 0x34, 0x12]);
    samples[0] = 0x0100;
    expect(bytes[1]).toBe(0x01);
  });

  it('covers only the subarray it is given', () => {
    const samples = Int16Array.from([1, 2, 3, 4]);
    expect(Array.from(int16ToBytes(samples.subarray(1, 3)))).toEqual([2, 0, 3, 0]);
  });

  it('round-trips with bytesToInt16', () => {
    const samples = Int16Array.from([0, 32767, -32768, 12345, -12345]);
    expect(Array.from(bytesToInt16(int16ToBytes(samples)))).toEqual(Array.from(samples));
  });
});

describe('float conversion', () => {
  it('scales int16 by 1/32768', () => {
    expect(Array.from(int16ToFloat32(Int16Array.from([0, 16384, -32768, 32767])))).toEqual([0, 0.5, -1, 32767 / 32768]);
  });

  it('scales by 32768, rounds, clamps and maps NaN to 0', () => {
    const floats = Float32Array.from([0, 0.5, -0.5, 1, -1, 1.5, -2, 0.00001, -0.00002, Number.NaN, 0.75 / 32768]);
    expect(Array.from(float32ToInt16(floats))).toEqual([0, 16384, -16384, 32767, -32768, 32767, -32768, 0, -1, 0, 1]);
  });

  it('round-trips every int16 value exactly', () => {
    const all = Int16Array.from({ length: 65536 }, (_, i) => i - 32768);
    expect(float32ToInt16(int16ToFloat32(all))).toEqual(all);
  });

  it('writes into out, returning the written part, and rejects a short out', () => {
    const out = new Float32Array(5).fill(9);
    const floats = int16ToFloat32(Int16Array.from([16384, -16384]), out);
    expect(floats.buffer).toBe(out.buffer);
    expect(Array.from(floats)).toEqual([0.5, -0.5]);
    expect(out[2]).toBe(9);
    const ints = new Int16Array(2);
    expect(float32ToInt16(Float32Array.from([0.25, -0.25]), ints)).toBe(ints);
    expect(Array.from(ints)).toEqual([8192, -8192]);
    expect(() => int16ToFloat32(new Int16Array(3), new Float32Array(2))).toThrow(RangeError);
    expect(() => float32ToInt16(new Float32Array(3), new Int16Array(2))).toThrow(RangeError);
  });
});

describe('timing helpers', () => {
  it('durationMs counts frames of all channels', () => {
    expect(durationMs(160, 8000)).toBe(20);
    expect(durationMs(640, 16000, 2)).toBe(20);
    expect(durationMs(441, 44100)).toBeCloseTo(10, 12);
  });

  it('samplesForMs rounds to whole samples', () => {
    expect(samplesForMs(20, 8000)).toBe(160);
    expect(samplesForMs(10, 22050)).toBe(221); // 220.5 rounds up
    expect(samplesForMs(0, 48000)).toBe(0);
  });
});

describe('channel helpers', () => {
  it('concatInt16 joins chunks in order', () => {
    const joined = concatInt16([Int16Array.from([1, 2]), new Int16Array(0), Int16Array.from([3])]);
    expect(Array.from(joined)).toEqual([1, 2, 3]);
    expect(concatInt16([]).length).toBe(0);
  });

  it('interleaveStereo pads the shorter channel with zeros', () => {
    const stereo = interleaveStereo(Int16Array.from([1, 2, 3]), Int16Array.from([-1]));
    expect(Array.from(stereo)).toEqual([1, -1, 2, 0, 3, 0]);
    expect(Array.from(interleaveStereo(Int16Array.from([5]), Int16Array.from([6, 7])))).toEqual([5, 6, 0, 7]);
  });

  it('toMono averages the channels, rounded, and returns mono input as is', () => {
    expect(Array.from(toMono(Int16Array.from([100, 200, -32768, -32768, 32767, 32767, 1, 2]), 2))).toEqual([
      150, -32768, 32767, 2,
    ]);
    expect(Array.from(toMono(Int16Array.from([3, 6, 9, 1, 1, 1]), 3))).toEqual([6, 1]);
    const mono = Int16Array.from([1, 2]);
    expect(toMono(mono, 1)).toBe(mono);
    expect(() => toMono(Int16Array.from([1, 2, 3]), 2)).toThrow(RangeError);
    expect(() => toMono(Int16Array.from([1, 2]), 0)).toThrow(RangeError);
  });

  it('extractChannel copies one channel of interleaved audio', () => {
    const stereo = interleaveStereo(Int16Array.from([1, 2, 3]), Int16Array.from([4, 5, 6]));
    expect(Array.from(extractChannel(stereo, 2, 0))).toEqual([1, 2, 3]);
    expect(Array.from(extractChannel(stereo, 2, 1))).toEqual([4, 5, 6]);
    expect(() => extractChannel(stereo, 2, 2)).toThrow(RangeError);
    expect(() => extractChannel(stereo, 4, 0)).toThrow(RangeError); // 6 samples is not whole 4-channel frames
  });
});
