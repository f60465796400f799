// PCM16 helpers. Audio travels through the pipeline as interleaved signed 16-bit little-endian samples, the format
// telephony media streams and most speech engines use; these helpers convert between byte buffers, sample arrays
// and float audio without copying where the memory layout allows it.
import { endianness } from 'node:os';

/** Checked once: every byte conversion below must swap on a big-endian host to keep the wire format little-endian. */
const HOST_IS_BIG_ENDIAN = endianness() === 'BE';

function swapBytesInPlace(samples: Int16Array): void {
  for (let i = 0; i < samples.length; i++) {
    const v = samples[i]!;
    samples[i] = ((v & 0xff) << 8) | ((v >> 8) & 0xff);
  }
}

/**
 * Views little-endian PCM16 bytes as samples. Zero-copy (the result shares memory with `bytes`) when the bytes
 * start at an even offset on a little-endian host; otherwise the samples are copied, because an Int16Array cannot
 * start at an odd byte offset.
 */
export function bytesToInt16(bytes: Uint8Array): Int16Array {
  if (bytes.byteLength % 2 !== 0) {
    throw new RangeError(`PCM16 byte length must be even, got ${bytes.byteLength} bytes`);
  }
  const sampleCount = bytes.byteLength / 2;
  if (!HOST_IS_BIG_ENDIAN && bytes.byteOffset % 2 === 0) {
    return new Int16Array(bytes.buffer, bytes.byteOffset, sampleCount);
  }
  const samples = new Int16Array(sampleCount);
  new Uint8Array(samples.buffer).set(bytes);
  if (HOST_IS_BIG_ENDIAN) swapBytesInPlace(samples);
  return samples;
}

/**
 * Little-endian bytes of `samples`. Zero-copy (shares memory with `samples`) on a little-endian host; a big-endian
 * host gets a byte-swapped copy.
 */
export function int16ToBytes(samples: Int16Array): Buffer {
  if (!HOST_IS_BIG_ENDIAN) return Buffer.from(samples.buffer, samples.byteOffset, samples.byteLength);
  const swapped = Int16Array.from(samples);
  swapBytesInPlace(swapped);
  return Buffer.from(swapped.buffer, 0, swapped.byteLength);
}

function checkOutputLength(needed: number, out: { length: number }): void {
  if (out.length < needed) {
    throw new RangeError(`output array too small: needs ${needed} elements, has ${out.length}`);
  }
}

/** Samples scaled to [-1, 1) (divided by 32768). With `out`, writes into it and returns the written part. */
export function int16ToFloat32(samples: Int16Array, out?: Float32Array): Float32Array {
  const result = out ?? new Float32Array(samples.length);
  checkOutputLength(samples.length, result);
  for (let i = 0; i < samples.length; i++) result[i] = samples[i]! / 32768;
  return result.length === samples.length ? result : result.subarray(0, samples.length);
}

/**
 * Float samples (full scale = 1.0) to PCM16: multiplied by 32768, rounded, clamped to [-32768, 32767]; NaN becomes 0.
 * With `out`, writes into it and returns the written part.
 */
export function float32ToInt16(samples: Float32Array, out?: Int16Array): Int16Array {
  const result = out ?? new Int16Array(samples.length);
  checkOutputLength(samples.length, result);
  for (let i = 0; i < samples.length; i++) {
    const v = Math.round(samples[i]! * 32768);
    // The comparisons are false for NaN, which the Int16Array store turns into 0.
    result[i] = v > 32767 ? 32767 : v < -32768 ? -32768 : v;
  }
  return result.length === samples.length ? result : result.subarray(0, samples.length);
}

/** One new array holding the chunks in order. */
export function concatInt16(chunks: readonly Int16Array[]): Int16Array {
  let total = 0;
  for (const chunk of chunks) total += chunk.length;
  const result = new Int16Array(total);
  let offset = 0;
  for (const chunk of chunks) {
    result.set(chunk, offset);
    offset += chunk.length;
  }
  return result;
}

/** Duration in milliseconds of `sampleCount` interleaved samples. */
export function durationMs(sampleCount: number, sampleRate: number, channels = 1): number {
  return (sampleCount / channels / sampleRate) * 1000;
}

/** Samples per channel in `ms` milliseconds, rounded to the nearest integer. */
export function samplesForMs(ms: number, sampleRate: number): number {
  return Math.round((ms * sampleRate) / 1000);
}

/** Interleaves two channels; the shorter one is padded with zeros. */
export function interleaveStereo(left: Int16Array, right: Int16Array): Int16Array {
  const frames = Math.max(left.length, right.length);
  const result = new Int16Array(frames * 2);
  for (let i = 0; i < left.length; i++) result[2 * i] = left[i]!;
  for (let i = 0; i < right.length; i++) result[2 * i + 1] = right[i]!;
  return result;
}

function checkChannels(samples: Int16Array, channels: number): void {
  if (!Number.isInteger(channels) || channels < 1) {
    throw new RangeError(`channels must be a positive integer, got ${channels}`);
  }
  if (samples.length % channels !== 0) {
    throw new RangeError(`${samples.length} samples is not a whole number of ${channels}-channel frames`);
  }
}

/** Mixes interleaved audio down to one channel by averaging the channels (rounded). Mono input is returned as is. */
export function toMono(samples: Int16Array, channels: number): Int16Array {
  checkChannels(samples, channels);
  if (channels === 1) return samples;
  const frames = samples.length / channels;
  const result = new Int16Array(frames);
  for (let frame = 0, base = 0; frame < frames; frame++, base += channels) {
    let sum = 0;
    for (let c = 0; c < channels; c++) sum += samples[base + c]!;
    result[frame] = Math.round(sum / channels);
  }
  return result;
}

/** A copy of one channel (0-based `index`) of interleaved audio. */
export function extractChannel(samples: Int16Array, channels: number, index: number): Int16Array {
  checkChannels(samples, channels);
  if (!Number.isInteger(index) || index < 0 || index >= channels) {
    throw new RangeError(`channel index ${index} out of range for ${channels} channels`);
  }
  const frames = samples.length / channels;
  const result = new Int16Array(frames);
  for (let frame = 0, i = index; frame < frames; frame++, i += channels) result[frame] = samples[i]!;
  return result;
}
